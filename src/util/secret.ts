/**
 * Secret text lvsplay must send to a host but never print: a VRRP password inside keepalived.conf.
 * Scripts carry a placeholder token where the secret goes; the runner swaps in the real text just
 * before it sends the script (`revealSecrets`). Anything that prints a plan, a script or a result
 * (plan lists, --diff, --json, `render`) sees only the token and `(secret content not shown)`:
 * a Secret serialises, stringifies and inspects as that.
 */
import { inspect } from 'node:util';
import { expandHome } from '../transport/home.js';
import { InputFileError, readInputFile } from './input-file.js';
import { InputError, type Place } from './problems.js';

export const NOT_SHOWN = '(secret content not shown)';

export class Secret {
  readonly #value: string;

  /** `token` is what scripts carry instead of the value: plain text, safe unquoted in sh. */
  constructor(readonly token: string, value: string) {
    if (!/^@@lvsplay-secret:[A-Za-z0-9_./:-]+@@$/.test(token)) throw new Error(`bad secret token ${token}`);
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  toJSON(): string {
    return NOT_SHOWN;
  }

  toString(): string {
    return NOT_SHOWN;
  }

  [inspect.custom](): string {
    return NOT_SHOWN;
  }
}

/** The token a file's secret content travels as in scripts: named by the file, not by the content. */
export function secretToken(name: string): string {
  return `@@lvsplay-secret:${name.replace(/[^A-Za-z0-9_./:-]/g, '_')}@@`;
}

/** The script as the host must run it: every secret's token replaced by its value. */
export function revealSecrets(script: string, secrets: readonly Secret[]): string {
  return secrets.reduce((text, s) => text.split(s.token).join(s.reveal()), script);
}

/** Where a secret is read on the control host (never the secret), and where the inventory says so: a bad secret is placed there. */
export type SecretSource = ({ env: string } | { file: string }) & { at?: Place };

/** Bad input about a secret, placed where the inventory names its source (line 0 when it was built by hand). */
export function secretProblem(source: SecretSource, place: { file: string; field: string }, message: string): InputError {
  return new InputError([{ file: source.at?.file ?? place.file, line: source.at?.line ?? 0, col: source.at?.col ?? 0, field: place.field, message }]);
}

/**
 * A secret the inventory names by where it is, read on the control host: an environment variable
 * or a file (a trailing newline, as `echo pass > file` leaves, is not part of it). Failures are
 * bad input, said without the value.
 */
export function readSecret(source: SecretSource, place: { file: string; field: string }): string {
  const fail = (message: string): never => {
    throw secretProblem(source, place, message);
  };
  if ('env' in source) {
    const value = process.env[source.env];
    if (value === undefined || value === '') return fail(`environment variable ${source.env} is not set (it holds the secret on the control host)`);
    return value;
  }
  const path = expandHome(source.file);
  try {
    return readInputFile(path, { maxBytes: 4096 }).replace(/\r?\n$/, '');
  } catch (err) {
    return fail(`the secret file ${path} ${err instanceof InputFileError ? err.message : `cannot be read (${(err as Error).message})`}`);
  }
}
