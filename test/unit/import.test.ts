/**
 * `lvsplay import` (src/import/): every fixture of test/fixtures/import/, alone and together,
 * imports into an inventory that lvsplay's own loader accepts, and that renders back to the same
 * rules: the IPVS table lvsplay would program equals the saved one (service by service, thresholds
 * included), and the ldirectord.cf and keepalived.conf it renders read back, with the same readers,
 * as the same services, checks, globals and VRRP settings as the originals, with nothing left to
 * report. What a fixture says that the inventory cannot is in the report, at its file and line.
 * The command itself runs as a child process: exit statuses, -o, secrets, malformed input.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import test from 'ava';
import { parseHostRead, shellGlob } from '../../src/import/from-host.js';
import { holdingInterface } from '../../src/inventory/model.js';
import { importInventory, type ImportInputs } from '../../src/import/index.js';
import { readNames } from '../../src/import/hosts.js';
import { importKeepalived } from '../../src/import/keepalived-conf.js';
import { importLdirectord, ldirectordNames } from '../../src/import/ldirectord-cf.js';
import { parseResolved, resolveScript } from '../../src/import/names.js';
import type { ImportedService } from '../../src/import/model.js';
import { Report } from '../../src/import/report.js';
import { parseInventory } from '../../src/inventory/load.js';
import type { Cluster } from '../../src/inventory/model.js';
import { LdirectordGlobals } from '../../src/inventory/schema.js';
import { tableOf } from '../../src/resources/ipvs/desired.js';
import { serviceBlock } from '../../src/resources/ipvs/lines.js';
import { parseSave, parseThresholds, withThresholds } from '../../src/resources/ipvs/parse.js';
import { keepalivedConfData } from '../../src/resources/keepalived/conf.js';
import { renderLdirectordConf } from '../../src/resources/ldirectord/index.js';
import { Templates } from '../../src/templates/templates.js';
import { formatProblem, InputError } from '../../src/util/problems.js';
import { Secret, secretToken } from '../../src/util/secret.js';
import { YamlSource } from '../../src/util/yaml-source.js';
import { CLI, repoFile, REPO_ROOT } from '../support/paths.js';
import { cleanup, fakeCommands, tempDir } from '../support/sh.js';

const FIXTURES = 'test/fixtures/import';
const fixture = (name: string) => ({ file: `${FIXTURES}/${name}`, text: readFileSync(repoFile(`${FIXTURES}/${name}`), 'utf8') });
const SAVE = { ...fixture('save.txt'), thresholds: fixture('thresholds.txt') };
const NAMES = { file: `${FIXTURES}/names.yml`, map: readNames(repoFile(`${FIXTURES}/names.yml`)) };
const templates = new Templates();

/** The services whose saved rules the inventory cannot say in full (each reported): flag-2 on rr, --pe sip, -g and -m mixed, IPv6 NAT. */
const PARTIAL = ['tcp 192.0.2.48:80', 'udp 192.0.2.47:5060', 'tcp 192.0.2.49:80', 'udp [2001:db8::50]:53'];

const COMBOS: [string, ImportInputs][] = [
  ['the saved table alone', { save: SAVE }],
  ['ldirectord.cf alone', { ldirectord: fixture('ldirectord.cf') }],
  ['keepalived.conf alone', { keepalived: fixture('keepalived.conf') }],
  ['ldirectord.cf and keepalived.conf', { ldirectord: fixture('ldirectord.cf'), keepalived: fixture('keepalived.conf') }],
  ['everything, with names', { save: SAVE, ldirectord: fixture('ldirectord.cf'), keepalived: fixture('keepalived.conf'), names: NAMES }],
  ['a clean save (DR, TUN, NAT; tcp, udp, sctp, fwmark; IPv6)', { save: fixture('clean-save.txt') }],
];

const load = (yaml: string): Cluster => parseInventory(new YamlSource('imported.yml', yaml));
const strip = (services: ImportedService[]) => services.map(({ origin: _o, name: _n, members, ...s }) => ({ ...s, members: members.map(({ origin: _m, ...m }) => m) }));

for (const [title, inputs] of COMBOS) {
  test(`import ${title}: the inventory validates, and the IPVS table it renders is the saved one`, (t) => {
    const { yaml, imported } = importInventory(inputs);
    const cluster = load(yaml);
    t.is(cluster.services.length, imported.services.length);
    if (!inputs.save) return;
    const saved = parseSave(inputs.save.text);
    if (inputs.save.thresholds) withThresholds(saved, parseThresholds(inputs.save.thresholds.text));
    const rendered = tableOf(cluster.services);
    for (const [key, service] of saved.services) {
      const mine = rendered.services.get(key);
      if (PARTIAL.includes(key)) {
        t.notDeepEqual(mine && serviceBlock(mine, 'nonzero'), serviceBlock(service, 'nonzero'), `${key} differs (and is reported)`);
        continue;
      }
      t.deepEqual(mine && serviceBlock(mine, 'nonzero'), serviceBlock(service, 'nonzero'), key);
    }
    // Nothing the saved table lacks, but the services a config file owns and the table did not list.
    const extra = [...rendered.services.keys()].filter((k) => !saved.services.has(k));
    t.deepEqual(extra, [], 'every rendered service is in the saved table');
  });
}

test('import: the ldirectord.cf lvsplay renders from the imported inventory reads back as the original', (t) => {
  const original = fixture('ldirectord.cf');
  const { yaml, imported } = importInventory({ ldirectord: original });
  const cluster = load(yaml);
  const services = cluster.services.filter((s) => s.managedBy === 'ldirectord');
  // the check passwords the inventory reads from the environment
  const passwords = new Map(services.filter((s) => s.healthCheck?.passwd).map((s) => [s.name, new Secret(secretToken(s.name), 'pw')]));
  t.is(passwords.size, 1);
  const text = renderLdirectordConf((n, d) => templates.render(n, d), cluster.directors[0]!, cluster.ldirectord, services, passwords);
  const again = new Report();
  const back = importLdirectord('rendered.cf', text, again);
  t.deepEqual(again.lines.filter((l) => l.kind !== 'note'), [], 'lvsplay renders nothing it cannot read back');
  t.deepEqual(strip(back.services), strip(imported.services.filter((s) => s.owner === 'ldirectord')));
  t.deepEqual(LdirectordGlobals.parse(back.globals), LdirectordGlobals.parse(imported.ldirectord));
  t.deepEqual(back.services.map((s) => s.name), services.map((s) => s.name), 'the # service comments name them');
});

test('import: the keepalived.conf lvsplay renders reads back as the original (and keepalived -t accepts it)', (t) => {
  const original = fixture('keepalived.conf');
  const { yaml, imported } = importInventory({ keepalived: original });
  const cluster = load(yaml);
  const director = cluster.directors.find((d) => d.name === 'lb1')!;
  const text = templates.render('keepalived/keepalived.conf.hbs', keepalivedConfData(cluster, director, 'T3st-pw9'));
  const again = new Report();
  const back = importKeepalived('rendered.conf', text, again);
  t.deepEqual(again.lines.filter((l) => l.kind !== 'note'), [], 'lvsplay renders nothing it cannot read back');
  t.deepEqual(strip(back.services), strip(imported.services.filter((s) => s.owner === 'keepalived')));
  const vrrp = ({ origin: _o, held: _h, natGateway: _n, ...v }: NonNullable<typeof back.vrrp>) => v;
  const first = importKeepalived(original.file, original.text, new Report());
  t.deepEqual(vrrp(back.vrrp!), vrrp(first.vrrp!));
  t.true(back.vrrp!.held.some((h) => h.address === '10.0.0.1' && h.prefix === 24), 'the NAT gateway is held');
  t.is(back.directorName, 'lb1');
  const KEEPALIVED = ['/usr/sbin/keepalived', '/usr/local/sbin/keepalived', '/sbin/keepalived'].find((p) => spawnSync(p, ['--version']).status === 0);
  if (!KEEPALIVED) {
    t.fail('keepalived is not installed on this machine, so the rendered config cannot be config-tested: apt-get install -y --no-install-recommends keepalived');
    return;
  }
  const dir = tempDir('lvsplay-import-');
  try {
    writeFileSync(join(dir, 'keepalived.conf'), text, { mode: 0o600 });
    const r = spawnSync(KEEPALIVED, ['-t', '-e', '-f', join(dir, 'keepalived.conf')], { encoding: 'utf8', timeout: 20_000 });
    t.is(r.status, 0, `keepalived -t: ${r.stdout}${r.stderr}\n${text}`);
  } finally {
    cleanup(dir);
  }
});

test('import: what the fixtures say that the inventory cannot is reported at its file and line', (t) => {
  const { report } = importInventory({ save: SAVE, ldirectord: fixture('ldirectord.cf'), keepalived: fixture('keepalived.conf'), names: NAMES });
  const at = (file: string, line: number, words: string) => report.lines.some((l) => l.file === `${FIXTURES}/${file}` && l.line === line && l.message.includes(words));
  const expected: [string, number, string][] = [
    ['save.txt', 31, 'flag-2'], ['save.txt', 35, 'uses NAT'], ['save.txt', 45, '--pe sip'], ['save.txt', 54, 'IPv6 with NAT'], ['save.txt', 56, 'VIP 2001:db8::40 is not in vrrp_instance'],
    ['ldirectord.cf', 16, 'emailalertfreq='], ['ldirectord.cf', 19, 'callback='], ['ldirectord.cf', 25, 'request/receive'], ['ldirectord.cf', 83, 'checktype=3'],
    ['ldirectord.cf', 88, 'negotiatetimeout='],
    ['keepalived.conf', 5, 'notification_email'], ['keepalived.conf', 17, 'vrrp_script'], ['keepalived.conf', 55, '192.0.2.99/24'], ['keepalived.conf', 61, 'track_script'],
  ];
  for (const [file, line, words] of expected) t.true(at(file, line, words), `${file}:${line} ${words}\n${report.format()}`);
  t.true(report.lines.some((l) => l.kind === 'note' && l.line === 34 && l.message.includes('set LVSPLAY_VRRP_PASS')));
  t.true(report.lines.some((l) => l.kind === 'note' && l.line === 86 && l.message.includes('LVSPLAY_CHECK_PASS_TCP_192_0_2_13_3306')));
  t.false(report.lines.some((l) => l.file.endsWith('ldirectord.cf') && (l.line === 85 || l.line === 87)), 'login= and database= are imported');
  // The two MISC_CHECKs (one with misc_dynamic, one with an argument) are imported, with a note on the argument.
  t.false(report.lines.some((l) => l.kind === 'not expressed' && l.file.endsWith('keepalived.conf') && l.line >= 153 && l.line <= 172), report.format());
  t.true(report.lines.some((l) => l.kind === 'note' && l.line === 169 && l.message.includes('copied into the inventory as health_check args')), report.format());
  t.false(report.complete);
});

function lvsplay(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, 'import', ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('lvsplay import: exit 3 with the report on stderr; no secret in either stream', (t) => {
  const r = lvsplay('--ipvsadm-save', `${FIXTURES}/save.txt`, '--ipvsadm-thresholds', `${FIXTURES}/thresholds.txt`, '--ldirectord', `${FIXTURES}/ldirectord.cf`, '--keepalived', `${FIXTURES}/keepalived.conf`, '--names', `${FIXTURES}/names.yml`);
  t.is(r.status, 3, r.stderr);
  t.regex(r.stderr, /^test\/fixtures\/import\/ldirectord\.cf:86: note: passwd= \(its value is not copied\): the inventory reads this check's password from the environment variable LVSPLAY_CHECK_PASS_TCP_192_0_2_13_3306/m);
  t.regex(r.stdout, /passwd_env: LVSPLAY_CHECK_PASS_TCP_192_0_2_13_3306/);
  t.regex(r.stdout, /login: monitor/);
  t.regex(r.stderr, /lvsplay import: 25 services \(6 ldirectord, 6 keepalived, 13 lvsplay\); \d+ thing\(s\) not expressed/);
  for (const secret of ['k33pal1v', 's3cret-not-for-output']) t.false(`${r.stdout}${r.stderr}`.includes(secret), secret);
  t.regex(r.stdout, /auth_pass_env: LVSPLAY_VRRP_PASS/);
  t.notThrows(() => load(r.stdout));
});

test('lvsplay import --from-host: a user or host the inventory would refuse (an option, a shell word, an octal-looking address) is bad input naming it, before any connection', (t) => {
  const refused: [string, RegExp][] = [
    ['--help', /the host: expected an IP address or a DNS host name/],
    ['-oProxyCommand=id', /the host: expected an IP address or a DNS host name/],
    ['root@$(id)', /the host: expected an IP address or a DNS host name/],
    ['root@lb1 lb2', /the host: expected an IP address or a DNS host name/],
    ['root@x..y', /the host: expected an IP address or a DNS host name/],
    ['root@10.0.0.010', /the host: expected an IP address as four decimal numbers/],
    ['-x@lb1', /the user: expected a POSIX user name/],
    ['@lb1', /the user: expected a POSIX user name/],
    ['lb1:0', /a port is 1\.\.65535/],
    ['lb1:', /a port is a number after the host's last ":"/],
  ];
  for (const [spec, says] of refused) {
    const r = lvsplay('--from-host', spec, '--identity', '/nonexistent/key');
    t.is(r.status, 1, spec);
    t.true(r.stderr.includes(`--from-host: expected [user@]host[:port] (an IPv6 address with a port in brackets), got ${JSON.stringify(spec)}`), r.stderr);
    t.regex(r.stderr, says, spec);
    t.false(r.stderr.includes('identity file'), `${spec}: refused before the key is read`);
  }
  // the director's --name is checked as the inventory checks a host's name
  for (const [name, says] of [['a'.repeat(64), /--name: expected a name of letters, digits/], ['-x', /--name: expected a name of letters, digits/], ['all', /--name: expected a name that is no built-in group's \(all, directors, primary, backup, real_servers\), got "all"/]] as const) {
    const r = lvsplay('--from-host', 'root@127.0.0.1:2222', '--name', name, '--identity', '/nonexistent/key');
    t.is(r.status, 1, name);
    t.regex(r.stderr, says, name);
  }
  // the forms ssh takes get as far as the key (read before any connection)
  for (const spec of ['root@127.0.0.1:2222', 'admin@lb1.example.net', '::1', 'root@[::1]:2222', '2001:db8::5']) {
    const r = lvsplay('--from-host', spec, '--identity', '/nonexistent/key');
    t.is(r.status, 4, `${spec}: ${r.stderr}`);
    t.regex(r.stderr, /cannot read identity file \/nonexistent\/key/, spec);
  }
});

test('lvsplay import: exit 0 when everything is expressed; -o refuses an existing file without --force', (t) => {
  const dir = tempDir('lvsplay-import-');
  try {
    const out = join(dir, 'inventory.yml');
    const r = lvsplay('--ipvsadm-save', `${FIXTURES}/clean-save.txt`, '-o', out);
    t.is(r.status, 0, r.stderr);
    t.is(r.stdout, '');
    t.regex(r.stderr, /everything expressed/);
    t.notThrows(() => load(readFileSync(out, 'utf8')));
    const again = lvsplay('--ipvsadm-save', `${FIXTURES}/clean-save.txt`, '-o', out);
    t.is(again.status, 1);
    t.regex(again.stderr, /inventory\.yml -o: exists already: give --force/);
    t.is(lvsplay('--ipvsadm-save', `${FIXTURES}/clean-save.txt`, '-o', out, '--force').status, 0);
  } finally {
    cleanup(dir);
  }
});

test('lvsplay import: malformed input exits 1 with the file, the line and what was expected, no stack trace', (t) => {
  const dir = tempDir('lvsplay-import-');
  try {
    const save = join(dir, 'save.txt');
    writeFileSync(save, '-A -t 192.0.2.10:80 -s wlc\n-a -t 192.0.2.10:80 -r 192.0.2.21:80 -g -w lots\n');
    const cf = join(dir, 'ldirectord.cf');
    writeFileSync(cf, 'checktimeout=3\nvirtual=192.0.2.10:80\n\treal=192.0.2.21:80 gate\n\tthis is not a setting\n');
    const ka = join(dir, 'keepalived.conf');
    writeFileSync(ka, 'virtual_server 192.0.2.10 80 {\n    lvs_method DR\n    real_server 192.0.2.21 80 {\n        weight 1\n');
    const listing = join(dir, 'list.txt');
    writeFileSync(listing, '\nIP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\nTCP  192.0.2.10:80 rr\n  -> 192.0.2.21:80                Route   1      0          0\n');
    const cases: [string[], RegExp][] = [
      [['--ipvsadm-save', save], /save\.txt:2:1: expected a weight \(0\.\.65535\), got "lots"; expected a line as `ipvsadm -S -n` prints it/],
      [['--ipvsadm-save', listing], /^1 problem found:\n.*list\.txt:2:1: this is what `ipvsadm -L -n` prints \(a listing\); --ipvsadm-save takes what `ipvsadm -S -n` prints/],
      [['--ldirectord', cf], /ldirectord\.cf:4:1: expected key=value \(ldirectord\.cf syntax\), got "this is not a setting"/],
      [['--keepalived', ka], /keepalived\.conf:3:1: this block is never closed/],
      [['--keepalived', join(dir, 'missing.conf')], /missing\.conf: the file cannot be read \(ENOENT\)/],
      [[], /expected at least one of --ipvsadm-save, --ldirectord, --keepalived/],
    ];
    for (const [args, message] of cases) {
      const r = lvsplay(...args);
      t.is(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
      t.regex(r.stderr, message);
      t.false(/\n\s+at /.test(r.stderr), 'no stack trace');
      t.is(r.stdout, '');
    }
  } finally {
    cleanup(dir);
  }
});

test('import: a refusal outside the services (an IPv6-only VRRP pair with a password: VRRPv3 has none) leaves the pair out and reports it, never an internal error', (t) => {
  const text = `vrrp_instance VI_1 {
    state MASTER
    interface eth0
    virtual_router_id 51
    priority 150
    authentication {
        auth_type PASS
        auth_pass s3cret
    }
    virtual_ipaddress {
        2001:db8::10/128
    }
}
virtual_server 2001:db8::10 80 {
    lb_algo rr
    lb_kind DR
    protocol TCP
    real_server 2001:db8::21 80 {
        TCP_CHECK {
            connect_timeout 3
        }
    }
}
`;
  const { yaml, report } = importInventory({ keepalived: { file: 'v6.conf', text } });
  const cluster = load(yaml);
  t.is(cluster.services.length, 1, 'the service is kept');
  t.is(cluster.vrrp.size, 0, 'the pair is left out');
  t.true(report.lines.some((l) => l.file === 'v6.conf' && l.line === 1 && l.kind === 'not expressed' && /VRRP instance.*no authentication/.test(l.message)), report.format());
});

test('import: a backup director\'s keepalived.conf naming no peer (multicast) gets a placeholder primary in its pair, GUESSED, never an internal error', (t) => {
  const instance = (state: string, vip: string) => `vrrp_instance VI_1 {
    ${state}
    interface eth0
    virtual_router_id 51
    priority 90
    virtual_ipaddress {
        ${vip}
    }
}
`;
  const service = (vip: string, rs: string) => `virtual_server ${vip} 80 {
    lb_algo rr
    lb_kind DR
    protocol TCP
    real_server ${rs} 80 {
        TCP_CHECK {
            connect_timeout 3
        }
    }
}
`;
  const cases: [string, string][] = [
    ['state BACKUP', instance('state BACKUP', '192.0.2.100') + service('192.0.2.100', '192.0.2.21')],
    ['no state (keepalived starts as BACKUP)', instance('nopreempt', '192.0.2.100') + service('192.0.2.100', '192.0.2.21')],
    ['state BACKUP, IPv6 only', instance('state BACKUP', '2001:db8::10/128') + service('2001:db8::10', '2001:db8::21')],
  ];
  for (const [title, text] of cases) {
    const { yaml, report } = importInventory({ keepalived: { file: 'backup.conf', text } });
    const cluster = load(yaml);
    const [self, placeholder] = cluster.directors;
    t.is(cluster.directors.length, 2, title);
    t.like(self, { role: 'backup', priority: 90 }, title);
    t.like(placeholder, { role: 'primary', pair: self!.pair }, title);
    t.true(placeholder!.priority > 90, `${title}: the primary outranks the backup`);
    t.regex(yaml, /- name: lb2 # GUESSED: a placeholder for the pair's primary/, title);
    t.is(cluster.services.length, 1, title);
    t.true(report.lines.some((l) => l.file === 'backup.conf' && l.line === 1 && l.kind === 'note' && /BACKUP .* names no unicast_peer/.test(l.message)), report.format());
  }
});

test('import: the port on a firewall-mark virtual\'s gate real= lines is where ldirectord checks them: one port on every line is the service\'s health_check.port (a note); differing ports, or a checkport=, are reported', (t) => {
  const report = new Report();
  const [service] = importLdirectord('ld.cf', 'virtual=7\n    real=192.0.2.21:80 gate\n    real=192.0.2.22:80 gate\n    checktype=connect\n', report).services;
  t.like(service!.healthCheck, { type: 'connect', port: 80 });
  t.deepEqual(report.lines.map((l) => [l.kind, l.line]), [['note', 2]], report.format());
  t.true(report.complete);
  const differ = new Report();
  const [mixed] = importLdirectord('ld.cf', 'virtual=7\n    real=192.0.2.21:80 gate\n    real=192.0.2.22:81 gate\n    checktype=connect\n', differ).services;
  t.is(mixed!.healthCheck?.port, undefined);
  t.deepEqual(differ.lines.map((l) => [l.kind, l.line]), [['not expressed', 2], ['not expressed', 3]], differ.format());
  const given = new Report();
  const [checked] = importLdirectord('ld.cf', 'virtual=7\n    real=192.0.2.21:80 gate\n    checktype=connect\n    checkport=8080\n', given).services;
  t.is(checked!.healthCheck?.port, 8080);
  t.true(given.lines.some((l) => l.line === 2 && l.message.includes('checkport= is the port checked')), given.format());
});

test('import: a real= line\'s flags read in ldirectord\'s order (weight, "request", "receive", l:N, u:N), as its add_real_server reads them', (t) => {
  const text = `virtual=192.0.2.10:80
    real=192.0.2.21:80 gate 5 "/alive.html", "OK" l:10 u:100
    real=192.0.2.22:80 gate 2 l:3 u:30
    real=192.0.2.23:80 gate u:50 l:5
    real=192.0.2.24:80 gate "alive", "OK"
    service=http
    scheduler=wlc
`;
  const report = new Report();
  const [service] = importLdirectord('ld.cf', text, report).services;
  const members = service!.members.map(({ address, weight, lowerThreshold, upperThreshold }) => ({ address, weight, lowerThreshold, upperThreshold }));
  t.deepEqual(members, [
    { address: '192.0.2.21', weight: 5, lowerThreshold: 10, upperThreshold: 100 }, // thresholds after the strings: read
    { address: '192.0.2.22', weight: 2, lowerThreshold: 3, upperThreshold: 30 },
    { address: '192.0.2.23', weight: 1, lowerThreshold: 5, upperThreshold: 0 }, // u: before l: is passed over by ldirectord
    { address: '192.0.2.24', weight: 1, lowerThreshold: 0, upperThreshold: 0 },
  ]);
  t.deepEqual(report.lines.filter((l) => /request\/receive/.test(l.message)).map((l) => l.line), [2, 5], report.format());
  const error = t.throws(() => importLdirectord('ld.cf', 'virtual=192.0.2.10:80\n    real=192.0.2.21:80 gate 3 heavy\n', new Report()), { instanceOf: InputError });
  t.regex(formatProblem(error.problems[0]!), /ld\.cf:2.*"heavy" left over/);
});

test('lvsplay import --keepalived: include lines read the files they name, as keepalived does (glob, braces, relative to the including file, inside a block, nested); each statement reported at its own file and line', (t) => {
  const dir = tempDir();
  try {
    const write = (name: string, text: string) => {
      mkdirSync(dirname(join(dir, name)), { recursive: true });
      writeFileSync(join(dir, name), text);
    };
    const vs = (vip: string, body: string) => `virtual_server ${vip} 80 {\n    lb_algo rr\n    lb_kind DR\n    protocol TCP\n${body}}\n`;
    const real = (rs: string) => `    real_server ${rs} 80 {\n        TCP_CHECK {\n            connect_timeout 3\n        }\n    }\n`;
    write('keepalived.conf', 'global_defs {\n    router_id lb1\n}\ninclude conf.d/*.conf\nincluder extra/{b,a}.conf\ninclude missing/*.conf\n');
    write('conf.d/20-api.conf', vs('192.0.2.102', real('192.0.2.22')));
    write('conf.d/10-web.conf', vs('192.0.2.101', '    include ../members/web.inc\n'));
    write('conf.d/.hidden.conf', vs('192.0.2.109', real('192.0.2.29')));
    write('members/web.inc', real('192.0.2.21') + '    include nested/more.inc\n');
    write('members/nested/more.inc', '    real_server 192.0.2.23 80 {\n        weight 2\n        SMTP_CHECK {\n        }\n    }\n');
    write('extra/a.conf', vs('192.0.2.103', real('192.0.2.21')));
    write('extra/b.conf', vs('192.0.2.104', real('192.0.2.21')));
    const r = lvsplay('--keepalived', join(dir, 'keepalived.conf'));
    t.is(r.status, 3, r.stderr);
    const cluster = load(r.stdout);
    // conf.d sorted (10 before 20, the dot file left out), then {b,a} in the braces' order
    t.deepEqual(cluster.services.map((s) => s.vip), ['192.0.2.101', '192.0.2.102', '192.0.2.104', '192.0.2.103']);
    t.deepEqual(cluster.services[0]!.realServers.map((m) => [m.address, m.weight]), [['192.0.2.21', 1], ['192.0.2.23', 2]], 'the real servers an include inside the block brings, nested ones too');
    t.regex(r.stderr, new RegExp(`${join(dir, 'members/nested/more.inc')}:3: not expressed: real_server SMTP_CHECK`), 'reported at the included file\'s own line');
    t.regex(r.stderr, new RegExp(`${join(dir, 'keepalived.conf')}:6: note: include missing/\\*\\.conf: no file matches it`));
    write('members/nested/more.inc', '    include ../web.inc\n');
    const loop = lvsplay('--keepalived', join(dir, 'keepalived.conf'));
    t.is(loop.status, 1, 'a file that includes itself, through another, is bad input');
    t.regex(loop.stderr, /more\.inc:1.*web\.inc includes itself/);
    t.false(/\n\s+at /.test(loop.stderr), 'no stack trace');
  } finally {
    cleanup(dir);
  }
});

test('import --from-host: an include pattern reaches the director\'s shell with only its wildcards bare', (t) => {
  t.is(shellGlob('/etc/keepalived/conf.d/*.conf'), '/etc/keepalived/conf.d/*.conf');
  t.is(shellGlob('/etc/keepalived/x$(touch /tmp/p).conf'), "'/etc/keepalived/x$(touch /tmp/p).conf'");
  t.is(shellGlob("/etc/my dir/it's[0-9]?.conf"), "'/etc/my dir/it'\\''s'[0-9]?.conf");
  t.is(shellGlob('/etc/k/[!$(x)]*'), "'/etc/k/[!$(x)]'*", 'a bracket with more than plain characters is literal');
  t.is(shellGlob('-rf*'), "'-rf'*");
});

test('import: keepalived.conf blocks nested thousands deep are bad input at their line, not an internal error (no recursion past 32 levels)', (t) => {
  for (const text of [`virtual_server 192.0.2.1 80 ${'{ a '.repeat(20000)}${'}'.repeat(20000)}\n`, `${'{'.repeat(20000)}\n${'}'.repeat(20000)}\n`]) {
    const error = t.throws(() => importKeepalived('deep.conf', text, new Report()), { instanceOf: InputError });
    t.true(error.problems.some((p) => p.file === 'deep.conf' && p.line === 1 && /nested more than 32 deep/.test(p.message)), error.message);
  }
});

test('import: keepalived.conf\'s blanks are its own (space, tab, \\f, \\v, \\r); any other character, a no-break space or a byte order mark mid-line, is part of a word (a lone \\r or \\f in a line looped without end, using all memory)', (t) => {
  const conf = (blank: string) => `virtual_server 192.0.2.100 80 {${blank}delay_loop 6\n  protocol${blank}TCP\n  real_server 192.0.2.21 80 {\n    weight${blank}2\n  }\n}\n`;
  for (const blank of ['\r', '\f', '\v', ' \r\t']) {
    const { yaml, report } = importInventory({ keepalived: { file: 'blanks.conf', text: conf(blank) } });
    const [service] = load(yaml).services;
    t.deepEqual([service?.protocol, service?.realServers.map((m) => m.weight)], ['tcp', [2]], JSON.stringify(blank));
    t.deepEqual(report.lines.filter((l) => l.kind === 'not expressed'), [], report.format());
  }
  for (const other of ['\u00a0', '\u2028', '\u3000', '\ufeff']) {
    const { report } = importInventory({ keepalived: { file: 'words.conf', text: conf(other) } });
    t.true(report.lines.some((l) => l.line === 4 && l.kind === 'not expressed' && l.message.includes(`weight${other}2`)), `${JSON.stringify(other)}: ${report.format()}`);
  }
});

test('import: a vrrp_instance interface the inventory cannot take as an interface name (":", too long, "all") is reported at its line and the name GUESSED; the imported inventory validates (it did not)', (t) => {
  for (const name of [':', 'eth0.very-long-name', 'all', '-x']) {
    const text = `vrrp_instance VI_1 {\n  state MASTER\n  interface ${name}\n  virtual_router_id 51\n  priority 100\n  virtual_ipaddress {\n    192.0.2.10\n  }\n}\nvirtual_server 192.0.2.10 80 {\n  protocol TCP\n  real_server 192.0.2.21 80 {\n  }\n}\n`;
    const { yaml, report } = importInventory({ keepalived: { file: 'if.conf', text } });
    t.notThrows(() => load(yaml), name);
    t.regex(yaml, /interface: \{ name: eth0, address: [^}]+\} # GUESSED name/, name);
    t.true(report.lines.some((l) => l.line === 3 && l.kind === 'not expressed' && l.message.startsWith(`interface ${JSON.stringify(name)}: expected an interface name`)), report.format());
  }
});

test('import: keepalived\'s $NAME=value definitions are replaced where $NAME or ${NAME} is used (again in what they bring, across includes); @ID lines are read for the director whose config id is ID, and reported when that is unknown', (t) => {
  const text = `$NET=192.0.2
$VIP=\${NET}.100   # a comment is not part of the value
$PRIO=100
@lb1 $PRIO=150
@lb1 $ROLE=MASTER
@^lb1 $ROLE=BACKUP
vrrp_instance VI_1 {
    state $ROLE
    interface eth0
    virtual_router_id 51
    priority $PRIO
    virtual_ipaddress {
        $VIP
    }
}
virtual_server $VIP 80 {
    lb_algo rr
    lb_kind DR
    protocol TCP
    real_server \${NET}.21 80 {
        TCP_CHECK {
            connect_timeout 3
        }
    }
}
`;
  const importAs = (configId?: string) => importInventory({ keepalived: { file: 'defs.conf', text, ...(configId !== undefined && { configId }) } });
  for (const [id, priority, role] of [['lb1', 150, 'primary'], ['lb2', 100, 'backup'], [undefined, 100, 'backup']] as const) {
    const { yaml, report } = importAs(id);
    const cluster = load(yaml);
    t.like(cluster.services[0], { vip: '192.0.2.100', port: 80 }, id);
    t.deepEqual(cluster.services[0]!.realServers.map((m) => m.address), ['192.0.2.21'], id);
    t.like(cluster.directors[0], { priority, role }, `config id ${id}`);
    t.deepEqual(report.lines.filter((l) => l.kind === 'not expressed').map((l) => l.line), id === undefined ? [4, 5, 6] : [], report.format());
  }
  t.regex(importAs().report.format(), /defs\.conf:4: not expressed: @lb1 line: .*config id .* is lb1.*unknown here/);
});

test('import: direct-routing real servers with no link in common (no shared /16), or on a reserved range, get no guessed subnet spanning them: the services the loader then refuses are reported, never an internal error', (t) => {
  const save = (lines: string[]) => importInventory({ save: { file: 'save.txt', text: `${lines.join('\n')}\n` } });
  const spread = save(['-A -t 198.51.100.10:80 -s rr', '-a -t 198.51.100.10:80 -r 10.0.0.1:80 -g -w 1', '-a -t 198.51.100.10:80 -r 200.0.0.1:80 -g -w 1',
    '-A -t [2001:db8::10]:80 -s rr', '-a -t [2001:db8::10]:80 -r [2001:db8::21]:80 -g -w 1', '-a -t [2001:db8::10]:80 -r [3fff::21]:80 -g -w 1']);
  t.regex(spread.yaml, /interface: \{ name: eth0, address: 192\.0\.2\.1\/24 \}/, 'the documentation subnet, not a /0');
  t.deepEqual(spread.report.lines.filter((l) => l.kind === 'not expressed').map((l) => l.line), [1, 4], spread.report.format());
  const reserved = save(['-A -t 198.51.100.10:80 -s rr', '-a -t 198.51.100.10:80 -r 0.0.1.1:80 -g -w 1', '-a -t 198.51.100.10:80 -r 0.0.2.2:80 -g -w 1']);
  t.regex(reserved.report.format(), /save\.txt:2: not expressed: real server 0\.0\.1\.1:80 of service tcp 198\.51\.100\.10:80: the inventory refuses it as a host: expected a unicast address, not the unspecified address/);
});

test('import: host and service names in ldirectord.cf (which ldirectord resolves when it starts) are reported at their line, the rest imported; a malformed address is still an error', (t) => {
  const text = [
    'virtual=www.example.com:http', '\treal=192.0.2.21:80 gate', '',
    'virtual=192.0.2.10:80', '\treal=web1:80 gate', '\treal=192.0.2.22 gate 2', '\treal=192.0.2.23:https gate', '\tfallback=sorry.example.com:80', '',
    'virtual=192.0.2.11:80', '\treal=web2.example.com gate', '',
    'virtual6=[2001:db8::10]:80', '\treal6=web6.example.com:80 gate', '\treal6=[2001:db8::21]:80 gate', '',
  ].join('\n');
  const { yaml, report } = importInventory({ ldirectord: { file: 'names.cf', text } });
  const cluster = load(yaml);
  const reported = (line: number, words: RegExp) => report.lines.some((l) => l.file === 'names.cf' && l.line === line && l.kind === 'not expressed' && words.test(l.message));
  t.true(reported(1, /host name "www\.example\.com" and service name "http".*write the address and port number/), report.format());
  t.true(reported(5, /real server "web1:80": host name "web1"/), report.format());
  t.true(reported(7, /service name "https"/), report.format());
  t.true(reported(8, /sorry\.example\.com.*without its fallback/), report.format());
  t.true(reported(11, /host name "web2\.example\.com"/), report.format());
  t.true(reported(10, /no real server could be imported/), report.format());
  t.true(reported(14, /host name "web6\.example\.com"/), report.format());
  t.deepEqual(cluster.services.map((s) => [s.vip, s.port, s.realServers.map((m) => m.address)]), [['192.0.2.10', 80, ['192.0.2.22']], ['2001:db8::10', 80, ['2001:db8::21']]]);
  t.is(cluster.services[0]!.fallback, undefined);
  for (const bad of ['virtual=192.0.2.10:80\n\treal=192.0.2.300:80 gate\n', 'virtual=192.0.2.10:80\n\treal=192.0.2.21:99999 gate\n', 'virtual=192.0.2.10:99999\n\treal=192.0.2.21 gate\n', 'virtual=web_1:80\n\treal=192.0.2.21 gate\n']) {
    const err = t.throws(() => importInventory({ ldirectord: { file: 'bad.cf', text: bad } }));
    t.regex(err!.message, /expected/, bad);
  }
});

test('import --from-host: ldirectord.cf\'s names are resolved on the director as ldirectord would (getent), said in the report; one it cannot resolve is left out and named', (t) => {
  const text = ['virtual=www.example.com:http', '\treal=web1:http gate', '\treal=web2 gate 3', '\treal=gone.example.com gate', '\tfallback=sorry:80', '',
    'virtual6=[2001:db8::10]:80', '\treal6=web1:80 gate', ''].join('\n');
  t.deepEqual(ldirectordNames('lb1:/etc/ha.d/ldirectord.cf', text), { hosts: ['www.example.com', 'web1', 'web2', 'gone.example.com', 'sorry'], ports: ['http'] });
  // the script the director runs, through a real sh with getent as the director's resolver would answer
  const dir = tempDir('lvsplay-names-');
  try {
    const getent = `case "$1 $2" in
"ahostsv4 www.example.com") echo "192.0.2.10 STREAM www.example.com" ;;
"ahostsv4 web1") echo "192.0.2.21 STREAM web1"; echo "192.0.2.21 DGRAM" ;;
"ahostsv6 web1") echo "2001:db8:0:0::21 STREAM web1" ;;
"ahostsv4 web2") echo "192.0.2.22 STREAM web2" ;;
"ahostsv6 web2") echo "::ffff:192.0.2.22 STREAM web2" ;;
"ahostsv4 sorry") echo "192.0.2.30 STREAM sorry" ;;
"services http") echo "http                  80/tcp www" ;;
*) exit 2 ;;
esac`;
    const PATH = fakeCommands(dir, { getent });
    const names = ldirectordNames('x', text);
    const r = spawnSync('/bin/sh', ['-s'], { input: resolveScript(names.hosts, names.ports), encoding: 'utf8', env: { PATH: `${PATH}` } });
    t.is(r.status, 0, r.stderr);
    const resolved = parseResolved(r.stdout);
    t.deepEqual(resolved.hosts.get('web1'), { ipv4: '192.0.2.21', ipv6: '2001:db8::21' });
    t.deepEqual(resolved.hosts.get('web2'), { ipv4: '192.0.2.22' }, 'an IPv4-mapped answer is not an IPv6 address');
    t.deepEqual(resolved.hosts.get('gone.example.com'), {});
    t.is(resolved.ports.get('http'), 80);
    const { yaml, report } = importInventory({ ldirectord: { file: 'lb1:/etc/ha.d/ldirectord.cf', text }, resolved });
    const cluster = load(yaml);
    t.deepEqual(cluster.services.map((s) => [s.vip, s.port, s.realServers.map((m) => `${m.address}:${m.port}/${m.weight}`), s.fallback?.address]),
      [['192.0.2.10', 80, ['192.0.2.21:80/1', '192.0.2.22:80/3'], '192.0.2.30'], ['2001:db8::10', 80, ['2001:db8::21:80/1'], undefined]]);
    const said = (line: number, kind: string, words: RegExp) => report.lines.some((l) => l.line === line && l.kind === kind && words.test(l.message));
    t.true(said(1, 'note', /resolved on the director as ldirectord would: www\.example\.com → 192\.0\.2\.10, http → 80/), report.format());
    t.true(said(2, 'note', /real server "web1:http": resolved on the director as ldirectord would: web1 → 192\.0\.2\.21, http → 80/), report.format());
    t.true(said(4, 'not expressed', /host name "gone\.example\.com": ldirectord resolves names when it starts, and the director could not resolve it/), report.format());
    t.true(said(5, 'note', /fallback=sorry:80: resolved on the director as ldirectord would: sorry → 192\.0\.2\.30/), report.format());
  } finally {
    cleanup(dir);
  }
});

test('import: a real= range whose ends are host names (sql01->sql03, ldirectord\'s own sample) or with a service name is left out and named from a file, and resolved end to end with --from-host', (t) => {
  const text = [
    'virtual=192.0.2.10:3306', '\treal=sql01->sql03:3306 gate 10', '\treal=192.0.2.40 gate', '',
    'virtual=192.0.2.11:80', '\treal=192.0.2.21->192.0.2.22:http gate', '\treal=192.0.2.40 gate', '',
    'virtual=192.0.2.12:80', '\treal=192.0.2.31->web9:80 gate', '\treal=192.0.2.40 gate', '',
  ].join('\n');
  t.deepEqual(ldirectordNames('x', text), { hosts: ['sql01', 'sql03', 'web9'], ports: ['http'] });
  const fromFile = importInventory({ ldirectord: { file: 'ranges.cf', text } });
  const reported = (line: number, words: RegExp) => fromFile.report.lines.some((l) => l.line === line && l.kind === 'not expressed' && words.test(l.message));
  t.true(reported(2, /real server "sql01->sql03:3306": host name "sql01" and host name "sql03": .*write the addresses and import again/), fromFile.report.format());
  t.true(reported(6, /real server "192\.0\.2\.21->192\.0\.2\.22:http": service name "http"/), fromFile.report.format());
  t.true(reported(10, /host name "web9"/), fromFile.report.format());
  t.deepEqual(load(fromFile.yaml).services.map((s) => s.realServers.map((m) => m.address)), [['192.0.2.40'], ['192.0.2.40'], ['192.0.2.40']]);
  const resolved = {
    hosts: new Map([['sql01', { ipv4: '192.0.2.51' }], ['sql03', { ipv4: '192.0.2.53' }], ['web9', { ipv4: '192.0.2.32' }]]),
    ports: new Map([['http', 80]]),
  };
  const fromHost = importInventory({ ldirectord: { file: 'lb1:/etc/ha.d/ldirectord.cf', text }, resolved });
  t.deepEqual(load(fromHost.yaml).services.map((s) => s.realServers.map((m) => `${m.address}:${m.port}/${m.weight}`)), [
    ['192.0.2.51:3306/10', '192.0.2.52:3306/10', '192.0.2.53:3306/10', '192.0.2.40:3306/1'],
    ['192.0.2.21:80/1', '192.0.2.22:80/1', '192.0.2.40:80/1'],
    ['192.0.2.31:80/1', '192.0.2.32:80/1', '192.0.2.40:80/1'],
  ]);
  t.true(fromHost.report.lines.some((l) => l.line === 2 && l.kind === 'note' && /sql01 → 192\.0\.2\.51, sql03 → 192\.0\.2\.53/.test(l.message)), fromHost.report.format());
  t.deepEqual(fromHost.report.lines.filter((l) => l.kind === 'not expressed'), [], fromHost.report.format());
});

test('import: ldirectord.cf services ldirectord 4.12 checks (submission, ldaps, oracle, http_proxy) are imported with their service=, not left out', (t) => {
  const services = ['submission', 'ldaps', 'oracle', 'http_proxy'];
  const text = services.flatMap((service, i) => [`virtual=192.0.2.1${i}:80`, '\treal=192.0.2.21 gate', `\tservice=${service}`, '\tchecktype=negotiate', '']).join('\n');
  const { yaml, report } = importInventory({ ldirectord: { file: 'services.cf', text } });
  t.deepEqual(load(yaml).services.map((s) => s.healthCheck?.service), services);
  t.deepEqual(report.lines.filter((l) => l.kind === 'not expressed'), [], report.format());
});

test('import: ldirectord\'s two global fallbacks: fallback= serves the virtual= services, fallback6= the virtual6= ones (its fallback_find); a virtual\'s own fallback of the other family is its config error', (t) => {
  const text = [
    'fallback=192.0.2.30:80 gate', 'fallback6=[2001:db8::30]:80 gate',
    'virtual=192.0.2.10:80', '\treal=192.0.2.21:80 gate', '',
    'virtual6=[2001:db8::10]:80', '\treal6=[2001:db8::21]:80 gate', '',
    'virtual6=[2001:db8::11]:80', '\treal6=[2001:db8::21]:80 gate', '\tfallback6=[2001:db8::31]:80 gate', '',
  ].join('\n');
  const { yaml, report } = importInventory({ ldirectord: { file: 'two.cf', text } });
  t.deepEqual(load(yaml).services.map((s) => [s.vip, s.fallback?.address]), [['192.0.2.10', '192.0.2.30'], ['2001:db8::10', '2001:db8::30'], ['2001:db8::11', '2001:db8::31']]);
  t.deepEqual(report.lines.filter((l) => l.kind === 'not expressed'), [], report.format());
  // an IPv4 global fallback alone: the IPv6 virtual has none (not a problem at the global line)
  const v4only = importInventory({ ldirectord: { file: 'v4.cf', text: ['fallback=127.0.0.1:80', 'virtual=192.0.2.10:80', '\treal=192.0.2.21:80 gate', '', 'virtual6=[2001:db8::10]:80', '\treal6=[2001:db8::21]:80 gate', ''].join('\n') } });
  t.deepEqual(load(v4only.yaml).services.map((s) => [s.vip, s.fallback?.address]), [['192.0.2.10', '127.0.0.1'], ['2001:db8::10', undefined]]);
  t.deepEqual(v4only.report.lines.filter((l) => l.kind === 'not expressed'), [], v4only.report.format());
  for (const [virtual, real, wrong, line] of [
    ['virtual=192.0.2.10:80', '\treal=192.0.2.21:80 gate', '\tfallback6=[2001:db8::30]:80 gate', /expected fallback= in a virtual= section \(ldirectord refuses fallback6= there\)/],
    ['virtual6=[2001:db8::10]:80', '\treal6=[2001:db8::21]:80 gate', '\tfallback=[2001:db8::30]:80 gate', /expected fallback6= in a virtual6= section \(ldirectord refuses fallback= there\)/],
  ] as const) {
    const err = t.throws(() => importInventory({ ldirectord: { file: 'bad.cf', text: [virtual, real, wrong, ''].join('\n') } }), { instanceOf: InputError });
    t.is(err!.problems.length, 1);
    t.is(err!.problems[0]!.line, 3);
    t.regex(err!.problems[0]!.message, line);
  }
});

test('import: a fallback the inventory cannot take (ldirectord\'s man-page global fallback=127.0.0.1:80 under a :443 DR virtual; a keepalived sorry_server on another port) costs its service the fallback, not the service; reported at the service', (t) => {
  const text = ['fallback=127.0.0.1:80', 'virtual=192.0.2.10:80', '\treal=192.0.2.21:80 gate', '', 'virtual=192.0.2.10:443', '\treal=192.0.2.21:443 gate', '\treal=192.0.2.22:443 gate', ''].join('\n');
  const { yaml, report } = importInventory({ ldirectord: { file: 'man.cf', text } });
  const cluster = load(yaml);
  t.deepEqual(cluster.services.map((s) => [s.port, s.realServers.map((m) => m.address), s.fallback && `${s.fallback.address}:${s.fallback.port ?? s.port}`]),
    [[80, ['192.0.2.21'], '127.0.0.1:80'], [443, ['192.0.2.21', '192.0.2.22'], undefined]]);
  const said = report.lines.filter((l) => l.kind === 'not expressed');
  t.is(said.length, 1, report.format());
  t.is(said[0]!.line, 5);
  t.regex(said[0]!.message, /^service tcp 192\.0\.2\.10:443: its fallback 127\.0\.0\.1:80: the inventory refuses it as imported: a DR fallback must use the service port 443, got 80 .*; the service is imported without a fallback$/);
  const conf = ['virtual_server 192.0.2.10 443 {', '  lb_algo rr', '  lb_kind DR', '  protocol TCP', '  sorry_server 192.0.2.30 8443', '  real_server 192.0.2.21 443 {', '    weight 1', '  }', '}', ''].join('\n');
  const ka = importInventory({ keepalived: { file: 'ka.conf', text: conf } });
  t.deepEqual(load(ka.yaml).services.map((s) => [s.port, s.realServers.map((m) => m.address), s.fallback]), [[443, ['192.0.2.21'], undefined]]);
  t.true(ka.report.lines.some((l) => l.line === 1 && /its fallback 192\.0\.2\.30:8443: the inventory refuses it as imported: a DR fallback must use the service port 443, got 8443/.test(l.message)), ka.report.format());
});

test('import --keepalived: status_code words as its status_code_handler reads them: codes and MIN-MAX ranges kept; a word it ignores (not a number, past 599, a range downwards) reported, the others kept', (t) => {
  const conf = (words: string) => ['virtual_server 192.0.2.10 80 {', '  lb_algo rr', '  lb_kind DR', '  protocol TCP', '  real_server 192.0.2.21 80 {', '    HTTP_GET {',
    '      url {', '        path /health', `        status_code ${words}`, '      }', '    }', '  }', '}', ''].join('\n');
  const one = importInventory({ keepalived: { file: 'ka.conf', text: conf('200-299') } });
  t.deepEqual(load(one.yaml).services[0]!.healthCheck!.status, ['200-299']);
  t.deepEqual(one.report.lines.filter((l) => l.kind === 'not expressed'), [], one.report.format());
  const mixed = importInventory({ keepalived: { file: 'ka.conf', text: conf('200 301-302 abc 700 299-200') } });
  t.deepEqual(load(mixed.yaml).services[0]!.healthCheck!.status, [200, '301-302']);
  const ignored = mixed.report.lines.filter((l) => l.kind === 'not expressed');
  t.deepEqual(ignored.map((l) => [l.line, /^status_code (\S+): keepalived ignores it/.exec(l.message)?.[1]]), [[9, 'abc'], [9, '700'], [9, '299-200']], mixed.report.format());
});

test('import --keepalived: a real server\'s own inhibit_on_failure, as keepalived gives each the virtual_server\'s unless it sets its own: the same on every one is the service\'s quiescent; one unlike the others is reported at its line', (t) => {
  const real = (address: string, inhibit: string) => [`  real_server ${address} 80 {`, ...(inhibit ? [`    ${inhibit}`] : []), '    TCP_CHECK {', '      connect_timeout 3', '    }', '  }'];
  const vs = (vip: string, own: string, a: string, b: string) => [`virtual_server ${vip} 80 {`, '  lb_algo rr', '  lb_kind DR', '  protocol TCP', ...(own ? [`  ${own}`] : []), ...real('192.0.2.21', a), ...real('192.0.2.22', b), '}'];
  const text = [
    ...vs('192.0.2.10', '', 'inhibit_on_failure', 'inhibit_on_failure yes'), // lines 1-17: every one on
    ...vs('192.0.2.11', 'inhibit_on_failure', 'inhibit_on_failure maybe', 'inhibit_on_failure off'), // 18-35: the second unlike the first
    ...vs('192.0.2.12', '', '', ''), // 36-51: none
    '',
  ].join('\n');
  const { yaml, report } = importInventory({ keepalived: { file: 'ka.conf', text } });
  t.deepEqual(load(yaml).services.map((s) => [s.vip, s.healthCheck?.quiescent]), [['192.0.2.10', true], ['192.0.2.11', true], ['192.0.2.12', undefined]]);
  const said = (kind: string, line: number, words: RegExp) => report.lines.some((l) => l.kind === kind && l.line === line && words.test(l.message));
  t.true(said('note', 1, /every real server sets inhibit_on_failure on: the service's quiescent: true/), report.format());
  t.true(said('not expressed', 24, /inhibit_on_failure maybe: keepalived ignores it/), report.format());
  t.true(said('not expressed', 30, /real server 192\.0\.2\.22:80: inhibit_on_failure off, unlike the others/), report.format());
  t.is(report.lines.filter((l) => /inhibit/.test(l.message)).length, 3, report.format());
  // a virtual_server with no real server to read says only that (it once also said "quiescent: undefined")
  const empty = importInventory({ keepalived: { file: 'ka.conf', text: ['virtual_server 192.0.2.13 80 {', '  lb_kind DR', '  protocol TCP', '}', ...vs('192.0.2.10', '', '', ''), ''].join('\n') } });
  t.deepEqual(empty.report.lines.filter((l) => l.line === 1).map((l) => l.message), ['service tcp 192.0.2.13:80: no real server could be imported, and an inventory service needs at least one'], empty.report.format());
});

test('import: a --thresholds row that cannot be read is reported at its line; the rows after it are still read', (t) => {
  const list = [
    'IP Virtual Server version 1.2.1 (size=4096)', 'Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn', '  -> RemoteAddress:Port',
    'TCP  192.0.2.10:80 wlc', '  -> 192.0.2.21:80                many       0          0          0', '  -> 192.0.2.22:80                0          0          0          0',
    'TCP  192.0.2.11:80 rr', '  -> 192.0.2.21:80                50         10         0          0', '',
  ].join('\n');
  const save = '-A -t 192.0.2.10:80 -s wlc\n-a -t 192.0.2.10:80 -r 192.0.2.21:80 -g -w 1\n-a -t 192.0.2.10:80 -r 192.0.2.22:80 -g -w 1\n-A -t 192.0.2.11:80 -s rr\n-a -t 192.0.2.11:80 -r 192.0.2.21:80 -g -w 1\n';
  const { yaml, report } = importInventory({ save: { file: 'save.txt', text: save, thresholds: { file: 'list.txt', text: list } } });
  t.true(report.lines.some((l) => l.file === 'list.txt' && l.line === 5 && l.kind === 'not expressed' && /cannot be read: .*"many"/.test(l.message)), report.format());
  const second = load(yaml).services.find((s) => s.port === 80 && s.vip === '192.0.2.11')!;
  t.deepEqual([second.realServers[0]!.upperThreshold, second.realServers[0]!.lowerThreshold], [50, 10]);
});

test('import --from-host: the director read over SSH (its parts as the read script prints them) gives its own interface, address, NAT gateway and SSH settings, not guesses', (t) => {
  const part = (name: string, path: string, text: string) => `@@lvsplay-import ${name} ${path}\n${Buffer.from(text).toString('base64')}\n`;
  const stdout = [
    part('save', '-', '-A -t 192.0.2.10:80 -s rr\n-a -t 192.0.2.10:80 -r 192.0.2.21:80 -g -w 1\n-A -t 192.0.2.13:8080 -s rr\n-a -t 192.0.2.13:8080 -r 198.51.100.23:80 -m -w 2\n'),
    part('ldirectord', '/etc/ha.d/ldirectord.cf', 'checktimeout=3\nvirtual=192.0.2.14:80\n\treal=192.0.2.22:80 gate 1\n\tscheduler=wrr\n\tchecktype=connect\n'),
    part('addresses', '-', [
      '1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever',
      '2: eth0    inet 192.0.2.5/24 brd 192.0.2.255 scope global eth0\\       valid_lft forever preferred_lft forever',
      '2: eth0    inet 192.0.2.10/32 scope global eth0\\       valid_lft forever preferred_lft forever',
      '2: eth0    inet 198.51.100.1/24 scope global eth0\\       valid_lft forever preferred_lft forever',
      '3: mgmt0    inet 203.0.113.246/28 scope global mgmt0\\       valid_lft forever preferred_lft forever',
    ].join('\n') + '\n'),
  ].join('');
  const read = parseHostRead(stdout, 'lb7');
  t.is(read.inputs.ldirectord?.file, 'lb7:/etc/ha.d/ldirectord.cf');
  const { yaml, report } = importInventory({ ...read.inputs, host: { read, name: 'lb7', ssh: { host: '127.0.0.1', port: 22101 } } });
  const cluster = load(yaml);
  const lb7 = cluster.directors[0]!;
  t.is(lb7.name, 'lb7');
  t.is(lb7.interface.name, 'eth0');
  t.regex(yaml, /interface: \{ name: eth0, address: 192\.0\.2\.5\/24 \}/);
  t.deepEqual([lb7.ssh.host, lb7.ssh.port], ['127.0.0.1', 22101]);
  t.deepEqual(cluster.natGateway, { address: '198.51.100.1', prefix: 24 });
  t.notRegex(yaml.split('directors:')[1]!.split('real_servers:')[0]!, /GUESSED/, 'nothing about the director is guessed');
  t.deepEqual(cluster.services.map((s) => s.managedBy).sort(), ['ldirectord', 'lvsplay', 'lvsplay']);
  t.true(report.complete, report.format());
});

test('import --from-host of a two-NIC director: interfaces holding a VIP or facing real servers are listed (a management NIC is not); the NAT gateway is the floating address, else the director\'s own there', (t) => {
  const part = (name: string, text: string) => `@@lvsplay-import ${name} -\n${Buffer.from(text).toString('base64')}\n`;
  const save = '-A -t 192.0.2.30:80 -s rr\n-a -t 192.0.2.30:80 -r 192.0.2.21:80 -g -w 1\n-A -t 203.0.113.30:80 -s rr\n-a -t 203.0.113.30:80 -r 203.0.113.26:80 -g -w 1\n'
    + '-A -t 192.0.2.31:8080 -s rr\n-a -t 192.0.2.31:8080 -r 203.0.113.26:80 -m -w 1\n';
  const ip = (n: number, dev: string, cidr: string) => `${n}: ${dev}    inet ${cidr} scope global ${dev}\\       valid_lft forever preferred_lft forever`;
  const addresses = (floating: boolean) => [
    ip(2, 'eth0', '192.0.2.5/24'), ip(2, 'eth0', '192.0.2.30/32'), ip(2, 'eth0', '192.0.2.31/32'),
    ip(3, 'eth1', '203.0.113.5/25'), ip(3, 'eth1', '203.0.113.30/32'), ...(floating ? [ip(3, 'eth1', '203.0.113.1/25')] : []),
    ip(4, 'mgmt0', '203.0.113.246/28'),
  ].join('\n') + '\n';
  for (const floating of [true, false]) {
    const read = parseHostRead(part('save', save) + part('addresses', addresses(floating)), 'lb1');
    const { yaml, report } = importInventory({ ...read.inputs, host: { read, name: 'lb1', ssh: {} } });
    const cluster = load(yaml);
    const lb1 = cluster.directors[0]!;
    t.deepEqual(lb1.interfaces, [{ name: 'eth0', address: '192.0.2.5/24' }, { name: 'eth1', address: '203.0.113.5/25' }], yaml);
    t.is(holdingInterface(cluster, lb1, '203.0.113.30').name, 'eth1');
    t.deepEqual(cluster.natGateway, floating ? { address: '203.0.113.1', prefix: 25 } : undefined);
    t.is(cluster.realServers.find((r) => r.address === '203.0.113.26')?.gateway, floating ? '203.0.113.1' : '203.0.113.5', 'the NAT real server routes through the director on its own network');
    t.true(report.complete, report.format());
  }
});

test('import --keepalived: a virtual_server_group is the services keepalived makes of it: each address of a plain entry, a last-byte range (IPv6: hex), a full range and a subnet, and each mark, once; what the block says reported once', (t) => {
  const group = (name: string, entries: string[], reals: string[], extra = '') =>
    `virtual_server_group ${name} {\n${entries.map((e) => `    ${e}\n`).join('')}}\nvirtual_server group ${name} {\n    lb_algo rr\n    lb_kind DR\n${extra}${reals.map((r) => `    real_server ${r} 80 {\n        weight 2\n    }\n`).join('')}}\n`;
  const text = [
    group('v4', ['192.0.2.40 80', '192.0.2.41-42 80', '192.0.2.44-192.0.2.45 80', '192.0.2.48/31 80', 'fwmark 9', '192.0.2.40 80'], ['192.0.2.21', '192.0.2.22'], '    warmup 3\n'),
    group('v6', ['2001:db8::a-b 80'], ['2001:db8::21']),
    group('big', ['192.0.2.0/23 80', '192.0.2.60 80'], ['192.0.2.21']),
    'virtual_server group missing {\n    real_server 192.0.2.21 80\n}\n',
  ].join('');
  const { yaml, report } = importInventory({ keepalived: { file: 'g.conf', text } });
  const cluster = load(yaml);
  t.deepEqual(cluster.services.map((s) => (s.fwmark !== undefined ? `fwmark ${s.fwmark}` : `${s.vip}:${s.port}`)), [
    '192.0.2.40:80', '192.0.2.41:80', '192.0.2.42:80', '192.0.2.44:80', '192.0.2.45:80', '192.0.2.48:80', '192.0.2.49:80', 'fwmark 9',
    '2001:db8::a:80', '2001:db8::b:80', '192.0.2.60:80',
  ]);
  t.true(cluster.services.every((s) => s.managedBy === 'keepalived' && s.scheduler === 'rr' && s.realServers.every((m) => m.weight === 2)));
  const lines = (kind: string, words: RegExp) => report.lines.filter((l) => l.kind === kind && words.test(l.message)).map((l) => l.line);
  t.deepEqual(lines('note', /virtual_server group v4: imported as 8 service/), [9], report.format());
  t.deepEqual(lines('note', /udp 192\.0\.2\.40:80 is also at line 2/), [7]);
  t.deepEqual(lines('not expressed', /warmup/), [12], 'the block\'s line once, not once per service');
  t.deepEqual(lines('not expressed', /192\.0\.2\.0\/23: 512 addresses/), [31]);
  t.deepEqual(lines('not expressed', /no virtual_server_group missing is defined/), [41]);
});

test('import --keepalived: a malformed virtual_server_group entry is an error at its line, saying what was expected', (t) => {
  const bad: [string, RegExp][] = [
    ['192.0.2.70-60 80', /range end is not after its start/],
    ['192.0.2.71-192.0.2.70 80', /the range ends before it starts/],
    ['192.0.2.1/24 80', /host bits set/],
    ['192.0.2.1/33 80', /prefix must be 1\.\.32/],
    ['2001:db8::1-10000 80', /0\.\.ffff/],
    ['192.0.2.72 99999', /expected ADDRESS\[-END\|\/PREFIX\] \[PORT\]/],
    ['web.example 80', /"web\.example" is not an IP address/],
    ['fwmark x', /expected fwmark N \(1\.\.4294967295\) \[inet\|inet6\]/],
    ['fwmark 5 inet4', /expected fwmark N/],
  ];
  for (const [entry, message] of bad) {
    const text = `virtual_server_group g {\n    ${entry}\n}\nvirtual_server group g {\n    real_server 192.0.2.21 80\n}\n`;
    const error = t.throws(() => importInventory({ keepalived: { file: 'bad.conf', text } }), { instanceOf: InputError }, entry);
    const problems = (error as InputError).problems;
    t.is(problems.length, 1, entry);
    t.is(problems[0]?.line, 2, entry);
    t.regex(problems[0]?.message ?? '', message, entry);
  }
});

test('import --keepalived: a virtual_server without a protocol line is UDP, as keepalived makes it (a note says so); a mark has no protocol', (t) => {
  const vs = (head: string, protocol: string) => `virtual_server ${head} {\n    lb_algo rr\n    lb_kind DR\n${protocol}    real_server 192.0.2.21 53\n}\n`;
  const text = vs('192.0.2.40 53', '') + vs('192.0.2.41 80', '    protocol TCP\n') + vs('fwmark 3', '');
  const { yaml, report } = importInventory({ keepalived: { file: 'p.conf', text } });
  t.deepEqual(load(yaml).services.map((s) => `${s.protocol} ${s.vip ?? s.fwmark}`), ['udp 192.0.2.40', 'tcp 192.0.2.41', 'fwmark 3']);
  t.deepEqual(report.lines.filter((l) => /no protocol line: keepalived makes the service UDP/.test(l.message)).map((l) => [l.kind, l.line]), [['note', 1]]);
});

test('import --keepalived: port 0 without persistence_timeout is persistent for 360 s, as keepalived makes it; in a group, every service of the block is (a note says so)', (t) => {
  const text = 'virtual_server 192.0.2.40 0 {\n    lb_kind DR\n    protocol TCP\n    real_server 192.0.2.21 0\n}\n'
    + 'virtual_server_group g {\n    192.0.2.41 0\n    192.0.2.42 80\n}\nvirtual_server group g {\n    lb_kind DR\n    protocol TCP\n    persistence_granularity 255.255.255.0\n    real_server 192.0.2.21 80\n}\n'
    + 'virtual_server 192.0.2.43 0 {\n    lb_kind DR\n    protocol TCP\n    persistence_timeout 30\n    real_server 192.0.2.21 0\n}\n';
  const { yaml, report } = importInventory({ keepalived: { file: 'p0.conf', text } });
  t.deepEqual(load(yaml).services.map((s) => [`${s.vip}:${s.port}`, s.persistence]), [
    ['192.0.2.40:0', { timeoutS: 360 }],
    ['192.0.2.41:0', { timeoutS: 360, netmask: '255.255.255.0' }],
    ['192.0.2.42:80', { timeoutS: 360, netmask: '255.255.255.0' }],
    ['192.0.2.43:0', { timeoutS: 30 }],
  ]);
  // the group's granularity made it persistent first (keepalived's pgr_handler), before the port-0 rule
  t.deepEqual(report.lines.filter((l) => /without persistence_timeout/.test(l.message)).map((l) => [l.kind, l.line]), [['note', 1], ['note', 13]], report.format());
});

test('import --keepalived: persistence as keepalived 2.2.7 reads it: a bare persistence_timeout and a persistence_granularity alone are its default 360 s; 0 or past 31 days is its ignored line; a method not in capitals is its ignored line (NAT stays)', (t) => {
  const vs = (vip: string, lines: string) => `virtual_server ${vip} 80 {\n    protocol TCP\n    lb_kind DR\n${lines}    real_server 192.0.2.21 80\n}\n`;
  const text = vs('192.0.2.40', '    persistence_timeout\n') + vs('192.0.2.41', '    persistence_granularity 255.255.255.0\n') + vs('192.0.2.42', '    persistence_granularity 255.255.255.255\n')
    + vs('192.0.2.43', '    persistence_timeout 0\n') + vs('192.0.2.44', '    persistence_timeout 2678401\n') + vs('192.0.2.45', '    persistence_timeout 2678400\n')
    + 'virtual_server 192.0.2.46 80 {\n    protocol TCP\n    lb_kind dr\n    real_server 198.51.100.23 80\n}\n';
  const { yaml, report } = importInventory({ keepalived: { file: 'pto.conf', text } });
  t.deepEqual(load(yaml).services.map((s) => [s.vip, s.persistence, s.forwarding]), [
    ['192.0.2.40', { timeoutS: 360 }, 'dr'],
    ['192.0.2.41', { timeoutS: 360, netmask: '255.255.255.0' }, 'dr'],
    ['192.0.2.42', { timeoutS: 360 }, 'dr'],
    ['192.0.2.43', undefined, 'dr'],
    ['192.0.2.44', undefined, 'dr'],
    ['192.0.2.45', { timeoutS: 2678400 }, 'dr'],
    ['192.0.2.46', undefined, 'nat'],
  ]);
  t.deepEqual(report.lines.filter((l) => l.kind === 'not expressed').map((l) => l.line), [22, 28, 39], report.format());
  t.true(report.lines.some((l) => l.line === 39 && l.message.includes('lb_kind dr: keepalived knows NAT, DR and TUN, in capitals')), report.format());
});

test('import --keepalived: ops on a TCP or SCTP service is turned off, as keepalived does (a note), not the whole service refused; on UDP and marks it stays', (t) => {
  const vs = (head: string, protocol: string) => `virtual_server ${head} {\n    lb_kind DR\n${protocol}    ops\n    real_server 192.0.2.21 53\n}\n`;
  const text = vs('192.0.2.40 53', '    protocol TCP\n') + vs('192.0.2.41 53', '    protocol SCTP\n') + vs('192.0.2.42 53', '    protocol UDP\n') + vs('fwmark 4', '');
  const { yaml, report } = importInventory({ keepalived: { file: 'ops.conf', text } });
  t.deepEqual(load(yaml).services.map((s) => [s.vip ?? s.fwmark, s.onePacket]), [['192.0.2.40', false], ['192.0.2.41', false], ['192.0.2.42', true], [4, true]]);
  t.deepEqual(report.lines.filter((l) => /ops on a/.test(l.message)).map((l) => [l.kind, l.line]), [['note', 1], ['note', 7]], report.format());
});

test('import --keepalived: a real server\'s own lvs_method that is the service\'s says nothing new; another method is reported', (t) => {
  const text = 'virtual_server 192.0.2.40 80 {\n    lb_kind DR\n    protocol TCP\n    real_server 192.0.2.21 80 {\n        lvs_method DR\n    }\n    real_server 192.0.2.22 80 {\n        lvs_method NAT\n    }\n}\n';
  const { yaml, report } = importInventory({ keepalived: { file: 'rs.conf', text } });
  t.deepEqual(load(yaml).services[0]!.realServers.map((m) => m.address), ['192.0.2.21', '192.0.2.22']);
  t.deepEqual(report.lines.filter((l) => l.kind === 'not expressed').map((l) => [l.line, l.message]), [[8, 'real_server lvs_method: not something the inventory\'s members say']], report.format());
});

test('import: a real server the inventory refuses as a host (127.0.0.1: the director itself) is reported at its own line and left out, its service kept with the others; the inventory validates', (t) => {
  const text = '-A -t 192.0.2.10:80 -s wlc\n-a -t 192.0.2.10:80 -r 127.0.0.1:80 -g -w 1\n-a -t 192.0.2.10:80 -r 192.0.2.21:80 -g -w 1\n-A -t 192.0.2.11:80 -s wlc\n-a -t 192.0.2.11:80 -r 127.0.0.1:80 -g -w 1\n';
  const { yaml, report } = importInventory({ save: { file: 'save.txt', text } });
  t.deepEqual(load(yaml).services.map((s) => [s.vip, s.realServers.map((m) => m.address)]), [['192.0.2.10', ['192.0.2.21']]]);
  t.deepEqual(report.lines.filter((l) => l.kind === 'not expressed').map((l) => [l.file, l.line]).sort(), [['save.txt', 2], ['save.txt', 4], ['save.txt', 5]], report.format());
  t.false(report.lines.some((l) => l.file === '(imported inventory)'), report.format());
});

test('import: ldirectord.cf as read_config reads it: a blank line ends a virtual= block (an indented line after it is ldirectord\'s "Unknown command", an error here at its line); request= and receive= only in double quotes', (t) => {
  const blank = t.throws(() => importLdirectord('ld.cf', 'virtual=192.0.2.10:80\n\treal=192.0.2.21:80 gate\n\n\tchecktype=connect\n', new Report()), { instanceOf: InputError });
  t.deepEqual(blank.problems.map((p) => [p.line, p.message]), [[4, 'an indented checktype= line after a blank line: ldirectord ends the virtual= block of line 1 at the blank line, then refuses this one ("Unknown command"); remove the blank line']]);
  t.notThrows(() => importLdirectord('ld.cf', 'virtual=192.0.2.10:80\n\treal=192.0.2.21:80 gate\n    # a comment\n\tchecktype=connect\n\nvirtual=192.0.2.11:80\n\treal=192.0.2.21:80 gate\n', new Report()));
  for (const line of ['request=health', 'receive=OK', 'request=""', "request='x'"]) {
    const e = t.throws(() => importLdirectord('ld.cf', `virtual=192.0.2.10:80\n\treal=192.0.2.21:80 gate\n\tchecktype=negotiate\n\t${line}\n`, new Report()), { instanceOf: InputError }, line);
    t.deepEqual(e?.problems.map((p) => p.line), [4], line);
  }
  const [quoted] = importLdirectord('ld.cf', 'virtual=192.0.2.10:80\n\treal=192.0.2.21:80 gate\n\tchecktype=negotiate\n\trequest="health"\n\treceive="OK"\n', new Report()).services;
  t.like(quoted!.healthCheck, { request: 'health', receive: 'OK' });
});

// Each refused by the installed ldirectord 4.x (`ldirectord FILE status`: exit 2, "Unknown command" or
// its own error), found by comparing it with the import on mutated ldirectord.cf files: an error
// here too, at its line, not a setting "not expressed" of a file the running ldirectord cannot be reading.
test('import: ldirectord.cf lines ldirectord refuses are errors at their line: a key unknown where it stands (or in another case), an unquoted login=, a number without digits, an unknown service=, the other family\'s real=, a duplicate virtual', (t) => {
  const head = 'virtual=192.0.2.10:80\n\treal=192.0.2.21:80 gate\n';
  const refused: [string, number, RegExp][] = [
    [`quiescent=no\nbogus=1\n${head}`, 2, /ldirectord knows no bogus= outside a virtual= block, and refuses the line \(and the file\) as "Unknown command"/],
    [`persistent=300\n${head}`, 1, /no persistent= outside a virtual= block \(it is a virtual= block's setting: indent it under one/],
    [`${head}\tautoreload=yes\n`, 3, /no autoreload= in a virtual= block \(it is a global setting/],
    [`${head}\tScheduler=rr\n`, 3, /no Scheduler= in a virtual= block.*\(ldirectord matches keys case for case: scheduler=\)/],
    [`Virtual=192.0.2.11:80\n${head}`, 1, /no Virtual= outside a virtual= block/],
    [`${head}\tconnecttimeout=3\n`, 3, /connecttimeout= deprecated in favour of negotiatetimeout/],
    [`${head}\tchecktype=negotiate\n\tlogin=monitor\n`, 4, /expected login="TEXT" \(in double quotes/],
    [`${head}\tchecktimeout=s\n`, 3, /checktimeout=s: expected a number above 0/],
    [`checkinterval=0\n${head}`, 1, /checkinterval=0: expected a number above 0/],
    [`${head}\tcheckport=70000\n`, 3, /checkport=70000: expected a port 1\.\.65535/],
    [`${head}\tservice=HTTP\n`, 3, /service=HTTP: expected one of dns, ftp, http.*\(case for case\)/],
    [`${head}\treal6=[2001:db8::21]:80 gate\n`, 3, /expected real= in a virtual= section \(ldirectord refuses real6= there\)/],
    [`${head}\nvirtual=192.0.2.10:80\n\treal=192.0.2.22:80 gate\n`, 4, /virtual tcp 192\.0\.2\.10:80 again \(its first block is at line 1\): ldirectord refuses a duplicate virtual server/],
    [`  checktimeout=3\n${head}`, 1, /a line indented by fewer than four spaces/],
    // values are compared case for case, and yes/no with the rest of the line
    [`${head}\tquiescent=yes \n`, 3, /expected quiescent=yes or no, exactly .*got "yes "/],
    [`quiescent=yes # not a comment here\n${head}`, 1, /expected quiescent=yes or no, exactly .*got "yes # not a comment here"/],
    [`${head}\tops=Yes\n`, 3, /expected ops=yes or no, exactly/],
    [`autoreload="no"\n${head}`, 1, /expected autoreload=yes or no, exactly/],
    ['virtual=192.0.2.10:80\n\treal=192.0.2.21:80 GATE\n', 2, /expected the forwarding method gate, masq or ipip, got GATE/],
    [`${head}\tfallback=127.0.0.1:80 Masq\n`, 3, /expected the forwarding method gate, masq or ipip, got Masq/],
    [`${head}\tprotocol=TCP\n`, 3, /protocol=TCP: expected tcp, udp or fwm \(case for case\)/],
    [`${head}\tchecktype=Connect\n`, 3, /checktype=Connect: expected a number of connect checks or one of connect, negotiate/],
  ];
  for (const [text, line, says] of refused) {
    const e = t.throws(() => importLdirectord('ld.cf', text, new Report()), { instanceOf: InputError }, text);
    t.deepEqual(e?.problems.map((p) => p.line), [line], text);
    t.regex(e?.problems[0]?.message ?? '', says, text);
  }
  // a secret key's value stays out of the message
  const secret = t.throws(() => importLdirectord('ld.cf', `passwd="hunter2"\n${head}`, new Report()), { instanceOf: InputError });
  t.false(secret!.problems[0]!.message.includes('hunter2'), secret!.problems[0]!.message);
  // what ldirectord takes, it reads as it does: the first digits of a number, the first word of service=; a bare supervised
  const report = new Report();
  const { services, globals } = importLdirectord('ld.cf', `supervised\nchecktimeout=7s\n${head}\tchecktype=negotiate\n\tservice=http/1.1\n\tnegotiatetimeout=x12\n`, report);
  t.like(services[0]!.healthCheck, { type: 'negotiate', service: 'http' });
  t.is(globals['check_timeout'], 7);
  t.true(report.lines.some((l) => l.line === 1 && l.message.startsWith('supervised=')), report.format());
});

// Each case was run through ldirectord 4.x itself (`ldirectord FILE status`: 2 refused, 3 accepted): it
// refuses each refused one here but persistent=0, which it takes and ipvsadm then refuses (-p 0).
test('import --ldirectord: a value is read as read_config reads it: a # ends a block\'s value but is part of a global one; scheduler= is its first a-z run, persistent= its first digits, schedflags= its first word, netmask= whole; an empty command, e-mail address, SMTP server or quoted string is refused', (t) => {
  const head = 'virtual=192.0.2.10:80\n\treal=192.0.2.21:80 gate\n';
  const refused: [string, number, RegExp][] = [
    [`${head}\tscheduler=WRR\n`, 3, /scheduler=WRR: expected a scheduler name in lowercase letters/],
    [`${head}\tscheduler=\n`, 3, /expected a scheduler name in lowercase letters/],
    [`${head}\tpersistent=forever\n`, 3, /persistent=forever: expected a number of seconds/],
    [`${head}\tpersistent=0\n`, 3, /expected persistent=SECONDS \(1\.\.2678400: ipvsadm refuses -p 0/],
    [`${head}\tpersistent=300\n\tscheduler=sh\n\tschedflags= # none\n`, 5, /schedflags=: expected FLAG\[,FLAG\.\.\.\]/],
    [`${head}\tpersistent=300\n\tnetmask=255.255.255.0 # a /24\n`, 4, /expected a dotted quad like 255\.255\.255\.0, and nothing after it/],
    [`virtual6=[2001:db8::10]:80\n\treal6=[2001:db8::21]:80 gate\n\tpersistent=300\n\tnetmask=64 \n`, 4, /expected a prefix length 1\.\.128 on an IPv6 virtual, and nothing after it/],
    [`${head}\tchecktype=external\n\tcheckcommand=#"/usr/local/bin/check"\n`, 4, /checkcommand=: expected a value, got none/],
    [`${head}\tchecktype=negotiate\n\tlogin=""\n`, 4, /expected login="TEXT", not empty/],
    [`emailalert=""\n${head}`, 1, /expected an e-mail address, got none/],
    [`maintenancedir=\n${head}`, 1, /maintenancedir=: expected a value, got none/],
    [`smtp=#mail\n${head}`, 1, /expected an SMTP server's address or name/],
    // outside a block a # is part of the value: ldirectord reads the last two words of a fallback
    [`fallback=127.0.0.1:80 gate # sorry server\n${head}`, 1, /expected fallback=ADDRESS\[:port\] \[gate\|masq\|ipip\], got "127\.0\.0\.1:80 gate # sorry server"/],
    ['virtual6=[2001:d #b8::10]:80\n\treal6=[2001:db8::21]:80 gate\n', 1, /expected \[IPv6 address\]:port or a firewall mark/],
  ];
  for (const [text, line, says] of refused) {
    const e = t.throws(() => importLdirectord('ld.cf', text, new Report()), { instanceOf: InputError }, text);
    t.deepEqual(e?.problems.map((p) => p.line), [line], text);
    t.regex(e?.problems[0]?.message ?? '', says, text);
  }
  const secret = t.throws(() => importLdirectord('ld.cf', `${head}\tchecktype=negotiate\n\tpasswd="" hunter2\n`, new Report()), { instanceOf: InputError });
  t.false(secret!.problems[0]!.message.includes('hunter2'), secret!.problems[0]!.message);
  // what ldirectord takes, read as it reads it
  const read = (text: string) => {
    const report = new Report();
    return { ...importLdirectord('ld.cf', text, report), report };
  };
  const values = read(`checktimeout=4 # seconds\nlogfile="local0" # syslog\n${head}\tscheduler=wlc2\n\tpersistent=600s\n\tnetmask=255.255.255.0\n\tchecktype=negotiate\n\tlogin="monitor" # the check's user\n\treceive="ok"#comment\n`);
  t.like(values.services[0], { scheduler: 'wlc', persistence: { timeout: 600, netmask: '255.255.255.0' } });
  t.like(values.services[0]!.healthCheck, { login: 'monitor', receive: 'ok' });
  t.like(values.globals, { check_timeout: 4, logfile: 'local0' });
  const flags = read(`${head}\tscheduler=sh\n\tschedflags=sh-port sh-fallback\n`);
  t.deepEqual(flags.services[0]!.schedulerFlags, ['sh-port']);
  // virtual=: the first pattern matching the value's start; a comment after it is nothing, other text a note
  const commented = read('virtual=192.0.2.10:80 # web\n\treal=192.0.2.21:80 gate\n');
  t.like(commented.services[0]!.key, { address: '192.0.2.10', port: 80 });
  t.is(commented.report.lines.length, 0, commented.report.format());
  const mark = read('virtual=10.0.0.1\n\treal=192.0.2.21 gate\n');
  t.like(mark.services[0]!.key, { kind: 'fwmark', fwmark: 10 });
  t.true(mark.report.lines.some((l) => l.line === 1 && /ldirectord reads firewall mark 10 and leaves out the rest, "\.0\.0\.1"/.test(l.message)), mark.report.format());
  // udp by default only where the port is written 53 (or domain)
  t.like(read('virtual=192.0.2.12:053\n\treal=192.0.2.21:53 gate\n').services[0]!.key, { port: 53, protocol: 'tcp' });
  t.like(read('virtual=192.0.2.12:53\n\treal=192.0.2.21:53 gate\n').services[0]!.key, { port: 53, protocol: 'udp' });
});

// A word from a file used as a key into a lookup table: Object.prototype's names (constructor,
// toString, __proto__) are no entry, not a function travelling on as a value (an internal error before).
test('import: words that are Object.prototype\'s names (constructor, toString, __proto__) are unknown words, in every file the import reads', (t) => {
  for (const word of ['constructor', 'toString', '__proto__']) {
    const ld = t.throws(() => importLdirectord('ld.cf', `virtual=192.0.2.10:80\n\treal=192.0.2.21:80 ${word}\n`, new Report()), { instanceOf: InputError }, word);
    t.regex(ld?.problems[0]?.message ?? '', new RegExp(`expected the forwarding method gate, masq or ipip, got ${word}`));
    const fallback = t.throws(() => importLdirectord('ld.cf', `virtual=192.0.2.10:80\n\treal=192.0.2.21:80 gate\n\tfallback=127.0.0.1:80 ${word}\n`, new Report()), { instanceOf: InputError }, word);
    t.deepEqual(fallback?.problems.map((p) => p.line), [3], word);
    const server = (inner: string, outer = '') => `virtual_server 192.0.2.10 80 {\n    lb_kind DR\n    protocol TCP\n${outer}    real_server 192.0.2.21 80 {\n${inner}        TCP_CHECK { connect_timeout 3 }\n    }\n}\n`;
    for (const text of [server(`        ${word} { connect_timeout 3 }\n`), server(`        inhibit_on_failure ${word}\n`), server('', `    ${word} 5\n`)]) {
      const { yaml, report } = importInventory({ keepalived: { file: 'ka.conf', text } });
      t.true(report.lines.some((l) => l.kind === 'not expressed' && l.message.includes(word)), report.format());
      t.notThrows(() => load(yaml), text);
    }
    const listing = `IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn\n  -> RemoteAddress:Port\n${word}  192.0.2.10:80 wlc\n  -> 192.0.2.21:80  0  0  0  0\n`;
    const { report } = importInventory({ save: { file: 'save.txt', text: '-A -t 192.0.2.10:80 -s wlc\n-a -t 192.0.2.10:80 -r 192.0.2.21:80 -g -w 1\n', thresholds: { file: 'th.txt', text: listing } } });
    t.true(report.lines.some((l) => l.file === 'th.txt' && l.line === 4 && l.message.includes(`got "${word}"`)), report.format());
  }
});

test('import: a real server listed twice on one port is said so (not "on another port"); a fractional delay_loop is said to be one (not "not something the services say")', (t) => {
  const ld = new Report();
  importLdirectord('ld.cf', 'virtual=192.0.2.10:80\n\treal=192.0.2.21:80 gate\n\treal=192.0.2.21:80 gate 2\n\tchecktype=connect\n', ld);
  t.deepEqual(ld.lines.map((l) => [l.line, l.message]), [[3, 'real server 192.0.2.21:80: listed again (line 2); the first is the one imported']]);
  const { report } = importInventory({ keepalived: { file: 'ka.conf', text: 'virtual_server 192.0.2.10 80 {\n    protocol TCP\n    lb_kind DR\n    delay_loop 1.5\n    real_server 192.0.2.21 80 {\n        TCP_CHECK { connect_timeout 3 }\n    }\n}\n' } });
  t.deepEqual(report.lines.filter((l) => l.kind === 'not expressed').map((l) => [l.line, l.message]), [[4, 'virtual_server delay_loop 1.5: the inventory\'s interval is whole seconds']], report.format());
});

/** What the import says of an input: its report, or the problems that made it refuse the file. */
function said(inputs: ImportInputs): string {
  try {
    return importInventory(inputs).report.format();
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    return err.problems.map(formatProblem).join('\n');
  }
}

test('import: a malformed line holding a secret (ldirectord\'s passwd= or secret=, keepalived\'s auth_pass) is said at its file and line with its key, never with its value', (t) => {
  const SECRET = 'Hunter2pw';
  for (const line of [`passwd "${SECRET}"`, `passwd:"${SECRET}"`, `PASSWD ${SECRET}`, `passwd${SECRET}`, `secret "${SECRET}"`, `secret: ${SECRET} # RADIUS`]) {
    const text = `virtual=192.0.2.70:3306\n\treal=192.0.2.41:3306 gate\n\tservice=mysql\n\tlogin="lvs"\n\t${line}\n`;
    const out = said({ ldirectord: { file: 'ld.cf', text } });
    t.regex(out, new RegExp(`^ld\\.cf:5:1: .*${line.slice(0, 6).toLowerCase()}`, 'm'), line);
    t.false(out.includes(SECRET), `${line}: ${out}`);
  }
  const instance = (inside: string, auth = '') => `vrrp_instance VI_1 {\n    state MASTER\n    interface eth0\n    virtual_router_id 51\n${auth}${inside}    virtual_ipaddress {\n        192.0.2.10\n    }\n}\n`;
  const cases: [string, number][] = [
    [instance(`    auth_pass=${SECRET}\n`), 5],
    [instance(`    auth_pass:${SECRET}\n`), 5],
    [instance(`    auth_pass${SECRET}\n`), 5],
    [instance('', `    authentication {\n        auth_type PASS\n        auth_pass ${SECRET}\n    }\n`).replace('        192.0.2.10\n', `        192.0.2.10\n        auth_pass=${SECRET}\n`), 11],
    [`global_defs {\n    auth_pass=${SECRET}\n}\n`, 2],
    [`auth_pass ${SECRET}\n`, 1],
  ];
  for (const [text, line] of cases) {
    const out = said({ keepalived: { file: 'k.conf', text } });
    t.regex(out, new RegExp(`^k\\.conf:${line}:.*auth_pass`, 'm'), out);
    t.false(out.includes(SECRET), out);
  }
});

test('import --ldirectord: a negotiate check\'s fields (request, receive, login, passwd, database) under another checktype are left out with a note, as ldirectord never reads them there; the service stays (was dropped whole)', (t) => {
  const lines = '\trequest="index.html"\n\treceive="ok"\n\tlogin="mon"\n\tpasswd="Hunter2pw"\n\tdatabase="x"\n';
  for (const type of ['connect', 'ping', 'off']) {
    const text = `virtual=192.0.2.10:80\n\treal=192.0.2.21:80 gate\n\tservice=http\n\tchecktype=${type}\n${lines}`;
    const { yaml, imported, report } = importInventory({ ldirectord: { file: 'ld.cf', text } });
    t.is(imported.services.length, 1, report.format());
    t.like(load(yaml).services[0]!.healthCheck, { type, request: undefined, receive: undefined, login: undefined, passwdEnv: undefined, database: undefined });
    const out = report.format();
    for (const [line, key] of [[5, 'request'], [6, 'receive'], [7, 'login'], [8, 'passwd'], [9, 'database']] as const) {
      t.regex(out, new RegExp(`^ld\\.cf:${line}: note: ${key}= is read only by negotiate checks, and this virtual's checktype is ${type}`, 'm'), out);
    }
    t.false(out.includes('environment variable'), 'no password to set for a check that logs in nowhere');
    t.true(report.complete, out);
  }
  // a negotiate check keeps them all, and says where its password comes from
  const negotiate = importInventory({ ldirectord: { file: 'ld.cf', text: `virtual=192.0.2.10:3306\n\treal=192.0.2.21:3306 gate\n\tservice=mysql\n\tchecktype=negotiate\n${lines}` } });
  t.like(load(negotiate.yaml).services[0]!.healthCheck, { type: 'negotiate', request: 'index.html', receive: 'ok', login: 'mon', database: 'x' });
  t.regex(negotiate.report.format(), /^ld\.cf:8: note: passwd= \(its value is not copied\): .*environment variable/m);
});

test('import --ldirectord: an IPv6 range on a real6= line is an error at its line, as ldirectord\'s own ("Address range for IPv6 is not supported yet"); an IPv4 range is each address of it', (t) => {
  const v6 = said({ ldirectord: { file: 'ld.cf', text: 'virtual6=[2001:db8::10]:80\n\treal6=[2001:db8::21]->[2001:db8::23]:80 gate\n' } });
  t.regex(v6, /^ld\.cf:2:1: expected one IPv6 address per real6= line: ldirectord refuses a range there/m, v6);
  const { imported } = importInventory({ ldirectord: { file: 'ld.cf', text: 'virtual=192.0.2.10:80\n\treal=192.0.2.21->192.0.2.23:80 gate\n' } });
  t.deepEqual(imported.services[0]!.members.map((m) => m.address), ['192.0.2.21', '192.0.2.22', '192.0.2.23']);
});

test('import: a check command with arguments (ldirectord\'s checkcommand=, keepalived\'s misc_path) is reported by its program alone: the arguments may hold a password', (t) => {
  const SECRET = 'Hunter2pw';
  const ld = said({ ldirectord: { file: 'ld.cf', text: `virtual=192.0.2.10:80\n\treal=192.0.2.21:80 gate\n\tchecktype=external\n\tcheckcommand="/usr/local/bin/chk --password ${SECRET}"\n` } });
  t.regex(ld, /^ld\.cf:4: not expressed: checkcommand=\/usr\/local\/bin\/chk \(with arguments, not shown: they may hold a password\): ldirectord runs checkcommand as one program, the whole value its path .* the check always fails/m, ld);
  const k = said({ keepalived: { file: 'k.conf', text: `virtual_server 192.0.2.10 80 {\n lb_kind DR\n protocol TCP\n real_server 192.0.2.21 80 {\n  MISC_CHECK {\n   misc_path "/usr/local/bin/chk -p ${SECRET}"\n  }\n }\n}\n` } });
  t.regex(k, /^k\.conf:6: note: misc_path \/usr\/local\/bin\/chk \(with arguments, not shown: they may hold a password\): its arguments are copied into the inventory as health_check args; the import cannot tell a password among them/m, k);
  for (const out of [ld, k]) t.false(out.includes(SECRET), out);
});

test('import --keepalived: a trailing backslash continues a line only in a $NAME= definition, as keepalived\'s read_line; elsewhere the line ends there (keepalived: "Unknown keyword \'lvs_method\\\\\'") and a multi-line definition is its lines', (t) => {
  const text = `$REAL= \\
    real_server 192.0.2.21 80 { \\
        weight 3   \\
    }
virtual_server fwmark 9 {
    lvs_sched lc
    lvs_method \\
        TUN
    $REAL
}
`;
  const { yaml, report } = importInventory({ keepalived: { file: 'bs.conf', text } });
  const [service] = load(yaml).services;
  t.is(service!.forwarding, 'nat', 'no method line: keepalived\'s default');
  t.deepEqual(service!.realServers.map((m) => [m.address, m.weight]), [['192.0.2.21', 3]], 'the definition\'s lines, a block among them');
  t.deepEqual(report.lines.filter((l) => l.kind === 'not expressed').map((l) => [l.line, l.message]), [
    [7, 'virtual_server lvs_method\\: not something the inventory\'s services say'],
    [8, 'virtual_server TUN: not something the inventory\'s services say'],
  ], report.format());
});

test('import --keepalived: $NAME=value defines only with the = right after the name (check_definition); "$VIP = x" is a keyword keepalived does not know, and a virtual_server whose address it cannot read (an undefined $VIP) is one it skips: reported at its line, left out', (t) => {
  const text = `$VIP = 192.0.2.50
$GOOD=   192.0.2.51
virtual_server $VIP 80 {
    lb_kind DR
    protocol TCP
    real_server 192.0.2.21 80 {
    }
}
virtual_server $GOOD 80 {
    lb_kind DR
    protocol TCP
    real_server 192.0.2.21 80 {
    }
}
virtual_server 192.0.2.300 80 {
    real_server 192.0.2.21 80
}
`;
  const { yaml, report } = importInventory({ keepalived: { file: 'def.conf', text } });
  t.deepEqual(load(yaml).services.map((s) => s.vip), ['192.0.2.51']);
  const reported = report.lines.filter((l) => l.kind === 'not expressed');
  t.deepEqual(reported.map((l) => l.line), [1, 3, 15], report.format());
  t.regex(reported[0]!.message, /^\$VIP \.\.\.: not a definition for keepalived/);
  t.regex(reported[1]!.message, /virtual_server \$VIP 80 .*keepalived skips/);
});

test('import --keepalived: nopreempt where keepalived clears it (state MASTER: "nopreempt will not work with initial state MASTER - clearing"; priority 255) is not imported, and a note says so at its line; with BACKUP it is', (t) => {
  const text = (state: string, priority: number) => `vrrp_instance VI_1 {\n    ${state}\n    interface eth0\n    virtual_router_id 51\n    priority ${priority}\n    nopreempt\n    virtual_ipaddress {\n        192.0.2.10\n    }\n}\nvirtual_server 192.0.2.10 80 {\n    lb_kind DR\n    protocol TCP\n    real_server 192.0.2.21 80 {\n    }\n}\n`;
  for (const [state, priority, kept] of [['state MASTER', 150, false], ['state BACKUP', 255, false], ['state BACKUP', 100, true]] as const) {
    const { yaml, report } = importInventory({ keepalived: { file: 'np.conf', text: text(state, priority) } });
    t.is(load(yaml).vrrp.get('1')?.nopreempt ?? false, kept, `${state}, priority ${priority}`);
    t.is(report.lines.some((l) => l.kind === 'note' && l.line === 6 && /nopreempt .*keepalived clears it/.test(l.message)), !kept, report.format());
  }
});

test('import --keepalived: several state lines as keepalived\'s vrrp_state_handler reads them: MASTER always sets it, BACKUP after MASTER is ignored, another word is BACKUP (was: the last line won)', (t) => {
  const text = (states: string[]) => `vrrp_instance VI_1 {\n${states.map((x) => `    state ${x}\n`).join('')}    interface eth0\n    virtual_router_id 51\n    priority 150\n    virtual_ipaddress {\n        192.0.2.10\n    }\n}\n`;
  for (const [states, role, noteLine] of [
    [['MASTER', 'BACKUP'], 'primary', 3], [['BACKUP', 'MASTER'], 'primary', undefined], [['MASTER', 'master'], 'backup', 3], [['BACKUP'], 'backup', undefined],
  ] as const) {
    const { imported, report } = importInventory({ keepalived: { file: 's.conf', text: text([...states]) } });
    t.is(imported.vrrp?.role, role, states.join(', '));
    t.is(report.lines.find((l) => l.kind === 'note' && /^state /.test(l.message))?.line, noteLine, report.format());
  }
});

test('import --keepalived: a scheduler flag reads against the scheduler set by the lines before it, as keepalived\'s lbflags_handler ("sh-port only applies to sh scheduler - ignoring"): one before lb_algo/lvs_sched, or for another scheduler, is not imported and is reported at its line', (t) => {
  const vs = (vip: string, lines: string[]) => [`virtual_server ${vip} 80 {`, ...lines.map((l) => `    ${l}`), '    lb_kind DR', '    protocol TCP', '    real_server 192.0.2.21 80 {', '    }', '}'];
  const text = [
    ...vs('192.0.2.10', ['sh-port', 'lb_algo sh', 'sh-fallback']), // lines 1-9
    ...vs('192.0.2.11', ['lvs_sched mh', 'mh-port', 'sh-fallback']), // 10-18
    '',
  ].join('\n');
  const { yaml, report } = importInventory({ keepalived: { file: 'flags.conf', text } });
  t.deepEqual(load(yaml).services.map((s) => [s.scheduler, s.schedulerFlags]), [['sh', ['sh-fallback']], ['mh', ['mh-port']]]);
  t.deepEqual(report.lines.filter((l) => l.kind === 'not expressed').map((l) => l.line), [2, 13], report.format());
});

test('import --keepalived: a virtual_ipaddress of the other family than the instance\'s (set by its first address) is one keepalived ignores ("address family must match VRRP instance"): not held, reported at its line; virtual_ipaddress_excluded takes both', (t) => {
  const text = `vrrp_instance VI_1 {
    state MASTER
    interface eth0
    virtual_router_id 51
    priority 150
    virtual_ipaddress {
        192.0.2.10
        2001:db8::10
    }
    virtual_ipaddress_excluded {
        2001:db8::11
    }
}
virtual_server 192.0.2.10 80 {
    lb_kind DR
    protocol TCP
    real_server 192.0.2.21 80 {
    }
}
virtual_server 2001:db8::10 80 {
    lb_kind DR
    protocol TCP
    real_server 2001:db8::21 80 {
    }
}
virtual_server 2001:db8::11 80 {
    lb_kind DR
    protocol TCP
    real_server 2001:db8::21 80 {
    }
}
`;
  t.deepEqual(importKeepalived('fam.conf', text, new Report()).vrrp!.held.map((h) => h.address), ['192.0.2.10', '2001:db8::11']);
  const { report } = importInventory({ keepalived: { file: 'fam.conf', text } });
  const reported = report.lines.filter((l) => l.kind === 'not expressed');
  t.deepEqual(reported.map((l) => l.line), [8, 20], report.format());
  t.regex(reported[0]!.message, /address family must match VRRP instance/);
  t.regex(reported[1]!.message, /VIP 2001:db8::10 is not in vrrp_instance's virtual_ipaddress/);
});

test('import --ldirectord: where ldirectord.cf is silent, ldirectord\'s own defaults are imported where lvsplay\'s differ: the log file /var/log/ldirectord.log, and checktimeout and negotiatetimeout standing in for each other (5 and 30 when neither is set), so the rendered file logs and times out the same', (t) => {
  const render = (globals: string) => {
    const { yaml } = importInventory({ ldirectord: { file: 'ld.cf', text: `${globals}virtual=192.0.2.10:80\n\treal=192.0.2.21:80 gate\n\tchecktype=connect\n` } });
    const cluster = load(yaml);
    return renderLdirectordConf((n, d) => templates.render(n, d), cluster.directors[0]!, cluster.ldirectord, cluster.services, new Map());
  };
  const lone = render('negotiatetimeout=20\n');
  t.regex(lone, /^logfile="\/var\/log\/ldirectord\.log"$/m);
  t.regex(lone, /^checktimeout=20$/m, 'connect checks time out after negotiatetimeout, as ldirectord\'s checktimeout falls back to it');
  const silent = render('');
  t.regex(silent, /^checktimeout=5$/m);
  t.regex(silent, /^negotiatetimeout=30$/m, 'negotiate checks: ldirectord\'s 30 s, not the checktimeout lvsplay writes');
  const set = render('logfile="local1"\nchecktimeout=7\n');
  t.regex(set, /^logfile="local1"$/m);
  t.regex(set, /^checktimeout=7$/m);
  t.notRegex(set, /negotiatetimeout/, 'checktimeout alone: ldirectord uses it for both, and so does the rendered file');
});

test('import: the twos scheduler (weighted random two choices: keepalived since 2.2.5, ldirectord passes any lowercase name, ipvsadm saves it as -s twos) is imported from each reader, not reported as unknown (was: the service dropped)', (t) => {
  const inputs: [string, ImportInputs][] = [
    ['ipvsadm save', { save: { file: 'twos.save', text: '-A -t 192.0.2.10:80 -s twos\n-a -t 192.0.2.10:80 -r 192.0.2.21:80 -g -w 3\n' } }],
    ['ldirectord.cf', { ldirectord: { file: 'twos.cf', text: 'virtual=192.0.2.10:80\n\treal=192.0.2.21:80 gate 3\n\tscheduler=twos\n\tchecktype=connect\n' } }],
    ['keepalived.conf', { keepalived: { file: 'twos.conf', text: 'virtual_server 192.0.2.10 80 {\n    lvs_sched twos\n    lb_kind DR\n    protocol TCP\n    real_server 192.0.2.21 80 {\n        weight 3\n    }\n}\n' } }],
  ];
  for (const [what, input] of inputs) {
    const { yaml, report } = importInventory(input);
    t.deepEqual(load(yaml).services.map((s) => [s.scheduler, s.realServers.map((m) => m.weight)]), [['twos', [3]]], `${what}: ${report.format()}`);
    t.false(report.lines.some((l) => /scheduler/.test(l.message)), `${what}: ${report.format()}`);
  }
});

test('lvsplay import: a file saved with a UTF-8 byte order mark is read as its program reads it, the mark part of the first word: keepalived ignores that block (reported, exit 3), ldirectord and ipvsadm -R refuse the line (exit 1); the mark is shown as \\ufeff (was: dropped, and everything imported)', (t) => {
  const dir = tempDir('lvsplay-import-bom-');
  try {
    const write = (name: string, text: string) => {
      const file = join(dir, name);
      writeFileSync(file, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]));
      return file;
    };
    const ka = lvsplay('--keepalived', write('keepalived.conf', 'virtual_server 192.0.2.10 80 {\n    lvs_sched rr\n    lb_kind DR\n    protocol TCP\n    real_server 192.0.2.21 80 {\n        weight 3\n    }\n}\nvirtual_server 192.0.2.11 80 {\n    lb_kind DR\n    protocol TCP\n    real_server 192.0.2.21 80 {\n    }\n}\n'));
    t.is(ka.status, 3, ka.stderr);
    t.regex(ka.stderr, /keepalived\.conf:1: not expressed: \\ufeffvirtual_server \{ \.\.\. \}: the file starts with a byte order mark \(U\+FEFF\), which keepalived reads as part of this keyword/);
    t.deepEqual(load(ka.stdout).services.map((s) => s.vip), ['192.0.2.11'], 'only the block keepalived reads');
    const ld = lvsplay('--ldirectord', write('ldirectord.cf', 'virtual=192.0.2.10:80\n\treal=192.0.2.21:80 gate 3\n\tchecktype=connect\n'));
    t.is(ld.status, 1, ld.stderr);
    t.regex(ld.stderr, /ldirectord\.cf:1:1: expected key=value \(ldirectord\.cf syntax\), got "\\ufeffvirtual=192\.0\.2\.10:80": the file starts with a byte order mark/);
    const save = lvsplay('--ipvsadm-save', write('rules.save', '-A -t 192.0.2.10:80 -s rr\n-a -t 192.0.2.10:80 -r 192.0.2.21:80 -g -w 1\n'));
    t.is(save.status, 1, save.stderr);
    t.regex(save.stderr, /rules\.save:1:1: expected -A or -a .*got "\\ufeff-A"/);
    for (const r of [ka, ld, save]) t.false(`${r.stdout}${r.stderr}`.includes('\ufeff'), 'no raw mark on the terminal');
  } finally {
    cleanup(dir);
  }
});

test('import: ldirectord.cf and an ipvsadm save split words where Perl\'s \\s and C\'s isspace do (space, tab, \\v, \\f, \\r), not at a no-break space or a byte order mark, which ldirectord and ipvsadm -R refuse (was: JavaScript\'s \\s, and the line imported)', (t) => {
  const cf = (gap: string) => `virtual=192.0.2.10:80\n\treal=192.0.2.21:80${gap}gate${gap}3\n\tchecktype=connect\n`;
  for (const gap of [' ', '\t', '\v', '\f', ' \r ']) {
    const { yaml } = importInventory({ ldirectord: { file: 'ld.cf', text: cf(gap) } });
    t.deepEqual(load(yaml).services.map((s) => [s.forwarding, s.realServers.map((m) => m.weight)]), [['dr', [3]]], JSON.stringify(gap));
  }
  const save = (gap: string) => `-A -t 192.0.2.10:80 -s rr\n-a -t 192.0.2.10:80 -r 192.0.2.21:80${gap}-g -w${gap}4\n`;
  for (const gap of [' ', '\t', '\v', '\f']) {
    const { yaml } = importInventory({ save: { file: 's.save', text: save(gap) } });
    t.deepEqual(load(yaml).services.map((s) => s.realServers.map((m) => m.weight)), [[4]], JSON.stringify(gap));
  }
  for (const odd of ['\u00a0', '\ufeff', '\u2003', '\u200b']) {
    const ld = t.throws(() => importLdirectord('ld.cf', cf(odd), new Report()), { instanceOf: InputError }, JSON.stringify(odd));
    t.deepEqual(ld?.problems.map((p) => p.line), [2], ld?.problems.map(formatProblem).join('\n'));
    const ipvs = t.throws(() => importInventory({ save: { file: 's.save', text: save(odd) } }), { instanceOf: InputError }, JSON.stringify(odd));
    t.deepEqual(ipvs?.problems.map((p) => p.line), [2], ipvs?.problems.map(formatProblem).join('\n'));
    t.false(ipvs!.problems.map(formatProblem).join('\n').includes(odd), 'the character is shown escaped');
  }
});

test('import --keepalived: misc_path as keepalived\'s misc_path_handler reads it: its first word (one quoted string keeps its blanks) split into the command and its args, later words ignored (a note); a member without the service\'s args gets args: []; args the inventory refuses are reported; the rendered keepalived.conf reads back the same (was: a command with arguments lost its whole check)', (t) => {
  const member = (address: string, misc: string) => [`    real_server ${address} 3306 {`, '        MISC_CHECK {', `            misc_path ${misc}`, '            misc_timeout 5', '        }', '    }'];
  const text = [
    'virtual_server 192.0.2.10 3306 {', '    lvs_sched rr', '    lb_kind DR', '    protocol TCP', // 1-4
    ...member('192.0.2.21', '"/usr/local/bin/check_db.sh 192.0.2.21 3306"'), // 5-10
    ...member('192.0.2.22', '"/usr/local/bin/check_db.sh 192.0.2.22 3306"'), // 11-16
    ...member('192.0.2.23', '/usr/local/bin/check_db.sh 192.0.2.23 3306'), // 17-22: keepalived takes the first word only
    '}', // 23
    'virtual_server 192.0.2.11 3306 {', '    lb_kind DR', '    protocol TCP', // 24-26
    ...member('192.0.2.21', '"/usr/local/bin/check_db.sh a;b"'), // 27-32
    '}', '',
  ].join('\n');
  const { yaml, report, imported } = importInventory({ keepalived: { file: 'misc.conf', text } });
  const c = load(yaml);
  const db = c.services.find((s) => s.vip === '192.0.2.10')!;
  t.deepEqual([db.healthCheck?.command, db.healthCheck?.args], ['/usr/local/bin/check_db.sh', ['192.0.2.21', '3306']]);
  t.deepEqual(db.realServers.map((m) => m.check?.args), [undefined, ['192.0.2.22', '3306'], []]);
  const lines = (kind: string) => report.lines.filter((l) => l.kind === kind).map((l) => l.line).sort((a, b) => a - b);
  t.deepEqual(report.lines.filter((l) => l.kind === 'note' && l.message.startsWith('misc_path')).map((l) => l.line), [7, 13, 19], report.format());
  t.regex(report.format(), /misc\.conf:19: note: misc_path \/usr\/local\/bin\/check_db\.sh: keepalived reads the first word only .* ignores the 2 word\(s\) after it/);
  t.deepEqual(lines('not expressed'), [24, 29], report.format()); // 24: the service then has a misc check without its command: left out
  t.regex(report.format(), /misc\.conf:29: not expressed: misc_path \/usr\/local\/bin\/check_db\.sh \(with arguments, not shown: they may hold a password\): its arguments: expected a word of letters/);
  t.false(c.services.some((s) => s.vip === '192.0.2.11' && s.healthCheck?.command !== undefined), 'no check command without its arguments');
  // Rendered for a director and read back: the same checks.
  const director = c.directors[0]!;
  const again = importKeepalived('again.conf', templates.render('keepalived/keepalived.conf.hbs', keepalivedConfData(c, director, undefined)), new Report());
  const checks = (services: ImportedService[]) => services.filter((s) => s.key.kind === 'inet' && s.key.address === '192.0.2.10').map((s) => [s.healthCheck, s.members.map((m) => m.check)]);
  t.deepEqual(checks(again.services), checks(imported.services));
});

test('import --keepalived: a DR/TUN real server or sorry server of a firewall-mark service loses its port, as keepalived clears it (its checker connects to the written port: the check\'s port); a sorry server of the other family, not tunnelled, is skipped as keepalived skips it', (t) => {
  const text = ['virtual_server fwmark 7 {', '    lb_kind DR', '    sorry_server 192.0.2.30 80', // 1-3
    '    real_server 192.0.2.21 80 {', '        TCP_CHECK {', '            connect_timeout 3', '        }', '    }', // 4-8
    '    real_server 192.0.2.22 80 {', '        TCP_CHECK {', '            connect_timeout 3', '            connect_port 8080', '        }', '    }', '}', // 9-15
    'virtual_server 192.0.2.41 80 {', '    lb_kind DR', '    protocol TCP', '    sorry_server 2001:db8::30 80', '    real_server 192.0.2.21 80', '}', // 16-21
    'virtual_server 192.0.2.42 80 {', '    lb_kind DR', '    protocol TCP', '    sorry_server 2001:db8::30 80', '    sorry_server_lvs_method TUN', '    real_server 192.0.2.21 80', '}', ''].join('\n'); // 22-28
  const { yaml, report } = importInventory({ keepalived: { file: 'fw.conf', text } });
  const c = load(yaml);
  const fw = c.services.find((s) => s.fwmark === 7)!;
  t.deepEqual(fw.realServers.map((m) => [m.port, m.check?.port ?? fw.healthCheck?.port]), [[0, 80], [0, 8080]]);
  t.deepEqual(fw.fallback, { address: '192.0.2.30', forwarding: 'dr' });
  t.deepEqual(c.services.filter((s) => s.vip !== undefined).map((s) => [s.vip, s.fallback?.address]), [['192.0.2.41', undefined], ['192.0.2.42', '2001:db8::30']]);
  const said = (kind: string) => report.lines.filter((l) => l.kind === kind).map((l) => [l.line, l.message.replace(/:.*/, '')]);
  t.deepEqual(said('note').filter(([line]) => (line as number) < 16), [[3, 'sorry_server 192.0.2.30 80'], [4, 'port 80 of a DR real server of a firewall-mark service'], [9, 'port 80 of a DR real server of a firewall-mark service']], report.format());
  t.deepEqual(said('not expressed'), [[19, 'sorry_server 2001']], report.format());
});

test('import --keepalived: the service\'s check is the first real server\'s checker that every other can be said over, so a field only the first sets is its own check (was: the second "lacks" it, its checker not expressed); the rendered keepalived.conf reads back the same', (t) => {
  const member = (address: string, lines: string[]) => [`    real_server ${address} 80 {`, '        TCP_CHECK {', ...lines.map((l) => `            ${l}`), '        }', '    }'];
  const text = ['virtual_server 192.0.2.40 80 {', '    lb_kind DR', '    protocol TCP', ...member('192.0.2.21', ['connect_timeout 1', 'retry 3']), ...member('192.0.2.22', ['retry 3']), ...member('192.0.2.23', ['retry 3', 'connect_port 8080']), '}', ''].join('\n');
  const { yaml, report, imported } = importInventory({ keepalived: { file: 'base.conf', text } });
  t.true(report.complete, report.format());
  const c = load(yaml);
  t.like(c.services[0]!.healthCheck, { type: 'connect', retry: 3, port: undefined, timeoutS: undefined });
  t.deepEqual(c.services[0]!.realServers.map((m) => [m.check?.timeoutS, m.check?.port]), [[1, undefined], [undefined, undefined], [undefined, 8080]]);
  const again = importKeepalived('again.conf', templates.render('keepalived/keepalived.conf.hbs', keepalivedConfData(c, c.directors[0]!, undefined)), new Report());
  t.deepEqual(again.services.map((s) => [s.healthCheck, s.members.map((m) => m.check)]), imported.services.map((s) => [s.healthCheck, s.members.map((m) => m.check)]));
});

test('import --keepalived: an auth_pass longer than the 8 characters keepalived uses says to set those; one lvsplay cannot write is reported (render would refuse it); no message shows the value', (t) => {
  const conf = (pass: string) => ['vrrp_instance VI_1 {', '    state MASTER', '    interface eth0', '    virtual_router_id 51', '    priority 150', '    authentication {', '        auth_type PASS',
    `        auth_pass ${pass}`, '    }', '    virtual_ipaddress {', '        192.0.2.40', '    }', '}', 'virtual_server 192.0.2.40 80 {', '    lb_kind DR', '    protocol TCP', '    real_server 192.0.2.21 80', '}', ''].join('\n');
  const said = (pass: string) => {
    const { yaml, report } = importInventory({ keepalived: { file: 'a.conf', text: conf(pass) } });
    const shown = `${yaml}\n${report.format()}`;
    for (const part of pass.replaceAll('"', '').split(' ')) t.false(shown.includes(part), `${pass}: the value is shown`);
    return report.lines.filter((l) => l.line === 8).map((l) => `${l.kind}: ${l.message}`);
  };
  const plain = said('Sup3rPw9');
  t.is(plain.length, 1, plain.join('\n'));
  t.notRegex(plain[0]!, /first 8 characters/);
  const long = said('Sup3rPw9xyzw');
  t.deepEqual(long.map((l) => l.replace(/:.*/, '')), ['note'], long.join('\n'));
  t.regex(long[0]!, /set LVSPLAY_VRRP_PASS to it, to its first 8 characters: keepalived uses no more/);
  for (const pass of ['"Qw e#rty"', 'Qw$rtyu', 'Qwé']) {
    const lines = said(pass);
    t.deepEqual(lines.map((l) => l.replace(/:.*/, '')), ['note', 'not expressed'], `${pass}: ${lines.join('\n')}`);
    t.regex(lines[1]!, /auth_pass: it has a character lvsplay does not write into keepalived\.conf .* give the pair a new password in LVSPLAY_VRRP_PASS/);
  }
});

test('import --keepalived: sorry_server_inhibit says nothing new where keepalived would set it itself (the sorry server is one of the real servers, inhibit_on_failure on), and is reported elsewhere', (t) => {
  const vs = (vip: string, sorry: string, inhibit: string) => [`virtual_server ${vip} 80 {`, '    lb_kind DR', '    protocol TCP', inhibit, `    sorry_server ${sorry} 80`, '    sorry_server_inhibit',
    '    real_server 192.0.2.21 80 {', '        TCP_CHECK {', '        }', '    }', '}'];
  const text = [...vs('192.0.2.40', '192.0.2.21', '    inhibit_on_failure'), ...vs('192.0.2.41', '192.0.2.30', '    inhibit_on_failure'), ...vs('192.0.2.42', '192.0.2.21', '    alpha'), ''].join('\n');
  const { report } = importInventory({ keepalived: { file: 'si.conf', text } });
  t.deepEqual(report.lines.filter((l) => l.message.startsWith('sorry_server_inhibit')).map((l) => [l.kind, l.line]), [['not expressed', 17], ['not expressed', 28]], report.format());
});

test('import --keepalived: a quoted regex reads as keepalived\'s alloc_strvec_quoted_escaped reads it (\\042 and \\x22 a double quote, \\x and all its hex digits one byte, \\\\ a backslash, \\d a d); the one lvsplay renders (a quote as \\042) reads back the same', (t) => {
  const text = ['virtual_server 192.0.2.40 80 {', '    lb_kind DR', '    protocol TCP', '    real_server 192.0.2.21 80 {', '        HTTP_GET {', '            url {', '                path /',
    String.raw`                regex "say \042hi\x22 [{] \\d+ \d \x4142 \\\\ }"`, '            }', '        }', '    }', '}', ''].join('\n');
  const { yaml, imported } = importInventory({ keepalived: { file: 're.conf', text } });
  const c = load(yaml);
  t.is(c.services[0]!.healthCheck?.regex, String.raw`say "hi" [{] \d+ d B \\ }`);
  const again = importKeepalived('again.conf', templates.render('keepalived/keepalived.conf.hbs', keepalivedConfData(c, c.directors[0]!, undefined)), new Report());
  t.deepEqual(again.services.map((s) => s.healthCheck?.regex), imported.services.map((s) => s.healthCheck?.regex));
});

test('import --keepalived: only regex and misc_path read backslash escapes in a quoted word, as keepalived re-reads just those lines with alloc_strvec_quoted_escaped; a quoted path or virtualhost is read as alloc_strvec_r reads it, its backslashes its own (was: "/\\x41" imported as "/A")', (t) => {
  const text = ['virtual_server 192.0.2.40 80 {', '    lb_kind DR', '    protocol TCP', '    real_server 192.0.2.21 80 {', '        HTTP_GET {', '            url {',
    String.raw`                path "/\x41"`, String.raw`                regex "\x41"`, '            }', '        }', '    }', '}', ''].join('\n');
  const { imported, report } = importInventory({ keepalived: { file: 'esc.conf', text } });
  const check = imported.services[0]!.healthCheck;
  t.is(check?.regex, 'A', 'the regex line is read with its escapes');
  t.not(check?.path, '/A', 'the path is not');
  t.true(report.lines.some((l) => l.line === 7 && l.message.includes(String.raw`/\x41`)), report.format());
});

test('import --keepalived: the classic NAT director, a vrrp_sync_group of the VIPs\' instance and one holding the real servers\' gateway on the inside interface, is one lvsplay instance: nat_gateway on that interface, the real servers\' gateway, nothing left over (was: the second instance reported and dropped, the gateway guessed as the director)', (t) => {
  const instance = (name: string, ifname: string, id: number, address: string) => [`vrrp_instance ${name} {`, '    state MASTER', `    interface ${ifname}`, `    virtual_router_id ${id}`, '    priority 150', '    virtual_ipaddress {', `        ${address}`, '    }', '}'];
  const service = ['virtual_server 192.0.2.100 80 {', '    lb_algo wlc', '    lb_kind NAT', '    protocol TCP',
    '    real_server 198.51.100.11 8080 {', '        weight 1', '    }', '    real_server 198.51.100.12 8080 {', '        weight 1', '    }', '}'];
  const group = ['vrrp_sync_group VG1 {', '    group {', '        VI_EXT', '        VI_INT', '    }', '}']; // lines 1-6
  const text = [...group, ...instance('VI_EXT', 'eth0', 51, '192.0.2.100/32 dev eth0'), ...instance('VI_INT', 'eth1', 52, '198.51.100.1/24'), ...service, ''].join('\n');
  const { yaml, report } = importInventory({ keepalived: { file: 'nat.conf', text } });
  t.true(report.complete, report.format());
  t.true(report.lines.some((l) => l.kind === 'note' && l.line === 16 && /vrrp_instance VI_INT: in vrrp_sync_group VG1 with VI_EXT \(line 7\)/.test(l.message)), report.format());
  const c = load(yaml);
  const lb = c.directors[0]!;
  t.deepEqual(lb.interfaces.map((i) => i.name), ['eth0', 'eth1']);
  t.regex(lb.interfaces[1]!.address, /^198\.51\.100\.\d+\/24$/);
  t.deepEqual([c.natGateway?.address, c.natGateway?.prefix], ['198.51.100.1', 24]);
  t.deepEqual(c.realServers.map((r) => r.gateway), ['198.51.100.1', '198.51.100.1']);
  t.regex(templates.render('keepalived/keepalived.conf.hbs', keepalivedConfData(c, lb, undefined)), /^\s+198\.51\.100\.1\/24 dev eth1$/m, 'held on eth1, as keepalived held it');
  // Two instances in no common group: the second is still one lvsplay does not write.
  const apart = importInventory({ keepalived: { file: 'apart.conf', text: [...instance('VI_EXT', 'eth0', 51, '192.0.2.100/32'), ...instance('VI_INT', 'eth1', 52, '198.51.100.1/24'), ...service, ''].join('\n') } });
  t.true(apart.report.lines.some((l) => l.kind === 'not expressed' && l.line === 10 && /vrrp_instance VI_INT: lvsplay writes one VRRP instance per director pair/.test(l.message)), apart.report.format());
});

test('import --keepalived: a vrrp_sync_group\'s merged instance reports what lvsplay cannot say (track_script, track_interface, an address keepalived would not hold), not its pair settings, which are the first instance\'s (was: read with a throwaway report, those lines lost and the import called complete)', (t) => {
  const text = ['vrrp_sync_group VG1 {', '    group {', '        VI_EXT', '        VI_INT', '    }', '}', // 1-6
    'vrrp_instance VI_EXT {', '    state MASTER', '    interface eth0', '    virtual_router_id 51', '    priority 150', '    virtual_ipaddress {', '        192.0.2.100/32 dev eth0', '    }', '}', // 7-15
    'vrrp_instance VI_INT {', '    state BACKUP', '    interface eth1', '    virtual_router_id 52', '    priority 255', '    advert_int 0.5', // 16-21
    '    track_interface {', '        eth0', '    }', '    track_script {', '        chk_gw', '    }', // 22-27
    '    virtual_ipaddress {', '        198.51.100.1/24', '        2001:db8::1/64', '    }', '}', // 28-32
    'virtual_server 192.0.2.100 80 {', '    lb_kind NAT', '    protocol TCP', '    real_server 198.51.100.11 8080 {', '    }', '}', ''].join('\n');
  const { report } = importInventory({ keepalived: { file: 'sync.conf', text } });
  const notExpressed = report.lines.filter((l) => l.kind === 'not expressed');
  t.deepEqual(notExpressed.map((l) => l.line).sort((a, b) => a - b), [22, 25, 30], report.format());
  t.regex(report.format(), /sync\.conf:25: not expressed: vrrp_instance track_script: not in the inventory's VRRP settings/);
  t.regex(report.format(), /sync\.conf:30: not expressed: 2001:db8::1: keepalived ignores it \("address family must match VRRP instance"\)/);
  t.regex(report.format(), /sync\.conf:16: note: vrrp_instance VI_INT: in vrrp_sync_group VG1 with VI_EXT \(line 7\).* its own state, virtual_router_id, priority, advert_int are not imported \(the pair's are VI_EXT's\)/);
  t.false(report.complete);
});

test('import --keepalived: the unicast NAT director\'s sync-group instance on the inside interface gives that interface its unicast_src_ip, the director\'s own address there, and the peer\'s its one unicast_peer (was: both guessed)', (t) => {
  const instance = (name: string, ifname: string, id: number, self: string, peer: string, address: string) => [`vrrp_instance ${name} {`, '    state MASTER', `    interface ${ifname}`, `    virtual_router_id ${id}`, '    priority 150',
    `    unicast_src_ip ${self}`, '    unicast_peer {', `        ${peer}`, '    }', '    virtual_ipaddress {', `        ${address}`, '    }', '}'];
  const text = ['vrrp_sync_group VG1 {', '    group {', '        VI_EXT', '        VI_INT', '    }', '}',
    ...instance('VI_EXT', 'eth0', 51, '192.0.2.2', '192.0.2.3', '192.0.2.100/32'), ...instance('VI_INT', 'eth1', 52, '198.51.100.9', '198.51.100.8', '198.51.100.1/24'),
    'virtual_server 192.0.2.100 80 {', '    lb_kind NAT', '    protocol TCP', '    real_server 198.51.100.11 8080 {', '    }', '    real_server 198.51.100.12 8080 {', '    }', '}', ''].join('\n');
  const { yaml, report } = importInventory({ keepalived: { file: 'u.conf', text } });
  t.true(report.complete, report.format());
  t.regex(report.format(), /u\.conf:20: note: vrrp_instance VI_INT: .* its source address 198\.51\.100\.9 is the director's own on eth1; its unicast_peer 198\.51\.100\.8 is 192\.0\.2\.3's on eth1; its own state, virtual_router_id, priority are not imported/);
  const c = load(yaml);
  const [self, peer] = c.directors;
  t.deepEqual(self!.interfaces.map((i) => [i.name, i.address]), [['eth0', '192.0.2.2/24'], ['eth1', '198.51.100.9/24']]);
  t.deepEqual([peer!.address, ...peer!.interfaces.map((i) => [i.name, i.address])], ['192.0.2.3', ['eth0', '192.0.2.3/24'], ['eth1', '198.51.100.8/24']]);
  t.regex(yaml, /address its unicast_src_ip/);
  t.regex(yaml, /address its unicast_peer/);
  // More than one peer: which is which is not said; the others' inside addresses are guessed, apart from the director's.
  const three = importInventory({ keepalived: { file: 'u3.conf', text: text.replace('        192.0.2.3\n', '        192.0.2.3\n        192.0.2.4\n').replace('        198.51.100.8\n', '        198.51.100.8\n        198.51.100.7\n') } });
  const others = load(three.yaml).directors.slice(1).map((d) => d.interfaces[1]!.address);
  t.is(others.length, 2);
  t.false(others.includes('198.51.100.9/24'));
  t.regex(three.yaml, /GUESSED in the gateway's subnet/);
});

test('import --keepalived: mcast_src_ip is the director\'s own address, as unicast_src_ip (keepalived\'s vrrp_srcip_handler sets the adverts\' source for both); the adverts stay multicast (was: reported as a setting the inventory lacks, the address guessed)', (t) => {
  const text = ['vrrp_instance VI_1 {', '    state MASTER', '    interface eth0', '    virtual_router_id 51', '    priority 150', '    mcast_src_ip 192.0.2.7', '    virtual_ipaddress {', '        192.0.2.100', '    }', '}',
    'virtual_server 192.0.2.100 80 {', '    lb_kind DR', '    protocol TCP', '    real_server 192.0.2.21 80 {', '    }', '}', ''].join('\n');
  const { yaml, report } = importInventory({ keepalived: { file: 'm.conf', text } });
  t.false(report.lines.some((l) => l.line === 6), report.format());
  const c = load(yaml);
  t.deepEqual([c.directors[0]!.address, c.directors[0]!.interface.address], ['192.0.2.7', '192.0.2.7/24']);
  t.false([...c.vrrp.values()][0]!.unicast);
});
