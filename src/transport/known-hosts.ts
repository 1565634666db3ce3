/**
 * OpenSSH known_hosts, read the way ssh(1) reads it, so that a file the user already trusts means
 * the same thing to lvsplay. Pure functions over text and key blobs; file access and policy live
 * in host-key.ts.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { decodeBase64, readKeyBlob, readKnownHostsKey } from './openssh-key.js';
import { asciiLower, matchPatternList, overlongPattern } from './ssh-pattern.js';

export interface KnownHostEntry {
  /** The file it was read from ('' when parsed from text alone), and its 1-based line, for messages. */
  file: string;
  line: number;
  revoked: boolean;
  /** The host pattern field as written: a comma list of patterns, or one `|1|salt|hash`. */
  hosts: string;
  keyType: string;
  key: Buffer;
}

export type HostKeyVerdict =
  | { status: 'known' }
  | { status: 'revoked'; entry: KnownHostEntry }
  /**
   * Keys are recorded for this host and none is this one, whatever its type: OpenSSH's HOST_CHANGED
   * (hostfile.c check_hostkeys_by_key_or_type: "if no key matches but a key with a different type
   * is found, then return HOST_CHANGED"), which accept-new refuses too.
   */
  | { status: 'changed'; entry: KnownHostEntry }
  /** Nothing recorded for this host at all. */
  | { status: 'unknown' };

/**
 * The entries of a known_hosts text, each line read as hostfile.c's hostkeys_foreach_file reads
 * it (OpenSSH 9.2): leading spaces and tabs skipped, `#` and blank lines ignored, at most one
 * marker, the host field up to the next space or tab, then a key sshkey_read takes
 * (openssh-key.ts). A line ssh skips (a marker it does not know, a key that does not read) is
 * skipped here too, rather than taken as a key recorded for the host. @cert-authority lines vouch
 * for host certificates, which lvsplay does not verify: they are skipped, as ssh skips them when
 * checking a plain host key.
 */
export function parseKnownHosts(text: string, file = ''): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split('\n').forEach((line, index) => {
    let rest = skipBlanks(line);
    if (rest === '' || rest.startsWith('#')) return;
    const marked = readMarker(rest);
    if (marked === undefined || marked.marker === 'cert-authority') return;
    rest = marked.rest;
    const hostsEnd = rest.search(/[ \t]/);
    if (hostsEnd === -1) return;
    const hosts = rest.slice(0, hostsEnd);
    const key = readKnownHostsKey(skipBlanks(rest.slice(hostsEnd)));
    if (key) entries.push({ file, line: index + 1, revoked: marked.marker === 'revoked', hosts, ...key });
  });
  return entries;
}

function skipBlanks(text: string): string {
  return text.replace(/^[ \t]+/, '');
}

/**
 * hostfile.c check_markers: a marker ends at the line's first space (its first tab only when it
 * has no space at all), is 2 to 31 characters, @revoked or @cert-authority, and only one is allowed
 * (a host field that starts with `@` after a marker is a second one). undefined: ssh skips the line.
 */
function readMarker(text: string): { marker?: 'revoked' | 'cert-authority'; rest: string } | undefined {
  if (!text.startsWith('@')) return { rest: text };
  let end = text.indexOf(' ');
  if (end === -1) end = text.indexOf('\t');
  if (end < 2 || end >= 32) return undefined;
  const word = text.slice(0, end);
  if (word !== '@revoked' && word !== '@cert-authority') return undefined;
  const rest = skipBlanks(text.slice(end));
  return rest.startsWith('@') ? undefined : { marker: word === '@revoked' ? 'revoked' : 'cert-authority', rest };
}

/** The name ssh(1) looks up: the bare host on port 22, `[host]:port` on any other port; lowercased as ssh does (ASCII only). */
export function knownHostsName(host: string, port: number): string {
  const name = asciiLower(host);
  return port === 22 ? name : `[${name}]:${port}`;
}

/**
 * Does a host field match `name` (as made by knownHostsName)? As hostfile.c match_maybe_hashed: a
 * field that starts with `|` is a hashed name and nothing else; any other is a pattern list.
 */
export function hostMatches(hosts: string, name: string): boolean {
  return hosts.startsWith('|') ? hashedMatches(hosts, name) : matchPatternList(name, hosts, true) === 1;
}

/**
 * `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`, as HashKnownHosts writes it. As host_hash and
 * extract_salt: the salt is what lies between `|1|` and the next `|`, decoded as b64_pton does, and
 * exactly 20 bytes; the field must then be, byte for byte, the one host_hash writes for the name
 * with that salt (so nothing after the hash, and both in canonical base64).
 */
function hashedMatches(hosts: string, name: string): boolean {
  const hashed = hashedField(hosts);
  return hashed !== undefined && hostHash(name, hashed.salt) === hashed.hash;
}

/** Each hashed field's salt, read once for the whole run (every host is matched against every hashed line). */
const hashedFields = new Map<string, { salt: Buffer; hash: string } | undefined>();

function hashedField(hosts: string): { salt: Buffer; hash: string } | undefined {
  if (hashedFields.has(hosts)) return hashedFields.get(hosts);
  let read: { salt: Buffer; hash: string } | undefined;
  const end = hosts.indexOf('|', 3);
  if (hosts.startsWith('|1|') && end > 3 && end - 3 <= 1024) {
    const salt = decodeBase64(hosts.slice(3, end));
    // host_hash writes the salt back in canonical base64: a field that spells it otherwise never matches
    if (salt?.length === 20 && hosts.slice(3, end) === salt.toString('base64')) read = { salt, hash: hosts.slice(end + 1) };
  }
  hashedFields.set(hosts, read);
  return read;
}

/**
 * sshconnect.c check_host_key over the entries recorded for a name. Keys are compared as OpenSSH
 * compares them (sshkey_equal: the key, not its encoding): the offered blob is read into the same
 * canonical form the entries were.
 */
export function checkHostKey(entries: readonly KnownHostEntry[], name: string, offered: Buffer): HostKeyVerdict {
  const key = readKeyBlob(offered)?.blob ?? offered;
  const forHost = entries.filter((e) => hostMatches(e.hosts, name));
  const revoked = forHost.find((e) => e.revoked && e.key.equals(key));
  if (revoked) return { status: 'revoked', entry: revoked };
  const trusted = forHost.filter((e) => !e.revoked);
  if (trusted.some((e) => e.key.equals(key))) return { status: 'known' };
  const other = trusted.find((e) => e.keyType === keyTypeOf(key)) ?? trusted[0];
  if (other) return { status: 'changed', entry: other };
  return { status: 'unknown' };
}

/** Key types recorded for a host, so the client can ask the server for one of those first. */
export function recordedKeyTypes(entries: readonly KnownHostEntry[], name: string): string[] {
  return [...new Set(entries.filter((e) => !e.revoked && hostMatches(e.hosts, name)).map((e) => e.keyType))];
}

/** The algorithm name at the start of an SSH public key blob (RFC 4253 §6.6). */
export function keyTypeOf(key: Buffer): string {
  if (key.length < 4) return 'unknown';
  const length = key.readUInt32BE(0);
  return key.subarray(4, 4 + length).toString('latin1');
}

/** As ssh-keygen -l and ssh(1) print it: `SHA256:` + unpadded base64 of the blob's SHA-256. */
export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** A known_hosts line for `name`; hashed (`|1|salt|hmac`, as HashKnownHosts writes it) when asked. */
export function knownHostsLine(name: string, key: Buffer, hashed = false): string {
  const host = hashed ? hashName(name) : name;
  return `${host} ${keyTypeOf(key)} ${key.toString('base64')}`;
}

export function hashName(name: string, salt: Buffer = randomBytes(20)): string {
  return `|1|${salt.toString('base64')}|${hostHash(name, salt)}`;
}

/** HMAC-SHA1 of a name under a salt, in base64: the hash part of a hashed known_hosts name. */
function hostHash(name: string, salt: Buffer): string {
  return createHmac('sha1', salt).update(name).digest('base64');
}

/**
 * A known_hosts file parsed once for a whole run and looked up by name: entries of plain names are
 * indexed; hashed and wildcard entries (which cannot be) are kept aside and tried per lookup.
 */
export class KnownHosts {
  private readonly byName = new Map<string, KnownHostEntry[]>();
  private readonly others: KnownHostEntry[] = [];
  readonly hashed: boolean;

  constructor(readonly entries: KnownHostEntry[]) {
    for (const e of entries) this.index(e);
    this.hashed = entries.some((e) => e.hosts.startsWith('|1|'));
  }

  private index(e: KnownHostEntry): void {
    const names = e.hosts.split(',');
    if (e.hosts.startsWith('|') || names.some((n) => /[*?!]/.test(n) || overlongPattern(n))) {
      this.others.push(e);
      return;
    }
    for (const key of new Set(names.map(asciiLower))) this.byName.set(key, [...(this.byName.get(key) ?? []), e]);
  }

  /** Every entry that applies to `name`, in file order. */
  forHost(name: string): KnownHostEntry[] {
    const found = [...(this.byName.get(name) ?? []), ...this.others.filter((e) => hostMatches(e.hosts, name))];
    return found.sort((a, b) => a.line - b.line);
  }

  add(e: KnownHostEntry): void {
    this.entries.push(e);
    this.index(e);
  }
}
