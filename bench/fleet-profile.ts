/**
 * `npm run bench -- fleet-profile`: where the time of an `lvsplay apply --check` at N hosts
 * (default 50) goes, relative to the floor, on hosts brought up as in `fleet`:
 * - node start-up (`node -e 0`) and module loading (`lvsplay --version`, and timed in-process);
 * - the stages in-process (fleet-profile-child.ts: the same calls as the CLI, timed): YAML load
 *   and validation, preparing the plans, SSH handshakes, the probe's round trip, output, exit;
 *   the floor's in the same shape;
 * - a V8 CPU profile (`node --cpu-prof`) of the real CLI and of the floor, self time by package;
 * - what one host does for each: processes started (strace -f on its sshd listener: execve and
 *   process exits) and CPU time (the listener's reaped children).
 * Writes bench/results-profile.md (BENCH_FLEET_PROFILE_RESULTS).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ANSIBLE_PLAYBOOK, ansibleEnv, cleanEnv, expectRecap, Fleet, findAnsible, FLOOR_SCRIPT, loadAvg1, LVSPLAY_CLI, LVSPLAY_PLAYBOOK, REPO_ROOT, type RunOutcome, sleep, trackPid, untrackPid,
} from './fleet-env.js';
import { CONFIG } from './fleet.js';
import type { Measured } from './fleet-proc.js';
import { type Benchmark, median, type Result } from './lib.js';

const N = Number(process.env['BENCH_FLEET_PROFILE_N'] ?? 50);
const RESULTS_FILE = process.env['BENCH_FLEET_PROFILE_RESULTS'] ?? join(REPO_ROOT, 'bench/results-profile.md');
const CHILD = join(REPO_ROOT, 'dist/bench/fleet-profile-child.js');

type Span = [number, number];
interface StageReport {
  started: number;
  imported: number;
  t0: number;
  loaded: number;
  prepared: number;
  runStart: number;
  runEnd: number;
  done: number;
  rendererMs: number;
  outputBytes: number;
  hosts: Record<string, { connect?: Span; exec: Span[]; close?: Span }>;
}

/** One staged run's numbers, ms. */
interface Stages {
  wall: number;
  start: number;
  modules: number;
  load: number;
  prepare: number;
  handshakeSpan: number;
  handshakeMedian: number;
  execSpan: number;
  execMedian: number;
  run: number;
  renderer: number;
  close: number;
  exit: number;
}

function stagesOf(r: StageReport, wall: number): Stages {
  const hosts = Object.values(r.hosts);
  const connects = hosts.map((h) => h.connect!).filter(Boolean);
  const execs = hosts.flatMap((h) => h.exec);
  const closes = hosts.map((h) => h.close).filter((c): c is Span => c !== undefined);
  const span = (xs: Span[]) => (xs.length === 0 ? 0 : Math.max(...xs.map((x) => x[1])) - Math.min(...xs.map((x) => x[0])));
  return {
    wall,
    start: r.started,
    modules: r.imported - r.started,
    load: r.loaded - r.t0,
    prepare: r.prepared - r.loaded,
    handshakeSpan: span(connects),
    handshakeMedian: median(connects.map((c) => c[1] - c[0])),
    execSpan: span(execs),
    execMedian: median(execs.map((e) => e[1] - e[0])),
    run: r.runEnd - r.runStart,
    renderer: r.rendererMs + (r.done - r.runEnd),
    close: span(closes),
    exit: wall - r.done,
  };
}

interface CpuProfile {
  /** Self time (ms) by what the code belongs to. */
  byPackage: Map<string, number>;
  /** The functions with the most self time: "name (category)" → ms. */
  topFunctions: [string, number][];
  wall: number;
}

/** Self time of a V8 .cpuprofile, by what the code belongs to, and by function. */
function analyseCpuProfile(file: string): Omit<CpuProfile, 'wall'> {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as {
    nodes: { id: number; callFrame: { functionName: string; url: string } }[];
    samples: number[];
    timeDeltas: number[];
  };
  const category = new Map<number, string>();
  for (const n of profile.nodes) {
    const { url, functionName } = n.callFrame;
    let c: string;
    if (url === '') c = functionName.startsWith('(') ? functionName : '(native)';
    else if (url.startsWith('node:internal/modules') || url.includes('internal/modules/')) c = 'node: module loader';
    // node:internal/crypto/... → "node: crypto", node:net → "node: net"
    else if (url.startsWith('node:')) c = `node: ${url.replace(/^node:(internal\/)?/, '').split('/')[0]}`;
    else if (url.includes('/node_modules/')) {
      const pkg = url.split('/node_modules/').pop()!.split('/');
      c = pkg[0]!.startsWith('@') ? `${pkg[0]}/${pkg[1]}` : pkg[0]!;
    } else if (url.includes('/dist/src/')) c = 'lvsplay (dist/src)';
    else if (url.includes('/dist/bench/')) c = 'bench (floor)';
    else c = 'other';
    category.set(n.id, c);
  }
  const names = new Map(profile.nodes.map((n) => [n.id, `${n.callFrame.functionName || '(anonymous)'} (${category.get(n.id)})`]));
  const out = new Map<string, number>();
  const byFunction = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    const c = category.get(id) ?? 'other';
    out.set(c, (out.get(c) ?? 0) + ms);
    const f = names.get(id) ?? '?';
    if (c !== '(idle)') byFunction.set(f, (byFunction.get(f) ?? 0) + ms);
  });
  return { byPackage: out, topFunctions: [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, 15) };
}

/** Trace one host's sshd (and everything it forks) while `during` runs: processes and programs. */
async function straceHost(fleet: Fleet, host: string, label: string, during: () => Promise<RunOutcome>): Promise<{ processes: number; execs: Map<string, number> }> {
  const out = join(fleet.dir, 'runs', `strace-${label.replace(/\W+/g, '-')}.txt`);
  const tracer = spawn('strace', ['-f', '-e', 'trace=execve,exit_group', '-o', out, '-p', String(fleet.listenerOf(host))], { stdio: 'ignore', detached: true });
  const pid = tracer.pid;
  if (pid !== undefined) trackPid(pid);
  await sleep(1000); // attached
  try {
    await during();
  } finally {
    if (pid !== undefined) {
      process.kill(pid, 'SIGINT'); // strace detaches and exits
      await new Promise((r) => tracer.once('exit', r));
      untrackPid(pid);
    }
  }
  const text = readFileSync(out, 'utf8');
  const listener = String(fleet.listenerOf(host));
  const pids = new Set<string>();
  const execs = new Map<string, number>();
  // With -f, a call another process interrupts is split: "PID execve(...) <unfinished ...>" then
  // "PID <... execve resumed>) = 0". Only successful execs count (a shell's PATH search fails some).
  const pending = new Map<string, string>();
  const counted = (prog: string) => execs.set(prog, (execs.get(prog) ?? 0) + 1);
  for (const line of text.split('\n')) {
    const pid = line.split(' ')[0] ?? '';
    if (pid === '' || pid === listener) continue;
    pids.add(pid);
    const m = /execve\("([^"]+)"/.exec(line);
    if (m) {
      const prog = m[1]!.split('/').pop()!;
      if (line.endsWith('<unfinished ...>')) pending.set(pid, prog);
      else if (/= 0$/.test(line)) counted(prog);
    } else if (line.includes('<... execve resumed>')) {
      const prog = pending.get(pid);
      pending.delete(pid);
      if (prog !== undefined && /= 0$/.test(line)) counted(prog);
    }
  }
  return { processes: pids.size, execs };
}

const ms = (x: number) => `${x.toFixed(0)} ms`;
const fmtExecs = (e: Map<string, number>) => [...e].sort((a, b) => b[1] - a[1]).map(([p, c]) => `${p}${c > 1 ? ` ×${c}` : ''}`).join(', ');

const fleetProfile: Benchmark = {
  name: 'fleet-profile',
  description: `where an lvsplay check of ${N} hosts spends its time, against the floor: start-up, modules, load, prepare, handshakes, probe, output; CPU profile; processes per host`,
  async run(): Promise<Result[]> {
    if (process.getuid?.() !== 0) throw new Error('fleet-profile needs root (network and mount namespaces)');
    const progress = (s: string) => process.stderr.write(`${s}\n`);
    const reps = CONFIG.reps;
    const loadStart = loadAvg1();
    const fleet = await Fleet.up(N, { portBase: CONFIG.portBase, settleMs: CONFIG.settleMs, hostSh: CONFIG.hostSh });
    progress(`  ${N} hosts up in ${(fleet.upMs / 1000).toFixed(1)} s`);
    const node = process.execPath;
    const check = [node, LVSPLAY_CLI, 'apply', '-i', fleet.lvsplayInventory, LVSPLAY_PLAYBOOK, '--output', 'plain', '--forks', String(N), '--check', '--detailed-exitcode'];
    const loads: number[] = [];
    try {
      await fleet.reset();
      expectRecap(await fleet.run('converge', check.filter((a) => a !== '--check' && a !== '--detailed-exitcode'), cleanEnv()), N, 'all');

      const nodeStart: Measured[] = [];
      const version: Measured[] = [];
      const floor: RunOutcome[] = [];
      const lvCheck: RunOutcome[] = [];
      const lvStages: Stages[] = [];
      const floorStages: Stages[] = [];
      const lvAlone: Stages[] = [];
      const floorAlone: Stages[] = [];
      const alone = fleet.hosts[fleet.hosts.length - 1]!.name;
      const staged = async (label: string, argv: string[]): Promise<Stages> => {
        const r = await fleet.run(label, [node, CHILD, ...argv], cleanEnv());
        if (r.m.status !== 0) throw new Error(`${label} failed: ${readFileSync(r.stderrFile, 'utf8').slice(-1500)}`);
        loads.push(r.loadBefore, r.loadAfter);
        return stagesOf(JSON.parse(readFileSync(r.stdoutFile, 'utf8')), r.m.wallMs);
      };
      for (let rep = 0; rep < reps; rep++) {
        progress(`  round ${rep + 1}/${reps}`);
        nodeStart.push(await fleet.runLocal('node -e 0', [node, '-e', '0'], cleanEnv()));
        version.push(await fleet.runLocal('lvsplay --version', [node, LVSPLAY_CLI, '--version'], cleanEnv()));
        const f = await fleet.run('floor', [node, FLOOR_SCRIPT, fleet.dir], cleanEnv());
        floor.push(f);
        const c = await fleet.run('lvsplay check', check, cleanEnv());
        expectRecap(c, N, 'none');
        lvCheck.push(c);
        const ls = await staged('lvsplay staged', ['lvsplay', fleet.lvsplayInventory, LVSPLAY_PLAYBOOK, String(N)]);
        lvStages.push(ls);
        const fs = await staged('floor staged', ['floor', fleet.dir]);
        floorStages.push(fs);
        // one host alone: the cost of a handshake and a probe with no other host competing
        lvAlone.push(await staged('lvsplay staged, one host', ['lvsplay', fleet.lvsplayInventory, LVSPLAY_PLAYBOOK, '1', alone]));
        floorAlone.push(await staged('floor staged, one host', ['floor', fleet.dir, alone]));
        loads.push(...[f, c].flatMap((r) => [r.loadBefore, r.loadAfter]));
        progress(`    floor ${ms(f.m.wallMs)}, check ${ms(c.m.wallMs)}, staged check ${ms(ls.wall)}, staged floor ${ms(fs.wall)}, one host: check ${ms(lvAlone.at(-1)!.wall)}, floor ${ms(floorAlone.at(-1)!.wall)}`);
      }

      // CPU profiles of the real CLI and of the floor
      const profDir = join(fleet.dir, 'prof');
      mkdirSync(profDir);
      const profileOf = async (label: string, argv: string[]) => {
        const dir = join(profDir, label);
        mkdirSync(dir);
        const r = await fleet.run(`${label} --cpu-prof`, [node, '--cpu-prof', `--cpu-prof-dir=${dir}`, ...argv], cleanEnv());
        const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
        if (r.m.status !== 0 || !file) throw new Error(`${label} --cpu-prof failed`);
        return { ...analyseCpuProfile(join(dir, file)), wall: r.m.wallMs };
      };
      const lvProf = await profileOf('lvsplay', check.slice(1));
      const floorProf = await profileOf('floor', [FLOOR_SCRIPT, fleet.dir]);

      // one host, traced
      const traced = fleet.hosts[0]!.name;
      const lvTrace = await straceHost(fleet, traced, 'lvsplay check', () => fleet.run('lvsplay check (strace)', check, cleanEnv()));
      const floorTrace = await straceHost(fleet, traced, 'floor', () => fleet.run('floor (strace)', [node, FLOOR_SCRIPT, fleet.dir], cleanEnv()));
      const ansible = CONFIG.ansible ?? findAnsible();
      let ansibleTrace: { processes: number; execs: Map<string, number> } | undefined;
      if (ansible) {
        // What one host does for an Ansible check does not depend on N: converge and check the
        // traced host alone (--limit), which spares minutes at N = 50.
        await fleet.reset();
        expectRecap(await fleet.run('ansible converge', [ansible, '--limit', traced, ANSIBLE_PLAYBOOK], ansibleEnv(fleet, 'p1')), 1, 'all');
        ansibleTrace = await straceHost(fleet, traced, 'ansible check', () => fleet.run('ansible check (strace)', [ansible, '--limit', traced, '--check', ANSIBLE_PLAYBOOK], ansibleEnv(fleet, 'p2')));
      }

      // ---- rows
      const med = (xs: number[]) => median(xs);
      const mStage = (xs: Stages[], k: keyof Stages) => med(xs.map((s) => s[k]));
      const nodeMs = med(nodeStart.map((m) => m.wallMs));
      const versionMs = med(version.map((m) => m.wallMs));
      const floorMs = med(floor.map((r) => r.m.wallMs));
      const checkMs = med(lvCheck.map((r) => r.m.wallMs));
      const hostCpu = (rs: RunOutcome[]) => med(rs.map((r) => r.remoteCpuMs.reduce((a, b) => a + b, 0) / r.remoteCpuMs.length));
      const results: Result[] = [
        { measure: `N=${N} floor: wall time`, value: floorMs, unit: 'ms', detail: `median of ${reps}` },
        { measure: `N=${N} lvsplay check: wall time`, value: checkMs, unit: 'ms', detail: `median of ${reps}; ${(checkMs / floorMs).toFixed(2)}x the floor, ${ms(checkMs - floorMs)} more` },
        { measure: 'node start-up (node -e 0)', value: nodeMs, unit: 'ms', detail: `median of ${reps}` },
        { measure: 'lvsplay --version', value: versionMs, unit: 'ms', detail: `node + the CLI's whole module graph: ${ms(versionMs - nodeMs)} over node -e 0` },
      ];
      const stageRows: [string, keyof Stages, string][] = [
        ['process start → first line of the script', 'start', 'node bootstrap'],
        ['module loading', 'modules', "lvsplay: main.ts's import graph; floor: ssh2"],
        ['inventory + playbook load and validate', 'load', 'loadAll: YAML with positions, zod, checks, templates'],
        ['preparing plans', 'prepare', 'prepareRun: desired state and scripts of every host'],
        ['SSH handshakes, first start → last end', 'handshakeSpan', 'known_hosts, key, TCP, kex, auth, for all hosts at once'],
        ['SSH handshake, median per host', 'handshakeMedian', ''],
        ['probe round trips, first start → last end', 'execSpan', 'floor: its one exec'],
        ['probe round trip, median per host', 'execMedian', 'session open, remote script, output back'],
        ['runPlays, whole', 'run', 'handshakes + probes + planning, overlapped'],
        ['output (renderer calls + recap)', 'renderer', ''],
        ['closing connections, span', 'close', 'inside runPlays'],
        ['after the last stage → process exit', 'exit', ''],
        ['wall (staged run)', 'wall', 'from fleet-init.py'],
      ];
      for (const [name, key, detail] of stageRows) {
        results.push({ measure: `staged: ${name}`, value: mStage(lvStages, key), unit: 'ms', detail: `lvsplay; floor ${ms(mStage(floorStages, key))}${detail ? `; ${detail}` : ''}` });
      }
      for (const [name, key] of [['wall', 'wall'], ['SSH handshake', 'handshakeMedian'], ['probe round trip', 'execMedian']] as const) {
        results.push({ measure: `one host alone (${alone}): ${name}`, value: mStage(lvAlone, key), unit: 'ms', detail: `lvsplay; floor ${ms(mStage(floorAlone, key))}` });
      }
      const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
      const top = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
      for (const [name, cat] of top(lvProf.byPackage).slice(0, 12)) {
        results.push({ measure: `cpu-prof lvsplay check: ${name}`, value: cat, unit: 'ms', detail: `${((cat / total(lvProf.byPackage)) * 100).toFixed(0)}% of ${ms(total(lvProf.byPackage))} profiled; floor: ${ms(floorProf.byPackage.get(name) ?? 0)}` });
      }
      results.push(
        { measure: `host CPU per host: floor`, value: hostCpu(floor), unit: 'ms', detail: 'sshd + session + command, reaped children of the host sshd' },
        { measure: `host CPU per host: lvsplay check`, value: hostCpu(lvCheck), unit: 'ms', detail: `${(hostCpu(lvCheck) / hostCpu(floor)).toFixed(2)}x the floor` },
        { measure: `processes on ${traced} for one floor run`, value: floorTrace.processes, unit: 'count', detail: fmtExecs(floorTrace.execs) },
        { measure: `processes on ${traced} for one lvsplay check`, value: lvTrace.processes, unit: 'count', detail: fmtExecs(lvTrace.execs) },
      );
      if (ansibleTrace) results.push({ measure: `processes on ${traced} for one Ansible check`, value: ansibleTrace.processes, unit: 'count', detail: fmtExecs(ansibleTrace.execs) });

      // ---- markdown
      const loadStat = `${Math.min(...loads).toFixed(1)}..${Math.max(...loads).toFixed(1)}`;
      const md = [
        `# Profile: lvsplay apply --check at N = ${N}, against the floor`,
        '',
        `Written by \`npm run bench -- fleet-profile\` on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC; ${reps} repetition(s); load average ${loadStart.toFixed(1)} at start, ${loadStat} during the runs; hosts' /bin/sh: ${CONFIG.hostSh}. Medians.`,
        '',
        `- floor ${ms(floorMs)}, lvsplay check ${ms(checkMs)} (${(checkMs / floorMs).toFixed(2)}x); node -e 0 ${ms(nodeMs)}; lvsplay --version ${ms(versionMs)}.`,
        '',
        '## Stages, in-process (bench/fleet-profile-child.ts)',
        '',
        '| stage | lvsplay check | floor | what |',
        '|---|---|---|---|',
        ...stageRows.map(([name, key, what]) => `| ${name} | ${ms(mStage(lvStages, key))} | ${ms(mStage(floorStages, key))} | ${what} |`),
        '',
        `The same, for one host alone (${alone}; \`--limit\`, \`--forks 1\`): no other host competes for the CPU.`,
        '',
        '| stage | lvsplay check | floor |',
        '|---|---|---|',
        ...stageRows.map(([name, key]) => `| ${name} | ${ms(mStage(lvAlone, key))} | ${ms(mStage(floorAlone, key))} |`),
        '',
        '## V8 CPU profile, self time by package (`node --cpu-prof`, one run each)',
        '',
        `lvsplay check: ${ms(total(lvProf.byPackage))} profiled in a ${ms(lvProf.wall)} run; floor: ${ms(total(floorProf.byPackage))} in ${ms(floorProf.wall)}. "(idle)" is waiting (for the network, the hosts, the other process on the CPU).`,
        '',
        '| code | lvsplay check | floor |',
        '|---|---|---|',
        ...top(lvProf.byPackage).map(([name, v]) => `| ${name} | ${ms(v)} | ${ms(floorProf.byPackage.get(name) ?? 0)} |`),
        ...top(floorProf.byPackage).filter(([name]) => !lvProf.byPackage.has(name)).map(([name, v]) => `| ${name} | 0 ms | ${ms(v)} |`),
        '',
        'The functions with the most self time ("(native)" are C++ builtins called from JavaScript: crypto, socket writes, file reads):',
        '',
        '| lvsplay check | | floor | |',
        '|---|---|---|---|',
        ...lvProf.topFunctions.map(([f, v], i) => {
          const fl = floorProf.topFunctions[i];
          return `| ${f} | ${ms(v)} | ${fl ? `${fl[0]} | ${ms(fl[1])}` : ' | '} |`;
        }),
        '',
        `## One host (${traced}): processes and CPU`,
        '',
        `strace -f on its sshd listener during one run of each (execve and exit_group; processes = distinct PIDs below the listener). Host CPU: the listener's reaped children (cutime + cstime), median of ${reps}, mean over the ${N} hosts.`,
        '',
        '| run | processes | programs executed | host CPU per host |',
        '|---|---|---|---|',
        `| floor | ${floorTrace.processes} | ${fmtExecs(floorTrace.execs)} | ${ms(hostCpu(floor))} |`,
        `| lvsplay check | ${lvTrace.processes} | ${fmtExecs(lvTrace.execs)} | ${ms(hostCpu(lvCheck))} |`,
        ...(ansibleTrace ? [`| Ansible check | ${ansibleTrace.processes} | ${fmtExecs(ansibleTrace.execs)} | (see results.md) |`] : []),
        '',
      ].join('\n');
      writeFileSync(RESULTS_FILE, `${md}\n`);
      progress(`  wrote ${RESULTS_FILE}`);
      return results;
    } finally {
      await fleet.down();
    }
  },
};

export default fleetProfile;
