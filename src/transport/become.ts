/**
 * How a script's shell is started, and privilege escalation with sudo.
 *
 * Every script's shell first prints a unique marker and its own PID on stderr, so lvsplay knows
 * the shell's PID (a timed-out script is killed on the host by it, with its process group), that
 * the shell started, and which stderr is the script's (what a login shell's rc files print before
 * it is not).
 *
 * Without sudo nothing on the host reads stdin before the script's shell, so the command is
 * `/bin/sh -s` itself and the script is written at once, the marker line its first command (as
 * Ansible's pipelining writes its module at once): no wrapper shell to start (a process of a
 * check's few on the host) and no round trip waiting for the marker before the script goes.
 *
 * With sudo the order of writes matters: sudo -S reads its password from the same stdin the
 * script goes to. Blindly sending "password\nscript" breaks whenever sudo does not ask (NOPASSWD,
 * cached credentials): /bin/sh would run the password as a command and echo it in "not found".
 * So sudo runs a tiny wrapper that prints the marker, then execs `/bin/sh -s`:
 *   - sudo's prompt (unique too, via -p) on stderr → the password is written, once;
 *   - the marker on stderr → sudo is done with stdin and the shell is ready: the script is written;
 *   - the process ends before the marker → sudo refused; the script never ran.
 * A second prompt means the password was wrong: stdin is closed so sudo gives up.
 *
 * The shell ignores SIGHUP and SIGPIPE for the script (ignored signals stay ignored across exec,
 * and in every program it runs): when the connection is lost mid-run (sshd killed, link down),
 * the script's output has nowhere to go, and dying at its next `echo` would cut a change half way
 * (an IPVS batch applied but its rules file not written). It finishes instead; the next run's
 * probe sees what it did. run-script.ts makes sure only a whole script ever starts.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { BecomeConfig } from '../inventory/model.js';
import { expandHome } from './home.js';
import { TransportError } from './types.js';

/** How to start the script's shell: argv, and the gate that drives its stdin. */
export interface Launch {
  argv: string[];
  gate: ShellGate;
}

export function launch(become: BecomeConfig | undefined, password: string | undefined): Launch {
  const nonce = randomBytes(12).toString('hex');
  const marker = `lvsplay-shell-${nonce}`;
  const announce = `trap '' HUP PIPE; printf '%s %s\\n' ${marker} "$$" >&2`;
  if (become === undefined) return { argv: ['/bin/sh', '-s'], gate: new ShellGate(marker, { lead: `${announce}\n` }) };
  const prompt = `[lvsplay-sudo-${nonce}] password: `;
  return {
    argv: ['sudo', '-S', '-p', prompt, '-u', become.user, '--', '/bin/sh', '-c', `${announce}; exec /bin/sh -s`],
    gate: new ShellGate(marker, { become: { user: become.user, prompt, password } }),
  };
}

/** What the gate needs from the process it drives. */
export interface GateIo {
  writePassword(text: string): void;
  /** Writes the script, after `lead` (shell that runs first, in the script's own shell). */
  startScript(lead: string): void;
  giveUp(): void;
}

export class ShellGate {
  readonly #marker: string;
  /** Without sudo: the marker's command, written with the script at once. */
  readonly #lead: string | undefined;
  readonly #become: { user: string; prompt: string } | undefined;
  // Private (#) so that inspecting or serialising a transport can never show it.
  readonly #password: string | undefined;
  #before = '';
  #promptsAnswered = 0;
  #open = false;
  #pid: number | undefined;

  /** `lead` (no sudo: the script goes at once) or `become` (it waits for sudo), never both. */
  constructor(marker: string, start: { lead: string; become?: never } | { become: { user: string; prompt: string; password: string | undefined }; lead?: never }) {
    this.#marker = marker;
    this.#lead = start.lead;
    this.#become = start.become && { user: start.become.user, prompt: start.become.prompt };
    this.#password = start.become?.password;
  }

  /** Called once the process is started: without sudo the script goes now, with its marker first. */
  begin(io: GateIo): void {
    if (this.#lead !== undefined) io.startScript(this.#lead);
  }

  /** Whether the script's shell started (the marker was seen). */
  get opened(): boolean {
    return this.#open;
  }

  /** The script's shell's PID on the host, once it started. */
  get pid(): number | undefined {
    return this.#pid;
  }

  /**
   * Takes stderr text as it arrives; returns the part that belongs in the result's stderr, which
   * is the script's alone: what sudo says before the marker (prompts, the first-use lecture) is
   * kept only to explain a failure.
   */
  feed(text: string, io: GateIo): string {
    if (this.#open) return text;
    this.#before += text;
    if (this.#become) {
      const prompts = this.#before.split(this.#become.prompt).length - 1;
      while (this.#promptsAnswered < prompts) {
        this.#promptsAnswered += 1;
        if (this.#promptsAnswered === 1 && this.#password !== undefined) io.writePassword(`${this.#password}\n`);
        else io.giveUp();
      }
    }
    const found = new RegExp(`${this.#marker} (\\d+)\n`).exec(this.#before);
    if (!found) return '';
    this.#open = true;
    this.#pid = Number(found[1]);
    if (this.#lead === undefined) io.startScript('');
    return this.#before.slice(found.index + found[0].length);
  }

  /** The error for a process that ended before the marker: the shell (or sudo) never started it. */
  failure(host: string): TransportError {
    if (!this.#become) return new TransportError('unreachable', host, `${host}: the remote shell did not start: ${this.#before.trim() || 'no output'}`);
    const sudoSaid = this.#before.replaceAll(this.#become.prompt, '').trim();
    const why =
      this.#promptsAnswered === 0
        ? 'sudo did not start the shell'
        : this.#password === undefined
          ? 'sudo asked for a password and become has no password_env or password_file'
          : 'sudo did not accept the become password';
    // Reached the host and was refused privileges: the host failed, it is not unreachable.
    return new TransportError('become', host, `${host}: become ${this.#become.user} failed: ${why}${sudoSaid === '' ? '' : ` (sudo said: ${sudoSaid})`}`);
  }
}

/** The become password, read once when the transport opens; undefined when none is configured. */
export async function readBecomePassword(host: string, become: BecomeConfig | undefined): Promise<string | undefined> {
  if (become === undefined) return undefined;
  let password: string | undefined;
  if (become.passwordEnv !== undefined) {
    password = process.env[become.passwordEnv];
    if (password === undefined) {
      throw new TransportError('auth', host, `${host}: become password: environment variable ${become.passwordEnv} is not set`);
    }
  } else if (become.passwordFile !== undefined) {
    const path = expandHome(become.passwordFile);
    try {
      // A file written by `echo secret > file` ends in a newline that is not part of the password.
      password = (await readFile(path, 'utf8')).replace(/\r?\n$/, '');
    } catch (err) {
      throw new TransportError('auth', host, `${host}: cannot read become password file ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
  }
  if (password?.includes('\n')) {
    throw new TransportError('auth', host, `${host}: the become password contains a line break, which sudo -S cannot read`);
  }
  return password;
}
