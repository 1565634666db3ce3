/**
 * `lvsplay validate` end to end: the built CLI in a child process, run from the repository root.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadInventory } from '../../src/inventory/load.js';
import { BASE, edit, repoPath } from '../helpers/inventory.js';
import { CLI } from '../support/paths.js';

const root = repoPath('.');

function lvsplay(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: root, encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** file:line:col field: message */
const PROBLEM_LINE = /^(?<file>[^:\s]+):(?<line>\d+):(?<col>\d+)(?: (?<field>\S+))?: (?<message>.+)$/;

test('validate: a valid inventory exits 0 with a one-line summary of the counts', (t) => {
  const cluster = loadInventory(repoPath('inventory/example.yml'));
  const r = lvsplay('validate', '-i', 'inventory/example.yml');
  t.is(r.status, 0, r.stderr);
  t.is(r.stderr, '');
  t.is(r.stdout, `inventory/example.yml: valid: ${cluster.directors.length} directors, ${cluster.realServers.length} real servers, ${cluster.services.length} services\n`);
  t.regex(r.stdout, /^inventory\/example\.yml: valid: 2 directors, 7 real servers, 5 services\n$/);
});

test('validate: a valid inventory and playbook', (t) => {
  const r = lvsplay('validate', '-i', 'inventory/example.yml', 'test/fixtures/playbook/valid.yml');
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /^inventory\/example\.yml: valid: \d+ directors, \d+ real servers, \d+ services, 1 playbook\(s\)\n$/);
});

test('validate: playbooks that select no host at all are refused as apply refuses them, not called valid', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsplay-nohost-'));
  try {
    // One director: a play for the backups selects nobody, rightly, but a run of only that play does nothing.
    writeFileSync(join(dir, 'single.yml'), edit(BASE, '  - name: lb2\n    address: 192.0.2.6\n    interface: { name: eth0, address: 192.0.2.6/24, address6: 2001:db8::6/64 }\n    role: backup\n', ''));
    writeFileSync(join(dir, 'backups.yml'), '- hosts: backup\n  tasks:\n    - sysctl: {}\n');
    const r = lvsplay('validate', '-i', join(dir, 'single.yml'), join(dir, 'backups.yml'));
    t.is(r.status, 1, r.stdout);
    t.is(r.stdout, '');
    t.is(r.stderr, 'lvsplay: the playbooks select no host at all: nothing would be checked or changed\n');
    t.is(lvsplay('validate', '-i', join(dir, 'single.yml')).status, 0, 'the inventory alone is valid');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('-i twice is refused by every command that takes it: ansible-playbook merges them, lvsplay would have used the last alone', (t) => {
  for (const command of [['validate'], ['render'], ['apply', 'playbooks/check.yml'], ['status'], ['plan', '--facts', '/nonexistent']]) {
    const r = lvsplay(...command, '-i', 'inventory/example.yml', '-i', 'test/fixtures/inventory/three-problems.yml');
    t.is(r.status, 1, command[0]);
    t.is(r.stdout, '', command[0]);
    t.regex(r.stderr, /one inventory only: -i inventory\/example\.yml was given already/, command[0]);
  }
});

test('validate: a bad inventory exits 1 with every problem on stderr as file:line:col field: message', (t) => {
  const file = 'test/fixtures/inventory/three-problems.yml';
  const r = lvsplay('validate', '-i', file);
  t.is(r.status, 1);
  t.is(r.stdout, '');
  const lines = r.stderr.trimEnd().split('\n');
  t.is(lines[0], '3 problems found:');
  const problems = lines.slice(1).map((l) => l.match(PROBLEM_LINE)?.groups);
  t.deepEqual(problems.map((p) => p && [p['file'], Number(p['line']), Number(p['col']), p['field']]), [
    [file, 15, 31, 'services[0].real_servers[0].port'],
    [file, 17, 11, 'services[1].name'],
    [file, 20, 17, 'services[1].one_packet'],
  ], r.stderr);
  t.true(problems[0]?.['message']?.includes('must use the service port 80, got 8080'));
  t.true(problems[1]?.['message']?.includes('service name "web" is already used at line 11'));
  t.true(problems[2]?.['message']?.includes('one_packet'));
  // the places are the offending tokens
  const text = readFileSync(repoPath(file), 'utf8').split('\n');
  t.is(text[14]?.slice(30, 34), '8080');
  t.is(text[16]?.slice(10), 'web');
  t.is(text[19]?.slice(16), 'true');
});

test('validate: a bad playbook exits 1 with every problem', (t) => {
  const file = 'test/fixtures/playbook/bad.yml';
  const r = lvsplay('validate', '-i', 'inventory/example.yml', file);
  t.is(r.status, 1);
  t.is(r.stdout, '');
  const lines = r.stderr.trimEnd().split('\n');
  t.is(lines[0], '3 problems found:');
  t.deepEqual(lines.slice(1).map((l) => l.match(PROBLEM_LINE)?.groups?.['field']), ['[0].tasks[0].ipvz', '[1].hosts[1]', '[1].tasks[0].ipvs.purg'], r.stderr);
  t.true(lines.slice(1).every((l) => l.startsWith(`${file}:`)));
});

test('a NUL byte written into any YAML value or key (\\0, \\x00, \\u0000) is bad input at its line and field, in inventories and playbooks; never an internal error', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsplay-nul-'));
  try {
    const playbook = readFileSync(repoPath('test/fixtures/playbook/valid.yml'), 'utf8');
    const cases: [string, string, string, string][] = [
      // [file name, its text, the field said, the file the problem is in]
      ['inv-var.yml', edit(BASE, 'vars: { tier: front }', 'vars: { tier: "fr\\0nt" }'), 'tier', 'inv-var.yml'],
      ['inv-key.yml', edit(BASE, 'vars: { tier: front }', 'vars: { "ti\\x00er": front }'), 'vars', 'inv-key.yml'],
      ['inv-name.yml', edit(BASE, 'name: web1', 'name: "web\\u00001"'), '.name', 'inv-name.yml'],
      ['pb-var.yml', playbook.replace('vars: { release: "2024.1" }', 'vars: { release: "2024\\0.1" }'), '[1].vars.release', 'pb-var.yml'],
      ['pb-path.yml', playbook.replace('path: /etc/nginx/conf.d/site.conf', 'path: "/etc/nginx/conf.d/site\\0.conf"'), '[1].tasks[0].file.path', 'pb-path.yml'],
      ['pb-check.yml', `- hosts: web\n  tasks:\n    - shell: { template: nginx/site.conf.hbs, check: "test -e /x\\0" }\n`, '[0].tasks[0].shell.check', 'pb-check.yml'],
    ];
    for (const [name, text, field, inFile] of cases) {
      writeFileSync(join(dir, name), text);
      const args = name.startsWith('inv') ? ['validate', '-i', join(dir, name)] : ['validate', '-i', 'inventory/example.yml', join(dir, name)];
      const r = lvsplay(...args);
      t.is(r.status, 1, `${name}: ${r.stderr}`);
      t.false(/internal error|    at /.test(r.stderr), `${name}: ${r.stderr}`);
      const problems = r.stderr.trimEnd().split('\n').slice(1).map((l) => l.match(PROBLEM_LINE)?.groups);
      t.true(problems.some((p) => p?.['file'] === join(dir, inFile) && p['field']!.includes(field) && /a NUL byte \("\\0"\) in a (value|key)/.test(p['message']!)), `${name}: ${r.stderr}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('validate: a missing file exits 1 with a problem, not a stack trace', (t) => {
  const r = lvsplay('validate', '-i', 'no/such/inventory.yml');
  t.is(r.status, 1);
  t.regex(r.stderr, /^1 problem found:\nno\/such\/inventory\.yml:1:1: the file cannot be read \(ENOENT\)/);
  t.false(r.stderr.includes('    at '));
});

test('validate: without -i exits 1 and says what is missing', (t) => {
  const r = lvsplay('validate');
  t.is(r.status, 1);
  t.regex(r.stderr, /--inventory/);
});

test('validate with a playbook renders every template for every host: a missing value is exit 1 naming the template, line and name', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsplay-validate-'));
  try {
    mkdirSync(join(dir, 'templates'));
    writeFileSync(join(dir, 'templates', 'motd.hbs'), 'hello\nsite {{vars.sitee}}\n');
    writeFileSync(join(dir, 'site.yml'), '- hosts: web\n  tasks:\n    - file: { path: /etc/motd, template: motd.hbs }\n');
    const r = lvsplay('validate', '-i', 'inventory/example.yml', join(dir, 'site.yml'));
    t.is(r.status, 1, r.stdout);
    t.regex(r.stderr, new RegExp(`^${join(dir, 'templates', 'motd.hbs')}:2:6: "vars\\.sitee" is not defined .*\\(for hosts web1, web2, web3\\)$`, 'm'));
    t.false(/^\s+at /m.test(r.stderr), 'no stack trace');
    const render = lvsplay('render', '-i', 'inventory/example.yml', join(dir, 'site.yml'));
    t.is(render.status, 1);
    t.regex(render.stderr, /motd\.hbs:2:6: "vars\.sitee" is not defined/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an internal error is one line saying it is a bug (exit 250); --debug adds the stack trace', (t) => {
  // A real internal error, no test hook: a copy of lvsplay whose built-in sysctl probe template is broken.
  const dir = mkdtempSync(join(tmpdir(), 'lvsplay-bug-'));
  try {
    cpSync(join(root, CLI, '..'), join(dir, CLI, '..'), { recursive: true });
    cpSync(join(root, 'templates'), join(dir, 'templates'), { recursive: true });
    cpSync(join(root, 'package.json'), join(dir, 'package.json'));
    symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
    writeFileSync(join(dir, 'templates', 'sysctl', 'probe.sh.hbs'), '{{#each}}\n');
    const args = ['validate', '-i', join(root, 'inventory/example.yml'), join(root, 'playbooks/check.yml')];
    const plain = spawnSync(process.execPath, [join(dir, CLI), ...args], { encoding: 'utf8' });
    t.is(plain.status, 250, plain.stderr);
    t.regex(plain.stderr, /^lvsplay: internal error \(a bug in lvsplay, please report it\): template syntax error: .+\nRun again with --debug to see where it happened\.\n$/);
    const debug = spawnSync(process.execPath, [join(dir, CLI), ...args, '--debug'], { encoding: 'utf8' });
    t.is(debug.status, 250);
    t.regex(debug.stderr, /^\s+at /m, 'the trace with --debug');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('render --host with a name that is no host or a host no play selects, and -t with a file: exit 1, nothing rendered; -t is repeatable and never eats the playbook', (t) => {
  const none = lvsplay('render', '-i', 'inventory/example.yml', '--host', 'nosuch');
  t.is(none.status, 1);
  t.is(none.stderr, 'lvsplay: --host nosuch: no such host in inventory/example.yml\n', 'the command line\'s mistake, not at a place in the inventory');
  t.is(none.stdout, '');
  // A host the playbooks do not select: said as the --host's, not at the inventory's 0:0
  const unselected = lvsplay('render', '-i', 'inventory/example.yml', 'playbooks/rollout.yml', '--host', 'lb1', '--host', 'lb2');
  t.is(unselected.status, 1);
  t.is(unselected.stderr, 'lvsplay: --host lb1, lb2: the playbooks select none of them: nothing to render\n');
  t.is(unselected.stdout, '');
  const file = lvsplay('render', '-i', 'inventory/example.yml', '-t', 'README.md', 'playbooks/check.yml');
  t.is(file.status, 1);
  t.regex(file.stderr, /README\.md --templates: expected a folder of templates/);
  const two = lvsplay('render', '-i', 'inventory/example.yml', '-t', 'test/support/templates', 'playbooks/check.yml', '--host', 'lb1');
  t.is(two.status, 0, two.stderr);
  t.regex(two.stdout, /^## Directors$/m, 'check.yml rendered, not bootstrap.yml');
});

test('validate: a template a task names that is not there, or that Handlebars fails on without a line, is reported at the task in its playbook (was the template at 0:0)', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsplay-tpl-'));
  try {
    mkdirSync(join(dir, 'tpl', 'site'), { recursive: true });
    writeFileSync(join(dir, 'tpl', 'site', 'each.hbs'), '{{#each}}x{{/each}}\n');
    const book = join(dir, 'play.yml');
    writeFileSync(book, '- hosts: web1\n  tasks:\n    - file: { path: /etc/a.conf, template: site/absent.hbs }\n- hosts: web2\n  tasks:\n    - name: x\n      shell:\n        template: site/each.hbs\n        check: "true"\n');
    const r = lvsplay('validate', '-i', 'inventory/example.yml', '-t', join(dir, 'tpl'), book);
    t.is(r.status, 1, r.stderr);
    const problems = r.stderr.split('\n').map((l) => PROBLEM_LINE.exec(l)?.groups).filter((g) => g !== undefined);
    t.deepEqual(problems.map((g) => [g.file, g.line, g.col, g.field]), [[book, '3', '13', '[0].tasks[0].file'], [book, '8', '9', '[1].tasks[0].shell']], r.stderr);
    t.regex(problems[0]?.message ?? '', /^template site\/absent\.hbs is not in .* \(for host web1\)$/);
    t.regex(problems[1]?.message ?? '', new RegExp(`^${join(dir, 'tpl', 'site', 'each.hbs')}: .* \\(for host web2\\)$`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a usage error quoting the command line shows its control characters escaped, for the program and its subcommands', (t) => {
  for (const args of [['--x\u001b[8mhidden'], ['validate', '-i', 'x.yml', '--y\u001b[8mhidden'], ['apply', '-i', 'x.yml', '--z\u001b]0;title\u0007']]) {
    const r = lvsplay(...args);
    t.is(r.status, 1, r.stderr);
    t.false(/[\u001b\u0007]/.test(r.stderr), JSON.stringify(r.stderr));
    t.regex(r.stderr, /unknown option '--[xyz]\\x1b/);
  }
  // a line break in an argument cannot forge a line; Commander's own, before its suggestion, stays
  const forged = lvsplay('validate', '-i', 'a.yml', '-i', 'b\nlb1: ok (no changes)\n');
  t.is(forged.status, 1);
  t.false(/^lb1: ok/m.test(forged.stderr), forged.stderr);
  t.regex(forged.stderr, /argument 'b\\nlb1: ok \(no changes\)\\n' is invalid/);
  const suggested = lvsplay('val\nidate');
  t.regex(suggested.stderr, /^error: unknown command 'val\\nidate'\n\(Did you mean validate\?\)$/m);
});

test('lvsplay\'s own messages that quote the command line (an option value, a host, a --limit term, a file) show its control characters escaped', (t) => {
  const esc = '\u001b[2J\u001b]0;title\u0007';
  const cases: [string[], RegExp][] = [
    [['apply', '-i', 'inventory/example.yml', 'test/fixtures/playbook/valid.yml', '--forks', esc], /--forks: expected a whole number >= 1, got \\x1b\[2J\\x1b\]0;title\\x07/],
    [['apply', '-i', 'inventory/example.yml', 'test/fixtures/playbook/valid.yml', '--limit', esc], /--limit: expected a host, group or glob.*, got "\\u001b\[2J\\u001b\]0;title\\u0007"/],
    [['drain', '-i', 'inventory/example.yml', `web1${esc}`], /^lvsplay: web1\\x1b\[2J.*: not a real server of/m],
    [['failover', '-i', 'inventory/example.yml', '--to', esc], /--to: no director is named "\\x1b\[2J/],
    [['render', '-i', 'inventory/example.yml', '--host', esc], /--host \\x1b\[2J.*: no such host/],
    [['validate', '-i', `missing${esc}.yml`], /^missing\\x1b\[2J.*\.yml:1:1: the file cannot be read/m],
  ];
  for (const [args, says] of cases) {
    const r = lvsplay(...args);
    t.is(r.status, 1, r.stderr);
    t.false(/[\u001b\u0007]/.test(r.stderr + r.stdout), JSON.stringify(r.stderr));
    t.regex(r.stderr, says);
  }
});

test('a reader that closes the pipe (render | head -1) ends the output quietly: exit 0, no "internal error: write EPIPE"', (t) => {
  const r = spawnSync('bash', ['-c', `"${process.execPath}" ${CLI} render -i inventory/example.yml | head -1 >/dev/null; echo "\${PIPESTATUS[0]}"`], { cwd: root, encoding: 'utf8', timeout: 30_000 });
  t.is(r.stderr, '');
  t.is(r.stdout, '0\n');
});
