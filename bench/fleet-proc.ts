/**
 * Measuring one command of the fleet benchmark as a user would run it: its wall time, the CPU time
 * and peak memory of its whole process tree, and its output, with nothing of it left behind.
 *
 * The command runs as `unshare --pid --fork --kill-child -- python3 fleet-init.py REPORT -- CMD`:
 * fleet-init.py is PID 1 of a fresh PID namespace, so processes that detach from the tree
 * (Ansible's ControlPersist masters) stay visible and are ended with the command (see that file).
 * Meanwhile this process samples the tree under that init every 50 ms through /proc (each
 * process's RSS, summed: the peak of that sum is the tree's peak RSS).
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface Measured {
  /** Exit status of the command. */
  status: number;
  /** From just before the command's fork to its exit, taken by the namespace's init. */
  wallMs: number;
  /** User + system CPU of every process of the tree, ControlMasters included (wait4 rusage). */
  cpuMs: number;
  /** The largest single process's peak RSS (ru_maxrss), MiB. */
  maxRssMiB: number;
  /** Max over the samples of the sum of RSS over the tree (init excluded), MiB. */
  treePeakRssMiB: number;
  /** How many processes the tree had at that sample. */
  treePeakProcs: number;
  /**
   * Max of the sum of PSS over the tree, MiB, sampled every `pssEvery` samples (smaps_rollup walks
   * page tables, so less often). Σ RSS counts the pages forked workers share with their parent
   * once per worker; PSS divides each shared page among its sharers, so Σ PSS is the memory the
   * tree really holds.
   */
  treePeakPssMiB: number;
  /** The most processes seen in one sample. */
  maxProcs: number;
  samples: number;
  /** CPU this process spent sampling during the run: the harness's own cost. */
  samplerCpuMs: number;
  stdoutBytes: number;
}

export interface MeasureOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** The command's stdout and stderr go to these files (not to pipes read by this process). */
  stdoutFile: string;
  stderrFile: string;
  reportFile: string;
  initScript: string;
  sampleMs?: number;
  /** Every how many samples Σ PSS is taken too (default 10: every 500 ms). */
  pssEvery?: number;
  /** Called with the outer process's PID (unshare), so an interrupt can kill it by PID. */
  onStart?: (pid: number) => void;
}

const PAGE = 4096;

/** `stat` fields we need: RSS (pages) and threads; the comm field may contain spaces. */
function readStat(pid: number): { rssPages: number; threads: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // after "(comm) ": state is field 3 → index 0; num_threads is field 20 → 17; rss field 24 → 21
    return { threads: Number(fields[17]), rssPages: Number(fields[21]) };
  } catch {
    return undefined; // gone since we listed it
  }
}

function childrenOf(pid: number, threads: number): number[] {
  const tids = threads > 1 ? safe(() => readdirSync(`/proc/${pid}/task`), [] as string[]) : [String(pid)];
  const out: number[] = [];
  for (const tid of tids) {
    const text = safe(() => readFileSync(`/proc/${pid}/task/${tid}/children`, 'latin1'), '');
    for (const c of text.split(' ')) if (c !== '') out.push(Number(c));
  }
  return out;
}

function safe<T>(f: () => T, fallback: T): T {
  try {
    return f();
  } catch {
    return fallback;
  }
}

/** Proportional set size of a process, bytes (0 if it is gone). */
function readPss(pid: number): number {
  const text = safe(() => readFileSync(`/proc/${pid}/smaps_rollup`, 'latin1'), '');
  const m = /^Pss:\s+(\d+) kB/m.exec(text);
  return m ? Number(m[1]) * 1024 : 0;
}

/** One sample: Σ RSS (and Σ PSS if asked) and count of every process under `init` (init itself excluded). */
function sampleTree(init: number, withPss: boolean): { rss: number; pss: number; procs: number } {
  let rss = 0;
  let pss = 0;
  let procs = 0;
  const initStat = readStat(init);
  const queue = initStat ? childrenOf(init, initStat.threads) : [];
  while (queue.length > 0) {
    const pid = queue.pop()!;
    const st = readStat(pid);
    if (!st) continue;
    rss += st.rssPages * PAGE;
    if (withPss) pss += readPss(pid);
    procs += 1;
    queue.push(...childrenOf(pid, st.threads));
  }
  return { rss, pss, procs };
}

export function measure(argv: readonly string[], options: MeasureOptions): Promise<Measured> {
  const sampleMs = options.sampleMs ?? 50;
  const out = openSync(options.stdoutFile, 'w');
  const err = openSync(options.stderrFile, 'w');
  const child = spawn('unshare', ['--pid', '--fork', '--kill-child', '--', '/usr/bin/python3', options.initScript, options.reportFile, '--', ...argv], {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', out, err],
    // its own process group: a Ctrl-C at the terminal reaches the bench, which then kills this
    // child by PID (and --kill-child takes the namespace with it)
    detached: true,
  });
  closeSync(out);
  closeSync(err);
  if (child.pid !== undefined) options.onStart?.(child.pid);

  const pssEvery = options.pssEvery ?? 10;
  let peak = { rss: 0, procs: 0 };
  let peakPss = 0;
  let maxProcs = 0;
  let samples = 0;
  let init: number | undefined;
  const cpu0 = process.cpuUsage();
  const tick = () => {
    if (child.pid === undefined) return;
    init ??= childrenOf(child.pid, 1)[0];
    if (init === undefined) return;
    const s = sampleTree(init, samples % pssEvery === 0);
    samples += 1;
    maxProcs = Math.max(maxProcs, s.procs);
    peakPss = Math.max(peakPss, s.pss);
    if (s.rss > peak.rss) peak = { rss: s.rss, procs: s.procs };
  };
  const timer = setInterval(tick, sampleMs);

  return new Promise((resolve, reject) => {
    child.on('error', (e) => {
      clearInterval(timer);
      reject(e);
    });
    child.on('exit', () => {
      clearInterval(timer);
      const cpu = process.cpuUsage(cpu0);
      let report: { status: number; wallMs: number; cpuUserMs: number; cpuSysMs: number; maxRssKiB: number };
      try {
        report = JSON.parse(readFileSync(options.reportFile, 'utf8'));
      } catch {
        return reject(new Error(`${argv.join(' ')}: no report from fleet-init.py (killed?); stderr in ${options.stderrFile}`));
      }
      resolve({
        status: report.status,
        wallMs: report.wallMs,
        cpuMs: report.cpuUserMs + report.cpuSysMs,
        maxRssMiB: report.maxRssKiB / 1024,
        treePeakRssMiB: peak.rss / 2 ** 20,
        treePeakProcs: peak.procs,
        treePeakPssMiB: peakPss / 2 ** 20,
        maxProcs,
        samples,
        samplerCpuMs: (cpu.user + cpu.system) / 1000,
        stdoutBytes: statSync(options.stdoutFile).size,
      });
    });
  });
}

/** Clock ticks per second for /proc/PID/stat times (USER_HZ: 100 on every Linux we run on). */
const USER_HZ = 100;

/**
 * CPU (ms) of the finished children of a process: cutime + cstime. For a host's sshd listener that
 * is every connection it served, with everything the sessions ran (shells, probes), once reaped.
 */
export function reapedChildrenCpuMs(pid: number): number {
  const text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // cutime is field 16 → index 13, cstime field 17 → 14
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / USER_HZ;
}

/** Read a pid file written by fleet-hosts.sh. */
export function readPid(dir: string, file: string): number {
  return Number(readFileSync(join(dir, 'pids', file), 'utf8').trim());
}
