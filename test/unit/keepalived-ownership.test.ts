/**
 * Who owns what once keepalived is in: lvsplay's address task leaves a VRRP pair's VIPs to
 * keepalived (never present, absent or recorded there), its ipvs task never touches keepalived's
 * services and plans a service keepalived releases as new; failover on a VRRP pair runs the VRRP
 * playbook; the probes read what the parsers expect (run by sh here); `render` never prints the
 * VRRP password; the lab's keepalived inventory validates.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { failoverPlaybook } from '../../src/cli/failover.js';
import { loadAll } from '../../src/cli/load.js';
import { withPrimary } from '../../src/inventory/failover.js';
import { TASK_ARGS } from '../../src/playbook/tasks.js';
import { prepareRun } from '../../src/plan/prepare.js';
import { type AddressDesired, desiredAddresses } from '../../src/resources/address/index.js';
import { redact } from '../../src/resources/file/index.js';
import { desiredTable } from '../../src/resources/ipvs/desired.js';
import { ipvs } from '../../src/resources/ipvs/index.js';
import { type KeepalivedActual, REDACT } from '../../src/resources/keepalived/index.js';
import { repoPath } from '../helpers/inventory.js';
import { addressProbe, baseLines, ipLine, sections, sha256 } from '../support/facts.js';
import { kaCluster, kaCtx, PASSWORD } from '../support/keepalived.js';
import { run } from '../support/resources.js';
import { cleanup, runSh, tempDir } from '../support/sh.js';
import { CLI } from '../support/paths.js';

// ---------------------------------------------------------------------------------------------
// address

test('address on a VRRP director: the pair\'s VIPs and the NAT gateway are keepalived\'s (kept), neither present nor absent', (t) => {
  for (const name of ['lb1', 'lb2']) {
    const d = desiredAddresses(kaCtx(name));
    t.deepEqual(d.present, [], name);
    t.deepEqual(d.keep, ['192.0.2.10', '192.0.2.11', '192.0.2.12', '192.0.2.13', '2001:db8::10', '203.0.113.1'], name);
    t.deepEqual(d.absent, [], name);
  }
});

test('address on a VRRP director: VIPs keepalived holds are left alone, even those lvsplay recorded before; other addresses of the cluster still go', (t) => {
  const ctx = kaCtx('lb1');
  const lines = [...baseLines('192.0.2.5', '2001:db8::5'), ipLine(2, 'eth0', '192.0.2.10/32'), ipLine(2, 'eth0', '203.0.113.1/24')];
  const o = run('address', ctx, {}, addressProbe(lines, 'none', '', ['192.0.2.10/32 eth0', '192.0.2.99/32 eth0']));
  t.deepEqual(o.changes.map((c) => c.summary), ['~ record of the addresses lvsplay manages here (0)'], 'not removed, and no longer recorded');
  t.false(o.script.includes('ip addr del'), o.script);
  const held = run('address', ctx, {}, addressProbe(lines, 'none', '', []));
  t.deepEqual(held.changes, []);
  t.is(held.script, '');
});

test('address: a pair without VRRP still gets its VIPs from lvsplay; real servers of a VRRP pair\'s services get theirs on lo as before', (t) => {
  const plain = kaCluster([`vrrp:\n  default:\n    virtual_router_id: 51\n    unicast: true\n    auth_pass_env: LVSPLAY_VRRP_PASS\n    garp_master_delay: 0\n    garp_master_repeat: 1\n    garp_master_refresh: 2\n    sync_daemon: true\n`, '']);
  const lb1 = desiredAddresses(kaCtx('lb1', plain));
  t.true(lb1.present.some((a) => a.address === '192.0.2.10' && a.device === 'eth0'));
  t.is(lb1.keep, undefined);
  const web1 = desiredAddresses(kaCtx('web1')) as AddressDesired;
  t.true(web1.present.some((a) => a.address === '192.0.2.10' && a.device === 'lo' && a.broadcast === '192.0.2.10'));
  t.true(web1.present.some((a) => a.address === '2001:db8::10' && a.device === 'lo'));
});

// ---------------------------------------------------------------------------------------------
// ipvs

test('ipvs: keepalived\'s services are foreign (never touched, even with purge); lvsplay carries only its own', (t) => {
  const ctx = kaCtx('lb1');
  const d = desiredTable(ctx.cluster, ctx.host);
  t.deepEqual([...d.table.services.keys()], ['tcp [2001:db8::10]:80']);
  t.deepEqual([...d.foreign].sort(), ['fwmark 5 ipv4', 'fwmark 6 ipv6', 'sctp 192.0.2.13:8443', 'tcp 192.0.2.10:80', 'tcp 192.0.2.12:443', 'udp 192.0.2.11:53']);
  const desired = ipvs.desired(ctx, TASK_ARGS.ipvs.parse({ purge: true, save: false }));
  const save = '-A -t 192.0.2.10:80 -s rr\n-a -t 192.0.2.10:80 -r 192.0.2.21:80 -g -w 1\n-A -t [2001:db8::10]:80 -s wlc\n-a -t [2001:db8::10]:80 -r [2001:db8::21]:80 -g -w 1\n';
  const o = ipvs.diff(desired, ipvs.parse(ipvsFacts(save, ['tcp [2001:db8::10]:80']), desired), ctx);
  t.deepEqual(o.changes, [], 'keepalived\'s 192.0.2.10:80, though it differs from the inventory and purge is on, is left alone');
});

/** The ipvs probe's output (no thresholds, connections): its save, record and the keepalived config part. */
function ipvsFacts(save: string, record: string[], keepalived = ''): string {
  return sections([
    ['save', `${save}# lvsplay: ok\n`],
    ['thresholds', 'IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Uthreshold Lthreshold ActiveConn InActConn\n  -> RemoteAddress:Port\n# lvsplay: ok\n'],
    ['record', record.map((l) => `${l}\n`).join('')],
    ['ldirectord', ''],
    ['keepalived', keepalived],
  ]);
}

test('ipvs: a service moving from keepalived to lvsplay is planned as new (keepalived\'s reload deletes it first), and the stale check expects it gone', (t) => {
  const cluster = kaCluster([
    '    managed_by: keepalived\n    health_check: { type: http, path: /healthz, status: 200, regex: "OK", timeout: 3, interval: 5, retry: 2, delay_before_retry: 1, quorum: 2, hysteresis: 1, quiescent: true }\n    fallback: { address: 192.0.2.30, port: 80 }\n',
    '',
  ], ['{ server: web2, weight: 3, check: { path: /alt, port: 8080 } }', '{ server: web2, weight: 3 }']);
  const ctx = kaCtx('lb1', cluster);
  const desired = ipvs.desired(ctx, TASK_ARGS.ipvs.parse({ save: false }));
  const save = '-A -t 192.0.2.10:80 -s wlc\n-a -t 192.0.2.10:80 -r 192.0.2.21:80 -g -w 3\n-A -t [2001:db8::10]:80 -s wlc\n-a -t [2001:db8::10]:80 -r [2001:db8::21]:80 -g -w 1\n';
  const record = ['tcp [2001:db8::10]:80'];
  const kept = ipvs.diff(desired, ipvs.parse(ipvsFacts(save, record), desired), ctx);
  t.true(kept.changes.some((c) => c.summary.startsWith('~ edit service tcp 192.0.2.10:80')), 'without keepalived\'s word, the live service is edited');
  const released = ipvs.diff(desired, ipvs.parse(ipvsFacts(save, record, 'header lvsplay\nline virtual_server 192.0.2.10 80 {\nline protocol TCP\n'), desired), ctx);
  t.deepEqual(released.changes.map((c) => c.summary).slice(0, 3), [
    '+ add service tcp 192.0.2.10:80 wlc persistent 300 mask 255.255.255.0',
    '+ add real server 192.0.2.21:80 to tcp 192.0.2.10:80 (dr, weight 3)',
    '+ add real server 192.0.2.22:80 to tcp 192.0.2.10:80 (dr, weight 3)',
  ]);
});

// ---------------------------------------------------------------------------------------------
// failover

test('failover --to on a VRRP pair runs failover-vrrp.yml (priorities, keepalived reload); on a pair without VRRP, failover.yml (addresses)', (t) => {
  const cluster = kaCluster();
  t.is(failoverPlaybook(cluster, 'lb2'), 'failover-vrrp.yml');
  const plain = kaCluster([`vrrp:\n  default:\n    virtual_router_id: 51\n    unicast: true\n    auth_pass_env: LVSPLAY_VRRP_PASS\n    garp_master_delay: 0\n    garp_master_repeat: 1\n    garp_master_refresh: 2\n    sync_daemon: true\n`, '']);
  t.is(failoverPlaybook(plain, 'lb2'), 'failover.yml');
  // The VRRP playbook on the cluster withPrimary makes: the new primary's keepalived task first, the old one's with step_down.
  const { cluster: loaded, playbooks, templates } = loadAll(repoPath('inventory/keepalived.yml'), [repoPath('playbooks/failover-vrrp.yml')]);
  const plays = prepareRun(withPrimary(loaded, 'lb2'), playbooks, templates);
  t.deepEqual(plays.map((p) => p.hosts.map((h) => h.host.name)), [['lb2'], ['lb1']]);
  t.deepEqual(plays.map((p) => p.play.tasks.map((task) => [task.kind, task.args])), [[['keepalived', { reload: true, step_down: false }]], [['keepalived', { reload: true, step_down: true }]]]);
  t.true(plays[1]!.play.ignoreUnreachable, 'a dead old primary does not fail the failover');
  const lb2 = plays[0]!.hosts[0]!.steps[0]!.targets[0]!.tasks[0]!.desired as { file: { content: string } };
  t.true(lb2.file.content.includes('    state MASTER\n    interface eth0\n    virtual_router_id 51\n    priority 151\n'));
});

// ---------------------------------------------------------------------------------------------
// probes, run by sh against files in a temp folder

test('the keepalived probe run by sh: checksum and redacted text of the config (never its password), its virtual servers, /proc/net/ip_vs', (t) => {
  const dir = tempDir();
  try {
    const ctx = kaCtx('lb1');
    const first = run('keepalived', ctx, {}, '');
    const content = (first.desired as { file: { content: string } }).file.content;
    mkdirSync(join(dir, 'etc/keepalived'), { recursive: true });
    mkdirSync(join(dir, 'proc/net'), { recursive: true });
    mkdirSync(join(dir, 'run'), { recursive: true });
    writeFileSync(join(dir, 'etc/keepalived/keepalived.conf'), content);
    writeFileSync(join(dir, 'proc/net/ip_vs'), 'IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port Forward Weight ActiveConn InActConn\nTCP  C000020A:0050 wlc persistent 300 mask 255.255.255.0\n  -> C0000215:0050      Route   3      0          0\nFWM  00000005 lc \n');
    const script = first.probe.replaceAll('/etc/', `${dir}/etc/`).replaceAll('/proc/', `${dir}/proc/`).replaceAll('/run/', `${dir}/run/`);
    const out = runSh(script, { cwd: dir });
    t.is(out.code, 0, out.stderr);
    t.false(out.stdout.includes(PASSWORD), 'the password never leaves the host');
    const actual = run('keepalived', ctx, {}, out.stdout).actual as KeepalivedActual;
    t.like(actual.file, { present: true, sha256: sha256(content), content: redact(content, REDACT), secret: true });
    t.true(actual.conf.ours);
    t.deepEqual([...actual.conf.keys.keys()], ['tcp 192.0.2.10:80', 'udp 192.0.2.11:53', 'tcp 192.0.2.12:443', 'sctp 192.0.2.13:8443', 'fwmark 5 ipv4', 'fwmark 6 ipv6']);
    t.deepEqual([...actual.live], ['tcp 192.0.2.10:80', 'fwmark 5 ipv4', 'fwmark 5 ipv6']);
    t.is(actual.daemon === 'missing' || actual.daemon === 'stopped', true, 'no pid file here');
    // The host's sed and this redaction agree, so the diff of an unchanged file is empty.
    t.is(actual.file.present && actual.file.content, redact(content, REDACT));
  } finally {
    cleanup(dir);
  }
});

// ---------------------------------------------------------------------------------------------
// the CLI and the lab

function lvsplay(env: Record<string, string>, ...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: repoPath('.'), encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('render never prints the VRRP password (plans, --diff, scripts); without it, render is bad input naming the variable', (t) => {
  const r = lvsplay({ LVSPLAY_VRRP_PASS: 'Zq7-Kx2p' }, 'render', '-i', 'inventory/keepalived.yml', '--host', 'lb1');
  t.is(r.status, 0, r.stderr);
  t.true(r.stdout.includes('+ file /etc/keepalived/keepalived.conf (secrets not shown)'));
  t.true(r.stdout.includes('auth_pass (secret not shown)'));
  t.false(r.stdout.includes('Zq7-Kx2p'));
  t.false(r.stdout.includes(Buffer.from('auth_pass Zq7-Kx2p').toString('base64').slice(0, 12)));
  const unset = lvsplay({ LVSPLAY_VRRP_PASS: '' }, 'render', '-i', 'inventory/keepalived.yml', '--host', 'lb1');
  t.is(unset.status, 1);
  // placed at the field that names the variable (it was line 0)
  const at = readFileSync(repoPath('inventory/keepalived.yml'), 'utf8').split('\n').findIndex((l) => l.includes('auth_pass_env:')) + 1;
  t.regex(unset.stderr, new RegExp(`^inventory/keepalived\\.yml:${at}:\\d+ vrrp\\.default\\.auth_pass_env: environment variable LVSPLAY_VRRP_PASS is not set`, 'm'));
  const long = lvsplay({ LVSPLAY_VRRP_PASS: 'nine-char' }, 'render', '-i', 'inventory/keepalived.yml', '--host', 'lb1');
  t.is(long.status, 1);
  t.regex(long.stderr, new RegExp(`^inventory/keepalived\\.yml:${at}:\\d+ vrrp\\.default\\.auth_pass_env: expected a VRRP password of 1 to 8`, 'm'));
  t.false(long.stderr.includes('nine-char'));
});

test('test/lab/keepalived.yml validates with the shipped playbooks (same hosts and addresses as the lab, keepalived checks, a VRRP pair)', (t) => {
  const r = lvsplay({}, 'validate', '-i', 'test/lab/keepalived.yml', 'playbooks/bootstrap.yml', 'playbooks/check.yml', 'playbooks/failover-vrrp.yml');
  t.is(r.status, 0, r.stderr);
  const { cluster } = loadAll(repoPath('test/lab/keepalived.yml'), []);
  const lab = loadAll(repoPath('test/lab/inventory.yml'), []).cluster;
  t.deepEqual(cluster.directors.map((d) => [d.name, d.address, d.ssh.port, d.role, d.priority]), lab.directors.map((d) => [d.name, d.address, d.ssh.port, d.role, d.priority]));
  t.deepEqual(cluster.realServers.map((h) => [h.name, h.address, h.ssh.port]), lab.realServers.map((h) => [h.name, h.address, h.ssh.port]));
  t.deepEqual(cluster.services.map((s) => [s.name, s.vip, s.port, s.protocol, s.forwarding]), lab.services.map((s) => [s.name, s.vip, s.port, s.protocol, s.forwarding]));
  t.true(cluster.services.every((s) => s.managedBy === 'keepalived' && s.healthCheck !== undefined));
  t.is(cluster.vrrp.get('default')?.virtualRouterId, 51);
});
