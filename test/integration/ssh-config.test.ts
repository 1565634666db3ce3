/**
 * The ssh client config as ssh reads it: each case is run through `ssh -G -F FILE [-l USER] HOST`
 * (OpenSSH's own reading of the file, printed; nothing is contacted) and through lvsplay's
 * resolveRoute, and the two must say the same host, port, user, identity file, host key alias and
 * jump. The listed cases are checked against ssh first, so a wrong expectation fails too.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SshConfig } from '../../src/inventory/model.js';
import { resolveRoute } from '../../src/transport/route.js';
import { TransportError } from '../../src/transport/types.js';
import { seededRandom } from '../helpers/random.js';

let dir = '';
test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lvsplay-sshcfg-'));
});
test.after.always(async () => {
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

interface Resolved {
  host: string;
  port: number;
  user: string;
  identityFile?: string;
  hostKeyAlias?: string;
  jump?: string;
}

/** ssh's default identity files, which ssh -G lists when the config names none. */
const DEFAULT_IDENTITY = /^~\/\.ssh\/id_(rsa|ecdsa|ecdsa_sk|ed25519|ed25519_sk|xmss|dsa)$/;

/**
 * What `ssh -G` resolves, or 'error' when ssh refuses the file (or would run a proxy command lvsplay
 * cannot). A ProxyJump is resolved as ssh runs it: `ssh [-l user] [-p port] jumphost` with the same file.
 */
function bySsh(file: string, host: string, user: string, port?: number, nested = false): Resolved | 'error' {
  const run = spawnSync('ssh', ['-G', '-F', file, ...(user === 'root' ? [] : ['-l', user]), ...(port === undefined ? [] : ['-p', String(port)]), host], { encoding: 'utf8' });
  if (run.status !== 0) return 'error';
  const get = (key: string) => new RegExp(`^${key} (.*)$`, 'm').exec(run.stdout)?.[1];
  const proxyCommand = get('proxycommand');
  const jump = get('proxyjump');
  if (proxyCommand !== undefined && proxyCommand !== 'none' && jump === undefined) return 'error';
  // ssh -G prints the file as written; ssh expands ~ (and %-tokens, none here) when it loads it
  const identityFile = [...run.stdout.matchAll(/^identityfile (.*)$/gm)].map((m) => m[1]!).find((f) => !DEFAULT_IDENTITY.test(f))?.replace(/^~\//, `${homedir()}/`);
  const alias = get('hostkeyalias');
  let via: string | undefined;
  // ssh -G prints no proxyjump for `ProxyJump none`; a printed `none` is a jump host of that name
  // (`ProxyJump none # comment`: parse_jump compares the line before cutting the comment)
  if (jump !== undefined) {
    const [, jumpUser, jumpHost = '', jumpPort] = /^(?:([^@]+)@)?([^:]+)(?::(\d+))?$/.exec(jump) ?? [];
    // lvsplay takes one hop: a jump host the file sends through a jump again is a chain (or,
    // through itself, a loop ssh refuses), and lvsplay refuses it
    if (nested) return 'error';
    const resolved = bySsh(file, jumpHost, jumpUser ?? 'root', jumpPort === undefined ? undefined : Number(jumpPort), true);
    if (resolved === 'error') return 'error';
    via = `${resolved.user}@${resolved.host}:${resolved.port}`;
  }
  return {
    host: get('hostname')!,
    port: Number(get('port')),
    user: get('user')!,
    ...(identityFile !== undefined && { identityFile }),
    ...(alias !== undefined && { hostKeyAlias: alias.toLowerCase() }),
    ...(via !== undefined && { jump: via }),
  };
}

/** lvsplay's route for an inventory host with that config_file (port 22 and user root are the inventory's defaults). */
const routeFor = (file: string, host = 'db1', user = 'root') => resolveRoute('h', { host, port: 22, user, configFile: file } as SshConfig);

/** What lvsplay resolves for an inventory host with that config_file. */
async function byLvsplay(file: string, host: string, user: string): Promise<Resolved | 'error'> {
  try {
    const { target, jump } = await routeFor(file, host, user);
    return {
      host: target.host,
      port: target.port,
      user: target.user,
      ...(target.identityFile !== undefined && { identityFile: target.identityFile }),
      ...(target.hostKeyAlias !== undefined && { hostKeyAlias: target.hostKeyAlias.toLowerCase() }),
      ...(jump !== undefined && { jump: `${jump.user}@${jump.host}:${jump.port}` }),
    };
  } catch (err) {
    // a refusal with its reason, never an internal error taken for one
    if (err instanceof TransportError) return 'error';
    throw err;
  }
}

let files = 0;
async function configFile(text: string): Promise<string> {
  const file = join(dir, `config-${files++}`);
  await writeFile(file, text);
  return file;
}

test('listed configs resolve as ssh -G resolves them: patterns, Match, Include, first value wins, quoting', async (t) => {
  const included = join(dir, 'inc.d');
  await mkdir(included, { recursive: true });
  await writeFile(join(included, 'a.conf'), 'Host web?\n  User from-a\n');
  await writeFile(join(included, 'b.conf'), 'Host *\n  Port 2201\n');
  const cases: [string, string, string, Partial<Resolved> | 'error'][] = [
    // ? is one character; a comma is part of a Host pattern (Match takes comma lists)
    ['Host db?\n  Port 2200\n', 'db', 'root', { port: 22 }],
    ['Host db?\n  Port 2200\n', 'db1', 'root', { port: 2200 }],
    ['Host web1,db1\n  Port 2200\n', 'db1', 'root', { port: 22 }],
    ['Match host web1,db1\n  Port 2200\n', 'db1', 'root', { port: 2200 }],
    // negation: a Host line, and a Match criterion
    ['Host * !db*\n  Port 2200\n', 'db1', 'root', { port: 22 }],
    ['Match !host other\n  Port 2200\n', 'db1', 'root', { port: 2200 }],
    ['Match !user root\n  Port 2200\n', 'db1', 'root', { port: 22 }],
    // Match host sees HostName as set so far, %h expanded, whatever case the keyword is in
    ['HOSTNAME %h.example.org\nMatch host *.example.org\n  Port 2200\n', 'db1', 'root', { host: 'db1.example.org', port: 2200 }],
    ['Match originalhost db1\n  HostName real-%h\n', 'db1', 'root', { host: 'real-db1' }],
    // Match user sees -l (a non-default inventory user) and earlier User lines
    ['User ops\nMatch user ops\n  Port 2200\n', 'db1', 'root', { user: 'ops', port: 2200 }],
    ['Match user deploy\n  Port 2200\n', 'db1', 'deploy', { user: 'deploy', port: 2200 }],
    // the first value obtained wins; IdentityFile is the first of those that apply
    ['Host db1\n  Port 2200\nHost *\n  Port 2300\n  IdentityFile /k/one\n  IdentityFile /k/two\n', 'db1', 'root', { port: 2200, identityFile: '/k/one' }],
    // Match final: a second pass, where Host matches the host name taken into use
    ['Host db1\n  HostName Real.Example\nMatch final\n  Port 2200\nHost real.example\n  User after-final\n', 'db1', 'root', { host: 'real.example', port: 2200, user: 'after-final' }],
    ['Match canonical\n  Port 2200\n', 'db1', 'root', { port: 22 }],
    // Include: a file, a glob (sorted), inside a Host block that does not apply (then nothing from it does)
    [`Include ${join(included, '*.conf')}\n`, 'web1', 'root', { user: 'from-a', port: 2201 }],
    [`Host other\n  Include ${join(included, 'b.conf')}\n`, 'web1', 'root', { port: 22 }],
    [`Include ${join(dir, 'no-such-file')}\nPort 2200\n`, 'web1', 'root', { port: 2200 }],
    // words: = and quotes, a # word ends the line, a keyword in any case
    ['port=2200\n', 'db1', 'root', { port: 2200 }],
    ['PORT = "2200" # comment\n', 'db1', 'root', { port: 2200 }],
    ['HostName "a b"\n', 'db1', 'root', { host: 'a b' }],
    ['HostName x%%y\n', 'db1', 'root', { host: 'x%y' }],
    // ProxyJump none does not stop a later ProxyCommand; a ProxyJump first does
    ['ProxyJump none\nProxyCommand nc %h %p\n', 'db1', 'root', 'error'],
    ['Host * !jump\n  ProxyJump ops@jump:2022\nProxyCommand nc %h %p\n', 'db1', 'root', { jump: 'ops@jump:2022' }],
    ['ProxyJump ops@jump:2022\n', 'db1', 'root', 'error'],
    ['Host db1\n  ProxyJump jump\nHost jump\n  HostName bastion.example\n  Port 2022\n', 'db1', 'root', { jump: 'root@bastion.example:2022' }],
    ['ProxyCommand none\nProxyJump jump\n', 'db1', 'root', { host: 'db1' }],
    ['Host * !none\n  ProxyJump none # a host named none\n  ProxyCommand nc %h %p\n', 'db1', 'root', { jump: 'root@none:22' }],
    // the host in use is the name given lowercased; Host lines see it as given
    ['Port 2200\n', 'DB1', 'root', { host: 'db1', port: 2200 }],
    ['Host db1\n  Port 2200\n', 'DB1', 'root', { host: 'db1', port: 22 }],
    ['Host DB1\n  Port 2200\n', 'DB1', 'root', { host: 'db1', port: 2200 }],
    // Port as a2port reads it: strtonum's decimal (a sign, blanks before), else a TCP service name
    ['Port ssh\n', 'db1', 'root', { port: 22 }],
    ['Port www\n', 'db1', 'root', { port: 80 }],
    ['Port +2200\n', 'db1', 'root', { port: 2200 }],
    ['Port "  2200"\n', 'db1', 'root', { port: 2200 }],
    ['Port 02200\n', 'db1', 'root', { port: 2200 }],
    ['Port SSH\n', 'db1', 'root', 'error'],
    ['Port 0\n', 'db1', 'root', 'error'],
    ['Port 65536\n', 'db1', 'root', 'error'],
    ['Port 2200x\n', 'db1', 'root', 'error'],
    // a keyword ssh does not know refuses the file, in a block that applies or not, unless an
    // IgnoreUnknown that applies names it first; deprecated, unsupported and Debian's own are known
    ['Hostnme real.example\n', 'db1', 'root', 'error'],
    ['Host other\n  Hostnme real.example\n', 'db1', 'root', 'error'],
    ['IgnoreUnknown hostnme,foo*\nHostnme real.example\nFooBar 1\nPort 2200\n', 'db1', 'root', { host: 'db1', port: 2200 }],
    ['Hostnme real.example\nIgnoreUnknown hostnme\n', 'db1', 'root', 'error'],
    ['Host other\n  IgnoreUnknown foo*\nHost *\n  FooBar 1\n', 'db1', 'root', 'error'],
    ['IgnoreUnknown bar*\nIgnoreUnknown foo*\nFooBar 1\n', 'db1', 'root', 'error'],
    ['Protocol 2\nCipher blowfish\nKerberosAuthentication yes\nUseRoaming no\n', 'db1', 'root', { port: 22 }],
    ['ProtocolKeepAlives 10\nSetupTimeOut 10\nGSSAPIKeyExchange yes\nGSSAPITrustDNS no\n', 'db1', 'root', { port: 22 }],
    // refused by ssh: refused by lvsplay, with the line
    ['Port abc\n', 'db1', 'root', 'error'],
    ['Port 2200 2300\n', 'db1', 'root', 'error'],
    ['HostName %p.example\n', 'db1', 'root', 'error'],
    ['Match user\n  Port 2200\n', 'db1', 'root', 'error'],
    ['HostName "unclosed\n', 'db1', 'root', 'error'],
  ];
  for (const [text, host, user, expected] of cases) {
    const file = await configFile(text);
    const ssh = bySsh(file, host, user);
    const label = `${host} -l ${user}: ${JSON.stringify(text)}`;
    if (expected === 'error') t.is(ssh, 'error', `ssh -G, ${label}`);
    else t.like(ssh, expected, `ssh -G, ${label}`);
    t.deepEqual(await byLvsplay(file, host, user), ssh, `lvsplay, ${label}`);
  }
});

test('an error in the config names the file and line; Match exec is refused where ssh would run it, and skipped where it would not', async (t) => {
  const bad = await configFile('Host *\n  Port 2200\n  Port nope\n');
  await t.throwsAsync(routeFor(bad), { message: new RegExp(`${bad} line 3: Bad port 'nope'`) });
  const typo = await configFile('Host *\n  Hostnme real.example\n');
  await t.throwsAsync(routeFor(typo), { message: new RegExp(`${typo} line 2: Bad configuration option: Hostnme`) });
  // RefuseConnection (OpenSSH 10, unknown to the ssh here): where it applies, the host is refused with its words
  const refuse = await configFile('Host db1\n  RefuseConnection "db1 is retired"\n');
  await t.throwsAsync(routeFor(refuse), { message: new RegExp(`${refuse} line 2: RefuseConnection: db1 is retired`) });
  t.is((await routeFor(refuse, 'web1')).target.host, 'web1');
  const exec = await configFile('Match host db1 exec "true"\n  Port 2200\nMatch host other exec "true"\n  Port 2300\n');
  await t.throwsAsync(routeFor(exec), { message: /line 1: Match exec would run a command/ });
  t.is((await routeFor(exec, 'web1')).target.port, 22);
});

test('random configs: lvsplay resolves each as ssh -G does', async (t) => {
  const random = seededRandom(2026_12_07);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const keyword = (k: string) => pick([k, k, k.toLowerCase(), k.toUpperCase()]);
  const separator = () => pick([' ', ' ', '=', ' = ', '\t']);
  const pattern = () => pick(['web*', 'web1', 'db?', '*.example.org', '*', '!web2', '!db*', 'lb1*', '192.0.2.*', 'WEB1', 'other', '*1']);
  const patterns = () => Array.from({ length: 1 + Math.floor(random() * 3) }, pattern).join(pick([' ', ' ', ',']));
  const values: Record<string, () => string> = {
    HostName: () => pick(['%h.example.org', 'real-%h', '10.0.0.9', '%h', 'x%%y', '"%h.q"', 'Upper.Example', '%p.x']),
    Port: () => pick(['2200', '2300', '22', '"2400"', 'abc', '70000', '22 23']),
    User: () => pick(['deploy', 'admin', 'root', '"ops"']),
    IdentityFile: () => pick(['~/.ssh/id_a', '/k/id_b', '"/k/id c"']),
    HostKeyAlias: () => pick(['alias1', 'Alias2', 'none']),
    ProxyJump: () => pick(['jump1', 'ops@jump2', 'jump3:2022', 'none']),
    ProxyCommand: () => pick(['nc %h %p', 'none']),
  };
  const match = () => pick([
    `host ${patterns().replace(/ /g, ',')}`, `originalhost ${pattern()}`, `user ${pick(['root', 'deploy', 'ad*'])}`, 'all', `!host ${pattern()}`,
    `host ${pattern()} user ${pick(['root', 'deploy'])}`, 'final', 'canonical', '!final', `final host ${pattern()}`, `!originalhost ${pattern()}`, 'user',
  ]);
  const block = () => {
    const lines = [random() < 0.75 ? `${keyword('Host')}${separator()}${patterns()}` : `${keyword('Match')} ${match()}`];
    for (let n = 1 + Math.floor(random() * 3); n > 0; n--) {
      const k = pick(Object.keys(values));
      lines.push(`${pick(['  ', '\t', ''])}${keyword(k)}${separator()}${values[k]!()}${pick(['', '', ' # c'])}`);
    }
    return lines.join('\n');
  };
  let resolved = 0;
  for (let i = 0; i < 150; i++) {
    const text = `${Array.from({ length: 1 + Math.floor(random() * 4) }, block).join('\n')}\n`;
    const file = await configFile(text);
    const host = pick(['web1', 'web2', 'db1', 'lb1.example.org', '192.0.2.7']);
    const user = pick(['root', 'root', 'deploy']);
    const ssh = bySsh(file, host, user);
    t.deepEqual(await byLvsplay(file, host, user), ssh, `${host} -l ${user}: ${JSON.stringify(text)}`);
    if (ssh !== 'error') resolved += 1;
  }
  t.true(resolved > 60, `most configs must resolve (${resolved} of 150 did)`);
});

/**
 * Keywords with a value ssh takes, each checked alone with ssh -G first: a deprecated, an
 * unsupported, Debian's own, and common ones.
 */
const KNOWN_SETTINGS = [
  'Protocol 2', 'UseRoaming no', 'RSAAuthentication yes', 'CompressionLevel 6', 'GSSAPIKeyExchange yes', 'SetupTimeOut 10',
  'ProtocolKeepAlives 10', 'ServerAliveInterval 10', 'StrictHostKeyChecking accept-new', 'UserKnownHostsFile /dev/null',
  'ControlMaster auto', 'ControlPath ~/.ssh/cm-%C', 'ControlPersist 60', 'ForwardAgent no', 'Compression yes',
  'ConnectTimeout 5', 'LogLevel QUIET', 'IdentitiesOnly yes', 'AddKeysToAgent no', 'SendEnv LANG LC_*', 'TCPKeepAlive yes',
  'KexAlgorithms curve25519-sha256', 'Ciphers aes128-ctr', 'HashKnownHosts yes', 'RequestTTY no', 'RequiredRSASize 2048',
];

test('random configs with unknown keywords, IgnoreUnknown and Port forms: lvsplay refuses or resolves each as ssh -G does', async (t) => {
  for (const setting of KNOWN_SETTINGS) t.not(bySsh(await configFile(`${setting}\n`), 'db1', 'root'), 'error', `ssh -G takes ${setting}`);
  const random = seededRandom(2026_12_08);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const casing = (k: string) => pick([k, k, k.toLowerCase(), k.toUpperCase()]);
  const keywords = KNOWN_SETTINGS.map((s) => s.split(' ')[0]!);
  const typo = () => {
    const k = pick(keywords);
    const at = Math.floor(random() * k.length);
    return pick([k.slice(0, at) + k.slice(at + 1), `${k}x`, `${k.slice(0, at)}q${k.slice(at)}`, `Foo${k}`]);
  };
  const line = () => {
    const r = random();
    if (r < 0.45) {
      const [k, ...v] = pick(KNOWN_SETTINGS).split(' ');
      return `${casing(k!)} ${v.join(' ')}`;
    }
    if (r < 0.55) return `${casing(typo())} yes`;
    if (r < 0.7) return `${casing('IgnoreUnknown')} ${pick(['foo*', '*', 'hostnme,foo*', '!foo*,*', typo().toLowerCase(), typo()])}`;
    return `${casing('Port')} ${pick(['2200', 'ssh', 'www', 'SSH', '+2200', '"  2200"', '02200', '0', '-1', '65536', '65535', 'no-such-service', '0x16', '22x'])}`;
  };
  let resolved = 0;
  let refused = 0;
  for (let i = 0; i < 150; i++) {
    const blocks = Array.from({ length: 1 + Math.floor(random() * 3) }, (_, b) => {
      const head = b > 0 || random() < 0.5 ? [`Host ${pick(['db1', 'other', '*', 'db*', 'web?'])}`] : [];
      return [...head, ...Array.from({ length: 1 + Math.floor(random() * 4) }, () => `  ${line()}`)].join('\n');
    });
    const text = `${blocks.join('\n')}\n`;
    const file = await configFile(text);
    const host = pick(['db1', 'DB1', 'web1']);
    const ssh = bySsh(file, host, 'root');
    t.deepEqual(await byLvsplay(file, host, 'root'), ssh, `${host}: ${JSON.stringify(text)}`);
    if (ssh === 'error') refused += 1;
    else resolved += 1;
  }
  t.true(resolved > 40 && refused > 40, `both outcomes must be common (${resolved} resolved, ${refused} refused)`);
});
