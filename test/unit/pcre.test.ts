/**
 * A keepalived `regex` is checked at validate as PCRE2 reads it, an ldirectord `receive` as Perl
 * does: against the real engines here (Debian's `grep -P`, PCRE2 10.42, as the keepalived verify
 * step runs it on the director; Debian's `perl`, as the ldirectord verify step runs it), on cases
 * from their error messages and on random patterns over the characters they give a meaning.
 */
import { spawnSync } from 'node:child_process';
import test from 'ava';
import { seededRandom } from '../helpers/random.js';
import { pcreProblem, type RegexDialect } from '../../src/util/pcre.js';

/** grep -P's own answer: true when it compiles the pattern; undefined when it failed matching, not compiling (a runaway recursion). */
function grepCompiles(pattern: string): boolean | undefined {
  // The C locale: grep then compiles without UTF mode, as keepalived does (and as the verify step runs it).
  const r = spawnSync('grep', ['-P', '-e', pattern], { input: '', encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
  if (r.status !== 0 && r.status !== 1 && r.status !== 2) throw new Error(`grep -P ${pattern}: ${r.error?.message ?? r.stderr}`);
  if (/backtracking limit|recurse loop/.test(r.stderr)) return undefined;
  return r.status !== 2;
}

/** perl's answers for many patterns at once, compiled as ldirectord's `$recstr =~ /$$v{receive}/` compiles a pattern from a variable. */
function perlCompiles(patterns: string[]): boolean[] {
  const r = spawnSync('perl', ['-ne', 'chomp; my $p = $_; print((eval { no warnings; qr/$p/; 1 }) ? "1\\n" : "0\\n")'], { input: `${patterns.join('\n')}\n`, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`perl: ${r.error?.message ?? r.stderr}`);
  return r.stdout.split('\n').slice(0, patterns.length).map((v) => v === '1');
}

function compiles(dialect: RegexDialect, patterns: string[]): (boolean | undefined)[] {
  return dialect === 'pcre2' ? patterns.map(grepCompiles) : perlCompiles(patterns);
}

/** Health-check regexes people write: both engines take them (JavaScript's RegExp refuses the first five). */
const BOTH_TAKE = [
  '(?i)<title>welcome</title>', '\\AHTTP/1\\.[01] 200', '"status":\\s*"ok"', '(?>\\d+)ms', 'ok++', '[[:digit:]]+ healthy', '(?#status)OK',
  '(?x) ok \\s* [#] ', '\\x{41}PI', '\\p{L}+', '(?<=HTTP/1\\.1 )200', '(?<v>\\d+)\\.\\k<v>', '(?|(a)|(b))\\1', 'x{,3}', '[]a]', '[^]a]',
  '^HTTP/1\\.[01] [23]\\d\\d', 'ok|ready', '(?i:up)\\b', '(?-i)OK', '(?s).*ready', '\\Gx', '\\bUP\\b', '[\\w.-]+@', '(?P<n>a)(?P=n)', '(a)(?1)',
  '(?(1)a|b)(x)', '(*ACCEPT)', '\\cA', '\\o{101}', '(?<=a|bc)x', '(?:a|b){2,5}?', 'a{0}', '\\10', '\\012', '[\\b]', '[a-]', '[%--]', '(?)',
  '(?<n>a)\\g{n}', '(a)\\g{-1}', '(?=a)*', 'a(?#x)*', '(?<=a(?:bc|de))x', '[\\w-]',
  '(?(*pla:a)b)', '(a)(?<=(?1))',
];
const PCRE2_ONLY = ['\\Qa(b\\E', '(?J)(?<a>x)|(?<a>y)', '(?U)a+', '(*UTF)ok', '(?C1)a', '(?*a)', '(*napla:a)', '(?(VERSION>=10.0)a)', '(?<=(a)\\1)x', '(?<=\\C)', '(*UTF)\\x{100}', '(*UTF)\\N{U+41}', '(*UTF)(?<=(?:é|a))', '(*UTF)(?<é>a)'];
const PERL_ONLY = ['\\u0041', '[\\w-z]', '(?a)x', '(?<=ab{0,3})x', '(?<=a{1,2})x', '{2}', '\\i', '[:alpha:]', '(?<a>x)(?<a>y)', '^*', '\\b?', '\\K{2}', '\\N{LATIN SMALL LETTER A}', '\\x{zz}', 'a{2,1}', 'a{3,1}{1,3}', '(?[ [a-z] ])', '(?[ \\w - [aeiou] ])x', '\\N{U+41}', '\\x{100}', '\\o{400}', '(?<=(?:é|a))'];
const BOTH_REFUSE = [
  '(', 'a)', '[a', '[z-a]', '[\\x7a-a]', 'a**', 'a+*', 'a{2}{3}', '*a', 'a|*', '(?i)*', '(?#x)*', '\\', '\\c', '(*)', '(*XYZ)', '(*MARK)', '[[:foo:]]',
  '[[=a=]]', '[[.a.]]', '(?<1a>x)', '(?z)a', '(?-^)a', '\\1', '(a)\\2', '\\8', '\\81', '\\k<n>', '\\g{-1}', '\\g0', '(a)\\g', '(?&n)', '(?1)', '(?-1)', '(?+1)',
  '(?P=n)', '(?P)', '(?P<n)', '\\k<1>', '\\k', '\\o', '\\o{}', '\\p', '\\p{L', '(?<=\\Ka)', '(?<=a|b+)', '(?<=\\X)', 'a(?#x', '(?(1)a|b|c)(x)', '(?(DEFINE)a|b)',
  '(?(*atomic:a)b)', '(?[', '(?[a])', '(?(<n>)a)', '\\K*', '\\K+', '(?', 'a(*UTF)',  `a{${65536}}`,
];
const PCRE2_REFUSES = [
  '\\u0041', '[\\w-z]', '[a-\\w]', '[[:alpha:]-z]', 'a{2,1}', '\\i', '\\F', '\\N{LATIN SMALL LETTER A}', '[:alpha:]', '\\x{zz}', '\\x{}', '\\x{110000}',
  '\\x{d800}', '\\o{8}', '(?<a>x)(?<a>y)', '(?a)x', '(?p)a', '^*', '$*', '\\b*', '{2}', 'a|{2}', '\\b?', '(*FAIL)+', '(*COMMIT)?', '[\\B]', '[\\R]', '[\\N]',
  '[\\k]', '[\\E]', '[\\E^]', '[A\\Q\\E-9]', '(?<=a(b|cd))', '(?<=a{1,2})', '(?<=\\R)', '(?<=a?)', '(?(R1)a)', '(?(foo)a)', '(?<abcdefghijabcdefghijabcdefghijabc>a)',
  `${'('.repeat(251)}a${')'.repeat(251)}`, '\\cé', '\\K{2}', '(?(?<n>a)b)', '(?<é>a)', '[é-a]', '(*UTF)\\x{d800}', '(*UTF)(?<=\\C)',
];
/** `(?{...})` and `(??{...})` run Perl code: perl refuses them in a pattern from a variable (ldirectord's), and so does lvsplay. */
const PERL_REFUSES = ['a{3,1}?', '(?{ system("id") })', '(??{1})', '(?<n>a)(?<=\\k<n>)', '(a)(?<=\\g1)', '(?[^\\A])', '\\Qa(\\E', '(?J)a', '(?U)a', '(?C1)a', '(*UTF)a', '(?*a)', '(?<*a)', '\\C', '\\e{', '\\d{x', '\\b{xx}', '\\c{', '\\N{a}', '(*atomic:\\K)', 'a{65535}', '(a)(?<=\\1)', '\\g<1>(a)'];

/** Where lvsplay leaves the answer to the director's verify: PCRE2's compiled-size limit, and lookbehinds sized by references to groups of unknown length. */
const LEFT_TO_THE_DIRECTOR = /too large|not fixed length/;

function agree(t: import('ava').ExecutionContext, dialect: RegexDialect, patterns: string[], expected: boolean): void {
  const engine = compiles(dialect, patterns);
  for (const [k, pattern] of patterns.entries()) {
    t.is(engine[k], expected, `${dialect === 'pcre2' ? 'grep -P' : 'perl'} itself ${expected ? 'takes' : 'refuses'} ${pattern}`);
    const problem = pcreProblem(pattern, dialect);
    if (expected) t.is(problem, undefined, `${dialect}: ${pattern}`);
    else t.regex(problem ?? '', / at character \d+$/, `${dialect}: ${pattern} is refused, saying where`);
  }
}

test('what PCRE2 (grep -P) takes is taken, including what JavaScript refuses: (?i), atomic groups, possessive counts, \\Q...\\E', (t) => {
  agree(t, 'pcre2', [...BOTH_TAKE, ...PCRE2_ONLY], true);
});

test('what Perl takes is taken, including what PCRE2 refuses: \\u, a range from a class, bounded variable lookbehinds', (t) => {
  agree(t, 'perl', [...BOTH_TAKE, ...PERL_ONLY], true);
});

test('what PCRE2 refuses is refused, saying what and where', (t) => {
  agree(t, 'pcre2', [...new Set([...BOTH_REFUSE, ...PCRE2_REFUSES, ...PERL_ONLY])], false);
});

test('what Perl refuses is refused, saying what and where', (t) => {
  agree(t, 'perl', [...new Set([...BOTH_REFUSE, ...PERL_REFUSES, ...PCRE2_ONLY])], false);
});

test('the message names the problem and its place', (t) => {
  t.is(pcreProblem('ab(c', 'perl'), 'an unmatched ( at character 3');
  t.is(pcreProblem('[z-a]', 'pcre2'), 'a range out of order in a character class at character 3');
  t.is(pcreProblem('(?<=a+)b', 'pcre2'), 'a lookbehind assertion that is not fixed length at character 8');
  t.is(pcreProblem('\u{1F600}(', 'perl'), 'an unmatched ( at character 2', 'characters, not UTF-16 units');
});

test('random patterns: lvsplay and the engine agree, but where lvsplay leaves the answer to the director', (t) => {
  const random = seededRandom(20261207);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const atoms = ['a', 'x', '.', '^', '$', '\\d', '\\w', '\\b', '\\A', '\\z', '\\K', '\\R', '\\X', '\\N', '\\C', '\\1', '\\2', '\\10', '\\8', '\\012', '\\x41',
    '\\x{41}', '\\x{zz}', '\\o{101}', '\\cA', '\\Q', '\\E', '\\p{L}', '\\g1', '\\g{-1}', '\\g{n}', '\\k<n>', '\\y', '\\u', '\\-', '\\]', '\\{', '-', ']', '}',
    '{', ':', '=', '<', ',', '1', ' ', '#'];
  const classItems = ['a', 'z', '0', '-', '^', ']', '[', '\\d', '\\w', '\\b', '\\B', '\\x41', '\\x{7a}', '\\]', '\\-', '[:alpha:]', '[:^space:]', '[:foo:]',
    '[.a.]', '\\Q]\\E', '\\Q\\E', '\\E', '\\1', '\\8', '\\N', '\\R', ':'];
  const counts = ['*', '+', '?', '*?', '++', '?+', '{2}', '{1,3}', '{2,}', '{,3}', '{3,1}', '{0}', '{1,2', '{a}', '{ 1,2}', '**'];
  const opens = ['(', '(?:', '(?>', '(?|', '(?=', '(?!', '(?<=', '(?<!', '(?<n>', '(?P<n>', '(?i)', '(?i:', '(?x)', '(?^)', '(?J)', '(?U)', '(?a)', '(?#c)',
    '(?(1)', '(?(<n>)', '(?(R)', '(?(DEFINE)', '(?(?=a)', '(*pla:', '(*atomic:', '(?*', '(?1)', '(?-1)', '(?+1)', '(?&n)', '(?P=n)', '(*ACCEPT)', '(*FAIL)',
    '(*MARK:m)', '(*UTF)', '(?C1)', '(?', '(*'];
  const bracket = () => `${pick(['[', '[^'])}${Array.from({ length: 1 + Math.floor(random() * 3) }, () => pick(classItems) + (random() < 0.3 ? `-${pick(classItems)}` : '')).join('')}${random() < 0.92 ? ']' : ''}`;
  const branch = (depth: number): string => Array.from({ length: 1 + Math.floor(random() * 4) }, () => {
    const r = random();
    const item = r < 0.45 ? pick(atoms) : r < 0.6 ? bracket() : r < 0.85 && depth < 3 ? `${pick(opens)}${alternation(depth + 1)}${random() < 0.93 ? ')' : ''}` : pick(atoms);
    return item + (random() < 0.3 ? pick(counts) : '');
  }).join('');
  const alternation = (depth: number): string => {
    let s = branch(depth);
    while (random() < 0.25) s += `|${branch(depth)}`;
    return s;
  };
  const patterns = [...new Set(Array.from({ length: 700 }, () => alternation(0)))];
  for (const dialect of ['pcre2', 'perl'] as const) {
    const engine = compiles(dialect, patterns);
    let refusedByBoth = 0;
    let left = 0;
    for (const [k, pattern] of patterns.entries()) {
      if (engine[k] === undefined) continue;
      const problem = pcreProblem(pattern, dialect);
      if (problem !== undefined) {
        t.false(engine[k], `${dialect}: lvsplay refuses ${JSON.stringify(pattern)} (${problem}), the engine takes it`);
        refusedByBoth++;
      } else if (engine[k] === false) {
        const said = spawnSync('grep', ['-P', '-e', pattern], { input: '', encoding: 'utf8' }).stderr;
        t.true(dialect === 'pcre2' && LEFT_TO_THE_DIRECTOR.test(said), `${dialect}: lvsplay takes ${JSON.stringify(pattern)}, the engine refuses it ${said}`);
        left++;
      }
    }
    t.true(refusedByBoth > 150, `${dialect}: the random patterns reach the engine's errors (${refusedByBoth})`);
    t.true(left <= patterns.length / 100, `${dialect}: few are left to the director (${left} of ${patterns.length})`);
  }
});
