/**
 * Real servers an operator drained (a rollout, `lvsplay drain`), remembered on each director in
 * lvsplay's record `<state_dir>/drained` (their addresses): every owner's weights there are 0 until
 * the server is undrained, so a later bootstrap never puts a drained server back in rotation.
 */
import type { Cluster, Service } from '../inventory/model.js';
import { parseRecord, recordProbe } from './record.js';
import { recordPath } from '../inventory/host-files.js';
import type { Templates } from '../templates/templates.js';

export function drainedRecord(cluster: Cluster): string {
  return recordPath(cluster, 'drained');
}

export function drainedProbe(templates: Templates, cluster: Cluster): string {
  return recordProbe(templates, drainedRecord(cluster));
}

/** The drained addresses on the director (none when there is no record). */
export function parseDrained(output: string | undefined): Set<string> {
  return new Set(parseRecord(output ?? '@@absent') ?? []);
}

/** The services with every member whose address is drained at weight 0. */
export function withDrained(services: readonly Service[], drained: ReadonlySet<string>): Service[] {
  if (drained.size === 0) return [...services];
  return services.map((s) => (s.realServers.some((m) => drained.has(m.address))
    ? { ...s, realServers: s.realServers.map((m) => (drained.has(m.address) ? { ...m, weight: 0 } : m)) }
    : s));
}
