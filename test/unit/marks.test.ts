/**
 * The marks task (issue 12: the firewall marks of fwmark services): the inventory's marks, the
 * nftables rules rendered from them (accepted by the installed nft, in a throwaway network
 * namespace), and what a run does against each state a director can be in.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import type { Cluster } from '../../src/inventory/model.js';
import type { BootDesired } from '../../src/resources/boot/index.js';
import type { MarksDesired } from '../../src/resources/marks/index.js';
import { MARKS_FILE } from '../../src/inventory/host-files.js';
import { formatProblem } from '../../src/util/problems.js';
import { BASE, edit, problemsOf } from '../helpers/inventory.js';
import { ctxFor, exampleWith } from '../support/cluster.js';
import { fileProbeOutput, sections } from '../support/facts.js';
import { run } from '../support/resources.js';
import { cleanup, syntaxError, tempDir } from '../support/sh.js';

/** The example with a fwmark service marking HTTP and HTTPS to two VIPs, UDP to an IPv4 one, and any IPv6 packet to a third. */
const MARKED = `  - name: shop
    fwmark: 42
    marks:
      - { vip: 192.0.2.15, protocol: tcp, ports: [443, 80] }
      - { vip: 192.0.2.16, protocol: tcp, ports: [80] }
      - { vip: 192.0.2.16, protocol: udp }
    scheduler: wrr
    persistence: { timeout: 900 }
    real_servers:
      - { server: web1 }
      - { server: web2 }
  - name: shop6
    fwmark: 43
    marks: [{ vip: "2001:db8::15" }]
    real_servers:
      - { server: web1 }

  # IPv6 direct routing.
`;
const marked = (): Cluster => exampleWith(['  # IPv6 direct routing.\n', MARKED]);
const marksOf = (host: string, cluster: Cluster, facts = '') => run('marks', ctxFor(host, { cluster }), {}, facts);
const fileOf = (o: { desired: unknown }) => (o.desired as MarksDesired).file!;
const facts = (o: { nft?: boolean; file?: string; live?: string; record?: string }) => sections([
  ['state', `${o.nft === false ? '' : 'nft yes\n'}${o.live ? `live ${o.live}\n` : ''}`],
  ['file', fileProbeOutput(o.file)],
  ['record', o.record ? `${o.record}\n` : '@@absent\n'],
]);
const SHA = 'a'.repeat(64);

test('marks: one nftables rule per mark, in lvsplay\'s own table, loaded whole; every director of the service gets it (backups too), real servers nothing', (t) => {
  const lb1 = marksOf('lb1', marked());
  const content = fileOf(lb1).content;
  t.true(content.includes('table inet lvsplay\ndelete table inet lvsplay\ntable inet lvsplay {'), content);
  t.true(content.includes('type filter hook prerouting priority mangle; policy accept;'), content);
  t.true(content.includes('\t\tip daddr 192.0.2.15 tcp dport { 80, 443 } meta mark set 42\n'), content);
  t.true(content.includes('\t\tip daddr 192.0.2.16 tcp dport { 80 } meta mark set 42\n'), content);
  t.true(content.includes('\t\tip daddr 192.0.2.16 meta l4proto udp meta mark set 42\n'), content);
  t.true(content.includes('\t\tip6 daddr 2001:db8::15 meta mark set 43\n'), content);
  t.deepEqual(fileOf(marksOf('lb2', marked())).content.replace('lb2', 'lb1'), content);
  t.is((marksOf('web1', marked()).desired as MarksDesired).file, undefined);
  t.is((marksOf('lb1', exampleWith()).desired as MarksDesired).file, undefined, 'no marks: nothing');
});

test('marks: the installed nft accepts the rendered rules (nft -c, in a network namespace of its own)', (t) => {
  const dir = tempDir('lvsplay-marks-');
  try {
    const file = join(dir, 'marks.nft');
    writeFileSync(file, fileOf(marksOf('lb1', marked())).content);
    const r = spawnSync('unshare', ['--net', 'nft', '-c', '-f', file], { encoding: 'utf8', timeout: 20_000 });
    t.is(r.status, 0, `nft (the lab installs nftables) said: ${r.stdout}${r.stderr}${r.error?.message ?? ''}`);
  } finally {
    cleanup(dir);
  }
});

test('marks: a first run writes the file (checked by nft -c before it replaces anything) and loads it; the same state again is no change', (t) => {
  const first = marksOf('lb1', marked(), facts({}));
  t.deepEqual(first.changes.map((c) => c.summary), [`+ file ${MARKS_FILE}`]);
  t.true(first.script.includes('nft -c -f "$lvsplay_tmp"'), 'the new file is checked first');
  t.regex(first.script, /nft -f \/etc\/lvsplay\/marks.nft\nnft -s list table inet lvsplay \| sha256sum/, 'then loaded, and what nft shows recorded');
  t.is(syntaxError(first.script), '');
  const content = fileOf(first).content;
  t.deepEqual(marksOf('lb1', marked(), facts({ file: content, live: SHA, record: SHA })).changes, []);
});

test('marks: a table flushed or edited by hand (not what the last load recorded), or gone, is loaded again from the same file; no nft is an error naming the package', (t) => {
  const content = fileOf(marksOf('lb1', marked())).content;
  const edited = marksOf('lb1', marked(), facts({ file: content, live: 'b'.repeat(64), record: SHA }));
  t.deepEqual(edited.changes.map((c) => c.summary), [`~ nftables table inet lvsplay loaded again from ${MARKS_FILE} (changed by hand since lvsplay loaded it)`]);
  t.regex(edited.script, /^nft -f /m);
  t.false(edited.script.includes('base64'), 'the file is not written again');
  const gone = marksOf('lb1', marked(), facts({ file: content, record: SHA }));
  t.deepEqual(gone.changes.map((c) => c.action), ['add']);
  t.regex(gone.script, /^nft -f /m);
  t.throws(() => marksOf('lb1', marked(), facts({ nft: false })), { message: /nft \(nftables\) is not installed on this director.*install the nftables package/ });
  t.notThrows(() => marksOf('lb1', exampleWith(), facts({ nft: false })), 'a director without marks does not need nft');
});

test('marks: a director that no longer marks anything loses lvsplay\'s table, file and record; one that never did is not touched', (t) => {
  const content = fileOf(marksOf('lb1', marked())).content;
  const left = marksOf('lb1', exampleWith(), facts({ file: content, live: SHA, record: SHA }));
  t.deepEqual(left.changes.map((c) => c.action), ['delete']);
  t.true(left.script.includes('nft delete table inet lvsplay'));
  t.true(left.script.includes(`rm -f -- ${MARKS_FILE} /var/lib/lvsplay/marks`), left.script);
  t.false(marksOf('lb1', exampleWith(), facts({ file: content })).script.includes('nft delete'), 'no live table: nothing to delete');
  t.deepEqual(marksOf('lb1', exampleWith(), facts({})).changes, []);
});

test('boot: a director with marks gets lvsplay-marks.service (before the network, only when its file is there); one without, none', (t) => {
  const boot = run('boot', ctxFor('lb1', { cluster: marked() }), {}, '').desired as BootDesired;
  t.true(boot.units.includes('lvsplay-marks.service'));
  const unit = boot.files.find((f) => f.path === '/etc/systemd/system/lvsplay-marks.service')!.content;
  t.true(unit.includes(`ExecStart=nft -f ${MARKS_FILE}\n`) && unit.includes(`ConditionPathExists=${MARKS_FILE}\n`) && unit.includes('Before=network-pre.target'), unit);
  t.false((run('boot', ctxFor('lb1'), {}, '').desired as BootDesired).units.includes('lvsplay-marks.service'));
});

test('address: the primary holds a fwmark service\'s marked VIPs, DR members hold them on lo', (t) => {
  const lb1 = run('address', ctxFor('lb1', { cluster: marked() }), {}, '');
  const held = (lb1.desired as { present: { address: string }[] }).present.map((a) => a.address);
  for (const vip of ['192.0.2.15', '192.0.2.16', '2001:db8::15']) t.true(held.includes(vip), held.join(' '));
  const web2 = (run('address', ctxFor('web2', { cluster: marked() }), {}, '').desired as { present: { address: string; device: string }[] }).present;
  t.true(web2.some((a) => a.address === '192.0.2.16' && a.device === 'lo'));
});

test('inventory: marks only on fwmark services, ports with a protocol, VIPs in the service\'s family, and no packet marked twice', (t) => {
  const say = (text: string) => problemsOf(text).map(formatProblem).join('\n');
  const fw = (marks: string, extra = '') => edit(BASE, '  - name: api\n', `  - name: shop\n    fwmark: 7\n${extra}    marks: ${marks}\n    real_servers: [{ server: web1 }]\n  - name: api\n`);
  t.regex(say(edit(BASE, '    vip: 192.0.2.10\n', '    vip: 192.0.2.10\n    marks: [{ vip: 192.0.2.15 }]\n')), /services\[0\]\.marks: marks are for firewall-mark services/);
  t.regex(say(fw('[{ vip: 192.0.2.15, ports: [80] }]')), /services\[1\]\.marks\[0\]\.ports: ports need a protocol/);
  t.regex(say(fw('[{ vip: 192.0.2.15 }, { vip: "2001:db8::15" }]')), /services\[1\]\.marks\[1\]\.vip: 2001:db8::15 is not ipv4, the service's family \(set family:/);
  t.regex(say(fw('[{ vip: 192.0.2.15 }]', '    family: ipv6\n')), /services\[1\]\.marks\[0\]\.vip: 192\.0\.2\.15 is not ipv6, the service's family$/m);
  t.regex(say(fw('[{ vip: 192.0.2.15, protocol: tcp, ports: [80, 443] }, { vip: 192.0.2.15, protocol: tcp, ports: [443] }]')), /services\[1\]\.marks\[1\]\.vip: packets to 192\.0\.2\.15 here are also marked for service "shop" at line \d+: a packet takes one mark/);
  t.regex(say(fw('[{ vip: 192.0.2.15 }, { vip: 192.0.2.15, protocol: udp }]')), /marks\[1\]\.vip: packets to 192\.0\.2\.15/);
  t.regex(say(fw('[{ vip: 192.0.2.15, protocol: tcp, ports: [0] }]')), /marks\[0\]\.ports\[0\]: .*1\.\.65535/);
  // apart: another protocol, other ports, another VIP
  t.throws(() => problemsOf(fw('[{ vip: 192.0.2.15, protocol: tcp, ports: [80] }, { vip: 192.0.2.15, protocol: tcp, ports: [443] }, { vip: 192.0.2.15, protocol: udp }, { vip: 192.0.2.16 }]')), { message: /expected the inventory to be rejected/ });
});
