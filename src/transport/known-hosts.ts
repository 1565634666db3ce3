/**
 * OpenSSH known_hosts, read the way ssh(1) reads it, so that a file the user already trusts means
 * the same thing to lvsplay. Pure functions over text and key blobs; file access and policy live
 * in host-key.ts.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';

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
 * The entries of a known_hosts text. As hostfile.c reads a line: fields separated by spaces and
 * tabs only; a line whose key does not parse (a truncated blob, a blob of another type than its
 * type field says) is skipped, as ssh skips it, rather than taken as a key recorded for the host.
 */
export function parseKnownHosts(text: string, file = ''): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  text.split('\n').forEach((raw, index) => {
    const fields = raw.replace(/^[ \t]+|[ \t\r]+$/g, '').split(/[ \t]+/);
    if (fields[0] === undefined || fields[0] === '' || fields[0].startsWith('#')) return;
    let revoked = false;
    if (fields[0].startsWith('@')) {
      // @cert-authority lines vouch for host certificates, which lvsplay does not verify: a line
      // that cannot apply is skipped rather than misread as a plain key.
      if (fields[0] !== '@revoked') return;
      revoked = true;
      fields.shift();
    }
    const [hosts, keyType, key] = fields;
    if (hosts === undefined || keyType === undefined || key === undefined) return;
    const blob = wellFormedKey(keyType, key);
    if (blob) entries.push({ file, line: index + 1, revoked, hosts, keyType, key: blob });
  });
  return entries;
}

/**
 * The key blob of a known_hosts line, or undefined when ssh's sshkey_read would reject it:
 * not base64, not a whole sequence of length-prefixed fields (cut short, or with bytes after
 * them), or a key of another type than the line's type field names.
 */
function wellFormedKey(keyType: string, base64: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) return undefined;
  const blob = Buffer.from(base64, 'base64');
  let at = 0;
  let fieldsRead = 0;
  while (at < blob.length) {
    if (at + 4 > blob.length) return undefined;
    at += 4 + blob.readUInt32BE(at);
    fieldsRead += 1;
  }
  if (at !== blob.length || fieldsRead < 2) return undefined;
  return keyTypeOf(blob) === keyType ? blob : undefined;
}

/** The name ssh(1) looks up: the bare host on port 22, `[host]:port` on any other port. */
export function knownHostsName(host: string, port: number): string {
  const name = host.toLowerCase();
  return port === 22 ? name : `[${name}]:${port}`;
}

/** Does a host pattern field match `name` (as made by knownHostsName)? */
export function hostMatches(hosts: string, name: string): boolean {
  if (hosts.startsWith('|1|')) return hashedMatches(hosts, name);
  let matched = false;
  for (const pattern of hosts.split(',')) {
    const negated = pattern.startsWith('!');
    if (!globMatches(negated ? pattern.slice(1) : pattern, name)) continue;
    // As in OpenSSH, a matching negation excludes the host whatever else on the line matches.
    if (negated) return false;
    matched = true;
  }
  return matched;
}

/** `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`, as written with HashKnownHosts. */
function hashedMatches(hosts: string, name: string): boolean {
  const [, , salt, hash] = hosts.split('|');
  if (salt === undefined || hash === undefined) return false;
  const expected = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
  return expected === hash;
}

/** Compiled once per pattern for the whole run: a known_hosts file is matched against every host. */
const globs = new Map<string, RegExp>();

function globMatches(pattern: string, name: string): boolean {
  if (!/[*?]/.test(pattern)) return pattern.toLowerCase() === name;
  let re = globs.get(pattern);
  if (!re) {
    const source = pattern.replace(/[.+^${}()|[\]\\*?]/g, (c) => (c === '*' ? '.*' : c === '?' ? '.' : `\\${c}`));
    re = new RegExp(`^${source}$`, 'i');
    globs.set(pattern, re);
  }
  return re.test(name);
}

export function checkHostKey(entries: readonly KnownHostEntry[], name: string, key: Buffer): HostKeyVerdict {
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
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
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
    if (e.hosts.startsWith('|1|') || names.some((n) => /[*?!]/.test(n))) {
      this.others.push(e);
      return;
    }
    for (const n of names) {
      const key = n.toLowerCase();
      this.byName.set(key, [...(this.byName.get(key) ?? []), e]);
    }
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
