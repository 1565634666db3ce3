/**
 * Failover as a change of the model, not of the resources: the cluster with another director of
 * the same pair as primary. Everything downstream (which director holds the VIPs) follows from
 * the roles, so a failover is the ordinary address plan of the new roles.
 */
import type { Cluster, Director } from './model.js';

export function withPrimary(cluster: Cluster, name: string): Cluster {
  const target = cluster.directors.find((d) => d.name === name);
  if (!target) throw new Error(`no director is named "${name}"`);
  const directors: Director[] = cluster.directors.map((d) =>
    d.pair !== target.pair ? d : { ...d, role: d.name === name ? 'primary' : 'backup' },
  );
  const hosts = new Map(cluster.hosts);
  for (const d of directors) hosts.set(d.name, d);
  return { ...cluster, directors, hosts };
}
