/**
 * The `ipvs` resource end to end without hosts: desired state from an inventory, the probe
 * fragment run by sh against the fake ipvsadm (fake-ipvsadm.ts), parse, diff, the golden apply
 * script and rules file, and the plan settling once applied.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import test from 'ava';
import { parseInventory } from '../../src/inventory/load.js';
import type { Cluster } from '../../src/inventory/model.js';
import { TASK_ARGS } from '../../src/playbook/tasks.js';
import type { HostContext } from '../../src/resources/resource.js';
import { ipvs, type IpvsDesired } from '../../src/resources/ipvs/index.js';
import { IpvsProbeError } from '../../src/resources/ipvs/parse.js';
import { touchedDigest } from '../../src/resources/ipvs/batch-script.js';
import { saveText } from '../../src/resources/ipvs/lines.js';
import { sections } from '../support/facts.js';
import { Templates } from '../../src/templates/templates.js';
import { YamlSource } from '../../src/util/yaml-source.js';
import { Sim } from '../fixtures/ipvs/fake-ipvsadm.js';
import { FAKE_IPVSADM, fixturePath, runScript, simFrom } from '../fixtures/ipvs/support.js';
import type { IpvsTable } from '../../src/resources/ipvs/table.js';
import { cleanup, fakeCommands, syntaxError, tempDir } from '../support/sh.js';

const INVENTORY = (rulesFile: string) => `
rules_file: ${rulesFile}
# lvsplay's records and ldirectord's config under the test's temp folder: never the machine's.
state_dir: ${rulesFile.replace(/\/[^/]*$/, '/state')}
ldirectord: { config_file: ${rulesFile.replace(/\/[^/]*$/, '/ldirectord.cf')} }
directors:
  - { name: lb1, address: 192.0.2.5, role: primary, interface: { name: eth0, address: 192.0.2.5/24, address6: 2001:db8::5/64 } }
  - { name: lb2, address: 192.0.2.6, role: backup, interface: { name: eth0, address: 192.0.2.6/24, address6: 2001:db8::6/64 } }
  - { name: lb3, address: 192.0.2.7, role: primary, pair: other, interface: { name: eth0, address: 192.0.2.7/24, address6: 2001:db8::7/64 } }
real_servers:
  - { name: web1, address: 192.0.2.21, address6: 2001:db8::21 }
  - { name: web2, address: 192.0.2.22, address6: 2001:db8::22 }
  - { name: far1, address: 198.51.100.31 }
  - { name: app1, address: 192.0.2.41, gateway: 192.0.2.5 }
services:
  - name: web
    vip: 192.0.2.10
    port: 80
    persistence: { timeout: 300, netmask: 255.255.255.0 }
    real_servers:
      - { server: web1, weight: 3, port: 80 }
      - { server: web2, upper_threshold: 100, lower_threshold: 50 }
  - name: dns
    vip: 192.0.2.11
    port: 53
    protocol: udp
    scheduler: sh
    scheduler_flags: [sh-port, sh-fallback]
    one_packet: true
    real_servers: [{ server: web1 }, { server: web2, weight: 0 }]
  - name: api
    vip: 192.0.2.12
    port: 443
    forwarding: tun
    tunnel: { type: gue, port: 6080, checksum: csum }
    real_servers: [{ server: far1 }]
  - name: app
    vip: 192.0.2.13
    port: 8443
    scheduler: rr
    forwarding: nat
    real_servers: [{ server: app1, port: 443 }]
  - name: marked
    fwmark: 7
    family: ipv6
    scheduler: mh
    scheduler_flags: [mh-port]
    persistence: { timeout: 600, netmask: 64 }
    real_servers: [{ server: web1 }, { server: web2 }]
  - name: checked
    vip: 192.0.2.14
    port: 80
    health_check: { type: connect }
    real_servers: [{ server: web1 }]
  - name: elsewhere
    vip: 192.0.2.15
    port: 80
    directors: [lb3]
    real_servers: [{ server: web1 }]
`;

interface Lab {
  dir: string;
  cluster: Cluster;
  ctx: (host: string) => HostContext;
  desired: (host: string, args?: object) => IpvsDesired;
  /** Run a script with the fake ipvsadm first in PATH (state: `sim`), return its result and the new state. */
  sh: (script: string, sim: Sim) => { code: number; stdout: string; stderr: string; sim: Sim };
}

/** `bulk`: that many more services (192.0.2.200, ports 10000 and up, web1 only), for a large table. */
function lab(bulk = 0): Lab {
  const dir = tempDir('lvsplay-ipvs-');
  const more = Array.from({ length: bulk }, (_, i) => `  - { name: bulk${i}, vip: 192.0.2.200, port: ${10000 + i}, real_servers: [{ server: web1 }] }\n`).join('');
  const cluster = parseInventory(new YamlSource('ipvs.yml', INVENTORY(join(dir, 'ipvsadm.rules')) + more));
  const templates = new Templates();
  const ctx = (name: string): HostContext => ({ cluster, host: cluster.hosts.get(name)!, vars: {}, templates });
  const path = fakeCommands(dir, { ipvsadm: `exec ${JSON.stringify(process.execPath)} ${JSON.stringify(FAKE_IPVSADM)} "$@"` });
  const state = join(dir, 'state.json');
  return {
    dir, cluster, ctx,
    desired: (host, args = {}) => ipvs.desired(ctx(host), TASK_ARGS.ipvs.parse(args)),
    sh(script, sim) {
      writeFileSync(state, JSON.stringify(sim));
      const r = runScript(script, { cwd: dir, env: { PATH: path, FAKE_IPVSADM_STATE: state, FAKE_IPVSADM_LOG: join(dir, 'calls.log') } });
      return { ...r, sim: Sim.from(JSON.parse(readFileSync(state, 'utf8'))) };
    },
  };
}

/** probe → parse → diff on lb1, the probe run by sh against `sim`. */
function plan(l: Lab, sim: Sim, host = 'lb1', args: object = {}) {
  const desired = l.desired(host, args);
  const probe = ipvs.probe(desired, l.ctx(host));
  const out = l.sh(probe, sim);
  const actual = ipvs.parse(out.stdout, desired);
  return { desired, probe, actual, ...ipvs.diff(desired, actual, l.ctx(host)) };
}

function golden(t: import('ava').ExecutionContext, name: string, actual: string): void {
  const file = fixturePath(`golden/${name}`);
  if (process.env['UPDATE_GOLDEN'] === '1') writeFileSync(file, actual);
  t.is(actual, readFileSync(file, 'utf8'), `differs from test/fixtures/ipvs/golden/${name} (UPDATE_GOLDEN=1 rewrites it)`);
}

test.serial('desired: the lvsplay services lb1 carries, full spec; ldirectord\'s and the declared keys', (t) => {
  const l = lab();
  const d = l.desired('lb1');
  t.true(d.director);
  t.deepEqual([...d.table.services.keys()], ['tcp 192.0.2.10:80', 'udp 192.0.2.11:53', 'tcp 192.0.2.12:443', 'tcp 192.0.2.13:8443', 'fwmark 7 ipv6']);
  t.deepEqual([...d.foreign], ['tcp 192.0.2.14:80']);
  t.true(d.declared.has('tcp 192.0.2.15:80'));
  const s = d.table.services;
  t.like(s.get('udp 192.0.2.11:53'), { scheduler: 'sh', flags: 3, onePacket: true });
  t.like(s.get('fwmark 7 ipv6'), { scheduler: 'mh', flags: 2, persistence: { timeout: 600, netmask: '64' } });
  t.deepEqual([...s.get('fwmark 7 ipv6')!.dests.keys()], ['[2001:db8::21]:0', '[2001:db8::22]:0']);
  t.deepEqual(s.get('tcp 192.0.2.12:443')!.dests.get('198.51.100.31:443')?.tunnel, { type: 'gue', port: 6080, checksum: 'csum' });
  t.like(s.get('tcp 192.0.2.13:8443')!.dests.get('192.0.2.41:443'), { method: 'nat' });
  t.like(s.get('tcp 192.0.2.10:80')!.dests.get('192.0.2.22:80'), { upperThreshold: 100, lowerThreshold: 50 });
  t.is(d.rules?.path, join(l.dir, 'ipvsadm.rules'));
  t.is(l.desired('lb1', { save: false }).rules, undefined);
  cleanup(l.dir);
});

test.serial('the rules file: Debian\'s header, then the -S lines with -x/-y (golden)', (t) => {
  const l = lab();
  golden(t, 'ipvsadm.rules.lb1', l.desired('lb1').rules!.content);
  cleanup(l.dir);
});

test.serial('a real server: no table, a no-op probe, never a change', (t) => {
  const l = lab();
  const d = l.desired('web1');
  t.false(d.director);
  t.is(d.table.services.size, 0);
  const probe = ipvs.probe(d, l.ctx('web1'));
  t.is(syntaxError(probe), '');
  t.deepEqual(ipvs.diff(d, ipvs.parse('', d), l.ctx('web1')), { changes: [], script: '' });
  cleanup(l.dir);
});

test.serial('from an empty table: every service is added, then the rules file is written', (t) => {
  const l = lab();
  const p = plan(l, new Sim());
  t.is(syntaxError(p.probe), '');
  t.deepEqual(p.changes.map((c) => c.summary), [
    '+ add service tcp 192.0.2.10:80 wlc persistent 300 mask 255.255.255.0',
    '+ add real server 192.0.2.21:80 to tcp 192.0.2.10:80 (dr, weight 3)',
    '+ add real server 192.0.2.22:80 to tcp 192.0.2.10:80 (dr, weight 1, thresholds 100/50)',
    '+ add service tcp 192.0.2.12:443 wlc',
    '+ add real server 198.51.100.31:443 to tcp 192.0.2.12:443 (tun, weight 1, tunnel gue port 6080 csum)',
    '+ add service tcp 192.0.2.13:8443 rr',
    '+ add real server 192.0.2.41:443 to tcp 192.0.2.13:8443 (nat, weight 1)',
    '+ add service udp 192.0.2.11:53 sh (sh-fallback,sh-port) ops',
    '+ add real server 192.0.2.21:53 to udp 192.0.2.11:53 (dr, weight 1)',
    '+ add real server 192.0.2.22:53 to udp 192.0.2.11:53 (dr, weight 0)',
    '+ add service fwmark 7 ipv6 mh (mh-port) persistent 600 mask 64',
    '+ add real server [2001:db8::21]:0 to fwmark 7 ipv6 (dr, weight 1)',
    '+ add real server [2001:db8::22]:0 to fwmark 7 ipv6 (dr, weight 1)',
    '+ record of the IPVS services lvsplay manages here (5)',
    `+ file ${join(l.dir, 'ipvsadm.rules')}`,
  ]);
  t.is(syntaxError(p.script), '');

  // Apply, then plan again: nothing left, and the rules file is the desired one.
  const applied = l.sh(p.script, new Sim());
  t.is(applied.code, 0, applied.stderr);
  t.regex(applied.stdout, /^@@lvsplay-ipvs-applied 13$/m);
  t.is(readFileSync(join(l.dir, 'ipvsadm.rules'), 'utf8'), p.desired.rules!.content);
  const again = plan(l, applied.sim);
  t.deepEqual(again.changes, []);
  t.is(again.script, '');
  cleanup(l.dir);
});

test.serial('one weight changed: one batch line (golden apply script)', (t) => {
  const l = lab();
  const sim = l.sh(plan(l, new Sim()).script, new Sim()).sim;
  sim.restore('-e -t 192.0.2.10:80 -r 192.0.2.21:80 -g -w 5\n');
  const p = plan(l, sim);
  t.deepEqual(p.changes.map((c) => c.summary), ['~ weight 192.0.2.21:80 in tcp 192.0.2.10:80 5 → 3']);
  golden(t, 'apply.weight.sh', p.script);
  const applied = l.sh(p.script, sim);
  t.is(applied.code, 0, applied.stderr);
  t.deepEqual(plan(l, applied.sim).changes, []);
  cleanup(l.dir);
});

test.serial('a service lb1 does not carry but the inventory gives lvsplay is deleted; undeclared ones stay unless purge', (t) => {
  const l = lab();
  const sim = l.sh(plan(l, new Sim()).script, new Sim()).sim;
  sim.restore('-A -t 192.0.2.15:80 -s rr\n-A -t 192.0.2.99:80 -s rr\n-A -t 192.0.2.14:80 -s wrr\n-a -t 192.0.2.14:80 -r 192.0.2.21:80 -g -w 0\n');
  t.deepEqual(plan(l, sim).changes.map((c) => c.summary), ['- delete service tcp 192.0.2.15:80']);
  t.deepEqual(plan(l, sim, 'lb1', { purge: true }).changes.map((c) => c.summary), [
    '- delete service tcp 192.0.2.15:80',
    '- delete service tcp 192.0.2.99:80 (not in the inventory; purge)',
  ]);
  cleanup(l.dir);
});

test.serial('probe: ipvsadm missing, or ip_vs not loadable, is an error, never an empty table', (t) => {
  const l = lab();
  const d = l.desired('lb1');
  const probe = ipvs.probe(d, l.ctx('lb1'));
  const bare = runScript(probe, { cwd: l.dir, env: { PATH: fakeCommands(join(l.dir, 'none'), {}).split(':')[0]! + ':/usr/bin:/bin' } });
  if (!existsSync('/usr/bin/ipvsadm') && !existsSync('/bin/ipvsadm')) {
    t.throws(() => ipvs.parse(bare.stdout, d), { instanceOf: IpvsProbeError, message: 'ipvsadm -S -n: ipvsadm is not installed (not in PATH)' });
  }
  const broken = fakeCommands(join(l.dir, 'broken'), {
    ipvsadm: `echo "modprobe: FATAL: Module ip_vs not found in directory /lib/modules/6.1.0" >&2
echo "Can't initialize ipvs: Protocol not available" >&2
echo "Are you sure that IP Virtual Server is built in the kernel or as module?" >&2
exit 2`,
  });
  const out = runScript(probe, { cwd: l.dir, env: { PATH: broken } });
  t.is(out.code, 0);
  const err = t.throws(() => ipvs.parse(out.stdout, d), { instanceOf: IpvsProbeError });
  t.regex(err!.message, /^ipvsadm -S -n: exit 2: modprobe: FATAL: Module ip_vs not found .* Can't initialize ipvs: Protocol not available .* \(the ip_vs kernel module is missing or cannot be loaded\)$/);
  cleanup(l.dir);
});

test.serial('probe of a large table: the listing comes squeezed (no column padding), its counts intact, and the record by cat; a failing listing is still an error', (t) => {
  const small = lab();
  const smallProbe = ipvs.probe(small.desired('lb1'), small.ctx('lb1'));
  t.notRegex(smallProbe, /tr -s|cat --/, 'a small table: no process to shrink what is sent');
  cleanup(small.dir);
  const l = lab(120);
  const d = l.desired('lb1');
  const probe = ipvs.probe(d, l.ctx('lb1'));
  t.regex(probe, /\} \| tr -s ' '/);
  mkdirSync(dirname(d.record), { recursive: true });
  writeFileSync(d.record, 'tcp 192.0.2.10:80\ntcp 192.0.2.200:10000\n');
  const padded = fakeCommands(join(l.dir, 'padded'), {
    ipvsadm: `case "$1" in -S) printf '%s\\n' '-A -t 192.0.2.10:80 -s rr' '-a -t 192.0.2.10:80 -r 192.0.2.21:80 -g -w 1'; exit 0;; esac
printf 'IP Virtual Server version 1.2.1 (size=4096)\\nProt LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn\\n  -> RemoteAddress:Port\\n'
printf 'TCP  192.0.2.10:80 rr\\n  -> 192.0.2.21:80                 40         10         3          7         \\n'`,
  });
  const out = runScript(probe, { cwd: l.dir, env: { PATH: `${padded}:/usr/bin:/bin` } });
  t.is(out.code, 0, out.stderr);
  const listing = out.stdout.slice(out.stdout.indexOf('IP Virtual Server'), out.stdout.indexOf('# lvsplay: ok', out.stdout.indexOf('IP Virtual Server')));
  t.notRegex(listing, / {2}/, 'no run of blanks left');
  const actual = ipvs.parse(out.stdout, d);
  t.like(actual.table.services.get('tcp 192.0.2.10:80')?.dests.get('192.0.2.21:80'), { upperThreshold: 40, lowerThreshold: 10, conns: { active: 3, inactive: 7 } });
  t.deepEqual(actual.recorded, ['tcp 192.0.2.10:80', 'tcp 192.0.2.200:10000']);
  const failing = fakeCommands(join(l.dir, 'failing'), {
    ipvsadm: `case "$1" in -S) exit 0;; esac
echo "Memory  allocation problem" >&2
exit 1`,
  });
  const bad = runScript(probe, { cwd: l.dir, env: { PATH: `${failing}:/usr/bin:/bin` } });
  t.is(bad.code, 0);
  t.throws(() => ipvs.parse(bad.stdout, d), { instanceOf: IpvsProbeError, message: /^ipvsadm -L -n --thresholds: exit 1: Memory allocation problem/ });
  cleanup(l.dir);
});

test.serial('no facts at all (lvsplay render) plans the table from nothing', (t) => {
  const l = lab();
  const d = l.desired('lb1');
  const { changes, script } = ipvs.diff(d, ipvs.parse('', d), l.ctx('lb1'));
  t.is(changes.length, 15);
  t.regex(script, /ipvsadm -R < "\$d\/batch"/);
  cleanup(l.dir);
});

// ---------------------------------------------------------------- owners, records, foreign rules

const LIST_HEAD = 'IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Uthreshold Lthreshold ActiveConn InActConn\n  -> RemoteAddress:Port\n';

/** A probe's output as lb1's ipvs task would print it; thresholds as the model prints them for `table`. */
function facts(save: string, extra: { record?: string[]; ldirectord?: string; table?: IpvsTable; modules?: string } = {}): string {
  const list = extra.table ? simFrom(extra.table).list('thresholds') : LIST_HEAD;
  return sections([
    ['save', `${save}# lvsplay: ok\n`],
    ['thresholds', `${list}# lvsplay: ok\n`],
    ['record', extra.record === undefined ? '@@absent\n' : extra.record.map((l) => `${l}\n`).join('')],
    ['ldirectord', extra.ldirectord ?? ''],
    ...(extra.modules !== undefined ? [['modules', extra.modules] as [string, string]] : []),
  ]);
}

test.serial('a scheduler the director\'s kernel cannot load (its probe names the module) fails the plan, --check too, naming the director, the scheduler and every service using it, whoever owns it; modules it can load say nothing (was: planned as fine, then refused by ipvsadm at apply)', (t) => {
  const l = lab();
  const d = l.desired('lb1', { save: false });
  t.deepEqual([...d.modules.keys()].sort(), ['ip_vs_mh', 'ip_vs_rr', 'ip_vs_sh', 'ip_vs_wlc']);
  t.deepEqual(d.modules.get('ip_vs_wlc'), ['web (tcp 192.0.2.10:80)', 'api (tcp 192.0.2.12:443)', 'checked (tcp 192.0.2.14:80, ldirectord\'s)']);
  const settled = { record: [...d.table.services.keys()].sort(), table: d.table };
  const err = t.throws(() => ipvs.diff(d, ipvs.parse(facts(saveText(d.table), { ...settled, modules: 'ip_vs_mh\nip_vs_wlc\n' }), d), l.ctx('lb1')), { instanceOf: IpvsProbeError });
  t.is(err!.message, 'lb1\'s kernel has no scheduler mh (module ip_vs_mh), used by marked (fwmark 7 ipv6); no scheduler wlc (module ip_vs_wlc), used by web (tcp 192.0.2.10:80), api (tcp 192.0.2.12:443), checked (tcp 192.0.2.14:80, ldirectord\'s): the module is not loaded and modprobe cannot find it, so IPVS would refuse the service ("Scheduler or persistence engine not found"); use a scheduler this kernel has, or install its module');
  // Every module loadable (an empty part), a line that is no module of the desired state, or saved facts without the part: the plan as before.
  for (const modules of ['', 'ip_vs_twos\n', undefined]) t.deepEqual(ipvs.diff(d, ipvs.parse(facts(saveText(d.table), { ...settled, ...(modules !== undefined && { modules }) }), d), l.ctx('lb1')).changes, []);
  // A real server has no scheduler to load; its probe asks nothing.
  t.is(l.desired('web1').modules.size, 0);
  t.regex(ipvs.probe(d, l.ctx('lb1')), /for lvsplay_m in ip_vs_wlc ip_vs_sh ip_vs_rr ip_vs_mh; do\n[^]*"\$lvsplay_modprobe" -n -q -- "\$lvsplay_m"/);
  t.notRegex(ipvs.probe(l.desired('web1'), l.ctx('web1')), /modprobe/);
  cleanup(l.dir);
});

test.serial('a rule lvsplay cannot read (a bare -b, a non-contiguous -M, garbage) that is not lvsplay\'s is left alone; the run goes on (regression: the host failed at probe)', (t) => {
  const l = lab();
  const d = l.desired('lb1', { save: false });
  const mine = saveText(d.table);
  const foreign = '-A -t 192.0.2.99:80 -s sh -b \n-A -t 192.0.2.98:80 -s rr -p 300 -M 255.0.255.0\n-A -t 192.0.2.97:80 -s rr --frobnicate\n';
  const o = ipvs.diff(d, ipvs.parse(facts(foreign + mine, { record: [...d.table.services.keys()].sort(), table: d.table }), d), l.ctx('lb1'));
  t.deepEqual(o.changes, []);
  cleanup(l.dir);
});

test.serial('one of lvsplay\'s own services that cannot be read back is an error naming it (never silently replanned)', (t) => {
  const l = lab();
  const d = l.desired('lb1', { save: false });
  const broken = saveText(d.table).replace('-A -t 192.0.2.10:80 -s wlc -p 300 -M 255.255.255.0', '-A -t 192.0.2.10:80 -s wlc -p 300 -M 255.255.255.0 --frobnicate');
  const err = t.throws(() => ipvs.diff(d, ipvs.parse(facts(broken), d), l.ctx('lb1')), { instanceOf: IpvsProbeError });
  t.regex(err!.message, /^lvsplay's service tcp 192\.0\.2\.10:80 cannot be read back: cannot read ipvsadm -S -n output, line 1: unknown option "--frobnicate"/);
  cleanup(l.dir);
});

test.serial('what lvsplay made here and the inventory no longer declares anywhere is deleted (its record); what it never made stays', (t) => {
  const l = lab();
  const d = l.desired('lb1', { save: false });
  const gone = '-A -t 192.0.2.77:80 -s rr\n-a -t 192.0.2.77:80 -r 192.0.2.21:80 -g -w 1\n-A -t 192.0.2.88:80 -s rr\n';
  const o = ipvs.diff(d, ipvs.parse(facts(gone + saveText(d.table), { record: [...d.table.services.keys(), 'tcp 192.0.2.77:80'].sort(), table: d.table }), d), l.ctx('lb1'));
  t.deepEqual(o.changes.map((c) => c.summary), ['- delete service tcp 192.0.2.77:80 and its 1 real server', '~ record of the IPVS services lvsplay manages here (5)']);
  cleanup(l.dir);
});

test.serial('a service moving from ldirectord to lvsplay is planned as new: ldirectord releases it first (its task runs before ipvs)', (t) => {
  const l = lab();
  const d = l.desired('lb1', { save: false });
  const ldirectords = '-A -t 192.0.2.10:80 -s wrr\n-a -t 192.0.2.10:80 -r 192.0.2.21:80 -g -w 1\n';
  const rest = saveText(d.table).split('\n').filter((line) => !line.includes('192.0.2.10:80') && line !== '').map((x) => `${x}\n`).join('');
  const o = ipvs.diff(d, ipvs.parse(facts(ldirectords + rest, { record: [...d.table.services.keys()].filter((k) => k !== 'tcp 192.0.2.10:80'), ldirectord: 'virtual=192.0.2.10:80\n\tprotocol=tcp\n' }), d), l.ctx('lb1'));
  t.deepEqual(o.changes.map((c) => c.summary).slice(0, 3), [
    '+ add service tcp 192.0.2.10:80 wlc persistent 300 mask 255.255.255.0',
    '+ add real server 192.0.2.21:80 to tcp 192.0.2.10:80 (dr, weight 3)',
    '+ add real server 192.0.2.22:80 to tcp 192.0.2.10:80 (dr, weight 1, thresholds 100/50)',
  ]);
  // The stale check expects the service gone (ldirectord's reload deleted it), not as probed.
  const probedSha = /^probed=(\S+)$/m.exec(o.script)?.[1];
  t.is(probedSha, touchedDigest('', new Set(['-t 192.0.2.10:80'])));
  cleanup(l.dir);
});
