/**
 * keepalived in the inventory: services it owns and their checks (every field, and every field
 * refused for the wrong owner or check type, with the reason), and director pairs that fail over by
 * VRRP. The base is inventory/keepalived.yml; each test changes one thing in it.
 */
import { readFileSync } from 'node:fs';
import test, { type ExecutionContext } from 'ava';
import { derivedRouterId } from '../../src/inventory/vrrp.js';
import { keepalivedConfData } from '../../src/resources/keepalived/conf.js';
import { Templates } from '../../src/templates/templates.js';
import { formatProblem } from '../../src/util/problems.js';
import { edit, parse, problemsOf, repoPath } from '../helpers/inventory.js';

const KA = readFileSync(repoPath('inventory/keepalived.yml'), 'utf8');
const templates = new Templates();

/** Every problem as `field: message`; each expected [field, substrings...] must be one of them, and nothing else reported. */
function refused(t: ExecutionContext, text: string, expected: [string, ...string[]][]): void {
  const problems = problemsOf(text);
  const shown = problems.map(formatProblem).join('\n');
  t.is(problems.length, expected.length, `problems:\n${shown}`);
  for (const [field, ...says] of expected) {
    const p = problems.find((x) => x.field === field);
    if (!p) {
      t.fail(`no problem at ${field}:\n${shown}`);
      continue;
    }
    for (const s of says) t.true(p.message.includes(s), `${field} should say ${JSON.stringify(s)}: ${p.message}`);
  }
}

/** The keepalived example with the web service's health_check replaced (and web2's own check gone). */
const webCheck = (check: string, text = KA) =>
  edit(edit(text, '{ server: web2, weight: 3, check: { path: /alt, port: 8080 } }', '{ server: web2, weight: 3 }'), 'health_check: { type: http, path: /healthz, status: 200, regex: "OK", timeout: 3, interval: 5, retry: 2, delay_before_retry: 1, quorum: 2, hysteresis: 1, quiescent: true }', `health_check: ${check}`);

test('the keepalived example loads: owners, checks with their defaults, member checks merged over the service check, VRRP', (t) => {
  const c = parse(KA, 'keepalived.yml');
  for (const s of c.services) t.is(s.managedBy, s.name === 'www6' ? 'lvsplay' : 'keepalived', s.name);
  const web = c.services.find((s) => s.name === 'web')!;
  t.deepEqual(web.healthCheck, { type: 'http', path: '/healthz', status: [200], regex: 'OK', timeoutS: 3, intervalS: 5, retry: 2, delayBeforeRetryS: 1, quorum: 2, hysteresis: 1, quiescent: true });
  t.is(web.realServers[0]!.check, undefined, 'no check: of its own, the service\'s applies');
  // Same type: the member's fields over the service's, without the virtual-server-level ones.
  t.deepEqual(web.realServers[1]!.check, { type: 'http', path: '/alt', port: 8080, status: [200], regex: 'OK', timeoutS: 3, intervalS: 5, retry: 2, delayBeforeRetryS: 1 });
  // Another type: only the service's timing and port carry over.
  const dns = c.services.find((s) => s.name === 'dns')!;
  t.deepEqual(dns.realServers[1]!.check, { type: 'misc', command: '/usr/local/bin/check-dns', miscDynamic: true });
  t.deepEqual(c.services.find((s) => s.name === 'web6')!.healthCheck!.status, [200, 204]);
  t.deepEqual(c.services.find((s) => s.name === 'marked')!.healthCheck, { type: 'ping', omega: true });
  t.deepEqual([...c.vrrp.values()], [{
    pair: 'default', instance: 'VI_default', virtualRouterId: 51, advertIntS: 1, unicast: true, nopreempt: false,
    auth: { env: 'LVSPLAY_VRRP_PASS', at: { file: c.file, line: 36, col: 20 } }, garpMasterDelayS: 0, garpMasterRepeat: 1, garpMasterRefreshS: 2, syncDaemon: true,
  }]);
});

test('a keepalived check without a type is a TCP connect (ldirectord\'s default stays negotiate)', (t) => {
  const c = parse(webCheck('{ port: 80 }'));
  t.is(c.services.find((s) => s.name === 'web')!.healthCheck!.type, 'connect');
  const l = parse(edit(webCheck('{ service: http }'), '    managed_by: keepalived\n    health_check: { service: http }', '    health_check: { service: http }'));
  const web = l.services.find((s) => s.name === 'web')!;
  t.is(web.managedBy, 'ldirectord', 'a health_check still implies ldirectord');
  t.is(web.healthCheck!.type, 'negotiate');
});

test('the VRRP router id, when unset, is derived from the pair name: stable, 1..255', (t) => {
  const c = parse(edit(KA, '    virtual_router_id: 51\n', ''));
  t.is(c.vrrp.get('default')!.virtualRouterId, derivedRouterId('default'));
  t.is(derivedRouterId('default'), derivedRouterId('default'));
  for (const name of ['default', 'a', 'edge-eu', 'x'.repeat(63)]) {
    const id = derivedRouterId(name);
    t.true(Number.isInteger(id) && id >= 1 && id <= 255, `${name}: ${id}`);
  }
});

// ---------------------------------------------------------------------------------------------
// Check fields and the owner: each refused with its reason.

test('keepalived-only check fields on an ldirectord service are refused, naming keepalived', (t) => {
  const ld = (check: string) => edit(webCheck(check), `    managed_by: keepalived\n    health_check: ${check}`, `    managed_by: ldirectord\n    health_check: ${check}`);
  refused(t, (ld('{ type: negotiate, path: /x, status: 200, digest: 9b3a0c85a887a256d6939da88aabd8cd, regex: OK, retry: 2, delay_before_retry: 1, alpha: true, omega: true, quorum: 1, hysteresis: 0 }')),
    ['path', 'status', 'digest', 'regex', 'retry', 'delay_before_retry', 'alpha', 'omega', 'quorum', 'hysteresis'].map((f): [string, ...string[]] => [`services[0].health_check.${f}`, `${f} is keepalived's`, 'set managed_by: keepalived']));
  refused(t, (ld('{ type: dns, query_name: example.net, query_type: A }')), [
    ['services[0].health_check.type', 'type dns is a keepalived check', 'set managed_by: keepalived', 'negotiate'],
    ['services[0].health_check.query_name', "query_name is keepalived's"],
    ['services[0].health_check.query_type', "query_type is keepalived's"],
  ]);
  refused(t, (ld('{ type: misc, command: /usr/local/bin/check, misc_dynamic: true }')), [
    ['services[0].health_check.type', 'type misc is a keepalived check'],
    ['services[0].health_check.misc_dynamic', "misc_dynamic is keepalived's"],
  ]);
  // A health_check with no managed_by is ldirectord's: an http type says how to get keepalived.
  const implied = edit(webCheck('{ type: http, path: /healthz }'), '    managed_by: keepalived\n    health_check: { type: http, path: /healthz }', '    health_check: { type: http, path: /healthz }');
  refused(t, implied, [['services[0].health_check.type', 'type http is a keepalived check', 'set managed_by: keepalived'], ['services[0].health_check.path', "path is keepalived's"]]);
});

test('ldirectord-only check fields and types on a keepalived service are refused, each with what keepalived says instead', (t) => {
  refused(t, webCheck('{ type: connect, service: http, request: /x, receive: OK, http_method: HEAD, failure_count: 3 }'), [
    ['services[0].health_check.service', 'keepalived picks its checker by type'],
    ['services[0].health_check.request', 'use type: http or https'],
    ['services[0].health_check.receive', 'regex'],
    ['services[0].health_check.http_method', 'always send GET'],
    ['services[0].health_check.failure_count', 'use retry (failure_count N is retry N-1)'],
  ]);
  for (const [type, says] of [['negotiate', 'use http or https'], ['external', 'use misc (command)'], ['off', 'remove health_check'], ['on', 'remove health_check']]) {
    refused(t, webCheck(`{ type: ${type} }`), [['services[0].health_check.type', `type ${type} is ldirectord's`, says!]]);
  }
});

test('keepalived checker fields only for the checkers that read them; a misc check needs its command; a ping check has no port', (t) => {
  refused(t, webCheck('{ type: connect, path: /x, status: 200, digest: 9b3a0c85a887a256d6939da88aabd8cd, regex: OK, virtualhost: www.example.net, query_name: a.example, query_type: MX, command: /bin/true, misc_dynamic: true }'), [
    ['services[0].health_check.path', 'only read by http and https checks', 'the type is connect'],
    ['services[0].health_check.status', 'http and https'],
    ['services[0].health_check.digest', 'http and https'],
    ['services[0].health_check.regex', 'http and https'],
    ['services[0].health_check.virtualhost', 'http and https'],
    ['services[0].health_check.query_name', 'only read by dns checks'],
    ['services[0].health_check.query_type', 'dns'],
    ['services[0].health_check.command', 'only read by misc checks'],
    ['services[0].health_check.misc_dynamic', 'misc'],
  ]);
  refused(t, webCheck('{ type: misc }'), [['services[0].health_check.type', 'a misc check needs the command to run']]);
  refused(t, webCheck('{ type: ping, port: 80 }'), [['services[0].health_check.port', 'a ping check has no port']]);
  // A member's own check is held to its own type.
  refused(t, edit(KA, 'check: { path: /alt, port: 8080 }', 'check: { type: dns, path: /alt }'), [['services[0].real_servers[1].check.path', 'only read by http and https checks', 'the type is dns']]);
  refused(t, edit(KA, 'check: { path: /alt, port: 8080 }', 'check: { type: negotiate }'), [['services[0].real_servers[1].check.type', "type negotiate is ldirectord's"]]);
  refused(t, edit(KA, 'check: { type: misc, command: /usr/local/bin/check-dns, misc_dynamic: true }', 'check: { type: misc }'), [['services[1].real_servers[1].check.type', 'a misc check needs the command']]);
});

test('a member check on a service that is not keepalived\'s is refused; so are health checks and fallbacks on lvsplay\'s', (t) => {
  const www6 = '    port: 80\n    real_servers:\n      - { server: web1 }\n';
  refused(t, edit(KA, www6, '    port: 80\n    real_servers:\n      - { server: web1, check: { port: 81 } }\n'), [['services[6].real_servers[0].check', "a real server's own check is keepalived's", 'set managed_by: keepalived', "lvsplay's"]]);
  refused(t, edit(KA, '  - name: www6\n', '  - name: www6\n    managed_by: lvsplay\n    health_check: { type: http }\n    fallback: { address: 2001:db8::22 }\n'), [
    ['services[6].health_check', 'health checks are run by ldirectord or keepalived', 'managed_by: keepalived'],
    ['services[6].fallback', "keepalived's sorry_server", 'managed_by: keepalived'],
  ]);
});

test('keepalived check values: each refused with what is expected', (t) => {
  const cases: [string, string, string][] = [
    ['{ type: http, path: healthz }', 'path', 'starting with "/"'],
    ['{ type: http, path: "/a b" }', 'path', 'without whitespace'],
    ['{ type: http, path: "/a#b" }', 'path', '"#"'],
    ['{ type: http, path: "/a{b}" }', 'path', '"{"'],
    ['{ type: http, status: 99 }', 'status', 'HTTP status code'],
    ['{ type: http, status: [200, 600] }', 'status[1]', 'HTTP status code'],
    ['{ type: http, status: "299-200" }', 'status', 'a range of them like "200-299"'],
    ['{ type: http, status: [200, "200-600"] }', 'status[1]', 'a range of them like "200-299"'],
    ['{ type: http, status: "2xx" }', 'status', 'a range of them like "200-299"'],
    ['{ type: http, digest: abc }', 'digest', 'MD5 digest'],
    ['{ type: http, regex: "a${_PWD}" }', 'regex', 'keepalived would expand it'],
    ['{ type: http, regex: "(unclosed" }', 'regex', 'expected a PCRE2 regular expression (keepalived matches the response with it), got a missing closing parenthesis for this ( at character 1'],
    ['{ type: http, regex: "[\\\\w-z]" }', 'regex', 'an invalid range in a character class'],
    ['{ type: http, regex: "\\\\u0041" }', 'regex', 'an escape PCRE2 does not support'],
    ['{ type: http, regex: "(?<=a+)b" }', 'regex', 'not fixed length'],
    ['{ type: http, regex: "(a)\\\\2" }', 'regex', 'a reference to group 2'],
    ['{ type: http, regex: "" }', 'regex', 'at least 1'],
    ['{ type: dns, query_name: "bad name" }', 'query_name', 'DNS name'],
    ['{ type: dns, query_type: PTR }', 'query_type', '"A"'],
    ['{ type: connect, retry: 0 }', 'retry', 'retry count'],
    ['{ type: connect, delay_before_retry: 0 }', 'delay_before_retry', 'seconds'],
    ['{ type: connect, quorum: 0 }', 'quorum', 'total weight'],
    ['{ type: connect, hysteresis: -1 }', 'hysteresis', 'weight'],
    ['{ type: misc, command: relative/check }', 'command', 'absolute path'],
    ['{ type: tcp }', 'type', '"connect"'],
  ];
  for (const [check, field, says] of cases) refused(t, webCheck(check), [[`services[0].health_check.${field}`, says]]);
  refused(t, edit(KA, 'check: { path: /alt, port: 8080 }', 'check: { path: /alt, wieght: 2 }'), [['services[0].real_servers[1].check.wieght', 'unknown key']]);
});

test('keepalived status codes: ranges as its status_code takes them ("200-299"), alone or among codes, written back on one status_code line', (t) => {
  const c = parse(webCheck('{ type: http, path: /healthz, status: [200, "301-302", 404] }'));
  const web = c.services.find((s) => s.name === 'web')!;
  t.deepEqual(web.healthCheck!.status, [200, '301-302', 404]);
  t.deepEqual(parse(webCheck('{ type: http, path: /healthz, status: 200-299 }')).services.find((s) => s.name === 'web')!.healthCheck!.status, ['200-299']);
  const lb1 = c.directors.find((d) => d.name === 'lb1')!;
  const conf = templates.render('keepalived/keepalived.conf.hbs', keepalivedConfData(c, lb1, 'T3st-pw9'));
  t.regex(conf, /^\s*status_code 200 301-302 404$/m);
});

test('a regex with quotes, backslashes, "#" and "!" is fine (written quoted and escaped)', (t) => {
  const c = parse(webCheck(String.raw`{ type: http, regex: '^HTTP/1\.[01] 200 "ok" #1!$' }`));
  t.is(c.services[0]!.healthCheck!.regex, String.raw`^HTTP/1\.[01] 200 "ok" #1!$`);
});

// ---------------------------------------------------------------------------------------------
// VRRP pairs.

test('vrrp: a pair nobody is in, both password sources, and an inline password are refused', (t) => {
  refused(t, edit(KA, 'vrrp:\n  default:', 'vrrp:\n  defualt:'), [['vrrp.defualt', 'no director pair is named "defualt"', 'did you mean "default"', 'pairs are default']]);
  refused(t, edit(KA, '    auth_pass_env: LVSPLAY_VRRP_PASS\n', '    auth_pass_env: LVSPLAY_VRRP_PASS\n    auth_pass_file: ~/.vrrp-pass\n'), [['vrrp.default.auth_pass_file', 'one way']]);
  const inline = problemsOf(edit(KA, '    auth_pass_env: LVSPLAY_VRRP_PASS\n', '    auth_pass: hunter22\n'));
  t.is(inline.length, 1);
  t.is(inline[0]!.field, 'vrrp.default.auth_pass');
  t.regex(inline[0]!.message, /secrets are never written inline/);
  t.false(inline[0]!.message.includes('hunter22'));
});

test('vrrp: values out of range are refused with what is expected', (t) => {
  const cases: [string, string, string][] = [
    ['virtual_router_id: 51', 'virtual_router_id: 256', 'VRRP router id (1..255)'],
    ['virtual_router_id: 51', 'virtual_router_id: 0', 'VRRP router id (1..255)'],
    ['unicast: true', 'unicast: true\n    advert_int: 0', 'whole seconds'],
    ['garp_master_repeat: 1', 'garp_master_repeat: 0', 'count (1..100)'],
    ['garp_master_delay: 0', 'garp_master_delay: -1', 'seconds (0..3600)'],
    ['garp_master_refresh: 2', 'garp_master_refresh: 90000', '0 = never'],
    ['auth_pass_env: LVSPLAY_VRRP_PASS', 'auth_pass_env: "1X"', 'environment variable name'],
    ['sync_daemon: true', 'sync_daemon: yes-please', 'true or false'],
  ];
  for (const [from, to, says] of cases) {
    const field = to.split('\n').pop()!.split(':')[0]!.trim();
    refused(t, edit(KA, from, to), [[`vrrp.default.${field}`, says]]);
  }
  const secret = problemsOf(edit(KA, 'auth_pass_env: LVSPLAY_VRRP_PASS', 'auth_pass_env: "not a name"'));
  t.false(secret[0]!.message.includes('not a name'), 'a secret-ish field never echoes its value');
});

test('vrrp: priorities up to 254 in a VRRP pair (the primary is raised above its backups, 255 is the address owner)', (t) => {
  refused(t, edit(KA, 'priority: 100', 'priority: 255'), [['directors[1].priority', 'priorities go up to 254', 'pair "default"']]);
  t.notThrows(() => parse(edit(edit(KA, 'priority: 100', 'priority: 255'), 'vrrp:\n  default:', 'vrrp:\n  other:').replace(/vrrp:[\s\S]*?\n\n/, '\n')), 'without VRRP, 255 is fine');
});

test('vrrp: two pairs with one router id on one network are refused (derived ids too); on different networks they are fine', (t) => {
  const two = edit(edit(KA, '    role: backup\n    priority: 100\n', '    role: backup\n    priority: 100\n'
    + '  - { name: lb3, address: 192.0.2.7, interface: { name: eth0, address: 192.0.2.7/24 }, role: primary, pair: edge }\n'), 'vrrp:\n  default:\n', 'vrrp:\n  edge: { virtual_router_id: 51 }\n  default:\n');
  const text = edit(two, '  - name: www6\n', '  - name: edge-web\n    vip: 192.0.2.40\n    port: 80\n    directors: [lb3]\n    real_servers: [ { server: web1 } ]\n  - name: www6\n');
  // every other service stays on the default pair (a service without directors: is on every director)
  const withDirectors = text.replace(/(\n  - name: (web|dns|api|app|marked|web6|www6)\n)/g, '$1    directors: [lb1, lb2]\n');
  refused(t, withDirectors, [['vrrp.default.virtual_router_id', 'pairs "edge" and "default" both use VRRP router id 51 on one network']]);
  const apart = withDirectors.replace('address: 192.0.2.7, interface: { name: eth0, address: 192.0.2.7/24 }', 'address: 198.18.0.7, interface: { name: eth0, address: 198.18.0.7/24 }')
    .replace('vip: 192.0.2.40\n    port: 80\n    directors: [lb3]\n    real_servers: [ { server: web1 } ]', 'vip: 192.0.2.40\n    port: 80\n    directors: [lb3]\n    forwarding: tun\n    real_servers: [ { server: web1 } ]');
  t.notThrows(() => parse(apart));
});

test('vrrp: a pair with only IPv6 VIPs runs VRRPv3, which has no authentication; unicast needs each director\'s address in that family', (t) => {
  const v6only = `directors:
  - { name: lb1, address: 192.0.2.5, interface: { name: eth0, address: 192.0.2.5/24 }, role: primary }
  - { name: lb2, address: 192.0.2.6, interface: { name: eth0, address: 192.0.2.6/24, address6: 2001:db8::6/64 }, role: backup }
real_servers:
  - { name: web1, address: 2001:db8::21 }
vrrp:
  default: { unicast: true, auth_pass_file: ~/.vrrp }
services:
  - { name: web6, vip: 2001:db8::10, port: 80, managed_by: keepalived, real_servers: [ { server: web1 } ] }
`;
  refused(t, v6only, [
    ['vrrp.default.auth_pass_file', 'version 3, which has no authentication'],
    ['directors[0].interface', 'by unicast over ipv6', 'no ipv6 address'],
    ['services[0].real_servers[0].server', 'not on director "lb1"'],
  ]);
});

test('what keepalived cannot say is refused with the reason: a quorum above the real servers\' total weight, hysteresis at or above the quorum', (t) => {
  refused(t, webCheck('{ type: http, quorum: 7 }'), [['services[0].health_check.quorum', "total weight (6) to reach the quorum (7)", 'config test fails']]);
  refused(t, webCheck('{ type: http, quorum: 2, hysteresis: 2 }'), [['services[0].health_check.hysteresis', 'must be below the quorum (2)']]);
  refused(t, webCheck('{ type: http, hysteresis: 1 }'), [['services[0].health_check.hysteresis', 'below the quorum (1, its default)']]);
  // Every server quiescent (weight 0): keepalived's default quorum of 1 is out of reach.
  refused(t, edit(KA, '      - { server: web1 }\n      - { server: web2 }\n\n  # IPv6 VIP', '      - { server: web1, weight: 0 }\n      - { server: web2, weight: 0 }\n\n  # IPv6 VIP'), [['services[5].real_servers', 'total weight (0) to reach the quorum (1, its default)']]);
  const noCheck = edit(KA, '    health_check: { type: ping, omega: true }\n    real_servers:\n      - { server: web1 }', '    real_servers:\n      - { server: web1, weight: 0 }');
  refused(t, noCheck, [['services[4].real_servers', 'total weight (0)']]);
});

test('two pairs whose derived router ids meet on one network are refused, asking for an explicit virtual_router_id', (t) => {
  // Two names with one derived id (there are 255 ids: among 256 names two share one).
  const byId = new Map<number, string>();
  let pair: [string, string] | undefined;
  for (let i = 0; !pair; i++) {
    const name = `p${i}`;
    const other = byId.get(derivedRouterId(name));
    if (other) pair = [other, name];
    byId.set(derivedRouterId(name), name);
  }
  const [a, b] = pair;
  const text = `directors:
  - { name: lb1, address: 192.0.2.5, interface: { name: eth0, address: 192.0.2.5/24 }, role: primary, pair: ${a} }
  - { name: lb2, address: 192.0.2.6, interface: { name: eth0, address: 192.0.2.6/24 }, role: primary, pair: ${b} }
real_servers:
  - { name: web1, address: 192.0.2.21 }
vrrp:
  ${a}: {}
  ${b}: {}
services:
  - { name: one, vip: 192.0.2.10, port: 80, directors: [lb1], real_servers: [ { server: web1 } ] }
  - { name: two, vip: 192.0.2.11, port: 80, directors: [lb2], real_servers: [ { server: web1 } ] }
`;
  refused(t, text, [[`vrrp.${b}`, `pairs "${a}" and "${b}" both use VRRP router id ${derivedRouterId(a)} on one network (derived from the pair names)`, 'set a different virtual_router_id']]);
  t.notThrows(() => parse(text.replace(`  ${b}: {}`, `  ${b}: { virtual_router_id: ${(derivedRouterId(a) % 255) + 1} }`)));
});

test('a misc check\'s args: on the service and on a member (over the service\'s; [] for none), written as one quoted misc_path string keepalived splits; refused for other checks, for ldirectord, and for words keepalived would read differently', (t) => {
  const text = edit(webCheck('{ type: misc, command: /usr/local/bin/check-web, args: [--port=80, 192.0.2.21, "-t", "5"] }'), '{ server: web2, weight: 3 }', '{ server: web2, weight: 3, check: { args: [] } }');
  const c = parse(text);
  const web = c.services.find((s) => s.name === 'web')!;
  t.deepEqual(web.healthCheck!.args, ['--port=80', '192.0.2.21', '-t', '5']);
  t.deepEqual(web.realServers[1]!.check!.args, []);
  const conf = templates.render('keepalived/keepalived.conf.hbs', keepalivedConfData(c, c.directors.find((d) => d.name === 'lb1')!, 'T3st-pw9'));
  t.regex(conf, /^\s*misc_path "\/usr\/local\/bin\/check-web --port=80 192\.0\.2\.21 -t 5"$/m);
  t.regex(conf, /^\s*misc_path \/usr\/local\/bin\/check-web$/m, 'the member without arguments');
  refused(t, webCheck('{ type: connect, args: [x] }'), [['services[0].health_check.args', 'only read by misc checks']]);
  const external = '{ type: external, command: /usr/local/bin/check, args: [x] }';
  const ld = edit(webCheck(external), `    managed_by: keepalived\n    health_check: ${external}`, `    managed_by: ldirectord\n    health_check: ${external}`);
  t.true(problemsOf(ld).some((p) => p.field === 'services[0].health_check.args' && p.message.includes("args is keepalived's")), problemsOf(ld).map(formatProblem).join('\n'));
  for (const bad of ['"a b"', '"a\\"b"', '"$(id)"', '"x;y"', '"#1"', '"!x"', '"a\\\\b"', '""', '"{x}"']) {
    refused(t, webCheck(`{ type: misc, command: /bin/true, args: [${bad}] }`), [['services[0].health_check.args[0]', 'expected a word of letters, digits and _.@%+=,:/-', 'wrapper script']]);
  }
});
