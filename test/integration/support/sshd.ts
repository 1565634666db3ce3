/**
 * A throwaway real OpenSSH server for the transport tests: its own config, host key, client key
 * and pid file in a temp dir, listening on 127.0.0.1 only, on a free port. stop() ends exactly
 * the processes it started (found by PID, never by name) and removes the dir.
 *
 * sshd runs in its own mount namespace where /etc, /home, /var/lib and /var/log are overlays whose upper
 * halves live in the temp dir, and /run/sudo and /root are its own tmpfs: the users and sudoers drop-ins the
 * become tests need are made there (`inside`), so the machine's own /etc is never written, and
 * nothing is left to undo if the test process dies. The empty /root also keeps the machine's root
 * dotfiles out of every session: bash sources ~/.bashrc under sshd, and a `pyenv init` there
 * waits up to 60 s for a lock when sessions start at once (the timeout test's shell never started).
 */
import { spawn, execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Runs a command (stdin: `input`, or nothing), failing with its stderr; returns its stdout. */
export function run(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, { env: options.env ?? process.env, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${command} ${args.join(' ')}: ${err.message}\n${stderr}`)) : resolve(stdout),
    );
    // A command that does not read its stdin may exit before the write lands: EPIPE is expected.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(options.input ?? '');
  });
}

export interface Sshd {
  port: number;
  dir: string;
  /** The server's public host key as `type base64`, the way known_hosts records it. */
  hostKeyLine: string;
  hostKeyPath: string;
  /** An unencrypted client key, authorized for root. */
  clientKeyPath: string;
  /** `[127.0.0.1]:PORT <hostKeyLine>`. */
  knownHostsPath: string;
  /** Runs a command in sshd's mount namespace (its own /etc): see the file comment. */
  inside(command: string, args: string[], input?: string): Promise<string>;
  /** Authorizes one more public key line for root. */
  authorize(publicKeyLine: string): Promise<void>;
  /** sshd's log so far (LogLevel DEBUG1). */
  log(): string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export async function startSshd(): Promise<Sshd> {
  await mkdir('/run/sshd', { recursive: true });
  const dir = await mkdtemp(join(tmpdir(), 'lvsplay-sshd-'));
  try {
    const hostKeyPath = join(dir, 'host_ed25519');
    const clientKeyPath = join(dir, 'client_ed25519');
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', '', '-f', hostKeyPath]);
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'lvsplay-test', '-f', clientKeyPath]);
    const hostKeyLine = (await readFile(`${hostKeyPath}.pub`, 'utf8')).trim().split(/\s+/).slice(0, 2).join(' ');
    const authorizedKeysPath = join(dir, 'authorized_keys');
    await writeFile(authorizedKeysPath, await readFile(`${clientKeyPath}.pub`, 'utf8'));
    // A port picked free can be taken before sshd binds it: try again with another.
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      try {
        const daemon = await launch(dir, port, hostKeyPath, authorizedKeysPath);
        const knownHostsPath = join(dir, 'known_hosts');
        await writeFile(knownHostsPath, `[127.0.0.1]:${port} ${hostKeyLine}\n`);
        // An uncaught exception ends an ava worker without its after.always hooks: the daemon
        // and its files must not outlive the test process all the same.
        const onExit = () => {
          killQuietly(daemon.pid);
          rmSync(dir, { recursive: true, force: true });
        };
        process.once('exit', onExit);
        return {
          port,
          dir,
          hostKeyLine,
          hostKeyPath,
          clientKeyPath,
          knownHostsPath,
          inside: (command, args, input) => run('nsenter', [`--target=${daemon.pid}`, '--mount', '--', command, ...args], input === undefined ? {} : { input }),
          authorize: (line) => appendFile(authorizedKeysPath, `${line.trim()}\n`),
          log: daemon.log,
          stop: async () => {
            process.off('exit', onExit);
            await daemon.stop();
            await rm(dir, { recursive: true, force: true });
          },
        };
      } catch (err) {
        if (attempt >= 5 || !/Address already in use/.test((err as Error).message)) throw err;
      }
    }
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

async function launch(dir: string, port: number, hostKeyPath: string, authorizedKeysPath: string) {
  const configPath = join(dir, 'sshd_config');
  await writeFile(
    configPath,
    [
      `ListenAddress 127.0.0.1:${port}`,
      `HostKey ${hostKeyPath}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      // Root's key lives in the temp dir; other (throwaway) users keep theirs in their home.
      `AuthorizedKeysFile ${authorizedKeysPath} .ssh/authorized_keys`,
      'UsePAM no',
      'StrictModes no',
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'AllowTcpForwarding yes',
      // Tests connect concurrently; sshd's default (10:30:100) would drop some handshakes.
      'MaxStartups 200',
      // DEBUG1 logs the forwarded (direct-tcpip) channels the jump host test looks for.
      'LogLevel VERBOSE',
      '',
    ].join('\n'),
  );
  // unshare and the shell exec, so the child's PID is sshd's own.
  const overlays = ['etc', 'home', 'var/lib', 'var/log']
    .map((d) => {
      const o = join(dir, 'ovl', d.replace('/', '-'));
      return `mkdir -p ${o}/u ${o}/w && mount -t overlay lvsplay-test -o lowerdir=/${d},upperdir=${o}/u,workdir=${o}/w /${d}`;
    })
    .join(' && ');
  const setup = `set -e; ${overlays}; mkdir -p /run/sudo; mount -t tmpfs -o mode=711 lvsplay-test-sudo /run/sudo; mount -t tmpfs -o mode=700 lvsplay-test-root /root; exec /usr/sbin/sshd -D -e -f ${configPath}`;
  const child = spawn('unshare', ['--mount', '--propagation', 'slave', '/bin/sh', '-c', setup], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => {
    log += text;
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sshd did not start:\n${log}`)), 10_000);
    const onData = () => {
      if (!log.includes(`Server listening on 127.0.0.1 port ${port}`)) return;
      clearTimeout(timer);
      child.stderr.off('data', onData);
      resolve();
    };
    child.stderr.on('data', onData);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`sshd exited:\n${log}`));
    });
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error('sshd has no pid');
  return {
    pid,
    log: () => log,
    stop: async () => {
      // Sessions still open are sshd processes forked from this one; they outlive the listener
      // unless ended too. They are found by parent PID, then the listener itself is ended.
      for (const session of await childrenOf(pid)) killQuietly(session);
      killQuietly(pid);
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
    },
  };
}

async function childrenOf(pid: number): Promise<number[]> {
  const children: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // Field 4 (ppid) follows the parenthesised command name, which may itself contain spaces.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === pid) children.push(Number(entry));
  }
  return children;
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    // already gone
  }
}
