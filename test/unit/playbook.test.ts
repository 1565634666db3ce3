/**
 * Playbook loading (plays, tasks, serial, host terms, each problem with its place) and host
 * selection (groups, globs, `!exclude`, `&intersect`, inventory order).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { loadInventory } from '../../src/inventory/load.js';
import { loadPlaybook, parsePlaybook } from '../../src/playbook/load.js';
import { playsInOrder } from '../../src/playbook/model.js';
import { invalidTerm, limitTerms, selectHosts, splitHostPattern } from '../../src/playbook/select.js';
import { prepareRun } from '../../src/plan/prepare.js';
import { desiredTable } from '../../src/resources/ipvs/desired.js';
import { Templates } from '../../src/templates/templates.js';
import { formatProblem, InputError, type Problem } from '../../src/util/problems.js';
import { YamlSource } from '../../src/util/yaml-source.js';
import { BASE, edit, parse, placeOf, repoPath } from '../helpers/inventory.js';

const example = loadInventory(repoPath('inventory/example.yml'));

function problemsOf(text: string): readonly Problem[] {
  try {
    parsePlaybook(new YamlSource('play.yml', text), example);
  } catch (err) {
    if (err instanceof InputError) return err.problems;
    throw err;
  }
  throw new Error('expected the playbook to be rejected, but it loaded');
}

function expectProblems(t: ExecutionContext, text: string, expected: { field: string; at: [string, string?]; says: string[] }[]): void {
  const problems = problemsOf(text);
  t.is(problems.length, expected.length, problems.map(formatProblem).join('\n'));
  expected.forEach((e, i) => {
    const p = problems[i];
    if (!p) return;
    t.deepEqual({ file: p.file, line: p.line, col: p.col, field: p.field }, { file: 'play.yml', ...placeOf(text, e.at[0], e.at[1]), field: e.field }, formatProblem(p));
    for (const s of e.says) t.true(p.message.includes(s), `should say ${JSON.stringify(s)}: ${p.message}`);
  });
}

const play = (lines: string) => `- hosts: directors\n  tasks:\n${lines}`;

test('a valid playbook loads, defaults filled', (t) => {
  const file = repoPath('test/fixtures/playbook/valid.yml');
  const pb = loadPlaybook(file, example);
  t.is(pb.file, file);
  t.is(pb.plays.length, 2);
  const [directors, web] = pb.plays;
  t.like(directors, { name: 'directors', hosts: ['directors'], serial: [], anyErrorsFatal: false, vars: {} });
  t.deepEqual(directors?.tasks.map((task) => [task.name, task.kind]), [['sysctl', 'sysctl'], ['ipvs', 'ipvs']]);
  t.like(directors?.tasks[0]?.args, { extra: { 'net.ipv4.vs.conntrack': 1 }, persist: true });
  t.like(directors?.tasks[1]?.args, { purge: true, graceful: true, save: true });
  t.like(web, { hosts: ['web', '!web3'], serial: [{ count: 1 }, { percent: 50 }], maxFailPercentage: 25, vars: { release: '2024.1' } });
  t.like(web?.tasks[0], { name: 'render the site config', kind: 'file', args: { path: '/etc/nginx/conf.d/site.conf', template: 'nginx/site.conf.hbs', mode: '0644', on_change: { reload: 'nginx' } } });
  t.like(web?.tasks[1], { kind: 'package', args: { names: ['nginx'], state: 'present' } });
});

test('a play without a name is named by its position; a task without args gets its defaults', (t) => {
  const pb = parsePlaybook(new YamlSource('play.yml', `${play('    - ipvs: {}\n')}- hosts: web\n  serial: 2\n  tasks:\n    - ipvs:\n`), example);
  t.deepEqual(pb.plays.map((p) => p.name), ['play 1', 'play 2']);
  t.deepEqual(pb.plays[1]?.serial, [{ count: 2 }]);
  t.like(pb.plays[1]?.tasks[0], { kind: 'ipvs', args: { purge: false, graceful: true, save: true } });
});

test('sysctl extra: a key the role sets must keep its value, on the hosts where the role sets it; one setting once across spellings; no blank value', (t) => {
  // lb1 and lb2 carry NAT services (ip_forward=1); web1..far2 are DR or TUN real servers (arp_ignore=1); app1 and app2 are NAT real servers
  const text = `${play('    - sysctl: { extra: { net.ipv4.ip_forward: 0, net.ipv4.vs.expire_nodest_conn: 1 } }\n')}- hosts: real_servers\n  tasks:\n    - sysctl: { extra: { net/ipv4/conf/all/arp_ignore: 2 } }\n`;
  expectProblems(t, text, [
    { field: '[0].tasks[0].sysctl.extra.net.ipv4.ip_forward', at: ['0,'], says: ['expected 1 or no entry', 'net.ipv4.ip_forward to 1', '(for hosts lb1, lb2)'] },
    { field: '[1].tasks[0].sysctl.extra.net/ipv4/conf/all/arp_ignore', at: ['2 }'], says: ['expected 1 or no entry', 'net.ipv4.conf.all.arp_ignore to 1', 'for hosts web1, web2, web3, far1, far2'] },
  ]);
  t.false(problemsOf(text).some((p) => p.message.includes('app1')), 'a NAT real server needs no ARP key');
  // the role's own value, in either spelling, and a key no role sets: fine
  t.notThrows(() => parsePlaybook(new YamlSource('play.yml', play('    - sysctl: { extra: { net/ipv4/ip_forward: 1, net.core.somaxconn: 4096 } }\n')), example));
  expectProblems(t, play('    - sysctl: { extra: { net.core.somaxconn: 4096, net/core/somaxconn: 1024 } }\n'), [
    { field: '[0].tasks[0].sysctl.extra.net/core/somaxconn', at: ['1024'], says: ['expected each setting once', 'net.core.somaxconn spelt otherwise'] },
  ]);
  expectProblems(t, play('    - sysctl: { extra: { net.core.somaxconn: "  " } }\n'), [
    { field: '[0].tasks[0].sysctl.extra.net.core.somaxconn', at: ['"  "'], says: ['expected a sysctl value', 'not blank'] },
  ]);
});

test('unknown task kind: did you mean, with file:line:col of the key', (t) => {
  const text = play('    - ipvz: {}\n');
  expectProblems(t, text, [{ field: '[0].tasks[0].ipvz', at: ['ipvz'], says: ['unknown task kind "ipvz"', 'did you mean "ipvs"?', 'expected one of'] }]);
});

test('an Ansible task keyword on a task is named as one, with what lvsplay has instead, not as an unknown task kind', (t) => {
  expectProblems(t, play('    - ipvs: {}\n      when: x\n'), [{ field: '[0].tasks[0].when', at: ['when'], says: ['"when" is an Ansible task keyword lvsplay does not have', 'no conditionals'] }]);
  expectProblems(t, play('    - ipvs: {}\n      with_items: [a]\n'), [{ field: '[0].tasks[0].with_items', at: ['with_items'], says: ['Ansible task keyword', 'no loops'] }]);
  expectProblems(t, play('    - ipvs: {}\n      register: r\n      run_once: true\n'), [
    { field: '[0].tasks[0].register', at: ['register'], says: ['Ansible task keyword', 'check'] },
    { field: '[0].tasks[0].run_once', at: ['run_once'], says: ['"run_once" is an Ansible task keyword lvsplay does not have'] },
  ]);
  expectProblems(t, play('    - include_tasks: x.yml\n'), [{ field: '[0].tasks[0].include_tasks', at: ['include_tasks'], says: ['Ansible task keyword'] }]);
  // a name Ansible does not use is still an unknown kind, and an inherited property name is no keyword
  expectProblems(t, play('    - ipvs: {}\n      toString: 1\n'), [{ field: '[0].tasks[0].toString', at: ['toString'], says: ['unknown task kind "toString"'] }]);
});

test('a task with two kinds', (t) => {
  const text = play('    - ipvs: {}\n      sysctl: {}\n');
  expectProblems(t, text, [{ field: '[0].tasks[0]', at: ['ipvs: {}'], says: ['a task has exactly one kind, got ipvs and sysctl'] }]);
});

test('a task with no kind', (t) => {
  const text = play('    - name: nothing to do\n');
  expectProblems(t, text, [{ field: '[0].tasks[0]', at: ['name: nothing'], says: ['a task needs one task kind'] }]);
});

test('unknown task argument: did you mean', (t) => {
  const text = play('    - ipvs: { purg: true }\n');
  expectProblems(t, text, [{ field: '[0].tasks[0].ipvs.purg', at: ['purg'], says: ['unknown key "purg"', 'did you mean "purge"?'] }]);
});

test('bad task argument value', (t) => {
  const text = play('    - file: { path: /etc/x.conf, template: x.hbs, mode: "999" }\n');
  expectProblems(t, text, [{ field: '[0].tasks[0].file.mode', at: ['"999"'], says: ['expected an octal file mode', 'got "999"'] }]);
});

test('a task path outside templates/ is refused', (t) => {
  const text = play('    - file: { path: /etc/x.conf, template: nginx/../../etc/shadow.hbs }\n');
  expectProblems(t, text, [{ field: '[0].tasks[0].file.template', at: ['nginx/../../etc/shadow.hbs'], says: ['inside templates/'] }]);
});

for (const [serial, says] of [
  ['"150%"', 'expected a percentage from 1% to 100%, like "25%", got "150%"'], ['0', 'expected a host count of at least 1 (leave serial out for all hosts at once), got 0'],
  ['"0"', 'expected a host count of at least 1'], ['"0%"', 'expected a percentage from 1% to 100%'], ['-2', 'expected a host count of at least 1'], ['"ten"', 'expected a host count or a percentage like "25%", got "ten"'],
  ['"3.5"', 'got "3.5"'], ['2.5', 'got 2.5'], ['"25%x"', 'got "25%x"'],
] as const) {
  test(`bad serial ${serial}`, (t) => {
    const text = `- hosts: directors\n  serial: ${serial}\n  tasks:\n    - ipvs: {}\n`;
    expectProblems(t, text, [{ field: '[0].serial', at: [`serial: ${serial}`, serial], says: [says] }]);
  });
}

for (const [wait, says] of [['1e20', 'expected a number <= 86400, got 100000000000000000000'], ['-1e20', 'expected a number >= 0, got -100000000000000000000'], ['90000', 'expected a number <= 86400, got 90000']] as const) {
  test(`drain wait ${wait}: the field's own bound is named, not the safe-integer range`, (t) => {
    const text = `- hosts: web\n  tasks:\n    - drain: { wait: ${wait} }\n`;
    expectProblems(t, text, [{ field: '[0].tasks[0].drain.wait', at: [wait], says: [says] }]);
  });
}

test('bad serial inside a list', (t) => {
  const text = '- hosts: directors\n  serial: [1, "150%"]\n  tasks:\n    - ipvs: {}\n';
  expectProblems(t, text, [{ field: '[0].serial[1]', at: ['"150%"'], says: ['expected a percentage from 1% to 100%'] }]);
});

test('good serials: a count, a percentage, 100%, a list; a count or percentage as text, as Ansible\'s pct_to_int reads it (int() of the digits, blanks around them)', (t) => {
  const text = '- hosts: web\n  serial: [1, "5%", "100%", 3, "3", " 2 ", "+4", "25 %", "025%"]\n  tasks:\n    - ipvs: {}\n';
  const pb = parsePlaybook(new YamlSource('play.yml', text), example);
  t.deepEqual(pb.plays[0]?.serial, [{ count: 1 }, { percent: 5 }, { percent: 100 }, { count: 3 }, { count: 3 }, { count: 2 }, { count: 4 }, { percent: 25 }, { percent: 25 }]);
  const single = parsePlaybook(new YamlSource('play.yml', '- hosts: web\n  serial: "2"\n  tasks:\n    - ipvs: {}\n'), example);
  t.deepEqual(single.plays[0]?.serial, [{ count: 2 }]);
});

test('max_fail_percentage as Ansible\'s percent field takes it: a number, or text of one with an optional "%" (25, 12.5, "25%", "12.5%", "25", " 25 %")', (t) => {
  for (const [value, expected] of [['25', 25], ['12.5', 12.5], ['"25%"', 25], ['"12.5%"', 12.5], ['"25"', 25], ['" 25 %"', 25], ['".5%"', 0.5], ['0', 0], ['"100%"', 100]] as const) {
    const text = `- hosts: web\n  serial: 1\n  max_fail_percentage: ${value}\n  tasks:\n    - ipvs: {}\n`;
    t.is(parsePlaybook(new YamlSource('play.yml', text), example).plays[0]?.maxFailPercentage, expected, value);
  }
});

for (const value of ['"ten"', '"25%%"', '"-5%"', '101', '"150%"', '-1', 'true', '[25]', '""']) {
  test(`bad max_fail_percentage ${value}`, (t) => {
    const text = `- hosts: web\n  max_fail_percentage: ${value}\n  tasks:\n    - ipvs: {}\n`;
    expectProblems(t, text, [{ field: '[0].max_fail_percentage', at: [value], says: ['expected a percentage from 0 to 100, like 25 or "25%"'] }]);
  });
}

test('unknown host term in a list', (t) => {
  const text = '- hosts: [directors, webz]\n  tasks:\n    - ipvs: {}\n';
  expectProblems(t, text, [{ field: '[0].hosts[1]', at: ['webz'], says: ['"webz" is no host, group or pattern matching a host', 'groups are all, backup, directors, primary, real_servers, remote, web'] }]);
});

test('unknown host term, excluded or intersected, and a glob that matches nothing', (t) => {
  const text = '- hosts: [all, "!nope", "&zone9", "db*"]\n  tasks:\n    - ipvs: {}\n';
  expectProblems(t, text, [
    { field: '[0].hosts[1]', at: ['"!nope"'], says: ['"nope" is no host'] },
    { field: '[0].hosts[2]', at: ['"&zone9"'], says: ['"zone9" is no host'] },
    { field: '[0].hosts[3]', at: ['"db*"'], says: ['"db*" is no host'] },
  ]);
});

test('unknown host term as a single string', (t) => {
  const text = '- hosts: webz\n  tasks:\n    - ipvs: {}\n';
  expectProblems(t, text, [{ field: '[0].hosts', at: ['webz'], says: ['"webz" is no host'] }]);
});

test('a host term with shell characters is refused by the schema', (t) => {
  const text = '- hosts: "web;reboot"\n  tasks:\n    - ipvs: {}\n';
  expectProblems(t, text, [{ field: '[0].hosts', at: ['"web;reboot"'], says: ['expected a host, group or glob', 'got "web;reboot"'] }]);
});

test('unknown play key: did you mean', (t) => {
  const text = '- hosts: directors\n  seriall: 1\n  tasks:\n    - ipvs: {}\n';
  expectProblems(t, text, [{ field: '[0].seriall', at: ['seriall'], says: ['unknown key "seriall"', 'did you mean "serial"?'] }]);
});

test('a playbook that is not a list of plays', (t) => {
  const problems = problemsOf('hosts: directors\n');
  t.is(problems.length, 1);
  t.like(problems[0], { line: 1, col: 1, field: '', message: 'expected a list of plays, got a mapping' });
});

test('an empty list or mapping where items are needed is said to be empty, not just "a list"', (t) => {
  t.like(problemsOf('- hosts: directors\n  tasks: []\n')[0], { line: 2, field: '[0].tasks', message: 'expected at least 1 item(s), got an empty list' });
  t.like(problemsOf('{}\n')[0], { message: 'expected a list of plays, got an empty mapping' });
  t.like(problemsOf('- hosts: directors\n  tasks: [[]]\n')[0], { field: '[0].tasks[0]', message: 'expected a task: a mapping with one task kind, got an empty list' });
});

test('problems in tasks and host terms of several plays are reported together, in file order', (t) => {
  const file = repoPath('test/fixtures/playbook/bad.yml');
  const err = t.throws(() => loadPlaybook(file, example), { instanceOf: InputError });
  t.deepEqual(err?.problems.map((p) => [p.line, p.col, p.field]), [
    [5, 7, '[0].tasks[0].ipvz'],
    [6, 16, '[1].hosts[1]'],
    [8, 15, '[1].tasks[0].ipvs.purg'],
  ]);
  t.true(err?.problems.every((p) => p.file === file));
});

// ---------------------------------------------------------------------------------------------
// Host selection.

const cluster = parse(
  edit(
    edit(BASE, '{ name: web2, address: 192.0.2.22, address6: 2001:db8::22, groups: [web] }', '{ name: web2, address: 192.0.2.22, address6: 2001:db8::22, groups: [web, zone_b] }'),
    '{ name: far1, address: 198.51.100.31 }',
    '{ name: far1, address: 198.51.100.31, groups: [zone_b] }',
  ),
);
const select = (...terms: string[]) => selectHosts(cluster, terms).map((h) => h.name);

test('select: the built-in groups and all', (t) => {
  t.deepEqual(select('directors'), ['lb1', 'lb2']);
  t.deepEqual(select('real_servers'), ['web1', 'web2', 'far1', 'app1']);
  t.deepEqual(select('all'), ['lb1', 'lb2', 'web1', 'web2', 'far1', 'app1']);
  t.deepEqual(select('*'), select('all'));
});

test('select: a declared group and a group only hosts name', (t) => {
  t.deepEqual(select('web'), ['web1', 'web2']);
  t.deepEqual(select('zone_b'), ['web2', 'far1']);
});

test('select: host names and globs', (t) => {
  t.deepEqual(select('far1'), ['far1']);
  t.deepEqual(select('web*'), ['web1', 'web2']);
  t.deepEqual(select('lb?'), ['lb1', 'lb2']);
  t.deepEqual(select('*1'), ['lb1', 'web1', 'far1', 'app1']);
  t.deepEqual(select('nothing*'), []);
});

test('select: plain terms are unioned, in inventory order whatever the term order', (t) => {
  t.deepEqual(select('far1', 'web2', 'lb1'), ['lb1', 'web2', 'far1']);
  t.deepEqual(select('zone_b', 'directors', 'web'), ['lb1', 'lb2', 'web1', 'web2', 'far1']);
});

test('select: !term excludes, wherever it is written', (t) => {
  t.deepEqual(select('real_servers', '!web'), ['far1', 'app1']);
  t.deepEqual(select('!web', 'real_servers'), ['far1', 'app1']);
  t.deepEqual(select('all', '!web1', '!lb*'), ['web2', 'far1', 'app1']);
  // ansible-core's order_patterns: with no plain term, the selection starts from all hosts.
  t.deepEqual(select('!web1'), ['lb1', 'lb2', 'web2', 'far1', 'app1'], 'exclusions alone: all hosts but those');
  t.deepEqual(select('&web'), ['web1', 'web2'], 'an intersection alone: all hosts, intersected');
});

test('select: &term intersects', (t) => {
  t.deepEqual(select('real_servers', '&zone_b'), ['web2', 'far1']);
  t.deepEqual(select('web', '&zone_b'), ['web2']);
  t.deepEqual(select('web', '&zone_b', '&far*'), []);
  t.deepEqual(select('all', '&zone_b', '!web2'), ['far1']);
});

test('one-string hosts: terms joined by ":" as Ansible writes them', (t) => {
  const playbook = parsePlaybook(new YamlSource('play.yml', '- hosts: "real_servers:!web3:&web"\n  tasks:\n    - address: {}\n'), example);
  t.deepEqual(playbook.plays[0]?.hosts, ['real_servers', '!web3', '&web']);
  t.deepEqual(selectHosts(example, playbook.plays[0]!.hosts).map((h) => h.name), ['web1', 'web2']);
});

// What ansible-core 2.14 selects for each pattern (`ansible -i INV PATTERN --list-hosts`, INV the
// same hosts and groups in INI: directors lb1 lb2; real_servers web1 web2 far1 app1; web web1 web2;
// zone_b web2 far1; primary lb1; backup lb2). lvsplay lists them in inventory order.
const ANSIBLE_SELECTS: [string, string[]][] = [
  ['a*', ['lb1', 'lb2', 'web1', 'web2', 'far1', 'app1']], // the glob matches the group "all"
  ['dir*', ['lb1', 'lb2']], // a glob matches group names, then host names
  ['web*', ['web1', 'web2']],
  ['*.x', []],
  ['~web', ['web1', 'web2']], // a regex, matched at the start of the name (Python's re.match)
  ['~eb', []],
  ['~(lb|far)1', ['lb1', 'far1']],
  ['web[0]', ['web1']],
  ['web[-1]', ['web2']],
  ['web[0:1]', ['web1', 'web2']], // inclusive
  ['real_servers[1:]', ['web2', 'far1', 'app1']],
  ['real_servers[5]', []], // ansible-core raises "No hosts matched the subscripted pattern": validate and --limit refuse it (invalidTerm)
  ['real_servers[2:0]', ['far1']], // an end of 0 picks the start alone
  ['real_servers[2-3]', ['far1', 'app1']], // the deprecated form
  ['web*[1]', ['web2']],
  ['web[12]', []], // a subscript beyond the group, not a character class (refused as above)
  ['web[!1]', ['web2']], // fnmatch's negated class
  ['*[!0-9]', ['lb1', 'lb2', 'web1', 'web2', 'far1', 'app1']], // group names ending in a letter
  ['lb[1-2]', []], // the deprecated subscript of "lb", which is nothing
  ['[wf]*', ['web1', 'web2', 'far1']],
  ['we?1', ['web1']],
  ['web[]', []],
];

test('select: globs over groups and hosts, ~regex and [subscripts], as ansible-core selects them', (t) => {
  for (const [term, hosts] of ANSIBLE_SELECTS) t.deepEqual(select(term), hosts, term);
  t.deepEqual(select('real_servers', '!web[0]'), ['web2', 'far1', 'app1'], 'a subscript in an exclusion');
  t.deepEqual(select('~[bad'), [], 'an invalid regex selects nothing');
});

test('select: a subscript after a glob counts what the glob listed, groups first and duplicates too (_enumerate_matches)', (t) => {
  // w*: the group web (web1, web2), then the host names web1, web2: four places
  t.deepEqual(select('w*[2]'), ['web1']);
  t.deepEqual(select('w*[3]'), ['web2']);
  // *r*: directors (lb1, lb2), primary (lb1), real_servers, ...: the roles come after directors
  t.deepEqual(select('*r*[0:2]'), ['lb1', 'lb2']);
  t.deepEqual(select('*r*[2]'), ['lb1']);
});

test('invalidTerm: what ansible-core raises on, wherever the term is given: an index past what the term matched, a ~ that does not compile, a malformed term', (t) => {
  const invalid = (term: string) => invalidTerm(cluster, term);
  t.regex(invalid('web[2]') ?? '', /"web\[2\]": no host matched the subscripted pattern \(web matches 2 hosts, counted from 0\)/);
  t.regex(invalid('!web[-3]') ?? '', /no host matched the subscripted pattern/, 'in an exclusion too: it would exclude nothing');
  // `[2:0]` is `[2]` (an end of 0 is no end): past the end, the same error
  t.regex(invalid('web[2:0]') ?? '', /"web\[2:0\]": no host matched the subscripted pattern \(web matches 2 hosts/);
  t.regex(invalid('!web1[1-0]') ?? '', /no host matched the subscripted pattern \(web1 matches 1 host,/, 'a host name counts as what it matched');
  // _apply_subscript returns an empty match unread: no error, whatever the index (the term is unknown instead)
  for (const empty of ['nosuch[0]', 'nosuch[-1]', '&nosuch[3]', 'nosuch[2:0]', 'z?[1]']) t.is(invalid(empty), undefined, empty);
  t.regex(invalid('~web(1') ?? '', /not a regular expression after "~"/);
  t.regex(invalid('web;reboot') ?? '', /expected a host, group or glob/);
  for (const fine of ['web[1]', 'web[-2]', 'w*[3]', 'web[5:9]', 'web[1:0]', 'nosuch', 'web1', '&zone_b', '~web']) t.is(invalid(fine), undefined, fine);
});

// A host name is at most 63 characters, and 40 are enough for a backtracking matcher to take
// hours over a pattern that does not match: a selection is matched in time linear in the name.
test('select: a ~regex or a glob that would backtrack catastrophically is matched in linear time', (t) => {
  const long = 'a'.repeat(40);
  const hostile = parse(edit(BASE, '{ name: far1, address: 198.51.100.31 }', `{ name: far1, address: 198.51.100.31 }\n  - { name: ${long}, address: 198.51.100.32 }`));
  const chosen = (...terms: string[]) => selectHosts(hostile, terms).map((h) => h.name);
  const started = performance.now();
  t.deepEqual(chosen('~(a+)+z'), [], 'nested quantifiers');
  t.deepEqual(chosen('~(a|a)*z'), [], 'overlapping alternatives');
  t.deepEqual(chosen('~(a|aa)+$'), [long], 'a match is still found');
  t.deepEqual(chosen(`${'*a'.repeat(20)}z`), [], 'a glob of many stars');
  t.deepEqual(chosen(`${'*a'.repeat(20)}`), [long]);
  // Not a time assertion: a backtracking matcher does not return from these for hours, so a
  // regression hangs this test rather than slowing it.
  t.log(`${Math.round(performance.now() - started)} ms`);
});

test('a ~regex is RE2 syntax: a backreference or a lookaround is refused at validate, naming what', (t) => {
  expectProblems(t, '- hosts: "~(w)\\\\1"\n  tasks:\n    - ipvs: {}\n', [{ field: '[0].hosts', at: ['"~(w)\\\\1"'], says: ['"~(w)\\1": not a regular expression', 'backreferences'] }]);
  expectProblems(t, '- hosts: "~(?=w)web"\n  tasks:\n    - ipvs: {}\n', [{ field: '[0].hosts', at: ['"~(?=w)web"'], says: ['"~(?=w)web": not a regular expression', 'lookaround'] }]);
});

test('split_host_pattern: commas, else colons outside brackets and whitespace; a name with :port is one term', (t) => {
  t.deepEqual(splitHostPattern('web1:web2'), ['web1', 'web2']);
  t.deepEqual(splitHostPattern('web1,lb*'), ['web1', 'lb*']);
  t.deepEqual(splitHostPattern(' a, b ,,c '), ['a', 'b', 'c']);
  t.deepEqual(splitHostPattern('real_servers[1:2]:!lb1'), ['real_servers[1:2]', '!lb1']);
  t.deepEqual(splitHostPattern('web1 web2'), ['web1', 'web2']);
  t.deepEqual(splitHostPattern('lb1:22'), ['lb1:22'], 'a host and port, which matches no host (as there)');
  t.deepEqual(splitHostPattern('web[1:2]'), ['web[1:2]']);
  t.deepEqual(splitHostPattern(''), []);
  t.deepEqual(splitHostPattern(','), []);
});

// What ansible-core 2.14's split_host_pattern returns for each (parse_address decides what stays whole)
const ANSIBLE_SPLITS: [string, string[]][] = [
  ['192.0.2.1:22', ['192.0.2.1:22']],
  ['2001:db8::1', ['2001:db8::1']],
  ['[2001:db8::1]:22', ['[2001:db8::1]:22']],
  ['[web1]:22', ['[web1]:22']],
  ['web[1:3]:22', ['web[1:3]:22']],
  ['::', ['::']], // not "no term" (which would be no limit at all): one term that names no host
  [':::', [':::']], // its IPv6 expression is anchored only at its ends: a string that starts like one is one term
  ['2001:db8::web1', ['2001:db8::web1']],
  ['fe80::1:web1', ['fe80::1:web1']],
  ['a::1:2', ['a::1:2']], // a is hexadecimal: an IPv6 start
  ['g::1:2', ['g', '1', '2']],
  ['web1:22:33', ['web1', '22', '33']],
  [':web1', ['web1']],
  ['::web1', ['::web1']],
  ['web1::web2', ['web1', 'web2']],
  ['é:22', ['é:22']], // a Unicode host name with a port (Python's \w)
  ['é:x', ['é', 'x']],
  ['web-:22', ['web-', '22']], // a label does not end in -
  ['192.0.2.256:22', ['192.0.2.256:22']], // a host name of digit labels, then
  ['lb[1:2]:web[0]', ['lb[1:2]', 'web[0]']],
];

test('split_host_pattern: a string read whole as one address (IPv6, :port, ranges) stays one term, as parse_address decides there', (t) => {
  for (const [text, terms] of ANSIBLE_SPLITS) t.deepEqual(splitHostPattern(text), terms, text);
});

test('--limit: @FILE stands for the file\'s lines; a missing file, a folder or a FIFO is an error naming it', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsplay-limit-'));
  try {
    writeFileSync(join(dir, 'retry'), 'web1\n  lb2  \n\n');
    t.deepEqual(limitTerms(`@${join(dir, 'retry')},far1`), ['web1', 'lb2', 'far1']);
    t.deepEqual(limitTerms(`@${join(dir, 'retry')}`)?.length, 2);
    t.throws(() => limitTerms(`@${join(dir, 'nope')}`), { message: `--limit @${join(dir, 'nope')}: the file cannot be read (ENOENT)` });
    t.throws(() => limitTerms(`@${dir}`), { message: /the file is not a regular file/ });
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    t.throws(() => limitTerms(`@${join(dir, 'fifo')}`), { message: /the file is not a regular file/ }, 'a FIFO is refused, not waited on');
    t.is(limitTerms(', ,'), undefined, 'no term: no limit');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('one-string hosts with commas, and a list item joining terms, split as Ansible splits them', (t) => {
  const commas = parsePlaybook(new YamlSource('play.yml', '- hosts: "web1, lb*"\n  tasks:\n    - address: {}\n'), example);
  t.deepEqual(commas.plays[0]?.hosts, ['web1', 'lb*']);
  const list = parsePlaybook(new YamlSource('play.yml', '- hosts: ["real_servers:!web3", "~lb"]\n  tasks:\n    - address: {}\n'), example);
  t.deepEqual(list.plays[0]?.hosts, ['real_servers', '!web3', '~lb']);
  expectProblems(t, '- hosts: "web1:~(x"\n  tasks:\n    - ipvs: {}\n', [{ field: '[0].hosts', at: ['"web1:~(x"'], says: ['"~(x": not a regular expression'] }]);
  expectProblems(t, '- hosts: " , "\n  tasks:\n    - ipvs: {}\n', [{ field: '[0].hosts', at: ['" , "'], says: ['expected host terms joined by'] }]);
  expectProblems(t, '- hosts: "~web\\e"\n  tasks:\n    - ipvs: {}\n', [{ field: '[0].hosts', at: ['"~web\\e"'], says: ['expected a host, group or glob', '~regex'] }]);
});

test('an unknown task kind far from every kind gets no suggestion', (t) => {
  const text = '- hosts: directors\n  tasks:\n    - zzzzzzzzzzzz: {}\n';
  const problems = problemsOf(text);
  t.is(problems.length, 1);
  t.false(problems[0]!.message.includes('did you mean'), problems[0]!.message);
});

test('a health gate\'s http.body is a regex the director\'s grep -E compiles: one it refuses fails validate at its field, not every retry of the gate', (t) => {
  const gate = (body: string) => `- hosts: web\n  tasks:\n    - wait: { http: { body: '${body}' } }\n`;
  expectProblems(t, gate('ready[0-9'), [{ field: '[0].tasks[0].wait.http.body', at: ["'ready[0-9'"], says: ['expected a POSIX extended regular expression (grep -E)', 'an unmatched "["'] }]);
  expectProblems(t, gate('(ok|ready'), [{ field: '[0].tasks[0].wait.http.body', at: ["'(ok|ready'"], says: ['an unmatched "("'] }]);
  expectProblems(t, gate('[[:word:]]+'), [{ field: '[0].tasks[0].wait.http.body', at: ["'[[:word:]]+'"], says: ['"[:word:]" is no character class'] }]);
  t.notThrows(() => parsePlaybook(new YamlSource('play.yml', gate('"status": *"(ok|ready)"')), example));
  t.notThrows(() => parsePlaybook(new YamlSource('play.yml', gate('{}')), example), 'a "{" with nothing to repeat is a character, as to grep');
});

test('a play whose terms match hosts but leave none (an intersection or exclusion that empties it) is an error at its hosts; one over an empty group is not', (t) => {
  expectProblems(t, '- hosts: "web1:&lb1"\n  tasks:\n    - sysctl: {}\n', [{ field: '[0].hosts', at: ['"web1:&lb1"'], says: ['selects no host', 'web1'] }]);
  expectProblems(t, '- hosts: [real_servers, "!real_servers"]\n  tasks:\n    - sysctl: {}\n', [{ field: '[0].hosts', at: ['[real_servers, "!real_servers"]'], says: ['selects no host'] }]);
  expectProblems(t, '- hosts: "!all"\n  tasks:\n    - sysctl: {}\n', [{ field: '[0].hosts', at: ['"!all"'], says: ['selects no host'] }]);
  // An inventory with no backup director: bootstrap-style plays for the backups select nobody, rightly.
  const single = parse(edit(BASE, '  - name: lb2\n    address: 192.0.2.6\n    interface: { name: eth0, address: 192.0.2.6/24, address6: 2001:db8::6/64 }\n    role: backup\n', ''));
  t.notThrows(() => parsePlaybook(new YamlSource('play.yml', '- hosts: web1\n  tasks:\n    - sysctl: {}\n- hosts: backup\n  tasks:\n    - sysctl: {}\n'), single));
  // so do the group's subscripts, globs and ~ (a name matched: _enumerate_matches has no warning for them)
  for (const term of ['backup[0]', 'backup[1:]', 'back*', '~back', '!backup[0]', 'web1[1:]', '!web1[1-2]']) {
    t.notThrows(() => parsePlaybook(new YamlSource('play.yml', `- hosts: web1\n  tasks:\n    - sysctl: {}\n- hosts: "lb1:${term}"\n  tasks:\n    - sysctl: {}\n`), single), term);
  }
  expectProblems(t, '- hosts: "nosuch[0]"\n  tasks:\n    - sysctl: {}\n', [{ field: '[0].hosts', at: ['"nosuch[0]"'], says: ['"nosuch[0]" is no host, group or pattern matching a host'] }]);
});

test('play vars whose shell name is another play var\'s, or a var\'s of a host the play selects, are refused at the key', (t) => {
  const cluster = parse(edit(BASE, '    site: test\n', '    site: test\n    http-root: /srv\n'));
  const problemsIn = (text: string) => {
    try {
      parsePlaybook(new YamlSource('play.yml', text), cluster);
      return [];
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      return err.problems.map((p) => `${p.line}:${p.col} ${p.field}: ${p.message}`);
    }
  };
  t.deepEqual(problemsIn('- hosts: web\n  vars: { http_root: /var/www }\n  tasks:\n    - sysctl: {}\n'), ['2:11 [0].vars.http_root: vars "http_root" and "http-root" (the inventory\'s, for web1) would both be $LVSPLAY_VAR_http_root in shell templates: rename one']);
  t.deepEqual(problemsIn('- hosts: web\n  vars: { a.b: 1, a-b: 2 }\n  tasks:\n    - sysctl: {}\n'), ['2:19 [0].vars.a-b: vars "a-b" and "a.b" would both be $LVSPLAY_VAR_a_b in shell templates: rename one']);
  t.deepEqual(problemsIn('- hosts: web\n  vars: { http-root: /var/www }\n  tasks:\n    - sysctl: {}\n'), [], 'the same name overrides, as vars do');
});

test('plays of several playbooks are numbered across the whole run, so probe sections never collide', (t) => {
  const one = parsePlaybook(new YamlSource('a.yml', '- hosts: directors\n  tasks:\n    - ipvs: {}\n- hosts: web\n  tasks:\n    - address: {}\n'), example);
  const two = parsePlaybook(new YamlSource('b.yml', '- hosts: directors\n  tasks:\n    - sysctl: {}\n'), example);
  t.deepEqual(playsInOrder([one, two]).map(({ play, index }) => [play.tasks[0]!.kind, index]), [['ipvs', 0], ['address', 1], ['sysctl', 2]]);
});

test('a real server lvsplay does not manage (managed: false) is in its directors\' rules and drained there, never contacted: a play with tasks of its own leaves it out', (t) => {
  const cluster = parse(edit(BASE, '  - { name: far1, address: 198.51.100.31 }', '  - { name: far1, address: 198.51.100.31, managed: false }'));
  const templates = new Templates();
  const on = (plays: ReturnType<typeof prepareRun>) => plays.map((p) => p.hosts.map((h) => h.host.name));
  const bootstrap = prepareRun(cluster, [loadPlaybook(repoPath('playbooks/bootstrap.yml'), cluster)], templates);
  t.false(on(bootstrap).flat().includes('far1'), JSON.stringify(on(bootstrap)));
  t.true(on(bootstrap).flat().includes('web1'));
  const lb1 = desiredTable(cluster, cluster.hosts.get('lb1')!).table;
  t.true(lb1.services.get('tcp 192.0.2.12:443')!.dests.has('198.51.100.31:443'), 'in the rules of its directors');
  const drain = parsePlaybook(new YamlSource('drain.yml', '- { name: out, hosts: [far1], tasks: [{ name: out, drain: {} }] }\n'), cluster);
  const [play] = prepareRun(cluster, [drain], templates);
  t.deepEqual(play!.hosts.map((h) => [h.host.name, h.steps.map((s) => [s.delegated, s.targets.map((x) => x.ctx.host.name)])]), [['far1', [[true, ['lb1', 'lb2']]]]], 'drained on its directors only');
  const shell = parsePlaybook(new YamlSource('own.yml', '- { name: own, hosts: [far1], tasks: [{ name: x, sysctl: {} }] }\n'), cluster);
  t.deepEqual(prepareRun(cluster, [shell], templates)[0]!.hosts, []);
});

test('a health gate\'s port is one a connection can go to: tcp, http and dns port 0 are refused', (t) => {
  for (const [args, field] of [['{ tcp: 0 }', 'tcp'], ['{ http: { port: 0 } }', 'http.port'], ['{ dns: { port: 0, name: example.org } }', 'dns.port']] as const) {
    const problems = problemsOf(`- hosts: web\n  tasks:\n    - wait: ${args}\n`);
    t.deepEqual(problems.map((p) => `${p.field}: ${p.message}`), [`[0].tasks[0].wait.${field}: expected a port number (1..65535), got 0`], args);
  }
});

test('a health gate\'s command is one line (it runs as one sh -c word): a multi-line command is refused at its field, not an internal error', (t) => {
  const problems = problemsOf('- hosts: web\n  tasks:\n    - wait:\n        command: |\n          curl -fs http://$LVSPLAY_SERVER/\n          true\n');
  t.deepEqual(problems.map((p) => p.field), ['[0].tasks[0].wait.command']);
  t.regex(problems[0]!.message, /expected one line of shell/);
});

test('a health gate\'s DNS name is a DNS name (labels): a leading "-" (dig would read it as an option) is refused', (t) => {
  for (const name of ['-x', '-t ANY', 'a..b', 'a_b-.org']) {
    const problems = problemsOf(`- hosts: web\n  tasks:\n    - wait: { dns: { name: "${name}" } }\n`);
    t.deepEqual(problems.map((p) => p.field), ['[0].tasks[0].wait.dns.name'], name);
  }
  for (const name of ['example.org', 'www.example.net.', '_sip._udp.example.org', '.']) {
    t.notThrows(() => parsePlaybook(new YamlSource('play.yml', `- hosts: web\n  tasks:\n    - wait: { dns: { name: "${name}" } }\n`), example), name);
  }
});
