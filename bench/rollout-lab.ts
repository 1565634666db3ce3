/**
 * Benchmark on the lab (boots it, and takes it down after), under the client's HTTP load through
 * the DR web VIP (test/lab/http-load.py), keep-alive off and on (issue 9):
 * - drain time: `lvsplay drain rs1` while lb1's table is sampled every 100 ms over one SSH
 *   connection; from the first sample with rs1's weight at 0 to the first with no active
 *   connection left on it; and the drain command's own wall time (start-up, probe, the change,
 *   its wait, verify);
 * - the lab's rolling restart (test/lab/rollout.yml, serial 1), run by the real CLI with
 *   `--output plain`, each line timestamped as it arrives: per batch, its wall time, the time
 *   spent in the waits the rollout is made of (the drain's apply script, which waits for the
 *   connections; the user's change, a restart down for 2 s; the health gate, which runs in its
 *   probe), and what is left: lvsplay's own overhead per batch (start of the batch, probes,
 *   verifies, the undrain, connections). The target is under 1 s per batch.
 * Every rollout must end with exit 0 and 0 failed requests, or the benchmark fails.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import path from 'node:path';
import { loadInventory } from '../src/inventory/load.js';
import { SshTransport } from '../src/transport/ssh.js';
import { INVENTORY_FILE, LAB_SCRIPTS, labDown, labUp } from '../test/lab/lab.js';
import { bootstrapped, CLI, cli, type Load, underLoad } from '../test/integration/support/lab-cli.js';
import { type Benchmark, median, type Result } from './lib.js';

const REPS = 3;
const WEB = '192.0.2.10:80';
const RS1 = '192.0.2.21:80';

/** rs1's weight and ActiveConn in one `ipvsadm -L -n -t` listing of the web service, if listed. */
function rs1Row(listing: string): { weight: number; active: number } | undefined {
  const m = new RegExp(`^\\s*->\\s+${RS1.replace(/\./g, '\\.')}\\s+\\S+\\s+(\\d+)\\s+(\\d+)\\s+\\d+`, 'm').exec(listing);
  return m ? { weight: Number(m[1]), active: Number(m[2]) } : undefined;
}

/** One drain of rs1 (then undrain), lb1 sampled meanwhile: ms from weight 0 to no active connection, and the command's wall ms. */
async function drainOnce(lb1: SshTransport): Promise<{ drainMs: number; commandMs: number }> {
  const samples: { at: number; weight: number; active: number }[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const row = rs1Row((await lb1.exec(`ipvsadm -L -n -t ${WEB}`)).stdout);
      if (row) samples.push({ at: performance.now(), ...row });
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const started = performance.now();
  const drained = await cli(['drain', '-i', INVENTORY_FILE, 'rs1', '--wait', '30']);
  const commandMs = performance.now() - started;
  sampling = false;
  await sampler;
  const undrained = await cli(['undrain', '-i', INVENTORY_FILE, 'rs1']);
  if (drained.code !== 0 || undrained.code !== 0) throw new Error(`drain/undrain failed: ${drained.stdout}${drained.stderr}${undrained.stdout}${undrained.stderr}`);
  const zero = samples.find((s) => s.weight === 0);
  const empty = zero && samples.find((s) => s.at >= zero.at && s.active === 0);
  if (!zero || !empty) throw new Error(`rs1 never seen at weight 0 with no active connection in ${samples.length} samples`);
  return { drainMs: empty.at - zero.at, commandMs };
}

interface Event { at: number; host: string; stage: string; target: string }

/** The rolling restart by the CLI, its plain lines timestamped on arrival. */
async function rolloutOnce(id: string): Promise<{ events: Event[]; done: Map<string, number>; code: number }> {
  const child = spawn(process.execPath, [CLI, 'apply', '-i', INVENTORY_FILE, path.join(LAB_SCRIPTS, 'rollout.yml'), '-e', `rollout=${id}`, '--output', 'plain'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const events: Event[] = [];
  const done = new Map<string, number>();
  for await (const line of createInterface({ input: child.stdout })) {
    const at = performance.now();
    // `[rs1] apply (lb1: 1 change(s))` on a director, `[rs1] apply (1 change(s))` or `[rs1] verify` on the host itself
    const progress = /^\[([^\]]+)\] (connect|probe|apply|verify)(?: \((.*)\))?$/.exec(line);
    const director = progress?.[3] && /^([\w-]+)(?:$|: )/.exec(progress[3])?.[1];
    if (progress) events.push({ at, host: progress[1]!, stage: progress[2]!, target: director || 'own' });
    const end = /^\[([^\]]+)\] (changed|ok|failed|unreachable)/.exec(line);
    if (end) done.set(end[1]!, at);
  }
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)));
  return { events, done, code };
}

/**
 * One batch (one host) of the rollout: its wall time (first event to its result) and the waits in
 * it. Its events fall in steps (drain, own change, gate, undrain); a step starts when a target it
 * already saw connects again. A span runs from an event to the next event of the same target.
 */
function batchTimes(events: Event[], end: number): { wallMs: number; waitsMs: number } {
  if (events.length === 0) throw new Error('a batch with no progress lines');
  const steps: Event[][] = [];
  let seen = new Set<string>();
  let current: Event[] = [];
  // the probes before the first connect only look ahead (is the host done, or still drained?)
  for (const e of events.slice(Math.max(0, events.findIndex((x) => x.stage === 'connect')))) {
    if (e.stage === 'connect' && seen.has(e.target)) {
      steps.push(current);
      current = [];
      seen = new Set();
    }
    if (e.stage === 'connect') seen.add(e.target);
    current.push(e);
  }
  steps.push(current);
  const span = (step: Event[], stage: string) => Math.max(0, ...step.filter((e) => e.stage === stage).map((e) => {
    const next = step.find((x) => x.at > e.at && x.target === e.target);
    return (next?.at ?? end) - e.at;
  }));
  // drain (its apply waits for connections), the user's change (its apply), the gate (its probe)
  const [drain, own, gate] = steps;
  const waitsMs = (drain ? span(drain, 'apply') : 0) + (own ? span(own, 'apply') : 0) + (gate ? span(gate, 'probe') : 0);
  return { wallMs: end - events[0]!.at, waitsMs };
}

const rolloutLab: Benchmark = {
  name: 'rollout-lab',
  description: 'drain time under load, and the rolling restart\'s overhead per batch beyond its waits (boots the lab)',
  async run(): Promise<Result[]> {
    await labDown();
    await labUp();
    try {
      await bootstrapped();
      const lb1Host = loadInventory(INVENTORY_FILE).hosts.get('lb1')!;
      const lb1 = await SshTransport.connect(lb1Host.name, lb1Host.ssh);
      const results: Result[] = [];
      try {
        for (const keepAlive of [false, true]) {
          const label = `keep-alive ${keepAlive ? 'on' : 'off'}`;
          const drains: { drainMs: number; commandMs: number }[] = [];
          const batches: { wallMs: number; waitsMs: number }[] = [];
          const loads: Load[] = [];
          for (let i = 0; i < REPS; i++) {
            const { result, load } = await underLoad(`http://${WEB}/`, { keepAlive }, async () => {
              const d = await drainOnce(lb1);
              const r = await rolloutOnce(`bench-${process.pid}-${keepAlive}-${i}`);
              return { d, r };
            });
            loads.push(load);
            if (result.r.code !== 0 || load.failures > 0) throw new Error(`rollout exit ${result.r.code}, ${load.failures} failed requests: ${load.errors.join('; ')}`);
            drains.push(result.d);
            for (const [host, end] of result.r.done) batches.push(batchTimes(result.r.events.filter((e) => e.host === host), end));
          }
          const range = (xs: number[]) => `${Math.min(...xs).toFixed(0)}..${Math.max(...xs).toFixed(0)} ms over ${xs.length}`;
          const overheads = batches.map((b) => b.wallMs - b.waitsMs);
          const requests = loads.reduce((n, l) => n + l.requests, 0);
          results.push(
            { measure: `drain, ${label}: weight 0 to no ActiveConn`, value: median(drains.map((d) => d.drainMs)), unit: 'ms', detail: `${range(drains.map((d) => d.drainMs))}; sampled every 100 ms` },
            { measure: `drain, ${label}: lvsplay drain wall time`, value: median(drains.map((d) => d.commandMs)), unit: 'ms', detail: range(drains.map((d) => d.commandMs)) },
            { measure: `rollout, ${label}: batch wall time`, value: median(batches.map((b) => b.wallMs)), unit: 'ms', detail: range(batches.map((b) => b.wallMs)) },
            { measure: `rollout, ${label}: waits per batch (drain, change, gate)`, value: median(batches.map((b) => b.waitsMs)), unit: 'ms', detail: range(batches.map((b) => b.waitsMs)) },
            { measure: `rollout, ${label}: lvsplay overhead per batch`, value: median(overheads), unit: 'ms', detail: `${range(overheads)}; ${requests} requests, 0 failed` },
          );
        }
      } finally {
        await lb1.close();
      }
      return results;
    } finally {
      await labDown();
    }
  },
};

export default rolloutLab;
