/** src/run/recap.ts: per-host counts over plays, the recap text, and the exit status precedence. */
import test from 'ava';
import { EXIT } from '../../src/cli/exit.js';
import type { HostPlan } from '../../src/plan/types.js';
import { exitCode, formatRecap, recap } from '../../src/run/recap.js';
import type { HostResult, HostStatus } from '../../src/run/types.js';

function plan(host: string, changedTasks: number, tasks: number): HostPlan {
  return {
    host,
    tasks: Array.from({ length: tasks }, (_, i) => ({
      task: `t${i}`, resource: 'sysctl' as const, script: i < changedTasks ? 'x' : '',
      changes: i < changedTasks ? [{ id: 'k', action: 'change' as const, summary: '~ k', before: '0', after: '1' }, { id: 'k2', action: 'add' as const, summary: '+ k2' }] : [],
    })),
  };
}

function result(host: string, status: HostStatus, tasks = 3, changedTasks = 0, play = 'p'): HostResult {
  return {
    host, play, status, tasks, durationMs: 5,
    ...((status === 'ok' || status === 'changed') && { plan: plan(host, changedTasks, tasks) }),
    ...((status === 'failed' || status === 'unreachable') && { error: { stage: 'probe' as const, message: 'boom' } }),
  };
}

test('recap: tasks with changes count as changed (not their changes), the rest ok', (t) => {
  t.deepEqual(recap([result('web1', 'changed', 4, 2), result('web2', 'ok', 4)]), [
    { host: 'web1', ok: 2, changed: 2, failed: 0, unreachable: 0, skipped: 0, ignored: 0 },
    { host: 'web2', ok: 4, changed: 0, failed: 0, unreachable: 0, skipped: 0, ignored: 0 },
  ]);
});

test('recap: a delegated task planned on two directors is one task (regression: a rollout of 4 tasks showed ok=-1 changed=5)', (t) => {
  const change = [{ id: 'w', action: 'change' as const, summary: '~ weight' }];
  const on = (id: string, task: string, director?: string) => ({ id, task: director ? `${task} (on ${director})` : task, resource: 'drain' as const, script: 'x', changes: change });
  const rollout: HostResult = {
    host: 'rs1', play: 'p', status: 'changed', tasks: 4, durationMs: 5,
    plan: { host: 'rs1', tasks: [on('0.0', 'drain', 'lb1'), on('0.0', 'drain', 'lb2'), on('0.1', 'restart'), on('0.3', 'undrain', 'lb1'), on('0.3', 'undrain', 'lb2')] },
  };
  t.deepEqual(recap([rollout]), [{ host: 'rs1', ok: 1, changed: 3, failed: 0, unreachable: 0, skipped: 0, ignored: 0 }]);
});

test('recap: failed and unreachable count once per play; skipped counts the play\'s tasks', (t) => {
  t.deepEqual(recap([result('a', 'failed'), result('b', 'unreachable'), result('c', 'skipped', 5)]), [
    { host: 'a', ok: 0, changed: 0, failed: 1, unreachable: 0, skipped: 0, ignored: 0 },
    { host: 'b', ok: 0, changed: 0, failed: 0, unreachable: 1, skipped: 0, ignored: 0 },
    { host: 'c', ok: 0, changed: 0, failed: 0, unreachable: 0, skipped: 5, ignored: 0 },
  ]);
});

test('recap: one row per host over every play, in order of first appearance', (t) => {
  const rows = recap([
    result('web1', 'changed', 2, 1, 'one'), result('lb1', 'ok', 2, 0, 'one'),
    result('web1', 'failed', 3, 0, 'two'), result('lb1', 'changed', 3, 3, 'two'),
    result('web1', 'skipped', 4, 0, 'three'),
  ]);
  t.deepEqual(rows, [
    { host: 'web1', ok: 1, changed: 1, failed: 1, unreachable: 0, skipped: 4, ignored: 0 },
    { host: 'lb1', ok: 2, changed: 3, failed: 0, unreachable: 0, skipped: 0, ignored: 0 },
  ]);
});

test('recap: a result without a plan (ok from a plan-less path) counts all tasks ok', (t) => {
  t.deepEqual(recap([{ host: 'x', play: 'p', status: 'ok', tasks: 2, durationMs: 0 }])[0], { host: 'x', ok: 2, changed: 0, failed: 0, unreachable: 0, skipped: 0, ignored: 0 });
});

test('formatRecap: aligned host column, Ansible-like counters', (t) => {
  const text = formatRecap(recap([result('web1', 'changed', 4, 2), result('a-long-host-name', 'unreachable')]));
  t.is(text, [
    `RECAP ${'*'.repeat(66)}`,
    'web1             : ok=2  changed=2  unreachable=0  failed=0  skipped=0',
    'a-long-host-name : ok=0  changed=0  unreachable=1  failed=0  skipped=0',
    '',
  ].join('\n'));
  t.is(formatRecap([]), `RECAP ${'*'.repeat(54)}\n\n`);
});

const ON = { check: true, detailedExitcode: true };
const OFF = { check: false, detailedExitcode: false };

test('exitCode: 0 when all is well or only changed (without --check --detailed-exitcode)', (t) => {
  t.is(exitCode([], OFF), EXIT.ok);
  t.is(exitCode([result('a', 'ok'), result('b', 'changed', 3, 1), result('c', 'skipped')], OFF), EXIT.ok);
  t.is(exitCode([result('b', 'changed', 3, 1)], { check: true, detailedExitcode: false }), EXIT.ok);
  t.is(exitCode([result('b', 'changed', 3, 1)], { check: false, detailedExitcode: true }), EXIT.ok, 'detailed only means something under --check');
});

test('exitCode: drifted 3 only with --check and --detailed-exitcode', (t) => {
  t.is(exitCode([result('a', 'ok'), result('b', 'changed', 3, 1)], ON), EXIT.drifted);
  t.is(exitCode([result('a', 'ok')], ON), EXIT.ok);
});

test('exitCode precedence: unreachable 4 > failed 2 > drifted 3 > 0', (t) => {
  const drift = result('d', 'changed', 3, 1);
  t.is(exitCode([drift, result('f', 'failed')], ON), EXIT.failed);
  t.is(exitCode([drift, result('f', 'failed'), result('u', 'unreachable')], ON), EXIT.unreachable);
  t.is(exitCode([result('u', 'unreachable'), result('f', 'failed')], OFF), EXIT.unreachable);
  t.is(exitCode([result('f', 'failed'), result('s', 'skipped')], OFF), EXIT.failed);
  t.deepEqual(EXIT, { ok: 0, badInput: 1, failed: 2, drifted: 3, unreachable: 4, interrupted: 130, terminated: 143, internal: 250 });
});
