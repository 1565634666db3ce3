/**
 * src/plan/build.ts: the one probe script and the splitting of its output back into sections,
 * and the one apply script that stops at the first failed task. Both are plain shell, so they
 * run here under /bin/sh: no host needed.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import fc from 'fast-check';
import type { Task } from '../../src/playbook/model.js';
import { applyScript, hostContext, type PreparedHost, planHost, prepareHost, probeScript, STEP_MARK } from '../../src/plan/pipeline.js';
import { type HostPlan, isEmpty, taskPlan } from '../../src/plan/types.js';
import type { AddressDesired } from '../../src/resources/address/index.js';
import type { LdirectordDesired } from '../../src/resources/ldirectord/index.js';
import type { Resource } from '../../src/resources/resource.js';
import { splitSections, TASK_MARK } from '../../src/resources/sections.js';
import type { SysctlDesired } from '../../src/resources/sysctl/index.js';
import { Templates } from '../../src/templates/templates.js';
import { shq } from '../../src/util/shell.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { selectHosts } from '../../src/playbook/select.js';
import { repoFile } from '../support/paths.js';
import { ctxFor, exampleCluster, hostOf, play, SUPPORT_TEMPLATES, task } from '../support/cluster.js';
import { satisfied, section, sections } from '../support/facts.js';
import { cleanup, runSh, syntaxError, tempDir } from '../support/sh.js';

// ---------------------------------------------------------------- probe framing

/** A resource whose probe prints `desired` verbatim and whose parser hands back what it got. */
const echo: Resource<'shell', string, string> = {
  kind: 'shell',
  desired: () => '',
  probe: (text) => `printf '%s' ${shq(text)}`,
  parse: (output) => output,
  diff: (_desired, actual) => ({ changes: [{ id: 'seen', action: 'change', summary: 'seen', after: actual }], script: 'true' }),
};

function fakeHost(outputs: string[]): PreparedHost {
  const ctx = ctxFor('web1');
  const tasks = outputs.map((text, i) => ({ id: `0.${i}`, task: { name: `t${i}`, kind: 'shell', args: { template: 'x.hbs', check: 'true' } } as Task, resource: echo as unknown as PreparedHost['tasks'][number]['resource'], desired: text }));
  return { ctx, tasks, probe: probeScript(ctx, tasks) };
}

/** What each task's parser received, after a real sh ran the probe script. */
function roundTrip(outputs: string[], mangle: (stdout: string) => string = (s) => s): string[] {
  const host = fakeHost(outputs);
  const script = host.probe;
  const out = runSh(script);
  if (out.code !== 0) throw new Error(`probe script failed: ${out.stderr}`);
  return planHost(host, mangle(out.stdout)).tasks.map((t) => t.changes[0]!.after!);
}

const TRICKY = [
  'plain\n',
  '',
  'no trailing newline',
  '\n\nblank lines around\n\n',
  `x ${TASK_MARK} 0.2@@\n`,
  `   ${TASK_MARK} 0.3@@\n`,
  `${TASK_MARK} 0.4@@ trailing words\n`,
  '\n@@lvsplay-part values@@\nk=v\n\n@@lvsplay-part file@@\nabsent\n',
  '',
  '@@\n@@@@\n',
];

test('probe framing: every task gets exactly its own output back (empty, unterminated, marker-like text not at line start)', (t) => {
  t.deepEqual(roundTrip(TRICKY), TRICKY);
});

test('probe framing: text printed before the first section (a login banner) is dropped', (t) => {
  t.deepEqual(roundTrip(['a\n', 'b\n'], (s) => `Welcome to web1!\nsudo: lecture\n${s}`), ['a\n', 'b\n']);
});

test('probe framing (property): any output that is not a marker line round-trips', (t) => {
  const line = fc.string({ unit: 'grapheme-ascii', maxLength: 12 }).filter((l) => !l.startsWith(TASK_MARK) && !l.includes('\0'));
  const output = fc.array(line, { maxLength: 5 }).chain((lines) => fc.boolean().map((end) => lines.join('\n') + (end && lines.length > 0 ? '\n' : '')));
  fc.assert(fc.property(fc.array(output, { minLength: 1, maxLength: 4 }), (outputs) => JSON.stringify(roundTrip(outputs)) === JSON.stringify(outputs)), { numRuns: 40 });
  t.pass();
});

test('planHost: a section missing from the output (a truncated probe) parses as empty, i.e. "nothing there"', (t) => {
  const host = fakeHost(['first\n', 'second\n']);
  const plan = planHost(host, section('0.0', 'first\n', TASK_MARK));
  t.deepEqual(plan.tasks.map((x) => x.changes[0]!.after), ['first\n', '']);
});

test('splitSections: by name, text before the first marker dropped, markers only as whole lines', (t) => {
  const out = `junk\n\n${TASK_MARK} a@@\none\n\n${TASK_MARK} b@@\n\n${TASK_MARK} c@@\nnot ${TASK_MARK} d@@\n`;
  t.deepEqual([...splitSections(out, TASK_MARK)], [['a', 'one\n'], ['b', ''], ['c', `not ${TASK_MARK} d@@\n`]]);
  t.deepEqual([...splitSections('', TASK_MARK)], []);
  t.deepEqual([...splitSections(`${TASK_MARK} last@@`, TASK_MARK)], [['last', '']]);
});

test('prepareHost: section ids are play.task, so two plays never share one', (t) => {
  const ctx = ctxFor('lb1');
  const p = play([task('sysctl'), task('address')]);
  t.deepEqual(prepareHost(ctx, p, 0).tasks.map((x) => x.id), ['0.0', '0.1']);
  t.deepEqual(prepareHost(ctx, p, 3).tasks.map((x) => x.id), ['3.0', '3.1']);
});

// ---------------------------------------------------------------- the example hosts end to end

const REAL_SERVER_TASKS = [task('address'), task('sysctl')];
const DIRECTOR_TASKS = [task('sysctl'), task('address'), task('ldirectord')];

function prepared(name: string, tasks: Task[] = hostOf(exampleCluster(), name).kind === 'director' ? DIRECTOR_TASKS : REAL_SERVER_TASKS): PreparedHost {
  const cluster = exampleCluster();
  const p = play(tasks);
  return prepareHost(hostContext(cluster, hostOf(cluster, name), p, new Templates([SUPPORT_TEMPLATES])), p, 0);
}

const HOSTS = ['lb1', 'lb2', 'web1', 'web2', 'web3', 'far1', 'far2', 'app1', 'app2'];

for (const name of HOSTS) {
  test(`probe script for ${name} (the bootstrap tasks but ipvs) is valid sh`, (t) => {
    t.is(syntaxError(prepared(name).probe), '');
  });
}

test('the built-in bootstrap.yml: every play\'s probe script is valid sh on every host it selects', (t) => {
  const cluster = exampleCluster();
  const playbook = loadPlaybook(repoFile('playbooks/bootstrap.yml'), cluster);
  const templates = new Templates();
  const bad: string[] = [];
  playbook.plays.forEach((p, i) => {
    for (const host of selectHosts(cluster, p.hosts)) {
      const error = syntaxError(prepareHost(hostContext(cluster, host, p, templates), p, i).probe);
      if (error) bad.push(`${p.name} / ${host.name}: ${error.trim()}`);
    }
  });
  t.deepEqual(bad, []);
});

test('a task with nothing to probe (ldirectord on a real server) still makes a valid probe script', (t) => {
  t.is(syntaxError(prepared('web1', [task('ldirectord'), task('address')]).probe), '');
});

test('a host already as desired: its probe output, assembled per task, plans to nothing', (t) => {
  for (const name of HOSTS) {
    const host = prepared(name);
    const cluster = exampleCluster();
    const h = hostOf(cluster, name);
    const facts = sections(host.tasks.map((x): [string, string] => {
      switch (x.task.kind) {
        case 'sysctl': return [x.id, satisfied.sysctl(x.desired as SysctlDesired)];
        case 'address': return [x.id, satisfied.address(x.desired as AddressDesired, { address: h.address, ...(h.address6 && { address6: h.address6 }) })];
        case 'ldirectord': return [x.id, satisfied.ldirectord(x.desired as LdirectordDesired)];
        default: throw new Error(x.task.kind);
      }
    }), TASK_MARK);
    const plan = planHost(host, facts);
    t.true(isEmpty(plan), `${name}: ${plan.tasks.flatMap((x) => x.changes.map((c) => c.summary)).join('; ')}`);
    t.true(plan.tasks.every((x) => x.script === ''));
  }
});

test('render = a plan against empty facts: every task that has something to do, with its script', (t) => {
  const plan = planHost(prepared('far1'), '');
  t.deepEqual(plan.tasks.map((x) => [x.task, x.resource, x.changes.length > 0, x.script !== '']), [['address', 'address', true, true], ['sysctl', 'sysctl', true, true]]);
  t.is(syntaxError(applyScript(plan)), '');
});

test('taskPlan: no changes means no script, whatever script was given', (t) => {
  t.deepEqual(taskPlan('t', 'sysctl', [], 'echo leftover'), { task: 't', resource: 'sysctl', changes: [], script: '' });
});

// ---------------------------------------------------------------- apply script

function fakePlan(scripts: string[]): HostPlan {
  return {
    host: 'web1',
    tasks: scripts.map((script, i) => ({ task: `task ${i}`, resource: 'shell', changes: script ? [{ id: `c${i}`, action: 'change', summary: `~ c${i}` }] : [], script })),
  };
}

function applyHere(scripts: string[]) {
  const dir = tempDir();
  try {
    const out = runSh(applyScript(fakePlan(scripts)), { cwd: dir });
    const made = ['one', 'two', 'three', 'after'].filter((f) => existsSync(join(dir, f)));
    return { ...out, made, markers: out.stdout.split('\n').filter((l) => l.startsWith(STEP_MARK)) };
  } finally {
    cleanup(dir);
  }
}

test('apply: the second task fails → it stops there, says which, exits non-zero, the third never runs', (t) => {
  const r = applyHere(['touch one', 'false', 'touch three']);
  t.is(r.code, 1);
  t.deepEqual(r.markers, [`${STEP_MARK} 0 start@@`, `${STEP_MARK} 0 ok@@`, `${STEP_MARK} 1 start@@`, `${STEP_MARK} 1 failed 1@@`]);
  t.deepEqual(r.made, ['one']);
});

test('apply: set -e holds inside a task: `false; echo after` never prints after', (t) => {
  const r = applyHere(['false; echo after; touch after', 'touch two']);
  t.false(r.stdout.includes('after\n'));
  t.deepEqual(r.made, []);
  t.is(r.code, 1);
  t.true(r.markers.includes(`${STEP_MARK} 0 failed 1@@`));
});

test('apply: set -e holds in a function and after a failed command substitution assignment', (t) => {
  t.deepEqual(applyHere(['f() { false; touch after; }\nf']).made, []);
  t.deepEqual(applyHere(['x=$(false)\ntouch after']).made, []);
});

test('apply: the failing command\'s status is the script\'s', (t) => {
  const r = applyHere(['exit 7']);
  t.is(r.code, 7);
  t.deepEqual(r.markers, [`${STEP_MARK} 0 start@@`, `${STEP_MARK} 0 failed 7@@`]);
});

test('apply: tasks without a script are skipped but keep their index in the markers', (t) => {
  const r = applyHere(['', 'touch two', '', 'false']);
  t.deepEqual(r.markers, [`${STEP_MARK} 1 start@@`, `${STEP_MARK} 1 ok@@`, `${STEP_MARK} 3 start@@`, `${STEP_MARK} 3 failed 1@@`]);
});

test('apply: all good → exit 0, every step ok; each task in its own subshell (cd and variables do not leak)', (t) => {
  const r = applyHere(['touch one; cd /; rc=9; tmp=x', 'touch two; [ -z "${tmp:-}" ]', 'touch three']);
  t.is(r.code, 0, r.stderr);
  t.deepEqual(r.made, ['one', 'two', 'three']);
  t.is(r.markers.filter((m) => m.endsWith(' ok@@')).length, 3);
});

test('apply: a script whose last line has no newline, and one with a here-document, still frame correctly', (t) => {
  const r = applyHere(['touch one', 'cat > two <<EOF\nline\nEOF', 'touch three']);
  t.is(r.code, 0, r.stderr);
  t.deepEqual(r.made, ['one', 'two', 'three']);
});

test('apply: an empty plan is a script that does nothing', (t) => {
  const r = applyHere([]);
  t.is(r.code, 0);
  t.deepEqual(r.markers, []);
});
