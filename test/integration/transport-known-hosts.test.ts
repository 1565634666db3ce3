/**
 * known_hosts reading, checked against OpenSSH's own tools: keys from ssh-keygen, hashed names
 * from `ssh-keygen -H`, fingerprints from `ssh-keygen -l`. Ports other than the test sshd's are
 * covered here, port 22 included, without a server.
 */
import test from 'ava';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  checkHostKey,
  fingerprint,
  hostMatches,
  keyTypeOf,
  knownHostsLine,
  knownHostsName,
  parseKnownHosts,
  recordedKeyTypes,
} from '../../src/transport/known-hosts.js';
import { run } from './support/sshd.js';

let dir = '';
const keys: Record<'ed' | 'ed2' | 'ecdsa', { line: string; blob: Buffer; pub: string }> = {} as never;

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lvsplay-kh-'));
  for (const [name, type] of [
    ['ed', 'ed25519'],
    ['ed2', 'ed25519'],
    ['ecdsa', 'ecdsa'],
  ] as const) {
    const path = join(dir, name);
    await run('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', '', '-f', path]);
    const [keyType, base64] = (await readFile(`${path}.pub`, 'utf8')).trim().split(/\s+/);
    keys[name] = { line: `${keyType} ${base64}`, blob: Buffer.from(base64 ?? '', 'base64'), pub: `${path}.pub` };
  }
});

test.after.always(async () => {
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

/** The host field of a line hashed by ssh-keygen -H. */
async function hashed(name: string): Promise<string> {
  const file = join(dir, `hash-${Math.random().toString(16).slice(2)}`);
  await writeFile(file, `${name} ${keys.ed.line}\n`);
  await run('ssh-keygen', ['-q', '-H', '-f', file]);
  return (await readFile(file, 'utf8')).split(' ')[0] ?? '';
}

test('the looked-up name is the bare host on port 22 and [host]:port elsewhere, lowercased', (t) => {
  t.is(knownHostsName('Web1.Example', 22), 'web1.example');
  t.is(knownHostsName('10.0.0.1', 2222), '[10.0.0.1]:2222');
  t.is(knownHostsName('::1', 2222), '[::1]:2222');
});

test('plain patterns: exact names, comma lists, * and ?, negation, case', (t) => {
  t.true(hostMatches('web1.example', 'web1.example'));
  t.true(hostMatches('WEB1.example', 'web1.example'));
  t.false(hostMatches('web1.example', '[web1.example]:2222'), 'a bare name is for port 22 only, as in OpenSSH');
  t.true(hostMatches('[web1.example]:2222', '[web1.example]:2222'));
  t.true(hostMatches('other,10.0.0.1', '10.0.0.1'));
  t.true(hostMatches('*.example', 'web1.example'));
  t.true(hostMatches('web?.example', 'web1.example'));
  t.false(hostMatches('web?.example', 'web10.example'));
  t.false(hostMatches('10.0.0.1', '10.0.0.10'), 'dots are literal, the match is whole');
  t.true(hostMatches('[10.0.0.*]:*', '[10.0.0.7]:2222'));
  t.false(hostMatches('*.example,!db*.example', 'db1.example'), 'a matching negation excludes');
  t.true(hostMatches('*.example,!db*.example', 'web1.example'));
  t.false(hostMatches('!web1.example', 'other'), 'a negation alone matches nothing');
});

test('hashed entries made by ssh-keygen -H match their name only, for port 22 and others', async (t) => {
  const plain = await hashed('web1.example');
  t.regex(plain, /^\|1\|[^|]+\|[^|]+$/);
  t.true(hostMatches(plain, 'web1.example'));
  t.false(hostMatches(plain, 'web2.example'));
  const bracketed = await hashed('[10.0.0.1]:2222');
  t.true(hostMatches(bracketed, '[10.0.0.1]:2222'));
  t.false(hostMatches(bracketed, '10.0.0.1'));
});

test('parsing skips comments, blank, malformed and @cert-authority lines, and keeps line numbers', (t) => {
  const entries = parseKnownHosts(
    [
      '# a comment',
      '',
      `web1 ${keys.ed.line} trailing comment`,
      `@cert-authority *.example ${keys.ecdsa.line}`,
      'broken-line-without-key',
      `@revoked * ${keys.ed2.line}`,
      `  web2,web3   ${keys.ecdsa.line}`,
    ].join('\n'),
  );
  t.deepEqual(
    entries.map((e) => [e.line, e.revoked, e.hosts, e.keyType]),
    [
      [3, false, 'web1', 'ssh-ed25519'],
      [6, true, '*', 'ssh-ed25519'],
      [7, false, 'web2,web3', 'ecdsa-sha2-nistp256'],
    ],
  );
  t.true(entries[0]?.key.equals(keys.ed.blob));
});

test('parsing reads lines as hostfile.c does: fields split by spaces and tabs only, a key that does not parse or is of another type than its field says skipped, CRLF endings read', (t) => {
  const [type, base64] = keys.ed.line.split(' ') as [string, string];
  const entries = parseKnownHosts(
    [
      `cut ${type} ${base64.slice(0, 30)}`,
      `mislabelled ssh-rsa ${base64}`,
      `nbsp\u00a0${type}\u00a0${base64}`,
      `padded ${type} ${Buffer.concat([keys.ed.blob, Buffer.from([0, 0, 0])]).toString('base64')}`,
      `notbase64 ${type} ${base64.slice(0, -4)}!!!!`,
      `crlf ${type} ${base64}\r`,
      `tabs\t${type}\t${base64}`,
    ].join('\n'),
    '/x/known_hosts',
  );
  t.deepEqual(entries.map((e) => [e.hosts, e.file, e.line]), [['crlf', '/x/known_hosts', 6], ['tabs', '/x/known_hosts', 7]]);
  t.true(entries.every((e) => e.key.equals(keys.ed.blob)));
});

test('verdicts: known, changed (another key of the same type, or only keys of other types: OpenSSH\'s HOST_CHANGED), unknown (nothing recorded), revoked', (t) => {
  const entries = parseKnownHosts(`web1 ${keys.ed.line}\nweb2 ${keys.ecdsa.line}\n@revoked web3 ${keys.ed2.line}\nweb3 ${keys.ed2.line}\n`);
  t.deepEqual(checkHostKey(entries, 'web1', keys.ed.blob), { status: 'known' });
  const changed = checkHostKey(entries, 'web1', keys.ed2.blob);
  t.is(changed.status, 'changed');
  t.is(changed.status === 'changed' ? changed.entry.line : 0, 1);
  const otherType = checkHostKey(entries, 'web2', keys.ed.blob);
  t.is(otherType.status, 'changed', 'web2 has only an ECDSA key recorded: an ed25519 key is a changed identity, not a new one');
  t.is(otherType.status === 'changed' ? otherType.entry.keyType : '', 'ecdsa-sha2-nistp256');
  t.deepEqual(checkHostKey(entries, 'nowhere', keys.ed.blob), { status: 'unknown' });
  t.is(checkHostKey(entries, 'web3', keys.ed2.blob).status, 'revoked', 'revoked wins over a plain line with the same key');
  t.deepEqual(recordedKeyTypes(entries, 'web3'), ['ssh-ed25519']);
  t.deepEqual(recordedKeyTypes(entries, 'web2'), ['ecdsa-sha2-nistp256']);
});

test('key type and fingerprint are read as OpenSSH prints them', async (t) => {
  for (const key of Object.values(keys)) {
    const expected = (await run('ssh-keygen', ['-lf', key.pub])).split(' ')[1] ?? '';
    t.is(fingerprint(key.blob), expected);
    t.is(keyTypeOf(key.blob), key.line.split(' ')[0] ?? '');
  }
  t.is(knownHostsLine('[10.0.0.1]:2222', keys.ed.blob), `[10.0.0.1]:2222 ${keys.ed.line}`);
  const hashedLine = knownHostsLine('[10.0.0.1]:2222', keys.ed.blob, true);
  t.true(hostMatches(hashedLine.split(' ')[0]!, '[10.0.0.1]:2222'));
  t.false(hostMatches(hashedLine.split(' ')[0]!, '[10.0.0.2]:2222'));
});
