/**
 * Measuring one command of the fleet benchmark as a user would run it: its wall time, the CPU time
 * and peak memory of its whole process tree, and its output, with nothing of it left behind.
 *
 * The command runs as `unshare --pid --fork --mount-proc --kill-child -- python3 fleet-init.py
 * REPORT -- CMD`: fleet-init.py is PID 1 of a fresh PID namespace, so processes that detach from
 * the tree (Ansible's ControlPersist masters) stay in it and are ended with the command (see that
 * file). Meanwhile this process samples every process of that namespace every 50 ms (each one's
 * RSS, summed: the peak of that sum is the tree's peak RSS).
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
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
   * Max of the sum of PSS over the tree, MiB, sampled every `pssEvery` samples, or every sample
   * while the tree has at most 4 processes (smaps_rollup walks page tables, so less often). Σ RSS counts the pages forked workers share with their parent
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
  /** Every how many samples Σ PSS is taken too (default 20: every second). */
  pssEvery?: number;
  /** Called with the outer process's PID (unshare), so an interrupt can kill it by PID. */
  onStart?: (pid: number) => void;
}

const PAGE = 4096;

/** The children of a single-threaded process (unshare's one child is the namespace's init). */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'latin1').split(' ').filter((c) => c !== '').map(Number);
  } catch {
    return [];
  }
}

/**
 * Samples the processes of one PID namespace through the namespace's own /proc (unshare
 * --mount-proc mounted it in the command's mount namespace; /proc/INIT/root/proc reaches it from
 * here): one readdir lists exactly the tree (detached ControlMasters included, nothing else), and
 * each process's statm stays open, re-read with one pread per sample. At N = 200 Ansible runs
 * several hundred processes: opening and parsing files per process per sample would make the
 * sampler itself a real share of a 2-core machine.
 */
class TreeSampler {
  private readonly fds = new Map<string, number>();
  private readonly buf = Buffer.alloc(256);

  constructor(private readonly proc: string) {}

  /** Σ RSS (and Σ PSS if asked) and the count of the namespace's processes, its init (PID 1) excluded. */
  sample(withPss: boolean): { rss: number; pss: number; procs: number } {
    let names: string[];
    try {
      names = readdirSync(this.proc);
    } catch {
      return { rss: 0, pss: 0, procs: 0 }; // the namespace is gone
    }
    let rss = 0;
    let pss = 0;
    let procs = 0;
    const seen = new Set<string>();
    for (const name of names) {
      if (name === '1' || name.charCodeAt(0) > 57 || name.charCodeAt(0) < 48) continue;
      seen.add(name);
      const pages = this.residentPages(name);
      if (pages === undefined) continue;
      rss += pages * PAGE;
      if (withPss) pss += this.pss(name);
      procs += 1;
    }
    for (const [name, fd] of this.fds) {
      if (!seen.has(name)) {
        closeSync(fd);
        this.fds.delete(name);
      }
    }
    return { rss, pss, procs };
  }

  /** statm's second field; undefined when the process is gone (a dead task's statm reads fail). */
  private residentPages(name: string): number | undefined {
    for (let attempt = 0; attempt < 2; attempt++) {
      let fd = this.fds.get(name);
      try {
        if (fd === undefined) {
          fd = openSync(`${this.proc}/${name}/statm`, 'r');
          this.fds.set(name, fd);
        }
        const n = readSync(fd, this.buf, 0, this.buf.length, 0);
        if (n > 0) return Number(this.buf.toString('latin1', 0, n).split(' ')[1]);
      } catch {
        // gone, or the PID now names another process: reopen once
      }
      if (fd !== undefined) closeSync(fd);
      this.fds.delete(name);
    }
    return undefined;
  }

  /** Proportional set size, bytes (0 if the process is gone). */
  private pss(name: string): number {
    try {
      const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`${this.proc}/${name}/smaps_rollup`, 'latin1'));
      return m ? Number(m[1]) * 1024 : 0;
    } catch {
      return 0;
    }
  }

  close(): void {
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
  }
}

export function measure(argv: readonly string[], options: MeasureOptions): Promise<Measured> {
  const sampleMs = options.sampleMs ?? 50;
  const out = openSync(options.stdoutFile, 'w');
  const err = openSync(options.stderrFile, 'w');
  const child = spawn('unshare', ['--pid', '--fork', '--mount-proc', '--kill-child', '--', '/usr/bin/python3', options.initScript, options.reportFile, '--', ...argv], {
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

  const pssEvery = options.pssEvery ?? 20;
  let peak = { rss: 0, procs: 0 };
  let peakPss = 0;
  let maxProcs = 0;
  let samples = 0;
  let sampler: TreeSampler | undefined;
  let lastProcs = 0;
  const cpu0 = process.cpuUsage();
  const tick = () => {
    if (child.pid === undefined) return;
    if (sampler === undefined) {
      const init = childrenOf(child.pid)[0];
      if (init === undefined) return;
      sampler = new TreeSampler(`/proc/${init}/root/proc`);
    }
    // PSS is cheap for a handful of processes (a node tool): then on every sample
    const s = sampler.sample(samples % pssEvery === 0 || lastProcs <= 4);
    lastProcs = s.procs;
    samples += 1;
    maxProcs = Math.max(maxProcs, s.procs);
    peakPss = Math.max(peakPss, s.pss);
    if (s.rss > peak.rss) peak = { rss: s.rss, procs: s.procs };
  };
  const timer = setInterval(tick, sampleMs);

  return new Promise((resolve, reject) => {
    child.on('error', (e) => {
      clearInterval(timer);
      sampler?.close();
      reject(e);
    });
    child.on('exit', () => {
      clearInterval(timer);
      sampler?.close();
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
