/**
 * `serial` batches, as Ansible cuts them: sizes in order (a count or a percentage of the play's
 * hosts, at least one host), the last size repeating until every host is in a batch.
 */
import type { BatchSize } from '../playbook/model.js';

/**
 * A percentage's batch size as Ansible's pct_to_int computes it, `int((pct / 100.0) * hosts) or 1`,
 * float rounding included: 29% of 100 hosts is 28 there (0.29 * 100 = 28.999999999999996), so a
 * playbook moved from Ansible cuts the same batches here.
 */
export function percentOfHosts(percent: number, hosts: number): number {
  return Math.trunc((percent / 100) * hosts) || 1;
}

export function batches<T>(hosts: readonly T[], serial: readonly BatchSize[]): T[][] {
  if (serial.length === 0 || hosts.length === 0) return hosts.length === 0 ? [] : [[...hosts]];
  const out: T[][] = [];
  let start = 0;
  for (let i = 0; start < hosts.length; i++) {
    const size = serial[Math.min(i, serial.length - 1)]!;
    const count = 'count' in size ? size.count : percentOfHosts(size.percent, hosts.length);
    out.push(hosts.slice(start, start + count));
    start += count;
  }
  return out;
}
