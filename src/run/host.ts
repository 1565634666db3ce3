/**
 * One host through one play: probe → plan → (apply → verify). Round trips: one under --check or
 * when nothing differs, three when something changes. Anything that goes wrong becomes this
 * host's result; it never throws, so one host cannot stop the others.
 */
import type { Host } from '../inventory/model.js';
import type { Play } from '../playbook/model.js';
import { applyScript, type PreparedHost, planHost, probeScript, STEP_MARK } from '../plan/build.js';
import { isEmpty, type HostPlan } from '../plan/types.js';
import { type Transport, TransportError } from '../transport/types.js';
import type { HostResult, Progress, Stage } from './types.js';

export interface HostJob {
  host: Host;
  play: Play;
  prepare: () => PreparedHost;
  transport: () => Promise<Transport>;
  check: boolean;
  /** Receives the first probe's raw output (`apply --save-facts`), for offline `plan --facts`. */
  onFacts?: (output: string) => void;
}

export async function runHost(job: HostJob, progress: Progress): Promise<HostResult> {
  const started = Date.now();
  const result = (status: HostResult['status'], extra: Partial<HostResult> = {}): HostResult => ({
    host: job.host.name, play: job.play.name, status, tasks: job.play.tasks.length, durationMs: Date.now() - started, ...extra,
  });
  let stage: Stage | 'plan' = 'connect';
  try {
    progress('connect');
    const transport = await job.transport();
    stage = 'plan';
    const prepared = job.prepare();
    stage = 'probe';
    progress('probe');
    const plan = await probe(transport, prepared, 'probe', job.onFacts);
    if (job.check || isEmpty(plan)) return result(isEmpty(plan) ? 'ok' : 'changed', { plan });
    stage = 'apply';
    progress('apply', `${countChanges(plan)} change(s)`);
    const applied = await transport.exec(applyScript(plan));
    if (applied.code !== 0) return result('failed', { plan, error: { stage, message: applyFailure(plan, applied.stdout, applied.stderr, applied.code) } });
    stage = 'verify';
    progress('verify');
    const left = await probe(transport, prepared, 'verify');
    if (!isEmpty(left)) {
      const still = left.tasks.flatMap((t) => t.changes.map((c) => c.summary)).join('; ');
      return result('failed', { plan, error: { stage, message: `applied, but the host still differs: ${still}` } });
    }
    return result('changed', { plan });
  } catch (err) {
    if (err instanceof TransportError && (err.kind === 'unreachable' || err.kind === 'auth' || err.kind === 'hostkey')) {
      return result('unreachable', { error: { stage, message: err.message } });
    }
    return result('failed', { error: { stage, message: (err as Error).message } });
  }
}

async function probe(transport: Transport, prepared: PreparedHost, what: string, onFacts?: (output: string) => void): Promise<HostPlan> {
  const out = await transport.exec(probeScript(prepared));
  if (out.code !== 0) throw new Error(`${what} script exited ${out.code}: ${tail(out.stderr)}`);
  onFacts?.(out.stdout);
  return planHost(prepared, out.stdout);
}

const countChanges = (plan: HostPlan) => plan.tasks.reduce((n, t) => n + t.changes.length, 0);

/** Name the task whose script failed (the apply script marks each step), with its own words. */
function applyFailure(plan: HostPlan, stdout: string, stderr: string, code: number): string {
  const failed = new RegExp(`^${STEP_MARK} (\\d+) failed`, 'm').exec(stdout);
  const task = failed ? plan.tasks[Number(failed[1])] : undefined;
  const details = stdout.split('\n').filter((l) => l.startsWith('@@lvsplay-ipvs')).map((l) => l.replace(/^@@lvsplay-/, '')).join('; ');
  const where = task ? `task "${task.task}" [${task.resource}]` : 'apply script';
  return `${where} failed (exit ${code})${details ? `: ${details}` : ''}${stderr.trim() ? `: ${tail(stderr)}` : ''}`;
}

function tail(text: string): string {
  const lines = text.trim().split('\n');
  return lines.slice(-5).join(' | ');
}
