/**
 * What each resource does with the facts it is given: idempotence (a host exactly as desired
 * gives no change and no script), changes with before/after, and each resource's own rules.
 */
import { createHash } from 'node:crypto';
import test from 'ava';
import fc from 'fast-check';
import type { TaskKind } from '../../src/playbook/tasks.js';
import type { AddressDesired } from '../../src/resources/address/index.js';
import type { FileDesired } from '../../src/resources/file/index.js';
import type { LdirectordDesired } from '../../src/resources/ldirectord/index.js';
import type { BootDesired } from '../../src/resources/boot/index.js';
import type { SysctlDesired } from '../../src/resources/sysctl/index.js';
import { procPath } from '../../src/resources/sysctl/keys.js';
import { SYSCTL_FILE } from '../../src/inventory/host-files.js';
import { canonicalAddress } from '../../src/inventory/addresses.js';
import { readFileSync } from 'node:fs';
import { ctxFor, exampleCluster, exampleWith, hostOf } from '../support/cluster.js';
import { repoFile } from '../support/paths.js';
import { addressProbe, baseLines, fileProbeOutput, ipLine, satisfied, section, statMode, sysctlValues } from '../support/facts.js';
import { revealSecrets } from '../../src/util/secret.js';
import { run } from '../support/resources.js';
import { vrrpData } from '../../src/resources/keepalived/conf.js';
import type { Director } from '../../src/inventory/model.js';
import { shellWord, syntaxError } from '../support/sh.js';

const ALL_HOSTS = ['lb1', 'lb2', 'web1', 'web2', 'web3', 'far1', 'far2', 'app1', 'app2'];
const FILE_ARGS = { path: '/etc/motd', template: 'site/motd.hbs', mode: '0644', on_change: { reload: 'motd-news' } };

/** What a file write script's printf writes: its single-quoted word, unquoted (or its base64, decoded). */
function writtenContent(script: string): string | undefined {
  const b64 = /printf '%s' '?([A-Za-z0-9+/=]*)'? \| base64 -d/.exec(script);
  if (b64) return Buffer.from(b64[1]!, 'base64').toString('utf8');
  const start = script.indexOf("\nprintf '%s' ");
  return start < 0 ? undefined : shellWord(script.slice(start + "\nprintf '%s' ".length));
}

// ---------------------------------------------------------------- idempotence, every resource

function hostAddresses(name: string) {
  const h = hostOf(exampleCluster(), name);
  return { address: h.address, ...(h.address6 && { address6: h.address6 }) };
}

const idempotent: { kind: TaskKind; args?: unknown; facts: (desired: unknown, host: string) => string }[] = [
  { kind: 'sysctl', facts: (d) => satisfied.sysctl(d as SysctlDesired) },
  { kind: 'sysctl', args: { persist: false }, facts: (d) => satisfied.sysctl(d as SysctlDesired) },
  { kind: 'sysctl', args: { extra: { 'net.core.somaxconn': 4096, 'net.ipv4.vs.conntrack': 1 } }, facts: (d) => satisfied.sysctl(d as SysctlDesired) },
  { kind: 'address', facts: (d, host) => satisfied.address(d as AddressDesired, hostAddresses(host)) },
  { kind: 'boot', facts: (d) => satisfied.boot(d as BootDesired) },
  { kind: 'file', args: FILE_ARGS, facts: (d) => satisfied.file(d as FileDesired) },
  { kind: 'file', args: { ...FILE_ARGS, mode: '0600' }, facts: (d) => satisfied.file(d as FileDesired) },
  { kind: 'ldirectord', facts: (d) => satisfied.ldirectord(d as LdirectordDesired) },
  { kind: 'package', args: { names: ['ipvsadm', 'ldirectord'] }, facts: () => satisfied.package(['ipvsadm', 'ldirectord'], 'present') },
  { kind: 'package', args: { names: ['heartbeat'], state: 'absent' }, facts: () => satisfied.package(['heartbeat'], 'absent') },
  { kind: 'service', args: { name: 'ldirectord', enabled: true }, facts: () => satisfied.service('started', true) },
  { kind: 'service', args: { name: 'keepalived', state: 'stopped', enabled: false }, facts: () => satisfied.service('stopped', false) },
  { kind: 'service', args: { name: 'ipvsadm' }, facts: () => satisfied.service('started', false) },
  { kind: 'shell', args: { template: 'site/hello.sh.hbs', check: 'test -f /etc/lvsplay/hello' }, facts: () => 'done\n' },
];

for (const [i, c] of idempotent.entries()) {
  test(`idempotent: ${c.kind} #${i} ${JSON.stringify(c.args ?? {})} on every example host`, (t) => {
    for (const host of ALL_HOSTS) {
      const ctx = ctxFor(host);
      const first = run(c.kind, ctx, c.args ?? {}, '');
      const again = run(c.kind, ctx, c.args ?? {}, c.facts(first.desired, host));
      t.deepEqual(again.changes, [], `${host}: facts equal to the desired state give no change`);
      t.is(again.script, '', `${host}: and no script`);
    }
  });
}

test('idempotent (property): sysctl with random extra keys, persisted or not', (t) => {
  const key = fc.tuple(fc.constantFrom('net', 'vm', 'kernel'), fc.array(fc.stringMatching(/^[a-z0-9_]{1,8}$/), { minLength: 1, maxLength: 3 })).map(([a, rest]) => [a, ...rest].join('.'));
  const value = fc.oneof(fc.integer({ min: -5, max: 1 << 20 }), fc.stringMatching(/^[A-Za-z0-9._:-]{1,12}$/));
  fc.assert(
    fc.property(fc.dictionary(key, value, { maxKeys: 5 }), fc.boolean(), fc.constantFrom('web1', 'far1', 'lb1', 'app1'), (extra, persist, host) => {
      const ctx = ctxFor(host);
      const first = run('sysctl', ctx, { extra, persist }, '');
      const again = run('sysctl', ctx, { extra, persist }, satisfied.sysctl(first.desired as SysctlDesired));
      return again.changes.length === 0 && again.script === '';
    }),
    { numRuns: 60 },
  );
  t.pass();
});

test('idempotent (property): a file with any valid mode, as stat prints it', (t) => {
  const failures: string[] = [];
  for (let m = 0; m < 0o1000; m++) {
    const mode = `0${m.toString(8).padStart(3, '0')}`;
    const ctx = ctxFor('web1');
    const first = run('file', ctx, { ...FILE_ARGS, mode }, '');
    const again = run('file', ctx, { ...FILE_ARGS, mode }, fileProbeOutput((first.desired as FileDesired).content, statMode(mode)));
    if (again.changes.length > 0) failures.push(mode);
  }
  const example = run('file', ctxFor('web1'), { ...FILE_ARGS, mode: '0000' }, fileProbeOutput((run('file', ctxFor('web1'), FILE_ARGS, '').desired as FileDesired).content, '0'));
  t.deepEqual(failures, [], `modes reported changed on every run (stat -c %a prints "0" for 0000, "40" for 0040): ${example.changes[0]?.summary ?? ''}`);
});

// ---------------------------------------------------------------- sysctl

test('sysctl: a key the kernel lacks (<absent>) is an add; a differing one a change with before/after', (t) => {
  const facts = section('values', sysctlValues([
    ['net.ipv4.conf.all.arp_ignore', undefined], ['net.ipv4.conf.all.arp_announce', '0'],
    ['net.ipv4.conf.lo.arp_ignore', '1'], ['net.ipv4.conf.lo.arp_announce', '2'],
  ]));
  const o = run('sysctl', ctxFor('web1'), { persist: false }, facts);
  t.deepEqual(o.changes, [
    { id: 'net.ipv4.conf.all.arp_ignore', action: 'add', summary: '+ sysctl net.ipv4.conf.all.arp_ignore = 1', after: '1' },
    { id: 'net.ipv4.conf.all.arp_announce', action: 'change', summary: '~ sysctl net.ipv4.conf.all.arp_announce 0 → 2', before: '0', after: '2' },
    // what they were before lvsplay, to put back when no longer needed
    { id: '/var/lib/lvsplay/sysctls', action: 'add', summary: '+ record of the sysctls lvsplay manages here (2)', before: '', after: '/proc/sys/net/ipv4/conf/all/arp_announce 0\n/proc/sys/net/ipv4/conf/all/arp_ignore @@absent\n' },
  ]);
  t.true(o.script.startsWith("# sysctl: runtime values, written to /proc/sys as sysctl -w does\nprintf '%s\\n' 1 > /proc/sys/net/ipv4/conf/all/arp_ignore\nprintf '%s\\n' 2 > /proc/sys/net/ipv4/conf/all/arp_announce\n"), o.script);
});

test('sysctl: a recorded path outside /proc/sys (a hand edit: the value would be written back there) stops the host\'s plan; a well-formed record is read', (t) => {
  const values = section('values', sysctlValues([
    ['net.ipv4.conf.all.arp_ignore', '1'], ['net.ipv4.conf.all.arp_announce', '2'], ['net.ipv4.conf.lo.arp_ignore', '1'], ['net.ipv4.conf.lo.arp_announce', '2'],
  ]));
  for (const bad of ['/proc/sys/../../etc/passwd x', '/etc/passwd x', '/proc/sys/net/ipv4/ip_forward', '/proc/sys/ 1', '/proc/sys/net/./x 1']) {
    const err = t.throws(() => run('sysctl', ctxFor('web1'), { persist: false }, values + section('record', `@@was /proc/sys/net/ipv4/conf/all/arp_ignore 0\n@@was ${bad}\n`)), undefined, bad);
    t.true(err?.message.startsWith(`lvsplay's record <state_dir>/sysctls, line 2: ${JSON.stringify(bad)} is not a line lvsplay writes there (/proc/sys/PATH VALUE)`), err?.message);
  }
  const o = run('sysctl', ctxFor('web1'), { persist: false }, values + section('record', '@@was /proc/sys/net/ipv4/conf/all/arp_ignore 0\n@@was /proc/sys/net/ipv4/conf/eth0.100/rp_filter 1\n/proc/sys/net/ipv4/conf/eth0.100/rp_filter:0\n'));
  t.true(o.script.includes("printf '%s\\n' 1 > /proc/sys/net/ipv4/conf/eth0.100/rp_filter\n"), o.script);
});

test('sysctl: extra values from the task args join the role ones, numbers as text; a role key repeated (another spelling) is written once', (t) => {
  const o = run('sysctl', ctxFor('web1'), { extra: { 'net/ipv4/conf/all/arp_announce': 2, 'net.ipv4.tcp_rmem': '4096 87380 6291456' }, persist: false }, '');
  t.deepEqual((o.desired as SysctlDesired).values, [
    { key: 'net.ipv4.conf.all.arp_ignore', value: '1' },
    { key: 'net.ipv4.conf.all.arp_announce', value: '2' },
    { key: 'net.ipv4.conf.lo.arp_ignore', value: '1' },
    { key: 'net.ipv4.conf.lo.arp_announce', value: '2' },
    { key: 'net.ipv4.tcp_rmem', value: '4096 87380 6291456' },
  ]);
  t.true(o.script.includes(`printf '%s\\n' '4096 87380 6291456' > /proc/sys/net/ipv4/tcp_rmem`), o.script);
  t.is(o.script.split('/proc/sys/net/ipv4/conf/all/arp_announce\n').length, 2, 'one write of the key');
});

test('sysctl: a multi-value key printed with tabs by sysctl -n matches the value written with spaces', (t) => {
  const facts = section('values', sysctlValues([['net.ipv4.tcp_rmem', '4096\t87380\t6291456']]));
  const o = run('sysctl', ctxFor('app1'), { extra: { 'net.ipv4.tcp_rmem': '4096 87380 6291456' }, persist: false }, facts);
  t.deepEqual(o.changes, []);
});

test('sysctl: keys map to /proc/sys as sysctl(8) reads them (a / stands for a dot in a name unless it comes first)', (t) => {
  t.is(procPath('net.ipv4.ip_forward'), '/proc/sys/net/ipv4/ip_forward');
  t.is(procPath('net.ipv4.conf.eth0/100.rp_filter'), '/proc/sys/net/ipv4/conf/eth0.100/rp_filter');
  t.is(procPath('net/ipv4/conf/eth0.100/rp_filter'), '/proc/sys/net/ipv4/conf/eth0.100/rp_filter');
  // the probe's grep -H lines and absent markers parse back per key, a multi-word value with single spaces
  const o = run('sysctl', ctxFor('web1'), { persist: false, extra: { 'net.ipv4.conf.eth0/100.rp_filter': 2, 'net.ipv4.ip_local_port_range': '20000 60999' } },
    section('values', '/proc/sys/net/ipv4/conf/all/arp_ignore:1\n/proc/sys/net/ipv4/conf/all/arp_announce:2\n/proc/sys/net/ipv4/conf/lo/arp_ignore:1\n/proc/sys/net/ipv4/conf/lo/arp_announce:2\n'
      + '@@absent /proc/sys/net/ipv4/conf/eth0.100/rp_filter\n/proc/sys/net/ipv4/ip_local_port_range:20000\t60999\n'));
  t.deepEqual(o.changes.map((c) => c.summary), ['+ sysctl net.ipv4.conf.eth0/100.rp_filter = 2']);
});

test('sysctl: persist:false writes no file, even when the probe output has a file part', (t) => {
  const o = run('sysctl', ctxFor('lb1'), { persist: false }, section('values', sysctlValues([['net.ipv4.ip_forward', '0'], ['net.ipv4.vs.expire_nodest_conn', '1'], ['net.ipv4.vs.expire_quiescent_template', '1'], ['net.ipv6.conf.eth0.ndisc_notify', '1']])) + section('file', 'absent\n'));
  t.is((o.desired as SysctlDesired).file, undefined);
  t.false(o.probe.includes(SYSCTL_FILE), 'no file probe');
  t.deepEqual(o.changes.map((c) => c.id), ['net.ipv4.ip_forward', '/var/lib/lvsplay/sysctls']);
  t.false(o.script.includes(SYSCTL_FILE), o.script);
});

test('sysctl: a director carrying an IPv6 VIP gets ndisc_notify on its VIP interface (the kernel then announces a VIP it takes)', (t) => {
  const values = (run('sysctl', ctxFor('lb1'), {}, '').desired as SysctlDesired).values;
  t.deepEqual(values, [
    { key: 'net.ipv4.ip_forward', value: '1' },
    { key: 'net.ipv4.vs.expire_nodest_conn', value: '1' },
    { key: 'net.ipv4.vs.expire_quiescent_template', value: '1' },
    { key: 'net.ipv6.conf.eth0.ndisc_notify', value: '1' },
  ]);
});

test('sysctl: a host with no role sysctls and no extra has nothing to do, not even a file', (t) => {
  const o = run('sysctl', ctxFor('app1'), {}, '');
  t.like(o.desired, { values: [], owned: [] });
  t.deepEqual(o.changes, []);
  t.is(o.script, '');
});

test('sysctl: the persisted file holds every value, for this host', (t) => {
  const o = run('sysctl', ctxFor('far1'), {}, '');
  const file = (o.desired as SysctlDesired).file!;
  t.is(file.path, SYSCTL_FILE);
  t.is(file.mode, '0644');
  t.true(file.content.startsWith('# Managed by lvsplay: LVS sysctls for far1.'));
  t.true(file.content.includes('net.ipv4.conf.tunl0.rp_filter = 0\n'));
  t.is(writtenContent(o.script), file.content);
});

test('sysctl: the file already right but the values not: only the runtime values change', (t) => {
  const first = run('sysctl', ctxFor('lb1'), {}, '');
  const file = (first.desired as SysctlDesired).file!;
  const o = run('sysctl', ctxFor('lb1'), {}, section('values', sysctlValues([['net.ipv4.ip_forward', '0'], ['net.ipv4.vs.expire_nodest_conn', '1'], ['net.ipv4.vs.expire_quiescent_template', '1'], ['net.ipv6.conf.eth0.ndisc_notify', '1']])) + section('file', fileProbeOutput(file.content)));
  t.deepEqual(o.changes.map((c) => c.action + ' ' + c.id), ['change net.ipv4.ip_forward', 'add /var/lib/lvsplay/sysctls']);
  t.false(o.script.includes(SYSCTL_FILE));
});

// ---------------------------------------------------------------- address

const HEADER = '# address: tunnel device, VIPs, default route, and lvsplay\'s record of the addresses it manages\n';
const WEB1_RECORD = ['192.0.2.10/32 lo', '192.0.2.11/32 lo', '2001:db8::10/128 lo'];

test('address: a DR VIP on lo with the wrong broadcast is deleted then added with brd = VIP', (t) => {
  const facts = addressProbe([
    ...baseLines('192.0.2.21', '2001:db8::21'),
    ipLine(1, 'lo', '192.0.2.10/32', { brd: '192.0.2.255' }),
    ipLine(1, 'lo', '192.0.2.11/32', { brd: '192.0.2.11' }),
    ipLine(1, 'lo', '2001:db8::10/128'),
  ], 'none', '', WEB1_RECORD);
  const o = run('address', ctxFor('web1'), {}, facts);
  t.deepEqual(o.changes, [{
    id: '192.0.2.10/32', action: 'change', summary: '~ address 192.0.2.10/32 brd 192.0.2.255 on lo → 192.0.2.10/32 brd 192.0.2.10 on lo',
    before: '192.0.2.10/32 brd 192.0.2.255 on lo', after: '192.0.2.10/32 brd 192.0.2.10 on lo',
  }]);
  t.is(o.script, `${HEADER}ip addr del 192.0.2.10/32 dev lo\nip addr add 192.0.2.10/32 brd 192.0.2.10 dev lo\n\n`);
});

test('address: presence is decided by the address alone: a DR VIP at another prefix, or on another device, is replaced (regression: a /24 on lo stayed, a /32 went beside it)', (t) => {
  const facts = addressProbe([
    ...baseLines('192.0.2.21', '2001:db8::21'),
    ipLine(1, 'lo', '192.0.2.10/24', { brd: '192.0.2.255' }),
    ipLine(2, 'eth0', '192.0.2.11/32'),
    ipLine(1, 'lo', '2001:db8::10/128'),
  ], 'none', '', WEB1_RECORD);
  const o = run('address', ctxFor('web1'), {}, facts);
  t.deepEqual(o.changes.map((c) => c.summary), [
    '~ address 192.0.2.10/24 brd 192.0.2.255 on lo → 192.0.2.10/32 brd 192.0.2.10 on lo',
    '~ address 192.0.2.11/32 on eth0 → 192.0.2.11/32 brd 192.0.2.11 on lo',
  ]);
  t.deepEqual(o.script.split('\n').filter((l) => l.startsWith('ip ')), [
    'ip addr del 192.0.2.10/24 dev lo', 'ip addr del 192.0.2.11/32 dev eth0',
    'ip addr add 192.0.2.10/32 brd 192.0.2.10 dev lo', 'ip addr add 192.0.2.11/32 brd 192.0.2.11 dev lo',
  ]);
});

test('address: IPv6 as the kernel prints it, or spelt out, is the same address', (t) => {
  const facts = addressProbe([
    ...baseLines('192.0.2.21'),
    ipLine(1, 'lo', '192.0.2.10/32', { brd: '192.0.2.10' }),
    ipLine(1, 'lo', '192.0.2.11/32', { brd: '192.0.2.11' }),
    ipLine(1, 'lo', '2001:0db8:0000:0000:0000:0000:0000:0010/128'),
  ], 'none', '', WEB1_RECORD);
  t.deepEqual(run('address', ctxFor('web1'), {}, facts).changes, []);
});

test('address: tunl0 down comes first, and its script loads ipip and raises tunl0 before any address', (t) => {
  const facts = addressProbe([...baseLines('198.51.100.31'), ipLine(5, 'tunl0', '192.0.2.12/32', { link: '@NONE' })], 'down', '', ['192.0.2.12/32 tunl0']);
  const o = run('address', ctxFor('far1'), {}, facts);
  t.deepEqual(o.changes, [{ id: 'tunl0', action: 'change', summary: '~ tunl0 down → up (ipip loaded)', before: 'down', after: 'up' }]);
  t.deepEqual(o.script.split('\n').filter((l) => l && !l.startsWith('#')), ['modprobe ipip', 'ip link set tunl0 up']);
  const empty = run('address', ctxFor('far1'), {}, '');
  t.is(empty.changes[0]!.id, 'tunl0');
  const lines = empty.script.split('\n').filter((l) => l.startsWith('ip ') || l.startsWith('modprobe'));
  t.deepEqual(lines, ['modprobe ipip', 'ip link set tunl0 up', 'ip addr add 192.0.2.12/32 dev tunl0']);
});

test('address: a backup holds no cluster VIP on any device at any prefix (regression: a /24 copy was "ok" and kept answering ARP)', (t) => {
  const facts = addressProbe([
    ...baseLines('192.0.2.6'),
    ipLine(2, 'eth0', '192.0.2.12/32', { label: 'eth0:3' }),
    ipLine(1, 'lo', '192.0.2.10/32'),
    ipLine(2, 'eth0', '192.0.2.11/24', { brd: '192.0.2.255' }),
    ipLine(2, 'eth0', '192.0.2.99/32'),
  ], 'none', '', []);
  const o = run('address', ctxFor('lb2'), {}, facts);
  t.deepEqual(o.changes.map((c) => c.summary), ['- address 192.0.2.12/32 on eth0', '- address 192.0.2.10/32 on lo', '- address 192.0.2.11/24 brd 192.0.2.255 on eth0']);
  t.deepEqual(o.script.split('\n').filter((l) => l.startsWith('ip ')), ['ip addr del 192.0.2.12/32 dev eth0', 'ip addr del 192.0.2.10/32 dev lo', 'ip addr del 192.0.2.11/24 dev eth0']);
  const desired = o.desired as AddressDesired;
  t.deepEqual(desired.present, []);
  t.deepEqual(desired.absent, ['192.0.2.10', '192.0.2.11', '192.0.2.12', '192.0.2.13', '2001:db8::10', '203.0.113.1']);
});

test('address: what lvsplay added before and the inventory no longer wants is removed (its record); what it never added is left alone', (t) => {
  const facts = addressProbe([
    ...baseLines('192.0.2.21', '2001:db8::21'),
    ipLine(1, 'lo', '192.0.2.10/32', { brd: '192.0.2.10' }), ipLine(1, 'lo', '192.0.2.11/32', { brd: '192.0.2.11' }), ipLine(1, 'lo', '2001:db8::10/128'),
    ipLine(1, 'lo', '192.0.2.77/32', { brd: '192.0.2.77' }), ipLine(1, 'lo', '192.0.2.88/32'),
  ], 'none', '', [...WEB1_RECORD, '192.0.2.77/32 lo']);
  const o = run('address', ctxFor('web1'), {}, facts);
  t.deepEqual(o.changes.map((c) => c.summary), ['- address 192.0.2.77/32 brd 192.0.2.77 on lo', '~ record of the addresses lvsplay manages here (3)']);
  t.true(o.script.includes('ip addr del 192.0.2.77/32 dev lo\n'));
  t.false(o.script.includes('192.0.2.88'), 'never recorded, not a VIP of the cluster: not lvsplay\'s');
  t.true(o.script.includes("lvsplay_p=/var/lib/lvsplay/addresses\n"), 'the record is rewritten');
});

test('address: a record line lvsplay did not write (a hand edit) stops the host\'s plan with the line and what a line is, never a library\'s error', (t) => {
  const lines = baseLines('192.0.2.21', '2001:db8::21');
  for (const bad of ['not:an-address/32 lo', '# hand-edited', '192.0.2.10/33 lo', '192.0.2.10 lo', '192.0.2.10/32', '192.0.2.10/32 lo extra', 'fe80::1%eth0/64 eth0', '192.0.2.10/32 lo;reboot']) {
    const err = t.throws(() => run('address', ctxFor('web1'), {}, addressProbe(lines, 'none', '', [...WEB1_RECORD, bad])), undefined, bad);
    t.is(err?.message, `lvsplay's record <state_dir>/addresses, line ${WEB1_RECORD.length + 1}: ${JSON.stringify(bad)} is not a line lvsplay writes there (ADDRESS/PREFIX DEVICE); lvsplay acts on its records and does not guess: correct or delete the line on the host`);
  }
  // What lvsplay writes reads back: IPv4, IPv6, aliases' devices.
  t.notThrows(() => run('address', ctxFor('web1'), {}, addressProbe(lines, 'none', '', [...WEB1_RECORD, '2001:db8::77/128 lo', '198.51.100.1/24 eth1.100'])));
});

test('address: the primary holds every VIP and the NAT gateway (with its prefix) on its VIP interface', (t) => {
  const desired = run('address', ctxFor('lb1'), {}, '').desired as AddressDesired;
  t.deepEqual(desired, {
    present: [
      { device: 'eth0', address: '192.0.2.10', prefix: 32 },
      { device: 'eth0', address: '192.0.2.11', prefix: 32 },
      { device: 'eth0', address: '192.0.2.12', prefix: 32 },
      { device: 'eth0', address: '192.0.2.13', prefix: 32 },
      { device: 'eth0', address: '2001:db8::10', prefix: 128 },
      { device: 'eth0', address: '203.0.113.1', prefix: 24 },
    ],
    absent: [],
    tunnel: false,
    record: '/var/lib/lvsplay/addresses',
  });
});

test('address: a NAT real server routes through its gateway; the same route is no change', (t) => {
  const o = run('address', ctxFor('app1'), {}, addressProbe(baseLines('203.0.113.41'), 'none', '203.0.113.1', []));
  t.deepEqual(o.changes, []);
  const none = run('address', ctxFor('app1'), {}, addressProbe(baseLines('203.0.113.41'), 'none', '', []));
  t.is(none.changes.length, 1);
  t.like(none.changes[0], { id: 'default route', action: 'add', after: '203.0.113.1' });
  t.true(none.script.includes('ip -4 route replace default via 203.0.113.1'));
});

test('address: a change summary starts with the sign of its action (+ add, ~ change, - delete)', (t) => {
  const sign = { add: '+', change: '~', delete: '-' } as const;
  const outcomes = [
    run('address', ctxFor('app1'), {}, ''),
    run('address', ctxFor('web1'), {}, ''),
    run('address', ctxFor('far1'), {}, ''),
  ];
  for (const c of outcomes.flatMap((o) => o.changes)) t.is(c.summary[0], sign[c.action], `${c.action}: ${c.summary}`);
});

test('address: a director VIP interface with an alias label (eth0:1, which the inventory allows) is seen as held', (t) => {
  const cluster = exampleWith(['interface: { name: eth0, address: 192.0.2.5/24', 'interface: { name: eth0:1, address: 192.0.2.5/24']);
  const ctx = ctxFor('lb1', { cluster });
  const first = run('address', ctx, {}, '');
  // What the kernel shows once the VIPs are held on eth0 with the label eth0:1 (ip -o prints the device, then the label last)
  const held = (first.desired as AddressDesired).present.map((a) => ipLine(2, 'eth0', `${a.address}/${a.prefix}`, { label: 'eth0:1' }));
  const record = (first.desired as AddressDesired).present.map((a) => `${a.address}/${a.prefix} ${a.device}`).sort();
  const again = run('address', ctx, {}, addressProbe([...baseLines('192.0.2.5', '2001:db8::5'), ...held], 'none', '', record));
  t.deepEqual(again.changes.map((c) => c.summary), [], 'every run re-adds the VIPs, and `ip addr add` then fails with "File exists"');
});

/** The example with both directors on a second network, 203.0.113.0/24 (eth1), the NAT real servers' (issue 12). */
const twoNicExample = (...more: [string, string][]) => exampleWith(
  ['interface: { name: eth0, address: 192.0.2.5/24, address6: 2001:db8::5/64 }', 'interfaces: [{ name: eth0, address: 192.0.2.5/24, address6: 2001:db8::5/64 }, { name: eth1, address: 203.0.113.5/24 }]'],
  ['interface: { name: eth0, address: 192.0.2.6/24, address6: 2001:db8::6/64 }', 'interfaces: [{ name: eth0, address: 192.0.2.6/24, address6: 2001:db8::6/64 }, { name: eth1, address: 203.0.113.6/24 }]'],
  ...more);

test('address, boot, keepalived: a two-NIC director holds the NAT gateway on the real servers\' interface and the VIPs on theirs', (t) => {
  const cluster = twoNicExample();
  const lb1 = run('address', ctxFor('lb1', { cluster }), {}, '');
  const present = (lb1.desired as AddressDesired).present.map((a) => `${a.address}/${a.prefix} ${a.device}`);
  t.true(present.includes('203.0.113.1/24 eth1'), present.join('\n'));
  t.true(present.includes('192.0.2.10/32 eth0'), present.join('\n'));
  t.true(present.includes('2001:db8::10/128 eth0'), present.join('\n'));
  t.true(lb1.script.includes('203.0.113.1/24') && /ip addr add 203\.0\.113\.1\/24 dev eth1\n/.test(lb1.script), 'the apply puts it on eth1 (and announces it there)');
  t.true(lb1.script.includes('garp eth1 203.0.113.1 '), 'gratuitous ARP from eth1');
  const unit = fileNamed(run('boot', ctxFor('lb1', { cluster }), {}, ''), '/etc/systemd/system/lvsplay-network.service');
  t.true(unit.includes('ExecStart=ip addr replace 203.0.113.1/24 dev eth1\n'), unit);
  t.true(unit.includes('ExecStart=ip addr replace 192.0.2.10/32 dev eth0\n'), unit);
  const vrrp = vrrpData(twoNicExample(['nat_gateway: 203.0.113.1/24', 'nat_gateway: 203.0.113.1/24\nvrrp:\n  default: {}']), hostOf(cluster, 'lb1') as Director, undefined);
  t.true(vrrp?.addresses.includes('203.0.113.1/24 dev eth1'), vrrp?.addresses.join('\n'));
  t.true(vrrp?.addresses.includes('192.0.2.10/32 dev eth0'), vrrp?.addresses.join('\n'));
  t.is(vrrp?.interface, 'eth0', 'VRRP adverts on the main interface');
});

test('address: with one interface, a NAT gateway outside its subnet stays on it (as before interfaces)', (t) => {
  const present = (run('address', ctxFor('lb1'), {}, '').desired as AddressDesired).present.map((a) => `${a.address}/${a.prefix} ${a.device}`);
  t.true(present.includes('203.0.113.1/24 eth0'), present.join('\n'));
});

// ---------------------------------------------------------------- boot

const bootFacts = (systemd: boolean, enabled: string[], extra = '') => section('state', `systemd ${systemd ? 'yes' : 'no'}\n${enabled.map((u) => `enabled ${u}\n`).join('')}${extra}`);
const fileNamed = (o: { desired: unknown }, path: string) => (o.desired as BootDesired).files.find((f) => f.path === path)!.content;

test('boot: a % in the rules file\'s path reaches the unit as %%, not as a systemd specifier (%n was the unit\'s name: the rules were never restored)', (t) => {
  const cluster = exampleCluster();
  const restore = fileNamed(run('boot', ctxFor('lb1', { cluster: { ...cluster, rulesFile: '/etc/lvsplay/ipvs%n.rules' } }), {}, ''), '/etc/systemd/system/lvsplay-ipvs.service');
  t.true(restore.includes('StandardInput=file:/etc/lvsplay/ipvs%%n.rules\n'), restore);
  t.false(/[^%]%n/.test(restore.replaceAll('%%', '')), 'no lone % left');
});

test('boot on a director: ip_vs and its schedulers at boot, the VIPs in the primary\'s unit (none in the backup\'s), the IPVS restore unit', (t) => {
  const lb1 = run('boot', ctxFor('lb1'), {}, '');
  t.is(fileNamed(lb1, '/etc/modules-load.d/lvsplay.conf').split('\n').filter((l) => l && !l.startsWith('#')).join(' '), 'ip_vs ip_vs_mh ip_vs_rr ip_vs_sh ip_vs_wlc ip_vs_wrr');
  const unit = fileNamed(lb1, '/etc/systemd/system/lvsplay-network.service');
  t.true(unit.includes('ExecStart=ip addr replace 192.0.2.10/32 dev eth0\n'));
  t.true(unit.includes('ExecStart=ip addr replace 203.0.113.1/24 dev eth0\n'), 'the NAT gateway');
  t.true(unit.includes('After=network.target systemd-modules-load.service systemd-sysctl.service'), 'after modules and sysctls');
  const restore = fileNamed(lb1, '/etc/systemd/system/lvsplay-ipvs.service');
  t.true(restore.includes('StandardInput=file:/etc/lvsplay/ipvs.rules\nExecStart=ipvsadm -R\n'), 'lvsplay\'s own rules, never a flush');
  t.true(restore.includes('After=lvsplay-network.service') && restore.includes('Before=ldirectord.service keepalived.service'));
  const lb2 = fileNamed(run('boot', ctxFor('lb2'), {}, ''), '/etc/systemd/system/lvsplay-network.service');
  t.false(lb2.includes('ip addr'), 'a backup brings up no VIP at boot');
  t.deepEqual(lb1.changes.map((c) => c.summary), [
    '+ file /etc/modules-load.d/lvsplay.conf', '+ file /etc/systemd/system/lvsplay-network.service', '+ file /etc/systemd/system/lvsplay-ipvs.service',
    '~ lvsplay-network.service enabled at boot', '~ lvsplay-ipvs.service enabled at boot',
  ]);
  t.true(lb1.script.includes('systemctl daemon-reload\nsystemctl enable -- lvsplay-network.service\nsystemctl enable -- lvsplay-ipvs.service\n'));
});

test('boot on real servers: DR VIPs on lo, TUN with ipip and tunl0, the NAT route', (t) => {
  const web1 = fileNamed(run('boot', ctxFor('web1'), {}, ''), '/etc/systemd/system/lvsplay-network.service');
  t.true(web1.includes('ExecStart=ip addr replace 192.0.2.10/32 brd 192.0.2.10 dev lo\n'));
  const far1 = run('boot', ctxFor('far1'), {}, '');
  t.true(fileNamed(far1, '/etc/modules-load.d/lvsplay.conf').includes('\nipip\n'));
  t.true(fileNamed(far1, '/etc/systemd/system/lvsplay-network.service').includes('ExecStart=modprobe ipip\nExecStart=ip link set tunl0 up\nExecStart=ip addr replace 192.0.2.12/32 dev tunl0\n'));
  t.true(fileNamed(run('boot', ctxFor('app1'), {}, ''), '/etc/systemd/system/lvsplay-network.service').includes('ExecStart=ip -4 route replace default via 203.0.113.1\n'));
});

test('boot: lvsplay\'s units a host no longer wants (marks gone, a director turned real server) are disabled, stopped and removed; one never installed is no change', (t) => {
  const lb1 = run('boot', ctxFor('lb1'), {}, '').desired as BootDesired;
  t.deepEqual(lb1.unwanted, ['lvsplay-marks.service'], 'lb1 has no marks in the example');
  const files = lb1.files.map((f, i) => section(`file${i}`, fileProbeOutput(f.content, '644'))).join('');
  const left = run('boot', ctxFor('lb1'), {}, bootFacts(true, lb1.units, 'leftover lvsplay-marks.service\n') + files);
  t.deepEqual(left.changes.map((c) => c.summary), ['- lvsplay-marks.service retired: this host no longer needs it (disabled, its unit file removed)']);
  t.true(left.script.includes('systemctl disable --now -- lvsplay-marks.service\nrm -f -- /etc/systemd/system/lvsplay-marks.service\n'), left.script);
  t.true(left.script.includes('systemctl daemon-reload'));
  t.is(syntaxError(left.script), '');
  t.deepEqual(run('boot', ctxFor('lb1'), {}, bootFacts(true, lb1.units) + files).changes, [], 'not there: nothing to do');
  t.deepEqual(run('boot', ctxFor('lb1'), {}, bootFacts(true, lb1.units, 'leftover lvsplay-network.service\n') + files).changes, [], 'a wanted unit is never retired, whatever the probe says');
  const web1 = run('boot', ctxFor('web1'), {}, '').desired as BootDesired;
  t.deepEqual(web1.unwanted, ['lvsplay-ipvs.service', 'lvsplay-marks.service'], 'a real server restores no IPVS table at boot');
  t.true(run('boot', ctxFor('web1'), {}, '').probe.includes("[ -e /etc/systemd/system/lvsplay-ipvs.service ] || [ -e /etc/systemd/system/multi-user.target.wants/lvsplay-ipvs.service ]; then echo leftover lvsplay-ipvs.service"));
});

test('boot: a unit disabled by hand is drift; the distribution\'s IPVS restore is turned off; no systemd is an error; persist: false keeps nothing', (t) => {
  const desired = run('boot', ctxFor('lb1'), {}, '').desired as BootDesired;
  const files = desired.files.map((f, i) => section(`file${i}`, fileProbeOutput(f.content, '644'))).join('');
  const disabled = run('boot', ctxFor('lb1'), {}, bootFacts(true, ['lvsplay-network.service']) + files);
  t.deepEqual(disabled.changes.map((c) => c.summary), ['~ lvsplay-ipvs.service enabled at boot']);
  const distro = run('boot', ctxFor('lb1'), {}, bootFacts(true, desired.units, 'distro ipvsadm.service\ndistro debian-auto\n') + files);
  t.is(distro.changes.length, 2);
  t.true(distro.script.includes('systemctl disable -- ipvsadm.service') && distro.script.includes('AUTO="false"'));
  const error = t.throws(() => run('boot', ctxFor('lb1'), {}, bootFacts(false, []) + files));
  t.regex(error!.message, /does not run systemd.*set persist: false/);
  const cluster = exampleWith(['{ name: web1, address: 192.0.2.21,', '{ name: web1, persist: false, address: 192.0.2.21,']);
  const none = run('boot', ctxFor('web1', { cluster }), {}, '');
  t.deepEqual(none.desired, { persist: false, files: [], units: [], unwanted: [] });
  t.deepEqual(none.changes, []);
  t.is((run('sysctl', ctxFor('web1', { cluster }), {}, '').desired as SysctlDesired).file, undefined, 'nor a sysctl.d file');
});

// ---------------------------------------------------------------- file

test('file: absent → add (before "", after the content); the script carries exactly the content, written by the shell\'s printf', (t) => {
  const o = run('file', ctxFor('web1'), FILE_ARGS, 'absent\n');
  const content = (o.desired as FileDesired).content;
  t.deepEqual(o.changes, [{ id: '/etc/motd', action: 'add', summary: '+ file /etc/motd', before: '', after: content }]);
  t.is(writtenContent(o.script), content);
  t.true(o.script.includes('chmod 644 -- "$lvsplay_tmp"'));
  t.false(o.script.includes('base64'), 'written by the shell\'s printf: no base64 process');
  t.true(o.script.trimEnd().endsWith('if [ -d /run/systemd/system ]; then systemctl reload -- motd-news; else service motd-news reload; fi'), 'the on_change action runs last');
});

test('file: the same content → no change (the checksum is computed from the content the probe sends)', (t) => {
  const content = (run('file', ctxFor('web1'), FILE_ARGS, '').desired as FileDesired).content;
  t.deepEqual(run('file', ctxFor('web1'), FILE_ARGS, `present 644 root:root\n${Buffer.from(content).toString('base64')}\n`).changes, []);
  t.is(run('file', ctxFor('web1'), FILE_ARGS, `present 644 root:root\n${Buffer.from(`${content} `).toString('base64')}\n`).changes.length, 1, 'one byte more is a change');
});

test('file: a symlink or a non-regular file at the path is refused, never read through or written', (t) => {
  t.throws(() => run('file', ctxFor('web1'), FILE_ARGS, 'symlink\n'), { message: /\/etc\/motd is a symbolic link: lvsplay never writes through it/ });
  t.throws(() => run('file', ctxFor('web1'), FILE_ARGS, 'other\n'), { message: /\/etc\/motd is not a regular file/ });
});

test('file: different content → change with the old and new text', (t) => {
  const o = run('file', ctxFor('web1'), FILE_ARGS, fileProbeOutput('old motd\n'));
  t.is(o.changes.length, 1);
  t.like(o.changes[0], { action: 'change', summary: '~ file /etc/motd', before: 'old motd\n', after: (o.desired as FileDesired).content });
});

test('file: only the mode differs → a mode change, and the script sets the mode', (t) => {
  const content = (run('file', ctxFor('web1'), FILE_ARGS, '').desired as FileDesired).content;
  const o = run('file', ctxFor('web1'), { ...FILE_ARGS, mode: '0640' }, fileProbeOutput(content, '644', 'root:adm'));
  t.deepEqual(o.changes, [{
    id: '/etc/motd', action: 'change', summary: '~ file /etc/motd mode 644 owner root:adm → mode 640 owner root:adm',
    before: 'mode 644 owner root:adm', after: 'mode 640 owner root:adm',
  }]);
  t.true(o.script.includes('chmod 640 -- "$lvsplay_p"'), o.script);
  t.false(o.script.includes('chown'), 'keeps the owner');
  t.is(writtenContent(o.script), undefined, 'the content is not rewritten');
  t.false(o.script.includes('motd-news'), 'a mode fix is no new content: no on_change action');
});

test('file: the script writes through a temp file in the same folder and keeps a backup', (t) => {
  const o = run('file', ctxFor('web1'), { path: '/etc/lvsplay/site.conf', template: 'site/motd.hbs' }, '');
  t.true(o.script.includes('lvsplay_p=/etc/lvsplay/site.conf\n'));
  t.true(o.script.includes('[ -d /etc/lvsplay ] || mkdir -p -- /etc/lvsplay\n'), 'mkdir only when the folder is missing');
  t.true(o.script.includes('read -r lvsplay_u < /proc/sys/kernel/random/uuid'), 'a name nobody can plant anything at beforehand');
  t.true(o.script.includes('lvsplay_tmp=$lvsplay_p.lvsplay.$lvsplay_u\n'));
  t.true(o.script.includes('! true > "$lvsplay_tmp"') && o.script.indexOf('set -C') < o.script.indexOf('! true > "$lvsplay_tmp"'), 'created with noclobber: O_EXCL');
  t.true(o.script.indexOf('chmod 644 -- "$lvsplay_tmp"') < o.script.indexOf('> "$lvsplay_tmp"\n'), 'its mode set before the content goes in');
  t.true(o.script.includes('sync -- "$lvsplay_tmp"'), 'on disk before it replaces the old file');
  t.true(o.script.includes('ln -f -- "$lvsplay_p" "$lvsplay_p.lvsplay-bak"'), 'the backup is a hard link: never written through a symlink');
  t.true(o.script.includes('mv -f -- "$lvsplay_tmp" "$lvsplay_p"'));
  t.false(o.script.includes('systemctl'), 'no on_change, no action');
});

test('file: content with every awkward byte travels exactly', (t) => {
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), (text) => {
      const o = run('file', ctxFor('web1', { vars: { site: text } }), FILE_ARGS, '');
      return writtenContent(o.script) === (o.desired as FileDesired).content && (o.desired as FileDesired).content.includes(text);
    }),
    { numRuns: 100 },
  );
  t.pass();
});

// ---------------------------------------------------------------- ldirectord

test('ldirectord.cf for lb1: only ldirectord-owned services; IPv6 as virtual6/real6; fork=yes for a per-service interval', (t) => {
  const desired = run('ldirectord', ctxFor('lb1'), {}, '').desired as LdirectordDesired;
  const cf = desired.file!.content;
  t.true(cf.includes('virtual=192.0.2.10:80\n'));
  t.true(cf.includes('virtual6=[2001:db8::10]:80\n\treal6=[2001:db8::21]:80 gate 1\n'));
  t.true(cf.includes('\tpersistent=300\n\tnetmask=255.255.255.0\n'));
  t.true(cf.includes('\tchecktype=negotiate\n\tservice=http\n\trequest="/healthz"\n\treceive="OK"\n'));
  t.true(cf.includes('fork=yes\n'));
  t.false(cf.includes('192.0.2.11'), 'dns is lvsplay-owned');
  t.false(cf.includes('192.0.2.13'), 'app is lvsplay-owned');
  t.false(cf.includes('192.0.2.12'), 'api is lvsplay-owned (Maglev flags and thresholds)');
  t.is(desired.file!.path, '/etc/ha.d/ldirectord.cf');
});

test('ldirectord.cf: every service= ldirectord 4.12 reads, submission, ldaps, oracle and http_proxy included (imports of such configs were refused), is written as given', (t) => {
  for (const service of ['http_proxy', 'ldaps', 'oracle', 'submission', 'smtp', 'simpletcp']) {
    const cluster = exampleWith(['health_check: { type: negotiate, service: http, request: /healthz, receive: OK }', `health_check: { type: negotiate, service: ${service} }`]);
    const cf = (run('ldirectord', ctxFor('lb1', { cluster }), {}, '').desired as LdirectordDesired).file!.content;
    t.true(cf.includes(`\tservice=${service}\n`), cf);
  }
  t.throws(() => exampleWith(['health_check: { type: negotiate, service: http, request: /healthz, receive: OK }', 'health_check: { type: negotiate, service: smtps }']), { message: /health_check\.service: .*"submission"/ });
});

test('ldirectord.cf: fork=no when no service has its own check interval', (t) => {
  const cluster = exampleWith(['health_check: { type: connect, interval: 5 }', 'health_check: { type: connect }']);
  const cf = (run('ldirectord', ctxFor('lb1', { cluster }), {}, '').desired as LdirectordDesired).file!.content;
  t.true(cf.includes('fork=no\n'));
  t.false(cf.includes('\tcheckinterval='));
});

/** inventory/example.yml with web's check logging in to MySQL, its password from LVSPLAY_TEST_DB_PASS. */
const withCredentials = () => exampleWith(['health_check: { type: negotiate, service: http, request: /healthz, receive: OK }',
  'health_check: { type: negotiate, service: mysql, login: lvs, passwd_env: LVSPLAY_TEST_DB_PASS, database: health }']);
const DB_PASS = "S3c=r&t'$x y";

test('ldirectord: a check\'s credentials (login, database, password from the control host) are in ldirectord.cf, written as a secret: never in the probe, a change, --diff or the script; read back redacted, an equal file is no change', (t) => {
  process.env['LVSPLAY_TEST_DB_PASS'] = DB_PASS;
  try {
    const ctx = ctxFor('lb1', { cluster: withCredentials() });
    const desired = run('ldirectord', ctx, {}, '').desired as LdirectordDesired;
    t.true(desired.file!.content.includes(`\tlogin="lvs"\n\tpasswd="${DB_PASS}"\n\tdatabase="health"\n`), desired.file!.content);
    t.deepEqual(desired.file!.secret, { redact: ['secret', 'passwd'] });
    // the host has an older config: the change shows both sides with the password cut out
    const old = desired.file!.content.replace('database="health"', 'database="old"');
    const redactedOld = old.replace(/passwd=.*/, 'passwd (secret not shown)');
    const facts = ldFacts(`present 600 root:root\nsha256 ${createHash('sha256').update(old).digest('hex')}  -\n${Buffer.from(redactedOld).toString('base64')}\n`, 'running');
    const o = run('ldirectord', ctx, {}, facts);
    t.deepEqual(o.changes.map((c) => c.summary), ['~ file /etc/ha.d/ldirectord.cf (secrets not shown)']);
    const shown = JSON.stringify({ changes: o.changes, script: o.script, probe: o.probe, actual: o.actual });
    t.false(shown.includes('S3c=r'), 'the password is nowhere in what can be printed');
    t.false(shown.includes(Buffer.from(desired.file!.content).toString('base64')), 'nor the file in base64');
    t.true(o.changes[0]!.after!.includes('\tpasswd (secret not shown)\n\tdatabase="health"'), o.changes[0]!.after);
    t.true(Buffer.from(revealSecrets(o.script, o.secrets!).match(/[A-Za-z0-9+/=]{200,}/)![0], 'base64').toString().includes(`passwd="${DB_PASS}"`), 'the host gets the real file');
    // the probe always reads the config as a secret: the host's may hold a password the new one has not
    t.regex(o.probe, /sha256sum < "\$lvsplay_p"\n {2}sed -e 's\/secret\.\*\$\/secret \(secret not shown\)\/' -e 's\/passwd/);
    const same = ldFacts(`present 600 root:root\nsha256 ${createHash('sha256').update(desired.file!.content).digest('hex')}  -\n${Buffer.from('x').toString('base64')}\n`, 'running');
    t.deepEqual(run('ldirectord', ctx, {}, same).changes, [], 'compared by checksum');
  } finally {
    delete process.env['LVSPLAY_TEST_DB_PASS'];
  }
});

test('ldirectord: a check password that is not set, or that ldirectord could not read back ("#", a double quote, a line break), is bad input naming the field, never the value', (t) => {
  const ctx = ctxFor('lb1', { cluster: withCredentials() });
  delete process.env['LVSPLAY_TEST_DB_PASS'];
  // placed at the service's health_check line, where passwd_env is (it was line 0)
  const at = readFileSync(repoFile('inventory/example.yml'), 'utf8').split('\n').findIndex((l) => l.includes('health_check: { type: negotiate, service: http, request: /healthz')) + 1;
  t.true(at > 0);
  t.throws(() => run('ldirectord', ctx, {}, ''), { message: new RegExp(`^example-edited\\.yml:${at}:\\d+ service web: health_check\\.passwd_env: environment variable LVSPLAY_TEST_DB_PASS is not set`, 'm') });
  for (const bad of ['ab#cd', 'ab"cd', 'ab\ncd']) {
    process.env['LVSPLAY_TEST_DB_PASS'] = bad;
    try {
      const err = t.throws(() => run('ldirectord', ctx, {}, ''));
      t.regex(err!.message, new RegExp(`^example-edited\\.yml:${at}:\\d+ service web: health_check\\.passwd_env: expected a check password of 1 to 512 characters without double quotes, "#" or control characters`, 'm'));
      t.false(err!.message.includes(bad));
    } finally {
      delete process.env['LVSPLAY_TEST_DB_PASS'];
    }
  }
});

test('inventory: check credentials are ldirectord\'s, for negotiate checks, with the password one way only', (t) => {
  const bad = (from: string, to: string) => t.throws(() => exampleWith([from, to])).message;
  const web = 'health_check: { type: negotiate, service: http, request: /healthz, receive: OK }';
  t.regex(bad(web, 'health_check: { type: connect, login: lvs, passwd_env: X }'), /services\[0\]\.health_check\.login: login, passwd_env: only negotiate checks log in, but the type is connect/);
  t.regex(bad(web, 'health_check: { type: negotiate, service: mysql, passwd_env: X, passwd_file: /etc/x }'), /health_check\.passwd_file: give the check's password one way: passwd_env or passwd_file, not both/);
  t.regex(bad(web, 'health_check: { type: negotiate, service: mysql, login: "a#b" }'), /health_check\.login: expected text without double quotes, "#", backslashes or control characters/);
  t.regex(bad(web, 'managed_by: keepalived\n    health_check: { type: connect, login: lvs }'), /health_check\.login: login is ldirectord's, and this service is keepalived's: keepalived's checks do not log in/);
  t.regex(bad(web, 'health_check: { type: negotiate, service: mysql, passwd: hunter2 }'), /health_check\.passwd: unknown key "passwd": secrets are never written inline/);
});

/** ldirectord's probe output: its config, the systemd drop-in, the daemon and boot state. */
function ldFacts(file: string, daemon: 'running' | 'stopped' | 'missing', options: { systemd?: boolean; enabled?: boolean; dropIn?: string } = {}): string {
  const systemd = options.systemd ?? false;
  return section('file', file) + section('dropin', options.dropIn ?? 'absent\n')
    + section('daemon', `daemon ${daemon}\nsystemd ${systemd ? 'yes' : 'no'}\nenabled ${options.enabled ? 'yes' : 'no'}\n`);
}

test('ldirectord: running with the same file → nothing; stopped → start only; file changed and stopped → one reload action starts it', (t) => {
  const desired = run('ldirectord', ctxFor('lb1'), {}, '').desired as LdirectordDesired;
  const same = fileProbeOutput(desired.file!.content, '600');
  t.deepEqual(run('ldirectord', ctxFor('lb1'), {}, ldFacts(same, 'running')).changes, []);

  const stopped = run('ldirectord', ctxFor('lb1'), {}, ldFacts(same, 'stopped'));
  t.deepEqual(stopped.changes, [{ id: 'ldirectord', action: 'change', summary: '~ ldirectord stopped → running', before: 'stopped', after: 'running' }]);
  t.true(stopped.script.includes('  ldirectord "$lvsplay_cf" start\n'), stopped.script);

  const both = run('ldirectord', ctxFor('lb1'), {}, ldFacts(fileProbeOutput('old\n'), 'stopped'));
  t.deepEqual(both.changes.map((c) => c.id), ['/etc/ha.d/ldirectord.cf', 'ldirectord']);
  t.false(/^ {2}ldirectord "\$lvsplay_cf" start$/m.test(both.script), 'no separate start');
  t.true(both.script.includes('if lvsplay_running; then kill -HUP "$lvsplay_pid"; else ldirectord "$lvsplay_cf" start; fi'), 'the reload action starts a stopped daemon');
});

test('ldirectord: a changed file while running is reloaded, never restarted; the installed ldirectord checks it before it is installed', (t) => {
  const o = run('ldirectord', ctxFor('lb1'), {}, ldFacts(fileProbeOutput('old\n'), 'running'));
  t.deepEqual(o.changes.map((c) => c.action), ['change']);
  t.true(o.script.includes('kill -HUP "$lvsplay_pid"'));
  t.false(o.script.includes('restart'));
  const check = o.script.indexOf('ldirectord "$lvsplay_tmp" status');
  t.true(check > 0 && check < o.script.indexOf('mv -f -- "$lvsplay_tmp" "$lvsplay_p"'), 'checked before the rename');
});

test('ldirectord: a change of real servers\' weights only (a drain, an undrain) to the config the running daemon has is not checked again (its verdict cannot change); anything more, or a stopped daemon, is', (t) => {
  const desired = (run('ldirectord', ctxFor('lb1'), {}, '').desired as LdirectordDesired).file!.content;
  const reweighted = desired.replace(/^(\treal=\S+ gate )\d+/m, '$10');
  t.not(reweighted, desired);
  const checked = (old: string, daemon: 'running' | 'stopped') => {
    const o = run('ldirectord', ctxFor('lb1'), {}, ldFacts(fileProbeOutput(old, '600'), daemon));
    t.deepEqual(o.changes.map((c) => c.summary)[0], '~ file /etc/ha.d/ldirectord.cf');
    t.true(o.script.includes('mv -f -- "$lvsplay_tmp" "$lvsplay_p"') && o.script.includes('kill -HUP "$lvsplay_pid"'), o.script);
    return o.script.includes('ldirectord "$lvsplay_tmp" status');
  };
  t.false(checked(reweighted, 'running'), 'weights only, running: installed without the check');
  t.true(checked(reweighted, 'stopped'), 'a stopped daemon runs nothing it accepted');
  t.true(checked(reweighted.replace('checktimeout=', 'checktimeout=1'), 'running'), 'a global changed too');
  t.true(checked(reweighted.replace(/^(\treal=\S+ gate \d+)$/m, '$1 l:5'), 'running'), 'a threshold changed too');
  t.true(checked(reweighted.replace(/^(\treal=)/m, '$1192.0.2.99:80 gate 1\n$1'), 'running'), 'a real server more');
});

test('ldirectord: with a check password (probed redacted), a weights-only change is decided on the checksum: a new password is checked', (t) => {
  process.env['LVSPLAY_TEST_DB_PASS'] = DB_PASS;
  try {
    const ctx = ctxFor('lb1', { cluster: withCredentials() });
    const desired = (run('ldirectord', ctx, {}, '').desired as LdirectordDesired).file!.content;
    const probed = (host: string) => ldFacts(`present 600 root:root\nsha256 ${createHash('sha256').update(host).digest('hex')}  -\n${Buffer.from(host.replace(/passwd=.*/, 'passwd (secret not shown)')).toString('base64')}\n`, 'running');
    const reweighted = desired.replace(/^(\treal=\S+ gate )\d+/m, '$17');
    const status = (host: string) => run('ldirectord', ctx, {}, probed(host)).script.includes('ldirectord "$lvsplay_tmp" status');
    t.false(status(reweighted));
    t.true(status(reweighted.replace(DB_PASS, 'older')));
  } finally {
    delete process.env['LVSPLAY_TEST_DB_PASS'];
  }
});

test('ldirectord under systemd: a drop-in runs lvsplay\'s config, the unit is enabled at boot, started through systemd', (t) => {
  const desired = run('ldirectord', ctxFor('lb1'), {}, '').desired as LdirectordDesired;
  const o = run('ldirectord', ctxFor('lb1'), {}, ldFacts('absent\n', 'stopped', { systemd: true }));
  t.deepEqual(o.changes.map((c) => c.summary), ['+ file /etc/systemd/system/ldirectord.service.d/lvsplay.conf', '~ ldirectord enabled at boot', '+ file /etc/ha.d/ldirectord.cf', '~ ldirectord stopped → running']);
  t.true(desired.dropIn!.content.includes('ExecStart=/usr/sbin/ldirectord /etc/ha.d/ldirectord.cf start\n'));
  t.true(desired.dropIn!.content.includes('PIDFile=/run/ldirectord.ldirectord.cf.pid\n'));
  const order = ['systemctl daemon-reload', 'systemctl enable ldirectord', 'ldirectord "$lvsplay_tmp" status', 'if lvsplay_running; then kill -HUP "$lvsplay_pid"; else systemctl start ldirectord; fi'].map((x) => o.script.indexOf(x));
  t.deepEqual([...order].sort((a, b) => a - b), order, 'drop-in and enable, then the checked config, then start');
  t.false(order.includes(-1), o.script);
  const enabled = run('ldirectord', ctxFor('lb1'), {}, ldFacts(fileProbeOutput(desired.file!.content, '600'), 'running', { systemd: true, enabled: true, dropIn: fileProbeOutput(desired.dropIn!.content) }));
  t.deepEqual(enabled.changes, []);
});

test('ldirectord: every script it can produce parses with sh -n (each daemon, boot and file state; the lab found an empty else)', (t) => {
  const desired = run('ldirectord', ctxFor('lb1'), {}, '').desired as LdirectordDesired;
  const files = ['absent\n', fileProbeOutput(desired.file!.content, '600'), fileProbeOutput('# Managed by lvsplay\nchecktimeout=3\n', '600')];
  const dropIns = ['absent\n', fileProbeOutput(desired.dropIn!.content)];
  let scripts = 0;
  for (const file of files) for (const daemon of ['running', 'stopped'] as const) for (const systemd of [true, false]) for (const enabled of [true, false]) for (const dropIn of dropIns) {
    for (const reload of [true, false]) {
      const o = run('ldirectord', ctxFor('lb1'), { reload }, ldFacts(file, daemon, { systemd, enabled, dropIn }));
      t.is(syntaxError(o.script), '', `${daemon} systemd=${systemd} enabled=${enabled} reload=${reload}: ${o.changes.map((c) => c.summary).join('; ')}`);
      if (o.script) scripts += 1;
    }
  }
  t.true(scripts > 20);
});

test('ldirectord: services leaving it are released (it deletes them on reload; the script waits, then deletes what it left)', (t) => {
  const old = '# Managed by lvsplay for director lb1\nvirtual=192.0.2.77:80\n\tprotocol=tcp\nvirtual=5\n\tprotocol=fwm\n';
  const o = run('ldirectord', ctxFor('lb1'), {}, ldFacts(fileProbeOutput(old), 'running'));
  t.true(o.script.includes("printf '%s' '-t 192.0.2.77:80\n-f 5\n' > \"$lvsplay_released\"\n"), o.script);
  t.true(o.script.indexOf('kill -HUP "$lvsplay_pid"') < o.script.indexOf('lvsplay_released=$(mktemp)'));
});

test('ldirectord: the last service gone retires it (stopped, disabled, lvsplay\'s config removed); a config lvsplay did not write is left alone', (t) => {
  const cluster = exampleWith(['    health_check: { type: negotiate, service: http, request: /healthz, receive: OK }\n', ''], ['    health_check: { type: connect, interval: 5 }\n', '']);
  const ours = '# Managed by lvsplay for director lb1\nvirtual=192.0.2.10:80\n\tprotocol=tcp\n';
  const o = run('ldirectord', ctxFor('lb1', { cluster }), {}, ldFacts(fileProbeOutput(ours), 'running', { systemd: true, enabled: true }));
  t.deepEqual(o.changes.map((c) => c.summary), ['- ldirectord retired: no service is its own any more (stopped, disabled, /etc/ha.d/ldirectord.cf removed)']);
  t.true(o.script.includes('systemctl stop ldirectord') && o.script.includes('systemctl disable ldirectord'));
  t.true(o.script.includes('ln -f -- "$lvsplay_cf" "$lvsplay_cf.lvsplay-bak" && rm -f -- "$lvsplay_cf"'));
  const theirs = run('ldirectord', ctxFor('lb1', { cluster }), {}, ldFacts(fileProbeOutput('# the package example\nvirtual=192.168.6.240:80\n'), 'running'));
  t.deepEqual(theirs.changes, []);
});

test('ldirectord: not installed → a clear error', (t) => {
  const error = t.throws(() => run('ldirectord', ctxFor('lb1'), {}, ldFacts('absent\n', 'missing')));
  t.regex(error!.message, /ldirectord is not installed/);
});

test('ldirectord: a real server has nothing to do', (t) => {
  const o = run('ldirectord', ctxFor('web1'), {}, ldFacts('absent\n', 'missing'));
  t.deepEqual(o.desired, { config: '/etc/ha.d/ldirectord.cf', pidfile: '/run/ldirectord.ldirectord.cf.pid', keys: [] });
  t.deepEqual(o.changes, []);
});

test('ldirectord with reload:false: a stopped daemon the plan says it starts is started by the script', (t) => {
  // reload:false means no reload action on the file, so the "a changed file already starts it" shortcut does not hold
  const o = run('ldirectord', ctxFor('lb1'), { reload: false }, ldFacts('absent\n', 'stopped'));
  t.true(o.changes.some((c) => c.id === 'ldirectord'), 'the plan promises stopped → running');
  t.true(o.script.includes('  ldirectord "$lvsplay_cf" start\n'), 'the script must start it');
});

// ---------------------------------------------------------------- package, service, shell

test('package: present → install only the missing ones; absent → remove only the installed ones', (t) => {
  const install = run('package', ctxFor('lb1'), { names: ['ipvsadm', 'ldirectord'] }, 'ipvsadm installed\nldirectord absent\n');
  t.deepEqual(install.changes, [{ id: 'ldirectord', action: 'add', summary: '+ install package ldirectord' }]);
  t.true(install.script.includes('apt-get install -y --no-install-recommends -- ldirectord\n'));
  t.true(install.script.includes('dnf -y install -- ldirectord\n'));

  const remove = run('package', ctxFor('lb1'), { names: ['heartbeat', 'keepalived'], state: 'absent' }, 'heartbeat installed\nkeepalived absent\n');
  t.deepEqual(remove.changes, [{ id: 'heartbeat', action: 'delete', summary: '- remove package heartbeat' }]);
  t.true(remove.script.includes('apt-get remove -y -- heartbeat\n'));
  t.true(remove.script.includes('dnf -y remove -- heartbeat\n'));
});

test('package: a name missing from the probe output counts as not installed', (t) => {
  const o = run('package', ctxFor('lb1'), { names: ['ipvsadm'] }, 'something-else installed\n');
  t.deepEqual(o.changes.map((c) => c.id), ['ipvsadm']);
});

test('service: start, stop, enable, disable as the facts require; boot state untouched when enabled is unset', (t) => {
  const start = run('service', ctxFor('lb1'), { name: 'ldirectord' }, 'active inactive\nenabled disabled\n');
  t.deepEqual(start.changes.map((c) => c.summary), ['~ service ldirectord stopped → started']);
  t.true(start.script.includes('systemctl start -- ldirectord; else service ldirectord start; fi'));

  const stop = run('service', ctxFor('lb1'), { name: 'keepalived', state: 'stopped', enabled: false }, 'active active\nenabled enabled\n');
  t.deepEqual(stop.changes.map((c) => c.summary), ['~ service keepalived running → stopped', '~ service keepalived disabled at boot']);
  t.true(stop.script.includes('systemctl stop -- keepalived'));
  t.true(stop.script.includes('systemctl disable -- keepalived; else update-rc.d keepalived disable; fi'));

  const enable = run('service', ctxFor('lb1'), { name: 'ldirectord', enabled: true }, 'active active\nenabled disabled\n');
  t.deepEqual(enable.changes.map((c) => c.summary), ['~ service ldirectord enabled at boot']);
  t.true(enable.script.includes('update-rc.d ldirectord defaults'));
});

test('service: states systemd prints that are not "active" (activating, failed) count as stopped', (t) => {
  for (const state of ['failed', 'activating', 'inactive', '']) {
    t.is(run('service', ctxFor('lb1'), { name: 'ldirectord' }, `active ${state}\nenabled enabled\n`).changes.length, 1, state);
  }
});

test('shell: check done → nothing; needed (or no output) → the rendered template, as the change\'s after', (t) => {
  const args = { template: 'site/hello.sh.hbs', check: 'test -f /etc/lvsplay/hello' };
  t.deepEqual(run('shell', ctxFor('web2'), args, 'done\n').changes, []);
  for (const facts of ['needed\n', '']) {
    const o = run('shell', ctxFor('web2'), args, facts);
    t.is(o.script, "LVSPLAY_VAR_site=example\nLVSPLAY_VAR_http_root=/srv/www\n# greet from web2: every value through q\nmkdir -p /etc/lvsplay\nprintf '%s %s\\n' web2 example > /etc/lvsplay/hello\n", 'the vars prologue, then the template');
    t.deepEqual(o.changes, [{ id: 'site/hello.sh.hbs', action: 'change', summary: '~ run site/hello.sh.hbs (its check failed)', after: o.script }]);
  }
});

test('shell: play vars win over host vars in the template', (t) => {
  const o = run('shell', ctxFor('web1', { vars: { site: 'lab' } }), { template: 'site/hello.sh.hbs', check: 'false' }, '');
  t.true(o.script.includes("printf '%s %s\\n' web1 lab >"), o.script);
});

test('address: a line of ip -o addr lvsplay cannot read (a bad address, a prefix that is no number) stops the host\'s plan naming the line, never a library\'s words ("Invalid URL") or a NaN prefix; a point-to-point address takes its peer\'s prefix', (t) => {
  const lines = baseLines('192.0.2.21', '2001:db8::21');
  for (const [bad, shown] of [['2: eth0    inet6 zz::gg/64 scope global ', 'inet6'], ['2: eth0    inet 999.1.1.1/24 scope global eth0', 'inet'], ['2: eth0    inet 192.0.2.10/abc scope global eth0', 'inet']] as const) {
    const err = t.throws(() => run('address', ctxFor('web1'), {}, addressProbe([...lines, bad], 'none', '', WEB1_RECORD)), undefined, bad);
    t.is(err?.message, `cannot read this line of ip -o addr show: ${JSON.stringify(bad)} (expected ADDRESS/PREFIX after ${shown})`);
  }
  const peer = run('address', ctxFor('web1'), {}, addressProbe([...lines, '9: tun0    inet 10.9.0.1 peer 10.9.0.2/32 scope global tun0'], 'none', '', WEB1_RECORD));
  t.false(peer.changes.some((c) => c.summary.includes('10.9.0.1')), 'not lvsplay\'s, left alone');
  t.throws(() => canonicalAddress('fe80::1%lo'), { message: '"fe80::1%lo" is not an IP address' });
});
