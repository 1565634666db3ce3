/**
 * One lvsplay run at a time per host (templates/run/lock.sh.hbs): the run's first probe takes the
 * lock, held on the host for as long as the run's SSH connection or its running script lives (a
 * script that lost its connection goes on to its end, holding the host); every later script of the
 * run checks it still has it. A second run waits a little, then reports the host busy (failed),
 * naming the run that holds it: never interleaved changes. A run that changes nothing (--check,
 * `hold: false`) takes no lock while no run holds the host: it compares the lock file's line
 * before and after its reads (`after`), and reads again when another run took the host meanwhile
 * (`lockMoved`); while a run holds it, it waits for it as a run would. A check then starts no
 * process and writes nothing for the lock, the usual case of a drift check in cron or CI.
 */
import { randomBytes } from 'node:crypto';
import type { Templates } from '../templates/templates.js';

export const LOCK_FILE = '/run/lock/lvsplay.lock';
const WAIT_S = 10;

export interface HostLock {
  /** Shell that takes (or confirms) this run's lock and prints `@@lvsplay-lock ok|busy ...`. */
  take: string;
  /** Shell run after a check's reads: prints `@@lvsplay-lock moved ...` when another run took the host meanwhile ('' for a run that holds the lock). */
  after: string;
}

export function newRunId(): string {
  return `lvsplay-run-${randomBytes(8).toString('hex')}`;
}

/**
 * `hold`: keep the host for the whole run (a run that may change it), or per script (a check).
 * `started`: when the run began, as the busy message shows it (UTC, to the second).
 * `at`: the lock file and how long to wait for it (tests run the scripts against a file of their own).
 */
export function hostLock(templates: Templates, run: string, hold: boolean, started = new Date(), at = { file: LOCK_FILE, wait: WAIT_S }): HostLock {
  const since = `${started.toISOString().slice(0, 19)}Z`;
  const take = templates.render('run/lock.sh.hbs', { run, ...at, since, hold });
  return { take, after: hold ? '' : templates.render('run/lock-after.sh.hbs', {}) };
}

/** Whether another run took the host while a check read it (HostLock.after): its reads may hold half a change. */
export function lockMoved(stdout: string): boolean {
  return /^@@lvsplay-lock moved /m.test(stdout);
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
