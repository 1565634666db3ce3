/**
 * Identity files, read and decrypted once per run (per file and passphrase), not once per host.
 *
 * An encrypted OpenSSH key is decrypted with bcrypt_pbkdf (16 rounds by ssh-keygen's default,
 * ~240 ms of CPU here), and ssh2, given the file's text, parses it again in every connection: with
 * the check in credentials() that was two decryptions per host, on the control's one JavaScript
 * thread, before the host's handshake could go on (200 hosts: ~96 s). The parsed key is handed to
 * ssh2 as it is (ssh2's parseKey passes a parsed key through). Like known_hosts (host-key.ts), each
 * file is read once per run: a run is one process.
 */
import { readFile } from 'node:fs/promises';
import ssh2, { type ParsedKey } from 'ssh2';

/** The key, or why it cannot be used (said without the passphrase, for any host's message). */
export type Identity = { key: ParsedKey } | { problem: string };

const identities = new Map<string, Promise<Identity>>();

export function loadIdentity(path: string, passphrase: string | undefined): Promise<Identity> {
  // The passphrase is part of the key (a wrong one is its own result), kept only in this map.
  const id = `${path}\0${passphrase ?? ''}`;
  let identity = identities.get(id);
  if (!identity) {
    identity = parseIdentity(path, passphrase);
    identities.set(id, identity);
  }
  return identity;
}

async function parseIdentity(path: string, passphrase: string | undefined): Promise<Identity> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    return { problem: `cannot read identity file ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}` };
  }
  const parsed = ssh2.utils.parseKey(text, passphrase);
  if (parsed instanceof Error) return { problem: `cannot use identity file ${path}: ${parsed.message}` };
  // An OpenSSH key file can hold several keys; ssh2 and ssh(1) use the first.
  const key = Array.isArray(parsed) ? (parsed[0] as ParsedKey | undefined) : parsed;
  if (key === undefined || !key.isPrivateKey()) return { problem: `cannot use identity file ${path}: it holds no private key (a .pub file?)` };
  return { key };
}
