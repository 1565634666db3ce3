/**
 * Privilege escalation with sudo, shared by the SSH and local transports.
 *
 * The script must reach /bin/sh on stdin, and sudo -S reads its password from that same stdin, so
 * what is written when matters. Blindly sending "password\nscript" breaks whenever sudo does not
 * ask (NOPASSWD, cached credentials): /bin/sh would run the password as a command and echo it in
 * "not found". Instead sudo runs a tiny wrapper that prints a unique marker on stderr and then
 * execs `/bin/sh -s`:
 *   - sudo's prompt (unique too, via -p) on stderr → the password is written, once;
 *   - the marker on stderr → sudo is done with stdin and the shell is ready: the script is written;
 *   - the process ends before the marker → sudo refused; the script never ran.
 * A second prompt means the password was wrong: stdin is closed so sudo gives up.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { BecomeConfig } from '../inventory/model.js';
import { expandHome } from './home.js';
import { TransportError } from './types.js';

/** How to start the script's shell: argv, and for become the gate that drives sudo's stdin. */
export interface Launch {
  argv: string[];
  become?: BecomeGate;
}

export function launch(become: BecomeConfig | undefined, password: string | undefined): Launch {
  if (become === undefined) return { argv: ['/bin/sh', '-s'] };
  const nonce = randomBytes(12).toString('hex');
  const prompt = `[lvsplay-sudo-${nonce}] password: `;
  const marker = `lvsplay-become-${nonce}`;
  const wrapper = `printf '%s\\n' ${marker} >&2; exec /bin/sh -s`;
  return {
    argv: ['sudo', '-S', '-p', prompt, '-u', become.user, '--', '/bin/sh', '-c', wrapper],
    become: new BecomeGate(become.user, prompt, marker, password),
  };
}

/** What the gate needs from the process it drives. */
export interface GateIo {
  writePassword(text: string): void;
  startScript(): void;
  giveUp(): void;
}

export class BecomeGate {
  readonly #user: string;
  readonly #prompt: string;
  readonly #marker: string;
  // Private (#) so that inspecting or serialising a transport can never show it.
  readonly #password: string | undefined;
  #before = '';
  #promptsAnswered = 0;
  #open = false;

  constructor(user: string, prompt: string, marker: string, password: string | undefined) {
    this.#user = user;
    this.#prompt = prompt;
    this.#marker = marker;
    this.#password = password;
  }

  /** Whether the script's shell started (the marker was seen). */
  get opened(): boolean {
    return this.#open;
  }

  /**
   * Takes stderr text as it arrives; returns the part that belongs in the result's stderr, which
   * is the script's alone: what sudo says before the marker (prompts, the first-use lecture) is
   * kept only to explain a failure.
   */
  feed(text: string, io: GateIo): string {
    if (this.#open) return text;
    this.#before += text;
    const prompts = this.#before.split(this.#prompt).length - 1;
    while (this.#promptsAnswered < prompts) {
      this.#promptsAnswered += 1;
      if (this.#promptsAnswered === 1 && this.#password !== undefined) io.writePassword(`${this.#password}\n`);
      else io.giveUp();
    }
    const at = this.#before.indexOf(`${this.#marker}\n`);
    if (at < 0) return '';
    this.#open = true;
    io.startScript();
    return this.#before.slice(at + this.#marker.length + 1);
  }

  /** The error for a process that ended before the marker: sudo did not run the shell. */
  failure(host: string): TransportError {
    const sudoSaid = this.#before.replaceAll(this.#prompt, '').trim();
    const why =
      this.#promptsAnswered === 0
        ? 'sudo did not start the shell'
        : this.#password === undefined
          ? 'sudo asked for a password and become has no password_env or password_file'
          : 'sudo did not accept the become password';
    return new TransportError('auth', host, `${host}: become ${this.#user} failed: ${why}${sudoSaid === '' ? '' : ` (sudo said: ${sudoSaid})`}`);
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
