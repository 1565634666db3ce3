/**
 * What every benchmark module shares: its shape, the result rows it returns, and a way to measure
 * one operation in a fresh child process (so each measurement's peak RSS is its own).
 */
import { spawn } from 'node:child_process';

/** One row of the report. */
export interface Result {
  /** What was measured, e.g. "loadInventory: time". */
  measure: string;
  value: number;
  unit: 'ms' | 'MiB' | 'x' | 'count';
  /** Spread over repetitions, sizes, anything that helps read the value. */
  detail?: string;
}

/** A benchmark module's default export. */
export interface Benchmark {
  name: string;
  /** One line: what is measured and against what. */
  description: string;
  run(): Promise<Result[]>;
}

/** What a child process reports about the one operation it ran. */
export interface ChildReport {
  /** Wall time of the operation alone (module loading excluded). */
  ms: number;
  /** Peak resident set size of the whole child process (getrusage ru_maxrss). */
  peakRssMiB: number;
  /** RSS just before the operation: node plus the loaded modules. */
  startRssMiB: number;
  /** Optional extra numbers (e.g. stage timings). */
  extra?: Record<string, number>;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of nothing');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Run `node script ...args` and return the JSON report it prints as its last stdout line. */
export function runChild(script: string, args: readonly string[]): Promise<ChildReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${script} ${args.join(' ')} exited ${code}:\n${err}`));
      const last = out.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(last) as ChildReport);
      } catch {
        reject(new Error(`${script} ${args.join(' ')} printed no report:\n${out}\n${err}`));
      }
    });
  });
}

/** Inside a child: time `op`, then print the report line. */
export async function reportFromChild(op: () => unknown, extra?: () => Record<string, number>): Promise<void> {
  const startRssMiB = process.memoryUsage().rss / 2 ** 20;
  const t0 = performance.now();
  await op();
  const ms = performance.now() - t0;
  const peakRssMiB = process.resourceUsage().maxRSS / 1024; // maxRSS is in KiB
  const report: ChildReport = { ms, peakRssMiB, startRssMiB, ...(extra && { extra: extra() }) };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

export function formatValue(value: number, unit: Result['unit']): string {
  switch (unit) {
    case 'ms':
      return value >= 10_000 ? `${(value / 1000).toFixed(1)} s` : value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(0)} ms`;
    case 'MiB':
      return `${value.toFixed(0)} MiB`;
    case 'x':
      return `${value.toFixed(2)}x`;
    case 'count':
      return String(value);
  }
}

/** A plain text table, columns padded to their widest cell. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
