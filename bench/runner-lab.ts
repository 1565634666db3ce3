/**
 * Benchmark on the lab (boots it, and takes it down after): SSH round trips per host for a check
 * and for a changing run (by design 1 and 3), and the wall time of a check over every lab host
 * with --forks 50 against the same check one host at a time (--forks 1), measured in the same
 * run, as a parallelism ratio. Needs root and the lab's packages (`npm run lab:install`).
 */
import { loadInventory } from '../src/inventory/load.js';
import type { Cluster, Host } from '../src/inventory/model.js';
import { loadPlaybook } from '../src/playbook/load.js';
import type { Playbook } from '../src/playbook/model.js';
import { Templates } from '../src/templates/templates.js';
import { JsonRenderer } from '../src/run/render-json.js';
import { runPlaybooks } from '../src/run/runner.js';
import type { HostResult } from '../src/run/types.js';
import { SshTransport } from '../src/transport/ssh.js';
import { INVENTORY_FILE, labDown, labUp, REPO_ROOT } from '../test/lab/lab.js';
import { type Benchmark, median, type Result } from './lib.js';

const REPS = 3;

async function runOnce(cluster: Cluster, playbook: Playbook, check: boolean, forks: number) {
  const transports: SshTransport[] = [];
  const connect = async (h: Host) => {
    const t = await SshTransport.connect(h.name, h.ssh);
    transports.push(t);
    return t;
  };
  const sink = { write: () => true } as unknown as NodeJS.WritableStream;
  const started = performance.now();
  const results: HostResult[] = await runPlaybooks(cluster, [playbook], new Templates(), { check, forks, connect }, new JsonRenderer(sink, { check }));
  const wallMs = performance.now() - started;
  const bad = results.filter((r) => r.status === 'failed' || r.status === 'unreachable');
  if (bad.length > 0) throw new Error(`bench run failed: ${bad.map((r) => `${r.host}: ${r.error?.message}`).join('; ')}`);
  return { wallMs, results, execs: transports.map((t) => t.execCount) };
}

const runnerLab: Benchmark = {
  name: 'runner-lab',
  description: 'round trips per host (check, changing run) and check parallelism over the lab (boots the lab)',
  async run(): Promise<Result[]> {
    await labDown();
    await labUp();
    try {
      const cluster = loadInventory(INVENTORY_FILE);
      const playbook = loadPlaybook(`${REPO_ROOT}/playbooks/bootstrap.yml`, cluster);
      const changing = await runOnce(cluster, playbook, false, 50);
      const changed = changing.results.filter((r) => r.status === 'changed').length;
      const check = await runOnce(cluster, playbook, true, 50);
      const parallel: number[] = [];
      const serial: number[] = [];
      const perHostSum: number[] = [];
      for (let i = 0; i < REPS; i++) {
        const p = await runOnce(cluster, playbook, true, 50);
        parallel.push(p.wallMs);
        perHostSum.push(p.results.reduce((n, r) => n + r.durationMs, 0));
        serial.push((await runOnce(cluster, playbook, true, 1)).wallMs);
      }
      const range = (xs: number[]) => `median of ${xs.length}; ${Math.min(...xs).toFixed(0)}..${Math.max(...xs).toFixed(0)} ms`;
      return [
        { measure: 'changing run: SSH execs per host', value: median(changing.execs), unit: 'count', detail: `min ${Math.min(...changing.execs)}, max ${Math.max(...changing.execs)}; ${changed} of ${changing.results.length} hosts changed` },
        { measure: 'check: SSH execs per host', value: median(check.execs), unit: 'count', detail: `min ${Math.min(...check.execs)}, max ${Math.max(...check.execs)}` },
        { measure: 'check, --forks 50: wall time', value: median(parallel), unit: 'ms', detail: range(parallel) },
        { measure: 'check, --forks 1 (baseline): wall time', value: median(serial), unit: 'ms', detail: range(serial) },
        { measure: 'check: parallelism (forks 1 wall / forks 50 wall)', value: median(serial) / median(parallel), unit: 'x', detail: '7 hosts, 2 plays' },
        { measure: 'check: sum of per-host times / wall (forks 50)', value: median(perHostSum) / median(parallel), unit: 'x', detail: 'how many hosts were in flight on average' },
      ];
    } finally {
      await labDown();
    }
  },
};

export default runnerLab;
