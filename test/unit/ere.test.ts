/**
 * A health gate's body regex is checked at validate as the director's `grep -E` reads it: against
 * the real GNU grep here (Debian's, as on the lab's directors), on cases from glibc's error list
 * and on random patterns over the characters ERE gives a meaning.
 */
import { spawnSync } from 'node:child_process';
import test from 'ava';
import { seededRandom } from '../helpers/random.js';
import { ereProblem } from '../../src/util/ere.js';

/** grep -E's own answer: true when it compiles the pattern (exit 0 or 1), false on exit 2. */
function grepCompiles(pattern: string): boolean {
  const r = spawnSync('grep', ['-E', '--', pattern, '/dev/null'], { encoding: 'utf8' });
  if (r.status !== 0 && r.status !== 1 && r.status !== 2) throw new Error(`grep -E ${pattern}: ${r.error?.message ?? r.stderr}`);
  return r.status !== 2;
}

/** Where lvsplay is stricter than grep on purpose (its answer depends on more than the pattern, or it is huge). */
const STRICTER = /back-reference|counts of at most|printable ASCII|expands to more than/;

const GREP_REFUSES = ['(', '[a', '[[:foo:]]', '[[:ALPHA:]]', 'a{2,1}', 'a{1,2,3}', 'a{}', 'a\\', '\\', '[z-a]', '[a-z-9]', '[a-c-e]', '[[.foo.]]', '[[:alpha:]', '[[:]', '[[.a]', '[^]', '[:alpha:]', '[[:alpha:]-z]', '[[=a=]-z]', '[a-[=z=]]', '[a-[:alpha:]]', 'a{,,', 'a{,,}', '(*)', '(a|?)', '(^*)', '[:a:]', '[:ab-:]'];
const GREP_TAKES = [')', 'a)', '[]a]', '[[:alpha:]]', 'a{1', 'a{,3}', '{1}', '*a', 'a**', '+a', '()', 'a||b', '(|a)', '[a-]', '[[.a.]]', '[[=a=]]', 'a{1}{2}', '\\w+', '\\<x', 'x{1,2}?', '[\\d]', 'a{1a}', 'a{', '{', 'a{,}', 'x{0}', '[^]]', '[--a]', '[%--]', '[]-a]', '[[.-.]]', '[[.].]]', '[a[]', '[\\]', '[\\]]', '[.a.]', '[:a]', '[:]', '{}', '({})', 'a|{}', '[a-z-]', '[---]', '[[.a.]-z]', '[a-[.z.]]', '[[:alpha:]-]', '"status": *"ok"', '^HTTP/1\\.[01] 200', 'ok|ready', '(|)', '(^)', '[::]', '[:a-b:]', '[:a[.b.]:]', '{{2,1}', '*{2,1}', '${2,1}'];

test('what grep -E refuses is refused, with what grep says', (t) => {
  for (const p of GREP_REFUSES) {
    t.false(grepCompiles(p), `grep itself refuses ${p}`);
    const problem = ereProblem(p);
    t.truthy(problem, p);
    t.notRegex(problem ?? '', STRICTER, `${p}: refused for grep's reason, ${problem}`);
  }
});

test('what grep -E takes is taken, including its plain-character readings of "{", ")" and "*"', (t) => {
  for (const p of GREP_TAKES) {
    t.true(grepCompiles(p), `grep itself takes ${p}`);
    t.is(ereProblem(p), undefined, p);
  }
});

test('lvsplay is stricter than grep only where it says why: back-references, big counts, non-ASCII ranges', (t) => {
  for (const p of ['(a)\\1', 'x{256}', '(a{200}){200}', '[a-é]']) t.regex(ereProblem(p) ?? '', STRICTER, p);
});

test('random patterns: never taken when grep refuses, and refused when grep takes only for a stated stricter reason', (t) => {
  const random = seededRandom(20261204);
  const alphabet = [...'()[]{}\\^$*+?|:.=-az12,', '[:alpha:]', '[.a.]', '[=a=]', '{2,1}', '{1,3}', '[:', ':]'];
  let refusedByBoth = 0;
  for (let n = 0; n < 1500; n++) {
    const pattern = Array.from({ length: 1 + Math.floor(random() * 12) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
    const problem = ereProblem(pattern);
    const grep = grepCompiles(pattern);
    if (problem === undefined) t.true(grep, `lvsplay takes ${JSON.stringify(pattern)}, grep -E refuses it`);
    else if (grep) t.regex(problem, STRICTER, `lvsplay refuses ${JSON.stringify(pattern)} (${problem}), grep -E takes it`);
    else refusedByBoth++;
  }
  t.true(refusedByBoth > 100, `the random patterns reach grep's errors (${refusedByBoth})`);
});
