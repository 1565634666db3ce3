/**
 * The live task list on a terminal (listr2): one line per host in the batch, its stage as it
 * goes, then its outcome and changes. listr2 does only the drawing and the bounded concurrency;
 * the work per host is the same runHost as everywhere.
 */
import { Listr } from 'listr2';
import type { Play } from '../playbook/model.js';
import { formatPlan } from '../plan/print.js';
import { formatRecap, recap } from './recap.js';
import { statusWord } from './render-plain.js';
import type { HostResult, Renderer } from './types.js';

export class ListrRenderer implements Renderer {
  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly options: { diff: boolean; check: boolean },
  ) {}

  playStart(play: Play, hosts: string[]): void {
    this.out.write(`\nPLAY [${play.name}] ${hosts.length} host(s)\n`);
  }

  runBatch: Renderer['runBatch'] = async (hosts, forks, work) => {
    const results: HostResult[] = new Array(hosts.length);
    const list = new Listr(
      hosts.map((host, i) => ({
        title: host.name,
        task: async (_ctx: unknown, task) => {
          const result = await work(host, (stage, detail) => {
            task.title = `${host.name}: ${stage}${detail ? ` (${detail})` : ''}`;
          });
          results[i] = result;
          task.title = `${host.name}: ${statusWord(result, this.options.check)}`;
          if (result.status === 'changed' && result.plan) task.output = formatPlan(result.plan, { diff: this.options.diff }).split('\n').slice(1).join('\n');
          if (result.error) throw new Error(`${result.error.stage}: ${result.error.message}`);
        },
        rendererOptions: { persistentOutput: true },
      })),
      { concurrent: forks, exitOnError: false, rendererOptions: { collapseErrors: false } },
    );
    await list.run().catch(() => undefined);
    return results;
  };

  hostSkipped(result: HostResult): void {
    this.out.write(`  ${result.host}: skipped\n`);
  }

  done(results: HostResult[], exitCode: number): void {
    this.out.write(`\n${formatRecap(recap(results))}exit status ${exitCode}\n`);
  }
}
