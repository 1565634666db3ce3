/**
 * Host key policy: the key a server presents is checked against known_hosts before any credential
 * is sent. A host with no recorded key is refused unless the inventory says `accept-new` (then its
 * key is recorded, hashed when the file already hashes names, as OpenSSH's
 * StrictHostKeyChecking=accept-new with HashKnownHosts does); a host whose recorded keys do not
 * include the offered one, whatever its type, or whose key is revoked, is always refused.
 * known_hosts is read and parsed once per file for the whole run, and looked up by name.
 */
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ServerHostKeyAlgorithm } from 'ssh2';
import { checkHostKey, fingerprint, KnownHosts, keyTypeOf, knownHostsLine, knownHostsName, parseKnownHosts, recordedKeyTypes } from './known-hosts.js';
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

export async function guardHostKey(
  hostName: string,
  endpoint: { host: string; port: number },
  knownHostsPath: string,
  policy: 'strict' | 'accept-new',
): Promise<HostKeyGuard> {
  const known = await loadKnownHosts(knownHostsPath).catch((err: Error) => {
    throw new TransportError('hostkey', hostName, `cannot read ${knownHostsPath}: ${err.message}`, { cause: err });
  });
  const name = knownHostsName(endpoint.host, endpoint.port);
  const entries = known.forHost(name);
  const where = `${hostName} (${endpoint.host} port ${endpoint.port})`;
  const guard: HostKeyGuard = {
    // The server picks from our list in our order, so a host recorded with an RSA key only is
    // asked for RSA first, as ssh(1) does; otherwise a second key type would look unknown.
    preferredAlgorithms: recordedKeyTypes(entries, name).flatMap((t) => ALGORITHMS[t] ?? []),
    verify(key, done) {
      const refuse = (message: string) => {
        guard.refusal = new TransportError('hostkey', hostName, message);
        done(false);
      };
      const type = keyTypeOf(key);
      const verdict = checkHostKey(entries, name, key);
      switch (verdict.status) {
        case 'known':
          return done(true);
        case 'revoked':
          return refuse(
            `host key for ${where} is REVOKED: the ${type} key ${fingerprint(key)} is marked @revoked in ` +
              `${knownHostsPath}:${verdict.entry.line}; refusing to connect`,
          );
        case 'changed':
          return refuse(
            `REMOTE HOST IDENTIFICATION HAS CHANGED for ${where}: it offers the ${type} key ${fingerprint(key)}, ` +
              `but ${knownHostsPath}:${verdict.entry.line} records the ${verdict.entry.keyType} key ${fingerprint(verdict.entry.key)}` +
              `${verdict.entry.keyType === type ? '' : ' (a host that no longer offers a recorded key is refused whatever the policy, as OpenSSH does)'}. ` +
              `Someone could be eavesdropping (man-in-the-middle), or the host key was just changed. ` +
              `If the change is expected, remove the old key (ssh-keygen -R '${name}' -f ${knownHostsPath}) and connect again.`,
          );
        case 'unknown':
          if (policy === 'accept-new') {
            recordKey(knownHostsPath, known, name, key).then(
              () => done(true),
              (err: unknown) => refuse(`cannot record the host key for ${where} in ${knownHostsPath}: ${(err as Error).message}`),
            );
            return;
          }
          return refuse(
            `host key for ${where} is not known: the ${type} key ${fingerprint(key)} is not in ${knownHostsPath}` +
              `. Check the fingerprint on the host (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub), then add it ` +
              `(ssh-keyscan -p ${endpoint.port} ${endpoint.host} >> ${knownHostsPath}) or set host_key_policy: accept-new.`,
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
    known = readIfExists(path).then((text) => new KnownHosts(parseKnownHosts(text)));
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
      known.add({ ...parseKnownHosts(line)[0]!, line: existing.split('\n').length + (separator ? 1 : 0) });
    });
  appends.set(path, next);
  return next;
}
