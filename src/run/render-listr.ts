/**
 * The live task list on a terminal (listr2): one line per host of the batch, its stage as it goes,
 * then its outcome and changes. listr2 only draws: the runner's pool decides when each host runs
 * (`--forks`); each listr task just waits for its host's result.
 */
import { Listr } from 'listr2';
import type { Play } from '../playbook/model.js';
import { formatPlan } from '../plan/print.js';
import { safeText } from '../util/terminal.js';
import { formatRecap, recap } from './recap.js';
import { statusWord } from './render-plain.js';
import type { HostResult, Renderer, Stage } from './types.js';

/** What this renderer touches of a listr2 task. */
interface Task {
  title: string | undefined;
  output: string | undefined;
}

interface Row {
  title: string;
  task?: Task;
  finish: (result: HostResult) => void;
}

export class ListrRenderer implements Renderer {
  private rows = new Map<string, Row>();
  private running: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly options: { diff: boolean; check: boolean },
  ) {
    // A pty with no size (some CI runners, `script`) reports 0 columns, and listr2 would wrap
    // after every character: draw for 80 columns then.
    if (!out.columns) out.columns = 80;
  }

  playStart(play: Play, hosts: string[]): void {
    this.out.write(`\nPLAY [${safeText(play.name)}] ${hosts.length} host(s)\n`);
  }

  batchStart(hosts: string[]): void {
    this.rows = new Map();
    const list = new Listr(
      hosts.map((host) => {
        let finish: (r: HostResult) => void = () => undefined;
        const result = new Promise<HostResult>((resolve) => (finish = resolve));
        const row: Row = { title: `${host}: waiting`, finish: (r) => finish(r) };
        this.rows.set(host, row);
        return {
          title: row.title,
          task: async (_ctx, task) => {
            row.task = task;
            task.title = row.title;
            const r = await result;
            task.title = `${host}: ${statusWord(r, this.options.check)}`;
            if (r.plan && r.plan.tasks.some((t) => t.changes.length > 0)) task.output = formatPlan(r.plan, { diff: this.options.diff }).split('\n').slice(1).join('\n');
            if (r.error && r.status !== 'skipped') throw new Error(`${r.error.stage}: ${safeText(r.error.message)}`);
          },
          rendererOptions: { persistentOutput: true },
        };
      }),
      { concurrent: true, exitOnError: false, rendererOptions: { collapseErrors: false } },
    );
    this.running = list.run().catch(() => undefined);
  }

  hostProgress(host: string, stage: Stage, detail?: string): void {
    const row = this.rows.get(host);
    if (!row) return;
    row.title = `${host}: ${stage}${detail ? ` (${detail})` : ''}`;
    if (row.task) row.task.title = row.title;
  }

  hostDone(result: HostResult): void {
    this.rows.get(result.host)?.finish(result);
  }

  async batchEnd(): Promise<void> {
    await this.running;
  }

  hostSkipped(result: HostResult): void {
    this.out.write(`  ${result.host}: ${statusWord(result, this.options.check)}\n`);
  }

  note(text: string): void {
    this.out.write(`NOTE: ${safeText(text)}\n`);
  }

  done(results: HostResult[], exitCode: number): void {
    this.out.write(`\n${formatRecap(recap(results))}exit status ${exitCode}\n`);
  }
}
