/**
 * The apply script run by sh against the fake ipvsadm: success, a table that changed since the
 * probe, a line that fails (kernel error, parse error, or only inside the batch) and the rollback.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { applyScript } from '../../src/plan/pipeline.js';
import { taskPlan } from '../../src/plan/types.js';
import { applyData, BATCH_LINE, checkBatchLine, renderApply, touchedDigest } from '../../src/resources/ipvs/batch-script.js';
import { diffTables } from '../../src/resources/ipvs/diff.js';
import { parseSave, parseThresholds, withThresholds } from '../../src/resources/ipvs/parse.js';
import type { IpvsTable } from '../../src/resources/ipvs/table.js';
import { Templates } from '../../src/templates/templates.js';
import { Sim } from '../fixtures/ipvs/fake-ipvsadm.js';
import { dest, FAKE_IPVSADM, fwmark, runScript, simFrom, svc, table, tcp } from '../fixtures/ipvs/support.js';
import { cleanup, fakeCommands, syntaxError, tempDir } from '../support/sh.js';

const templates = new Templates();

/** The probed state: ldirectord's service, one of ours, and an IPv6 fwmark one. */
const BEFORE = () => table(
  svc(tcp('192.0.2.10', 80), { scheduler: 'wlc' }, [dest('192.0.2.21', 80, { weight: 3 }), dest('192.0.2.22', 80)]),
  svc(tcp('192.0.2.14', 80), { scheduler: 'wrr' }, [dest('192.0.2.21', 80)]),
  svc(fwmark(7, 'ipv6'), { scheduler: 'rr' }, [dest('2001:db8::21', 0)]),
);

/** Desired: web edited and extended, a new service, the fwmark service's scheduler changed. */
const AFTER = (scheduler = 'rr') => table(
  svc(tcp('192.0.2.10', 80), { scheduler: 'wlc' }, [dest('192.0.2.21', 80, { weight: 5 }), dest('192.0.2.23', 80)]),
  svc(tcp('192.0.2.11', 443), { scheduler }, [dest('192.0.2.21', 443)]),
  svc(fwmark(7, 'ipv6'), { scheduler: 'sh', flags: 2 }, [dest('2001:db8::21', 0)]),
);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  sim: Sim;
  calls: string[];
}

/** Plan AFTER against `sim` (probed through its own output), then run the script with `mutate` applied in between. */
function apply(t: import('ava').ExecutionContext, after: IpvsTable, sim: Sim, env: Record<string, string> = {}, mutate?: (s: Sim) => void) {
  const dir = tempDir('lvsplay-ipvs-apply-');
  t.teardown(() => cleanup(dir));
  const save = sim.save();
  const probed = withThresholds(parseSave(save), parseThresholds(sim.list('thresholds')));
  const { operations } = diffTables(after, probed, { purge: false, graceful: false, deletable: new Set(), foreign: new Set(['tcp 192.0.2.14:80']) });
  const script = renderApply(templates, applyData(operations, save));
  mutate?.(sim);
  const state = join(dir, 'state.json');
  writeFileSync(state, JSON.stringify(sim));
  const path = fakeCommands(dir, { ipvsadm: `exec ${JSON.stringify(process.execPath)} ${JSON.stringify(FAKE_IPVSADM)} "$@"` });
  const log = join(dir, 'calls.log');
  writeFileSync(log, '');
  const r = runScript(script, { cwd: dir, env: { PATH: path, FAKE_IPVSADM_STATE: state, FAKE_IPVSADM_LOG: log, ...env } });
  const run: Run = { ...r, sim: Sim.from(JSON.parse(readFileSync(state, 'utf8'))), calls: readFileSync(log, 'utf8').trim().split('\n') };
  return { operations, script, run };
}

const lineOf = (stdout: string, tag: string) => stdout.split('\n').find((l) => l.startsWith(`@@lvsplay-ipvs-${tag}`));

test.serial('success: one ipvsadm -R with the whole batch, the table as desired', (t) => {
  const { operations, script, run } = apply(t, AFTER(), simFrom(BEFORE()));
  t.is(syntaxError(script), '');
  t.is(run.code, 0, run.stderr);
  t.is(run.stdout, `@@lvsplay-ipvs-applied ${operations.length}\n`);
  t.is(run.calls.filter((c) => c.startsWith('-R')).length, 1);
  const expected = simFrom(BEFORE());
  for (const op of operations) expected.restore(op.line);
  t.deepEqual(run.sim.canonical(), expected.canonical());
  t.true(run.sim.canonical().some((l) => l.startsWith('S fwmark 7 ipv6 sched=sh flags=2')));
});

test.serial('the usual change makes no temp folder (mktemp and rm are ~50-100 ms each on an emulated director): it runs with TMPDIR pointing nowhere', (t) => {
  const { operations, run } = apply(t, AFTER(), simFrom(BEFORE()), { TMPDIR: '/nonexistent/lvsplay' });
  t.is(run.code, 0, run.stderr);
  t.is(run.stdout, `@@lvsplay-ipvs-applied ${operations.length}\n`);
  t.deepEqual(run.calls.map((c) => c.split(' ')[0]), ['-S', '-R'], 'one read of the table, one batch');
});

test.serial('a batch touching thousands of services: the specs reach awk through its input, past the 128 KiB a single argument or environment string may hold', (t) => {
  // long IPv6 addresses: fewer services, a shorter test
  const many = table(...Array.from({ length: 3000 }, (_, i) => svc(tcp(`2001:db8:ffff:ffff:ffff:ffff:ffff:${(i + 1).toString(16)}`, 8443), { scheduler: 'wlc' })));
  const { operations, run } = apply(t, many, simFrom(table()));
  t.true(operations.map((op) => op.spec).join('\n').length > 128 * 1024);
  t.is(run.code, 0, run.stderr);
  t.is(run.stdout, `@@lvsplay-ipvs-applied ${operations.length}\n`);
  t.is(run.sim.canonical().filter((l) => l.startsWith('S ')).length, 3000);
});

test.serial('inside the runner\'s set -e step it behaves the same', (t) => {
  const { operations, script, run } = apply(t, AFTER(), simFrom(BEFORE()));
  const dir = tempDir('lvsplay-ipvs-step-');
  t.teardown(() => cleanup(dir));
  // applyScript puts the system's sbin first in PATH; the test keeps the fake ipvsadm first.
  const local = (text: string) => text.replace(/^export LC_ALL=C PATH=.*$/m, 'export LC_ALL=C');
  const wrapped = applyScript({ host: 'lb1', tasks: [taskPlan('ipvs', 'ipvs', operations.map((op) => op.change), script)] });
  const state = join(dir, 'state.json');
  writeFileSync(state, JSON.stringify(simFrom(BEFORE())));
  const path = fakeCommands(dir, { ipvsadm: `exec ${JSON.stringify(process.execPath)} ${JSON.stringify(FAKE_IPVSADM)} "$@"` });
  const r = runScript(local(wrapped), { cwd: dir, env: { PATH: path, FAKE_IPVSADM_STATE: state } });
  t.is(r.code, 0, r.stderr);
  t.deepEqual(Sim.from(JSON.parse(readFileSync(state, 'utf8'))).canonical(), run.sim.canonical());
  const failing = apply(t, AFTER('nosuch'), simFrom(BEFORE()));
  const wrappedFail = applyScript({ host: 'lb1', tasks: [taskPlan('ipvs', 'ipvs', failing.operations.map((op) => op.change), failing.script)] });
  writeFileSync(state, JSON.stringify(simFrom(BEFORE())));
  const f = runScript(local(wrappedFail), { cwd: dir, env: { PATH: path, FAKE_IPVSADM_STATE: state } });
  t.is(f.code, 1);
  t.regex(f.stdout, /^@@lvsplay-ipvs-rollback ok$/m);
  t.regex(f.stdout, /^@@lvsplay-step 0 failed 1@@$/m);
  t.deepEqual(Sim.from(JSON.parse(readFileSync(state, 'utf8'))).canonical(), simFrom(BEFORE()).canonical());
});

test.serial('a touched service changed since the probe: refuse, change nothing', (t) => {
  const { run } = apply(t, AFTER(), simFrom(BEFORE()), {}, (sim) => sim.restore('-e -t 192.0.2.10:80 -r 192.0.2.22:80 -g -w 9\n'));
  t.is(run.code, 1);
  t.regex(lineOf(run.stdout, 'stale') ?? '', /^@@lvsplay-ipvs-stale [0-9a-f]{64} [0-9a-f]{64}$/);
  t.regex(run.stderr, /table changed since probe/);
  t.deepEqual(run.calls, ['-S -n']);
  t.true(run.sim.canonical().includes('D tcp 192.0.2.10:80 192.0.2.22:80 fwd=g w=9 x=0 y=0 tun=-'));
});

test.serial('a service added since the probe where the batch adds one: refuse', (t) => {
  const { run } = apply(t, AFTER(), simFrom(BEFORE()), {}, (sim) => sim.restore('-A -t 192.0.2.11:443 -s wlc\n'));
  t.is(run.code, 1);
  t.truthy(lineOf(run.stdout, 'stale'));
});

test.serial('ldirectord (or anyone) changing a service the batch does not touch does not block it', (t) => {
  const { run } = apply(t, AFTER(), simFrom(BEFORE()), {}, (sim) => sim.restore('-e -t 192.0.2.14:80 -r 192.0.2.21:80 -g -w 0\n-A -t 192.0.2.99:80 -s rr\n'));
  t.is(run.code, 0, run.stderr);
});

test.serial('a kernel error on one line: that line is named, everything rolled back', (t) => {
  const { operations, run } = apply(t, AFTER('nosuch'), simFrom(BEFORE()));
  const n = operations.findIndex((op) => op.line.startsWith('-A -t 192.0.2.11:443')) + 1;
  t.true(n > 1 && n < operations.length, 'the failing line is in the middle of the batch');
  t.is(run.code, 1);
  t.is(lineOf(run.stdout, 'failed'), `@@lvsplay-ipvs-failed ${n}\t-A -t 192.0.2.11:443 -s nosuch\tScheduler or persistence engine not found`);
  t.is(lineOf(run.stdout, 'rollback'), '@@lvsplay-ipvs-rollback ok');
  t.deepEqual(run.sim.canonical(), simFrom(BEFORE()).canonical());
  t.regex(run.stderr, /batch line \d+ \(-A -t 192\.0\.2\.11:443 -s nosuch\) failed: Scheduler or persistence engine not found; rollback ok/);
});

test.serial('a parse error stops ipvsadm -R at once; the replay still finds the line, and the rollback is complete', (t) => {
  const { operations, run } = apply(t, AFTER(), simFrom(BEFORE()), { FAKE_IPVSADM_PARSE_FAIL: '^-a -t 192\\.0\\.2\\.10:80 -r 192\\.0\\.2\\.23' });
  const n = operations.findIndex((op) => op.line.includes('-r 192.0.2.23:80')) + 1;
  t.is(run.code, 1);
  t.regex(lineOf(run.stdout, 'failed') ?? '', new RegExp(`^@@lvsplay-ipvs-failed ${n}\\t-a -t 192\\.0\\.2\\.10:80 -r 192\\.0\\.2\\.23:80 -g -w 1 -x 0 -y 0\\tinjected parse error`));
  t.is(lineOf(run.stdout, 'rollback'), '@@lvsplay-ipvs-rollback ok');
  t.deepEqual(run.sim.canonical(), simFrom(BEFORE()).canonical());
});

test.serial('a failure only inside the batch (it does not recur alone): line 0, all undone', (t) => {
  const { run } = apply(t, AFTER(), simFrom(BEFORE()), { FAKE_IPVSADM_FAIL: '^-E -f 7', FAKE_IPVSADM_FAIL_BATCH_ONLY: '1' });
  t.is(run.code, 1);
  t.is(lineOf(run.stdout, 'failed'), '@@lvsplay-ipvs-failed 0\t-\tInjected kernel error');
  t.is(lineOf(run.stdout, 'rollback'), '@@lvsplay-ipvs-rollback ok');
  t.deepEqual(run.sim.canonical(), simFrom(BEFORE()).canonical());
});

test.serial('a rollback that cannot complete says so', (t) => {
  // The -E fails, and so does every -d, so the -a's that ran cannot be taken back.
  const { run } = apply(t, AFTER(), simFrom(BEFORE()), { FAKE_IPVSADM_FAIL: '^-E|^-d' });
  t.is(run.code, 1);
  // The first rollback already fails to restore the table, so no line-by-line replay follows.
  t.is(lineOf(run.stdout, 'failed'), '@@lvsplay-ipvs-failed 0\t-\tInjected kernel error Injected kernel error');
  t.is(run.calls.filter((c) => c.startsWith('-R')).length, 2, 'the batch and the rollback, no replay');
  t.is(lineOf(run.stdout, 'rollback'), '@@lvsplay-ipvs-rollback incomplete');
});

test.serial('ipvsadm unusable at apply time: stale "unreadable", nothing run', (t) => {
  const dir = tempDir('lvsplay-ipvs-gone-');
  t.teardown(() => cleanup(dir));
  const sim = simFrom(BEFORE());
  const { operations } = diffTables(AFTER(), parseSave(sim.save()), { purge: false, graceful: true, deletable: new Set(), foreign: new Set() });
  const script = renderApply(templates, applyData(operations, sim.save()));
  const path = fakeCommands(dir, { ipvsadm: 'echo "Can\'t initialize ipvs: Protocol not available" >&2; exit 2' });
  const r = runScript(script, { cwd: dir, env: { PATH: path } });
  t.is(r.code, 1);
  t.regex(r.stdout, /^@@lvsplay-ipvs-stale [0-9a-f]{64} unreadable$/m);
  t.regex(r.stderr, /cannot read the IPVS table: Can't initialize ipvs/);
});

test.serial('the digest covers exactly the touched services\' lines, as the script\'s awk does', (t) => {
  const save = '-A -t 192.0.2.10:80 -s rr\n-a -t 192.0.2.10:80 -r 192.0.2.21:80 -g -w 1\n-A -f 7 -s rr\n-A -f 7 -6 -s rr\n-a -f 7 -6 -r [2001:db8::21]:0 -g -w 1\n';
  const sha = (s: string) => touchedDigest(s, new Set(['-f 7 -6']));
  t.is(sha(save), touchedDigest('-A -f 7 -6 -s rr\n-a -f 7 -6 -r [2001:db8::21]:0 -g -w 1\n', new Set(['-f 7 -6'])));
  t.not(sha(save), sha(save.replace('-A -f 7 -6 -s rr', '-A -f 7 -6 -s wlc')));
  t.is(sha(save), sha(save.replace('-A -f 7 -s rr', '-A -f 7 -s wlc')));
  const dir = tempDir('lvsplay-ipvs-awk-');
  t.teardown(() => cleanup(dir));
  writeFileSync(join(dir, 'save'), save);
  writeFileSync(join(dir, 'touched'), '-f 7 -6\n-t 192.0.2.10:80\n');
  const r = runScript(`awk 'NR == FNR { keep[$0] = 1; next } { spec = $2 " " $3; if ($2 == "-f" && $4 == "-6") spec = spec " -6"; if (spec in keep) print }' touched save | sha256sum | cut -d' ' -f1`, { cwd: dir });
  t.is(r.stdout.trim(), touchedDigest(save, new Set(['-f 7 -6', '-t 192.0.2.10:80'])));
});

test.serial('only plain ipvsadm lines are embedded: no flush, no shell syntax', (t) => {
  for (const ok of ['-A -t [2001:db8::10]:80 -s wlc -p 300 -M 64', '-a --sctp-service 192.0.2.10:3868 -r 192.0.2.21:3868 -i -w 1 --tun-type gre --tun-csum -x 0 -y 0', '-E -f 4294967295 -6 -s sh -b sh-fallback,sh-port -o', '-d -u 192.0.2.10:53 -r 192.0.2.21:53']) {
    t.is(checkBatchLine(ok), ok);
  }
  for (const bad of ['-C', '--clear', '-A -t 192.0.2.10:80 -s rr; reboot', '-A -t 192.0.2.10:80 -s $(reboot)', '-a -t 192.0.2.10:80 -r `x`', '-D -t 192.0.2.10:80\n-C', '-A -t 192.0.2.10:80 --clear', "-A -t '192.0.2.10:80'", '-S -n']) {
    t.false(BATCH_LINE.test(bad), bad);
    t.throws(() => checkBatchLine(bad));
  }
});

// ---------------------------------------------------------------- graceful termination, re-checked on the host

/** web (or a fwmark twin) with .21 staying, .22 leaving (weight 1, idle at the probe) and .23 leaving (already drained). */
const service = (proto: 'tcp' | 'fwmark') => (proto === 'tcp' ? tcp('192.0.2.10', 80) : fwmark(7));
const DRAINING = (proto: 'tcp' | 'fwmark') => table(svc(service(proto), { scheduler: 'wlc' }, [
  dest('192.0.2.21', 80, { weight: 3, conns: { active: 0, inactive: 0 } }),
  dest('192.0.2.22', 80, { weight: 1, conns: { active: 0, inactive: 0 } }),
  dest('192.0.2.23', 80, { weight: 0, conns: { active: 0, inactive: 0 } }),
]));
const STAYING = (proto: 'tcp' | 'fwmark') => table(svc(service(proto), { scheduler: 'wlc' }, [dest('192.0.2.21', 80, { weight: 3 })]));

/** Connection counts of the leaving servers, by address. */
type Conns = Record<string, { active?: number; inactive?: number }>;

function withConns(sim: Sim, conns: Conns = {}): void {
  for (const [addr, counts] of Object.entries(conns)) Object.assign(sim.services[0]!.dests.find((d) => d.addr === addr)!, counts);
}

interface Graceful {
  /** Connections the probe sees, and those there by the time the batch runs. */
  atProbe?: Conns;
  atBatch?: Conns;
  drainWait?: number;
  /** Every connection ends at the Nth `ipvsadm -L -n` of the wait. */
  idleAfter?: number;
  env?: Record<string, string>;
  proto?: 'tcp' | 'fwmark';
}

function applyGraceful(t: import('ava').ExecutionContext, { atProbe, atBatch, drainWait = 0, idleAfter, env = {}, proto = 'tcp' }: Graceful = {}) {
  const dir = tempDir('lvsplay-ipvs-graceful-');
  t.teardown(() => cleanup(dir));
  const sim = simFrom(DRAINING(proto));
  withConns(sim, atProbe);
  const probed = withThresholds(parseSave(sim.save()), parseThresholds(sim.list('thresholds')));
  const { operations } = diffTables(STAYING(proto), probed, { purge: false, graceful: true, deletable: new Set(), foreign: new Set() });
  const script = renderApply(templates, applyData(operations, sim.save()), drainWait);
  withConns(sim, atBatch);
  const state = join(dir, 'state.json');
  writeFileSync(state, JSON.stringify(sim));
  const path = fakeCommands(dir, { ipvsadm: `exec ${JSON.stringify(process.execPath)} ${JSON.stringify(FAKE_IPVSADM)} "$@"` });
  const idle: Record<string, string> = idleAfter === undefined ? {} : { FAKE_IPVSADM_IDLE_AFTER: String(idleAfter), FAKE_IPVSADM_COUNTER: join(dir, 'lists') };
  const r = runScript(script, { cwd: dir, env: { PATH: path, FAKE_IPVSADM_STATE: state, FAKE_IPVSADM_LOG: join(dir, 'log'), ...idle, ...env } });
  return { operations, script, run: { ...r, sim: Sim.from(JSON.parse(readFileSync(state, 'utf8'))) } };
}

const BUSY: Conns = { '192.0.2.22': { active: 2 }, '192.0.2.23': { inactive: 1 } };

const WEB = /^D (tcp 192\.0\.2\.10:80|fwmark 7 ipv4) /;
const webDests = (sim: Sim) => sim.canonical().filter((l) => WEB.test(l)).map((l) => l.replace(WEB, '').split(' ').slice(0, 3).join(' '));

test.serial('graceful: idle leaving servers are deleted in the one batch', (t) => {
  const { operations, run } = applyGraceful(t);
  t.deepEqual(operations.map((op) => op.line), ['-d -t 192.0.2.10:80 -r 192.0.2.22:80', '-d -t 192.0.2.10:80 -r 192.0.2.23:80']);
  t.is(run.code, 0, run.stderr);
  t.is(run.stdout, '@@lvsplay-ipvs-applied 2\n');
  t.deepEqual(webDests(run.sim), ['192.0.2.21:80 fwd=g w=3']);
});

test.serial('graceful: connections that arrived since the probe turn a delete into a drain, or leave a drained server alone (re-read right before the batch)', (t) => {
  const { run } = applyGraceful(t, { atBatch: BUSY });
  t.is(run.code, 0, run.stderr);
  t.is(run.stdout, '@@lvsplay-ipvs-applied 1\n@@lvsplay-ipvs-draining 1 left after 0 s\n', 'one line ran: the drain; the drained server\'s delete was dropped from the batch');
  // the one look of no drain_wait: .22 still has an ActiveConn; .23 only a closing (InActConn) one, deleted
  t.deepEqual(webDests(run.sim), ['192.0.2.21:80 fwd=g w=3', '192.0.2.22:80 fwd=g w=0']);
});

test.serial('graceful, fwmark: every connection entry counts (the mark may carry UDP, whose flows are always InActConn), so a leaving server with one stays drained', (t) => {
  const { run } = applyGraceful(t, { atBatch: { '192.0.2.23': { inactive: 1 } }, proto: 'fwmark' });
  t.is(run.code, 0, run.stderr);
  t.is(run.stdout, '@@lvsplay-ipvs-applied 1\n@@lvsplay-ipvs-draining 1 left after 0 s\n');
  t.deepEqual(webDests(run.sim), ['192.0.2.21:80 fwd=g w=3', '192.0.2.23:80 fwd=g w=0']);
});

test.serial('graceful with drain_wait: the drained servers are deleted in the same run once their connections end; still busy at the deadline, they stay drained', (t) => {
  // the clients go away at the second look: one second into the wait
  const { run } = applyGraceful(t, { atBatch: BUSY, idleAfter: 2, drainWait: 10 });
  t.is(run.code, 0, run.stderr);
  t.is(run.stdout, '@@lvsplay-ipvs-applied 1\n@@lvsplay-ipvs-draining 0 left after 1 s\n');
  t.deepEqual(webDests(run.sim), ['192.0.2.21:80 fwd=g w=3'], 'both deleted once idle');
  const { run: late } = applyGraceful(t, { atBatch: BUSY, drainWait: 1 });
  t.is(late.stdout, '@@lvsplay-ipvs-applied 1\n@@lvsplay-ipvs-draining 1 left after 1 s\n');
  t.deepEqual(webDests(late.sim), ['192.0.2.21:80 fwd=g w=3', '192.0.2.22:80 fwd=g w=0'], 'still busy (an ActiveConn): left drained for a later run');
});

test.serial('graceful with drain_wait: a leaving server busy at the probe is drained by the batch, then deleted in the same run once idle', (t) => {
  const { operations, run } = applyGraceful(t, { atProbe: { '192.0.2.22': { active: 2 } }, idleAfter: 2, drainWait: 10 });
  t.deepEqual(operations.map((op) => op.line), ['-e -t 192.0.2.10:80 -r 192.0.2.22:80 -g -w 0 -x 0 -y 0', '-d -t 192.0.2.10:80 -r 192.0.2.23:80']);
  t.is(run.code, 0, run.stderr);
  t.is(run.stdout, '@@lvsplay-ipvs-applied 2\n@@lvsplay-ipvs-draining 0 left after 1 s\n');
  t.deepEqual(webDests(run.sim), ['192.0.2.21:80 fwd=g w=3']);
});

test.serial('graceful: a rewritten batch that fails still rolls back exactly (the undo groups follow the renumbering)', (t) => {
  const { run } = applyGraceful(t, { atBatch: { '192.0.2.23': { inactive: 1 } }, env: { FAKE_IPVSADM_FAIL: '-r 192\\.0\\.2\\.22:80' } });
  t.is(run.code, 1);
  t.regex(run.stdout, /@@lvsplay-ipvs-failed 1\t-d -t 192\.0\.2\.10:80 -r 192\.0\.2\.22:80\t/);
  t.regex(run.stdout, /@@lvsplay-ipvs-rollback ok/);
  t.deepEqual(webDests(run.sim), ['192.0.2.21:80 fwd=g w=3', '192.0.2.22:80 fwd=g w=1', '192.0.2.23:80 fwd=g w=0']);
});
