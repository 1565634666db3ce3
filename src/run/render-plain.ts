/** Line-per-event output for logs and CI: nothing redrawn, every line meaningful on its own. */
import type { Play } from '../playbook/model.js';
import { formatPlan } from '../plan/print.js';
import { pool } from './pool.js';
import { formatRecap, recap } from './recap.js';
import type { HostResult, Renderer } from './types.js';

/** A host's outcome in one word, as every renderer says it ("would change" under --check). */
export function statusWord(r: HostResult, check: boolean): string {
  if (r.status === 'changed') return check ? 'would change' : 'changed';
  return r.status;
}

export function describeResult(r: HostResult, diff: boolean, check: boolean): string {
  if (r.status === 'failed' || r.status === 'unreachable') {
    return `[${r.host}] ${r.status.toUpperCase()} at ${r.error?.stage ?? '?'}: ${r.error?.message ?? ''}\n`;
  }
  if (r.status === 'skipped') return `[${r.host}] skipped (failed earlier, or the play stopped)\n`;
  const word = statusWord(r, check);
  const body = r.plan && r.status === 'changed' ? formatPlan(r.plan, { diff }).split('\n').slice(1).join('\n') : '';
  return `[${r.host}] ${word}\n${body}`;
}

export class PlainRenderer implements Renderer {
  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly options: { diff: boolean; check: boolean },
  ) {}

  playStart(play: Play, hosts: string[]): void {
    this.out.write(`\nPLAY [${play.name}] ${hosts.join(', ') || '(no hosts)'}\n`);
  }

  runBatch: Renderer['runBatch'] = (hosts, forks, work) =>
    pool(hosts, forks, async (host) => {
      const result = await work(host, (stage, detail) => this.out.write(`[${host.name}] ${stage}${detail ? ` (${detail})` : ''}\n`));
      this.out.write(describeResult(result, this.options.diff, this.options.check));
      return result;
    });

  hostSkipped(result: HostResult): void {
    this.out.write(describeResult(result, false, this.options.check));
  }

  done(results: HostResult[], exitCode: number): void {
    this.out.write(`\n${formatRecap(recap(results))}exit status ${exitCode}\n`);
  }
}
