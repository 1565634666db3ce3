/**
 * A host over SSH: one node-ssh connection per host, opened once and reused for every script
 * (probe, apply, verify), optionally through one jump host. Each exec opens a session channel
 * running `/bin/sh -s` (or sudo in front of it) and writes the script to the channel's stdin.
 */
import { connect as tcpConnect } from 'node:net';
import type { Duplex } from 'node:stream';
import { NodeSSH } from 'node-ssh';
import type { AgentAuthMethod, Client, ClientChannel, NoAuthMethod, PublicKeyAuthMethod } from 'ssh2';
import type { SshConfig } from '../inventory/model.js';
import { shellLine } from '../util/shell.js';
import { launch, readBecomePassword } from './become.js';
import { expandHome } from './home.js';
import { guardHostKey } from './host-key.js';
import { loadIdentity } from './identity.js';
import { resolveRoute, type Endpoint } from './route.js';
import { exitStatus, runScript } from './run-script.js';
import { TransportError, type ExecOptions, type ExecResult, type Transport } from './types.js';

const KEEPALIVE_INTERVAL_MS = 15_000;
const KEEPALIVE_COUNT_MAX = 3;
/** How long a timed-out script's host has to answer the order to stop it. */
const KILL_ANSWER_MS = 15_000;
/** How long close() waits for the server to acknowledge the disconnect before dropping the socket. */
const CLOSE_GRACE_MS = 2_000;

export class SshTransport implements Transport {
  readonly host: string;
  readonly #client: Client;
  readonly #jump: Client | undefined;
  readonly #become: SshConfig['become'];
  readonly #password: string | undefined;
  readonly #commandTimeoutMs: number;
  #execCount = 0;
  #closed = false;
  /** Kills of timed-out scripts still under way: close() waits for them. */
  readonly #killing = new Set<Promise<boolean>>();
  /** Why the connection ended, once it has. */
  #lost: string | undefined;

  private constructor(host: string, ssh: SshConfig, client: Client, jump: Client | undefined, password: string | undefined) {
    this.host = host;
    this.#client = client;
    this.#jump = jump;
    this.#become = ssh.become;
    this.#password = password;
    this.#commandTimeoutMs = ssh.commandTimeoutS * 1000;
    // A reset socket or missed keepalives end the connection: the exec in flight and later ones
    // fail with 'unreachable' for this host only, saying why.
    for (const c of [client, jump]) {
      c?.on('error', (err: Error) => {
        this.#lost ??= err.message;
      });
    }
    client.on('close', () => {
      this.#lost ??= 'the connection was closed';
    });
  }

  static async connect(name: string, ssh: SshConfig): Promise<SshTransport> {
    const route = await resolveRoute(name, ssh);
    const password = await readBecomePassword(name, ssh.become);
    let jump: NodeSSH | undefined;
    try {
      let sock: Duplex | undefined;
      if (route.jump !== undefined) {
        jump = await open(name, 'jump host ', route.jump, ssh);
        sock = await forward(name, jump, route.target);
      }
      const target = await open(name, '', route.target, ssh, sock);
      return new SshTransport(name, ssh, connectionOf(target), jump && connectionOf(jump), password);
    } catch (err) {
      jump?.dispose();
      throw err;
    }
  }

  get execCount(): number {
    return this.#execCount;
  }

  async exec(script: string, options: ExecOptions = {}): Promise<ExecResult> {
    this.#execCount += 1;
    if (this.#closed) throw new Error(`${this.host}: exec after close`);
    if (this.#lost !== undefined) throw this.#lostError();
    const start = launch(this.#become, this.#password);
    const channel = await new Promise<ClientChannel>((resolve, reject) => {
      const failed = (err: Error) => reject(new TransportError('unreachable', this.host, `${this.host}: cannot start a session: ${err.message}`, { cause: err }));
      try {
        this.#client.exec(shellLine(start.argv), (err, ch) => (err ? failed(err) : resolve(ch)));
      } catch (err) {
        failed(err as Error);
      }
    });
    const exited = new Promise<number>((resolve, reject) => {
      let status: number | undefined;
      channel.on('exit', (code: number | null, signal?: string) => {
        status = exitStatus(code, signal);
      });
      channel.on('close', () => {
        if (status !== undefined) resolve(status);
        else if (this.#lost !== undefined) reject(this.#lostError());
        else resolve(exitStatus(undefined, undefined));
      });
    });
    // Closing the channel alone leaves the script running (sshd closes its pipes, kills nothing; the
    // SSH "signal" request needs stdin open, and the script was written long before). So a timed-out
    // script is also killed on the host, with its process group, by the PID its shell announced.
    const kill = async (): Promise<boolean> => {
      channel.close();
      if (start.gate.pid === undefined || options.noKill) return true;
      const killing = this.#killRemote(start.gate.pid);
      this.#killing.add(killing);
      try {
        return await killing;
      } finally {
        this.#killing.delete(killing);
      }
    };
    return runScript({ stdin: channel, stdout: channel, stderr: channel.stderr, exited, kill }, script, start.gate, this.host, options.timeoutMs ?? this.#commandTimeoutMs, options.onStdout);
  }

  /** TERM, then KILL 5 s later, to the process group of a timed-out script's shell; false when the host did not answer. */
  async #killRemote(pid: number): Promise<boolean> {
    // /proc/PID/stat: pid (comm) state ppid pgrp ...; the shell's comm ("sh") has no space.
    const script = `if read -r lvsplay_p lvsplay_c lvsplay_s lvsplay_pp lvsplay_g lvsplay_rest < /proc/${pid}/stat 2>/dev/null; then
  kill -TERM -"$lvsplay_g" 2>/dev/null || kill -TERM ${pid} 2>/dev/null
  sleep 5
  kill -KILL -"$lvsplay_g" 2>/dev/null || :
fi
`;
    // The timeout of the exec starts once its session is open; a host that stopped answering never
    // opens one, so the wait for an answer is bounded here as a whole.
    let waited: NodeJS.Timeout | undefined;
    const silent = new Promise<false>((resolve) => (waited = setTimeout(() => resolve(false), KILL_ANSWER_MS)));
    try {
      return await Promise.race([this.exec(script, { timeoutMs: KILL_ANSWER_MS, noKill: true }).then(() => true, () => false), silent]);
    } finally {
      clearTimeout(waited);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await Promise.all([...this.#killing]);
    this.#closed = true;
    const alive = this.#lost === undefined;
    await Promise.all([alive ? end(this.#client) : undefined, this.#jump && end(this.#jump)]);
  }

  #lostError(): TransportError {
    return new TransportError('unreachable', this.host, `${this.host}: connection lost: ${this.#lost}`);
  }
}

function connectionOf(ssh: NodeSSH): Client {
  if (ssh.connection === null) throw new Error('node-ssh reported success without a connection');
  return ssh.connection;
}

/** Ends a connection politely, and drops it if the server does not answer in time. */
function end(client: Client): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      client.destroy();
      resolve();
    }, CLOSE_GRACE_MS);
    client.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    client.end();
  });
}

/** One authenticated connection, to the target or to the jump host (role: a prefix for messages). */
async function open(name: string, role: string, endpoint: Endpoint, ssh: SshConfig, sock?: Duplex): Promise<NodeSSH> {
  const who = `${endpoint.user}@${endpoint.host}:${endpoint.port}`;
  const guard = await guardHostKey(name, endpoint, { user: ssh.knownHosts.map(expandHome), global: ssh.globalKnownHosts.map(expandHome) }, ssh.hostKeyPolicy);
  const auth = await credentials(name, endpoint, ssh);
  const connection = new NodeSSH();
  const socket = sock ?? tcpSocket(endpoint);
  try {
    await connection.connect({
      host: endpoint.host,
      port: endpoint.port,
      username: endpoint.user,
      ...auth.config,
      sock: socket,
      hostVerifier: guard.verify,
      ...(guard.preferredAlgorithms.length > 0 && {
        algorithms: { serverHostKey: { prepend: guard.preferredAlgorithms, append: [], remove: [] } },
      }),
      readyTimeout: ssh.connectTimeoutS * 1000,
      keepaliveInterval: KEEPALIVE_INTERVAL_MS,
      keepaliveCountMax: KEEPALIVE_COUNT_MAX,
    });
    // node-ssh stops listening for 'error' once connected, and an unheard 'error' would crash
    // the whole run; the jump host's connection waits unattended while the target connects.
    // Every such error also closes the connection, and that is what SshTransport acts on.
    connectionOf(connection).on('error', () => undefined);
    return connection;
  } catch (err) {
    connection.dispose();
    socket.destroy();
    if (guard.refusal) throw guard.refusal;
    const e = err as Error & { level?: string };
    if (e.level === 'client-authentication' || e.level === 'agent') {
      throw new TransportError('auth', name, `${name}: ${role}${who} refused authentication (offered: ${auth.tried})`, { cause: err });
    }
    if (e.level === 'client-timeout') {
      throw new TransportError('unreachable', name, `${name}: ${role}${who} did not complete the SSH handshake within ${ssh.connectTimeoutS} s`, { cause: err });
    }
    throw new TransportError('unreachable', name, `${name}: cannot connect to ${role}${who}: ${e.message}`, { cause: err });
  }
}

/**
 * The TCP connection to a host, with Nagle's algorithm off. ssh2 writes each SSH packet with its
 * own write (script data, then EOF; NEWKEYS, then the service request), and with Nagle on, the
 * second waits for the first's ACK, which the server delays by up to 40 ms: measured on a bench
 * host, 40 ms more per handshake and per exec (47 → 88 ms, 30 → 73 ms). Go's net package turns it
 * off for every connection, so Go SSH clients run this way. ssh2 connects the socket itself only
 * when given none, and cannot be told to set the option; it still times the handshake from here
 * (readyTimeout) and reports the socket's errors as its own.
 */
function tcpSocket(endpoint: Endpoint): Duplex {
  return tcpConnect({ host: endpoint.host, port: endpoint.port, noDelay: true });
}

/** A TCP stream to the target, opened by the jump host (what `ssh -J` does). */
function forward(name: string, jump: NodeSSH, target: Endpoint): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    connectionOf(jump).forwardOut('127.0.0.1', 0, target.host, target.port, (err, stream) => {
      if (!err) return resolve(stream);
      reject(new TransportError('unreachable', name, `${name}: the jump host cannot reach ${target.host}:${target.port}: ${err.message}`, { cause: err }));
    });
  });
}

interface Credentials {
  config: { agent?: string; authHandler?: (NoAuthMethod | PublicKeyAuthMethod | AgentAuthMethod)[] };
  /** What was offered, for the message when the server refuses it all. */
  tried: string;
}

/**
 * The agent and the identity file together, as ssh(1) offers them. The key is parsed before
 * connecting (once per run: identity.ts), so a wrong passphrase or a broken file is reported as
 * such, not as a refused login; ssh2 gets the parsed key, in its own default order of methods
 * (none, the key, the agent).
 */
async function credentials(name: string, endpoint: Endpoint, ssh: SshConfig): Promise<Credentials> {
  const agent = ssh.agent === true ? process.env.SSH_AUTH_SOCK : ssh.agent === false ? undefined : expandHome(ssh.agent);
  const offered = agent === undefined ? [] : [`ssh-agent at ${agent}`];
  if (endpoint.identityFile === undefined) {
    return { config: agent === undefined ? {} : { agent }, tried: offered.length > 0 ? offered.join(', ') : 'no ssh-agent and no identity file configured' };
  }
  const path = expandHome(endpoint.identityFile);
  let passphrase: string | undefined;
  if (ssh.identityPassphraseEnv !== undefined) {
    passphrase = process.env[ssh.identityPassphraseEnv];
    if (passphrase === undefined) {
      throw new TransportError('auth', name, `${name}: identity file passphrase: environment variable ${ssh.identityPassphraseEnv} is not set`);
    }
  }
  const identity = await loadIdentity(path, passphrase);
  if ('problem' in identity) throw new TransportError('auth', name, `${name}: ${identity.problem}`);
  const username = endpoint.user;
  return {
    config: {
      authHandler: [
        { type: 'none', username },
        { type: 'publickey', username, key: identity.key },
        ...(agent === undefined ? [] : [{ type: 'agent' as const, username, agent }]),
      ],
    },
    tried: [...offered, `identity file ${path}`].join(', '),
  };
}
