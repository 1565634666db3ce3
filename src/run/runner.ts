/**
 * The run, as ansible-playbook runs it (lib/ansible/executor/playbook_executor.py):
 * - plays in order; each play's hosts in `serial` batches; each batch through ONE bounded pool
 *   (`--forks`), owned here: renderers only draw;
 * - a host that failed or was unreachable is left out of later plays (skipped);
 * - a play breaks when a whole batch failed, or any_errors_fatal saw a failure, or more than
 *   max_fail_percentage of a batch failed; from then on no other host of the batch starts (those
 *   running finish), and a broken play ends the run: no later play or playbook;
 * - after a playbook in which any host failed or was unreachable, later playbooks do not run;
 * - `ignore_unreachable: true` on a play: an unreachable host there is reported, but counts as
 *   neither failed nor unreachable (failover's play that releases a dead primary's VIPs);
 * - asked to stop (SIGINT/SIGTERM): no host starts after that, no apply starts after that; what runs
 *   completes (an IPVS batch is never cut), and every host not run is reported as interrupted.
 * Every host's desired state was prepared before this starts (prepare.ts): a template problem never
 * surfaces half way through a run.
 */
import type { Cluster, Host } from '../inventory/model.js';
import type { Playbook } from '../playbook/model.js';
import { type PreparedPlay, prepareRun } from '../plan/prepare.js';
import type { Templates } from '../templates/templates.js';
import type { Transport } from '../transport/types.js';
import { batches } from './batches.js';
import { runHost } from './host.js';
import { hostLock, newRunId } from './host-lock.js';
import { pool } from './pool.js';
import type { HostResult, Renderer } from './types.js';

export interface RunOptions {
  /** For the run's own scripts (the host lock). */
  templates: Templates;
  check: boolean;
  forks: number;
  connect: (host: Host) => Promise<Transport>;
  /** Called with each host's probe output; the sections are named by play and task, so a host's outputs concatenate. */
  onFacts?: (host: Host, output: string) => void;
  /** True once lvsplay was asked to stop. */
  stopping?: () => boolean;
}

/** Prepare every play's hosts (throws InputError before any connection), then run them. */
export async function runPlaybooks(cluster: Cluster, playbooks: readonly Playbook[], templates: Templates, options: Omit<RunOptions, 'templates'> & { limit?: string[] }, renderer: Renderer): Promise<HostResult[]> {
  return runPlays(prepareRun(cluster, playbooks, templates, options.limit), { ...options, templates }, renderer);
}

export async function runPlays(plays: readonly PreparedPlay[], options: RunOptions, renderer: Renderer): Promise<HostResult[]> {
  const results: HostResult[] = [];
  const down = new Set<string>();
  const connections = new Map<string, Promise<Transport>>();
  const stopping = options.stopping ?? (() => false);
  // One connection per host for the whole run, opened on first use.
  const transport = (host: Host) => {
    let conn = connections.get(host.name);
    if (!conn) {
      conn = options.connect(host);
      connections.set(host.name, conn);
    }
    return conn;
  };
  const skip = (host: string, play: PreparedPlay, why: string, interrupted = false) => {
    const skipped: HostResult = {
      host, play: play.play.name, status: 'skipped', tasks: play.play.tasks.length, durationMs: 0,
      error: { stage: 'connect', message: why }, ...(interrupted && { interrupted: true }),
    };
    results.push(skipped);
    renderer.hostSkipped(skipped);
  };
  let ended: string | undefined;
  const run = newRunId();
  const lock = hostLock(options.templates, run);
  const exclusive = mutexes();
  try {
    for (const [i, prepared] of plays.entries()) {
      const { play } = prepared;
      const names = prepared.hosts.map((h) => h.host.name);
      renderer.playStart(play, names);
      if (ended === undefined && i > 0 && prepared.playbook !== plays[i - 1]!.playbook && down.size > 0) {
        ended = `playbook ${plays[i - 1]!.playbook} had failed or unreachable hosts, so the next playbooks do not run`;
        renderer.note(`not running ${prepared.playbook}: ${ended}`);
      }
      for (const batch of batches(prepared.hosts, play.serial)) {
        if (ended !== undefined || stopping()) {
          for (const h of batch) skip(h.host.name, prepared, stopping() ? 'not started: lvsplay was asked to stop' : `not run: ${ended}`, stopping());
          continue;
        }
        const runnable = batch.filter((h) => !down.has(h.host.name));
        for (const h of batch.filter((h) => down.has(h.host.name))) skip(h.host.name, prepared, 'failed or unreachable earlier in the run');
        if (runnable.length === 0) continue;
        renderer.batchStart(runnable.map((h) => h.host.name));
        // Failures so far in this batch: once they break the play, no other host of it starts
        // (ansible-core checks after each task; a host's unit here is its whole play, and what
        // already runs finishes: an apply is never cut).
        const finished: HostResult[] = [];
        const done = await pool(runnable, options.forks, async (host) => {
          const name = host.host.name;
          const interrupted = stopping();
          const halted = breaksPlay(play, finished, batch.length);
          if (interrupted || halted) {
            const message = interrupted ? 'not started: lvsplay was asked to stop' : `not started: play "${play.name}" stopped: ${halted}`;
            const skipped: HostResult = { host: name, play: play.name, status: 'skipped', tasks: play.tasks.length, durationMs: 0, ...(interrupted && { interrupted: true }), error: { stage: 'connect', message } };
            renderer.hostDone(skipped);
            return skipped;
          }
          const result = await runHost({
            run: host,
            play,
            check: options.check,
            transport,
            progress: (stage, detail) => renderer.hostProgress(name, stage, detail),
            stopping,
            lock,
            exclusive,
            ...(options.onFacts && { onFacts: (out: string) => options.onFacts!(host.host, out) }),
          });
          renderer.hostDone(result);
          finished.push(result);
          return result;
        });
        await renderer.batchEnd();
        results.push(...done);
        for (const r of done) if (r.status === 'failed' || unreachable(r)) down.add(r.host);
        const why = breaksPlay(play, done, batch.length);
        if (why) {
          ended = `play "${play.name}" stopped: ${why}`;
          renderer.note(`${ended}; no later play or playbook runs`);
        }
      }
    }
  } finally {
    await Promise.all([...connections.values()].map(async (c) => (await c.catch(() => undefined))?.close()));
  }
  return results;
}

/** One queue per host name: work on a host waits for the work before it on that host. */
function mutexes(): <T>(key: string, work: () => Promise<T>) => Promise<T> {
  const tails = new Map<string, Promise<unknown>>();
  return (key, work) => {
    const run = (tails.get(key) ?? Promise.resolve()).catch(() => undefined).then(work);
    tails.set(key, run);
    return run;
  };
}

/**
 * Why a batch ends the play (and so the run), or undefined. As in ansible-core: the whole batch
 * (hosts left out after earlier failures included) newly failed or unreachable; any_errors_fatal
 * with either; more than max_fail_percentage of the batch newly *failed* (unreachable hosts do not
 * count there, linear.py counts only _failed_hosts).
 */
function breaksPlay(play: PreparedPlay['play'], results: readonly HostResult[], batchSize: number): string | undefined {
  const failed = results.filter((r) => r.status === 'failed').length;
  const down = failed + results.filter(unreachable).length;
  if (down === 0) return undefined;
  if (down === batchSize) return 'every host of a batch failed or was unreachable';
  if (play.anyErrorsFatal) return 'any_errors_fatal, and a host failed or was unreachable';
  if (play.maxFailPercentage !== undefined && (failed * 100) / batchSize > play.maxFailPercentage) {
    return `${failed} of ${batchSize} hosts of a batch failed, more than max_fail_percentage ${play.maxFailPercentage}%`;
  }
  return undefined;
}

/** Unreachable where it counts: not in a play that ignores it (ignore_unreachable). */
const unreachable = (r: HostResult) => r.status === 'unreachable' && !r.ignored;
