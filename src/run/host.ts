/**
 * One host through one play: probe → plan → (apply → verify). Round trips: one under --check or
 * when nothing needs running, three when something changes. Anything that goes wrong becomes this
 * host's result; it never throws, so one host cannot stop the others.
 */
import { applyScript, type PreparedHost, planHost, STEP_MARK } from '../plan/pipeline.js';
import { type HostLock, lockRefusal } from './host-lock.js';
import { type HostPlan, inSync, isEmpty, unsettled } from '../plan/types.js';
import { type Transport, TransportError } from '../transport/types.js';
import type { HostResult, Stage } from './types.js';

export interface HostJob {
  prepared: PreparedHost;
  play: { name: string; tasks: readonly unknown[]; ignoreUnreachable: boolean };
  transport: () => Promise<Transport>;
  check: boolean;
  progress: (stage: Stage, detail?: string) => void;
  /** Receives the first probe's raw output (`apply --save-facts`), for offline `plan --facts`. */
  onFacts?: (output: string) => void;
  /** Set when lvsplay was asked to stop: no apply starts after it (a running one completes). */
  stopping: () => boolean;
  /** This run's lock on the host: taken by the first probe, confirmed by every later script. */
  lock: HostLock;
}

export async function runHost(job: HostJob): Promise<HostResult> {
  const started = Date.now();
  const name = job.prepared.ctx.host.name;
  const result = (status: HostResult['status'], extra: Partial<HostResult> = {}): HostResult => ({
    host: name, play: job.play.name, status, tasks: job.play.tasks.length, durationMs: Date.now() - started, ...extra,
  });
  let stage: Stage | 'plan' = 'connect';
  try {
    job.progress('connect');
    const transport = await job.transport();
    stage = 'probe';
    job.progress('probe');
    const plan = await probe(transport, job, 'probe', job.onFacts);
    if (job.check) return result(inSync(plan) ? 'ok' : 'changed', { plan });
    if (isEmpty(plan)) return result('ok', { plan });
    if (job.stopping()) return result('skipped', { plan, interrupted: true, error: { stage: 'apply', message: 'not applied: lvsplay was asked to stop' } });
    stage = 'apply';
    job.progress('apply', `${countChanges(plan)} change(s)`);
    const applied = await transport.exec(job.lock.take + applyScript(plan));
    const busy = lockRefusal(applied.stdout);
    if (busy) return result('failed', { plan, error: { stage, message: busy } });
    if (applied.code !== 0) return result('failed', { plan, error: { stage, message: applyFailure(plan, applied.stdout, applied.stderr, applied.code) } });
    stage = 'verify';
    job.progress('verify');
    const still = unsettled(await probe(transport, job, 'verify'));
    if (still.length > 0) {
      return result('failed', { plan, error: { stage, message: `applied, but the host still differs: ${still.map((c) => c.summary).join('; ')}` } });
    }
    return result('changed', { plan });
  } catch (err) {
    if (err instanceof TransportError && (err.kind === 'unreachable' || err.kind === 'auth' || err.kind === 'hostkey')) {
      return result('unreachable', { error: { stage, message: err.message }, ...(job.play.ignoreUnreachable && { ignored: true }) });
    }
    return result('failed', { error: { stage, message: (err as Error).message } });
  }
}

async function probe(transport: Transport, job: HostJob, what: string, onFacts?: (output: string) => void): Promise<HostPlan> {
  const out = await transport.exec(job.lock.take + job.prepared.probe);
  if (out.code !== 0) throw new Error(`${what} script exited ${out.code}: ${tail(out.stderr)}`);
  const busy = lockRefusal(out.stdout);
  if (busy) throw new Error(busy);
  onFacts?.(out.stdout);
  return planHost(job.prepared, out.stdout);
}

const countChanges = (plan: HostPlan) => plan.tasks.reduce((n, t) => n + t.changes.filter((c) => !c.pending).length, 0);

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
