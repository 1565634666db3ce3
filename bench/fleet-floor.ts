/**
 * The floor of the fleet benchmark: the least any SSH config tool must do for a check of N hosts.
 * One Node process: one ssh2 connection per host, all in parallel, host keys verified against the
 * bench's known_hosts, one exec per host of a trivial read (one sysctl), then exit. The bench
 * times this process from its start to its exit (node start-up and loading ssh2 included).
 *
 *   node dist/bench/fleet-floor.js DIR      (DIR: what `fleet-hosts.sh up` made)
 *
 * Prints one line: how many hosts answered; exits 1 if any did not.
 */
import { execOnAll, readHosts } from './fleet-ssh.js';

const dir = process.argv[2];
if (dir === undefined) {
  process.stderr.write('usage: node fleet-floor.js DIR\n');
  process.exit(2);
}
const hosts = readHosts(dir);
const results = await execOnAll(dir, hosts, 'cat /proc/sys/net/ipv4/conf/all/arp_ignore');
const bad = results.filter((r) => r.code !== 0 || r.error !== undefined);
process.stdout.write(`${JSON.stringify({ hosts: hosts.length, answered: results.length - bad.length, firstError: bad[0]?.error ?? bad[0]?.stderr })}\n`);
process.exitCode = bad.length === 0 ? 0 : 1;
