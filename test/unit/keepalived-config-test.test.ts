/**
 * The installed keepalived accepts what lvsplay renders: each config is written to a temp folder
 * and parsed by `keepalived -t -e -f FILE` (config test only: it starts nothing, touches neither
 * IPVS nor addresses; keepalived-notes §1), which must exit 0 — 5 is any error or warning, 6 a
 * script security problem. keepalived checks that the VRRP interface exists, so the configs use
 * an interface this machine has. No keepalived here is a failure, never a skip.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { importKeepalived } from '../../src/import/keepalived-conf.js';
import { Report } from '../../src/import/report.js';
import { withPrimary } from '../../src/inventory/failover.js';
import { parseInventory } from '../../src/inventory/load.js';
import type { Cluster } from '../../src/inventory/model.js';
import type { KeepalivedDesired } from '../../src/resources/keepalived/index.js';
import { InputError } from '../../src/util/problems.js';
import { YamlSource } from '../../src/util/yaml-source.js';
import { KA_TEXT, kaCtx } from '../support/keepalived.js';
import { repoFile } from '../support/paths.js';
import { run } from '../support/resources.js';
import { cleanup, tempDir } from '../support/sh.js';

const KEEPALIVED = ['/usr/sbin/keepalived', '/usr/local/sbin/keepalived', '/sbin/keepalived'].find((p) => spawnSync(p, ['--version']).status === 0);

/** An interface this machine has (keepalived refuses a VRRP instance on one it does not). */
const IFACE = (() => {
  const names = readdirSync('/sys/class/net');
  return names.includes('eth0') ? 'eth0' : names.find((n) => n !== 'lo') ?? 'lo';
})();

function configTest(content: string): { code: number; output: string } {
  const dir = tempDir('lvsplay-keepalived-');
  try {
    const file = join(dir, 'keepalived.conf');
    writeFileSync(file, content, { mode: 0o600 });
    const r = spawnSync(KEEPALIVED!, ['-t', '-e', '-f', file], { encoding: 'utf8', timeout: 20_000 });
    return { code: r.status ?? 128, output: `${r.stdout}${r.stderr}`.trim() };
  } finally {
    cleanup(dir);
  }
}

const load = (text: string, alias = '') => parseInventory(new YamlSource('test.yml', text.replaceAll(`name: eth0${alias}`, `name: ${IFACE}${alias}`)));
const conf = (cluster: Cluster, host: string) => (run('keepalived', kaCtx(host, cluster), {}, '').desired as KeepalivedDesired).file!.content;

/** A VRRP password in a file, as auth_pass_file reads it (a trailing newline is not part of it). */
const PASS_DIR = tempDir('lvsplay-vrrp-pass-');
const PASS_FILE = join(PASS_DIR, 'pass');
writeFileSync(PASS_FILE, 'Fi1e-pw\n', { mode: 0o600 });
test.after.always(() => cleanup(PASS_DIR));

/** An inventory of lb1 alone and two real servers, web1 and web2, with these `services:` entries. */
const oneDirector = (services: string) => `directors:
  - { name: lb1, address: 192.0.2.5, interface: { name: eth0, address: 192.0.2.5/24 }, role: primary }
real_servers:
  - { name: web1, address: 192.0.2.21 }
  - { name: web2, address: 192.0.2.22 }
services:
${services}`;

/** Title, and the cluster and host to render (and a line the config must have). */
const CASES: [string, () => [Cluster, string, string?]][] = [
  ['keepalived.yml lb1: DR/TUN(gue)/NAT(sctp)/fwmark/IPv6, every check type, VRRP unicast with a password, sync daemon', () => [load(KA_TEXT), 'lb1']],
  ['keepalived.yml lb2 (BACKUP)', () => [load(KA_TEXT), 'lb2']],
  ['keepalived.yml after failover --to lb2 (priority 151)', () => [withPrimary(load(KA_TEXT), 'lb2'), 'lb2']],
  ['keepalived.yml with nopreempt (every state BACKUP)', () => [load(KA_TEXT.replace('    unicast: true\n', '    unicast: true\n    nopreempt: true\n')), 'lb1']],
  ['keepalived.yml without VRRP (virtual servers only)', () => [load(KA_TEXT.replace(/\nvrrp:\n(  .*\n)+/, '\n')), 'lb1']],
  ['the lab (test/lab/keepalived.yml) lb1', () => [load(readFileSync(repoFile('test/lab/keepalived.yml'), 'utf8')), 'lb1']],
  ['the lab (test/lab/keepalived.yml) lb2', () => [load(readFileSync(repoFile('test/lab/keepalived.yml'), 'utf8')), 'lb2']],
  ['an interface alias (VIPs labelled eth0:1), multicast adverts, nopreempt, a password from a file', () => [load(KA_TEXT
    .replace('interface: { name: eth0, address: 192.0.2.5/24', 'interface: { name: eth0:1, address: 192.0.2.5/24')
    .replace('interface: { name: eth0, address: 192.0.2.6/24', 'interface: { name: eth0:1, address: 192.0.2.6/24')
    .replace('    unicast: true\n    auth_pass_env: LVSPLAY_VRRP_PASS\n', `    nopreempt: true\n    auth_pass_file: ${PASS_FILE}\n`), ':1'), 'lb1', `192.0.2.10/32 dev ${IFACE} label ${IFACE}:1\n`]],
  ['an IPv6-only pair (a VRRPv3 instance, unicast over IPv6)', () => [load(`directors:
  - { name: lb1, address: 192.0.2.5, interface: { name: eth0, address: 192.0.2.5/24, address6: 2001:db8::5/64 }, role: primary }
  - { name: lb2, address: 192.0.2.6, interface: { name: eth0, address: 192.0.2.6/24, address6: 2001:db8::6/64 }, role: backup }
real_servers:
  - { name: web1, address: 2001:db8::21 }
vrrp:
  default: { unicast: true, advert_int: 2 }
services:
  - { name: web6, vip: 2001:db8::10, port: 80, scheduler: rr, managed_by: keepalived, health_check: { type: http, virtualhost: www.example.net, regex: '^HTTP/1\\.[01] 2[0-9]{2} "ok" #!$' }, real_servers: [ { server: web1 } ] }
`), 'lb1']],
  ['port 0 (all ports, persistent), a sorry server without a port on a fwmark, TUN sorry server, thresholds, the twos scheduler', () => [load(oneDirector(`  - { name: all, vip: 192.0.2.10, port: 0, persistence: { timeout: 120 }, managed_by: keepalived, health_check: { type: connect, port: 22 }, real_servers: [ { server: web1, upper_threshold: 10, lower_threshold: 5 } ] }
  - { name: fw, fwmark: 7, scheduler: dh, managed_by: keepalived, fallback: { address: 192.0.2.22, forwarding: tun }, health_check: { type: misc, command: /bin/true, timeout: 3 }, real_servers: [ { server: web1, weight: 2 }, { server: web2, weight: 0 } ] }
  - { name: ovf, vip: 192.0.2.11, port: 443, scheduler: ovf, managed_by: keepalived, fallback: { address: 127.0.0.1, port: 443 }, real_servers: [ { server: web1 }, { server: web2 } ] }
  - { name: twos, vip: 192.0.2.11, port: 80, scheduler: twos, managed_by: keepalived, health_check: { type: connect }, real_servers: [ { server: web1 }, { server: web2 } ] }
`)), 'lb1', '    lvs_sched twos\n']],
  // keepalived reads every line first with quotes that know no escape: a \" there ended the string (an odd count: "Unmatched quote"; a brace after one: a block)
  ['a check regex with a lone double quote, braces and backslashes (the quote written \\042)', () => [load(oneDirector(`  - { name: web, vip: 192.0.2.10, port: 80, managed_by: keepalived, health_check: { type: http, regex: 'say "hi [{] \\d+ \\\\ }' }, real_servers: [ { server: web1 } ] }
`)), 'lb1', '                regex "say \\042hi [{] \\\\d+ \\\\\\\\ }"\n']],
  ['a check regex that is a brace alone (written \\175: a last word "}" closes the block)', () => [load(oneDirector(`  - { name: web, vip: 192.0.2.10, port: 80, managed_by: keepalived, health_check: { type: http, regex: "}" }, real_servers: [ { server: web1 } ] }
`)), 'lb1', '                regex "\\175"\n']],
  // keepalived gives a sorry server that is one of the real servers their inhibit_on_failure, with a warning
  ['a sorry server that is one of the real servers, inhibit_on_failure on (sorry_server_inhibit said)', () => [load(oneDirector(`  - { name: web, vip: 192.0.2.10, port: 80, managed_by: keepalived, health_check: { type: connect, quiescent: true }, fallback: { address: 192.0.2.22 }, real_servers: [ { server: web1 }, { server: web2 } ] }
`)), 'lb1', '    sorry_server 192.0.2.22 80\n    sorry_server_lvs_method DR\n    sorry_server_inhibit\n']],
  ['a misc check with arguments (one quoted misc_path string), and a member without them', () => [load(oneDirector(`  - { name: db, vip: 192.0.2.10, port: 3306, managed_by: keepalived, health_check: { type: misc, command: /bin/true, args: [192.0.2.21, "3306", --timeout=3], timeout: 5 }, real_servers: [ { server: web1 }, { server: web2, check: { args: [] } } ] }
`)), 'lb1', '            misc_path "/bin/true 192.0.2.21 3306 --timeout=3"\n']],
];

for (const [title, make] of CASES) {
  test(`keepalived -t -e accepts the rendered keepalived.conf: ${title}`, (t) => {
    if (!KEEPALIVED) {
      t.fail('keepalived is not installed on this machine, so the rendered configs cannot be config-tested: apt-get install -y --no-install-recommends keepalived');
      return;
    }
    const [cluster, host, line] = make();
    const content = conf(cluster, host);
    if (line !== undefined) t.true(content.includes(line), `the config has ${JSON.stringify(line)}`);
    const r = configTest(content);
    t.is(r.code, 0, `keepalived -t -e exited ${r.code}: ${r.output}\n--- config ---\n${content}`);
  });
}

test('keepalived -t -e refuses what the verify step must refuse (so a broken config is never installed)', (t) => {
  if (!KEEPALIVED) {
    t.fail('keepalived is not installed on this machine: apt-get install -y --no-install-recommends keepalived');
    return;
  }
  const good = conf(load(KA_TEXT), 'lb1');
  const broken: [string, string][] = [
    ['a missing "}"', good.replace(/\n\}\n$/, '\n')],
    ['an unknown keyword', good.replace('    lvs_sched wlc\n', '    lvs_sched wlc\n    foo_bar 1\n')],
    ['a password over 8 characters', good.replace(/auth_pass \S+/, 'auth_pass 123456789')],
    ['a MISC_CHECK without script security', good.replace('    enable_script_security\n    script_user root\n', '').replace('/usr/local/bin/check-dns', '/bin/true')],
    ['a quorum above the total weight', good.replace('    quorum 2\n', '    quorum 9\n')],
  ];
  for (const [what, content] of broken) t.not(configTest(content).code, 0, what);
});

// keepalived exits at a keyword its handler reads a value for, written without one: the import
// refuses such a file at that line, and takes the keywords that stand alone. Each case is run
// through keepalived -t here too, so the table in keepalived-parameters.ts is checked against
// the installed keepalived, not against itself.
test('import --keepalived: a keyword keepalived cannot read without a value (lvs_sched, protocol, weight, delay_loop, path, auth_pass, ...) alone on its line is an error there, as keepalived exits there; the keywords that stand alone are read', (t) => {
  if (!KEEPALIVED) {
    t.fail('keepalived is not installed on this machine: apt-get install -y --no-install-recommends keepalived');
    return;
  }
  // {VS}, {RS}, {CHECK}, {URL}, {VRRP}, {AUTH}, {GLOBAL}: where a line goes; the others stay empty
  const base = (at: Record<string, string>) => `global_defs {\n    router_id lb1\n${at['GLOBAL'] ?? ''}}\nvrrp_instance VI_1 {\n    state MASTER\n    interface ${IFACE}\n    virtual_router_id 51\n    priority 150\n${at['VRRP'] ?? ''}    authentication {\n        auth_type PASS\n        auth_pass secret1\n${at['AUTH'] ?? ''}    }\n    virtual_ipaddress {\n        192.0.2.10/32\n    }\n}\nvirtual_server 192.0.2.10 80 {\n    lvs_sched wrr\n    lvs_method DR\n    protocol TCP\n${at['VS'] ?? ''}    real_server 192.0.2.21 80 {\n        weight 1\n${at['RS'] ?? ''}        HTTP_GET {\n            url {\n                path /\n${at['URL'] ?? ''}            }\n            connect_timeout 3\n${at['CHECK'] ?? ''}        }\n    }\n}\n`;
  const lineOf = (text: string, line: string) => text.split('\n').indexOf(line) + 1;
  const bare: [string, string][] = [['VS', '    lvs_sched'], ['VS', '    protocol'], ['VS', '    lb_kind'], ['VS', '    persistence_granularity'], ['VS', '    delay_loop'],
    ['RS', '        weight'], ['RS', '        uthreshold'], ['CHECK', '            connect_port'], ['CHECK', '            nb_get_retry'], ['URL', '                digest'],
    ['VS', '    sorry_server 192.0.2.30 80\n    sorry_server_lvs_method'], ['VRRP', '    advert_int'], ['VRRP', '    unicast_src_ip'], ['AUTH', '        auth_pass'], ['GLOBAL', '    smtp_server']];
  for (const [where, lines] of bare) {
    const text = base({ [where]: `${lines}\n` });
    const line = lines.split('\n').at(-1)!;
    const keepalived = configTest(text);
    t.is(keepalived.code, 2, `keepalived -t exits 2 at ${line.trim()}: ${keepalived.output}`);
    t.regex(keepalived.output, new RegExp(`Line ${lineOf(text, line)}\\) \\*\\*\\* Configuration line starting \`${line.trim()}\` is missing a parameter`));
    const e = t.throws(() => importKeepalived('ka.conf', text, new Report()), { instanceOf: InputError }, line);
    t.deepEqual(e?.problems.map((p) => p.line), [lineOf(text, line)], line);
    t.regex(e?.problems[0]?.message ?? '', new RegExp(`expected ${line.trim()} VALUE, got ${line.trim()} alone: keepalived 2\\.2\\.7 stops reading the file at this line`));
  }
  // these stand alone: keepalived reads them (or warns and goes on), and so does the import
  const alone: [string, string][] = [['VS', '    persistence_timeout'], ['VS', '    ops'], ['VS', '    alpha'], ['RS', '        inhibit_on_failure'], ['VRRP', '    nopreempt'], ['VS', '    virtualhost'],
    ['VS', '    sorry_server_lvs_method']];
  for (const [where, line] of alone) {
    const text = base({ [where]: `${line}\n` });
    t.not(configTest(text).code, 2, line);
    t.notThrows(() => importKeepalived('ka.conf', text, new Report()), line);
  }
  t.is(configTest(base({})).code, 0, 'the base config is one keepalived takes whole');
  // virtual_server group without its name: keepalived itself crashes there (SIGSEGV), the import refuses it
  const group = base({}).replace('virtual_server 192.0.2.10 80 {', 'virtual_server group {');
  t.not(configTest(group).code, 0, 'keepalived -t does not take a nameless group');
  const e = t.throws(() => importKeepalived('ka.conf', group, new Report()), { instanceOf: InputError });
  t.regex(e?.problems[0]?.message ?? '', /expected virtual_server group NAME, got virtual_server group alone/);
});
