/**
 * The ipvs diff, one kind of operation at a time: the exact batch line, its inverse and the
 * summary people read. Property tests (ipvs-property.test.ts) cover the combinations.
 */
import test from 'ava';
import { diffTables, type DiffOptions, type Operation } from '../../src/resources/ipvs/diff.js';
import { emptyTable } from '../../src/resources/ipvs/table.js';
import { dest, fwmark, svc, table, tcp, udp } from '../fixtures/ipvs/support.js';

const opts = (o: Partial<DiffOptions> = {}): DiffOptions => ({ purge: false, graceful: true, deletable: new Set(), foreign: new Set(), ...o });
const lines = (ops: Operation[]) => ops.map((op) => op.line);
const summaries = (ops: Operation[]) => ops.map((op) => op.change.summary);

const WEB = tcp('192.0.2.10', 80);
const web = (...dests: ReturnType<typeof dest>[]) => svc(WEB, {}, dests);
const conns = (active: number, inactive: number) => ({ conns: { active, inactive } });

test('identical tables: nothing to do', (t) => {
  const a = table(web(dest('192.0.2.21', 80, { weight: 3 })));
  t.deepEqual(diffTables(a, table(web(dest('192.0.2.21', 80, { weight: 3, ...conns(4, 9) }))), opts()).operations, []);
});

test('add a service: -A with its spec, then -a per real server in order', (t) => {
  const want = table(svc(WEB, { scheduler: 'wlc', persistence: { timeout: 300, netmask: '255.255.255.0' } }, [
    dest('192.0.2.22', 80), dest('192.0.2.21', 80, { weight: 3, upperThreshold: 100, lowerThreshold: 50 }),
  ]));
  const { operations } = diffTables(want, emptyTable(), opts());
  t.deepEqual(lines(operations), [
    '-A -t 192.0.2.10:80 -s wlc -p 300 -M 255.255.255.0',
    '-a -t 192.0.2.10:80 -r 192.0.2.21:80 -g -w 3 -x 100 -y 50',
    '-a -t 192.0.2.10:80 -r 192.0.2.22:80 -g -w 1 -x 0 -y 0',
  ]);
  t.deepEqual(operations.map((op) => op.inverse), [
    ['-D -t 192.0.2.10:80'],
    ['-d -t 192.0.2.10:80 -r 192.0.2.21:80'],
    ['-d -t 192.0.2.10:80 -r 192.0.2.22:80'],
  ]);
  t.deepEqual(summaries(operations), [
    '+ add service tcp 192.0.2.10:80 wlc persistent 300 mask 255.255.255.0',
    '+ add real server 192.0.2.21:80 to tcp 192.0.2.10:80 (dr, weight 3, thresholds 100/50)',
    '+ add real server 192.0.2.22:80 to tcp 192.0.2.10:80 (dr, weight 1)',
  ]);
  t.deepEqual(operations.map((op) => op.change.action), ['add', 'add', 'add']);
});

test('--diff text: the old and new -S block of each touched service, on its first change', (t) => {
  const have = table(web(dest('192.0.2.21', 80, { weight: 3 })));
  const want = table(web(dest('192.0.2.21', 80, { weight: 5, upperThreshold: 10 })));
  const [op, ...rest] = diffTables(want, have, opts()).operations;
  t.is(rest.length, 0);
  t.is(op!.change.before, '-A -t 192.0.2.10:80 -s wlc\n-a -t 192.0.2.10:80 -r 192.0.2.21:80 -g -w 3\n');
  t.is(op!.change.after, '-A -t 192.0.2.10:80 -s wlc\n-a -t 192.0.2.10:80 -r 192.0.2.21:80 -g -w 5 -x 10 -y 0\n');
});

test('edit a service: -E always carries the full spec, the inverse the old full spec', (t) => {
  const have = table(svc(WEB, { scheduler: 'wlc', persistence: { timeout: 300, netmask: '255.255.255.0' }, pe: 'sip' }));
  const want = table(svc(WEB, { scheduler: 'rr', persistence: { timeout: 300, netmask: '255.255.255.0' }, pe: 'sip' }));
  const [op] = diffTables(want, have, opts()).operations;
  t.is(op!.line, '-E -t 192.0.2.10:80 -s rr -p 300 -M 255.255.255.0 --pe sip');
  t.deepEqual(op!.inverse, ['-E -t 192.0.2.10:80 -s wlc -p 300 -M 255.255.255.0 --pe sip']);
  t.is(op!.change.summary, '~ edit service tcp 192.0.2.10:80 scheduler wlc → rr');
});

test('edit a service: dropping persistence and flags is an -E without them', (t) => {
  const have = table(svc(udp('192.0.2.11', 53), { scheduler: 'sh', flags: 3, onePacket: true, persistence: { timeout: 60, netmask: '255.255.255.255' } }));
  const want = table(svc(udp('192.0.2.11', 53), { scheduler: 'sh', flags: 2, onePacket: false }));
  const [op] = diffTables(want, have, opts()).operations;
  t.is(op!.line, '-E -u 192.0.2.11:53 -s sh -b sh-port');
  t.deepEqual(op!.inverse, ['-E -u 192.0.2.11:53 -s sh -p 60 -o -b sh-fallback,sh-port']);
  t.is(op!.change.summary, '~ edit service udp 192.0.2.11:53 flags sh-fallback,sh-port → sh-port, persistence 60 → off, one-packet on → off');
});

test('fwmark services, IPv4 and IPv6, and the IPv6 prefix netmask', (t) => {
  const want = table(svc(fwmark(2, 'ipv6'), { persistence: { timeout: 60, netmask: '48' } }, [dest('2001:db8::21', 0)]));
  const { operations } = diffTables(want, table(svc(fwmark(2))), opts({ deletable: new Set(['fwmark 2 ipv4']) }));
  t.deepEqual(lines(operations), ['-D -f 2', '-A -f 2 -6 -s wlc -p 60 -M 48', '-a -f 2 -6 -r [2001:db8::21]:0 -g -w 1 -x 0 -y 0']);
});

test('delete a declared service: -D, inverse -A plus every old -a (with thresholds)', (t) => {
  const have = table(svc(WEB, { scheduler: 'rr' }, [dest('192.0.2.21', 80, { weight: 2, upperThreshold: 9 }), dest('192.0.2.22', 80, { method: 'dr' })]));
  const [op, ...rest] = diffTables(emptyTable(), have, opts({ deletable: new Set(['tcp 192.0.2.10:80']) })).operations;
  t.is(rest.length, 0);
  t.is(op!.line, '-D -t 192.0.2.10:80');
  t.deepEqual(op!.inverse, [
    '-A -t 192.0.2.10:80 -s rr',
    '-a -t 192.0.2.10:80 -r 192.0.2.21:80 -g -w 2 -x 9 -y 0',
    '-a -t 192.0.2.10:80 -r 192.0.2.22:80 -g -w 1 -x 0 -y 0',
  ]);
  t.is(op!.change.summary, '- delete service tcp 192.0.2.10:80 and its 2 real servers');
  t.is(op!.change.after, '');
});

test('an undeclared service: untouched without purge, deleted with purge', (t) => {
  const have = table(svc(tcp('192.0.2.99', 8080), { scheduler: 'rr' }, [dest('192.0.2.21', 8080)]));
  t.deepEqual(diffTables(emptyTable(), have, opts()).operations, []);
  const ops = diffTables(emptyTable(), have, opts({ purge: true })).operations;
  t.deepEqual(lines(ops), ['-D -t 192.0.2.99:8080']);
  t.is(ops[0]!.change.summary, '- delete service tcp 192.0.2.99:8080 and its 1 real server (not in the inventory; purge)');
});

test('ldirectord\'s services are never touched, even with purge and even when they differ', (t) => {
  const have = table(web(dest('192.0.2.21', 80, { weight: 0 }), dest('192.0.2.29', 80)));
  const o = opts({ purge: true, foreign: new Set(['tcp 192.0.2.10:80']), deletable: new Set(['tcp 192.0.2.10:80']) });
  t.deepEqual(diffTables(emptyTable(), have, o).operations, []);
  t.deepEqual(diffTables(table(web(dest('192.0.2.21', 80, { weight: 5 }))), have, o).operations, []);
});

test('add, edit and remove real servers: -a, -e with the full spec (-x/-y included), -d', (t) => {
  const have = table(web(
    dest('192.0.2.21', 80, { weight: 3 }),
    dest('192.0.2.22', 80, { method: 'nat', weight: 1, upperThreshold: 50, lowerThreshold: 10 }),
    dest('192.0.2.23', 80, conns(0, 0)),
  ));
  const want = table(web(
    dest('192.0.2.21', 80, { weight: 5 }),
    dest('192.0.2.22', 80, { method: 'nat', weight: 1, upperThreshold: 60, lowerThreshold: 10 }),
    dest('192.0.2.24', 80, { method: 'tun', tunnel: { type: 'gue', port: 6080, checksum: 'csum' } }),
  ));
  const { operations } = diffTables(want, have, opts());
  t.deepEqual(lines(operations), [
    '-e -t 192.0.2.10:80 -r 192.0.2.21:80 -g -w 5 -x 0 -y 0',
    '-e -t 192.0.2.10:80 -r 192.0.2.22:80 -m -w 1 -x 60 -y 10',
    '-a -t 192.0.2.10:80 -r 192.0.2.24:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum -x 0 -y 0',
    '-d -t 192.0.2.10:80 -r 192.0.2.23:80',
  ]);
  t.deepEqual(operations.map((op) => op.inverse), [
    ['-e -t 192.0.2.10:80 -r 192.0.2.21:80 -g -w 3 -x 0 -y 0'],
    ['-e -t 192.0.2.10:80 -r 192.0.2.22:80 -m -w 1 -x 50 -y 10'],
    ['-d -t 192.0.2.10:80 -r 192.0.2.24:80'],
    ['-a -t 192.0.2.10:80 -r 192.0.2.23:80 -g -w 1 -x 0 -y 0'],
  ]);
  t.deepEqual(summaries(operations), [
    '~ weight 192.0.2.21:80 in tcp 192.0.2.10:80 3 → 5',
    '~ edit real server 192.0.2.22:80 in tcp 192.0.2.10:80 upper threshold 50 → 60',
    '+ add real server 192.0.2.24:80 to tcp 192.0.2.10:80 (tun, weight 1, tunnel gue port 6080 csum)',
    '- delete real server 192.0.2.23:80 from tcp 192.0.2.10:80',
  ]);
});

test('a method or tunnel change is an in-place -e', (t) => {
  const have = table(web(dest('192.0.2.21', 80, { method: 'tun', tunnel: { type: 'gre', checksum: 'nocsum' } })));
  const want = table(web(dest('192.0.2.21', 80, { method: 'tun', tunnel: { type: 'gue', port: 6080, checksum: 'nocsum' } })));
  const [op] = diffTables(want, have, opts()).operations;
  t.is(op!.line, '-e -t 192.0.2.10:80 -r 192.0.2.21:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-nocsum -x 0 -y 0');
  t.is(op!.change.summary, '~ edit real server 192.0.2.21:80 in tcp 192.0.2.10:80 tunnel gre nocsum → gue port 6080 nocsum');
});

test('a key change is delete + add: a NAT real server moving port', (t) => {
  const have = table(web(dest('192.0.2.21', 8080, { method: 'nat', ...conns(0, 0) })));
  const want = table(web(dest('192.0.2.21', 8081, { method: 'nat' })));
  const { operations } = diffTables(want, have, opts());
  t.deepEqual(lines(operations), ['-a -t 192.0.2.10:80 -r 192.0.2.21:8081 -m -w 1 -x 0 -y 0', '-d -t 192.0.2.10:80 -r 192.0.2.21:8080']);
  t.is(operations[0]!.change.summary, '+ add real server 192.0.2.21:8081 to tcp 192.0.2.10:80 (nat, weight 1; replaces 192.0.2.21:8080)');
});

test('a key change of a service (another VIP) is delete + add when the old one is declared or purged', (t) => {
  const have = table(svc(tcp('192.0.2.10', 80), { scheduler: 'rr' }));
  const want = table(svc(tcp('192.0.2.11', 80), { scheduler: 'rr' }));
  t.deepEqual(lines(diffTables(want, have, opts({ purge: true })).operations), ['-D -t 192.0.2.10:80', '-A -t 192.0.2.11:80 -s rr']);
  t.deepEqual(lines(diffTables(want, have, opts()).operations), ['-A -t 192.0.2.11:80 -s rr']);
});

test('graceful removal: weight > 0 with connections → weight 0 first', (t) => {
  const have = table(web(dest('192.0.2.21', 80), dest('192.0.2.22', 80, { weight: 3, upperThreshold: 7, ...conns(2, 10) })));
  const want = table(web(dest('192.0.2.21', 80)));
  const [op, ...rest] = diffTables(want, have, opts()).operations;
  t.is(rest.length, 0);
  t.is(op!.line, '-e -t 192.0.2.10:80 -r 192.0.2.22:80 -g -w 0 -x 7 -y 0');
  t.deepEqual(op!.inverse, ['-e -t 192.0.2.10:80 -r 192.0.2.22:80 -g -w 3 -x 7 -y 0']);
  t.is(op!.change.summary, '~ drain real server 192.0.2.22:80 in tcp 192.0.2.10:80: weight 3 → 0 (12 connections; deleted once drained)');
});

test('graceful removal: weight 0 with connections → nothing to run, reported as pending (--check says draining, not ok)', (t) => {
  const have = table(web(dest('192.0.2.21', 80), dest('192.0.2.22', 80, { weight: 0, ...conns(0, 1) })));
  const diff = diffTables(table(web(dest('192.0.2.21', 80))), have, opts());
  t.deepEqual(diff.operations, []);
  t.deepEqual(diff.pending, [{
    id: 'tcp 192.0.2.10:80 192.0.2.22:80', action: 'delete', pending: true,
    summary: '… real server 192.0.2.22:80 in tcp 192.0.2.10:80 draining (weight 0, 1 connection left): deleted once drained',
  }]);
});

test('graceful removal: no connections → a delete the script re-checks right before the batch (drains instead if busy by then)', (t) => {
  const have = table(web(dest('192.0.2.22', 80, { weight: 4, ...conns(0, 0) })));
  const [op] = diffTables(table(web()), have, opts()).operations;
  t.is(op!.line, '-d -t 192.0.2.10:80 -r 192.0.2.22:80');
  t.deepEqual(op!.conditional, { listed: 'TCP 192.0.2.10:80', dest: '192.0.2.22:80', drain: { line: '-e -t 192.0.2.10:80 -r 192.0.2.22:80 -g -w 0 -x 0 -y 0', inverse: '-e -t 192.0.2.10:80 -r 192.0.2.22:80 -g -w 4 -x 0 -y 0' } });
  t.falsy(op!.change.settles);
});

test('graceful removal: a drained server (weight 0, no connections) is deleted, and the delete settles a drain (verify tolerates it)', (t) => {
  const have = table(web(dest('192.0.2.22', 80, { weight: 0, ...conns(0, 0) })));
  const [op] = diffTables(table(web()), have, opts()).operations;
  t.is(op!.line, '-d -t 192.0.2.10:80 -r 192.0.2.22:80');
  t.deepEqual(op!.conditional, { listed: 'TCP 192.0.2.10:80', dest: '192.0.2.22:80' }, 'busy again by then: left at weight 0');
  t.true(op!.change.settles);
  t.is(op!.change.summary, '- delete real server 192.0.2.22:80 from tcp 192.0.2.10:80 (drained)');
});

test('UDP and SCTP real servers are deleted at once, connections or not (conntrack keeps a weight-0 UDP server busy for ever)', (t) => {
  for (const service of [{ kind: 'inet' as const, protocol: 'udp' as const, address: '192.0.2.11', port: 53 }, { kind: 'inet' as const, protocol: 'sctp' as const, address: '192.0.2.12', port: 3868 }]) {
    const have = table(svc(service, {}, [dest('192.0.2.21', service.port, { weight: 2, ...conns(3, 40) })]));
    const [op, ...rest] = diffTables(table(svc(service)), have, opts()).operations;
    t.is(rest.length, 0);
    t.is(op!.kind, 'delete-dest');
    t.is(op!.conditional, undefined);
  }
  const marked = table(svc(fwmark(4294967295), {}, [dest('192.0.2.21', 0, { weight: 2, ...conns(1, 0) })]));
  const [fw] = diffTables(table(svc(fwmark(4294967295))), marked, opts()).operations;
  t.is(fw!.kind, 'drain-dest', 'a fwmark service may carry TCP: it drains');
  t.is(fw!.spec, '-f -1', 'the mark as ipvsadm prints it (%d), which the script matches lines by');
});

test('graceful removal: unknown counts (listed after the save) count as connections', (t) => {
  const have = table(web(dest('192.0.2.22', 80, { weight: 4 })));
  t.deepEqual(summaries(diffTables(table(web()), have, opts()).operations), [
    '~ drain real server 192.0.2.22:80 in tcp 192.0.2.10:80: weight 4 → 0 (connections unknown; deleted once drained)',
  ]);
});

test('graceful: false deletes at once, connections or not', (t) => {
  const have = table(web(dest('192.0.2.22', 80, { weight: 4, ...conns(50, 50) }), dest('192.0.2.23', 80, { weight: 0, ...conns(1, 0) })));
  t.deepEqual(lines(diffTables(table(web()), have, opts({ graceful: false })).operations), [
    '-d -t 192.0.2.10:80 -r 192.0.2.22:80', '-d -t 192.0.2.10:80 -r 192.0.2.23:80',
  ]);
});

test('a drained server that comes back is edited to its weight', (t) => {
  const have = table(web(dest('192.0.2.22', 80, { weight: 0, ...conns(0, 3) })));
  const want = table(web(dest('192.0.2.22', 80, { weight: 2 })));
  t.deepEqual(summaries(diffTables(want, have, opts()).operations), ['~ weight 192.0.2.22:80 in tcp 192.0.2.10:80 0 → 2']);
});

test('services are handled in the order ipvsadm lists them', (t) => {
  const want = table(svc(fwmark(1)), svc(udp('192.0.2.10', 53)), svc(tcp('2001:db8::10', 80)), svc(tcp('192.0.2.10', 443)), svc(tcp('192.0.2.9', 80)));
  t.deepEqual(diffTables(want, emptyTable(), opts()).operations.map((op) => op.service), [
    'tcp 192.0.2.9:80', 'tcp 192.0.2.10:443', 'udp 192.0.2.10:53', 'tcp [2001:db8::10]:80', 'fwmark 1 ipv4',
  ]);
});

test('bit 3 on an sh service is sent as flag-3, which ipvsadm accepts', (t) => {
  const [op] = diffTables(table(svc(WEB, { scheduler: 'sh', flags: 5 })), emptyTable(), opts()).operations;
  t.is(op!.line, '-A -t 192.0.2.10:80 -s sh -b sh-fallback,flag-3');
});
