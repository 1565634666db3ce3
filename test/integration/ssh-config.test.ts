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

/** What lvsplay resolves for an inventory host with that config_file (port 22 and user root: the defaults). */
async function byLvsplay(file: string, host: string, user: string): Promise<Resolved | 'error'> {
  const ssh = { host, port: 22, user, configFile: file } as SshConfig;
  try {
    const { target, jump } = await resolveRoute('h', ssh);
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
  await t.throwsAsync(resolveRoute('h', { host: 'db1', port: 22, user: 'root', configFile: bad } as SshConfig), { message: new RegExp(`${bad} line 3: Bad port 'nope'`) });
  const exec = await configFile('Match host db1 exec "true"\n  Port 2200\nMatch host other exec "true"\n  Port 2300\n');
  await t.throwsAsync(resolveRoute('h', { host: 'db1', port: 22, user: 'root', configFile: exec } as SshConfig), { message: /line 1: Match exec would run a command/ });
  t.is((await resolveRoute('h', { host: 'web1', port: 22, user: 'root', configFile: exec } as SshConfig)).target.port, 22);
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
