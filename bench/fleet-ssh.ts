/**
 * The fleet benchmark's own minimal SSH: the hosts `fleet-hosts.sh up` wrote, their known_hosts,
 * and "one ssh2 connection per host, all in parallel, one exec each". The floor (fleet-floor.ts)
 * is exactly `execOnAll`, so this module imports nothing but ssh2 and node builtins: what it
 * costs to load is part of the floor. The bench also uses it, outside any measurement, to reset
 * and inspect the hosts.
 */
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import ssh2 from 'ssh2';

/** One line of DIR/hosts.tsv. */
export interface FleetHost {
  name: string;
  /** Its network namespace (lvsbench-h<i>). */
  netns: string;
  /** eth0's address on the bridge. */
  address: string;
  prefix: number;
  /** The outer relay on 127.0.0.1. */
  port: number;
}

export interface ExecOutcome {
  host: string;
  code: number | null;
  stdout: string;
  stderr: string;
  /** Set when the host could not be reached or refused us. */
  error?: string;
}

export function readHosts(dir: string): FleetHost[] {
  return readFileSync(join(dir, 'hosts.tsv'), 'utf8').trim().split('\n').map((line) => {
    const [name = '', netns = '', address = '', prefix = '', port = ''] = line.split('\t');
    return { name, netns, address, prefix: Number(prefix), port: Number(port) };
  });
}

/** `[127.0.0.1]:PORT ssh-ed25519 BASE64` lines → port → key blob. */
export function readKnownHosts(dir: string): Map<number, Buffer> {
  const keys = new Map<number, Buffer>();
  for (const line of readFileSync(join(dir, 'known_hosts'), 'utf8').split('\n')) {
    const m = /^\[127\.0\.0\.1\]:(\d+) (\S+) (\S+)$/.exec(line.trim());
    if (m) keys.set(Number(m[1]), Buffer.from(m[3]!, 'base64'));
  }
  return keys;
}

/**
 * Connect to every host at once, run `command` once on each (with `stdin` written to it, if
 * given), and close. Host keys are verified: a host whose key is not exactly the recorded one is
 * an error, never a connection.
 */
export function execOnAll(dir: string, hosts: readonly FleetHost[], command: string | ((h: FleetHost) => string), stdin?: string): Promise<ExecOutcome[]> {
  const privateKey = readFileSync(join(dir, 'id_bench'));
  const known = readKnownHosts(dir);
  return Promise.all(hosts.map((host) => execOne(host, privateKey, known.get(host.port), typeof command === 'string' ? command : command(host), stdin)));
}

function execOne(host: FleetHost, privateKey: Buffer, hostKey: Buffer | undefined, command: string, stdin: string | undefined): Promise<ExecOutcome> {
  return new Promise((resolve) => {
    const client = new ssh2.Client();
    let settled = false;
    const done = (outcome: ExecOutcome) => {
      if (settled) return;
      settled = true;
      client.end();
      resolve(outcome);
    };
    client.on('error', (err: Error) => done({ host: host.name, code: null, stdout: '', stderr: '', error: err.message }));
    client.on('ready', () => {
      client.exec(command, (err, channel) => {
        if (err) return done({ host: host.name, code: null, stdout: '', stderr: '', error: err.message });
        let stdout = '';
        let stderr = '';
        let code: number | null = null;
        channel.on('data', (d: Buffer) => (stdout += d.toString()));
        channel.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        channel.on('exit', (c: number | null) => (code = c));
        channel.on('close', () => done({ host: host.name, code, stdout, stderr }));
        channel.end(stdin);
      });
    });
    client.connect({
      // Nagle's algorithm off, as lvsplay has it (src/transport/ssh.ts): with it on, each
      // handshake and exec waits ~40 ms for a delayed ACK, and the floor would not be the least
      // a tool must spend.
      sock: connect({ host: '127.0.0.1', port: host.port, noDelay: true }),
      username: 'root',
      privateKey,
      // ed25519 is all these hosts have; asking for it first is what lvsplay does too (it
      // prepends the key types known_hosts records for the host).
      algorithms: { serverHostKey: ['ssh-ed25519'] },
      hostVerifier: (key: Buffer) => hostKey !== undefined && key.equals(hostKey),
      readyTimeout: 60_000,
    });
  });
}
