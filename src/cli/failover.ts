/**
 * `lvsplay failover -i INV --to DIRECTOR`: make DIRECTOR the primary of its pair now. The VIPs
 * leave the other directors of the pair (when reachable: a dead primary is the usual reason to
 * fail over) and come up on DIRECTOR, which announces them by gratuitous ARP. IPVS rules are
 * already loaded on every director (bootstrap puts them on backups too), so traffic flows as soon
 * as neighbours learn the new MAC.
 * A pair that fails over by VRRP (inventory `vrrp:`) runs another built-in playbook,
 * failover-vrrp.yml: keepalived holds its VIPs, so the keepalived task reads the cluster as
 * withPrimary made it (the new primary's priority raised above its pair's) and reloads; keepalived
 * moves the VIPs itself.
 */
import { join } from 'node:path';
import { Command } from 'commander';
import { withPrimary } from '../inventory/failover.js';
import type { Cluster } from '../inventory/model.js';
import { loadPlaybook } from '../playbook/load.js';
import { BUILTIN_PLAYBOOKS, loadAll } from './load.js';
import { usageError } from './exit.js';
import { execute, type RunCommandOptions, withRunOptions } from './run-options.js';

/** The built-in playbook a failover to `to` runs: by VRRP priorities for a pair keepalived holds, else by moving addresses. */
export function failoverPlaybook(cluster: Cluster, to: string): 'failover.yml' | 'failover-vrrp.yml' {
  const target = cluster.directors.find((d) => d.name === to);
  return target && cluster.vrrp.has(target.pair) ? 'failover-vrrp.yml' : 'failover.yml';
}

export function failoverCommand(): Command {
  return withRunOptions(new Command('failover').description('move the VIPs of a director pair to another director, with gratuitous ARP (by VRRP priorities for a pair keepalived holds)'))
    .requiredOption('--to <director>', 'the director that becomes primary')
    .action(async (options: RunCommandOptions & { to: string }) => {
      const loaded = loadAll(options.inventory, [], options.templates);
      if (!loaded.cluster.directors.some((d) => d.name === options.to)) {
        usageError(`--to: no director is named "${options.to}"; directors are ${loaded.cluster.directors.map((d) => d.name).join(', ')}`);
        return;
      }
      const cluster = withPrimary(loaded.cluster, options.to);
      const name = failoverPlaybook(cluster, options.to);
      const vrrp = name === 'failover-vrrp.yml';
      const playbook = loadPlaybook(join(BUILTIN_PLAYBOOKS, name), cluster);
      if (!(await execute(cluster, [playbook], loaded.templates, options))) return;
      const stale = loaded.cluster.directors.find((d) => d.name === options.to)?.role !== 'primary';
      if (stale && !options.check && !options.json) {
        const back = vrrp ? 'gives the old primary its VRRP priority back (and, with preempt, the VIPs)' : 'moves the VIPs back';
        process.stderr.write(`\nThe inventory still names another primary: set "role: primary" on ${options.to} (and "backup" on the others),\nor the next bootstrap ${back}.\n`);
      }
    });
}
