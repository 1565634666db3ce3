/** Line-per-event output for logs and CI: nothing redrawn, every line meaningful on its own. */
import type { Play } from '../playbook/model.js';
import { formatPlan } from '../plan/print.js';
import { safeText } from '../util/terminal.js';
import { formatRecap, recap } from './recap.js';
import type { HostResult, Renderer, Stage } from './types.js';

/** A host's outcome in one word, as every renderer says it ("would change" under --check). */
export function statusWord(r: HostResult, check: boolean): string {
  if (r.status === 'changed') return check ? 'would change' : 'changed';
  if (r.status === 'unreachable' && r.ignored) return 'unreachable (ignored)';
  if (r.status === 'skipped' && r.interrupted) return 'interrupted';
  return r.status;
}

export function describeResult(r: HostResult, diff: boolean, check: boolean): string {
  if (r.status === 'failed' || r.status === 'unreachable') {
    return `[${r.host}] ${statusWord(r, check).toUpperCase()} at ${r.error?.stage ?? '?'}: ${safeText(r.error?.message ?? '')}\n`;
  }
  if (r.status === 'skipped') return `[${r.host}] ${statusWord(r, check)} (${safeText(r.error?.message ?? 'failed earlier, or the play stopped')})\n`;
  const word = statusWord(r, check);
  const body = r.plan && r.plan.tasks.some((t) => t.changes.length > 0) ? formatPlan(r.plan, { diff }).split('\n').slice(1).join('\n') : '';
  return `[${r.host}] ${word}\n${body}`;
}

export class PlainRenderer implements Renderer {
  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly options: { diff: boolean; check: boolean },
  ) {}

  playStart(play: Play, hosts: string[]): void {
    this.out.write(`\nPLAY [${safeText(play.name)}] ${hosts.join(', ') || '(no hosts)'}\n`);
  }

  batchStart(): void {}

  hostProgress(host: string, stage: Stage, detail?: string): void {
    this.out.write(`[${host}] ${stage}${detail ? ` (${detail})` : ''}\n`);
  }

  hostDone(result: HostResult): void {
    this.out.write(describeResult(result, this.options.diff, this.options.check));
  }

  async batchEnd(): Promise<void> {}

  hostSkipped(result: HostResult): void {
    this.out.write(describeResult(result, false, this.options.check));
  }

  note(text: string): void {
    this.out.write(`NOTE: ${safeText(text)}\n`);
  }

  done(results: HostResult[], exitCode: number): void {
    this.out.write(`\n${formatRecap(recap(results))}exit status ${exitCode}\n`);
  }
}
