/**
 * `serial` batches, as Ansible cuts them: sizes in order (a count or a percentage of the play's
 * hosts, at least one host), the last size repeating until every host is in a batch.
 */
import type { BatchSize } from '../playbook/model.js';

export function batches<T>(hosts: readonly T[], serial: readonly BatchSize[]): T[][] {
  if (serial.length === 0 || hosts.length === 0) return hosts.length === 0 ? [] : [[...hosts]];
  const out: T[][] = [];
  let start = 0;
  for (let i = 0; start < hosts.length; i++) {
    const size = serial[Math.min(i, serial.length - 1)]!;
    const count = 'count' in size ? size.count : Math.max(1, Math.floor((hosts.length * size.percent) / 100));
    out.push(hosts.slice(start, start + count));
    start += count;
  }
  return out;
}
