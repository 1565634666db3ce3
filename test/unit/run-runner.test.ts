/**
 * runPlaybooks, the scheduler, over a fake fleet (test/support/fake-transport.ts): round trips per
 * host, unreachable and failed hosts, serial batches, any_errors_fatal, max_fail_percentage,
 * forks, one connection per host; and the plain and JSON renderers' output.
 */
import { Writable } from 'node:stream';
import test from 'ava';
import type { Play, Playbook } from '../../src/playbook/model.js';
import { Templates } from '../../src/templates/templates.js';
import { JsonRenderer } from '../../src/run/render-json.js';
import { PlainRenderer } from '../../src/run/render-plain.js';
import { exitCode, recap } from '../../src/run/recap.js';
import { runPlaybooks, type RunOptions } from '../../src/run/runner.js';
import type { HostResult, Renderer } from '../../src/run/types.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../src/util/problems.js';
import { exampleCluster, play, task } from '../support/cluster.js';
import { type FakeHost, FakeFleet } from '../support/fake-transport.js';
import { golden } from '../support/golden.js';

const TEMPLATES = new Templates();

function overrideDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'lvsplay-tpl-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/** A play that wants the ipvsadm package on `hosts`. */
function pkgPlay(hosts: string[], options: Partial<Play> = {}, tasks = 1): Play {
  return play(Array.from({ length: tasks }, (_, i) => task('package', { names: ['ipvsadm'] }, `ipvsadm #${i + 1}`)), { name: `install on ${hosts.join(',')}`, hosts, ...options });
}

/** A renderer that draws nothing but keeps what it was told. */
class Quiet implements Renderer {
  readonly plays: string[] = [];
  readonly skipped: HostResult[] = [];
  readonly batchSizes: number[] = [];
  readonly notes: string[] = [];
  playStart(p: Play, hosts: string[]): void {
    this.plays.push(`${p.name}: ${hosts.join(',')}`);
  }
  batchStart(hosts: string[]): void {
    this.batchSizes.push(hosts.length);
  }
  hostProgress(): void {}
  hostDone(): void {}
  async batchEnd(): Promise<void> {}
  hostSkipped(r: HostResult): void {
    this.skipped.push(r);
  }
  note(text: string): void {
    this.notes.push(text);
  }
  done(): void {}
}

async function runFleet(plays: Play[], hosts: Record<string, FakeHost>, options: Partial<RunOptions & { limit: string[] }> = {}, renderer: Renderer = new Quiet(), defaults?: FakeHost, playbooks?: Playbook[]) {
  const fleet = new FakeFleet(hosts, defaults);
  const books = playbooks ?? [{ file: 'test.yml', plays }];
  const results = await runPlaybooks(exampleCluster(), books, TEMPLATES, { check: false, forks: 10, connect: fleet.connect, ...options }, renderer);
  const status = Object.fromEntries(results.map((r) => [`${r.play}/${r.host}`, r.status]));
  return { fleet, results, status, renderer };
}

const byHost = (results: HostResult[]) => Object.fromEntries(results.map((r) => [r.host, r.status]));

// ---------------------------------------------------------------- round trips

test('a host already as desired: exactly one exec (the probe), status ok', async (t) => {
  const { fleet, results } = await runFleet([pkgPlay(['web1'])], { web1: { installed: true } });
  t.deepEqual(fleet.execs.get('web1'), ['probe']);
  t.is(results[0]!.status, 'ok');
  t.deepEqual(results[0]!.plan?.tasks.map((x) => x.changes.length), [0]);
});

test('a host that needs a change: probe, then apply and verify in one script (two execs), status changed', async (t) => {
  const { fleet, results } = await runFleet([pkgPlay(['web1'])], { web1: { installed: false } });
  t.deepEqual(fleet.execs.get('web1'), ['probe', 'apply']);
  t.is(results[0]!.status, 'changed');
  t.deepEqual(results[0]!.plan?.tasks[0]?.changes.map((c) => c.summary), ['+ install package ipvsadm']);
});

test('--check: one exec, never an apply; drift reported as changed, exit 3 with --detailed-exitcode', async (t) => {
  const { fleet, results } = await runFleet([pkgPlay(['web1', 'web2'])], { web1: { installed: false }, web2: { installed: true } }, { check: true });
  t.deepEqual(fleet.execs.get('web1'), ['probe']);
  t.deepEqual(fleet.execs.get('web2'), ['probe']);
  t.deepEqual(byHost(results), { web1: 'changed', web2: 'ok' });
  t.is(exitCode(results, { check: true, detailedExitcode: true }), 3);
  t.is(exitCode(results, { check: true, detailedExitcode: false }), 0);
});

test('apply fails: the host is failed at apply, naming the task, after two execs', async (t) => {
  const { fleet, results } = await runFleet([pkgPlay(['web1'])], { web1: { installed: false, applyCode: 100 } });
  t.deepEqual(fleet.execs.get('web1'), ['probe', 'apply']);
  t.is(results[0]!.status, 'failed');
  t.is(results[0]!.error?.stage, 'apply');
  t.is(results[0]!.error?.message, 'task "ipvsadm #1" [package] failed (exit 100): E: Unable to locate package ipvsadm');
});

test('applied but the verify probe still differs: failed at verify', async (t) => {
  const { fleet, results } = await runFleet([pkgPlay(['web1'])], { web1: { installed: false, applyFixes: false } });
  t.deepEqual(fleet.execs.get('web1'), ['probe', 'apply']);
  t.like(results[0], { status: 'failed', error: { stage: 'verify', message: 'applied, but the host still differs: + install package ipvsadm' } });
});

test('applied but the verify probe (in the apply\'s script) exits non-zero: failed at verify, with the probe\'s stderr only', async (t) => {
  const { fleet, results } = await runFleet([pkgPlay(['web1'])], { web1: { installed: false, verifyCode: 2 } });
  t.deepEqual(fleet.execs.get('web1'), ['probe', 'apply']);
  t.like(results[0], { status: 'failed', error: { stage: 'verify', message: 'verify script exited 2: sh: 9: Syntax error' } });
});

test('a host another lvsplay run holds is failed at probe, naming that run; nothing is applied', async (t) => {
  const { results, fleet } = await runFleet([pkgPlay(['web1', 'web2'])], { web1: { busy: true, installed: false }, web2: { installed: false } });
  t.like(results[0], { host: 'web1', status: 'failed', error: { stage: 'probe' } });
  t.regex(results[0]!.error!.message, /another lvsplay run holds this host \(lvsplay-run-other since .*holder pid 4242\)/);
  t.deepEqual(fleet.execs.get('web1'), ['probe']);
  t.is(results[1]!.status, 'changed');
});

test('a check whose reads another run overlapped (lock moved) reads again; three times in a row: failed at probe, saying why', async (t) => {
  const once = await runFleet([pkgPlay(['web1', 'web2'])], { web1: { moved: 1, installed: true }, web2: { installed: true } }, { check: true });
  t.deepEqual(byHost(once.results), { web1: 'ok', web2: 'ok' });
  t.deepEqual(once.fleet.execs.get('web1'), ['probe', 'probe']);
  t.deepEqual(once.fleet.execs.get('web2'), ['probe']);
  const always = await runFleet([pkgPlay(['web1', 'web2'])], { web1: { moved: 3, installed: true }, web2: { installed: true } }, { check: true });
  t.like(always.results[0], { host: 'web1', status: 'failed', error: { stage: 'probe' } });
  t.regex(always.results[0]!.error!.message, /other lvsplay runs took this host while it was read or planned, 3 times/);
  t.deepEqual(always.fleet.execs.get('web1'), ['probe', 'probe', 'probe']);
  t.is(always.results[1]!.status, 'ok');
});

test('an apply refused because another run took the host since the probe (lock moved): read, planned and applied again; three times in a row: failed at apply', async (t) => {
  const once = await runFleet([pkgPlay(['web1'])], { web1: { movedAtApply: 1, installed: false } });
  t.is(once.results[0]!.status, 'changed');
  t.deepEqual(once.fleet.execs.get('web1'), ['probe', 'apply', 'probe', 'apply']);
  const always = await runFleet([pkgPlay(['web1', 'web2'])], { web1: { movedAtApply: 3, installed: false }, web2: { installed: false } });
  t.like(always.results[0], { host: 'web1', status: 'failed', error: { stage: 'apply' } });
  t.regex(always.results[0]!.error!.message, /other lvsplay runs took this host while it was read or planned, 3 times/);
  t.deepEqual(always.fleet.execs.get('web1'), ['probe', 'apply', 'probe', 'apply', 'probe', 'apply']);
  t.is(always.results[1]!.status, 'changed');
});

test('a probe that exits non-zero: failed at probe, with its stderr', async (t) => {
  const { results } = await runFleet([pkgPlay(['web1'])], { web1: { probeCode: 2 } });
  t.like(results[0], { status: 'failed', error: { stage: 'probe', message: 'probe script exited 2: sh: 3: Syntax error' } });
});

// ---------------------------------------------------------------- failures and the others

test('an unreachable host is recorded and the others complete; exit 4', async (t) => {
  const { results, fleet } = await runFleet([pkgPlay(['web1', 'web2', 'web3'])], { web2: { connect: 'unreachable' }, web3: { installed: false } });
  t.deepEqual(byHost(results), { web1: 'ok', web2: 'unreachable', web3: 'changed' });
  t.like(results.find((r) => r.host === 'web2'), { error: { stage: 'connect', message: 'web2: unreachable' } });
  t.is(fleet.execs.get('web2'), undefined);
  t.is(exitCode(results, { check: false, detailedExitcode: false }), 4);
});

test('auth and host-key refusals are unreachable too; a timeout or any other error is failed', async (t) => {
  const { results } = await runFleet([pkgPlay(['web1', 'web2', 'web3', 'far1'])], {
    web1: { connect: 'auth' }, web2: { connect: 'hostkey' }, web3: { connect: 'timeout' }, far1: { connect: 'error' },
  });
  t.deepEqual(byHost(results), { web1: 'unreachable', web2: 'unreachable', web3: 'failed', far1: 'failed' });
  t.like(results.find((r) => r.host === 'far1'), { error: { stage: 'connect', message: 'far1: something odd' } });
});

test('a transport error during the probe: a lost connection is unreachable, a timeout failed, both at the probe stage', async (t) => {
  const { results } = await runFleet([pkgPlay(['web1', 'web2'])], { web1: { probeError: 'unreachable' }, web2: { probeError: 'timeout' } });
  t.like(results[0], { host: 'web1', status: 'unreachable', error: { stage: 'probe', message: 'web1: unreachable during the probe' } });
  t.like(results[1], { host: 'web2', status: 'failed', error: { stage: 'probe', message: 'web2: timeout during the probe' } });
});

test('a host that failed is left out of later plays (skipped), the others go on', async (t) => {
  const renderer = new Quiet();
  const { results, fleet } = await runFleet(
    [pkgPlay(['web1', 'web2', 'web3'], { name: 'first' }), pkgPlay(['web1', 'web2', 'web3'], { name: 'second' }, 2)],
    { web1: { connect: 'unreachable' }, web2: { installed: false, applyCode: 1 } },
    {},
    renderer,
  );
  t.deepEqual(results.map((r) => `${r.play}/${r.host}=${r.status}`), [
    'first/web1=unreachable', 'first/web2=failed', 'first/web3=ok',
    'second/web1=skipped', 'second/web2=skipped', 'second/web3=ok',
  ]);
  t.deepEqual(renderer.skipped.map((r) => [r.host, r.tasks]), [['web1', 2], ['web2', 2]]);
  t.deepEqual(fleet.execs.get('web2'), ['probe', 'apply'], 'no second play on web2');
  t.deepEqual(recap(results).find((r) => r.host === 'web2'), { host: 'web2', ok: 0, changed: 0, failed: 1, unreachable: 0, skipped: 2, ignored: 0 });
});

test('serial: 1 runs the hosts one batch at a time, in inventory order', async (t) => {
  const renderer = new Quiet();
  const { fleet } = await runFleet([pkgPlay(['real_servers'], { serial: [{ count: 1 }] })], {}, {}, renderer, { installed: false, delayMs: 2 });
  t.deepEqual(renderer.batchSizes, [1, 1, 1, 1, 1, 1, 1]);
  t.deepEqual(fleet.probeOrder(), ['web1', 'web2', 'web3', 'far1', 'far2', 'app1', 'app2']);
  // each host's apply (with its verify) ends before the next host's first probe starts
  const events = fleet.events.filter((e) => e.what !== 'connect' && e.what !== 'close').map((e) => `${e.host} ${e.what}`);
  t.deepEqual(events.slice(0, 8), ['web1 probe start', 'web1 probe end', 'web1 apply start', 'web1 apply end', 'web2 probe start', 'web2 probe end', 'web2 apply start', 'web2 apply end']);
  t.is(fleet.maxInFlight, 1);
});

test('serial with a list and a percentage: batch sizes as Ansible cuts them', async (t) => {
  const renderer = new Quiet();
  await runFleet([pkgPlay(['all'], { serial: [{ count: 1 }, { percent: 50 }] })], {}, {}, renderer);
  t.deepEqual(renderer.batchSizes, [1, 4, 4]);
});

test('a whole batch failing stops the play; the later batches are skipped', async (t) => {
  const { results } = await runFleet([pkgPlay(['web1', 'web2', 'web3'], { serial: [{ count: 1 }] })], { web1: { probeCode: 1 } });
  t.deepEqual(byHost(results), { web1: 'failed', web2: 'skipped', web3: 'skipped' });
});

test('without any_errors_fatal a batch with some failures goes on; with it the play stops after that batch', async (t) => {
  const hosts = { web1: { probeCode: 1 } };
  const go = await runFleet([pkgPlay(['web1', 'web2', 'web3', 'far1'], { serial: [{ count: 2 }] })], hosts);
  t.deepEqual(byHost(go.results), { web1: 'failed', web2: 'ok', web3: 'ok', far1: 'ok' });
  const stop = await runFleet([pkgPlay(['web1', 'web2', 'web3', 'far1'], { serial: [{ count: 2 }], anyErrorsFatal: true })], hosts);
  t.deepEqual(byHost(stop.results), { web1: 'failed', web2: 'ok', web3: 'skipped', far1: 'skipped' });
});

test('once a failure breaks the play, no other host of its batch starts (any_errors_fatal, max_fail_percentage): those running finish', async (t) => {
  const hosts = { web1: { probeCode: 1 } };
  const play4 = (options: Partial<Play>) => pkgPlay(['web1', 'web2', 'web3', 'far1'], options);
  // one at a time: web1 fails first, and nothing else starts
  for (const options of [{ anyErrorsFatal: true }, { maxFailPercentage: 0 }, { maxFailPercentage: 20 }]) {
    const { results, fleet } = await runFleet([play4(options)], hosts, { forks: 1 });
    t.deepEqual(byHost(results), { web1: 'failed', web2: 'skipped', web3: 'skipped', far1: 'skipped' }, JSON.stringify(options));
    for (const h of ['web2', 'web3', 'far1']) t.is(fleet.execs.get(h), undefined, `${h} never contacted (${JSON.stringify(options)})`);
    t.regex(results[1]!.error?.message ?? '', /^not started: play ".*" stopped: /);
    t.falsy(results[1]!.interrupted, 'not an interruption: the play stopped');
  }
  // under the threshold (1 of 4 is 25%, not more than 25): every host runs
  const under = await runFleet([play4({ maxFailPercentage: 25 })], hosts, { forks: 1 });
  t.deepEqual(byHost(under.results), { web1: 'failed', web2: 'ok', web3: 'ok', far1: 'ok' });
  // the hosts already running when web1 failed finish
  const wide = await runFleet([play4({ anyErrorsFatal: true })], hosts, { forks: 2 });
  t.is(byHost(wide.results).web2, 'ok');
  t.deepEqual([byHost(wide.results).web3, byHost(wide.results).far1], ['skipped', 'skipped']);
});

test('a play that breaks (any_errors_fatal) ends the run, as in ansible-core: the next play does not run', async (t) => {
  const renderer = new Quiet();
  const { results, fleet } = await runFleet(
    [pkgPlay(['web1', 'web2', 'web3'], { serial: [{ count: 2 }], anyErrorsFatal: true, name: 'one' }), pkgPlay(['web2', 'web3'], { name: 'two' })],
    { web1: { probeCode: 1 } },
    {},
    renderer,
  );
  t.deepEqual(results.map((r) => `${r.play}/${r.host}=${r.status}`), ['one/web1=failed', 'one/web2=ok', 'one/web3=skipped', 'two/web2=skipped', 'two/web3=skipped']);
  t.deepEqual(fleet.execs.get('web3'), undefined, 'nothing ran on web3');
  t.true(renderer.notes.some((n) => n.includes('play "one" stopped: any_errors_fatal')), renderer.notes.join('\n'));
});

test('a whole batch failing ends the run: bootstrap does not go on to the directors when every real server failed', async (t) => {
  const { results, fleet } = await runFleet(
    [pkgPlay(['web1', 'web2'], { name: 'real servers' }), pkgPlay(['lb1', 'lb2'], { name: 'directors' })],
    { web1: { probeCode: 1 }, web2: { connect: 'unreachable' } },
  );
  t.deepEqual(results.map((r) => `${r.play}/${r.host}=${r.status}`), ['real servers/web1=failed', 'real servers/web2=unreachable', 'directors/lb1=skipped', 'directors/lb2=skipped']);
  t.is(fleet.execs.get('lb1'), undefined);
});

test('a play with some failures goes on to the next play of its playbook, but the next playbook does not run (ansible-core)', async (t) => {
  const renderer = new Quiet();
  const first: Playbook = { file: 'first.yml', plays: [pkgPlay(['web1', 'web2'], { name: 'a' }), pkgPlay(['web2', 'web3'], { name: 'b' })] };
  const second: Playbook = { file: 'second.yml', plays: [pkgPlay(['web3'], { name: 'c' })] };
  const { results } = await runFleet([], { web1: { probeCode: 1 } }, {}, renderer, undefined, [first, second]);
  t.deepEqual(results.map((r) => `${r.play}/${r.host}=${r.status}`), ['a/web1=failed', 'a/web2=ok', 'b/web2=ok', 'b/web3=ok', 'c/web3=skipped']);
  t.true(renderer.notes.some((n) => n.startsWith('not running second.yml')), renderer.notes.join('\n'));
  const clean = await runFleet([], {}, {}, new Quiet(), undefined, [first, second]);
  t.deepEqual(clean.results.map((r) => r.status), ['ok', 'ok', 'ok', 'ok', 'ok'], 'without failures every playbook runs');
});

test('ignore_unreachable: an unreachable host is reported, not counted: the batch does not break, the run goes on, exit 0', async (t) => {
  const { results } = await runFleet(
    [pkgPlay(['lb1'], { name: 'release', ignoreUnreachable: true }), pkgPlay(['lb2'], { name: 'take' })],
    { lb1: { connect: 'unreachable' }, lb2: { installed: false } },
  );
  t.deepEqual(results.map((r) => `${r.play}/${r.host}=${r.status}${r.ignored ? ' (ignored)' : ''}`), ['release/lb1=unreachable (ignored)', 'take/lb2=changed']);
  t.is(exitCode(results, { check: false, detailedExitcode: false }), 0);
  t.deepEqual(recap(results).find((r) => r.host === 'lb1'), { host: 'lb1', ok: 0, changed: 0, failed: 0, unreachable: 0, skipped: 0, ignored: 1 });
  const failing = await runFleet([pkgPlay(['lb1'], { name: 'release', ignoreUnreachable: true }), pkgPlay(['lb2'], { name: 'take' })], { lb1: { probeCode: 1 } });
  t.deepEqual(failing.results.map((r) => r.status), ['failed', 'skipped'], 'a failure (not unreachable) still breaks the play');
});

test('asked to stop: hosts running finish, no host starts after, none applies after; the rest are interrupted', async (t) => {
  let stop = false;
  const fleet = new FakeFleet({}, { installed: false, delayMs: 5 });
  const results = await runPlaybooks(exampleCluster(), [{ file: 'x.yml', plays: [pkgPlay(['web1', 'web2', 'web3'], { serial: [{ count: 1 }] })] }], TEMPLATES, {
    check: false, forks: 1, stopping: () => stop,
    connect: async (host) => {
      const transport = await fleet.connect(host);
      if (host.name === 'web2') stop = true; // the signal arrives while web2 probes
      return transport;
    },
  }, new Quiet());
  t.deepEqual(results.map((r) => `${r.host}=${r.status}${r.interrupted ? ' (interrupted)' : ''}`), ['web1=changed', 'web2=skipped (interrupted)', 'web3=skipped (interrupted)']);
  t.deepEqual(fleet.execs.get('web2'), ['probe'], 'web2 probed but did not apply');
  t.is(fleet.execs.get('web3'), undefined);
});

test('every template is rendered for every selected host before the first connection: a missing value is bad input', async (t) => {
  const fleet = new FakeFleet({});
  const tpl = overrideDir({ 'motd.hbs': 'hello {{vars.nosuch}}\n' });
  try {
    const templates = new Templates([tpl]);
    const p = play([task('file', { path: '/etc/motd', template: 'motd.hbs' })], { hosts: ['real_servers'] });
    const error = await t.throwsAsync(() => runPlaybooks(exampleCluster(), [{ file: 'x.yml', plays: [p] }], templates, { check: false, forks: 5, connect: fleet.connect }, new Quiet()), { instanceOf: InputError });
    t.regex(error!.message, /motd\.hbs:1:\d+: "vars\.nosuch" is not defined .*\(for hosts web1, web2, web3, far1, far2 and 2 more\)/);
    t.is(fleet.events.length, 0, 'no host was contacted');
  } finally {
    rmSync(tpl, { recursive: true, force: true });
  }
});

test('max_fail_percentage: more than that share of a batch failed stops the play', async (t) => {
  const hosts = { web1: { probeCode: 1 } };
  const four = ['web1', 'web2', 'web3', 'far1', 'far2', 'app1', 'app2', 'lb1'];
  const over = await runFleet([pkgPlay(four, { serial: [{ count: 4 }], maxFailPercentage: 20 })], hosts);
  t.is(over.results.filter((r) => r.status === 'skipped').length, 4, '25% > 20%');
  const under = await runFleet([pkgPlay(four, { serial: [{ count: 4 }], maxFailPercentage: 25 })], hosts);
  t.is(under.results.filter((r) => r.status === 'skipped').length, 0, '25% is not more than 25%');
});

test('forks bounds how many hosts run at once', async (t) => {
  for (const forks of [1, 2, 4]) {
    const { fleet, results } = await runFleet([pkgPlay(['all'])], {}, { forks }, new Quiet(), { installed: false, delayMs: 3 });
    t.is(fleet.maxInFlight, forks, `forks ${forks}`);
    t.is(results.filter((r) => r.status === 'changed').length, 9);
  }
});

test('one connection per host for the whole run, closed once at the end', async (t) => {
  const { fleet } = await runFleet([pkgPlay(['web1', 'web2'], { name: 'a' }), pkgPlay(['web2', 'lb1'], { name: 'b' })], { web2: { installed: false } });
  const count = (what: string) => Object.fromEntries(['web1', 'web2', 'lb1'].map((h) => [h, fleet.events.filter((e) => e.host === h && e.what === what).length]));
  t.deepEqual(count('connect'), { web1: 1, web2: 1, lb1: 1 });
  t.deepEqual(count('close'), { web1: 1, web2: 1, lb1: 1 });
  t.deepEqual(fleet.execs.get('web2'), ['probe', 'apply', 'probe']);
  const lastClose = fleet.events.map((e) => e.what).lastIndexOf('close');
  t.true(fleet.events.slice(lastClose + 1).length === 0, 'closing is the last thing that happens');
});

test('--limit intersects every play\'s hosts', async (t) => {
  const renderer = new Quiet();
  const { results } = await runFleet([pkgPlay(['real_servers'], { name: 'rs' }), pkgPlay(['directors'], { name: 'd' })], {}, { limit: ['web*', 'lb2'] }, renderer);
  t.deepEqual(results.map((r) => `${r.play}/${r.host}`), ['rs/web1', 'rs/web2', 'rs/web3', 'd/lb2']);
  t.deepEqual(renderer.plays, ['rs: web1,web2,web3', 'd: lb2']);
});

// ---------------------------------------------------------------- renderers

function sink() {
  let text = '';
  const stream = new Writable({ write(chunk, _enc, done) { text += String(chunk); done(); } });
  return { stream, text: () => text };
}

const MIXED: Record<string, FakeHost> = { web1: { installed: true }, web2: { installed: false }, web3: { connect: 'unreachable' }, far1: { installed: false, applyCode: 1 } };
const MIXED_PLAYS = () => [pkgPlay(['web1', 'web2', 'web3', 'far1'], { name: 'install ipvsadm' }), pkgPlay(['web1', 'web3'], { name: 'again' })];

test('PlainRenderer: a line per event and the recap (golden)', async (t) => {
  const out = sink();
  const renderer = new PlainRenderer(out.stream, { diff: false, check: false });
  const { results } = await runFleet(MIXED_PLAYS(), MIXED, { forks: 1 }, renderer);
  renderer.done(results, exitCode(results, { check: false, detailedExitcode: false }));
  golden(t, 'run/plain.txt', out.text());
});

test('PlainRenderer under --check says "would change"', async (t) => {
  const out = sink();
  const renderer = new PlainRenderer(out.stream, { diff: true, check: true });
  const { results } = await runFleet([pkgPlay(['web2'])], { web2: { installed: false } }, { forks: 1, check: true }, renderer);
  renderer.done(results, exitCode(results, { check: true, detailedExitcode: true }));
  t.true(out.text().includes('[web2] would change\n  [package] ipvsadm #1\n    + install package ipvsadm\n'), out.text());
  t.true(out.text().endsWith('exit status 3\n'));
});

test('JsonRenderer: one JSON document with the plays, every result, the recap and the exit status', async (t) => {
  const out = sink();
  const renderer = new JsonRenderer(out.stream, { check: false });
  const { results } = await runFleet(MIXED_PLAYS(), MIXED, { forks: 3 }, renderer);
  t.is(out.text(), '', 'nothing before the end');
  renderer.done(results, exitCode(results, { check: false, detailedExitcode: false }));
  const doc = JSON.parse(out.text()) as { check: boolean; exitCode: number; plays: unknown; results: HostResult[]; recap: unknown };
  t.is(doc.check, false);
  t.is(doc.exitCode, 4);
  t.deepEqual(doc.plays, [{ name: 'install ipvsadm', hosts: ['web1', 'web2', 'web3', 'far1'] }, { name: 'again', hosts: ['web1', 'web3'] }]);
  t.deepEqual(doc.results.map((r) => `${r.play}/${r.host}=${r.status}`), [
    'install ipvsadm/web1=ok', 'install ipvsadm/web2=changed', 'install ipvsadm/web3=unreachable', 'install ipvsadm/far1=failed',
    'again/web3=skipped', 'again/web1=ok',
  ]);
  t.deepEqual(doc.results.find((r) => r.host === 'web2')?.plan?.tasks[0]?.changes, [{ id: 'ipvsadm', action: 'add', summary: '+ install package ipvsadm' }]);
  t.deepEqual(doc.recap, recap(results));
  t.true(out.text().endsWith('}\n'));
});
