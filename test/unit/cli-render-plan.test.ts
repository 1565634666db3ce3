/**
 * `lvsplay render` and `lvsplay plan --facts` end to end: the built CLI in a child process,
 * no host contacted. apply with a bad inventory: exit 1 before any connection.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoPath } from '../helpers/inventory.js';
import { addressProbe, satisfied } from '../support/facts.js';
import type { BootDesired } from '../../src/resources/boot/index.js';
import { ctxFor } from '../support/cluster.js';
import { run } from '../support/resources.js';
import { CLI } from '../support/paths.js';
import { BUILTIN_TEMPLATES, PRECOMPILED_TEMPLATES, sha256Of, TemplateError, Templates, type PrecompiledTemplates } from '../../src/templates/templates.js';
import { createRequire } from 'node:module';

function lvsplay(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: repoPath('.'), encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('render: every host of the built-in bootstrap, as plans from nothing and their apply scripts', (t) => {
  const r = lvsplay('render', '-i', 'inventory/example.yml');
  t.is(r.status, 0, r.stderr);
  for (const host of ['web1', 'far1', 'app1', 'lb1', 'lb2']) t.regex(r.stdout, new RegExp(`^### apply script for ${host}$`, 'm'));
  t.regex(r.stdout, /^ {4}\+ address 192\.0\.2\.10\/32 brd 192\.0\.2\.10 on lo$/m, 'DR VIP on a real server');
  t.regex(r.stdout, /^ {4}\+ add service tcp 192\.0\.2\.13:8443 rr$/m, 'an lvsplay-owned IPVS service');
  t.regex(r.stdout, /\+virtual=192\.0\.2\.10:80/, 'ldirectord.cf for the checked service');
  t.false(r.stdout.includes('ipvsadm -C'), 'never a flush');
});

test('the build\'s precompiled templates: every built-in one, made from its current text; rendering through them gives what compiling the same text gives (a copy of templates/ as an override folder is compiled at run time), and changes no message', (t) => {
  const table = createRequire(import.meta.url)(PRECOMPILED_TEMPLATES) as PrecompiledTemplates;
  const builtins = readdirSync(BUILTIN_TEMPLATES, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.hbs')).map((f) => f.split('\\').join('/')).sort();
  t.deepEqual(Object.keys(table).sort(), builtins);
  for (const name of builtins) t.is(table[name]!.sha256, sha256Of(readFileSync(join(BUILTIN_TEMPLATES, name), 'utf8')), name);
  const copy = mkdtempSync(join(tmpdir(), 'lvsplay-templates-'));
  try {
    cpSync(BUILTIN_TEMPLATES, copy, { recursive: true });
    for (const args of [['-i', 'test/lab/inventory.yml', 'playbooks/bootstrap.yml', 'test/lab/rollout.yml', '--probe'], ['-i', 'test/lab/keepalived.yml', '--probe'], ['-i', 'inventory/example.yml', '--probe']]) {
      const built = lvsplay('render', ...args);
      const compiled = lvsplay('render', ...args, '--templates', copy);
      t.is(built.status, 0, built.stderr);
      t.true(built.stdout.length > 10_000);
      t.is(compiled.stdout, built.stdout, args.join(' '));
      t.regex(compiled.stderr, /built-in template .* is overridden by /, 'the copy was used');
    }
    // errors only a render finds, one placed by the template's AST (parsed again for a precompiled one)
    for (const [name, data] of [['file/write.sh.hbs', {}], ['sysctl/probe.sh.hbs', { keys: [{}] }], ['sysctl/probe.sh.hbs', { keys: [null] }], ['sysctl/probe.sh.hbs', { keys: [{ path: {} }] }]] as const) {
      const error = (templates: Templates) => {
        const err = t.throws(() => templates.render(name, data), { instanceOf: TemplateError });
        return `${err!.line}:${err!.column} ${err!.message}`;
      };
      t.is(error(new Templates()), error(new Templates([copy])), name);
    }
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
});

test('render --host: only that host', (t) => {
  const r = lvsplay('render', '-i', 'inventory/example.yml', '--host', 'web1');
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /^### apply script for web1$/m);
  t.false(r.stdout.includes('### apply script for lb1'));
});

test('render of a rollout: its directors\' steps are named as planned at run time, its own change rendered (was an internal error)', (t) => {
  const r = lvsplay('render', '-i', 'test/lab/inventory.yml', 'test/lab/rollout.yml', '--host', 'rs2', '--probe');
  t.is(r.status, 0, r.stderr);
  t.is(r.stderr, '');
  for (const lb of ['lb1', 'lb2']) {
    t.regex(r.stdout, new RegExp(`^${lb}: drain for rs2: planned at run time, from the director's live table$`, 'm'));
    t.regex(r.stdout, new RegExp(`^${lb}: wait, undrain for rs2: planned at run time, from the director's live table$`, 'm'));
    t.regex(r.stdout, new RegExp(`^### probe script for ${lb} \\(rs2\\)$`, 'm'));
  }
  t.regex(r.stdout, /^### apply script for rs2$/m);
  t.false(r.stdout.includes('### apply script for lb1'), 'no apply script planned against nothing on a director');
});

test('plan --facts: empty facts plan everything (exit 3 with --detailed-exitcode); a host whose facts match plans nothing', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsplay-facts-'));
  try {
    for (const h of ['web1', 'web2', 'web3', 'far1', 'far2', 'app1', 'app2', 'lb1', 'lb2']) writeFileSync(join(dir, `${h}.txt`), '');
    const empty = lvsplay('plan', '-i', 'inventory/example.yml', 'playbooks/check.yml', '--facts', dir, '--detailed-exitcode');
    t.is(empty.status, 3, empty.stderr);
    t.regex(empty.stdout, /^web1: \d+ change\(s\)$/m);
    // app1 (NAT) has only a default route to get: facts with that route already in place.
    const boot = satisfied.boot(run('boot', ctxFor('app1'), {}, '').desired as BootDesired);
    writeFileSync(join(dir, 'app1.txt'), `\n@@lvsplay-task 0.0@@\n${addressProbe([], 'none', '203.0.113.1', [])}\n@@lvsplay-task 0.1@@\n\n@@lvsplay-task 0.2@@\n${boot}`);
    const planned = lvsplay('plan', '-i', 'inventory/example.yml', 'playbooks/check.yml', '--facts', dir);
    t.is(planned.status, 0, planned.stderr);
    t.regex(planned.stdout, /^app1: ok \(no changes\)$/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('render and plan: a play name\'s control characters are shown escaped, as a task name\'s (an ESC sequence or a carriage return could hide or forge lines)', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsplay-facts-'));
  try {
    const book = join(dir, 'named.yml');
    writeFileSync(book, '- name: "Evil\\e[8mhidden\\rweb1: ok (no changes)\\u202e\\nmore"\n  hosts: web1\n  tasks:\n    - name: VIPs\n      address: {}\n');
    writeFileSync(join(dir, 'web1.txt'), '');
    const rendered = lvsplay('render', '-i', 'inventory/example.yml', book);
    const planned = lvsplay('plan', '-i', 'inventory/example.yml', book, '--facts', dir);
    for (const r of [rendered, planned]) {
      t.is(r.status, 0, r.stderr);
      t.regex(r.stdout, /^## Evil\\x1b\[8mhidden\\rweb1: ok \(no changes\)\\u202e\\nmore$/m);
      t.false(/[\x1b\r\u202e]/.test(r.stdout), 'no raw control character');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('plan --facts: a host without its facts file is bad input naming the host and the file, never a plan against nothing', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsplay-facts-'));
  try {
    for (const h of ['web1', 'web2', 'web3', 'far1', 'far2', 'app1', 'lb1', 'lb2']) writeFileSync(join(dir, `${h}.txt`), '');
    const r = lvsplay('plan', '-i', 'inventory/example.yml', 'playbooks/check.yml', '--facts', dir, '--detailed-exitcode');
    t.is(r.status, 1, r.stdout);
    t.is(r.stdout, '');
    t.regex(r.stderr, new RegExp(`^${join(dir, 'app2.txt')}: the facts file of host app2 cannot be read \\(ENOENT\\)$`, 'm'));
    t.false(r.stderr.includes('    at '), 'no stack trace');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('apply with an invalid inventory: exit 1, the problems, and no host contacted', (t) => {
  const r = lvsplay('apply', '-i', 'test/fixtures/inventory/three-problems.yml', 'playbooks/bootstrap.yml');
  t.is(r.status, 1);
  t.regex(r.stderr, /^3 problems found:/);
  t.is(r.stdout, '', 'no play started');
});

test('apply with a --limit that leaves no host, or --forks 0: exit 1, no host contacted', (t) => {
  const limit = lvsplay('apply', '-i', 'inventory/example.yml', 'playbooks/check.yml', '--limit', 'nosuch');
  t.is(limit.status, 1);
  t.regex(limit.stderr, /warning: --limit: "nosuch" is no host, group or pattern.*; ignoring it/);
  t.regex(limit.stderr, /--limit nosuch: leaves no host to work on/);
  t.is(limit.stdout, '');
  // as ansible-playbook: a term that can never be right is an error, not a warning that drops it
  // (an exclusion dropped would run on the host it meant to keep out). "nosuch" first: were the
  // bad term dropped, no host would be left, so a regression cannot contact example.yml's addresses.
  for (const [terms, says] of [['nosuch:!web[3]', /--limit: "web\[3\]": no host matched the subscripted pattern/], ['nosuch:!web[3:0]', /--limit: "web\[3:0\]": no host matched the subscripted pattern/], ['nosuch:~(', /--limit: "~\(": not a regular expression/]] as const) {
    const bad = lvsplay('apply', '-i', 'inventory/example.yml', 'playbooks/check.yml', '--limit', terms);
    t.is(bad.status, 1, terms);
    t.regex(bad.stderr, says);
    t.is(bad.stdout, '', `${terms}: no play started`);
  }
  // "::" is one term there (parse_address reads it as an address), which names no host: not "no limit"
  const colons = lvsplay('apply', '-i', 'inventory/example.yml', 'playbooks/check.yml', '--limit', '::');
  t.is(colons.status, 1, '--limit :: limits to nothing');
  t.regex(colons.stderr, /--limit ::: leaves no host to work on/);
  t.is(colons.stdout, '');
  // a subscript of nothing is read by no one there (_apply_subscript): the term matches nothing, a warning
  const empty = lvsplay('apply', '-i', 'inventory/example.yml', 'playbooks/check.yml', '--limit', 'nosuch[1]');
  t.is(empty.status, 1);
  t.regex(empty.stderr, /warning: --limit: "nosuch\[1\]" is no host, group or pattern.*; ignoring it/);
  t.regex(empty.stderr, /--limit nosuch\[1\]: leaves no host to work on/);
  const exclusion = lvsplay('apply', '-i', 'inventory/example.yml', 'playbooks/check.yml', '--limit', '!all');
  t.is(exclusion.status, 1, 'all hosts but all: none');
  t.regex(exclusion.stderr, /leaves no host/);
  const file = lvsplay('apply', '-i', 'inventory/example.yml', 'playbooks/check.yml', '--limit', '@/nonexistent/retry');
  t.is(file.status, 1, 'a --limit @FILE that does not exist');
  t.regex(file.stderr, /--limit @\/nonexistent\/retry: the file cannot be read \(ENOENT\)/);
  t.false(/\n\s+at /.test(file.stderr), 'no stack trace');
  const forks = lvsplay('apply', '-i', 'inventory/example.yml', 'playbooks/check.yml', '--forks', '0');
  t.is(forks.status, 1);
  t.regex(forks.stderr, /--forks: expected a whole number >= 1/);
  // As ansible-playbook's -f (Python's int): decimal digits; what Number() would also read is not a
  // count. The --limit leaves no host, so a regression cannot contact example.yml's addresses.
  for (const n of ['1e3', '0x10', '2.0', '', '-1', '5x']) {
    const r = lvsplay('apply', '-i', 'inventory/example.yml', 'playbooks/check.yml', '--forks', n, '--limit', 'nosuch');
    t.is(r.status, 1, `--forks ${JSON.stringify(n)}`);
    t.regex(r.stderr, /--forks: expected a whole number >= 1/, n);
  }
});

test('plan --facts: a facts file that is not the host\'s whole probe output (junk, a task\'s section missing as in a file cut short, a section twice) is bad input naming the task; an empty one is a blank host', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsplay-facts-'));
  try {
    for (const h of ['web1', 'web2', 'web3', 'far1', 'far2', 'app1', 'app2', 'lb1', 'lb2']) writeFileSync(join(dir, `${h}.txt`), '');
    for (const [text, says] of [
      ['just some text\n', /web1\.txt: cannot plan host web1 from it: it holds no @@lvsplay-task section for task 0\.0 \(/],
      ['\n@@lvsplay-task 0.0@@\n\n@@lvsplay-task 0.1@@\n', /web1\.txt: .*no @@lvsplay-task section for task 0\.2 \(/],
      ['\n@@lvsplay-task 0.0@@\n\n@@lvsplay-task 0.1@@\n\n@@lvsplay-task 0.2@@\n\n@@lvsplay-task 0.1@@\n', /web1\.txt: .*the @@lvsplay-task section of task 0\.1 twice/],
    ] as const) {
      writeFileSync(join(dir, 'web1.txt'), text);
      const r = lvsplay('plan', '-i', 'inventory/example.yml', 'playbooks/check.yml', '--facts', dir);
      t.is(r.status, 1, text);
      t.regex(r.stderr, says, text);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
