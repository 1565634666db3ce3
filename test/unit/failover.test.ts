/** Failover as a model change: another director of the pair becomes primary; selection follows. */
import test from 'ava';
import { withPrimary } from '../../src/inventory/failover.js';
import { loadInventory } from '../../src/inventory/load.js';
import { selectHosts } from '../../src/playbook/select.js';
import { desiredAddresses } from '../../src/resources/address/index.js';
import { Templates } from '../../src/templates/templates.js';
import { repoPath } from '../helpers/inventory.js';

const cluster = loadInventory(repoPath('inventory/example.yml'));
const names = (hosts: { name: string }[]) => hosts.map((h) => h.name);

test('primary and backup select the directors by role', (t) => {
  t.deepEqual(names(selectHosts(cluster, ['primary'])), ['lb1']);
  t.deepEqual(names(selectHosts(cluster, ['backup'])), ['lb2']);
});

test('withPrimary swaps the roles in the pair and leaves the original untouched', (t) => {
  const swapped = withPrimary(cluster, 'lb2');
  t.deepEqual(names(selectHosts(swapped, ['primary'])), ['lb2']);
  t.deepEqual(names(selectHosts(swapped, ['backup'])), ['lb1']);
  t.is(swapped.directors.find((d) => d.name === 'lb2')?.role, 'primary');
  t.deepEqual(names(selectHosts(cluster, ['primary'])), ['lb1'], 'the loaded cluster is not changed');
  t.throws(() => withPrimary(cluster, 'web1'), { message: /no director is named "web1"/ });
});

test('after failover the new primary must hold the VIPs and the old one none', (t) => {
  const swapped = withPrimary(cluster, 'lb2');
  const ctx = (name: string) => ({ cluster: swapped, host: swapped.hosts.get(name)!, vars: {}, templates: new Templates() });
  const lb2 = desiredAddresses(ctx('lb2'));
  const lb1 = desiredAddresses(ctx('lb1'));
  t.true(lb2.present.some((a) => a.address === '192.0.2.10' && a.device === 'eth0'));
  t.deepEqual(lb1.present, []);
  t.true(lb1.absent.includes('192.0.2.10'));
});
