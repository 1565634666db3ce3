/**
 * The control host itself, behind the same interface as a remote one: scripts run with a local
 * /bin/sh (sudo in front when `become` is set), the script on stdin exactly as over SSH.
 */
import { spawn } from 'node:child_process';
import type { SshConfig } from '../inventory/model.js';
import { launch, readBecomePassword, type Launch } from './become.js';
import { exitStatus, runScript } from './run-script.js';
import { TransportError, type ExecOptions, type ExecResult, type Transport } from './types.js';

export class LocalTransport implements Transport {
  readonly host: string;
  readonly #become: SshConfig['become'];
  readonly #password: string | undefined;
  readonly #commandTimeoutMs: number;
  #execCount = 0;

  private constructor(host: string, settings: Pick<SshConfig, 'become' | 'commandTimeoutS'>, password: string | undefined) {
    this.host = host;
    this.#become = settings.become;
    this.#password = password;
    this.#commandTimeoutMs = settings.commandTimeoutS * 1000;
  }

  /** Takes the host's ssh settings (only `become` and `commandTimeoutS` matter here). */
  static async connect(name: string, settings: Pick<SshConfig, 'become' | 'commandTimeoutS'>): Promise<LocalTransport> {
    return new LocalTransport(name, settings, await readBecomePassword(name, settings.become));
  }

  get execCount(): number {
    return this.#execCount;
  }

  exec(script: string, options: ExecOptions = {}): Promise<ExecResult> {
    this.#execCount += 1;
    const start: Launch = launch(this.#become, this.#password);
    const [command, ...args] = start.argv as [string, ...string[]];
    // Its own process group, so a timeout can stop the script's children too, not only its shell.
    const child = spawn(command, args, { stdio: 'pipe', detached: true });
    const exited = new Promise<number>((resolve, reject) => {
      child.once('error', (err) => reject(new TransportError('unreachable', this.host, `${this.host}: cannot start ${command}: ${err.message}`, { cause: err })));
      child.once('close', (code, signal) => resolve(exitStatus(code, signal)));
    });
    const kill = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone, or (under sudo) not ours to kill: nothing more can be done from here.
      }
    };
    return runScript({ stdin: child.stdin, stdout: child.stdout, stderr: child.stderr, exited, kill }, script, start.become, this.host, options.timeoutMs ?? this.#commandTimeoutMs);
  }

  async close(): Promise<void> {
    // Nothing is held open between scripts.
  }
}
