/**
 * Benchmark on the lab (boots it, and takes it down after): IPVS at scale on lb1, the kernel's own
 * IPVS under TCG (issue 14). One director carrying 5,000 lvsplay-owned services x 4 real servers
 * (bench/ipvs-scale.ts; 25,000 ipvsadm lines):
 * - from an empty table: lvsplay's ipvs task (probe, plan, apply and verify; in this process, over
 *   one SSH connection, as the runner does them but without its host lock) against a bare
 *   `ipvsadm -R` of the same lines in one exec, and against one ipvsadm call per line (timed over
 *   SAMPLE lines and extrapolated: 25,000 processes on the emulated CPU would take half an hour);
 * - then one weight changed in the inventory (one batch line) against a bare `ipvsadm -S -n` and
 *   one `ipvsadm -e` in one exec;
 * - the time split: probe (the exec), parse, diff + render, apply, verify (the probe again and
 *   the plan; the runner sends it in the apply's script, and the mark between the two splits the
 *   time of that one exec).
 * Each round starts from an empty table, rules file and record on lb1. No time is asserted; a
 * case that does not end as it should (table size, one batch line, verify clean) fails the bench.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadInventory } from '../src/inventory/load.js';
import { hostContext, planHost, prepareHost } from '../src/plan/pipeline.js';
import { unsettled } from '../src/plan/types.js';
import { loadPlaybook } from '../src/playbook/load.js';
import { applyThenVerify, splitAtMark, verifyMark } from '../src/run/apply-then-verify.js';
import type { IpvsDesired } from '../src/resources/ipvs/index.js';
import { rulesLines } from '../src/resources/ipvs/lines.js';
import { splitSections, TASK_MARK } from '../src/resources/sections.js';
import { Templates } from '../src/templates/templates.js';
import { SshTransport } from '../src/transport/ssh.js';
import { IDENTITY_FILE, KNOWN_HOSTS_FILE, labDown, labReset, labUp, PORT_BASE } from '../test/lab/lab.js';
import { batchLineCount, MEMBERS, scaleInventory, SERVICES } from './ipvs-scale.js';
import { type Benchmark, median, type Result } from './lib.js';

const REPS = Number(process.env['BENCH_REPS'] ?? 3);
const SAMPLE = 500;
const LINES = SERVICES * (1 + MEMBERS);
/** svc2500's first member (rs0, weight 1 in the inventory): the one-weight change sets it to 9. */
const CHANGED = { from: '      - { server: rs0, weight: 1 }', to: '      - { server: rs0, weight: 9 }', service: 'svc2500' };

const head = `defaults:\n  ssh: { user: root, identity_file: ${IDENTITY_FILE}, known_hosts: ${KNOWN_HOSTS_FILE} }`;
const director = `  - { name: lb1, address: 192.0.2.5, ssh: { host: 127.0.0.1, port: ${PORT_BASE + 1} }, interface: { name: eth0, address: 192.0.2.5/24 }, role: primary }`;

/** The inventory with svc2500's first member at weight 9 instead of 1. */
function oneWeightChanged(text: string): string {
  const at = text.indexOf(`  - name: ${CHANGED.service}\n`);
  const member = text.indexOf(CHANGED.from, at);
  if (at < 0 || member < 0) throw new Error('the scale inventory changed: the bench cannot find its one weight');
  return text.slice(0, member) + CHANGED.to + text.slice(member + CHANGED.from.length);
}

interface Stages { probeMs: number; parseMs: number; diffMs: number; applyMs: number; verifyMs: number; batchLines: number }

/** lvsplay's ipvs task on lb1, staged: what the runner does for one host, timed step by step. */
async function lvsplayRun(lb1: SshTransport, inventoryFile: string, playbookFile: string): Promise<Stages> {
  const cluster = loadInventory(inventoryFile);
  const play = loadPlaybook(playbookFile, cluster).plays[0]!;
  const prepared = prepareHost(hostContext(cluster, cluster.hosts.get('lb1')!, play, new Templates()), play, 0);
  const task = prepared.tasks[0]!;
  const t0 = performance.now();
  const probed = await lb1.exec(prepared.probe);
  const t1 = performance.now();
  if (probed.code !== 0) throw new Error(`probe exited ${probed.code}: ${probed.stderr}`);
  // the parse once on its own, for the split: planHost parses, diffs and renders
  const section = splitSections(probed.stdout, TASK_MARK).get(task.id) ?? '';
  const p0 = performance.now();
  task.resource.parse(section, task.desired);
  const p1 = performance.now();
  const plan = planHost(prepared, probed.stdout);
  const t2 = performance.now();
  // the apply and its verify probe in one script, as the runner sends them; the mark's arrival splits the time
  const mark = verifyMark();
  let t3 = 0;
  let seen = '';
  const out = await lb1.exec(applyThenVerify('', plan, prepared.probe, mark), {
    onStdout: (text) => {
      seen = seen.slice(-mark.length) + text;
      if (!t3 && seen.includes(mark)) t3 = performance.now();
    },
  });
  const { applied, verified } = splitAtMark(out, mark);
  if (!verified) throw new Error(`apply exited ${applied.code}: ${applied.stderr.slice(-500)}`);
  if (verified.code !== 0) throw new Error(`verify exited ${verified.code}: ${verified.stderr.slice(-500)}`);
  const still = unsettled(planHost(prepared, verified.stdout));
  const t4 = performance.now();
  if (still.length > 0) throw new Error(`verify: lb1 still differs: ${still.slice(0, 3).map((c) => c.summary).join('; ')}`);
  return {
    probeMs: t1 - t0, parseMs: p1 - p0, diffMs: t2 - p1 - (p1 - p0), applyMs: t3 - t2, verifyMs: t4 - t3,
    batchLines: batchLineCount(plan.tasks[0]!.script),
  };
}

async function timed(lb1: SshTransport, script: string): Promise<number> {
  const started = performance.now();
  const r = await lb1.exec(script);
  if (r.code !== 0) throw new Error(`bare ipvsadm exited ${r.code}: ${r.stderr.slice(-300)}`);
  return performance.now() - started;
}

async function tableLines(lb1: SshTransport): Promise<number> {
  return Number((await lb1.exec('ipvsadm -S -n | grep -c .')).stdout.trim());
}

/** An empty table, and no rules file or record of lvsplay's: the state every round starts from. */
const CLEAN = 'ipvsadm -C && rm -f /etc/lvsplay/ipvs.rules /etc/lvsplay/ipvs.rules.lvsplay-bak /var/lib/lvsplay/ipvs-services /var/lib/lvsplay/ipvs-services.lvsplay-bak';

const ipvsLab: Benchmark = {
  name: 'ipvs-lab',
  description: `IPVS at scale on the lab's lb1: ${SERVICES} services x ${MEMBERS} real servers applied from empty, then one weight, against bare ipvsadm (boots the lab)`,
  async run(): Promise<Result[]> {
    const dir = mkdtempSync(join(tmpdir(), 'lvsplay-ipvs-lab-'));
    await labDown();
    await labUp();
    try {
      await labReset(['lb1']);
      const text = scaleInventory(director, head);
      const inventoryFile = join(dir, 'inventory.yml');
      const changedFile = join(dir, 'changed.yml');
      const playbookFile = join(dir, 'ipvs.yml');
      writeFileSync(inventoryFile, text);
      writeFileSync(changedFile, oneWeightChanged(text));
      writeFileSync(playbookFile, '- name: IPVS at scale\n  hosts: lb1\n  tasks:\n    - name: the services\n      ipvs: {}\n');
      const cluster = loadInventory(inventoryFile);
      const play = loadPlaybook(playbookFile, cluster).plays[0]!;
      const desired = prepareHost(hostContext(cluster, cluster.hosts.get('lb1')!, play, new Templates()), play, 0).tasks[0]!.desired as IpvsDesired;
      const lines = rulesLines(desired.table);
      if (lines.length !== LINES) throw new Error(`expected ${LINES} lines, got ${lines.length}`);
      const restore = `ipvsadm -R <<'LVSPLAY_BENCH'\n${lines.join('\n')}\nLVSPLAY_BENCH\n`;
      const perLine = lines.slice(0, SAMPLE).map((l) => `ipvsadm ${l}`).join('\n');
      const [vip, port] = ['203.0.113.154', 8000]; // svc2500
      const lb1Host = cluster.hosts.get('lb1')!;
      const lb1 = await SshTransport.connect(lb1Host.name, lb1Host.ssh);
      const bareR: number[] = []; const bareEach: number[] = []; const bareWeight: number[] = [];
      const fromEmpty: Stages[] = []; const oneWeight: Stages[] = [];
      try {
        for (let i = 0; i < REPS; i++) {
          await lb1.exec(CLEAN);
          bareR.push(await timed(lb1, restore));
          if (await tableLines(lb1) !== LINES) throw new Error('the bare restore did not make the whole table');
          await lb1.exec(CLEAN);
          bareEach.push((await timed(lb1, perLine)) * (LINES / SAMPLE));
          await lb1.exec(CLEAN);
          const first = await lvsplayRun(lb1, inventoryFile, playbookFile);
          if (first.batchLines !== LINES || await tableLines(lb1) !== LINES) throw new Error(`lvsplay from empty: ${first.batchLines} batch lines`);
          fromEmpty.push(first);
          bareWeight.push(await timed(lb1, `ipvsadm -S -n > /dev/null && ipvsadm -e -t ${vip}:${port} -r 192.0.2.100:${port} -g -w 5`));
          const change = await lvsplayRun(lb1, changedFile, playbookFile);
          if (change.batchLines !== 1) throw new Error(`one weight: ${change.batchLines} batch lines`);
          oneWeight.push(change);
        }
      } finally {
        await lb1.exec(CLEAN).catch(() => undefined);
        await lb1.close();
      }
      const range = (xs: number[]) => `${Math.min(...xs).toFixed(0)}..${Math.max(...xs).toFixed(0)} ms over ${xs.length}`;
      const total = (s: Stages) => s.probeMs + s.parseMs + s.diffMs + s.applyMs + s.verifyMs;
      const rows = (label: string, runs: Stages[], bare: number[], bareLabel: string): Result[] => [
        { measure: `${label}: lvsplay, probe to verify`, value: median(runs.map(total)), unit: 'ms', detail: range(runs.map(total)) },
        { measure: `${label}:   probe (exec)`, value: median(runs.map((s) => s.probeMs)), unit: 'ms', detail: 'median, same runs' },
        { measure: `${label}:   parse`, value: median(runs.map((s) => s.parseMs)), unit: 'ms', detail: 'median, same runs' },
        { measure: `${label}:   diff + render`, value: median(runs.map((s) => s.diffMs)), unit: 'ms', detail: 'median, same runs' },
        { measure: `${label}:   apply (exec, to the mark)`, value: median(runs.map((s) => s.applyMs)), unit: 'ms', detail: 'median, same runs' },
        { measure: `${label}:   verify (probe in the same exec + plan)`, value: median(runs.map((s) => s.verifyMs)), unit: 'ms', detail: 'median, same runs' },
        { measure: `${label}: ${bareLabel}`, value: median(bare), unit: 'ms', detail: range(bare) },
        { measure: `${label}: lvsplay / bare, probe to verify`, value: median(runs.map(total)) / median(bare), unit: 'x', detail: 'medians' },
        { measure: `${label}: lvsplay / bare, without the verify`, value: median(runs.map((s) => total(s) - s.verifyMs)) / median(bare), unit: 'x', detail: 'medians' },
      ];
      return [
        ...rows(`from empty, ${LINES} lines`, fromEmpty, bareR, 'bare ipvsadm -R, one exec'),
        { measure: `from empty: one ipvsadm call per line (extrapolated)`, value: median(bareEach), unit: 'ms', detail: `${SAMPLE} calls timed, x ${LINES / SAMPLE}; ${range(bareEach)}` },
        ...rows('one weight', oneWeight, bareWeight, 'bare ipvsadm -S -n + ipvsadm -e, one exec'),
      ];
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await labDown();
    }
  },
};

export default ipvsLab;
