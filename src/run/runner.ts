/**
 * Plays in order; each play's hosts in `serial` batches; each batch through the renderer's
 * bounded pool. A host that fails or is unreachable is recorded and left out of later plays;
 * the others go on unless the play says to stop (any_errors_fatal, max_fail_percentage, or a
 * whole batch failed, as Ansible does).
 */
import type { Cluster, Host } from '../inventory/model.js';
import { type Play, type Playbook, playsInOrder } from '../playbook/model.js';
import { selectHosts } from '../playbook/select.js';
import { hostContext, prepareHost } from '../plan/build.js';
import type { Templates } from '../resources/templates.js';
import type { Transport } from '../transport/types.js';
import { batches } from './batches.js';
import { runHost } from './host.js';
import type { HostResult, Renderer } from './types.js';

export interface RunOptions {
  check: boolean;
  forks: number;
  /** Extra selector terms every play's hosts are intersected with (`--limit`). */
  limit?: string[];
  connect: (host: Host) => Promise<Transport>;
  /** Called with each host's probe output; the sections are named by play and task, so a host's outputs concatenate. */
  onFacts?: (host: Host, output: string) => void;
}

export async function runPlaybooks(cluster: Cluster, playbooks: Playbook[], templates: Templates, options: RunOptions, renderer: Renderer): Promise<HostResult[]> {
  const results: HostResult[] = [];
  const down = new Set<string>();
  const connections = new Map<string, Promise<Transport>>();
  // One connection per host for the whole run, opened on first use.
  const transport = (host: Host) => {
    let conn = connections.get(host.name);
    if (!conn) {
      conn = options.connect(host);
      connections.set(host.name, conn);
    }
    return conn;
  };
  const limited = options.limit && new Set(selectHosts(cluster, options.limit));
  try {
    for (const { play, index: p } of playsInOrder(playbooks)) {
      const selected = selectHosts(cluster, play.hosts).filter((h) => !limited || limited.has(h));
      renderer.playStart(play, selected.map((h) => h.name));
      let stop = false;
      for (const batch of batches(selected, play.serial)) {
        const runnable = batch.filter((h) => !down.has(h.name) && !stop);
        for (const h of batch.filter((h) => !runnable.includes(h))) {
          const skipped: HostResult = { host: h.name, play: play.name, status: 'skipped', tasks: play.tasks.length, durationMs: 0 };
          results.push(skipped);
          renderer.hostSkipped(skipped);
        }
        if (runnable.length === 0) continue;
        const done = await renderer.runBatch(runnable, options.forks, (host, progress) =>
          runHost({ host, play, check: options.check, transport: () => transport(host), ...(options.onFacts && { onFacts: (out: string) => options.onFacts!(host, out) }), prepare: () => prepareHost(hostContext(cluster, host, play, templates), play, p) }, progress),
        );
        results.push(...done);
        const bad = done.filter((r) => r.status === 'failed' || r.status === 'unreachable');
        for (const r of bad) down.add(r.host);
        stop = shouldStop(play, bad.length, done.length);
      }
    }
  } finally {
    await Promise.all([...connections.values()].map(async (c) => (await c.catch(() => undefined))?.close()));
  }
  return results;
}

function shouldStop(play: Play, failed: number, total: number): boolean {
  if (failed === 0) return false;
  if (play.anyErrorsFatal || failed === total) return true;
  return play.maxFailPercentage !== undefined && (failed * 100) / total > play.maxFailPercentage;
}
