/**
 * One host through one play: its steps in order (usually one, on the host itself; a rollout's
 * drain, wait and undrain run on every director carrying the host). Each target of a step goes
 * probe → plan → (apply → verify): one round trip under --check or when nothing needs running,
 * two when something changes (the verify probe runs in the apply's script, right after it). Anything that goes wrong becomes this host's result; it never
 * throws, so one host cannot stop the others.
 *
 * A rollout play (one with both `drain` and `undrain`) resumes instead of redoing: when the host's
 * own tasks have nothing to change, a host that is not drained is done (`ok`, nothing drained),
 * and one still drained from an earlier run (its change done, its gate or undrain not) skips
 * straight to the steps after its own tasks.
 */
import type { Host } from '../inventory/model.js';
import { type PreparedHost, planHost, STEP_MARK } from '../plan/pipeline.js';
import type { HostRun, Step } from '../plan/prepare.js';
import { type HostPlan, inSync, isEmpty, unsettled } from '../plan/types.js';
import { type ExecResult, type Transport, TransportError } from '../transport/types.js';
import { applyThenVerify, splitAtMark, verifyMark } from './apply-then-verify.js';
import { type HostLock, lockMoved, lockRefusal, lockSeen } from './host-lock.js';
import type { HostResult, Stage } from './types.js';

export interface HostJob {
  run: HostRun;
  play: { name: string; tasks: readonly unknown[]; ignoreUnreachable: boolean };
  transport: (host: Host) => Promise<Transport>;
  check: boolean;
  progress: (stage: Stage, detail?: string) => void;
  /** Receives each probe's raw output of the host's own step (`apply --save-facts`), for offline `plan --facts`. */
  onFacts?: (output: string) => void;
  /** Set when lvsplay was asked to stop: no apply starts after it (a running one completes). */
  stopping: () => boolean;
  /** This run's lock on the host: reads take none while no other run holds it; taken by the first change, confirmed by every later one. */
  lock: HostLock;
  /** Work on one director at a time within the run (two hosts' drains must not interleave there). */
  exclusive: <T>(host: string, work: () => Promise<T>) => Promise<T>;
}

type Outcome = { status: 'ok' | 'changed' | 'skipped'; plan: HostPlan } | { status: 'failed' | 'unreachable'; plan?: HostPlan; stage: Stage; message: string };

export async function runHost(job: HostJob): Promise<HostResult> {
  const started = Date.now();
  const name = job.run.host.name;
  const plans: HostPlan[] = [];
  const result = (status: HostResult['status'], extra: Partial<HostResult> = {}): HostResult => ({
    host: name, play: job.play.name, status, tasks: job.play.tasks.length, durationMs: Date.now() - started,
    ...(plans.length > 0 && { plan: mergePlans(name, plans) }), ...extra,
  });
  let changed = false;
  const steps = await stepsToRun(job, plans);
  if ('failure' in steps) return failure(steps.failure);
  for (const step of steps) {
    const outcomes = await Promise.all(step.targets.map((target) => {
      const go = () => runTarget(job, target, step.delegated);
      return step.delegated ? job.exclusive(target.ctx.host.name, go) : go();
    }));
    for (const o of outcomes) if (o.plan) plans.push(o.plan);
    const bad = outcomes.find((o): o is Extract<Outcome, { status: 'failed' | 'unreachable' }> => o.status === 'failed' || o.status === 'unreachable');
    if (bad) return failure(bad);
    if (outcomes.some((o) => o.status === 'skipped')) return result('skipped', { interrupted: true, error: { stage: 'apply', message: 'not applied: lvsplay was asked to stop' } });
    changed ||= outcomes.some((o) => o.status === 'changed');
  }
  // Under --check a rollout play reports its own tasks' drift without probing the directors' steps.
  return result(changed || (job.check && plans.some((p) => !inSync(p))) ? 'changed' : 'ok');

  function failure(o: Extract<Outcome, { status: 'failed' | 'unreachable' }>): HostResult {
    return result(o.status, { error: { stage: o.stage, message: o.message }, ...(o.status === 'unreachable' && job.play.ignoreUnreachable && { ignored: true }) });
  }
}

/** The steps to run: all of them, or, for a rollout play, what resuming needs (see the module comment). */
async function stepsToRun(job: HostJob, plans: HostPlan[]): Promise<Step[] | { failure: Extract<Outcome, { status: 'failed' | 'unreachable' }> }> {
  const steps = job.run.steps;
  const kinds = steps.flatMap((s) => s.targets.flatMap((t) => t.tasks.map((task) => task.task.kind)));
  const own = steps.findIndex((s) => !s.delegated);
  if (!kinds.includes('drain') || !kinds.includes('undrain') || own < 0) return steps;
  const ownStep = steps[own]!;
  const ahead = await Promise.all(ownStep.targets.map((t) => lookAhead(job, t)));
  const failed = ahead.find((a): a is Extract<typeof a, { failure: unknown }> => 'failure' in a);
  if (failed) return failed;
  const ownPlans = ahead.map((a) => (a as { plan: HostPlan }).plan);
  if (job.check || !ownPlans.every(inSync)) return job.check ? (plans.push(...ownPlans), []) : steps;
  // Own tasks done: is the host still drained on its directors (an earlier run stopped after its change)?
  const drain = steps.slice(0, own).find((s) => s.delegated && s.targets.some((t) => t.tasks.some((task) => task.task.kind === 'drain')));
  const drained = drain ? await Promise.all(drain.targets.map((t) => lookAhead(job, t))) : [];
  // drained = nothing left to do but wait for connections (a drained server still has some while
  // the clients it had finish; the lab's resume test caught a drained server treated as done)
  const stillDrained = drained.some((a) => 'plan' in a && unsettled(a.plan).length === 0);
  plans.push(...ownPlans);
  return stillDrained ? steps.slice(own + 1) : [];
}

/** A probe and a plan, nothing applied: what a target would need. */
async function lookAhead(job: HostJob, target: PreparedHost): Promise<{ plan: HostPlan } | { failure: Extract<Outcome, { status: 'failed' | 'unreachable' }> }> {
  try {
    job.progress('probe', target.ctx.host === job.run.host ? undefined : target.ctx.host.name);
    return { plan: (await probe(await job.transport(target.ctx.host), job, target, 'probe')).plan };
  } catch (err) {
    return { failure: asFailure(err, 'probe') };
  }
}

async function runTarget(job: HostJob, target: PreparedHost, delegated: boolean): Promise<Outcome> {
  const on = delegated ? target.ctx.host.name : undefined;
  let stage: Stage = 'connect';
  try {
    job.progress('connect', on);
    const transport = await job.transport(target.ctx.host);
    for (let read = 1; ; read++) {
      stage = 'probe';
      job.progress('probe', on);
      const { plan, lockLine } = await probe(transport, job, target, 'probe', delegated ? undefined : job.onFacts);
      if (job.check) return { status: inSync(plan) ? 'ok' : 'changed', plan };
      if (isEmpty(plan)) return { status: 'ok', plan };
      if (job.stopping()) return { status: 'skipped', plan };
      stage = 'apply';
      job.progress('apply', `${on ? `${on}: ` : ''}${countChanges(plan)} change(s)`);
      const mark = verifyMark();
      let tail = '';
      const out = await transport.exec(applyThenVerify(job.lock.take(lockLine), plan, target.probe, mark), {
        // The live list shows the verify once the host starts it (and the rollout bench times the apply alone).
        onStdout: (text) => {
          if (stage !== 'apply') return;
          tail = tail.slice(-mark.length) + text;
          if (tail.includes(mark)) {
            stage = 'verify';
            job.progress('verify', on);
          }
        },
      });
      const { applied, verified } = splitAtMark(out, mark);
      // another run took the host after this plan's reads: nothing was changed; read and plan again
      if (lockMoved(applied.stdout)) {
        if (read < READS) continue;
        return { status: 'failed', plan, stage: 'apply', message: movedTooOften };
      }
      const busy = lockRefusal(applied.stdout);
      if (busy) return { status: 'failed', plan, stage: 'apply', message: busy };
      if (!verified) return { status: 'failed', plan, stage: 'apply', message: `${on ? `on ${on}: ` : ''}${applyFailure(plan, applied.stdout, applied.stderr, applied.code)}` };
      if (stage === 'apply') job.progress('verify', on);
      stage = 'verify';
      const still = unsettled(planHost(target, succeeded(verified, 'verify').stdout));
      if (still.length > 0) {
        return { status: 'failed', plan, stage, message: `${on ? `on ${on}: ` : ''}applied, but the host still differs: ${still.map((c) => c.summary).join('; ')}` };
      }
      return { status: 'changed', plan };
    }
  } catch (err) {
    const f = asFailure(err, stage);
    // A director that cannot be reached in a delegated step fails this host; it is not unreachable.
    return on && f.status === 'unreachable' ? { ...f, status: 'failed', message: `director ${on}: ${f.message}` } : f;
  }
}

function asFailure(err: unknown, stage: Stage): Extract<Outcome, { status: 'failed' | 'unreachable' }> {
  if (err instanceof TransportError && (err.kind === 'unreachable' || err.kind === 'auth' || err.kind === 'hostkey')) {
    // Lost during the apply script, the script goes on without us (transport/become.ts): say so.
    const outcome = stage === 'apply' && err.kind === 'unreachable' ? `${err.message}; the apply script goes on to its end on the host: run again once it has (its changes are then seen by the probe)` : err.message;
    return { status: 'unreachable', stage, message: outcome };
  }
  return { status: 'failed', stage, message: (err as Error).message };
}

/** A host is read again when other runs took it during its reads or before its change; this many reads in all. */
const READS = 3;
const movedTooOften = `other lvsplay runs took this host while it was read or planned, ${READS} times: run again once they are done`;

/** The host's plan, from reads no other run's change overlapped, and the lock file's line they saw. */
async function probe(transport: Transport, job: HostJob, target: PreparedHost, what: string, onFacts?: (output: string) => void): Promise<{ plan: HostPlan; lockLine: string }> {
  for (let read = 1; ; read++) {
    const out = succeeded(await transport.exec(`${job.lock.read}${target.probe}\n${job.lock.after}`), what);
    const busy = lockRefusal(out.stdout);
    if (busy) throw new Error(busy);
    if (lockMoved(out.stdout)) {
      // the next read waits for the run that took the host (it holds it now), or finds it done
      if (read < READS) continue;
      throw new Error(movedTooOften);
    }
    onFacts?.(out.stdout);
    return { plan: planHost(target, out.stdout), lockLine: lockSeen(out.stdout) };
  }
}

function succeeded(out: ExecResult, what: string): ExecResult {
  if (out.code !== 0) throw new Error(`${what} script exited ${out.code}: ${tail(out.stderr)}`);
  return out;
}

/** One plan for the host's result: every target's tasks, a delegated target's named after it. */
function mergePlans(host: string, plans: HostPlan[]): HostPlan {
  return { host, tasks: plans.flatMap((p) => (p.host === host ? p.tasks : p.tasks.map((t) => ({ ...t, task: `${t.task} (on ${p.host})` })))) };
}

const countChanges = (plan: HostPlan) => plan.tasks.reduce((n, t) => n + t.changes.filter((c) => !c.pending).length, 0);

/** Name the task whose script failed (the apply script marks each step), with its own words. */
function applyFailure(plan: HostPlan, stdout: string, stderr: string, code: number): string {
  const failed = new RegExp(`^${STEP_MARK} (\\d+) failed`, 'm').exec(stdout);
  const task = failed ? plan.tasks[Number(failed[1])] : undefined;
  const details = stdout.split('\n').filter((l) => l.startsWith('@@lvsplay-ipvs') || l.startsWith('@@lvsplay-drain')).map((l) => l.replace(/^@@lvsplay-/, '')).join('; ');
  const where = task ? `task "${task.task}" [${task.resource}]` : 'apply script';
  return `${where} failed (exit ${code})${details ? `: ${details}` : ''}${stderr.trim() ? `: ${tail(stderr)}` : ''}`;
}

function tail(text: string): string {
  const lines = text.trim().split('\n');
  return lines.slice(-5).join(' | ');
}
