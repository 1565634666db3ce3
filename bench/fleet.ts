/**
 * `npm run bench -- fleet` (issue 14): what a check, a no-op run and a first run of the DR
 * real-server job cost at fleet size, against the floor (one Node process, one ssh2 exec per
 * host) and against Ansible, interleaved in one run on the same N hosts (bench/fleet-hosts.sh:
 * network namespaces with their own sshd and /etc). Also: host key verification at M hosts
 * (fleet-hostkeys.ts) and start-up (`--version`, `validate`). Writes bench/results.md.
 *
 * Environment: BENCH_FLEET_N (10,50,200), BENCH_REPS (3), BENCH_FLEET_KNOWN_HOSTS
 * (100,1000,10000), BENCH_FLEET_HASHED_SAMPLE (200), BENCH_FLEET_ANSIBLE=0 (skip Ansible),
 * BENCH_FLEET_ANSIBLE_MAX_N (no limit), BENCH_FLEET_PORT_BASE (24000), BENCH_FLEET_SETTLE_MS
 * (1500), BENCH_FLEET_HOST_SH (bash),
 * BENCH_FLEET_RESULTS (bench/results.md). bench/README.md says what each number means.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import {
  ANSIBLE_PLAYBOOK, ansibleEnv, cleanEnv, expectRecap, Fleet, findAnsible, FLOOR_SCRIPT, loadAvg1, LVSPLAY_CLI, LVSPLAY_PLAYBOOK, REPO_ROOT, type RunOutcome,
} from './fleet-env.js';
import { type HostKeyRow, hostKeyRows } from './fleet-hostkeys.js';
import type { Measured } from './fleet-proc.js';
import { type Benchmark, median, type Result } from './lib.js';

/** "10,50" → [10, 50]; unset → the default; set but empty → none. */
const list = (value: string | undefined, fallback: number[]) =>
  value === undefined ? fallback : value.split(',').filter((v) => v.trim() !== '').map((v) => Number(v.trim()));

export const CONFIG = {
  sizes: list(process.env['BENCH_FLEET_N'], [10, 50, 200]),
  reps: Number(process.env['BENCH_REPS'] ?? 3),
  knownHosts: list(process.env['BENCH_FLEET_KNOWN_HOSTS'], [100, 1000, 10_000]),
  hashedSample: Number(process.env['BENCH_FLEET_HASHED_SAMPLE'] ?? 200),
  portBase: Number(process.env['BENCH_FLEET_PORT_BASE'] ?? 24000),
  settleMs: Number(process.env['BENCH_FLEET_SETTLE_MS'] ?? 1500),
  hostSh: (process.env['BENCH_FLEET_HOST_SH'] === 'dash' ? 'dash' : 'bash') as 'dash' | 'bash',
  ansible: process.env['BENCH_FLEET_ANSIBLE'] === '0' ? undefined : findAnsible(),
  /** Ansible only up to this N (at N = 200 one round of its three runs takes the better part of an hour on 2 cores). */
  ansibleMaxN: Number(process.env['BENCH_FLEET_ANSIBLE_MAX_N'] ?? Infinity),
  resultsFile: process.env['BENCH_FLEET_RESULTS'] ?? join(REPO_ROOT, 'bench/results.md'),
};

/** The runs, in table order. */
const LABELS = ['floor', 'lvsplay check', 'lvsplay no-op', 'lvsplay first', 'ansible check', 'ansible no-op', 'ansible first'] as const;
type Label = (typeof LABELS)[number];
/** SSH sessions per host lvsplay is designed to open: one probe; when something changes, the probe and the apply (its verify probe in the same script). */
const EXPECTED_SESSIONS: Partial<Record<Label, number>> = { floor: 1, 'lvsplay check': 1, 'lvsplay no-op': 1, 'lvsplay first': 2 };

const STARTUP = ['node -e 0', 'lvsplay --version', 'lvsplay validate -i INV'] as const;
type StartupLabel = (typeof STARTUP)[number];

interface Stat {
  median: number;
  min: number;
  max: number;
}
const stat = (xs: number[]): Stat => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs) });

interface Summary {
  label: Label;
  reps: number;
  wallMs: Stat;
  cpuMs: number;
  treeRssMiB: number;
  treePssMiB: number;
  maxRssMiB: number;
  procs: number;
  /** Over every host of every repetition. */
  sessions: Stat;
  connections: Stat;
  /** Median over repetitions of the mean per host. */
  remoteCpuMs: number;
  stdoutBytes: number;
  samplerCpuMs: number;
}

interface SizeResult {
  n: number;
  upMs: number;
  summaries: Map<Label, Summary>;
  startup: Map<StartupLabel, { wallMs: Stat; maxRssMiB: number }>;
  load: Stat;
}

function summarize(label: Label, runs: RunOutcome[]): Summary {
  const m = (f: (x: Measured) => number) => median(runs.map((r) => f(r.m)));
  return {
    label,
    reps: runs.length,
    wallMs: stat(runs.map((r) => r.m.wallMs)),
    cpuMs: m((x) => x.cpuMs),
    treeRssMiB: m((x) => x.treePeakRssMiB),
    treePssMiB: m((x) => x.treePeakPssMiB),
    maxRssMiB: m((x) => x.maxRssMiB),
    procs: Math.max(...runs.map((r) => r.m.maxProcs)),
    sessions: stat(runs.flatMap((r) => r.sessions)),
    connections: stat(runs.flatMap((r) => r.connections)),
    remoteCpuMs: median(runs.map((r) => r.remoteCpuMs.reduce((a, b) => a + b, 0) / r.remoteCpuMs.length)),
    stdoutBytes: m((x) => x.stdoutBytes),
    samplerCpuMs: m((x) => x.samplerCpuMs),
  };
}

/** One size: hosts up, start-up rows, then REPS rounds of floor / lvsplay / Ansible in rotating order. */
async function measureSize(n: number, progress: (s: string) => void): Promise<SizeResult> {
  const fleet = await Fleet.up(n, { portBase: CONFIG.portBase, settleMs: CONFIG.settleMs, hostSh: CONFIG.hostSh });
  progress(`  N=${n}: ${n} hosts up in ${(fleet.upMs / 1000).toFixed(1)} s (${fleet.dir})`);
  const node = process.execPath;
  const lvsplay = (...args: string[]) => [node, LVSPLAY_CLI, 'apply', '-i', fleet.lvsplayInventory, LVSPLAY_PLAYBOOK, '--output', 'plain', '--forks', String(n), ...args];
  const runs = new Map<Label, RunOutcome[]>(LABELS.map((l) => [l, []]));
  const loads: number[] = [];
  const record = (label: Label, r: RunOutcome) => {
    runs.get(label)!.push(r);
    loads.push(r.loadBefore, r.loadAfter);
    const s = r.sessions;
    progress(`    ${label.padEnd(14)} ${(r.m.wallMs / 1000).toFixed(2).padStart(7)} s  cpu ${(r.m.cpuMs / 1000).toFixed(1)} s  rss ${r.m.treePeakRssMiB.toFixed(0)} MiB  sessions/host ${Math.min(...s)}..${Math.max(...s)}  load ${r.loadBefore.toFixed(1)}`);
    return r;
  };
  try {
    // start-up: nothing contacted
    const startupRuns = new Map<StartupLabel, Measured[]>(STARTUP.map((l) => [l, []]));
    const startupArgv: Record<StartupLabel, string[]> = {
      'node -e 0': [node, '-e', '0'],
      'lvsplay --version': [node, LVSPLAY_CLI, '--version'],
      'lvsplay validate -i INV': [node, LVSPLAY_CLI, 'validate', '-i', fleet.lvsplayInventory],
    };
    for (let rep = 0; rep < CONFIG.reps; rep++) {
      for (const label of STARTUP) {
        const m = await fleet.runLocal(label, startupArgv[label], cleanEnv());
        if (m.status !== 0) throw new Error(`${label} exited ${m.status}`);
        startupRuns.get(label)!.push(m);
      }
    }

    const blocks: { name: string; run: () => Promise<void> }[] = [
      {
        name: 'floor',
        run: async () => {
          const r = record('floor', await fleet.run('floor', [node, FLOOR_SCRIPT, fleet.dir], cleanEnv()));
          const answered = JSON.parse(readFileSync(r.stdoutFile, 'utf8')).answered as number;
          if (r.m.status !== 0 || answered !== n) throw new Error(`floor: ${answered} of ${n} hosts answered (see ${r.stderrFile})`);
        },
      },
      {
        name: 'lvsplay',
        run: async () => {
          await fleet.reset();
          expectRecap(record('lvsplay first', await fleet.run('lvsplay first', lvsplay(), cleanEnv())), n, 'all');
          await fleet.verifyConverged('lvsplay first');
          expectRecap(record('lvsplay no-op', await fleet.run('lvsplay no-op', lvsplay(), cleanEnv())), n, 'none');
          // --detailed-exitcode: exit 3 if any host drifted, which expectRecap refuses
          expectRecap(record('lvsplay check', await fleet.run('lvsplay check', lvsplay('--check', '--detailed-exitcode'), cleanEnv())), n, 'none');
        },
      },
    ];
    const ansible = n <= CONFIG.ansibleMaxN ? CONFIG.ansible : undefined;
    if (ansible !== undefined) {
      blocks.push({
        name: 'ansible',
        run: async () => {
          await fleet.reset();
          const play = (label: Label, ...args: string[]) => fleet.run(label, [ansible, ...args, ANSIBLE_PLAYBOOK], ansibleEnv(fleet, label.replace(' ', '-')));
          expectRecap(record('ansible first', await play('ansible first')), n, 'all');
          await fleet.verifyConverged('ansible first');
          expectRecap(record('ansible no-op', await play('ansible no-op')), n, 'none');
          expectRecap(record('ansible check', await play('ansible check', '--check')), n, 'none');
        },
      });
    }
    for (let rep = 0; rep < CONFIG.reps; rep++) {
      // rotate the order, so slow drift of the machine's load does not always favour the same tool
      const order = blocks.map((_, i) => blocks[(i + rep) % blocks.length]!);
      progress(`  N=${n} round ${rep + 1}/${CONFIG.reps}: ${order.map((b) => b.name).join(', ')}`);
      for (const block of order) await block.run();
    }

    const summaries = new Map<Label, Summary>();
    for (const [label, rs] of runs) if (rs.length > 0) summaries.set(label, summarize(label, rs));
    const startup = new Map([...startupRuns].map(([label, ms]) => [label, { wallMs: stat(ms.map((m) => m.wallMs)), maxRssMiB: median(ms.map((m) => m.maxRssMiB)) }] as const));
    return { n, upMs: fleet.upMs, summaries, startup, load: stat(loads) };
  } finally {
    await fleet.down();
  }
}

// ---------------------------------------------------------------------------------------------
// Rows for the bench table.

const secs = (ms: number) => (ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${(ms / 1000).toFixed(2)} s`);
const range = (s: Stat, unit: 'ms' | 'count') => (unit === 'ms' ? `${secs(s.min)}..${secs(s.max)}` : `${s.min}..${s.max}`);

function rowsOf(size: SizeResult): Result[] {
  const p = `N=${size.n}`;
  const out: Result[] = [];
  const s = (l: Label) => size.summaries.get(l);
  for (const l of LABELS) {
    const x = s(l);
    if (!x) continue;
    out.push({ measure: `${p} ${l}: wall time`, value: x.wallMs.median, unit: 'ms', detail: `median of ${x.reps}; ${range(x.wallMs, 'ms')}; control CPU ${secs(x.cpuMs)}; host CPU ${x.remoteCpuMs.toFixed(0)} ms/host` });
  }
  const ratio = (a: Label, b: Label, what: string) => {
    const [x, y] = [s(a), s(b)];
    if (x && y) out.push({ measure: `${p} ${what}`, value: x.wallMs.median / y.wallMs.median, unit: 'x', detail: `${a} / ${b}, medians` });
  };
  ratio('lvsplay check', 'floor', 'lvsplay check / floor');
  ratio('lvsplay no-op', 'floor', 'lvsplay no-op / floor');
  ratio('lvsplay first', 'floor', 'lvsplay first / floor');
  ratio('ansible check', 'lvsplay check', 'Ansible / lvsplay, check');
  ratio('ansible no-op', 'lvsplay no-op', 'Ansible / lvsplay, no-op');
  ratio('ansible first', 'lvsplay first', 'Ansible / lvsplay, first');
  for (const l of LABELS) {
    const x = s(l);
    if (!x) continue;
    out.push({ measure: `${p} ${l}: control peak RSS`, value: x.treeRssMiB, unit: 'MiB', detail: `Σ over ${x.procs} process(es) max; Σ PSS ${x.treePssMiB.toFixed(0)} MiB; largest process ${x.maxRssMiB.toFixed(0)} MiB` });
  }
  for (const l of LABELS) {
    const x = s(l);
    if (!x) continue;
    const expected = EXPECTED_SESSIONS[l];
    out.push({ measure: `${p} ${l}: SSH sessions per host`, value: x.sessions.median, unit: 'count', detail: `min ${x.sessions.min}, max ${x.sessions.max}${expected !== undefined ? ` (by design ${expected})` : ''}; connections per host ${range(x.connections, 'count')}` });
  }
  for (const l of STARTUP) {
    const x = size.startup.get(l)!;
    out.push({ measure: `${p} start-up, ${l}: wall time`, value: x.wallMs.median, unit: 'ms', detail: `${range(x.wallMs, 'ms')}; peak RSS ${x.maxRssMiB.toFixed(0)} MiB` });
  }
  return out;
}

function growthRows(sizes: SizeResult[]): Result[] {
  const [first, last] = [sizes[0], sizes[sizes.length - 1]];
  if (!first || !last || first === last) return [];
  const factor = last.n / first.n;
  const out: Result[] = [];
  for (const l of LABELS) {
    const [a, b] = [first.summaries.get(l), last.summaries.get(l)];
    if (!a || !b) continue;
    out.push({ measure: `growth N=${first.n} → ${last.n}, ${l}: wall time`, value: b.wallMs.median / a.wallMs.median, unit: 'x', detail: `${factor}x the hosts; peak RSS ${(b.treeRssMiB / a.treeRssMiB).toFixed(2)}x, control CPU ${(b.cpuMs / a.cpuMs).toFixed(2)}x` });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// bench/results.md

function commandLine(argv: string[]): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  return `${r.stdout}${r.stderr}`.trim().split('\n')[0] ?? '';
}

function machine(loadAtStart: number): string[] {
  const os = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? 'unknown';
  const ansible = CONFIG.ansible ? commandLine([CONFIG.ansible, '--version']).replace(/^ansible-playbook /, '') : 'not installed (Ansible columns left out)';
  const commit = commandLine(['git', '-C', REPO_ROOT, 'log', '-1', '--format=%h %s']).slice(0, 100);
  return [
    `- lvsplay at ${commit}`,
    `- CPU: ${cpus()[0]?.model ?? 'unknown'}, ${cpus().length} core(s); ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM`,
    `- OS: ${os}, kernel ${release()}`,
    `- node ${process.version}; Ansible ${ansible}; ${commandLine(['ssh', '-V'])}`,
    `- load average (1 min) when the bench started: ${loadAtStart.toFixed(2)}`,
  ];
}

function cell(x: Summary | undefined, f: (x: Summary) => string): string {
  return x ? f(x) : '–';
}

function sizeTable(size: SizeResult): string[] {
  const cols = LABELS.filter((l) => size.summaries.has(l));
  const s = (l: Label) => size.summaries.get(l);
  const floor = s('floor');
  const lvOf = (l: Label): Label | undefined => (l.startsWith('ansible') ? (l.replace('ansible', 'lvsplay') as Label) : undefined);
  const row = (name: string, f: (x: Summary, l: Label) => string) => `| ${name} | ${cols.map((l) => cell(s(l), (x) => f(x, l))).join(' | ')} |`;
  return [
    `### N = ${size.n}`,
    '',
    `${size.n} hosts brought up in ${secs(size.upMs)}; load average during the runs ${size.load.min.toFixed(1)}..${size.load.max.toFixed(1)} (median ${size.load.median.toFixed(1)}).`,
    '',
    `| | ${cols.join(' | ')} |`,
    `|---|${cols.map(() => '---').join('|')}|`,
    row(`wall time (median of ${CONFIG.reps})`, (x) => `**${secs(x.wallMs.median)}**`),
    row('min..max', (x) => range(x.wallMs, 'ms')),
    row('÷ floor', (x) => (floor ? `${(x.wallMs.median / floor.wallMs.median).toFixed(2)}x` : '–')),
    row('Ansible ÷ lvsplay', (x, l) => {
      const lv = lvOf(l);
      const y = lv && s(lv);
      return y ? `${(x.wallMs.median / y.wallMs.median).toFixed(2)}x` : '';
    }),
    row('control peak RSS, Σ tree', (x) => `${x.treeRssMiB.toFixed(0)} MiB`),
    row('control peak PSS, Σ tree', (x) => `${x.treePssMiB.toFixed(0)} MiB`),
    row('largest process peak RSS', (x) => `${x.maxRssMiB.toFixed(0)} MiB`),
    row('processes (max)', (x) => String(x.procs)),
    row('control CPU (user+sys)', (x) => secs(x.cpuMs)),
    row('host CPU per host', (x) => `${x.remoteCpuMs.toFixed(0)} ms`),
    row('SSH connections per host', (x) => (x.connections.min === x.connections.max ? String(x.connections.median) : range(x.connections, 'count'))),
    row('SSH sessions per host', (x, l) => `${x.sessions.min === x.sessions.max ? x.sessions.median : range(x.sessions, 'count')}${EXPECTED_SESSIONS[l] !== undefined ? ` (design: ${EXPECTED_SESSIONS[l]})` : ''}`),
    row('output', (x) => `${(x.stdoutBytes / 1024).toFixed(1)} KiB`),
    row('sampler CPU (harness)', (x) => `${x.samplerCpuMs.toFixed(0)} ms`),
    '',
  ];
}

function growthTable(sizes: SizeResult[]): string[] {
  if (sizes.length < 2) return [];
  const header = `| | ${sizes.map((z) => `N=${z.n}`).join(' | ')} | per host, N=${sizes[sizes.length - 1]!.n} | growth ${sizes[0]!.n}→${sizes[sizes.length - 1]!.n} (${sizes[sizes.length - 1]!.n / sizes[0]!.n}x hosts) |`;
  const lines = ['## Growth with N', '', 'Wall time (medians), then control peak RSS (Σ tree).', '', header, `|---|${sizes.map(() => '---').join('|')}|---|---|`];
  for (const [what, f, fmt] of [
    ['time', (x: Summary) => x.wallMs.median, secs],
    ['RSS', (x: Summary) => x.treeRssMiB, (v: number) => `${v.toFixed(0)} MiB`],
  ] as const) {
    for (const l of LABELS) {
      const xs = sizes.map((z) => z.summaries.get(l));
      if (xs.some((x) => !x)) continue;
      const vals = xs.map((x) => f(x!));
      const lastN = sizes[sizes.length - 1]!.n;
      const perHost = what === 'time' ? `${(vals[vals.length - 1]! / lastN).toFixed(1)} ms` : `${((vals[vals.length - 1]! * 1024) / lastN).toFixed(0)} KiB`;
      lines.push(`| ${l}, ${what} | ${vals.map(fmt).join(' | ')} | ${perHost} | ${(vals[vals.length - 1]! / vals[0]!).toFixed(2)}x |`);
    }
  }
  return [...lines, ''];
}

function startupTable(sizes: SizeResult[]): string[] {
  const lines = ['## Start-up', '', 'No host contacted; `INV` is the N-host inventory of that size. Wall time median (min..max), peak RSS.', '', `| | ${sizes.map((z) => `N=${z.n}`).join(' | ')} |`, `|---|${sizes.map(() => '---').join('|')}|`];
  for (const l of STARTUP) {
    lines.push(`| \`${l}\` | ${sizes.map((z) => {
      const x = z.startup.get(l)!;
      return `${secs(x.wallMs.median)} (${range(x.wallMs, 'ms')}), ${x.maxRssMiB.toFixed(0)} MiB`;
    }).join(' | ')} |`);
  }
  return [...lines, ''];
}

function hostKeyTable(rows: HostKeyRow[]): string[] {
  if (rows.length === 0) return [];
  const lines = [
    '## Host keys: M hosts against an M-line known_hosts',
    '',
    "In-process, lvsplay's own path (`guardHostKey` + `verify`, src/transport/host-key.ts), each measurement in a fresh node process (the file is read and parsed once, in the time).",
    '',
    '| known_hosts | M | total for M names | per name | read + parse + first name | peak RSS | growth vs previous M |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const [i, r] of rows.entries()) {
    const prev = rows[i - 1];
    const growth = prev && prev.kind === r.kind ? `${(r.totalMs / prev.totalMs).toFixed(1)}x for ${r.m / prev.m}x` : '';
    const total = r.sample < r.m ? `${secs(r.totalMs)} (extrapolated from ${r.sample} names)` : secs(r.totalMs);
    lines.push(`| ${r.kind} | ${r.m.toLocaleString('en')} | ${total} | ${r.perNameUs.toFixed(1)} µs | ${r.loadMs.toFixed(0)} ms | ${r.peakRssMiB.toFixed(0)} MiB | ${growth} |`);
  }
  return [...lines, ''];
}

function writeResults(sizes: SizeResult[], keys: HostKeyRow[], loadAtStart: number, started: Date, minutes: number): void {
  const text = [
    '# Fleet benchmark results',
    '',
    `Written by \`npm run bench -- fleet\` (bench/fleet.ts) on ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC, in ${minutes.toFixed(0)} min. bench/README.md says how each number is taken.`,
    `Sizes N = ${sizes.map((z) => z.n).join(', ')}; ${CONFIG.reps} repetition(s), interleaved; hosts' /bin/sh: ${CONFIG.hostSh}; lvsplay and Ansible with forks = N.`,
    '',
    '## Machine',
    '',
    ...machine(loadAtStart),
    '',
    '## Runs',
    '',
    'Columns: the floor (one node process, one ssh2 connection and one exec per host); lvsplay `apply --check`, a no-op `apply` (hosts already converged) and a first `apply` (from clean hosts) of bench/fleet/real-servers.yml; Ansible the same with bench/fleet/real-servers.ansible.yml.',
    '',
    ...sizes.flatMap(sizeTable),
    ...growthTable(sizes),
    ...startupTable(sizes),
    ...hostKeyTable(keys),
  ].join('\n');
  writeFileSync(CONFIG.resultsFile, `${text}\n`);
}

// ---------------------------------------------------------------------------------------------

const fleetBench: Benchmark = {
  name: 'fleet',
  description: `N = ${CONFIG.sizes.join(', ')} namespace hosts: the floor (one ssh2 exec per host) vs lvsplay check / no-op / first apply${CONFIG.ansible ? ' vs Ansible' : ''}; start-up${CONFIG.knownHosts.length > 0 ? `; host keys at M = ${CONFIG.knownHosts.join(', ')}` : ''}`,
  async run(): Promise<Result[]> {
    if (process.getuid?.() !== 0) throw new Error('the fleet benchmark needs root (network and mount namespaces)');
    const progress = (s: string) => process.stderr.write(`${s}\n`);
    const started = new Date();
    const t0 = performance.now();
    const loadAtStart = loadAvg1();
    if (!CONFIG.ansible) progress('  ansible-playbook not found (or BENCH_FLEET_ANSIBLE=0): no Ansible columns');
    const sizes: SizeResult[] = [];
    const results: Result[] = [];
    for (const n of CONFIG.sizes) {
      const size = await measureSize(n, progress);
      sizes.push(size);
      results.push(...rowsOf(size));
    }
    results.push(...growthRows(sizes));
    progress('  host keys');
    const keys = CONFIG.knownHosts.length > 0 ? await hostKeyRows(CONFIG.knownHosts, CONFIG.reps, CONFIG.hashedSample, progress) : { rows: [], results: [] };
    results.push(...keys.results);
    writeResults(sizes, keys.rows, loadAtStart, started, (performance.now() - t0) / 60_000);
    progress(`  wrote ${CONFIG.resultsFile}`);
    return results;
  },
};

export default fleetBench;
