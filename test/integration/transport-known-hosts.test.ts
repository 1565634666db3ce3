/**
 * known_hosts reading, checked against OpenSSH's own tools: keys from ssh-keygen, hashed names
 * from `ssh-keygen -H`, fingerprints from `ssh-keygen -l`, and which lines apply to a name from
 * `ssh-keygen -F NAME -l`, which reads a file with ssh's own hostfile.c (markers, host patterns,
 * hashed names, and only lines whose key sshkey_read takes). Ports other than the test sshd's are
 * covered here, port 22 included, without a server.
 */
import test from 'ava';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHmac } from 'node:crypto';
import {
  checkHostKey,
  fingerprint,
  hostMatches,
  keyTypeOf,
  KnownHosts,
  knownHostsLine,
  knownHostsName,
  parseKnownHosts,
  recordedKeyTypes,
} from '../../src/transport/known-hosts.js';
import { blobOf } from '../../src/transport/openssh-key.js';
import { seededRandom } from '../helpers/random.js';
import { run } from './support/sshd.js';

let dir = '';
const keys: Record<'ed' | 'ed2' | 'ecdsa' | 'rsa', { line: string; blob: Buffer; pub: string }> = {} as never;

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lvsplay-kh-'));
  for (const [name, type] of [
    ['ed', 'ed25519'],
    ['ed2', 'ed25519'],
    ['ecdsa', 'ecdsa'],
    ['rsa', 'rsa'],
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

// ---------------------------------------------------------------------------------------------
// Which lines apply to a name, against ssh-keygen -F (hostfile.c, sshkey_read).

/** The lines `ssh-keygen -F name -l` finds in a file ('3' or '3r' for a revoked one; CA lines left out). */
async function foundBySsh(text: string, name: string): Promise<string[]> {
  const file = join(dir, `find-${Math.random().toString(16).slice(2)}`);
  await writeFile(file, text);
  const out = await run('ssh-keygen', ['-F', name, '-l', '-f', file]).catch(() => '');
  await rm(file);
  return [...out.matchAll(/^# Host .* found: line (\d+) ?(\w*)/gm)].filter((m) => m[2] !== 'CA').map((m) => `${m[1]}${m[2] === 'REVOKED' ? 'r' : ''}`);
}

function foundByLvsplay(text: string, name: string): string[] {
  return new KnownHosts(parseKnownHosts(text)).forHost(name).map((e) => `${e.line}${e.revoked ? 'r' : ''}`);
}

/** The fields after the type name of a key blob. */
function fieldsOf(blob: Buffer): Buffer[] {
  const fields: Buffer[] = [];
  for (let at = 0; at < blob.length; at += 4 + blob.readUInt32BE(at)) fields.push(blob.subarray(at + 4, at + 4 + blob.readUInt32BE(at)));
  return fields.slice(1);
}

const b64 = (bytes: Buffer) => bytes.toString('base64');

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** The last character of a 20-byte base64 value with its two unused bits set: the same bytes, not as b64_pton allows. */
function nonCanonical(last: string): string {
  return BASE64[BASE64.indexOf(last) | 1]!;
}

function hashedWith(name: string, salt: Buffer): string {
  return `|1|${b64(salt)}|${b64(createHmac('sha1', salt).update(name).digest())}`;
}

test('which lines apply to a name is what ssh-keygen -F finds: hashed names, patterns, markers and keys as OpenSSH reads them', async (t) => {
  const ed = keys.ed.line;
  const [edType, edBase64] = ed.split(' ') as [string, string];
  const edKey = fieldsOf(keys.ed.blob)[0]!;
  const [rsaE, rsaN] = fieldsOf(keys.rsa.blob) as [Buffer, Buffer];
  const [ecCurve, ecPoint] = fieldsOf(keys.ecdsa.blob) as [Buffer, Buffer];
  const salt = Buffer.alloc(20, 7);
  const hash = hashedWith('web1', salt);
  const cases: [string, string, boolean][] = [
    // hashed: exactly what host_hash writes, with a 20-byte salt
    [`${hash} ${ed}`, 'web1', true],
    [`${hashedWith('web1', Buffer.alloc(16, 7))} ${ed}`, 'web1', false],
    [`${hash}|x ${ed}`, 'web1', false],
    [`${hash.replace(/=$/, '')} ${ed}`, 'web1', false],
    [`${hash.replace('|1|', '|2|')} ${ed}`, 'web1', false],
    [`${hash.replace(/^\|1\|(.{26})(.)/, (_m, head: string, last: string) => `|1|${head}${nonCanonical(last)}`)} ${ed}`, 'web1', false],
    [`|web1,web1 ${ed}`, 'web1', false],
    [`${hash},web1 ${ed}`, 'web1', false],
    // patterns: a pattern of 1,023 bytes or more voids the whole list
    [`${'x'.repeat(1022)},web1 ${ed}`, 'web1', true],
    [`${'x'.repeat(1023)},web1 ${ed}`, 'web1', false],
    [`web1,!${'*'.repeat(1023)} ${ed}`, 'web1', false],
    [`WEB1 ${ed}`, 'web1', true],
    [`we\u212a1 ${ed}`, 'wek1', false],
    [`w?b1,!x ${ed}`, 'web1', true],
    // markers: one, ended by the line's first space
    [`@revoked\tweb1\t${edType}\t${edBase64}`, 'web1', true],
    [`@revoked\tweb1 ${ed}`, 'web1', false],
    [`@revoked @revoked web1 ${ed}`, 'web1', false],
    [`@revoked @web1 ${ed}`, 'web1', false],
    [`@ web1 ${ed}`, 'web1', false],
    // keys: a type OpenSSH knows, base64 as b64_pton reads it, a blob right for its type
    [`web1 ssh-foo ${b64(blobOf('ssh-foo', edKey))}`, 'web1', false],
    [`web1 ${edType} ${b64(blobOf(edType, edKey.subarray(1)))}`, 'web1', false],
    [`web1 ${edType} ${b64(blobOf(edType, edKey, Buffer.alloc(0)))}`, 'web1', false],
    [`web1 ${edType} ${b64(blobOf('ED25519', edKey))}`, 'web1', true],
    [`web1 ${edType} ${b64(blobOf('ed25519\0', edKey))}`, 'web1', true],
    [`web1 ${edType} ${b64(blobOf('ed\0x', edKey))}`, 'web1', false],
    [`web1 ${keys.ecdsa.line.replace(/=+$/, '')}`, 'web1', false],
    [`web1 ${keys.ecdsa.line.replace(/=$/, ' =')}`, 'web1', false],
    [`web1 ${edType} ${edBase64.slice(0, 20)}\v${edBase64.slice(20)}`, 'web1', true],
    [`web1 rsa-sha2-256 ${keys.rsa.line.split(' ')[1]}`, 'web1', true],
    [`web1 ssh-rsa ${b64(blobOf('ssh-rsa', rsaE, rsaN.subarray(0, 120)))}`, 'web1', false],
    [`web1 ssh-rsa ${b64(blobOf('ssh-rsa', Buffer.concat([Buffer.alloc(2), rsaE]), rsaN))}`, 'web1', true],
    [`web1 ssh-rsa ${b64(blobOf('ssh-rsa', Buffer.from([0x80]), rsaN))}`, 'web1', false],
    [`web1 ecdsa-sha2-nistp256 ${b64(blobOf('ecdsa-sha2-nistp256', ecCurve, Buffer.concat([ecPoint.subarray(0, -1), Buffer.from([ecPoint.at(-1)! ^ 1])])))}`, 'web1', false],
    [`web1 ecdsa-sha2-nistp384 ${keys.ecdsa.line.split(' ')[1]}`, 'web1', false],
    [`web1 ${edType}`, 'web1', false],
  ];
  for (const [line, name, applies] of cases) {
    const text = `${line}\n`;
    t.deepEqual(await foundBySsh(text, name), applies ? [line.startsWith('@revoked') ? '1r' : '1'] : [], `ssh-keygen -F ${name}: ${JSON.stringify(line.slice(0, 120))}`);
    t.deepEqual(foundByLvsplay(text, name), applies ? [line.startsWith('@revoked') ? '1r' : '1'] : [], `lvsplay: ${JSON.stringify(line.slice(0, 120))}`);
  }
});

test('a key recorded in another encoding of the same key (an RSA exponent with leading zeros) is the same key, as ssh-keygen -l fingerprints it', async (t) => {
  const [e, n] = fieldsOf(keys.rsa.blob) as [Buffer, Buffer];
  const line = `web1 ssh-rsa ${b64(blobOf('ssh-rsa', Buffer.concat([Buffer.alloc(3), e]), n))}`;
  const file = join(dir, 'rsa-padded');
  await writeFile(file, `${line}\n`);
  t.is((await run('ssh-keygen', ['-l', '-f', file])).split(' ')[1], (await run('ssh-keygen', ['-lf', keys.rsa.pub])).split(' ')[1]);
  t.deepEqual(checkHostKey(parseKnownHosts(line), 'web1', keys.rsa.blob), { status: 'known' });
});

test('random known_hosts files: for every name, lvsplay applies the lines ssh-keygen -F finds', async (t) => {
  const random = seededRandom(2026_12_07);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(random() * 256)));
  const [edType, edBase64] = keys.ed.line.split(' ') as [string, string];
  const edKey = fieldsOf(keys.ed.blob)[0]!;
  const names = ['web1', 'db-2.example.org', '[web1]:2222', '192.0.2.7', '[2001:db8::1]:2200'];
  const keyField = () => pick([
    () => keys.ed.line, () => keys.ed.line, () => keys.ed2.line, () => keys.ecdsa.line, () => keys.rsa.line,
    () => `${edType} ${b64(blobOf(pick(['ed25519', 'ED25519', 'ssh-ed25519', 'ssh-ed25519\0', 'ed', 'rsa']), edKey))}`,
    () => `${edType} ${b64(blobOf(edType, bytes(pick([31, 32, 33]))))}`,
    () => `${pick(['ssh-foo', 'SSH-ED25519', 'ed25519', 'rsa-sha2-512', 'ecdsa-sha2-nistp521'])} ${edBase64}`,
    () => keys.ecdsa.line.replace(/=$/, pick(['', ' =', '==', 'A=', '\v=', '=\f'])),
    () => `${edType} ${edBase64}${pick(['', ' c', '\r', '!', '\t# c'])}`,
    () => `rsa-sha2-256 ${keys.rsa.line.split(' ')[1]}`,
    () => edType,
  ])();
  const pattern = (name: string) => pick([
    () => name, () => name.toUpperCase(), () => `!${name}`, () => '*', () => '!*', () => name.replace(/.$/, '?'), () => `*${name.slice(3)}`,
    () => 'other', () => '', () => `|${name}`, () => 'x'.repeat(pick([1021, 1022, 1023, 1024])), () => `${name}*`, () => `?${name}`,
  ])();
  const hostsField = (name: string) => {
    if (random() < 0.3) {
      const hashed = hashedWith(pick([name, name, 'other']), bytes(pick([20, 20, 20, 16, 21])));
      return pick([hashed, hashed, `${hashed}|x`, `${hashed},${name}`, hashed.replace('|1|', '|2|'), hashed.replace(/=$/, '')]);
    }
    return Array.from({ length: 1 + Math.floor(random() * 3) }, () => pattern(name)).join(',');
  };
  const line = (name: string) => {
    const blank = () => pick([' ', ' ', '\t', '  ', ' \t']);
    const marker = pick(['', '', '', '@revoked', '@revoked', '@cert-authority', '@foo', '@revoked @revoked', '@']);
    return `${pick(['', '', ' ', '\t'])}${marker === '' ? '' : marker + blank()}${hostsField(name)}${blank()}${keyField()}`;
  };
  let applied = 0;
  for (let i = 0; i < 150; i++) {
    const name = pick(names);
    const text = `${Array.from({ length: 1 + Math.floor(random() * 3) }, () => line(name)).join('\n')}\n`;
    const bySsh = await foundBySsh(text, name);
    t.deepEqual(foundByLvsplay(text, name), bySsh, `${name} in ${JSON.stringify(text.slice(0, 400))}`);
    if (bySsh.length > 0) applied += 1;
  }
  t.true(applied > 30, `some files must have lines that apply (${applied} of 150 did)`);
});
