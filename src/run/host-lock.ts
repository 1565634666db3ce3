/**
 * One lvsplay run at a time per host changes it (templates/run/lock.sh.hbs): the run's first
 * change script takes the lock, held on the host for as long as the run's SSH connection or its
 * running script lives (a script that lost its connection goes on to its end, holding the host);
 * every later script of the run checks it still has it. A second run waits a little, then reports
 * the host busy (failed), naming the run that holds it: never interleaved changes.
 *
 * Reading takes no lock while no run holds the host (run/lock-read.sh.hbs): a probe compares the
 * lock file's line before and after its reads (`after`), and is read again when another run took
 * the host meanwhile (`lockMoved`); while another run holds it, the probe waits for it as a run
 * would. The change script is given the line its plan's probe saw (`take(seen)`), and makes no
 * change when another run took the host since (`lockMoved` again: read and plan again). So a
 * check, or a run with nothing to change, starts no process and writes nothing for the lock.
 */
import { randomBytes } from 'node:crypto';
import type { Templates } from '../templates/templates.js';
import { ShellFragment, shq } from '../util/shell.js';

export const LOCK_FILE = '/run/lock/lvsplay.lock';
const WAIT_S = 10;

export interface HostLock {
  /** Shell before a probe: waits while another run holds the host; prints `@@lvsplay-lock ok|busy ...` and `@@lvsplay-lock seen LINE`. */
  read: string;
  /** Shell after a probe's reads: prints `@@lvsplay-lock moved ...` when another run took the host meanwhile. */
  after: string;
  /** Shell before a change planned from reads that saw `seen` (lockSeen): takes (or confirms) this run's lock, or says `moved`. */
  take(seen: string): string;
}

export function newRunId(): string {
  return `lvsplay-run-${randomBytes(8).toString('hex')}`;
}

/**
 * `started`: when the run began, as the busy message shows it (UTC, to the second).
 * `at`: the lock file and how long to wait for it (tests run the scripts against a file of their own).
 */
export function hostLock(templates: Templates, run: string, started = new Date(), at = { file: LOCK_FILE, wait: WAIT_S }): HostLock {
  const since = `${started.toISOString().slice(0, 19)}Z`;
  return {
    read: templates.render('run/lock-read.sh.hbs', { run, ...at }),
    after: templates.render('run/lock-after.sh.hbs', {}),
    take: (seen) => templates.render('run/lock.sh.hbs', { run, ...at, since, seen: new ShellFragment(shq(seen)) }),
  };
}

/** Why the script did not run (another run holds the host), or undefined when it has the lock. */
export function lockRefusal(stdout: string): string | undefined {
  const line = /^@@lvsplay-lock (.*)$/m.exec(stdout)?.[1];
  if (line === 'ok') return undefined;
  if (line === undefined) return 'the host lock was not reported (the script did not start?)';
  if (line.startsWith('busy ')) {
    return `another lvsplay run holds this host (${line.slice(5) || 'owner unknown'}); waited ${WAIT_S} s. If that run is gone, stop its holder process on the host (or remove ${LOCK_FILE})`;
  }
  return `cannot lock the host: ${line.replace(/^unavailable /, '')}`;
}

/** Whether another run took the host during a probe's reads or since them: what they saw may be stale. */
export function lockMoved(stdout: string): boolean {
  return /^@@lvsplay-lock moved /m.test(stdout);
}

/** The lock file's line a probe saw (run/lock-read.sh.hbs), for the change planned from it. */
export function lockSeen(stdout: string): string {
  return /^@@lvsplay-lock seen (.*)$/m.exec(stdout)?.[1] ?? '';
}
