/**
 * The apply and its verify probe in one script (src/run/apply-then-verify.ts), run by the real
 * /bin/sh: the probe runs only after every task succeeded, sees none of the apply's variables, and
 * the output splits back into the apply's part and the probe's, on both streams.
 */
import test from 'ava';
import type { HostPlan } from '../../src/plan/types.js';
import { applyThenVerify, splitAtMark, verifyMark } from '../../src/run/apply-then-verify.js';
import { runSh } from '../support/sh.js';

const change = { id: 'x', action: 'change' as const, summary: '~ x' };
const plan = (...scripts: string[]): HostPlan => ({ host: 'web1', tasks: scripts.map((script, i) => ({ task: `t${i}`, resource: 'shell', changes: [change], script })) });
const PROBE = 'echo "probe sees apply_var=[${apply_var-unset}]"\necho probe-err >&2\n';

function run(p: HostPlan, probe = PROBE) {
  const mark = verifyMark();
  const r = runSh(applyThenVerify('echo "@@lvsplay-lock ok"\n', p, probe, mark));
  return { mark, raw: r, ...splitAtMark({ code: r.code, stdout: r.stdout, stderr: r.stderr }, mark) };
}

test('every task succeeded: the probe runs after the mark, in a subshell; each stream splits at it', (t) => {
  const { applied, verified, raw } = run(plan('apply_var=set; echo applied-one', 'echo applied-two; echo apply-err >&2'));
  t.is(raw.code, 0);
  t.regex(applied.stdout, /applied-one[\s\S]*applied-two/);
  t.notRegex(applied.stdout, /probe sees/);
  t.is(applied.stderr, 'apply-err\n');
  t.is(verified?.code, 0);
  t.is(verified?.stdout, 'probe sees apply_var=[unset]\n');
  t.is(verified?.stderr, 'probe-err\n');
});

test('a task fails: no mark, no probe; the apply\'s exit status and output are the whole result', (t) => {
  const { applied, verified, raw } = run(plan('echo one', 'echo broken >&2; exit 7', 'echo never'));
  t.is(verified, undefined);
  t.is(raw.code, 7);
  t.is(applied.code, 7);
  t.regex(applied.stdout, /@@lvsplay-step 1 failed 7@@/);
  t.notRegex(applied.stdout, /never|probe sees/);
});

test('the verify probe\'s own exit status is the verify\'s (an exit in the probe ends the script after the mark)', (t) => {
  const { applied, verified } = run(plan('echo ok'), 'echo half\nexit 3\n');
  t.is(applied.code, 0);
  t.deepEqual(verified, { code: 3, stdout: 'half\n', stderr: '' });
});

test('an apply that prints a verify mark of its own (another nonce) is not taken for the real one', (t) => {
  const { applied, verified } = run(plan(`printf '%s\\n' '${verifyMark()}'`));
  t.regex(applied.stdout, /@@lvsplay-verify [0-9a-f]{12}@@/);
  t.is(verified?.stdout, 'probe sees apply_var=[unset]\n');
});
