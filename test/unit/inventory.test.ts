/**
 * One test per inventory rule: BASE (a valid inventory) with exactly one thing broken, and an
 * assertion on every problem reported: file, line, column, field path and message. Places are
 * computed from the broken text itself (placeOf), so a test says *which* token is blamed.
 */
import test, { type ExecutionContext } from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_INPUT_BYTES } from '../../src/util/input-file.js';
import { MAX_GENERATED } from '../../src/inventory/generate.js';
import { loadInventory, parseInventory } from '../../src/inventory/load.js';
import { holdingInterface } from '../../src/inventory/model.js';
import { formatProblem, InputError, type Problem } from '../../src/util/problems.js';
import { YamlSource } from '../../src/util/yaml-source.js';
import { addToService, BASE, edit, parse, placeOf, problemsOf, repoPath } from '../helpers/inventory.js';

interface Expected {
  field: string;
  /** [context, inner]: the problem sits at `inner` within the one occurrence of `context`. */
  at: [string, string?];
  /** Substrings the message must contain. */
  says: string[];
}

function expectProblems(t: ExecutionContext, text: string, expected: Expected[]): readonly Problem[] {
  const problems = problemsOf(text);
  const shown = problems.map(formatProblem).join('\n');
  t.is(problems.length, expected.length, `problems reported:\n${shown}`);
  expected.forEach((e, i) => {
    const p = problems[i];
    if (!p) return;
    t.deepEqual(
      { file: p.file, line: p.line, col: p.col, field: p.field },
      { file: 'bad.yml', ...placeOf(text, e.at[0], e.at[1]), field: e.field },
      `problem ${i}: ${formatProblem(p)}`,
    );
    for (const s of e.says) t.true(p.message.includes(s), `problem ${i} should say ${JSON.stringify(s)}: ${p.message}`);
  });
  return problems;
}

function loads(t: ExecutionContext, text: string) {
  try {
    return parse(text);
  } catch (err) {
    t.fail(err instanceof InputError ? err.message : String(err));
    throw err;
  }
}

/** The member line of service web6 in BASE (web1 is a member of web too). */
const WEB6_MEMBER = 'health_check: { type: connect }\n    real_servers:\n      - { server: web1 }';

const line = (text: string, context: string) => placeOf(text, context).line;

// ---------------------------------------------------------------------------------------------
// The base itself, and the example.

test('the base inventory of these tests is valid', (t) => {
  const cluster = loads(t, BASE);
  t.is(cluster.services.length, 4);
});

test('inventory/example.yml loads with every default filled and every reference resolved', (t) => {
  const file = repoPath('inventory/example.yml');
  const c = loadInventory(file);
  t.is(c.file, file);
  t.deepEqual(c.directors.map((d) => [d.name, d.role, d.priority, d.pair, d.interface.name]), [
    ['lb1', 'primary', 150, 'default', 'eth0'],
    ['lb2', 'backup', 100, 'default', 'eth0'],
  ]);
  t.deepEqual(c.realServers.map((r) => r.name), ['web1', 'web2', 'web3', 'far1', 'far2', 'app1', 'app2']);
  t.deepEqual([...c.hosts.keys()], ['lb1', 'lb2', 'web1', 'web2', 'web3', 'far1', 'far2', 'app1', 'app2']);
  t.deepEqual([...c.groups].sort(), ['all', 'backup', 'directors', 'primary', 'real_servers', 'remote', 'web']);
  t.deepEqual(c.natGateway, { address: '203.0.113.1', prefix: 24 });
  t.is(c.rulesFile, '/etc/lvsplay/ipvs.rules');
  t.like(c.ldirectord, { checkTimeoutS: 3, checkIntervalS: 5, failureCount: 1, quiescent: false, configFile: '/etc/ha.d/ldirectord.cf', logfile: 'local0' });
  t.is(c.ldirectord.negotiateTimeoutS, undefined, 'unset: ldirectord falls back to checktimeout itself, so no negotiatetimeout=30 is written');

  const svc = (name: string) => {
    const s = c.services.find((x) => x.name === name);
    if (!s) throw new Error(`no service ${name}`);
    return s;
  };
  t.deepEqual(c.services.map((s) => s.name), ['web', 'dns', 'api', 'app', 'web6']);
  for (const s of c.services) t.deepEqual(s.directors, ['lb1', 'lb2'], `${s.name} is on both directors by default`);

  const web = svc('web');
  t.like(web, { family: 'ipv4', protocol: 'tcp', vip: '192.0.2.10', port: 80, scheduler: 'wlc', forwarding: 'dr', managedBy: 'ldirectord', onePacket: false });
  t.deepEqual(web.persistence, { timeoutS: 300, netmask: '255.255.255.0' });
  t.deepEqual(web.healthCheck, { type: 'negotiate', service: 'http', request: '/healthz', receive: 'OK' });
  t.deepEqual(web.realServers.map((m) => [m.server, m.address, m.port, m.weight]), [
    ['web1', '192.0.2.21', 80, 3],
    ['web2', '192.0.2.22', 80, 3],
    ['web3', '192.0.2.23', 80, 1],
  ]);

  const dns = svc('dns');
  t.like(dns, { protocol: 'udp', scheduler: 'sh', onePacket: true, managedBy: 'lvsplay', forwarding: 'dr' });
  t.deepEqual(dns.schedulerFlags, ['sh-fallback', 'sh-port']);
  t.deepEqual(dns.realServers.map((m) => [m.server, m.port, m.weight, m.upperThreshold, m.lowerThreshold]), [
    ['web1', 53, 1, 0, 0],
    ['web2', 53, 1, 0, 0],
  ]);

  // no service of the example says managed_by: ldirectord keeps those with a health check
  for (const s of c.services) t.is(s.managedBy, s.healthCheck ? 'ldirectord' : 'lvsplay', s.name);

  const api = svc('api');
  t.like(api, { forwarding: 'tun', scheduler: 'mh' });
  t.deepEqual(api.schedulerFlags, ['mh-fallback']);
  t.deepEqual(api.tunnel, { type: 'ipip' });
  t.like(api.realServers[1], { server: 'far2', address: '198.51.100.32', port: 443, upperThreshold: 5000, lowerThreshold: 4000 });

  const app = svc('app');
  t.like(app, { forwarding: 'nat', port: 8443, managedBy: 'lvsplay' });
  t.deepEqual(app.realServers.map((m) => [m.server, m.port]), [['app1', 443], ['app2', 443]]);

  const web6 = svc('web6');
  t.like(web6, { family: 'ipv6', vip: '2001:db8::10', port: 80, scheduler: 'wrr', forwarding: 'dr', managedBy: 'ldirectord' });
  t.deepEqual(web6.persistence, { timeoutS: 600, netmask: '64' });
  t.deepEqual(web6.realServers.map((m) => [m.server, m.address]), [['web1', '2001:db8::21'], ['web2', '2001:db8::22']]);
  t.deepEqual(web6.healthCheck, { type: 'connect', intervalS: 5 });
});

test('known_hosts files: by default those ssh(1) reads (the user\'s two, the system\'s two); one path or a list; global_known_hosts: [] reads no system file', (t) => {
  const ssh = (text: string) => loads(t, text).hosts.get('lb1')!.ssh;
  t.like(ssh(BASE), { knownHosts: ['~/.ssh/known_hosts', '~/.ssh/known_hosts2'], globalKnownHosts: ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2'] });
  const own = BASE.replace('    user: admin\n', '    user: admin\n    known_hosts: /srv/kh\n    global_known_hosts: []\n');
  t.like(ssh(own), { knownHosts: ['/srv/kh'], globalKnownHosts: [] });
  const lists = BASE.replace('    user: admin\n', '    user: admin\n    known_hosts: [/srv/kh, ~/kh2]\n    global_known_hosts: /etc/kh\n');
  t.like(ssh(lists), { knownHosts: ['/srv/kh', '~/kh2'], globalKnownHosts: ['/etc/kh'] });
  const bad = BASE.replace('    user: admin\n', '    user: admin\n    known_hosts: []\n');
  expectProblems(t, bad, [{ field: 'defaults.ssh.known_hosts', at: ['known_hosts: []', '[]'], says: ['expected at least one known_hosts file'] }]);
});

test('example.yml: SSH settings are layered defaults < groups < host, ssh.host defaults to the address', (t) => {
  const c = loadInventory(repoPath('inventory/example.yml'));
  const host = (name: string) => {
    const h = c.hosts.get(name);
    if (!h) throw new Error(`no host ${name}`);
    return h;
  };
  t.deepEqual(host('lb1').ssh, {
    host: '192.0.2.5', port: 22, user: 'root', identityFile: '~/.ssh/id_ed25519', agent: true,
    knownHosts: ['~/.ssh/known_hosts'], globalKnownHosts: ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2'],
    hostKeyPolicy: 'strict', connectTimeoutS: 10, commandTimeoutS: 300,
  });
  // far1 is in group "remote", which adds a jump host; the jump's port defaults to 22.
  t.like(host('far1').ssh, { host: '198.51.100.31', user: 'root', identityFile: '~/.ssh/id_ed25519' });
  t.deepEqual(host('far1').ssh.jump, { host: 'bastion.example.net', port: 22, user: 'ops' });
  t.is(host('web1').ssh.jump, undefined);
  // app1's own ssh settings win over the defaults.
  t.like(host('app1').ssh, { host: '203.0.113.41', user: 'deploy', identityFile: '~/.ssh/id_ed25519' });
  t.deepEqual(host('app1').ssh.become, { method: 'sudo', user: 'root', passwordEnv: 'APP_SUDO_PASSWORD' });
  // vars: defaults, then the group's.
  t.deepEqual(host('web1').vars, { site: 'example', http_root: '/srv/www' });
  t.deepEqual(host('web1').groups, ['real_servers', 'web']);
  t.deepEqual(host('lb1').groups, ['directors']);
  t.deepEqual(host('web3').labels, { zone: 'b' });
  t.like(host('app1'), { kind: 'real_server', gateway: '203.0.113.1' });
});

test('ssh settings and vars: a group overrides the defaults, a host overrides its groups', (t) => {
  let text = edit(BASE, '{ name: web1, address: 192.0.2.21, address6: 2001:db8::21, groups: [web] }',
    '{ name: web1, address: 192.0.2.21, address6: 2001:db8::21, groups: [web], ssh: { user: alice, host: web1.example.net }, vars: { tier: edge } }');
  text = edit(text, '{ name: far1, address: 198.51.100.31 }', '{ name: far1, address: 198.51.100.31, groups: [newgroup] }');
  const c = loads(t, text);
  const ssh = (name: string) => c.hosts.get(name)?.ssh;
  t.like(ssh('web1'), { host: 'web1.example.net', user: 'alice', port: 2222, identityFile: '~/.ssh/id_ed25519' });
  t.like(ssh('web2'), { host: '192.0.2.22', user: 'webadmin', port: 2222, identityFile: '~/.ssh/id_ed25519' });
  t.like(ssh('far1'), { host: '198.51.100.31', user: 'admin', port: 22, identityFile: '~/.ssh/id_ed25519' });
  t.deepEqual(c.hosts.get('web1')?.vars, { site: 'test', tier: 'edge' });
  t.deepEqual(c.hosts.get('web2')?.vars, { site: 'test', tier: 'front' });
  t.deepEqual(c.hosts.get('far1')?.vars, { site: 'test', tier: 'any' });
  // A group a host names but nobody declares is still a group.
  t.true(c.groups.has('newgroup'));
  t.deepEqual(c.hosts.get('far1')?.groups, ['real_servers', 'newgroup']);
});

test('defaults: scheduler wlc, tcp, dr, weight 1, thresholds 0, member port = service port, managedBy by health check', (t) => {
  const c = loads(t, BASE);
  const [web, api, app, web6] = c.services;
  t.like(web, { scheduler: 'wlc', protocol: 'tcp', forwarding: 'dr', onePacket: false, managedBy: 'lvsplay', schedulerFlags: [] });
  t.deepEqual(web?.realServers[0], { server: 'web1', address: '192.0.2.21', port: 80, weight: 1, upperThreshold: 0, lowerThreshold: 0 });
  t.is(web?.persistence, undefined);
  t.like(api, { forwarding: 'tun' });
  t.is(api?.realServers[0]?.port, 443);
  // NAT may map ports.
  t.like(app, { forwarding: 'nat', port: 8443 });
  t.is(app?.realServers[0]?.port, 443);
  t.like(web6, { family: 'ipv6', managedBy: 'ldirectord' });
  t.is(web6?.realServers[0]?.address, '2001:db8::21');
  t.deepEqual(web6?.healthCheck, { type: 'connect' });
});

test('IPv6 addresses are canonicalised as the kernel prints them', (t) => {
  let text = edit(BASE, 'vip: 2001:db8::10', 'vip: 2001:0DB8:0:0::0010');
  text = edit(text, 'address6: 2001:db8::21,', 'address6: "2001:db8:0:0:0:0:0:21",');
  const c = loads(t, text);
  t.is(c.services[3]?.vip, '2001:db8::10');
  t.is(c.services[3]?.realServers[0]?.address, '2001:db8::21');
  t.is(c.hosts.get('web1')?.address6, '2001:db8::21');
});

test('a managed_by set explicitly wins over the health-check default', (t) => {
  const c = loads(t, addToService(BASE, 'web', 'managed_by: ldirectord'));
  t.is(c.services[0]?.managedBy, 'ldirectord');
});

// ---------------------------------------------------------------------------------------------
// YAML itself.

test('YAML syntax error: reported with its place, nothing else checked', (t) => {
  const text = edit(BASE, '    port: 8443', '    port: @8443');
  expectProblems(t, text, [{ field: '', at: ['port: @8443', '@'], says: ['YAML:', 'reserved character @'] }]);
});

test('YAML duplicate key: the second key is blamed', (t) => {
  const text = edit(BASE, '    address: 192.0.2.6\n', '    address: 192.0.2.6\n    address: 192.0.2.7\n');
  expectProblems(t, text, [{ field: 'directors[1]', at: ['    address: 192.0.2.7', 'address'], says: ['duplicate key "address" (first at line'] }]);
});

test('a document that is not a mapping', (t) => {
  for (const text of ['', '- a\n- b\n', 'just text\n']) {
    const problems = problemsOf(text);
    t.deepEqual(problems.map((p) => [p.line, p.col, p.field]), [[1, 1, '']], JSON.stringify(text));
    t.true(problems[0]?.message.includes('expected a mapping'));
  }
});

// ---------------------------------------------------------------------------------------------
// Unknown keys and secrets.

test('unknown key in a service: did you mean "scheduler"', (t) => {
  const text = addToService(BASE, 'web', 'schedular: rr');
  expectProblems(t, text, [{ field: 'services[0].schedular', at: ['schedular: rr', 'schedular'], says: ['unknown key "schedular"', 'did you mean "scheduler"?'] }]);
});

test('unknown key in a service real server: did you mean "weight"', (t) => {
  const text = edit(BASE, '{ server: web2 }', '{ server: web2, wieght: 2 }');
  expectProblems(t, text, [{ field: 'services[0].real_servers[1].wieght', at: ['wieght: 2', 'wieght'], says: ['unknown key "wieght"', 'did you mean "weight"?', 'expected one of'] }]);
});

test('unknown top-level key: did you mean "real_servers"', (t) => {
  const text = edit(BASE, 'real_servers:\n  - { name: web1', 'real_server: []\nreal_servers:\n  - { name: web1');
  expectProblems(t, text, [{ field: 'real_server', at: ['real_server: []', 'real_server'], says: ['did you mean "real_servers"?'] }]);
});

test('an unknown key far from any known one gets no suggestion', (t) => {
  const text = addToService(BASE, 'web', 'zzzzzz: 1');
  const [p] = expectProblems(t, text, [{ field: 'services[0].zzzzzz', at: ['zzzzzz: 1', 'zzzzzz'], says: ['unknown key "zzzzzz"'] }]);
  t.false(p?.message.includes('did you mean') ?? true);
});

test('an inline become password is refused with the secrets message, and its value is not echoed', (t) => {
  const text = edit(BASE, '{ name: app1, address: 192.0.2.41, gateway: 192.0.2.5 }',
    '{ name: app1, address: 192.0.2.41, gateway: 192.0.2.5, ssh: { become: { password: hunter2-S3cret } } }');
  expectProblems(t, text, [{ field: 'real_servers[3].ssh.become.password', at: ['password: hunter2', 'password'], says: ['unknown key "password": secrets are never written inline', '*_env'] }]);
  const err = t.throws(() => parse(text), { instanceOf: InputError });
  t.false(err?.message.includes('hunter2'), 'the secret is not in the error message');
});

test('an inline SSH key passphrase is refused with the secrets message', (t) => {
  const text = edit(BASE, '    identity_file: ~/.ssh/id_ed25519\n', '    identity_file: ~/.ssh/id_ed25519\n    identity_passphrase: "open sesame"\n');
  expectProblems(t, text, [{ field: 'defaults.ssh.identity_passphrase', at: ['identity_passphrase:', 'identity_passphrase'], says: ['secrets are never written inline'] }]);
  t.false(problemsOf(text)[0]?.message.includes('sesame'));
});

test('a malformed password_env is refused without echoing what was written', (t) => {
  const text = edit(BASE, '{ name: app1, address: 192.0.2.41, gateway: 192.0.2.5 }',
    '{ name: app1, address: 192.0.2.41, gateway: 192.0.2.5, ssh: { become: { password_env: "hunter2 S3cret" } } }');
  expectProblems(t, text, [{ field: 'real_servers[3].ssh.become.password_env', at: ['"hunter2 S3cret"'], says: ['expected an environment variable name'] }]);
  t.false(problemsOf(text)[0]?.message.includes('hunter2'));
});

// ---------------------------------------------------------------------------------------------
// Scalar fields.

test('bad IPv4 address', (t) => {
  const text = edit(BASE, 'address: 192.0.2.21,', 'address: 192.0.2.256,');
  expectProblems(t, text, [{ field: 'real_servers[0].address', at: ['192.0.2.256'], says: ['expected an IPv4 or IPv6 address', 'got "192.0.2.256"'] }]);
});

test('bad IPv4 VIP (three octets)', (t) => {
  const text = edit(BASE, 'vip: 192.0.2.12', 'vip: 192.0.2');
  expectProblems(t, text, [{ field: 'services[1].vip', at: ['vip: 192.0.2\n', '192.0.2'], says: ['expected an IPv4 or IPv6 address', 'got "192.0.2"'] }]);
});

test('bad IPv6 address', (t) => {
  const text = edit(BASE, 'address6: 2001:db8::22,', 'address6: "2001:db8:::22",');
  expectProblems(t, text, [{ field: 'real_servers[1].address6', at: ['"2001:db8:::22"'], says: ['expected an IPv4 or IPv6 address', 'got "2001:db8:::22"'] }]);
});

test('an IPv4 address given as address6', (t) => {
  const text = edit(BASE, 'address6: 2001:db8::22,', 'address6: 192.0.2.122,');
  expectProblems(t, text, [{ field: 'real_servers[1].address6', at: ['192.0.2.122'], says: ['expected an IPv6 address', '192.0.2.122'] }]);
});

for (const [cidr, why] of [['192.0.2.5/33', 'prefix too long'], ['192.0.2.5', 'no prefix'], ['192.0.2.5/', 'empty prefix'], ['192.0.2.500/24', 'bad address']] as const) {
  test(`bad CIDR on a director interface: ${cidr} (${why})`, (t) => {
    const text = edit(BASE, 'address: 192.0.2.5/24,', `address: "${cidr}",`);
    expectProblems(t, text, [{ field: 'directors[0].interface.address', at: [`"${cidr}"`], says: ['expected an address with a prefix length', `got "${cidr}"`] }]);
  });
}

test('bad IPv6 CIDR: prefix 129', (t) => {
  const text = edit(BASE, 'address6: 2001:db8::6/64', 'address6: 2001:db8::6/129');
  expectProblems(t, text, [{ field: 'directors[1].interface.address6', at: ['2001:db8::6/129'], says: ['expected an address with a prefix length'] }]);
});

for (const port of [65536, -1]) {
  test(`service port out of range: ${port}`, (t) => {
    const text = edit(BASE, 'port: 8443', `port: ${port}`);
    expectProblems(t, text, [{ field: 'services[2].port', at: [`port: ${port}`, String(port)], says: ['expected a port number (0..65535)', `got ${port}`] }]);
  });
}

test('member port out of range', (t) => {
  const text = edit(BASE, '{ server: app1, port: 443 }', '{ server: app1, port: 70000 }');
  expectProblems(t, text, [{ field: 'services[2].real_servers[0].port', at: ['port: 70000', '70000'], says: ['expected a port number', 'got 70000'] }]);
});

test('a port that is not an integer', (t) => {
  const text = edit(BASE, 'port: 8443', 'port: "8443"');
  expectProblems(t, text, [{ field: 'services[2].port', at: ['"8443"'], says: ['expected a port number', 'got "8443"'] }]);
});

for (const [written, shown] of [['.inf', 'Infinity'], ['1e400', 'Infinity'], ['-.inf', '-Infinity'], ['.nan', 'NaN']]) {
  test(`a port of ${written}: quoted back as ${shown}, not as null`, (t) => {
    const text = edit(BASE, 'port: 8443', `port: ${written}`);
    expectProblems(t, text, [{ field: 'services[2].port', at: [`port: ${written}`, written!], says: ['expected a port number', `got ${shown}`] }]);
  });
}

for (const weight of [65536, -1]) {
  test(`weight out of range: ${weight}`, (t) => {
    const text = edit(BASE, '{ server: web2 }', `{ server: web2, weight: ${weight} }`);
    expectProblems(t, text, [{ field: 'services[0].real_servers[1].weight', at: [`weight: ${weight}`, String(weight)], says: ['expected a weight (0..65535)', `got ${weight}`] }]);
  });
}

test('weights 0 and 65535 are fine', (t) => {
  let text = edit(BASE, '{ server: web1 }\n      - { server: web2 }', '{ server: web1, weight: 0 }\n      - { server: web2, weight: 65535 }');
  text = edit(text, 'port: 8443', 'port: 0\n    persistence: { timeout: 60 }');
  const c = loads(t, text);
  t.deepEqual(c.services[0]?.realServers.map((m) => m.weight), [0, 65535]);
});

test('unknown scheduler', (t) => {
  const text = addToService(BASE, 'web', 'scheduler: foo');
  expectProblems(t, text, [{ field: 'services[0].scheduler', at: ['scheduler: foo', 'foo'], says: ['expected one of "rr"', '"mh"', 'got "foo"'] }]);
});

test('every kernel scheduler is accepted', (t) => {
  for (const scheduler of ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh', 'twos']) {
    t.is(parse(addToService(BASE, 'web', `scheduler: ${scheduler}`)).services[0]?.scheduler, scheduler);
  }
});

test('scheduler_flags that belong to another scheduler', (t) => {
  const text = addToService(BASE, 'web', 'scheduler: sh', 'scheduler_flags: [sh-port, mh-port]');
  expectProblems(t, text, [{ field: 'services[0].scheduler_flags[1]', at: ['[sh-port, mh-port]', 'mh-port'], says: ['flag mh-port belongs to the mh scheduler, but the scheduler is sh'] }]);
});

test('scheduler_flags without sh or mh', (t) => {
  const text = addToService(BASE, 'web', 'scheduler_flags: [sh-fallback]');
  expectProblems(t, text, [{ field: 'services[0].scheduler_flags[0]', at: ['[sh-fallback]', 'sh-fallback'], says: ['belongs to the sh scheduler, but the scheduler is wlc'] }]);
});

test('an unknown scheduler flag', (t) => {
  const text = addToService(BASE, 'web', 'scheduler: mh', 'scheduler_flags: [mh-foo]');
  expectProblems(t, text, [{ field: 'services[0].scheduler_flags[0]', at: ['[mh-foo]', 'mh-foo'], says: ['expected one of', '"mh-port"', 'got "mh-foo"'] }]);
});

// ---------------------------------------------------------------------------------------------
// Names and keys.

test('duplicate host name across directors and real servers names both places', (t) => {
  const text = edit(BASE, '  - { name: app1,', '  - { name: lb2, address: 192.0.2.99 }\n  - { name: app1,');
  expectProblems(t, text, [{
    field: 'real_servers[3].name',
    at: ['{ name: lb2, address: 192.0.2.99 }', 'lb2'],
    says: ['host name "lb2" is already used', `line ${line(text, '  - name: lb2')}`, 'directors[1]', 'must be unique'],
  }]);
});

test('duplicate real server name', (t) => {
  const text = edit(BASE, '  - { name: app1,', '  - { name: web1, address: 192.0.2.24, address6: 2001:db8::24 }\n  - { name: app1,');
  expectProblems(t, text, [{
    field: 'real_servers[3].name',
    at: ['{ name: web1, address: 192.0.2.24', 'web1'],
    says: ['host name "web1" is already used', `line ${line(text, '  - { name: web1, address: 192.0.2.21')}`, 'real_servers[0]'],
  }]);
});

test('duplicate service name names the first one', (t) => {
  const text = edit(BASE, '  - name: app\n', '  - name: web\n');
  expectProblems(t, text, [{
    field: 'services[2].name',
    at: ['  - name: web\n    vip: 192.0.2.13', 'web'],
    says: ['service name "web" is already used at', `line ${line(text, '  - name: web\n    vip: 192.0.2.10')}`],
  }]);
});

test('a name with a space or a leading dash is refused', (t) => {
  for (const name of ['"web 1"', '"-web1"', '"web1;"']) {
    const text = edit(BASE, '{ name: far1,', `{ name: ${name},`);
    const problems = problemsOf(text);
    t.true(problems.some((p) => p.field === 'real_servers[2].name' && p.message.startsWith('expected a name')), name);
  }
});

// ---------------------------------------------------------------------------------------------
// Service keys.

test('duplicate (vip, port, protocol)', (t) => {
  const text = edit(BASE, 'vip: 192.0.2.13\n    port: 8443', 'vip: 192.0.2.10\n    port: 80');
  expectProblems(t, text, [{
    field: 'services[2].vip',
    at: ['vip: 192.0.2.10\n    port: 80\n    forwarding: nat', '192.0.2.10'],
    says: ['service tcp 192.0.2.10:80 is already declared by service "web"', `line ${line(text, 'vip: 192.0.2.10\n    port: 80\n    real_servers')}`],
  }]);
});

test('duplicate IPv6 service, the VIP spelled two ways', (t) => {
  const text = BASE + '  - name: web6b\n    vip: 2001:0db8:0:0::10\n    port: 80\n    real_servers:\n      - { server: web2 }\n';
  expectProblems(t, text, [{
    field: 'services[4].vip',
    at: ['2001:0db8:0:0::10'],
    says: ['service tcp [2001:db8::10]:80 is already declared by service "web6"', `line ${line(text, 'vip: 2001:db8::10')}`],
  }]);
});

test('same VIP and port with another protocol is a different service', (t) => {
  const text = BASE + '  - name: web-udp\n    vip: 192.0.2.10\n    port: 80\n    protocol: udp\n    real_servers:\n      - { server: web1 }\n';
  const c = loads(t, text);
  t.deepEqual(c.services.filter((s) => s.vip === '192.0.2.10').map((s) => s.protocol), ['tcp', 'udp']);
});

test('a service without vip and port (and no fwmark)', (t) => {
  const text = edit(BASE, '    vip: 192.0.2.12\n    port: 443\n', '');
  expectProblems(t, text, [
    { field: 'services[1].port', at: ['  - name: api\n', 'name'], says: ['required field is missing', 'port'] },
    { field: 'services[1].vip', at: ['  - name: api\n', 'name'], says: ['required field is missing', 'address'] },
  ]);
});

// ---------------------------------------------------------------------------------------------
// Forwarding.

test('DR member port different from the service port', (t) => {
  const text = edit(BASE, '{ server: web2 }', '{ server: web2, port: 8080 }');
  expectProblems(t, text, [{ field: 'services[0].real_servers[1].port', at: ['port: 8080', '8080'], says: ['a DR real server must use the service port 80, got 8080', 'only NAT can map ports'] }]);
});

test('TUN member port different from the service port', (t) => {
  const text = edit(BASE, '{ server: far1 }', '{ server: far1, port: 444 }');
  expectProblems(t, text, [{ field: 'services[1].real_servers[0].port', at: ['port: 444', '444'], says: ['a TUN real server must use the service port 443, got 444'] }]);
});

test('DR member port equal to the service port, written out, is fine', (t) => {
  const c = loads(t, edit(BASE, '{ server: web2 }', '{ server: web2, port: 80 }'));
  t.is(c.services[0]?.realServers[1]?.port, 80);
});

test('NAT maps ports', (t) => {
  const c = loads(t, edit(BASE, '{ server: app1, port: 443 }', '{ server: app1, port: 8080 }'));
  t.like(c.services[2], { port: 8443, forwarding: 'nat' });
  t.is(c.services[2]?.realServers[0]?.port, 8080);
});

test('DR real server outside the directors\' interface subnet: one problem per director', (t) => {
  const text = edit(BASE, 'name: web2, address: 192.0.2.22', 'name: web2, address: 198.51.100.22');
  expectProblems(t, text, [
    { field: 'services[0].real_servers[1].server', at: ['{ server: web2 }', 'web2'], says: ['DR real server "web2" (198.51.100.22) is not on director "lb1"\'s eth0 subnet 192.0.2.5/24'] },
    { field: 'services[0].real_servers[1].server', at: ['{ server: web2 }', 'web2'], says: ['not on director "lb2"\'s eth0 subnet 192.0.2.6/24'] },
  ]);
});

test('IPv6 DR real server outside the directors\' IPv6 subnet', (t) => {
  const text = edit(BASE, 'address6: 2001:db8::21,', 'address6: "2001:db8:1::21",');
  expectProblems(t, text, [
    { field: 'services[3].real_servers[0].server', at: [WEB6_MEMBER, 'web1'], says: ['"web1" (2001:db8:1::21) is not on director "lb1"\'s eth0 subnet 2001:db8::5/64'] },
    { field: 'services[3].real_servers[0].server', at: [WEB6_MEMBER, 'web1'], says: ['director "lb2"'] },
  ]);
});

test('IPv6 DR service on directors whose interface has no IPv6 address', (t) => {
  const text = edit(BASE, 'address: 192.0.2.6/24, address6: 2001:db8::6/64', 'address: 192.0.2.6/24');
  expectProblems(t, text, [{ field: 'services[3].real_servers[0].server', at: [WEB6_MEMBER, 'web1'], says: ['director "lb2"', '(no ipv6 address)'] }]);
});

test('TUN real servers may be anywhere', (t) => {
  loads(t, edit(BASE, '{ name: far1, address: 198.51.100.31 }', '{ name: far1, address: 203.0.113.31 }'));
  t.pass();
});

test('NAT real server without a gateway', (t) => {
  const text = edit(BASE, '{ name: app1, address: 192.0.2.41, gateway: 192.0.2.5 }', '{ name: app1, address: 192.0.2.41 }');
  expectProblems(t, text, [{
    field: 'services[2].real_servers[0].server',
    at: ['{ server: app1, port: 443 }', 'app1'],
    says: ['NAT real server "app1" must route through the director', `(line ${line(text, '{ name: app1')})`, 'is not set', 'expected 192.0.2.5 or 192.0.2.6'],
  }]);
});

test('NAT real server with a gateway that is no director', (t) => {
  const text = edit(BASE, 'gateway: 192.0.2.5 }', 'gateway: 192.0.2.99 }');
  expectProblems(t, text, [{
    field: 'services[2].real_servers[0].server',
    at: ['{ server: app1, port: 443 }', 'app1'],
    says: [`(line ${line(text, '{ name: app1')})`, 'is 192.0.2.99', 'expected 192.0.2.5 or 192.0.2.6'],
  }]);
});

test('NAT gateway: the floating nat_gateway or any director address is fine', (t) => {
  const floating = loads(t, edit(BASE, 'gateway: 192.0.2.5 }', 'gateway: 192.0.2.1 }') + 'nat_gateway: 192.0.2.1/24\n');
  t.deepEqual(floating.natGateway, { address: '192.0.2.1', prefix: 24 });
  t.is(floating.realServers[3]?.gateway, '192.0.2.1');
  loads(t, edit(BASE, 'gateway: 192.0.2.5 }', 'gateway: 192.0.2.6 }'));
  // and with nat_gateway set, the wrong gateway names it among the accepted ones
  const text = edit(BASE, 'gateway: 192.0.2.5 }', 'gateway: 192.0.2.99 }') + 'nat_gateway: 192.0.2.1/24\n';
  expectProblems(t, text, [{ field: 'services[2].real_servers[0].server', at: ['{ server: app1, port: 443 }', 'app1'], says: ['expected 192.0.2.1 or 192.0.2.5 or 192.0.2.6'] }]);
});

test('nat_gateway needs the prefix of the real servers\' network', (t) => {
  const text = `${BASE}nat_gateway: 192.0.2.1\n`;
  expectProblems(t, text, [{ field: 'nat_gateway', at: ['nat_gateway: 192.0.2.1', '192.0.2.1'], says: ['expected an address with a prefix length', 'got "192.0.2.1"'] }]);
});

// ---------------------------------------------------------------------------------------------
// Members.

test('thresholds: lower above upper', (t) => {
  const text = edit(BASE, '{ server: web2 }', '{ server: web2, upper_threshold: 10, lower_threshold: 20 }');
  expectProblems(t, text, [{ field: 'services[0].real_servers[1].lower_threshold', at: ['lower_threshold: 20', '20'], says: ['lower_threshold 20 is above upper_threshold 10'] }]);
});

test('thresholds: a lower above the upper is refused even when the upper is 0 (the kernel says -ERANGE to -x 0 -y 20); lower = upper is fine', (t) => {
  // Regression: lower_threshold 20 with no upper used to validate, then ipvsadm failed on every run.
  expectProblems(t, edit(BASE, '{ server: web2 }', '{ server: web2, lower_threshold: 20 }'), [{
    field: 'services[0].real_servers[1].lower_threshold', at: ['{ server: web2, lower_threshold: 20 }', '20'], says: ['needs an upper_threshold at least as high'],
  }]);
  const c = loads(t, edit(BASE, '{ server: web2 }', '{ server: web2, upper_threshold: 20, lower_threshold: 20 }'));
  t.like(c.services[0]?.realServers[1], { upperThreshold: 20, lowerThreshold: 20 });
});

test('a member naming no real server', (t) => {
  const text = edit(BASE, '{ server: web2 }', '{ server: web9 }');
  expectProblems(t, text, [{ field: 'services[0].real_servers[1].server', at: ['{ server: web9 }', 'web9'], says: ['no real server is named "web9"', '(did you mean "web1"?)'] }]);
});

test('a member naming a director', (t) => {
  const text = edit(BASE, '{ server: web2 }', '{ server: lb2 }');
  expectProblems(t, text, [{ field: 'services[0].real_servers[1].server', at: ['{ server: lb2 }', 'lb2'], says: ['"lb2" is a director, not a real server'] }]);
});

test('the same real server twice in a service', (t) => {
  const text = edit(BASE, '{ server: web2 }', '{ server: web1, weight: 2 }');
  expectProblems(t, text, [{ field: 'services[0].real_servers[1].server', at: ['{ server: web1, weight: 2 }', 'web1'], says: ['"web1" is already a member of this service at real_servers[0]'] }]);
});

test('IPv6 service with a member that has no IPv6 address', (t) => {
  const text = edit(BASE, WEB6_MEMBER, `${WEB6_MEMBER}\n      - { server: far1 }`);
  expectProblems(t, text, [{
    field: 'services[3].real_servers[1].server',
    at: ['{ server: web1 }\n      - { server: far1 }', 'far1'],
    says: ['real server "far1"', `(line ${line(text, '{ name: far1')})`, 'has no ipv6 address for this ipv6 service'],
  }]);
});

// ---------------------------------------------------------------------------------------------
// Persistence and service options.

for (const netmask of ['255.0.255.0', '64', '"255.255.255.0/24"', '0.255.255.255']) {
  test(`persistence netmask ${netmask} on an IPv4 service`, (t) => {
    const text = addToService(BASE, 'web', `persistence: { timeout: 300, netmask: ${netmask} }`);
    expectProblems(t, text, [{ field: 'services[0].persistence.netmask', at: [`netmask: ${netmask}`, netmask], says: ['expected a contiguous IPv4 netmask like 255.255.255.0 for an IPv4 service'] }]);
  });
}

for (const netmask of ['"255.255.255.0"', '129', '0']) {
  test(`persistence netmask ${netmask} on an IPv6 service`, (t) => {
    const text = addToService(BASE, 'web6', `persistence: { timeout: 300, netmask: ${netmask} }`);
    expectProblems(t, text, [{ field: 'services[3].persistence.netmask', at: [`netmask: ${netmask}`, netmask], says: ['expected a prefix length 1..128 for an IPv6 service'] }]);
  });
}

test('good persistence netmasks for each family', (t) => {
  let text = addToService(BASE, 'web', 'persistence: { timeout: 300, netmask: 255.255.255.0 }');
  text = addToService(text, 'web6', 'persistence: { timeout: 300, netmask: 128 }');
  const c = loads(t, text);
  t.deepEqual(c.services[0]?.persistence, { timeoutS: 300, netmask: '255.255.255.0' });
  t.deepEqual(c.services[3]?.persistence, { timeoutS: 300, netmask: '128' });
});

test('port 0 (all ports) without persistence', (t) => {
  const text = edit(BASE, 'port: 8443', 'port: 0');
  expectProblems(t, text, [{ field: 'services[2].port', at: ['port: 0', '0'], says: ['port 0 (all ports) requires persistence'] }]);
});

test('one_packet on a TCP service', (t) => {
  const text = addToService(BASE, 'web', 'one_packet: true');
  expectProblems(t, text, [{ field: 'services[0].one_packet', at: ['one_packet: true', 'true'], says: ['one_packet scheduling is only for UDP or firewall-mark services'] }]);
});

test('one_packet on a UDP service is fine', (t) => {
  const c = loads(t, addToService(BASE, 'web', 'protocol: udp', 'one_packet: true'));
  t.like(c.services[0], { protocol: 'udp', onePacket: true });
});

// ---------------------------------------------------------------------------------------------
// Directors and pairs.

test('a service naming an unknown director', (t) => {
  const text = addToService(BASE, 'web', 'directors: [lb1, lb2, lb3]');
  expectProblems(t, text, [{ field: 'services[0].directors[2]', at: ['[lb1, lb2, lb3]', 'lb3'], says: ['no director is named "lb3"', 'expected one of lb1, lb2'] }]);
});

test('a pair with two primaries', (t) => {
  const text = edit(BASE, 'role: backup', 'role: primary');
  expectProblems(t, text, [{ field: 'directors[1].role', at: ['2001:db8::6/64 }\n    role: primary', 'primary'], says: ['director pair "default" must have exactly one primary, found 2'] }]);
});

test('a pair with no primary', (t) => {
  const text = edit(BASE, 'role: primary', 'role: backup');
  expectProblems(t, text, [{ field: 'directors[0].role', at: ['2001:db8::5/64 }\n    role: backup', 'backup'], says: ['director pair "default" must have exactly one primary, found 0'] }]);
});

test('a service on the primary but not on the backup', (t) => {
  const text = addToService(BASE, 'web', 'directors: [lb1]');
  expectProblems(t, text, [{ field: 'services[0].directors', at: ['directors: [lb1]', '[lb1]'], says: ['service "web" is on primary "lb1" but not on backup "lb2"', 'same services'] }]);
});

test('a service on the backup but not on the primary', (t) => {
  const text = addToService(BASE, 'web', 'directors: [lb2]');
  expectProblems(t, text, [{ field: 'services[0].directors', at: ['directors: [lb2]', '[lb2]'], says: ['service "web" is on backup "lb2" but not on primary "lb1"'] }]);
});

test('two pairs, each with its own primary, may carry different services', (t) => {
  let text = edit(BASE, 'role: backup', 'role: primary\n    pair: second');
  for (const name of ['web', 'api', 'app', 'web6']) text = addToService(text, name, name === 'web' ? 'directors: [lb2]' : 'directors: [lb1]');
  const c = loads(t, text);
  t.deepEqual(c.services.map((s) => s.directors), [['lb2'], ['lb1'], ['lb1'], ['lb1']]);
  t.deepEqual(c.directors.map((d) => d.pair), ['default', 'second']);
});

// ---------------------------------------------------------------------------------------------
// Health checks.

test('a health check on a service lvsplay manages', (t) => {
  const text = addToService(BASE, 'web6', 'managed_by: lvsplay');
  expectProblems(t, text, [{ field: 'services[3].health_check', at: ['health_check: { type: connect }', '{'], says: ['health checks are run by ldirectord', 'managed_by: ldirectord'] }]);
});

test('an external check without a command', (t) => {
  const text = edit(BASE, 'health_check: { type: connect }', 'health_check: { type: external }');
  expectProblems(t, text, [{ field: 'services[3].health_check.command', at: ['health_check: { type: external }', '{'], says: ['required field is missing', 'external check needs the command'] }]);
});

test('an external check with a command is fine', (t) => {
  const c = loads(t, edit(BASE, 'health_check: { type: connect }', 'health_check: { type: external, command: /usr/local/bin/check-web }'));
  t.deepEqual(c.services[3]?.healthCheck, { type: 'external', command: '/usr/local/bin/check-web' });
});

test('request/receive on a check that is not negotiate', (t) => {
  const text = edit(BASE, 'health_check: { type: connect }', 'health_check: { type: connect, request: /x }');
  expectProblems(t, text, [{ field: 'services[3].health_check.type', at: ['type: connect, request', 'connect'], says: ['request/receive are only used by negotiate checks, but the type is connect'] }]);
});

test('a negotiate request with a double quote is refused (it lands in ldirectord.cf quotes)', (t) => {
  const text = edit(BASE, 'health_check: { type: connect }', `health_check: { type: negotiate, request: 'a"b' }`);
  expectProblems(t, text, [{ field: 'services[3].health_check.request', at: [`'a"b'`], says: ['expected text without double quotes'] }]);
});

// ---------------------------------------------------------------------------------------------
// Interface names.

test('interface name of 16 characters', (t) => {
  const text = edit(BASE, 'name: eth0, address: 192.0.2.6/24', 'name: abcdefghijklmnop, address: 192.0.2.6/24');
  const problems = problemsOf(text);
  t.true(problems.length >= 1);
  for (const p of problems) {
    t.like(p, { field: 'directors[1].interface.name', ...placeOf(text, 'abcdefghijklmnop') });
    t.true(p.message.startsWith('expected an interface name'), p.message);
  }
});

test('interface name of 16 characters: reported once, not twice (src/inventory/fields.ts InterfaceName)', (t) => {
  const text = edit(BASE, 'name: eth0, address: 192.0.2.6/24', 'name: abcdefghijklmnop, address: 192.0.2.6/24');
  expectProblems(t, text, [{ field: 'directors[1].interface.name', at: ['abcdefghijklmnop'], says: ['at most 15 characters'] }]);
});

for (const bad of ['eth/0', 'eth 0', 'eth0\t', '-eth0', 'eth0:', 'eth0:1:2', '..', 'abcdefghijklm:12']) {
  test(`interface name ${JSON.stringify(bad)} is refused`, (t) => {
    const text = edit(BASE, 'name: eth0, address: 192.0.2.6/24', `name: ${JSON.stringify(bad)}, address: 192.0.2.6/24`);
    const problems = problemsOf(text);
    t.true(problems.length >= 1);
    for (const p of problems) {
      t.like(p, { field: 'directors[1].interface.name', ...placeOf(text, JSON.stringify(bad)) });
      t.true(p.message.startsWith('expected an interface name'), p.message);
    }
  });
}

for (const good of ['eth0', 'eth0:1', 'abcdefghijklmno', 'eth0.100', 'bond0-v', 'ens3f0np0', 'abcdefghijk:123']) {
  test(`interface name ${JSON.stringify(good)} is accepted`, (t) => {
    const c = loads(t, edit(BASE, 'name: eth0, address: 192.0.2.6/24', `name: "${good}", address: 192.0.2.6/24`));
    t.is(c.directors[1]?.interface.name, good);
  });
}

// ---------------------------------------------------------------------------------------------
// Directors with several interfaces (issue 12): the VIPs' network and the real servers' network.

/** BASE with both directors on a second network, 198.51.100.0/24 (eth1), and a DR service there (back). */
const TWO_NIC = addToServices(edit(edit(edit(BASE,
  'interface: { name: eth0, address: 192.0.2.5/24, address6: 2001:db8::5/64 }',
  'interfaces:\n      - { name: eth0, address: 192.0.2.5/24, address6: 2001:db8::5/64 }\n      - { name: eth1, address: 198.51.100.5/24 }'),
  'interface: { name: eth0, address: 192.0.2.6/24, address6: 2001:db8::6/64 }',
  'interfaces:\n      - { name: eth0, address: 192.0.2.6/24, address6: 2001:db8::6/64 }\n      - { name: eth1, address: 198.51.100.6/24 }'),
  '{ name: app1, address: 192.0.2.41, gateway: 192.0.2.5 }', '{ name: app1, address: 198.51.100.41, gateway: 198.51.100.5 }'),
  '  - name: back\n    vip: 198.51.100.10\n    port: 80\n    real_servers:\n      - { server: far1 }\n');

const BACK_MEMBER = 'port: 80\n    real_servers:\n      - { server: far1 }';

function addToServices(text: string, block: string): string {
  return `${text.trimEnd()}\n${block}`;
}

test('two interfaces: each service lives on the interface of its VIP\'s subnet; DR members and NAT gateways there are right', (t) => {
  const c = loads(t, TWO_NIC);
  const lb1 = c.directors[0]!;
  t.deepEqual(lb1.interfaces.map((i) => i.name), ['eth0', 'eth1']);
  t.is(lb1.interface.name, 'eth0', 'the main interface is the first');
  t.is(holdingInterface(c, lb1, '198.51.100.10').name, 'eth1');
  t.is(holdingInterface(c, lb1, '192.0.2.10').name, 'eth0');
  t.is(holdingInterface(c, lb1, '2001:db8::10').name, 'eth0', 'IPv6: the interface with that IPv6 subnet');
  t.is(holdingInterface(c, lb1, '203.0.113.7').name, 'eth0', 'in no interface\'s subnet: the main one');
});

test('two interfaces: a DR member on the other interface\'s network than its VIP is refused, naming that interface', (t) => {
  const text = edit(TWO_NIC, 'vip: 198.51.100.10', 'vip: 192.0.2.15');
  expectProblems(t, text, [
    { field: 'services[4].real_servers[0].server', at: [BACK_MEMBER, 'far1'], says: ['DR real server "far1" (198.51.100.31) is not on director "lb1"\'s eth0 subnet 192.0.2.5/24'] },
    { field: 'services[4].real_servers[0].server', at: [BACK_MEMBER, 'far1'], says: ['director "lb2"\'s eth0 subnet 192.0.2.6/24'] },
  ]);
});

test('two interfaces: a service may name the interface of a VIP in no subnet of the director (a routed VIP)', (t) => {
  const text = edit(TWO_NIC, 'vip: 198.51.100.10\n', 'vip: 203.0.113.10\n    interface: eth1\n');
  const c = loads(t, text);
  t.is(holdingInterface(c, c.directors[1]!, '203.0.113.10').name, 'eth1');
  // without the name, the VIP would be on eth0, where far1 is not: refused
  t.true(problemsOf(edit(TWO_NIC, 'vip: 198.51.100.10\n', 'vip: 203.0.113.10\n')).some((p) => p.message.includes('"lb1"\'s eth0 subnet')));
});

test('two interfaces: a NAT real server may route through the director\'s address on its own network', (t) => {
  const c = loads(t, TWO_NIC);
  t.is(c.realServers.find((r) => r.name === 'app1')?.gateway, '198.51.100.5');
  const text = edit(TWO_NIC, 'gateway: 198.51.100.5', 'gateway: 198.51.100.9');
  expectProblems(t, text, [{ field: 'services[2].real_servers[0].server', at: ['{ server: app1, port: 443 }', 'app1'], says: ['expected 192.0.2.5 or 198.51.100.5 or 192.0.2.6 or 198.51.100.6'] }]);
});

test('a director with both interface and interfaces, or with neither, is refused', (t) => {
  const both = edit(BASE, '    role: backup\n', '    role: backup\n    interfaces: [{ name: eth1, address: 198.51.100.6/24 }]\n');
  expectProblems(t, both, [{ field: 'directors[1].interfaces', at: ['interfaces'], says: ['director "lb2" has both interface and interfaces'] }]);
  const neither = edit(BASE, '    interface: { name: eth0, address: 192.0.2.6/24, address6: 2001:db8::6/64 }\n', '');
  const problems = problemsOf(neither);
  t.true(problems.some((p) => p.field === 'directors[1].name' && p.message.includes('director "lb2" has no interface: expected interface: {name, address: ADDRESS/PREFIX}')), problems.map(formatProblem).join('\n'));
});

test('two interfaces with one name, or with overlapping subnets, are refused', (t) => {
  const same = edit(TWO_NIC, '{ name: eth1, address: 198.51.100.6/24 }', '{ name: eth0, address: 198.51.100.6/24 }');
  expectProblems(t, same, [{ field: 'directors[1].interfaces[1].name', at: ['{ name: eth0, address: 198.51.100.6/24 }', 'eth0'], says: ['interface eth0 is already director "lb2"\'s at line'] }]);
  const overlap = edit(TWO_NIC, '{ name: eth1, address: 198.51.100.6/24 }', '{ name: eth1, address: 192.0.2.106/25 }');
  const problems = problemsOf(overlap);
  t.true(problems.some((p) => p.field === 'directors[1].interfaces[1].address' && p.message.includes('eth1\'s subnet 192.0.2.106/25 overlaps eth0\'s')), problems.map(formatProblem).join('\n'));
});

test('a service naming an interface a carrying director lacks, or two services putting one VIP on two interfaces, is refused', (t) => {
  const missing = edit(TWO_NIC, 'vip: 198.51.100.10\n', 'vip: 198.51.100.10\n    interface: eth2\n');
  expectProblems(t, missing, [
    { field: 'services[4].interface', at: ['interface: eth2', 'eth2'], says: ['director "lb1" has no interface eth2', 'its interfaces are eth0, eth1'] },
    { field: 'services[4].interface', at: ['interface: eth2', 'eth2'], says: ['director "lb2" has no interface eth2'] },
  ]);
  const split = addToServices(edit(TWO_NIC, 'vip: 198.51.100.10\n', 'vip: 198.51.100.10\n    interface: eth1\n'),
    '  - name: back-dns\n    vip: 198.51.100.10\n    port: 53\n    protocol: udp\n    interface: eth0\n    real_servers:\n      - { server: far1 }\n');
  const problems = problemsOf(split);
  t.true(problems.some((p) => p.field === 'services[5].interface' && p.message.includes('VIP 198.51.100.10 is on eth1 for service "back"')), problems.map(formatProblem).join('\n'));
});

// ---------------------------------------------------------------------------------------------
// All at once.

test('every problem is reported at once, sorted by line', (t) => {
  let text = addToService(BASE, 'web', 'one_packet: true');
  text = edit(text, '{ server: far1 }', '{ server: far1, port: 444 }');
  text = addToService(text, 'app', 'persistence: { timeout: 300, netmask: 64 }');
  text = edit(text, 'health_check: { type: connect }', 'health_check: { type: connect, request: /x }');
  const problems = expectProblems(t, text, [
    { field: 'services[0].one_packet', at: ['one_packet: true', 'true'], says: ['one_packet'] },
    { field: 'services[1].real_servers[0].port', at: ['port: 444', '444'], says: ['TUN real server must use the service port 443'] },
    { field: 'services[2].persistence.netmask', at: ['netmask: 64', '64'], says: ['IPv4 netmask'] },
    { field: 'services[3].health_check.type', at: ['type: connect, request', 'connect'], says: ['request/receive are only used by negotiate checks'] },
  ]);
  const lines = problems.map((p) => p.line);
  t.deepEqual(lines, [...lines].sort((a, b) => a - b));
  const err = t.throws(() => parse(text), { instanceOf: InputError });
  t.true(err?.message.startsWith('4 problems found:\n'));
  t.is(err?.message.split('\n').length, 5);
});

test('every schema problem is reported at once', (t) => {
  let text = edit(BASE, 'port: 8443', 'port: 65536');
  text = edit(text, '{ server: web2 }', '{ server: web2, weight: -1 }');
  text = edit(text, 'address: 192.0.2.21,', 'address: 192.0.2.256,');
  expectProblems(t, text, [
    { field: 'real_servers[0].address', at: ['192.0.2.256'], says: ['expected an IPv4 or IPv6 address'] },
    { field: 'services[0].real_servers[1].weight', at: ['weight: -1', '-1'], says: ['expected a weight'] },
    { field: 'services[2].port', at: ['port: 65536', '65536'], says: ['expected a port number'] },
  ]);
});

test('loadInventory: an unreadable file is a problem, not a crash', (t) => {
  const err = t.throws(() => loadInventory('/nonexistent/inventory.yml'), { instanceOf: InputError });
  t.like(err?.problems[0], { file: '/nonexistent/inventory.yml', line: 1, col: 1, field: '' });
  t.is(err?.problems[0]?.message, 'the file cannot be read (ENOENT)');
});

test('input files: a FIFO, a device, a folder, a file over the size limit, or bytes that are not UTF-8 are refused, never read', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsplay-input-'));
  try {
    const fifo = join(dir, 'fifo.yml');
    execFileSync('mkfifo', [fifo]);
    const refused = (file: string) => t.throws(() => loadInventory(file), { instanceOf: InputError })!.problems[0]!.message;
    t.is(refused(fifo), 'the file is not a regular file', 'a FIFO would hang the run');
    t.is(refused('/dev/zero'), 'the file is not a regular file', '/dev/zero would fill memory');
    t.is(refused(dir), 'the file is not a regular file');
    const big = join(dir, 'big.yml');
    writeFileSync(big, '');
    truncateSync(big, MAX_INPUT_BYTES + 1);
    t.regex(refused(big), /^the file is \d+ bytes, more than the 16777216 bytes lvsplay reads$/);
    const latin1 = join(dir, 'latin1.yml');
    writeFileSync(latin1, Buffer.concat([Buffer.from('directors:\n  - name: caf'), Buffer.from([0xe9]), Buffer.from('\n')]));
    t.regex(refused(latin1), /^the file is not valid UTF-8 \(at byte 2[0-9]\)$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a "__proto__" key is refused (a JavaScript object would swallow it silently), wherever it is', (t) => {
  for (const [from, to] of [['    vars: { tier: front }', '    vars: { __proto__: { tier: x }, tier: front }'], ['groups:\n', 'groups:\n  __proto__: {}\n']] as const) {
    const err = t.throws(() => parseInventory(new YamlSource('bad.yml', edit(BASE, from, to))), { instanceOf: InputError });
    t.true(err!.problems.some((p) => p.message === 'the key "__proto__" is not allowed'), err!.message);
  }
  const err = t.throws(() => parseInventory(new YamlSource('bad.yml', `__proto__: { x: 1 }\n${BASE}`)), { instanceOf: InputError });
  t.like(err!.problems[0], { line: 1, col: 1, message: 'the key "__proto__" is not allowed' });
});

test('many keys load in linear time: 40,000 vars keys parse (the yaml library\'s own duplicate check was quadratic)', (t) => {
  const vars = Array.from({ length: 40_000 }, (_, i) => `    k${i}: ${i}`).join('\n');
  const text = edit(BASE, '    site: test\n', `    site: test\n${vars}\n`);
  const started = process.hrtime.bigint();
  const source = new YamlSource('many.yml', text);
  t.deepEqual(source.problems, []);
  t.log(`${Number(process.hrtime.bigint() - started) / 1e6} ms`); // shown, not asserted: bench/ measures speed
  const dup = new YamlSource('dup.yml', `a: 1\nb: 2\na: 3\n`);
  t.deepEqual(dup.problems.map((p) => [p.line, p.message]), [[3, 'duplicate key "a" (first at line 1)']]);
});

// ---------------------------------------------------------------------------------------------
// Regressions: bugs these tests found (fixed in 95565c1). Before the fix, the first three escaped
// as plain Errors (a stack trace from `lvsplay validate`), the last two were vague or missing.

test('an IPv6 address with a zone index ipaddr.js cannot parse is an InputError, not a crash (src/inventory/fields.ts Ip)', (t) => {
  // node:net isIPv6 accepts zone indexes of [0-9a-zA-Z-.:]; ipaddr.js only [0-9a-z], and threw.
  const text = edit(BASE, 'address6: 2001:db8::21,', 'address6: "fe80::1%eth-0",');
  t.throws(() => parse(text), { instanceOf: InputError });
});

test('a host named like a group (built-in, declared, or one a host names) is refused at its name: a selector would pick the host alone', (t) => {
  const far = (name: string, groups = '') => edit(edit(BASE, '{ name: far1, address: 198.51.100.31 }', `{ name: ${name}, address: 198.51.100.31${groups} }`), '{ server: far1 }', `{ server: ${name} }`);
  for (const [name, says] of [['directors', 'a built-in group\'s'], ['all', 'a built-in group\'s'], ['backup', 'a built-in group\'s'], ['web', 'a group\'s']] as const) {
    const text = far(name);
    expectProblems(t, text, [{ field: 'real_servers[2].name', at: [`name: ${name}, address: 198.51.100.31`, name], says: [`host name "${name}" is also ${says} name`] }]);
  }
  // a group only a host's groups: list names
  const text = edit(BASE, '{ name: app1, address: 192.0.2.41,', '{ name: app1, groups: [far1], address: 192.0.2.41,');
  expectProblems(t, text, [{ field: 'real_servers[2].name', at: ['name: far1', 'far1'], says: ['host name "far1" is also a group\'s name'] }]);
});

test('an address that is the network or broadcast address of a subnet the cluster uses (a director interface\'s, the NAT gateway\'s) is refused at its field; a /31 has no such edge', (t) => {
  expectProblems(t, edit(BASE, 'vip: 192.0.2.10', 'vip: 192.0.2.255'), [{ field: 'services[0].vip', at: ['vip: 192.0.2.255', '192.0.2.255'], says: ['192.0.2.255 is the broadcast address of 192.0.2.5/24'] }]);
  expectProblems(t, edit(BASE, '{ name: web2, address: 192.0.2.22,', '{ name: web2, address: 192.0.2.0,'), [{ field: 'real_servers[1].address', at: ['address: 192.0.2.0,', '192.0.2.0'], says: ['is the network address of 192.0.2.5/24'] }]);
  expectProblems(t, edit(BASE, 'vip: 2001:db8::10', 'vip: "2001:db8::"'), [{ field: 'services[3].vip', at: ['vip: "2001:db8::"', '"2001:db8::"'], says: ['2001:db8:: is the network address of 2001:db8::5/64'] }]);
  const nat = edit(edit(BASE, '{ name: app1, address: 192.0.2.41, gateway: 192.0.2.5 }', '{ name: app1, address: 203.0.113.255, gateway: 203.0.113.1 }'), 'services:', 'nat_gateway: 203.0.113.1/24\nservices:');
  expectProblems(t, nat, [{ field: 'real_servers[3].address', at: ['address: 203.0.113.255', '203.0.113.255'], says: ['is the broadcast address of 203.0.113.1/24'] }]);
  // a /31 point-to-point link: both addresses are hosts' (RFC 3021)
  loads(t, edit(BASE, 'interface: { name: eth0, address: 192.0.2.6/24, address6: 2001:db8::6/64 }', 'interfaces: [{ name: eth0, address: 192.0.2.6/24, address6: 2001:db8::6/64 }, { name: eth1, address: 198.51.100.6/31 }]'));
});

test('a link prefix under /8 (IPv6 /16) on an interface or the NAT gateway is refused: ip addr add X/0 would route everything to that link', (t) => {
  expectProblems(t, edit(BASE, 'interface: { name: eth0, address: 192.0.2.6/24,', 'interface: { name: eth0, address: 192.0.2.6/0,'), [{ field: 'directors[1].interface.address', at: ['192.0.2.6/0'], says: ["expected a link's prefix, /8 or longer: a /0"] }]);
  expectProblems(t, edit(BASE, 'address6: 2001:db8::6/64', 'address6: 2001:db8::6/12'), [{ field: 'directors[1].interface.address6', at: ['2001:db8::6/12'], says: ['/16 or longer'] }]);
  expectProblems(t, edit(BASE, 'services:', 'nat_gateway: 192.0.2.1/7\nservices:'), [{ field: 'nat_gateway', at: ['192.0.2.1/7'], says: ['/8 or longer'] }]);
});

test('a VIP that is the NAT gateway is refused: a VIP is an address of its own', (t) => {
  const text = edit(edit(BASE, 'vip: 192.0.2.13', 'vip: 203.0.113.1'), 'services:', 'nat_gateway: 203.0.113.1/24\nservices:');
  expectProblems(t, text, [{ field: 'services[2].vip', at: ['vip: 203.0.113.1', '203.0.113.1'], says: ['VIP 203.0.113.1 is the NAT gateway (line'] }]);
});

test('a YAML alias bomb is an InputError, not a crash (src/util/yaml-source.ts toJS maxAliasCount)', (t) => {
  const bomb = ['a: &a [x, x, x, x, x, x, x, x, x]']
    .concat(['b', 'c', 'd', 'e'].map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcd'[i]}`).join(', ')}]`))
    .concat([`f: [${Array(9).fill('*e').join(', ')}]`]).join('\n');
  const error = t.throws(() => parseInventory(new YamlSource('bomb.yml', bomb)), { instanceOf: InputError });
  // said in the file's terms, at the first alias (line 2), not the library's words at 1:1
  t.regex(error.message, /bomb\.yml:2:\d+: YAML: aliases \(\*name\) that expand to too much/);
  t.false(error.message.includes('resource exhaustion'));
});

test('a second YAML document is said where it starts, in the file\'s terms (not the library\'s advice to call parseAllDocuments)', (t) => {
  const error = t.throws(() => parseInventory(new YamlSource('two.yml', `${BASE}---\ndirectors: []\n`)), { instanceOf: InputError });
  t.regex(error.message, new RegExp(`two\\.yml:${BASE.split('\n').length}:1: YAML: a second YAML document starts here`));
  t.false(error.message.includes('parseAllDocuments'));
});

test('collections nested thousands deep are an InputError in the input\'s terms, not the parser\'s stack overflow', (t) => {
  const error = t.throws(() => parseInventory(new YamlSource('deep.yml', `directors: ${'['.repeat(20000)}${']'.repeat(20000)}`)), { instanceOf: InputError });
  t.regex(error.message, /deep\.yml:1:\d+: YAML: collections nested too deeply to read/);
  t.false(error.message.includes('call stack'));
});

test('an alias to a missing anchor is an InputError, not a crash (src/util/yaml-source.ts toJS)', (t) => {
  // A typo in an anchor name: yaml's toJS threw a ReferenceError out of the YamlSource constructor.
  const text = edit(BASE, '    role: primary', '    role: *primry');
  t.throws(() => parse(text), { instanceOf: InputError });
});

test('a bad group name is reported as a bad name at the key (src/util/schema-problems.ts: no case for invalid_key)', (t) => {
  // Was: "expected something else (Invalid key in record), got a mapping", placed at the value.
  const text = edit(BASE, '  web:\n    ssh:', '  "we;b":\n    ssh:');
  expectProblems(t, text, [{ field: 'groups.we;b', at: ['"we;b"'], says: ['expected a name'] }]);
});

test('vars refuse terminal control characters, as VarValue\'s comment says (src/inventory/fields.ts VarValue)', (t) => {
  // The regex refused only NUL and CR: ESC sequences and BEL reached logs and terminals.
  for (const value of ['"\\e[31mred"', '"ding\\a"', '"back\\bspace"']) {
    const text = edit(BASE, '    site: test', `    site: ${value}`);
    expectProblems(t, text, [{ field: 'defaults.vars.site', at: [value], says: ['expected text without'] }]);
  }
});

// ---------------------------------------------------------------------------------------------
// Issue 8.7 / 13.10: what two hosts, a fallback, a VIP or a path can be.

function messages(text: string): string[] {
  try {
    parse(text, 'bad.yml');
    return [];
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    return err.problems.map((p) => `${p.field}: ${p.message}`);
  }
}

test('two hosts with one address are refused, naming both (the second silently won: one IPVS destination, a weight lost)', (t) => {
  const two = messages(edit(BASE, '{ name: web2, address: 192.0.2.22,', '{ name: web2, address: 192.0.2.21,'));
  t.true(two.some((m) => m.startsWith('real_servers[1].address: address 192.0.2.21 is already web1\'s at line')), two.join('\n'));
  const spelled = messages(edit(BASE, 'address6: 2001:db8::22,', 'address6: "2001:0db8:0::21",'));
  t.true(spelled.some((m) => m.includes('address 2001:db8::21 is already web1\'s')), `one address however it is spelt: ${spelled.join('\n')}`);
  const director = messages(edit(BASE, '{ name: web2, address: 192.0.2.22,', '{ name: web2, address: 192.0.2.6,'));
  t.true(director.some((m) => m.includes('is already lb2\'s') && m.includes('a host cannot be both a director and a real server')), director.join('\n'));
});

test('VIPs and host addresses that cannot be one are refused: unspecified, loopback, multicast, broadcast, link-local, IPv4-mapped or -compatible', (t) => {
  const cases: [string, RegExp][] = [
    ['0.0.0.0', /the unspecified address/], ['127.0.0.9', /a loopback address/], ['224.0.0.18', /a multicast address/],
    ['255.255.255.255', /the broadcast address/], ['169.254.1.1', /a link-local address/], ['"::ffff:192.0.2.10"', /IPv4-mapped/],
    ['"::192.0.2.10"', /IPv4-compatible/], ['"::"', /unspecified/], ['"::1"', /loopback/], ['"ff02::1"', /multicast/],
  ];
  for (const [vip, why] of cases) {
    const found = messages(edit(BASE, 'vip: 192.0.2.12', `vip: ${vip}`));
    t.true(found.some((m) => m.startsWith('services[1].vip: expected a unicast address, not') && why.test(m)), `${vip}: ${found.join('\n')}`);
  }
  const host = messages(edit(BASE, '{ name: far1, address: 198.51.100.31 }', '{ name: far1, address: 127.0.0.1 }'));
  t.true(host.some((m) => m.startsWith('real_servers[2].address: expected a unicast address, not a loopback address')), host.join('\n'));
});

test('a DR fallback off the directors\' segment is refused like a member; a loopback fallback (the director itself) is fine', (t) => {
  const off = messages(addToService(BASE, 'web6', 'fallback: { address: "2001:db8:ff::9" }'));
  t.true(off.some((m) => m.includes('DR fallback 2001:db8:ff::9 is not on director "lb1"\'s eth0 subnet 2001:db8::5/64')), off.join('\n'));
  const family = messages(addToService(BASE, 'web6', 'fallback: { address: 192.0.2.9 }'));
  t.true(family.some((m) => m.includes('not in the service\'s family')), family.join('\n'));
  t.deepEqual(messages(addToService(BASE, 'web6', 'fallback: { address: "::1", port: 80 }')), []);
  t.deepEqual(messages(addToService(BASE, 'web6', 'fallback: { address: "2001:db8::9" }')), []);
});

test('vars whose shell names meet ($LVSPLAY_VAR_a_b for a.b and a-b) are refused', (t) => {
  const found = messages(edit(BASE, '    site: test\n', '    site: test\n    a.b: 1\n    a-b: 2\n'));
  t.true(found.some((m) => m.includes('vars "a-b" and "a.b" would both be $LVSPLAY_VAR_a_b')), found.join('\n'));
});

test('vars from different scopes a host sees (defaults, its groups, its own) whose shell names meet are refused once, at the more specific key; scopes no host sees together may', (t) => {
  const withVars = edit(edit(BASE, '    site: test\n', '    site: test\n    a-b: 1\n    x-y: 1\n'), "    vars: { tier: front }", "    vars: { tier: front, x_y: 2, p-q: 3 }");
  const clash = messages(edit(withVars, '{ name: far1, address: 198.51.100.31 }', '{ name: far1, address: 198.51.100.31, vars: { a_b: 2 } }')).filter((m) => m.includes('would both be'));
  t.deepEqual(clash.sort(), [
    'groups.web.vars.x_y: vars "x_y" and "x-y" (defaults.vars) would both be $LVSPLAY_VAR_x_y in shell templates: rename one',
    'real_servers[2].vars.a_b: vars "a_b" and "a-b" (defaults.vars) would both be $LVSPLAY_VAR_a_b in shell templates: rename one',
  ], 'the group clash once, not once per host of the group');
  // p-q in group web, p_q on lb1 (not in web): no host sees both
  t.deepEqual(messages(edit(edit(BASE, "    vars: { tier: front }", "    vars: { tier: front, p-q: 3 }"), '    role: primary\n', '    role: primary\n    vars: { p_q: 1 }\n')).filter((m) => m.includes('would both be')), []);
});

test('paths on managed hosts are absolute and plain: ~ (quoted there, never expanded) and .. are refused, and so are names Linux cannot open (a part over 255 bytes, the whole 4096 or more: ENAMETOOLONG, ldirectord could not open such a log file)', (t) => {
  const long = (part: number, parts = 1) => Array.from({ length: parts }, () => `/${'a'.repeat(part)}`).join('');
  t.deepEqual(messages(`ldirectord: { logfile: ${long(255, 15)} }\n${BASE}`), [], 'parts of 255, 3840 in all');
  for (const path of [long(256), long(255, 16)]) {
    t.true(messages(`ldirectord: { logfile: ${path} }\n${BASE}`).some((m) => m.startsWith('ldirectord.logfile: ') && m.includes('each part at most 255 characters, the whole under 4096')), `${path.length}`);
  }
  for (const [from, to] of [['directors:', 'rules_file: ~/ipvsadm.rules\ndirectors:'], ['directors:', 'ldirectord: { config_file: /etc/ha.d/../x.cf }\ndirectors:'], ['health_check: { type: connect }', 'health_check: { type: external, command: ~/check.sh }']]) {
    const found = messages(edit(BASE, from!, to!));
    t.true(found.some((m) => m.includes('expected an absolute path of a file on the host')), `${to}: ${found.join('\n')}`);
  }
});

test('a configured path that is another of lvsplay\'s files, a folder of one, or inside one, is refused at the field the file sets (every run would turn it back and forth)', (t) => {
  const cases: [string, string][] = [
    ['rules_file: /etc/ha.d/ldirectord.cf', 'rules_file: rules_file "/etc/ha.d/ldirectord.cf" is also ldirectord.config_file'],
    ['rules_file: /var/lib/lvsplay/drained', 'rules_file: rules_file "/var/lib/lvsplay/drained" is also lvsplay\'s record "drained" in state_dir'],
    ['state_dir: /etc/lvsplay/ipvs.rules', 'state_dir: state_dir "/etc/lvsplay/ipvs.rules" is also rules_file'],
    ['rules_file: /etc/lvsplay', 'rules_file: rules_file "/etc/lvsplay" would have to be a folder for lvsplay\'s nftables marks (/etc/lvsplay/marks.nft)'],
    ['state_dir: /etc/sysctl.d/90-lvsplay.conf/x', 'state_dir: state_dir "/etc/sysctl.d/90-lvsplay.conf/x" lies inside lvsplay\'s sysctl.d file'],
    ['ldirectord: { config_file: /etc/keepalived/keepalived.conf }', 'ldirectord.config_file: ldirectord.config_file "/etc/keepalived/keepalived.conf" is also keepalived\'s config'],
    ['rules_file: /etc/r\nldirectord: { logfile: /etc/r }', 'ldirectord.logfile: ldirectord.logfile "/etc/r" is also rules_file (line 1)'],
    ['rules_file: /etc/systemd/system/lvsplay-ipvs.service', 'is also lvsplay\'s unit lvsplay-ipvs.service'],
  ];
  for (const [set, says] of cases) {
    const found = messages(`${set}\n${BASE}`);
    t.deepEqual(found.filter((m) => m.includes('needs a path of its own')).length, 1, `${set}: ${found.join('\n')}`);
    t.true(found.some((m) => m.includes(says)), `${set}: ${found.join('\n')}`);
  }
  // Apart, they are fine: the rules beside the records, ldirectord's maintenance folder in state_dir's place.
  t.deepEqual(messages(`rules_file: /var/lib/lvsplay/ipvs.rules\nldirectord: { maintenance_dir: /var/lib/lvsplay, logfile: /var/log/ldirectord.log }\n${BASE}`), []);
});

test('IPv6 TUN and IPv6 NAT are refused at validate with the reason (they were half set up: no VIP, an IPv4 sysctl); a VIP that is a host\'s own address is refused', (t) => {
  const tun = messages(edit(BASE, 'vip: 192.0.2.12', 'vip: "2001:db8::12"'));
  t.true(tun.some((m) => m.startsWith('services[1].forwarding: IPv6 with forwarding: tun is not supported')), tun.join('\n'));
  const nat = messages(edit(edit(BASE, 'vip: 192.0.2.13', 'vip: "2001:db8::13"'), '{ server: app1, port: 443 }', '{ server: web1, port: 443 }'));
  t.true(nat.some((m) => m.startsWith('services[2].forwarding: IPv6 with forwarding: nat is not supported')), nat.join('\n'));
  const own = messages(edit(BASE, 'vip: 192.0.2.12', 'vip: 192.0.2.41'));
  t.true(own.some((m) => m.includes('VIP 192.0.2.41 is host app1\'s own address')), own.join('\n'));
});

test('ldirectord check text: "#" (ldirectord cuts the line there), control characters, and a receive regex that does not compile are refused', (t) => {
  const check = (hc: string) => messages(edit(BASE, 'health_check: { type: connect }', `health_check: ${hc}`));
  t.true(check("{ type: negotiate, request: '/a#b' }").some((m) => m.includes('without double quotes, "#"')));
  t.true(check('{ type: negotiate, request: "/a\\tb" }').some((m) => m.includes('control characters')));
  t.true(check('{ type: negotiate, request: "", receive: OK }').some((m) => m.includes('.health_check.request') && m.includes('at least 1')), 'an empty request (ldirectord: "no request string specified")');
  t.true(check("{ type: negotiate, receive: 'OK (v1' }").some((m) => m.includes('expected a Perl regular expression (ldirectord matches the answer with it), got an unmatched ( at character 4')), 'where the group opens');
  t.deepEqual(check("{ type: negotiate, request: /health, receive: '^OK \\d+' }"), [], 'a backslash in a regex is fine');
});

test('an ldirectord receive regex is read as Perl reads it: what perl takes and JavaScript refuses is taken, what perl refuses is refused at its field', (t) => {
  const check = (receive: string) => messages(edit(BASE, 'health_check: { type: connect }', `health_check: { type: negotiate, request: /health, receive: '${receive}' }`));
  for (const receive of ['(?i)ok', '\\AHTTP/1\\.[01] 200', '(?>\\d+) ms', 'up++', '(?i:ready)|(?-i)OK', '\\u0041']) t.deepEqual(check(receive), [], receive);
  for (const [receive, says] of [['(?J)ok', 'an unrecognized (?J... sequence'], ['\\1', 'a reference to group 1'], ['(?<=a+)b', 'a lookbehind longer than 255'], ['\\Qa(\\E', 'an unmatched (']] as const) {
    t.true(check(receive).some((m) => m.includes('.health_check.receive: expected a Perl regular expression') && m.includes(says)), `${receive}: ${check(receive).join('\n')}`);
  }
});

test('what ldirectord.cf cannot say is refused for ldirectord services: ops on a fwmark, gue/gre tunnels; scheduler flags and thresholds are fine', (t) => {
  const fw = messages(edit(BASE, '  - name: web6\n    vip: 2001:db8::10\n    port: 80\n', '  - name: web6\n    fwmark: 6\n    family: ipv6\n    one_packet: true\n'));
  t.true(fw.some((m) => m.includes('ldirectord applies one-packet scheduling (ops) only to UDP')), fw.join('\n'));
  const flags = messages(addToService(BASE, 'web6', 'scheduler: sh', 'scheduler_flags: [sh-port]'));
  t.deepEqual(flags, []);
});

test('a firewall-mark or port-0 service\'s check that connects needs its port (its real servers have port 0: ldirectord and keepalived would check port 0); a DR member port ldirectord.cf cannot carry and keepalived clears is refused', (t) => {
  const FW6 = (extra: string) => edit(BASE, '  - name: web6\n    vip: 2001:db8::10\n    port: 80\n', `  - name: web6\n    fwmark: 6\n    family: ipv6\n${extra}`);
  const says = 'a firewall-mark service\'s real servers have no port of their own: a connect check needs health_check.port';
  t.true(messages(FW6('')).some((m) => m.startsWith(`services[3].health_check: ${says}`)), messages(FW6('')).join('\n'));
  t.deepEqual(messages(edit(FW6(''), 'health_check: { type: connect }', 'health_check: { type: connect, port: 80 }')), []);
  t.deepEqual(messages(edit(FW6(''), 'health_check: { type: connect }', 'health_check: { type: ping }')), [], 'a ping has no port');
  const withPort = (text: string, check: string) => edit(text, WEB6_MEMBER, `health_check: ${check}\n    real_servers:\n      - { server: web1, port: 80 }`);
  const memberPort = messages(withPort(FW6(''), '{ type: connect, port: 80 }'));
  t.deepEqual(memberPort, ['services[3].real_servers[0].port: a DR real server of ldirectord\'s firewall-mark service has no port (the kernel keeps the packet\'s), got 80: the check\'s port is health_check.port']);
  // keepalived 2.2.7 clears a DR/TUN member's port on a fwmark service, with a warning its config test fails on (was: accepted)
  t.deepEqual(messages(withPort(FW6('    managed_by: keepalived\n'), '{ type: connect, port: 80 }')), ['services[3].real_servers[0].port: a DR real server of keepalived\'s firewall-mark service has no port (the kernel keeps the packet\'s), got 80: the check\'s port is health_check.port']);
  t.deepEqual(messages(withPort(FW6('    managed_by: keepalived\n    forwarding: tun\n'), '{ type: connect, port: 80 }')).filter((m) => !m.startsWith('services[3].forwarding: IPv6 with')), ['services[3].real_servers[0].port: a TUN real server of keepalived\'s firewall-mark service has no port (the kernel keeps the packet\'s), got 80: the check\'s port is health_check.port']);
  t.true(messages(FW6('    managed_by: keepalived\n')).some((m) => m.includes('a connect check needs health_check.port')));
  const port0 = messages(edit(BASE, '  - name: web6\n    vip: 2001:db8::10\n    port: 80\n', '  - name: web6\n    vip: 2001:db8::10\n    port: 0\n    persistence: { timeout: 300 }\n'));
  t.true(port0.some((m) => m.startsWith('services[3].health_check: a port 0 service\'s real servers have no port of their own')), port0.join('\n'));
});

test('a DR or local fallback on another port than the service\'s is refused like a member (the kernel keeps the packet\'s port; ldirectord looks for fallback:PORT in a table that says the service\'s); NAT maps it', (t) => {
  t.deepEqual(messages(addToService(BASE, 'web6', 'fallback: { address: "::1", port: 8080 }')), ['services[3].fallback.port: a DR fallback must use the service port 80, got 8080 (only NAT can map ports)']);
  t.deepEqual(messages(addToService(BASE, 'web6', 'fallback: { address: "2001:db8::9", port: 81 }')), ['services[3].fallback.port: a DR fallback must use the service port 80, got 81 (only NAT can map ports)']);
  t.deepEqual(messages(addToService(BASE, 'web6', 'fallback: { address: "2001:db8::9", port: 80 }')), []);
});

test('a fallback of the other family is refused, loopback and NAT included (the kernel refuses a DR or NAT destination of the other family, keepalived skips such a sorry server, ldirectord\'s fallback= of a virtual= block is IPv4); keepalived may tunnel to the other family', (t) => {
  const says = (i: number, address: string, family: string) => `services[${i}].fallback.address: the fallback ${address} is not in the service's family (${family}): only a TUN fallback of keepalived's may be of the other family`;
  for (const owner of ['ldirectord', 'keepalived']) {
    t.deepEqual(messages(addToService(BASE, 'web', `managed_by: ${owner}`, 'health_check: { type: connect }', 'fallback: { address: "::1" }')), [says(0, '::1', 'ipv4')], owner);
    t.deepEqual(messages(addToService(BASE, 'web6', `managed_by: ${owner}`, 'fallback: { address: 127.0.0.1 }')), [says(3, '127.0.0.1', 'ipv6')], owner);
    t.deepEqual(messages(addToService(BASE, 'web', `managed_by: ${owner}`, 'health_check: { type: connect }', 'fallback: { address: "2001:db8::30", forwarding: nat }')), [says(0, '2001:db8::30', 'ipv4')], owner);
    t.deepEqual(messages(addToService(BASE, 'web6', `managed_by: ${owner}`, 'fallback: { address: "::1" }')), [], `${owner}: its own family`);
  }
  t.deepEqual(messages(addToService(BASE, 'web', 'managed_by: keepalived', 'health_check: { type: connect }', 'fallback: { address: "2001:db8::30", forwarding: tun }')), [], 'keepalived tunnels to the other family');
  t.deepEqual(messages(addToService(BASE, 'web', 'managed_by: ldirectord', 'health_check: { type: connect }', 'fallback: { address: "2001:db8::30", forwarding: tun }')), [says(0, '2001:db8::30', 'ipv4')], 'ldirectord does not');
});

test('keepalived: a check timeout over 4294 s is refused, the service\'s or a member\'s (connect_timeout and misc_timeout are microseconds in 32 bits: keepalived ignores the line, and its config test fails); ldirectord\'s may be longer', (t) => {
  const ka = (check: string, member = '{ server: web1 }') => edit(addToService(BASE, 'web6', 'managed_by: keepalived'), WEB6_MEMBER, `health_check: ${check}\n    real_servers:\n      - ${member}`);
  t.deepEqual(messages(ka('{ type: connect, timeout: 4294 }')), []);
  t.deepEqual(messages(ka('{ type: connect, timeout: 4295 }')), ['services[3].health_check.timeout: keepalived takes a check timeout (connect_timeout) of at most 4294 seconds, got 4295: it ignores the line otherwise, and its config test fails']);
  t.deepEqual(messages(ka('{ type: misc, command: /bin/true, timeout: 86400 }')), ['services[3].health_check.timeout: keepalived takes a check timeout (misc_timeout) of at most 4294 seconds, got 86400: it ignores the line otherwise, and its config test fails']);
  t.deepEqual(messages(ka('{ type: connect }', '{ server: web1, check: { timeout: 5000 } }')), ['services[3].real_servers[0].check.timeout: keepalived takes a check timeout (connect_timeout) of at most 4294 seconds, got 5000: it ignores the line otherwise, and its config test fails']);
  t.deepEqual(messages(edit(BASE, WEB6_MEMBER, 'health_check: { type: connect, timeout: 86400 }\n    real_servers:\n      - { server: web1 }')), [], 'ldirectord\'s checktimeout');
});

test('keepalived: a DNS check\'s name whose first label is one character is refused (keepalived 2.2.7 reads it as one with an empty label, ignores it, and its config test fails); the wait task\'s DNS gate takes it', (t) => {
  const ka = (name: string) => edit(addToService(BASE, 'web6', 'managed_by: keepalived'), WEB6_MEMBER, `health_check: { type: dns, query_name: ${name} }\n    real_servers:\n      - { server: web1 }`);
  t.deepEqual(messages(ka('a.example.net')), ['services[3].health_check.query_name: keepalived 2.2.7 reads a name whose first label is one character as one with an empty label ("DNS_CHECK name ... has empty label"), ignores it, and its config test fails: got a.example.net']);
  for (const name of ['ab.example.net', 'www.example.net.', '"."', 'a']) t.deepEqual(messages(ka(name)), [], name);
});

test('keepalived: a DR or TUN fallback of a firewall-mark service has no port (keepalived clears it, and its config test fails); a NAT one maps it', (t) => {
  const fw = (fallback: string, forwarding = '') => edit(BASE, '  - name: web6\n    vip: 2001:db8::10\n    port: 80\n    health_check: { type: connect }\n',
    `  - name: web6\n    fwmark: 6\n    family: ipv6\n    managed_by: keepalived\n${forwarding}    health_check: { type: connect, port: 80 }\n    fallback: ${fallback}\n`);
  t.deepEqual(messages(fw('{ address: "2001:db8::9", port: 80 }')), ['services[3].fallback.port: a DR fallback of keepalived\'s firewall-mark service has no port (the kernel keeps the packet\'s), got 80: keepalived clears it, and its config test fails']);
  t.deepEqual(messages(fw('{ address: "2001:db8::9" }')), []);
  t.deepEqual(messages(fw('{ address: "2001:db8::9", port: 8080, forwarding: nat }', '    forwarding: nat\n')).filter((m) => m.includes('fallback')), []);
});

test('a mark that takes a vip:port service\'s packets is refused (IPVS looks a marked packet up by its mark first: that service would get none); narrower marks are fine', (t) => {
  const marked = (mark: string) => `${BASE}  - name: shop\n    fwmark: 9\n    marks: [ ${mark} ]\n    real_servers:\n      - { server: web2 }\n`;
  const says = 'services[4].marks[0].vip: these packets are also service "web"\'s (tcp 192.0.2.10:80, line';
  for (const mark of ['{ vip: 192.0.2.10 }', '{ vip: 192.0.2.10, protocol: tcp }', '{ vip: 192.0.2.10, protocol: tcp, ports: [80, 443] }']) {
    const found = messages(marked(mark));
    t.true(found.some((m) => m.startsWith(says)), `${mark}: ${found.join('\n')}`);
  }
  for (const mark of ['{ vip: 192.0.2.10, protocol: udp }', '{ vip: 192.0.2.10, protocol: tcp, ports: [443] }', '{ vip: 192.0.2.15 }']) {
    t.deepEqual(messages(marked(mark)), [], mark);
  }
});

test('a gre tunnel\'s port (ipvsadm\'s --tun-port is gue\'s) is refused, not dropped', (t) => {
  t.deepEqual(messages(addToService(BASE, 'api', 'tunnel: { type: gre, port: 5555 }')), ['services[1].tunnel.port: a gre tunnel has no port (that is for gue tunnels)']);
  t.deepEqual(messages(addToService(BASE, 'api', 'tunnel: { type: gue, port: 5555 }')), []);
});

test('an SSH host that the resolver would read as another address (octal, hex, short IPv4; a name ending in a number), or 0.0.0.0, :: (this machine), multicast or broadcast, is refused', (t) => {
  const base = '{ name: web1, address: 192.0.2.21, address6: 2001:db8::21, groups: [web] }';
  for (const host of ['010.0.0.1', '0x7f.1', '"127.1"', '"2130706433"', 'web.123', '0.0.0.0', '"::"', '224.0.0.1', '255.255.255.255', '"ff02::1"']) {
    const found = messages(edit(BASE, base, `{ name: web1, address: 192.0.2.21, address6: 2001:db8::21, groups: [web], ssh: { host: ${host} } }`));
    t.is(found.length, 1, `${host}: ${found.join('\n')}`);
    t.true(found[0]?.startsWith('real_servers[0].ssh.host: expected an '), `${host}: ${found.join('\n')}`);
  }
  for (const host of ['127.0.0.1', 'web1.example.net', 'web1', 'a1-2.example', '"2001:db8::21"', '"::1"']) {
    t.deepEqual(messages(edit(BASE, base, `{ name: web1, address: 192.0.2.21, address6: 2001:db8::21, groups: [web], ssh: { host: ${host} } }`)), [], host);
  }
});

test('interface names: "all" and "default" (the kernel\'s every-interface settings) are refused anywhere; lo is no director interface', (t) => {
  const iface = 'interface: { name: eth0, address: 192.0.2.5/24, address6: 2001:db8::5/64 }';
  for (const name of ['all', 'default']) {
    t.true(messages(edit(BASE, iface, iface.replace('eth0', name))).some((m) => m.startsWith(`directors[0].interface.name: expected an interface name: "all" and "default"`)), name);
    t.true(messages(addToService(BASE, 'web', `interface: ${name}`)).some((m) => m.startsWith('services[0].interface: expected an interface name: "all"')), name);
  }
  t.deepEqual(messages(edit(BASE, iface, iface.replace('eth0', 'lo'))).filter((m) => m.startsWith('directors[0].interface.name')), ['directors[0].interface.name: expected the director\'s network interface, not lo (VIPs there are announced to no one), got "lo"']);
});

// ---------------------------------------------------------------- service generation (generate.ts)

/** BASE with web written once for HTTP and HTTPS on both families, and defaults every service takes. */
const GENERATED = edit(edit(BASE, `services:
  - name: web
    vip: 192.0.2.10
    port: 80
`, `service_defaults:
  scheduler: wrr
  persistence: { timeout: 300 }
services:
  - name: web
    vips: [192.0.2.10, 2001:db8::10]
    ports: [80, 443]
`), `  - name: web6
    vip: 2001:db8::10
    port: 80
    health_check: { type: connect }
    real_servers:
      - { server: web1 }
`, `  - name: web6
    vip: 2001:db8::11
    port: 80
    scheduler: rr
    health_check: { type: connect }
    real_servers:
      - { server: web1 }
`);

test('service generation: ports and vips make one service per VIP and port (NAME-ipv4-80 ...); service_defaults fill what a service does not say, its own keys win', (t) => {
  const c = parse(GENERATED);
  t.deepEqual(c.services.map((s) => [s.name, s.vip, s.port, s.scheduler, s.persistence?.timeoutS]), [
    ['web-ipv4-80', '192.0.2.10', 80, 'wrr', 300], ['web-ipv4-443', '192.0.2.10', 443, 'wrr', 300],
    ['web-ipv6-80', '2001:db8::10', 80, 'wrr', 300], ['web-ipv6-443', '2001:db8::10', 443, 'wrr', 300],
    ['api', '192.0.2.12', 443, 'wrr', 300], ['app', '192.0.2.13', 8443, 'wrr', 300], ['web6', '2001:db8::11', 80, 'rr', 300],
  ]);
  t.deepEqual(c.services[2]!.realServers.map((m) => m.address), ['2001:db8::21', '2001:db8::22'], 'the IPv6 service reaches its members by address6');
  const one = parse(edit(BASE, '    vip: 192.0.2.10\n    port: 80\n', '    vip: 192.0.2.10\n    ports: [8080]\n'));
  t.is(one.services[0]!.name, 'web', 'one port: the name as written');
  t.is(one.services[0]!.port, 8080);
});

test('service generation: YAML merge keys (<<: *anchor) give shared blocks, the entry\'s own keys winning', (t) => {
  const withAnchor = edit(edit(BASE, '  - name: web\n    vip: 192.0.2.10\n', '  - &web\n    name: web\n    vip: 192.0.2.10\n    scheduler: sh\n    scheduler_flags: [sh-port]\n'),
    '  - name: api\n', '  - <<: *web\n    name: web-alt\n    vip: 192.0.2.14\n  - name: api\n');
  const c = parse(withAnchor);
  const alt = c.services.find((s) => s.name === 'web-alt')!;
  t.deepEqual([alt.vip, alt.port, alt.scheduler, alt.schedulerFlags, alt.realServers.map((m) => m.server)], ['192.0.2.14', 80, 'sh', ['sh-port'], ['web1', 'web2']]);
});

test('service generation: a problem in a generated service is placed where it was written (service_defaults, the ports or vips item), once, naming the services', (t) => {
  const badDefault = edit(GENERATED, '  scheduler: wrr\n', '  scheduler: fastest\n');
  const [p, ...more] = problemsOf(badDefault);
  t.deepEqual(more.map(formatProblem), [], 'one problem, not one per service');
  t.deepEqual({ line: p!.line, field: p!.field }, { line: placeOf(badDefault, '  scheduler: fastest').line, field: 'service_defaults.scheduler' });
  t.regex(formatProblem(p!), /expected one of .*"wlc".*, got "fastest"$/);
  // checked on its own: a default that every service overrides is reported all the same
  t.regex(problemsOf(edit(BASE, 'services:\n', 'service_defaults: { forwarding: direct }\nservices:\n')).map(formatProblem).join('\n'), /service_defaults\.forwarding: expected one of "dr", "tun", "nat"/);
  // a default that fits some services and not others: once, where it was written, naming them
  const udpOnly = edit(GENERATED, '  scheduler: wrr\n', '  scheduler: wrr\n  one_packet: true\n');
  const [q, ...others] = problemsOf(udpOnly);
  t.deepEqual(others.map(formatProblem), []);
  t.is(q!.field, 'service_defaults.one_packet');
  t.regex(formatProblem(q!), /\(in services "web-ipv4-80", "web-ipv4-443", "web-ipv6-80" and 4 more\)$/);

  const misspelt = problemsOf(edit(GENERATED, '  scheduler: wrr\n', '  schedular: wrr\n'));
  t.is(misspelt.length, 1, misspelt.map(formatProblem).join('\n'));
  t.regex(misspelt[0]!.message, /unknown key "schedular".*did you mean "scheduler"/);
  t.is(misspelt[0]!.field, 'service_defaults.schedular');

  const badPort = edit(GENERATED, 'ports: [80, 443]', 'ports: [80, 0]');
  t.deepEqual(problemsOf(badPort).map((x) => [x.field, x.line]), [['services[0].ports[1]', placeOf(badPort, 'ports: [80, 0]').line]]);
  t.regex(problemsOf(badPort)[0]!.message, /expected a port number \(1\.\.65535\)/);

  const cases: [string, string, RegExp][] = [
    ['ports: [80, 443]', 'ports: [80, 443]\n    port: 80', /services\[0\]\.ports: give port or ports, not both/],
    ['vips: [192.0.2.10, 2001:db8::10]', 'vips: [192.0.2.10, 192.0.2.11]', /services\[0\]\.vips: expected one IPv4 and one IPv6 VIP/],
    ['ports: [80, 443]', 'ports: [80, 80]', /services\[0\]\.ports: expected each port once/],
    ['  persistence: { timeout: 300 }\n', '  persistence: { timeout: 300 }\n  vip: 192.0.2.99\n', /service_defaults\.vip: vip is what makes a service the one it is, not a default/],
  ];
  for (const [from, to, says] of cases) t.regex(problemsOf(edit(GENERATED, from, to)).map(formatProblem).join('\n'), says, to);
  // a clash between a generated and a written service is the written one's name, at its line
  const clash = edit(GENERATED, '  - name: api\n', '  - name: web-ipv4-443\n');
  t.regex(problemsOf(clash).map(formatProblem).join('\n'), /bad\.yml:\d+:\d+ services\[1\]\.name: service name "web-ipv4-443" is already used at line \d+$/);
});

test('service generation: ports or vips that are not lists are one problem each; generation is bounded (a bounded file cannot become millions of services)', (t) => {
  const scalar = problemsOf(edit(GENERATED, 'vips: [192.0.2.10, 2001:db8::10]', 'vips: 192.0.2.10'));
  t.deepEqual(scalar.map((p) => `${p.field}: ${p.message}`), ['services[0].vips: expected a list, got "192.0.2.10"']);
  const ports = `[${Array.from({ length: 64 }, (_, i) => 1000 + i).join(', ')}]`;
  const many = Array.from({ length: Math.ceil(MAX_GENERATED / 63) + 1 }, (_, i) => `  - { name: s${i}, vip: 192.0.2.10, ports: ${ports}, real_servers: [{ server: web1 }] }\n`).join('');
  const started = performance.now();
  const problems = problemsOf(edit(BASE, 'services:\n', `services:\n${many}`));
  t.log(`${Math.round(performance.now() - started)} ms`);
  t.deepEqual(problems.map((p) => `${p.field}: ${p.message}`), [`services: ports and vips here make more than ${MAX_GENERATED} services beyond those written; lvsplay generates at most that many`]);
});
