/**
 * The host lock's scripts (templates/run/lock-read.sh.hbs before a probe, run/lock-after.sh.hbs
 * after it, run/lock.sh.hbs before a change), run for real by /bin/sh against a lock file of the
 * test's own. Reading while no run holds the host starts no program (PATH holds nothing) and
 * writes nothing; a run that took the host during the reads, or between them and the change, is
 * seen (`moved`); a run that holds the host is waited for with a real flock.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { hostLock, lockMoved, lockRefusal, lockSeen } from '../../src/run/host-lock.js';
import { Templates } from '../../src/templates/templates.js';
import { cleanup, onlyCommands, runSh, tempDir } from '../support/sh.js';

const templates = new Templates();
const RUN = 'lvsplay-run-00000000000000aa';
const STARTED = new Date('2026-12-05T00:00:00Z');

const lockOf = (dir: string, run = RUN) => hostLock(templates, run, STARTED, { file: join(dir, 'lock', 'lvsplay.lock'), wait: 2 });
const fileOf = (dir: string) => join(dir, 'lock', 'lvsplay.lock');

/** A probe's lock around `reads` (shell standing in for the probe), run with PATH `path`. */
function read(dir: string, reads: string, path: string, run = RUN) {
  const lock = lockOf(dir, run);
  const r = runSh(`${lock.read}${reads}\n${lock.after}`, { env: { PATH: path } });
  return { ...r, refusal: lockRefusal(r.stdout), moved: lockMoved(r.stdout), seen: lockSeen(r.stdout) };
}

/** A change's lock, for a plan whose reads saw `seen`, then `change` (PATH: this machine's, unless given). */
function take(dir: string, seen: string, change: string, run = RUN, path?: string) {
  const r = runSh(`${lockOf(dir, run).take(seen)}${change}\n`, path === undefined ? {} : { env: { PATH: path } });
  return { ...r, refusal: lockMoved(r.stdout) ? undefined : lockRefusal(r.stdout), moved: lockMoved(r.stdout) };
}

const line = (run: string, pid: number) => `${run} since 2026-12-05T00:00:00Z (holder pid ${pid})`;
// A PID that cannot be running: above the kernel's largest pid_max (2^22)
const GONE = 99999999;
const lockDir = (dir: string) => mkdirSync(join(dir, 'lock'), { recursive: true });
const held = (dir: string) => runSh(`flock -n '${fileOf(dir)}' true`).code !== 0;
/** Whether process `pid` has `file` open on its descriptor 9, as a run's holder does. */
function holdsLockFile(pid: number, file: string): boolean {
  try {
    return readlinkSync(`/proc/${pid}/fd/9`) === file;
  } catch {
    return false;
  }
}

test('no lock file: a probe reads, starts no program and leaves no file or folder behind; it saw an empty line', (t) => {
  const dir = tempDir();
  try {
    const r = read(dir, 'echo read', onlyCommands(dir, []));
    t.is(r.code, 0, r.stderr);
    t.is(r.refusal, undefined, r.stdout);
    t.false(r.moved);
    t.is(r.seen, '');
    t.regex(r.stdout, /^read$/m);
    t.false(existsSync(join(dir, 'lock')));
    t.deepEqual(readdirSync(dir), ['only']);
  } finally {
    cleanup(dir);
  }
});

test('a finished run left its line (its holder is gone): a probe reads without flock, does not touch the file, and reports the line', (t) => {
  const dir = tempDir();
  try {
    lockDir(dir);
    const left = line('lvsplay-run-00000000000000bb', GONE);
    writeFileSync(fileOf(dir), `${left}\n`);
    const r = read(dir, 'echo read', onlyCommands(dir, []));
    t.is(r.refusal, undefined, r.stdout + r.stderr);
    t.false(r.moved);
    t.is(r.seen, left);
    t.is(readFileSync(fileOf(dir), 'utf8'), `${left}\n`);
  } finally {
    cleanup(dir);
  }
});

test('another run takes the host during the reads (writes its line, or creates the file): moved; the same line again is not', (t) => {
  const dir = tempDir();
  try {
    lockDir(dir);
    writeFileSync(fileOf(dir), `${line('lvsplay-run-00000000000000bb', GONE)}\n`);
    const other = line('lvsplay-run-00000000000000cc', GONE - 1);
    const taken = read(dir, `printf '%s\\n' '${other}' > '${fileOf(dir)}'`, onlyCommands(dir, []));
    t.is(taken.refusal, undefined, taken.stdout);
    t.true(taken.moved, taken.stdout);
    t.regex(taken.stdout, /^@@lvsplay-lock moved lvsplay-run-00000000000000cc since /m);
    const rewritten = read(dir, `printf '%s\\n' '${other}' > '${fileOf(dir)}'`, onlyCommands(dir, []));
    t.false(rewritten.moved, rewritten.stdout);
    const fresh = tempDir();
    try {
      const created = read(fresh, `mkdir -p '${join(fresh, 'lock')}' && printf '%s\\n' '${other}' > '${fileOf(fresh)}'`, process.env['PATH']!);
      t.true(created.moved, created.stdout);
    } finally {
      cleanup(fresh);
    }
  } finally {
    cleanup(dir);
  }
});

/** A stand-in for a run's holder: holds the flock on the file for `seconds`; the file names its PID unless `named` is false. */
async function holder(dir: string, seconds: number, named = true): Promise<{ child: ChildProcess; closed: Promise<void> }> {
  const child = spawn('flock', ['-x', fileOf(dir), 'sleep', String(seconds)], { stdio: 'ignore' });
  let ended = false;
  const closed = new Promise<void>((resolve) => child.on('close', () => {
    ended = true;
    resolve();
  }));
  if (named) writeFileSync(fileOf(dir), `${line('lvsplay-run-00000000000000ee', child.pid!)}\n`);
  // until it has the flock (a slow machine may take a while to start it); a holder that came and
  // went before it was seen would leave this loop waiting for ever (the whole suite timed out)
  while (!held(dir)) {
    if (ended) throw new Error(`the flock holder (${seconds} s) ended before it was seen holding the lock: the machine is too slow for this test's timing`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { child, closed };
}

test('another run holds the host (its holder lives, with the flock): a probe waits for it with flock, then reads; past the wait, busy', async (t) => {
  const dir = tempDir();
  try {
    lockDir(dir);
    writeFileSync(fileOf(dir), '');
    const path = onlyCommands(dir, ['flock']);
    const short = await holder(dir, 1);
    const waited = read(dir, 'echo read', path);
    await short.closed;
    t.is(waited.refusal, undefined, waited.stdout + waited.stderr);
    t.false(waited.moved, waited.stdout);
    t.regex(waited.stdout, /^read$/m);
    const long = await holder(dir, 5);
    // held: the probe goes the flock way (without flock on PATH it cannot)
    const bare = tempDir();
    try {
      t.regex(read(dir, 'echo read', onlyCommands(bare, [])).refusal ?? '', /flock is not installed/);
    } finally {
      cleanup(bare);
    }
    const busy = read(dir, 'echo read', path);
    t.regex(busy.refusal ?? '', /another lvsplay run holds this host \(lvsplay-run-00000000000000ee since 2026-12-05T00:00:00Z \(holder pid \d+\)\)/);
    t.notRegex(busy.stdout, /^read$/m);
    await long.closed;
  } finally {
    cleanup(dir);
  }
});

test('a change whose reads saw the current line takes the host: its line names its holder, which has the flock while the change runs; a later probe and change of the same run go on without flock; another run is refused', async (t) => {
  const dir = tempDir();
  let holderPid: number | undefined;
  try {
    const seen = read(dir, ':', onlyCommands(dir, [])).seen;
    // while the change runs, the holder has the flock (it lives as long as the connection, an sshd
    // not found here, or the running script)
    const first = take(dir, seen, `echo changed; flock -n '${fileOf(dir)}' true && echo free || echo held`);
    t.is(first.refusal, undefined, first.stdout + first.stderr);
    t.regex(first.stdout, /^changed\nheld$/m);
    const owner = readFileSync(fileOf(dir), 'utf8');
    holderPid = Number(/^lvsplay-run-00000000000000aa since 2026-12-05T00:00:00Z \(holder pid (\d+)\)\n$/.exec(owner)?.[1]);
    t.true(holderPid > 0, owner);
    // this run's own later scripts: no wait for its own holder, no flock (PATH empty)
    const again = read(dir, 'echo read', onlyCommands(dir, []));
    t.is(again.refusal, undefined, again.stdout + again.stderr);
    t.is(again.seen, owner.trimEnd());
    const second = take(dir, again.seen, 'echo changed again', RUN, onlyCommands(join(dir, 'x'), []));
    t.regex(second.stdout, /^@@lvsplay-lock ok$/m, second.stdout + second.stderr);
    t.regex(second.stdout, /^changed again$/m);
    // another run is refused (busy) while the host is held (here by a stand-in holder on the file,
    // the line left as this run wrote it)
    const stand = await holder(dir, 4, false);
    const other = take(dir, again.seen, 'echo other', 'lvsplay-run-00000000000000ff');
    t.regex(other.refusal ?? '', /another lvsplay run holds this host \(lvsplay-run-00000000000000aa/);
    t.notRegex(other.stdout, /^other$/m);
    await stand.closed;
  } finally {
    // The holder may outlive this shell (it looks for an sshd among its ancestors): end it by its
    // PID, and only while that PID still has this test's lock file open (never a reused PID).
    if (holderPid && holdsLockFile(holderPid, fileOf(dir))) runSh(`kill ${holderPid}`);
    cleanup(dir);
  }
});

test('a change whose reads saw another line (another run took the host since): moved, nothing run, the lock let go, the file unchanged', (t) => {
  const dir = tempDir();
  try {
    lockDir(dir);
    const seen = line('lvsplay-run-00000000000000bb', GONE);
    const now = line('lvsplay-run-00000000000000cc', GONE - 1);
    writeFileSync(fileOf(dir), `${now}\n`);
    const r = take(dir, seen, 'echo changed');
    t.true(r.moved, r.stdout + r.stderr);
    t.regex(r.stdout, /^@@lvsplay-lock moved lvsplay-run-00000000000000cc since /m);
    t.notRegex(r.stdout, /^changed$/m);
    t.is(readFileSync(fileOf(dir), 'utf8'), `${now}\n`);
    t.false(held(dir));
    // a line with quotes and $ in it is compared as it is, not run
    const odd = `it's $(touch ${join(dir, 'ran')}) \`x\` "q"`;
    writeFileSync(fileOf(dir), `${odd}\n`);
    t.true(take(dir, seen, 'echo changed').moved);
    t.false(existsSync(join(dir, 'ran')));
  } finally {
    cleanup(dir);
  }
});
