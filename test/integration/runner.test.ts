// lvsplay's main job end to end on the lab (issue 5): bootstrap a real LVS cluster over real SSH,
// traffic through every VIP, a second run that changes nothing, drift found and repaired, an
// unreachable host, a failed IPVS batch rolled back, an unknown host key refused. No mocks.
import test from 'ava';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadInventory } from '../../src/inventory/load.js';
import type { Host } from '../../src/inventory/model.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { Templates } from '../../src/templates/templates.js';
import { shq } from '../../src/util/shell.js';
import { runPlaybooks } from '../../src/run/runner.js';
import { JsonRenderer } from '../../src/run/render-json.js';
import { SshTransport } from '../../src/transport/ssh.js';
import type { Transport } from '../../src/transport/types.js';
import { INVENTORY_FILE, isAlive, KNOWN_HOSTS_FILE, LAB_DIR, labRelease, labReset, labUp, netnsExec, recordedPids, run } from '../lab/lab.js';
import { BOOTSTRAP, cli, curl, eventually, inventoryWith as inventoryWithIn, onHost, statusByHost, summaries, udp } from './support/lab-cli.js';

const work = mkdtempSync(path.join(tmpdir(), 'lvsplay-runner-'));
const inventoryWith = (name: string, edit: (inv: Record<string, any>) => void) => inventoryWithIn(work, name, edit);

test.before(async () => {
  // A clean lab: whatever an earlier run (or the demo) left, every host as it booted.
  await labUp();
  await labReset();
});

test.after.always(async () => {
  rmSync(work, { recursive: true, force: true });
  await labRelease();
});

test.serial('bootstrap on a clean lab: every host changed, exit 0', async (t) => {
  const r = await cli(['apply', '-i', INVENTORY_FILE, BOOTSTRAP, '--json']);
  t.is(r.code, 0, r.stderr + r.stdout);
  const statuses = statusByHost(r.json!);
  t.log(statuses);
  for (const [key, status] of Object.entries(statuses)) t.is(status, 'changed', key);
  t.is(Object.keys(statuses).length, 7, 'five real servers and two directors');
});

test.serial('DR: the VIP answers from both real servers, round robin', async (t) => {
  const answers = [];
  for (let i = 0; i < 4; i++) answers.push(await curl('http://192.0.2.10/'));
  t.deepEqual([...answers].sort(), ['rs1', 'rs1', 'rs2', 'rs2'], answers.join(','));
});

test.serial('DR over UDP: the VIP answers from both real servers', async (t) => {
  const answers = new Set<string>();
  for (let i = 0; i < 4; i++) answers.add(await udp('192.0.2.11:53'));
  t.deepEqual([...answers].sort(), ['rs1', 'rs2']);
});

test.serial('TUN: the VIP answers from the tunnelled real server', async (t) => {
  t.is(await curl('http://192.0.2.12/'), 'rs5');
});

test.serial('NAT: the VIP on port 8080 answers from both real servers on port 80', async (t) => {
  const answers = new Set<string>();
  for (let i = 0; i < 4; i++) answers.add(await curl('http://192.0.2.13:8080/'));
  t.deepEqual([...answers].sort(), ['rs3', 'rs4']);
});

test.serial('ldirectord: accepts the rendered ldirectord.cf, its checks bring both real servers in, the VIP answers', async (t) => {
  const table = await eventually('ldirectord adding rs1 and rs2 on lb1', () => onHost('lb1', 'ipvsadm -S -n'), (s) =>
    s.includes('-a -t 192.0.2.14:80 -r 192.0.2.21:80 -g') && s.includes('-a -t 192.0.2.14:80 -r 192.0.2.22:80 -g'),
  );
  t.log(table);
  const answers = new Set<string>();
  for (let i = 0; i < 6; i++) answers.add(await curl('http://192.0.2.14/'));
  t.deepEqual([...answers].sort(), ['rs1', 'rs2']);
});

test.serial('second run: every host ok, nothing changed, and only the probe went over SSH (1 exec per host)', async (t) => {
  const cluster = loadInventory(INVENTORY_FILE);
  const playbook = loadPlaybook(BOOTSTRAP, cluster);
  const transports: Transport[] = [];
  const connect = async (h: Host) => {
    const transport = await SshTransport.connect(h.name, h.ssh);
    transports.push(transport);
    return transport;
  };
  const sink = { write: () => true } as unknown as NodeJS.WritableStream;
  const results = await runPlaybooks(cluster, [playbook], new Templates(), { check: false, forks: 50, connect }, new JsonRenderer(sink, { check: false }));
  t.deepEqual(results.filter((r) => r.status !== 'ok').map((r) => `${r.host}: ${r.status} ${r.error?.message ?? ''}`), []);
  t.is(transports.length, 7);
  for (const transport of transports) t.is(transport.execCount, 1, `${transport.host} ran ${transport.execCount} scripts`);

  const again = await cli(['apply', '-i', INVENTORY_FILE, BOOTSTRAP]);
  t.is(again.code, 0);
  // every task of its plays ok, none changed
  const [realServers, directors] = playbook.plays;
  t.regex(again.stdout, new RegExp(`rs1 +: ok=${realServers!.tasks.length} +changed=0 +unreachable=0 +failed=0`));
  t.regex(again.stdout, new RegExp(`lb1 +: ok=${directors!.tasks.length} +changed=0 +unreachable=0 +failed=0`));
});

test.serial('drift: --check --detailed-exitcode exits 3 naming each drift; apply repairs exactly those', async (t) => {
  await onHost('lb1', 'ipvsadm -d -t 192.0.2.10:80 -r 192.0.2.22:80');
  await onHost('rs1', 'sysctl -qw net.ipv4.conf.all.arp_ignore=0');
  await onHost('rs2', 'ip addr del 192.0.2.10/32 dev lo');

  const facts = path.join(work, 'facts');
  const check = await cli(['apply', '-i', INVENTORY_FILE, BOOTSTRAP, '--check', '--detailed-exitcode', '--diff', '--save-facts', facts]);
  t.is(check.code, 3, check.stderr + check.stdout);
  t.regex(check.stdout, /\+ add real server 192\.0\.2\.22:80 to tcp 192\.0\.2\.10:80/);
  t.regex(check.stdout, /~ sysctl net\.ipv4\.conf\.all\.arp_ignore 0 → 1/);
  t.regex(check.stdout, /\+ address 192\.0\.2\.10\/32 brd 192\.0\.2\.10 on lo/);
  t.regex(check.stdout, /\+-a -t 192\.0\.2\.10:80 -r 192\.0\.2\.22:80 -g -w 1/, '--diff shows the ipvsadm line');

  // The same plan offline, from the saved probe output: reproducible without the hosts.
  const offline = await cli(['plan', '-i', INVENTORY_FILE, BOOTSTRAP, '--facts', facts, '--detailed-exitcode']);
  t.is(offline.code, 3, offline.stderr);
  for (const line of ['+ add real server 192.0.2.22:80 to tcp 192.0.2.10:80', '~ sysctl net.ipv4.conf.all.arp_ignore 0 → 1', '+ address 192.0.2.10/32 brd 192.0.2.10 on lo']) {
    t.true(offline.stdout.includes(line), line);
  }
  t.regex(offline.stdout, /lb2: ok \(no changes\)/);

  const fix = await cli(['apply', '-i', INVENTORY_FILE, BOOTSTRAP, '--json']);
  t.is(fix.code, 0, fix.stderr);
  const changed = fix.json!.results.filter((r) => r.status === 'changed').map((r) => r.host).sort();
  t.deepEqual(changed, ['lb1', 'rs1', 'rs2']);
  t.deepEqual(summaries(fix.json!, 'lb1'), ['+ add real server 192.0.2.22:80 to tcp 192.0.2.10:80 (dr, weight 1)']);
  t.deepEqual(summaries(fix.json!, 'rs1'), ['~ sysctl net.ipv4.conf.all.arp_ignore 0 → 1']);
  t.deepEqual(summaries(fix.json!, 'rs2'), ['+ address 192.0.2.10/32 brd 192.0.2.10 on lo']);

  const clean = await cli(['apply', '-i', INVENTORY_FILE, BOOTSTRAP, '--check', '--detailed-exitcode']);
  t.is(clean.code, 0, clean.stdout);
});

test.serial('a real server whose sshd is down is unreachable; the others complete; exit 4', async (t) => {
  const pids = recordedPids();
  const sshd = pids.get('rs4.sshd')!;
  const dir = path.join(LAB_DIR, 'hosts', 'rs4'); // the lab's per-host folder: sshd_config, sshd.pid
  process.kill(sshd, 'SIGTERM');
  try {
    await eventually('rs4 sshd gone', async () => !isAlive(sshd), (gone) => gone, 10_000);
    await onHost('lb1', 'ipvsadm -e -t 192.0.2.13:8080 -r 198.51.100.23:80 -m -w 5'); // drift the others must still repair
    const r = await cli(['apply', '-i', INVENTORY_FILE, BOOTSTRAP, '--json']);
    t.is(r.code, 4, r.stderr);
    const rs4 = r.json!.results.find((x) => x.host === 'rs4');
    t.is(rs4?.status, 'unreachable');
    t.log(rs4?.error?.message);
    t.deepEqual(r.json!.results.filter((x) => x.host !== 'rs4').map((x) => x.status).sort(), ['changed', 'ok', 'ok', 'ok', 'ok', 'ok']);
    t.deepEqual(summaries(r.json!, 'lb1'), ['~ weight 198.51.100.23:80 in tcp 192.0.2.13:8080 5 → 1']);
  } finally {
    // Start rs4's sshd again as the lab did, inside rs4's own namespaces (those of its web
    // server), and record its new PID so lab:down ends it.
    const sshdArgs = ['/usr/sbin/sshd', '-f', path.join(dir, 'sshd_config'), '-E', path.join(dir, 'sshd.log')];
    const restarted = await run('nsenter', ['--target', String(pids.get('rs4.httpd')), '--mount', '--net', '--uts', ...sshdArgs]);
    t.is(restarted.code, 0, restarted.stderr);
    const pidFile = path.join(dir, 'sshd.pid');
    // (until the new sshd has written it there is none: the old one removed it on SIGTERM)
    const written = async () => (existsSync(pidFile) ? readFileSync(pidFile, 'utf8').trim() : '');
    await eventually('rs4 sshd pid file', written, (p) => p !== '' && p !== String(sshd), 10_000);
    writeFileSync(path.join(LAB_DIR, 'pids', 'rs4.sshd'), readFileSync(pidFile, 'utf8'));
  }
  const after = await cli(['apply', '-i', INVENTORY_FILE, BOOTSTRAP, '--check', '--detailed-exitcode']);
  t.is(after.code, 0, after.stdout);
});

/** On lb1, a modprobe whose dry run finds every module and that loads none (the test's own, on tmpfs). */
const FINDS_NONE_LOADS = '/run/lvsplay-test-modprobe';

test.serial('a director whose batch fails half way keeps exactly its previous rules; reported failed; exit 2', async (t) => {
  // A real kernel failure on one line: the scheduler module of a new service cannot load. The
  // kernel's modprobe is swapped for one that finds every module (its dry run, which the probe
  // asks, succeeds) and loads none: a module on disk that will not insert.
  const loaded = await onHost('lb1', 'cat /proc/modules');
  const scheduler = ['sed', 'nq', 'fo', 'ovf', 'lblcr', 'dh'].find((s) => !loaded.includes(`ip_vs_${s} `))!;
  const broken = inventoryWith('broken-batch', (inv) => {
    const web = inv['services'].find((s: { name: string }) => s.name === 'web');
    web.real_servers[0].weight = 7; // an edit that comes first in the batch and succeeds
    inv['services'].push({ name: 'extra', vip: '192.0.2.15', port: 80, scheduler, real_servers: [{ server: 'rs1' }, { server: 'rs2' }] });
  });
  const before = await onHost('lb1', 'ipvsadm -S -n');
  const modprobe = (await onHost('lb1', 'cat /proc/sys/kernel/modprobe')).trim();
  await onHost('lb1', `printf '#!/bin/sh\\n[ "$1" = -n ]\\n' > ${FINDS_NONE_LOADS} && chmod +x ${FINDS_NONE_LOADS} && echo ${FINDS_NONE_LOADS} > /proc/sys/kernel/modprobe`);
  try {
    const r = await cli(['apply', '-i', broken, BOOTSTRAP, '--limit', 'lb1', '--json']);
    t.is(r.code, 2, r.stderr);
    const lb1 = r.json!.results.find((x) => x.host === 'lb1' && x.status !== 'skipped');
    t.is(lb1?.status, 'failed');
    t.log(lb1?.error?.message);
    t.regex(lb1?.error?.message ?? '', new RegExp(`ipvs-failed \\d+\\s+-A -t 192\\.0\\.2\\.15:80 -s ${scheduler}`));
    t.regex(lb1?.error?.message ?? '', /rollback ok/);
    t.is(await onHost('lb1', 'ipvsadm -S -n'), before, 'the table is exactly what it was');
  } finally {
    await onHost('lb1', `echo ${modprobe} > /proc/sys/kernel/modprobe; rm -f ${FINDS_NONE_LOADS}`);
  }
});

test.serial('a scheduler lb1\'s kernel does not have (twos: Debian 12 builds it without CONFIG_IP_VS_TWOS) fails lb1\'s plan, --check and apply alike, naming it; nothing runs there; the other hosts\' plans go on; exit 2', async (t) => {
  t.is((await onHost('lb1', 'modprobe -n -q ip_vs_twos; echo $?')).trim(), '1', 'the lab kernel has no ip_vs_twos module');
  const twos = inventoryWith('twos', (inv) => {
    inv['services'].push({ name: 'extra', vip: '192.0.2.15', port: 80, scheduler: 'twos', real_servers: [{ server: 'rs1' }, { server: 'rs2' }] });
  });
  const before = await onHost('lb1', 'ipvsadm -S -n');
  const why = /lb1's kernel has no scheduler twos \(module ip_vs_twos\), used by extra \(tcp 192\.0\.2\.15:80\): the module is not loaded and modprobe cannot find it/;
  const check = await cli(['apply', '-i', twos, BOOTSTRAP, '--check', '--json']);
  t.is(check.code, 2, check.stderr);
  t.regex(check.json!.results.find((x) => x.host === 'lb1' && x.status === 'failed')?.error?.message ?? '', why);
  const servers = check.json!.results.filter((x) => x.host.startsWith('rs') && x.status !== 'skipped');
  t.true(servers.length >= 5 && servers.every((x) => x.status === 'ok' || x.status === 'changed'), JSON.stringify(servers.map((x) => [x.host, x.status])));
  // Applied to lb1 alone: the real servers would take the new VIP, which the next tests' lab does not have.
  const r = await cli(['apply', '-i', twos, BOOTSTRAP, '--limit', 'lb1', '--json']);
  t.is(r.code, 2, r.stderr);
  const lb1 = r.json!.results.find((x) => x.host === 'lb1' && x.status !== 'skipped');
  t.is(lb1?.status, 'failed');
  t.regex(lb1?.error?.message ?? '', why);
  t.notRegex(lb1?.error?.message ?? '', /rollback|ipvs-failed/, 'refused at the plan: no batch ran');
  t.is(await onHost('lb1', 'ipvsadm -S -n'), before, 'lb1\'s table is untouched');
  // The probe's fragment itself on lb1: it names what modprobe cannot find, not what is loaded or
  // found; and says nothing where modprobe has no index for this kernel (a container without the
  // host's /lib/modules, whose kernel would load the module with the host's modprobe).
  const fragment = new Templates().render('ipvs/modules.sh.hbs', { modules: ['ip_vs_wlc', 'ip_vs_sed', 'ip_vs_twos'] });
  t.is(await onHost('lb1', fragment), 'ip_vs_twos\n');
  t.is(await onHost('lb1', `unshare -m sh -c ${shq(`mount -t tmpfs none /lib/modules && ${fragment}`)}`), '');
});

test.serial('an unknown host key is refused and nothing runs on that host', async (t) => {
  const knownHosts = path.join(work, 'known_hosts');
  writeFileSync(knownHosts, readFileSync(KNOWN_HOSTS_FILE, 'utf8').split('\n').filter((l) => !l.startsWith('[127.0.0.1]:22102 ')).join('\n'));
  const inventory = inventoryWith('unknown-key', (inv) => {
    inv['defaults'].ssh.known_hosts = knownHosts;
  });
  await onHost('lb2', 'ipvsadm -d -t 192.0.2.10:80 -r 192.0.2.21:80');
  const r = await cli(['apply', '-i', inventory, BOOTSTRAP, '--limit', 'lb2', '--json']);
  t.is(r.code, 4);
  const lb2 = r.json!.results.find((x) => x.host === 'lb2' && x.status !== 'skipped');
  t.is(lb2?.status, 'unreachable');
  t.regex(lb2?.error?.message ?? '', /host key/i);
  t.false((await onHost('lb2', 'ipvsadm -S -n')).includes('-a -t 192.0.2.10:80 -r 192.0.2.21:80'), 'nothing ran on lb2');
  const repaired = await cli(['apply', '-i', INVENTORY_FILE, BOOTSTRAP, '--limit', 'lb2']);
  t.is(repaired.code, 0, repaired.stdout);
});

const neighbour = async (ip: string) => (await netnsExec('lvsplay-client', ['ip', 'neigh', 'show', ip])).stdout.trim();
const eth0Addresses = async (name: string) => onHost(name, 'ip -o -4 addr show dev eth0');

test.serial('failover: the VIPs move to lb2, which announces them (gratuitous ARP); traffic follows; and back to lb1', async (t) => {
  t.is(await curl('http://192.0.2.10/') !== '', true, 'the client has talked to the VIP, so it has a neighbour entry for it');
  t.regex(await neighbour('192.0.2.10'), /lladdr 52:54:00:00:00:05/, 'the VIP is at lb1');

  const to2 = await cli(['failover', '-i', INVENTORY_FILE, '--to', 'lb2', '--json']);
  t.is(to2.code, 0, to2.stderr);
  t.deepEqual(Object.fromEntries(to2.json!.results.map((r) => [r.host, r.status])), { lb1: 'changed', lb2: 'changed' });
  t.false((await eth0Addresses('lb1')).includes('192.0.2.10/32'), 'lb1 released the VIP');
  t.true((await eth0Addresses('lb2')).includes('192.0.2.10/32'), 'lb2 holds the VIP');
  // No request to the VIP since: only lb2's gratuitous ARP can have moved the client's entry.
  await eventually('the client learning lb2 from its gratuitous ARP', () => neighbour('192.0.2.10'), (n) => n.includes('52:54:00:00:00:06'), 15_000);
  const answers = new Set<string>();
  for (let i = 0; i < 4; i++) answers.add(await curl('http://192.0.2.10/'));
  t.deepEqual([...answers].sort(), ['rs1', 'rs2'], 'lb2 balances the VIP (its rules were loaded by bootstrap)');
  // Connection counters are summed by the kernel's 2 s estimator: wait for them.
  await eventually('lb2 counting the connections', () => onHost('lb2', 'ipvsadm -L -n --stats -t 192.0.2.10:80'), (s) => /TCP\s+192\.0\.2\.10:80\s+[1-9]/.test(s), 10_000);
  t.is((await cli(['failover', '-i', INVENTORY_FILE, '--to', 'lb2'])).code, 0, 'failing over to the primary it already is changes nothing');

  const back = await cli(['failover', '-i', INVENTORY_FILE, '--to', 'lb1', '--json']);
  t.is(back.code, 0, back.stderr);
  await eventually('the client learning lb1 again', () => neighbour('192.0.2.10'), (n) => n.includes('52:54:00:00:00:05'), 15_000);
  t.true(['rs1', 'rs2'].includes(await curl('http://192.0.2.10/')));
  const check = await cli(['apply', '-i', INVENTORY_FILE, BOOTSTRAP, '--check', '--detailed-exitcode']);
  t.is(check.code, 0, 'the cluster is as its inventory says again');
});
