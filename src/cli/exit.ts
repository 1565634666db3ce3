/**
 * Exit statuses, Ansible-like and stable (CI and cron read them):
 * 0 all good; 1 bad input, nothing touched; 2 a host failed; 3 drift found by --check
 * --detailed-exitcode; 4 a host unreachable; 130/143 stopped by SIGINT/SIGTERM (after the recap);
 * 250 an internal error (a bug). When several apply, the graver wins: unreachable, then failed,
 * then drifted. `import` exits 3 (drifted) when its input says something the inventory does not:
 * the cluster differs from the inventory written, as under --check.
 */
import { safeLines } from '../util/terminal.js';

export const EXIT = { ok: 0, badInput: 1, failed: 2, drifted: 3, unreachable: 4, interrupted: 130, terminated: 143, internal: 250 } as const;

/**
 * A line to the user on stderr (`lvsplay: ` first). Such lines quote the command line (a host name,
 * a file, a --limit term): its control characters are shown escaped, as in every other foreign text.
 */
export function say(message: string): void {
  process.stderr.write(`lvsplay: ${safeLines(message)}\n`);
}

/** A bad option: say so, exit 1, touch nothing. */
export function usageError(message: string): false {
  say(message);
  process.exitCode = EXIT.badInput;
  return false;
}
