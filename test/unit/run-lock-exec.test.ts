/**
 * A check's side of the host lock (templates/run/lock.sh.hbs with `hold: false`, then
 * run/lock-after.sh.hbs), run for real by /bin/sh against a lock file of the test's own: while no
 * run holds the host it starts no program (PATH holds nothing) and writes nothing; a run that took
 * the host during the reads is seen (`moved`); a run that holds it is waited for with a real flock.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { hostLock, lockMoved, lockRefusal } from '../../src/run/host-lock.js';
import { Templates } from '../../src/templates/templates.js';
import { cleanup, onlyCommands, runSh, tempDir } from '../support/sh.js';

const templates = new Templates();
const RUN = 'lvsplay-run-00000000000000aa';

/** The check's lock around `reads` (shell standing in for the probe), run with PATH `path`. */
function check(dir: string, reads: string, path: string) {
  const file = join(dir, 'lock', 'lvsplay.lock');
  const lock = hostLock(templates, RUN, false, new Date('2026-12-05T00:00:00Z'), { file, wait: 2 });
  const r = runSh(`${lock.take}${reads}\n${lock.after}`, { env: { PATH: path } });
  return { ...r, refusal: lockRefusal(r.stdout), moved: lockMoved(r.stdout), file };
}

const line = (run: string, pid: number) => `${run} since 2026-12-05T00:00:00Z (holder pid ${pid})\n`;

test('no lock file: the check reads, starts no program and leaves no file or folder behind', (t) => {
  const dir = tempDir();
  try {
    const r = check(dir, 'echo read', onlyCommands(dir, []));
    t.is(r.code, 0, r.stderr);
    t.is(r.refusal, undefined, r.stdout);
    t.false(r.moved);
    t.regex(r.stdout, /^read$/m);
    t.false(existsSync(join(dir, 'lock')));
    t.deepEqual(readdirSync(dir), ['only']);
  } finally {
    cleanup(dir);
  }
});

test('a finished run left its line (its holder is gone): the check reads without flock and does not touch the file', (t) => {
  const dir = tempDir();
  try {
    const r0 = check(dir, ':', onlyCommands(dir, []));
    t.is(r0.code, 0);
    runSh(`mkdir -p '${join(dir, 'lock')}'`);
    // a PID that cannot be running: above the kernel's pid_max
    const left = line('lvsplay-run-00000000000000bb', 99999999);
    writeFileSync(r0.file, left);
    const r = check(dir, 'echo read', onlyCommands(dir, []));
    t.is(r.refusal, undefined, r.stdout + r.stderr);
    t.false(r.moved);
    t.is(runSh(`cat '${r0.file}'`).stdout, left);
  } finally {
    cleanup(dir);
  }
});

test('another run takes the host during the reads (writes its line): the check says moved; the same line again is not moved', (t) => {
  const dir = tempDir();
  try {
    const file = join(dir, 'lock', 'lvsplay.lock');
    runSh(`mkdir -p '${join(dir, 'lock')}'`);
    writeFileSync(file, line('lvsplay-run-00000000000000bb', 99999999));
    const taken = check(dir, `printf '%s' '${line('lvsplay-run-00000000000000cc', 99999998)}' > '${file}'`, onlyCommands(dir, []));
    t.is(taken.refusal, undefined, taken.stdout);
    t.true(taken.moved, taken.stdout);
    t.regex(taken.stdout, /^@@lvsplay-lock moved lvsplay-run-00000000000000cc since /m);
    const rewritten = check(dir, `printf '%s' '${line('lvsplay-run-00000000000000cc', 99999998)}' > '${file}'`, onlyCommands(dir, []));
    t.false(rewritten.moved, rewritten.stdout);
    // a run that takes a host with no lock file yet creates it: moved too
    const fresh = tempDir();
    try {
      const created = check(fresh, `mkdir -p '${join(fresh, 'lock')}' && printf '%s' '${line('lvsplay-run-00000000000000dd', 99999997)}' > '${join(fresh, 'lock', 'lvsplay.lock')}'`, process.env['PATH']!);
      t.true(created.moved, created.stdout);
    } finally {
      cleanup(fresh);
    }
  } finally {
    cleanup(dir);
  }
});

test('a run holds the host (its holder lives, with the flock): the check waits for it with flock, then reads; past the wait, busy', async (t) => {
  const dir = tempDir();
  try {
    const file = join(dir, 'lock', 'lvsplay.lock');
    runSh(`mkdir -p '${join(dir, 'lock')}'`);
    writeFileSync(file, '');
    // the holder: flock on the file for `seconds`, its line naming its own PID, as a run's holder does
    const hold = async (seconds: number) => {
      const holder = spawn('flock', ['-x', file, 'sleep', String(seconds)], { stdio: 'ignore' });
      const closed = new Promise<void>((resolve) => holder.on('close', () => resolve()));
      writeFileSync(file, line('lvsplay-run-00000000000000ee', holder.pid!));
      // until the holder has the flock (a slow machine may take a while to start it)
      while (runSh(`flock -n '${file}' true`).code === 0) await new Promise((r) => setTimeout(r, 20));
      return { closed };
    };
    const path = onlyCommands(dir, ['flock']);
    const short = await hold(1);
    const waited = check(dir, 'echo read', path);
    await short.closed;
    t.is(waited.refusal, undefined, waited.stdout + waited.stderr);
    t.false(waited.moved, waited.stdout);
    t.regex(waited.stdout, /^read$/m);
    const long = await hold(5);
    // held: the check goes the flock way (without flock on PATH it cannot)
    const bare = tempDir();
    try {
      t.regex(check(dir, 'echo read', onlyCommands(bare, [])).refusal ?? '', /flock is not installed/);
    } finally {
      cleanup(bare);
    }
    const busy = check(dir, 'echo read', path);
    t.regex(busy.refusal ?? '', /another lvsplay run holds this host \(lvsplay-run-00000000000000ee since 2026-12-05T00:00:00Z \(holder pid \d+\)\)/);
    t.notRegex(busy.stdout, /^read$/m);
    await long.closed;
  } finally {
    cleanup(dir);
  }
});
