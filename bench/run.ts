/**
 * `npm run bench`: run each benchmark module in turn and print one table.
 * `npm run bench -- inventory-load` runs only the named ones.
 * Benchmarks measure; they never assert a time.
 */
import { cpus } from 'node:os';
import fleet from './fleet.js';
import fleetProfile from './fleet-profile.js';
import inventoryLoad from './inventory-load.js';
import ipvsLab from './ipvs-lab.js';
import planIpvs from './plan-ipvs.js';
import rolloutLab from './rollout-lab.js';
import runnerLab from './runner-lab.js';
import { type Benchmark, formatValue, table } from './lib.js';

/** Every benchmark, in the order they run. Add new modules here. */
const BENCHMARKS: Benchmark[] = [inventoryLoad, planIpvs, ipvsLab, runnerLab, rolloutLab, fleet, fleetProfile];

const wanted = process.argv.slice(2);
const chosen = wanted.length === 0 ? BENCHMARKS : BENCHMARKS.filter((b) => wanted.includes(b.name));
if (chosen.length === 0) {
  process.stderr.write(`no benchmark named ${wanted.join(', ')}; known: ${BENCHMARKS.map((b) => b.name).join(', ')}\n`);
  process.exit(1);
}

process.stdout.write(`node ${process.version}, ${cpus().length} CPU(s) (${cpus()[0]?.model ?? 'unknown'})\n\n`);
const rows: string[][] = [];
for (const bench of chosen) {
  process.stderr.write(`running ${bench.name}: ${bench.description}\n`);
  const started = performance.now();
  const results = await bench.run();
  process.stderr.write(`  done in ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
  for (const r of results) rows.push([bench.name, r.measure, formatValue(r.value, r.unit), r.detail ?? '']);
}
process.stdout.write(`${table(['benchmark', 'measure', 'value', 'detail'], rows)}\n`);
