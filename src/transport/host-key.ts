/**
 * Host key policy: the key a server presents is checked against the known_hosts files (the user's
 * and the system's, as ssh(1)) before any credential is sent. A host with no recorded key is
 * refused unless the inventory says `accept-new` (then its key is recorded in the first user file,
 * hashed when that file already hashes names, as OpenSSH's StrictHostKeyChecking=accept-new with
 * HashKnownHosts does); a host whose recorded keys do not include the offered one, whatever its
 * type, or whose key is revoked, is always refused. Each file is read and parsed once for the
 * whole run, and looked up by name.
 */
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ServerHostKeyAlgorithm } from 'ssh2';
import { checkHostKey, fingerprint, type KnownHostEntry, KnownHosts, keyTypeOf, knownHostsLine, knownHostsName, parseKnownHosts, recordedKeyTypes } from './known-hosts.js';
import { asciiLower } from './ssh-pattern.js';
import { TransportError } from './types.js';

export interface HostKeyGuard {
  /** ssh2's asynchronous hostVerifier: called with the raw key blob during the handshake. */
  verify(key: Buffer, done: (accept: boolean) => void): void;
  /** Host key algorithms to ask for first: the types known_hosts records for this host. */
  preferredAlgorithms: ServerHostKeyAlgorithm[];
  /** Why verify refused, once it has: ssh2 itself only reports "Host denied". */
  refusal?: TransportError;
}

/** Host key algorithms ssh2 negotiates for each known_hosts key type. */
const ALGORITHMS: Record<string, ServerHostKeyAlgorithm[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
};

/** Where a host's keys are looked up: as ssh(1), every user file and every system file, together. */
export interface KnownHostsFiles {
  /** UserKnownHostsFile: read, and the first one is where accept-new records a key. */
  user: readonly string[];
  /** GlobalKnownHostsFile (/etc/ssh/ssh_known_hosts...): read only. */
  global: readonly string[];
}

/**
 * The guard for one connection. As sshconnect.c check_host_key: the keys recorded for the host in
 * all the files are judged together (a key pinned or revoked in the system file counts as much as
 * one in the user's), under the name `[host]:port` (the bare host on port 22), or under the
 * ssh config's HostKeyAlias when there is one; on another port, a host with no key pinned under
 * `[host]:port` (nothing, or only @revoked lines for other keys) is accepted when its bare name
 * records this very key ("found matching key w/out port"). That fallback is stricter than ssh in
 * one way: a key revoked under the bare name is refused.
 */
export async function guardHostKey(
  hostName: string,
  endpoint: { host: string; port: number; hostKeyAlias?: string },
  files: KnownHostsFiles,
  policy: 'strict' | 'accept-new',
): Promise<HostKeyGuard> {
  const paths = [...files.user, ...files.global];
  const known = await Promise.all(paths.map((path) => loadKnownHosts(path).catch((err: Error) => {
    throw new TransportError('hostkey', hostName, `cannot read ${path}: ${err.message}`, { cause: err });
  })));
  const record = files.user[0];
  const forHost = (name: string) => known.flatMap((k) => k.forHost(name));
  // ssh lowercases the alias as it lowercases names: ASCII only (a Kelvin sign stays itself)
  const alias = endpoint.hostKeyAlias === undefined ? undefined : asciiLower(endpoint.hostKeyAlias);
  const name = alias ?? knownHostsName(endpoint.host, endpoint.port);
  const entries = forHost(name);
  // "checking without port identifier": for a host with no key pinned under [host]:port (ssh's
  // HOST_NEW: @revoked lines for other keys pin nothing)
  const pinned = entries.some((e) => !e.revoked);
  const bare = alias === undefined && endpoint.port !== 22 && !pinned ? knownHostsName(endpoint.host, 22) : undefined;
  const bareEntries = bare === undefined ? [] : forHost(bare);
  const where = `${hostName} (${endpoint.host} port ${endpoint.port}${alias === undefined ? '' : `, known as ${alias}`})`;
  const at = (e: KnownHostEntry) => `${e.file}:${e.line}`;
  const listed = paths.join(', ');
  const guard: HostKeyGuard = {
    // The server picks from our list in our order, so a host recorded with an RSA key only is
    // asked for RSA first, as ssh(1) does; otherwise a second key type would look unknown.
    preferredAlgorithms: recordedKeyTypes(pinned ? entries : bareEntries, pinned ? name : bare ?? name).flatMap((t) => ALGORITHMS[t] ?? []),
    verify(key, done) {
      const refuse = (message: string) => {
        guard.refusal = new TransportError('hostkey', hostName, message);
        done(false);
      };
      const type = keyTypeOf(key);
      let verdict = checkHostKey(entries, name, key);
      if (verdict.status === 'unknown' && bare !== undefined) {
        const byBareName = checkHostKey(bareEntries, bare, key);
        if (byBareName.status === 'known' || byBareName.status === 'revoked') verdict = byBareName;
      }
      switch (verdict.status) {
        case 'known':
          return done(true);
        case 'revoked':
          return refuse(
            `host key for ${where} is REVOKED: the ${type} key ${fingerprint(key)} is marked @revoked in ` +
              `${at(verdict.entry)}; refusing to connect`,
          );
        case 'changed':
          return refuse(
            `REMOTE HOST IDENTIFICATION HAS CHANGED for ${where}: it offers the ${type} key ${fingerprint(key)}, ` +
              `but ${at(verdict.entry)} records the ${verdict.entry.keyType} key ${fingerprint(verdict.entry.key)}` +
              `${verdict.entry.keyType === type ? '' : ' (a host that no longer offers a recorded key is refused whatever the policy, as OpenSSH does)'}. ` +
              `Someone could be eavesdropping (man-in-the-middle), or the host key was just changed. ` +
              `If the change is expected, remove the old key (ssh-keygen -R '${name}' -f ${verdict.entry.file}) and connect again.`,
          );
        case 'unknown':
          if (policy === 'accept-new' && record !== undefined) {
            recordKey(record, known[0]!, name, key).then(
              () => done(true),
              (err: unknown) => refuse(`cannot record the host key for ${where} in ${record}: ${(err as Error).message}`),
            );
            return;
          }
          return refuse(
            `host key for ${where} is not known: the ${type} key ${fingerprint(key)} is in none of ${listed}` +
              `. Check the fingerprint on the host (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub), then add it ` +
              `(ssh-keyscan -p ${endpoint.port} ${endpoint.host} >> ${record ?? 'a known_hosts file'}) or set host_key_policy: accept-new.`,
          );
      }
    },
  };
  return guard;
}

/** Each known_hosts file once per run (a run may connect to thousands of hosts). */
const files = new Map<string, Promise<KnownHosts>>();

function loadKnownHosts(path: string): Promise<KnownHosts> {
  let known = files.get(path);
  if (!known) {
    known = readIfExists(path).then((text) => new KnownHosts(parseKnownHosts(text, path)));
    files.set(path, known);
  }
  return known;
}

async function readIfExists(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw err;
  }
}

/**
 * Appends are chained per file: with many hosts connecting at once, each append must see the
 * previous one's trailing newline, or two records could end up on one line.
 */
const appends = new Map<string, Promise<void>>();

function recordKey(path: string, known: KnownHosts, name: string, key: Buffer): Promise<void> {
  const line = knownHostsLine(name, key, known.hashed);
  const next = (appends.get(path) ?? Promise.resolve())
    .catch(() => undefined)
    .then(async () => {
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      const existing = await readIfExists(path);
      const separator = existing === '' || existing.endsWith('\n') ? '' : '\n';
      await appendFile(path, `${separator}${line}\n`, { mode: 0o600 });
      // Later connections of this run see it too.
      known.add({ ...parseKnownHosts(line, path)[0]!, line: existing.split('\n').length + (separator ? 1 : 0) });
    });
  appends.set(path, next);
  return next;
}
