/**
 * drain, undrain and wait, the rollout's delegated tasks, on a director without hosts: desired
 * state for a subject (a real server), the probe run by sh against the fake ipvsadm with the
 * records in a temp folder, parse, diff, and the apply script run the same way, then planned again.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { loadAll } from '../../src/cli/load.js';
import { InputError } from '../../src/util/problems.js';
import { parseInventory } from '../../src/inventory/load.js';
import type { Cluster, RealServer } from '../../src/inventory/model.js';
import { TASK_ARGS } from '../../src/playbook/tasks.js';
import { prepareRun } from '../../src/plan/prepare.js';
import { drain, undrain } from '../../src/resources/drain/index.js';
import { ipvs } from '../../src/resources/ipvs/index.js';
import { ldirectord } from '../../src/resources/ldirectord/index.js';
import type { HostContext } from '../../src/resources/resource.js';
import { wait } from '../../src/resources/wait/index.js';
import { Templates } from '../../src/templates/templates.js';
import { YamlSource } from '../../src/util/yaml-source.js';
import { Sim } from '../fixtures/ipvs/fake-ipvsadm.js';
import { repoPath } from '../helpers/inventory.js';
import { dest, FAKE_IPVSADM, runScript, simFrom, svc, table, tcp, udp } from '../fixtures/ipvs/support.js';
import { cleanup, fakeCommands, syntaxError, tempDir } from '../support/sh.js';

const INVENTORY = (dir: string) => `
state_dir: ${dir}/state
rules_file: ${dir}/ipvs.rules
ldirectord: { config_file: ${dir}/ldirectord.cf }
directors:
  - { name: lb1, address: 192.0.2.5, role: primary, interface: { name: eth0, address: 192.0.2.5/24 } }
real_servers:
  - { name: web1, address: 192.0.2.21 }
  - { name: web2, address: 192.0.2.22 }
services:
  - name: web
    vip: 192.0.2.10
    port: 80
    scheduler: rr
    real_servers: [{ server: web1, weight: 3 }, { server: web2 }]
  - name: dns
    vip: 192.0.2.11
    port: 53
    protocol: udp
    real_servers: [{ server: web1 }, { server: web2 }]
`;

/** The director's table as the inventory has it, connection counts per web1 server as given. */
function liveTable(web1: { weight?: number; active?: number; inactive?: number } = {}, web2Weight = 1) {
  const conns = { active: web1.active ?? 0, inactive: web1.inactive ?? 0 };
  return table(
    svc(tcp('192.0.2.10', 80), { scheduler: 'rr' }, [dest('192.0.2.21', 80, { weight: web1.weight ?? 3, conns }), dest('192.0.2.22', 80, { weight: web2Weight })]),
    svc(udp('192.0.2.11', 53), {}, [dest('192.0.2.21', 53, { weight: web1.weight === 0 ? 0 : 1, conns }), dest('192.0.2.22', 53)]),
  );
}

interface Lab {
  dir: string;
  cluster: Cluster;
  ctx: (subject: string) => HostContext;
  sh: (script: string, sim: Sim) => { code: number; stdout: string; stderr: string; sim: Sim };
}

function lab(inventory = INVENTORY): Lab {
  const dir = tempDir('lvsplay-rollout-');
  const cluster = parseInventory(new YamlSource('rollout.yml', inventory(dir)));
  const templates = new Templates();
  const path = fakeCommands(dir, { ipvsadm: `exec ${JSON.stringify(process.execPath)} ${JSON.stringify(FAKE_IPVSADM)} "$@"` });
  const state = join(dir, 'state.json');
  return {
    dir, cluster,
    ctx: (subject) => ({ cluster, host: cluster.hosts.get('lb1')!, subject: cluster.hosts.get(subject) as RealServer, vars: {}, templates }),
    sh(script, sim) {
      writeFileSync(state, JSON.stringify(sim));
      const r = runScript(script, { cwd: dir, env: { PATH: path, FAKE_IPVSADM_STATE: state } });
      return { ...r, sim: Sim.from(JSON.parse(readFileSync(state, 'utf8'))) };
    },
  };
}

/** probe → parse → diff of a delegated task on lb1 about `subject`, the probe run against `sim`. */
function plan(l: Lab, kind: 'drain' | 'undrain', subject: string, sim: Sim, args: object = {}) {
  const resource = kind === 'drain' ? drain : undrain;
  const ctx = l.ctx(subject);
  const desired = kind === 'drain' ? drain.desired(ctx, TASK_ARGS.drain.parse(args)) : undrain.desired(ctx, TASK_ARGS.undrain.parse(args));
  const probe = resource.probe(desired, ctx);
  const out = l.sh(probe, sim);
  if (out.code !== 0) throw new Error(`probe exited ${out.code}: ${out.stderr}`);
  return { probe, ...resource.diff(desired, resource.parse(out.stdout, desired), ctx) };
}

/** The plain ipvs task on lb1 (what a later bootstrap would do) against `sim`. */
function bootstrapPlan(l: Lab, sim: Sim) {
  const ctx = { ...l.ctx('web1'), subject: undefined };
  const desired = ipvs.desired(ctx, TASK_ARGS.ipvs.parse({}));
  return ipvs.diff(desired, ipvs.parse(l.sh(ipvs.probe(desired, ctx), sim).stdout, desired), ctx);
}

/** A director bootstrapped to `sim` before the rollout: its record and rules file written. */
function bootstrapped(l: Lab, sim: Sim): Sim {
  const out = l.sh(bootstrapPlan(l, sim).script, sim);
  if (out.code !== 0) throw new Error(`bootstrap exited ${out.code}: ${out.stderr}`);
  return out.sim;
}

const weights = (sim: Sim) => sim.canonical().filter((l) => l.startsWith('D ')).map((l) => l.replace(/ x=.*$/, '').replace(/ fwd=\w/, ''));

test.serial('drain: the subject at weight 0 in every service of the director, remembered; the wait ends when its connections are gone; again: nothing', (t) => {
  const l = lab();
  bootstrapped(l, simFrom(liveTable()));
  const p = plan(l, 'drain', 'web1', simFrom(liveTable()));
  t.is(syntaxError(p.probe), '');
  t.is(syntaxError(p.script), '');
  t.deepEqual(p.changes.map((c) => c.summary), [
    '~ weight 192.0.2.21:80 in tcp 192.0.2.10:80 3 → 0',
    '~ weight 192.0.2.21:53 in udp 192.0.2.11:53 1 → 0',
    `~ file ${join(l.dir, 'ipvs.rules')}`,
    '~ record of the drained real servers lvsplay manages here (1)',
    "… wait up to 60 s for web1's connections to end (0 now)",
  ]);
  const applied = l.sh(p.script, simFrom(liveTable()));
  t.is(applied.code, 0, applied.stderr);
  t.regex(applied.stdout, /@@lvsplay-drain done in 0 s/);
  t.deepEqual(weights(applied.sim), [
    'D tcp 192.0.2.10:80 192.0.2.21:80 w=0', 'D tcp 192.0.2.10:80 192.0.2.22:80 w=1',
    'D udp 192.0.2.11:53 192.0.2.21:53 w=0', 'D udp 192.0.2.11:53 192.0.2.22:53 w=1',
  ]);
  t.is(readFileSync(join(l.dir, 'state/drained'), 'utf8'), '192.0.2.21\n');
  t.true(readFileSync(join(l.dir, 'ipvs.rules'), 'utf8').includes('-a -t 192.0.2.10:80 -r 192.0.2.21:80 -g -w 0\n'), 'the rules file a reboot restores has it drained too');
  t.deepEqual(plan(l, 'drain', 'web1', applied.sim).changes, [], 'drained already: nothing to do');
  t.deepEqual(bootstrapPlan(l, applied.sim).changes, [], 'a later bootstrap does not put it back in rotation');
  cleanup(l.dir);
});

test.serial('drain: connections that do not end fail the task at the deadline (the server stays drained), or go on with at_deadline: continue', (t) => {
  const l = lab();
  const busy = simFrom(liveTable({ active: 4 }));
  const p = plan(l, 'drain', 'web1', busy, { wait: 1 });
  t.regex(p.changes.at(-1)!.summary, /wait up to 1 s for web1's connections to end \(8 now\)/);
  const failed = l.sh(p.script, busy);
  t.is(failed.code, 1, failed.stdout + failed.stderr);
  t.regex(failed.stdout, /@@lvsplay-drain deadline 8 left after 1 s/);
  t.deepEqual(weights(failed.sim).filter((w) => w.includes('192.0.2.21')), ['D tcp 192.0.2.10:80 192.0.2.21:80 w=0', 'D udp 192.0.2.11:53 192.0.2.21:53 w=0']);
  const going = l.sh(plan(l, 'drain', 'web1', busy, { wait: 1, at_deadline: 'continue' }).script, busy);
  t.is(going.code, 0, going.stderr);
  t.regex(going.stdout, /@@lvsplay-drain deadline/);
  // weights already 0 but connections left: draining is still waiting, not done
  t.regex(plan(l, 'drain', 'web1', going.sim, { wait: 5 }).changes.map((c) => c.summary).join('\n'), /^… wait up to 5 s for web1's connections to end \(8 now\)$/);
  cleanup(l.dir);
});

test.serial('drain wait: InActConn counts only with inactive: true; with persistent: true the templates listing is read too (one script, no temp folder)', (t) => {
  const l = lab();
  const idle = simFrom(liveTable({ inactive: 3 }));
  const plain = plan(l, 'drain', 'web1', idle, { wait: 1 });
  t.notRegex(plain.script.slice(plain.script.indexOf('# drain: wait')), /mktemp|rm -|persistent-conn/);
  const ignored = l.sh(plain.script, idle);
  t.is(ignored.code, 0, ignored.stderr);
  t.regex(ignored.stdout, /@@lvsplay-drain done in 0 s/);
  const counted = l.sh(plan(l, 'drain', 'web1', idle, { wait: 1, inactive: true }).script, idle);
  t.is(counted.code, 1);
  t.regex(counted.stdout, /@@lvsplay-drain deadline 6 left after 1 s/);
  const templates = plan(l, 'drain', 'web1', idle, { wait: 1, persistent: true });
  t.regex(templates.script, /ipvsadm -L -n --persistent-conn/);
  const read = l.sh(templates.script, idle);
  t.is(read.code, 0, read.stderr);
  t.regex(read.stdout, /@@lvsplay-drain done in 0 s/);
  cleanup(l.dir);
});

test.serial('undrain: the inventory weights back and the record forgotten; again: nothing', (t) => {
  const l = lab();
  bootstrapped(l, simFrom(liveTable()));
  const drained = l.sh(plan(l, 'drain', 'web1', simFrom(liveTable())).script, simFrom(liveTable())).sim;
  const p = plan(l, 'undrain', 'web1', drained);
  t.deepEqual(p.changes.map((c) => c.summary), [
    '~ weight 192.0.2.21:80 in tcp 192.0.2.10:80 0 → 3',
    '~ weight 192.0.2.21:53 in udp 192.0.2.11:53 0 → 1',
    `~ file ${join(l.dir, 'ipvs.rules')}`,
    '~ record of the drained real servers lvsplay manages here (0)',
  ]);
  const back = l.sh(p.script, drained);
  t.is(back.code, 0, back.stderr);
  t.deepEqual(back.sim.canonical(), simFrom(liveTable()).canonical());
  t.is(readFileSync(join(l.dir, 'state/drained'), 'utf8'), '');
  t.deepEqual(plan(l, 'undrain', 'web1', back.sim).changes, []);
  cleanup(l.dir);
});

test.serial('drain: a director that differs from the inventory in more than the subject is refused before anything changes', (t) => {
  const l = lab();
  const edited = simFrom(liveTable({}, 7)); // web2's weight changed by hand
  const err = t.throws(() => plan(l, 'drain', 'web1', edited));
  t.regex(err!.message, /lb1 differs from the inventory in more than web1's weights \(1 change: ~ weight 192\.0\.2\.22:80 in tcp 192\.0\.2\.10:80 7 → 1\): bring the directors to the inventory first/);
  // the subject's own state never counts: web1 at a hand-made weight is drained all the same
  t.notThrows(() => plan(l, 'drain', 'web1', simFrom(liveTable({ weight: 9 }))));
  cleanup(l.dir);
});

test.serial('drain: ldirectord\'s config as the inventory wants it is no difference (compared without the subject\'s real= lines); an edit to it is', (t) => {
  const checked = (dir: string) => INVENTORY(dir).replace('    scheduler: rr\n', '    scheduler: rr\n    health_check: { type: connect }\n');
  const l = lab(checked);
  const config = join(l.dir, 'ldirectord.cf');
  const wanted = ldirectord.desired(l.ctx('web1'), TASK_ARGS.ldirectord.parse({})).file!.content;
  t.regex(wanted, /real=192\.0\.2\.21:80 gate 3/);
  writeFileSync(config, wanted, { mode: 0o600 });
  // (no ldirectord runs here, which is a difference of its own: the one left)
  t.throws(() => plan(l, 'drain', 'web1', simFrom(liveTable())), { message: /lb1 differs from the inventory in more than web1's weights \(1 change: ~ ldirectord stopped → running\)/ });
  writeFileSync(config, wanted.replace('checkinterval=', 'checkinterval=1'));
  t.throws(() => plan(l, 'drain', 'web1', simFrom(liveTable())), { message: new RegExp(`lb1 differs from the inventory in more than web1's weights \\(2 changes: ~ file ${config};`) });
  cleanup(l.dir);
});

test.serial('drain: ldirectord\'s config with a check password (probed redacted) as the inventory wants it is no difference either', (t) => {
  const checked = (dir: string) => INVENTORY(dir).replace('    scheduler: rr\n', '    scheduler: rr\n    health_check: { type: negotiate, service: mysql, login: lvs, passwd_env: LVSPLAY_TEST_DRAIN_PASS }\n');
  process.env['LVSPLAY_TEST_DRAIN_PASS'] = 'pw-of-the-check';
  const l = lab(checked);
  try {
    const config = join(l.dir, 'ldirectord.cf');
    const wanted = ldirectord.desired(l.ctx('web1'), TASK_ARGS.ldirectord.parse({})).file!.content;
    t.regex(wanted, /passwd="pw-of-the-check"/);
    writeFileSync(config, wanted, { mode: 0o600 });
    t.throws(() => plan(l, 'drain', 'web1', simFrom(liveTable())), { message: /lb1 differs from the inventory in more than web1's weights \(1 change: ~ ldirectord stopped → running\)/ });
    writeFileSync(config, wanted.replace('login="lvs"', 'login="someone"'));
    t.throws(() => plan(l, 'drain', 'web1', simFrom(liveTable())), { message: new RegExp(`lb1 differs from the inventory in more than web1's weights \\(2 changes: ~ file ${config} \\(secrets not shown\\);`) });
  } finally {
    delete process.env['LVSPLAY_TEST_DRAIN_PASS'];
    cleanup(l.dir);
  }
});

test.serial('weight_policy: initial: a weight the runtime set is kept by later runs (no drift), a new member starts at the inventory\'s weight, the rules file keeps the inventory\'s; drain takes it to 0 and undrain back to the inventory\'s; enforce still enforces', (t) => {
  const runtime = (dir: string) => INVENTORY(dir)
    .replace('    real_servers: [{ server: web1, weight: 3 }, { server: web2 }]', '    weight_policy: initial\n    real_servers: [{ server: web1, weight: 3 }, { server: web2, weight_policy: enforce }]');
  const l = lab(runtime);
  const summaries = (p: { changes: { summary: string }[] }) => p.changes.map((c) => c.summary);
  // first run on an empty director: added at the inventory's weights
  const first = l.sh(bootstrapPlan(l, new Sim()).script, new Sim());
  t.is(first.code, 0, first.stderr);
  t.deepEqual(weights(first.sim).filter((w) => w.includes(':80 ')), ['D tcp 192.0.2.10:80 192.0.2.21:80 w=3', 'D tcp 192.0.2.10:80 192.0.2.22:80 w=1']);
  // a feedback agent sets web1 to 7 and web2 to 5: only web2's (enforced) is drift
  const agent = simFrom(liveTable({ weight: 7 }, 5));
  t.deepEqual(summaries(bootstrapPlan(l, agent)), ['~ weight 192.0.2.22:80 in tcp 192.0.2.10:80 5 → 1']);
  const kept = l.sh(bootstrapPlan(l, agent).script, agent).sim;
  t.deepEqual(weights(kept).filter((w) => w.includes(':80 ')), ['D tcp 192.0.2.10:80 192.0.2.21:80 w=7', 'D tcp 192.0.2.10:80 192.0.2.22:80 w=1']);
  t.deepEqual(summaries(bootstrapPlan(l, kept)), [], 'the runtime weight is no drift');
  t.true(readFileSync(join(l.dir, 'ipvs.rules'), 'utf8').includes('-a -t 192.0.2.10:80 -r 192.0.2.21:80 -g -w 3\n'), 'a boot starts from the inventory\'s weight');
  // drain: 7 → 0 (the udp service enforces its weight: 1 → 0); undrain: back to the inventory's 3
  const p = plan(l, 'drain', 'web1', kept, { wait: 0 });
  t.deepEqual(summaries(p).slice(0, 2), ['~ weight 192.0.2.21:80 in tcp 192.0.2.10:80 7 → 0', '~ weight 192.0.2.21:53 in udp 192.0.2.11:53 1 → 0']);
  const drained = l.sh(p.script, kept).sim;
  t.deepEqual(summaries(bootstrapPlan(l, drained)), [], 'drained stays drained, whatever the policy');
  const u = plan(l, 'undrain', 'web1', drained);
  t.deepEqual(summaries(u).slice(0, 2), ['~ weight 192.0.2.21:80 in tcp 192.0.2.10:80 0 → 3', '~ weight 192.0.2.21:53 in udp 192.0.2.11:53 0 → 1']);
  const back = l.sh(u.script, drained).sim;
  t.deepEqual(summaries(bootstrapPlan(l, back)), []);
  cleanup(l.dir);
});

test('weight_policy: initial on a service ldirectord or keepalived owns is refused at its line (they set their weights themselves)', (t) => {
  const text = INVENTORY('/tmp/x').replace('    scheduler: rr\n    real_servers: [{ server: web1, weight: 3 }, { server: web2 }]',
    '    scheduler: rr\n    health_check: { type: connect }\n    weight_policy: initial\n    real_servers: [{ server: web1, weight: 3, weight_policy: initial }, { server: web2 }]');
  const err = t.throws(() => parseInventory(new YamlSource('owned.yml', text)));
  t.regex(err!.message, /owned\.yml:\d+:\d+ services\[0\]\.weight_policy: weights left to the runtime \(weight_policy: initial\) are for services lvsplay owns; ldirectord sets this service's weights itself/);
  t.regex(err!.message, /services\[0\]\.real_servers\[0\]\.weight_policy: weights left to the runtime/);
  t.throws(() => parseInventory(new YamlSource('bad.yml', INVENTORY('/tmp/x').replace('    scheduler: rr\n', '    scheduler: rr\n    weight_policy: sometimes\n'))), { message: /weight_policy: expected one of "enforce", "initial"/ });
});

test('wait: tcp on the ports the subject serves through this director by default; http, dns and command as asked; a failed gate fails the host', (t) => {
  const l = lab();
  const ctx = l.ctx('web1');
  const byDefault = wait.desired(ctx, TASK_ARGS.wait.parse({}));
  t.deepEqual(byDefault.checks.map((c) => `${c.kind} ${c.address}:${c.port}`), ['tcp 192.0.2.21:80'], 'UDP ports have no connect check');
  const all = wait.desired(ctx, TASK_ARGS.wait.parse({ http: { path: '/health', body: 'ok' }, dns: { name: 'example.org' }, command: 'test -n "$LVSPLAY_SERVER"' }));
  t.deepEqual(all.checks.map((c) => [c.kind, c.target]), [['http', 'http://192.0.2.21:80/health'], ['dns', 'example.org'], ['command', 'test -n "$LVSPLAY_SERVER"']]);
  t.is(syntaxError(wait.probe(all, ctx)), '');
  t.deepEqual(wait.diff(all, wait.parse('gate pass\n', all), ctx), { changes: [], script: '' });
  t.throws(() => wait.diff(all, wait.parse('gate fail http: status 503, expected 200\n', all), ctx), { message: /health gate for web1 did not pass after 30 tries: http: status 503, expected 200/ });
  t.throws(() => wait.desired({ ...ctx, subject: undefined }, TASK_ARGS.wait.parse({})), { message: /play's hosts must be real servers/ });
  cleanup(l.dir);
});

test('the rollout playbooks prepare for every host of the lab: a drain refusing an empty director is for the probe to decide, not a crash before any host', (t) => {
  for (const [playbook, templateDirs] of [['playbooks/rollout.yml', []], ['test/lab/rollout.yml', [repoPath('test/lab/templates')]]] as const) {
    const { cluster, playbooks, templates } = loadAll(repoPath('test/lab/inventory.yml'), [repoPath(playbook)], [...templateDirs], ['service=nginx', 'rollout=1']);
    const [play] = prepareRun(cluster, playbooks, templates);
    t.deepEqual(play!.hosts.map((h) => h.host.name), playbook === 'playbooks/rollout.yml' ? ['rs1', 'rs2', 'rs3', 'rs4', 'rs5'] : ['rs1', 'rs2'], playbook);
    t.deepEqual(play!.hosts[0]!.steps.map((s) => s.targets.map((x) => x.ctx.host.name).join()), ['lb1,lb2', 'rs1', 'lb1,lb2'], 'drain on the directors, the change on rs1, gate and undrain on the directors');
  }
});

test('-e: a key whose shell name is a play var\'s or a selected host\'s other var is refused, naming both', (t) => {
  const dir = tempDir('lvsplay-evars-');
  try {
    writeFileSync(join(dir, 'play.yml'), '- name: restart\n  hosts: web\n  vars: { my-var: "1" }\n  tasks:\n    - sysctl: {}\n');
    const fields = (...pairs: string[]) => {
      try {
        loadAll(repoPath('test/lab/inventory.yml'), [join(dir, 'play.yml')], [], pairs);
        return [];
      } catch (err) {
        if (!(err instanceof InputError)) throw err;
        return err.problems.map((p) => `${p.file} ${p.field}: ${p.message}`);
      }
    };
    t.deepEqual(fields('my_var=2'), [`--extra-vars my_var: vars "my_var" and "my-var" (a var of restart in ${join(dir, 'play.yml')}) would both be $LVSPLAY_VAR_my_var in shell templates: rename one`]);
    t.deepEqual(fields('my-var=2'), [], 'the same name is an override');
  } finally {
    cleanup(dir);
  }
});

test('-e values follow the inventory vars\' rules: at most 4096 characters, no control characters (an ESC sequence), and two names that are one shell var are refused; the same key twice is the last', (t) => {
  const load = (...pairs: string[]) => loadAll(repoPath('test/lab/inventory.yml'), [repoPath('test/lab/rollout.yml')], [], ['service=nginx', 'rollout=1', ...pairs]);
  const fields = (...pairs: string[]) => {
    try {
      load(...pairs);
      return [];
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      return err.problems.map((p) => `${p.file} ${p.field}: ${p.message}`);
    }
  };
  // Said as the inventory says it: what is wrong, and the value (escaped, cut), never a secret's
  t.deepEqual(fields('k=a\x1b[31mb'), ['--extra-vars k: expected text without control characters (tab and newline allowed), got "a\\u001b[31mb"']);
  t.deepEqual(fields(`k=${'a'.repeat(4097)}`), [`--extra-vars k: expected at most 4096 character(s), got "${'a'.repeat(56)}...`]);
  t.deepEqual(fields('api_token=x\ry'), ['--extra-vars api_token: expected text without control characters (tab and newline allowed)']);
  t.deepEqual(fields('my-var=1', 'my_var=2'), ['--extra-vars my_var: vars "my_var" and "my-var" would both be $LVSPLAY_VAR_my_var in shell templates: rename one']);
  t.deepEqual(fields('k=a\tb', 'k=1', 'k=2'), []);
  t.is(load('k=1', 'k=2').playbooks[0]!.plays[0]!.vars['k'], '2');
});
