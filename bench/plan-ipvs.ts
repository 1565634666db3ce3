/**
 * Benchmark: the `ipvs` plan of a director carrying 5,000 services × 4 real servers, against
 * (a) an empty table and (b) the same table with one weight changed. "Plan" is what the runner
 * does per host between the two round trips: desired state, parsing the probe output (ipvsadm -S
 * -n, -L -n --thresholds, the rules file) and the diff with its rendered apply script. Reports the
 * median time of several runs and the number of batch lines ((b) must be 1). No time is asserted.
 */
import { createHash } from 'node:crypto';
import { parseInventory } from '../src/inventory/load.js';
import type { Cluster } from '../src/inventory/model.js';
import { TASK_ARGS } from '../src/playbook/tasks.js';
import { ipvs } from '../src/resources/ipvs/index.js';
import { rulesLines, saveText } from '../src/resources/ipvs/lines.js';
import { type IpvsTable, sortedDests, sortedServices } from '../src/resources/ipvs/table.js';
import { serviceKey } from '../src/resources/ipvs/forms.js';
import { hostPort } from '../src/inventory/addresses.js';
import type { HostContext } from '../src/resources/resource.js';
import { PART_MARK } from '../src/resources/sections.js';
import { Templates } from '../src/templates/templates.js';
import { YamlSource } from '../src/util/yaml-source.js';
import { type Benchmark, median, type Result } from './lib.js';
import { batchLineCount, MEMBERS, scaleInventory, SERVICES } from './ipvs-scale.js';

/** `ipvsadm -L -n --thresholds` for a table (no connections), as ipvsadm pads it. */
function thresholdList(table: IpvsTable): string {
  const pad = (s: string | number, n: number) => String(s).padEnd(n);
  let out = `IP Virtual Server version 1.2.1 (size=4096)\n${pad('Prot LocalAddress:Port', 33)} Uthreshold Lthreshold ActiveConn InActConn \n  -> RemoteAddress:Port\n`;
  for (const s of sortedServices(table)) {
    if (s.key.kind !== 'inet') throw new Error('the benchmark has address services only');
    out += `${pad(s.key.protocol.toUpperCase(), 4)} ${hostPort(s.key.address, s.key.port)} ${s.scheduler}\n`;
    for (const d of sortedDests(s)) out += `  -> ${pad(hostPort(d.address, d.port), 28)} ${pad(d.upperThreshold, 10)} ${pad(d.lowerThreshold, 10)} ${pad(0, 10)} ${pad(0, 10)}\n`;
  }
  return out;
}

/** The probe's output as the runner hands it to parse: the table, lvsplay's record of its services, the rules file. */
function probeOutput(save: string, list: string, record: readonly string[] | undefined, rules: string | undefined): string {
  const part = (name: string, body: string) => `\n${PART_MARK} ${name}@@\n${body}`;
  const file = rules === undefined ? 'absent\n'
    : `present 644 root:root ${createHash('sha256').update(rules).digest('hex')}\n${Buffer.from(rules).toString('base64')}\n`;
  const recorded = record === undefined ? '@@absent\n' : record.map((k) => `${k}\n`).join('');
  return part('save', `${save}# lvsplay: ok\n`) + part('thresholds', `${list}# lvsplay: ok\n`) + part('record', recorded) + part('rules', file);
}

function planOnce(ctx: HostContext, facts: string): { desiredMs: number; parseMs: number; diffMs: number; changes: number; batchLines: number; scriptKiB: number } {
  const t0 = performance.now();
  const desired = ipvs.desired(ctx, TASK_ARGS.ipvs.parse({}));
  const t1 = performance.now();
  const actual = ipvs.parse(facts, desired);
  const t2 = performance.now();
  const { changes, script } = ipvs.diff(desired, actual, ctx);
  const t3 = performance.now();
  return {
    desiredMs: t1 - t0, parseMs: t2 - t1, diffMs: t3 - t2,
    changes: changes.length, batchLines: batchLineCount(script), scriptKiB: script.length / 1024,
  };
}

const planIpvs: Benchmark = {
  name: 'plan-ipvs',
  description: `ipvs plan (desired + parse + diff + render) for ${SERVICES} services x ${MEMBERS} real servers: (a) empty table, (b) one weight changed`,
  async run() {
    const reps = Number(process.env['BENCH_REPS'] ?? 7);
    const cluster: Cluster = parseInventory(new YamlSource('bench-ipvs.yml', scaleInventory('  - { name: lb1, address: 192.0.2.5, role: primary, interface: { name: eth0, address: 192.0.2.5/24 } }')));
    const ctx: HostContext = { cluster, host: cluster.hosts.get('lb1')!, vars: {}, templates: new Templates() };
    const desired = ipvs.desired(ctx, TASK_ARGS.ipvs.parse({}));
    const rules = desired.rules!.content;

    const empty = probeOutput('', thresholdList({ services: new Map() }), undefined, undefined);
    // (b): the live table is the desired one except one real server's weight (the rules file is current).
    const live: IpvsTable = { services: new Map(desired.table.services) };
    const victim = [...live.services.values()][SERVICES >> 1]!;
    const dest = [...victim.dests.values()][0]!;
    live.services.set(serviceKey(victim.key), { ...victim, dests: new Map([...victim.dests].map(([k, d]) => [k, d === dest ? { ...d, weight: d.weight + 1 } : d])) });
    // lvsplay made every service (its record says so): the one weight is the only difference
    const oneOff = probeOutput(saveText(live), thresholdList(live), [...desired.table.services.keys()].sort(), rules);
    if (rulesLines(desired.table).length !== SERVICES * (1 + MEMBERS)) throw new Error('unexpected desired table size');

    const results: Result[] = [];
    for (const [label, facts] of [['(a) empty table', empty], ['(b) one weight changed', oneOff]] as const) {
      planOnce(ctx, facts); // warm-up
      const runs = Array.from({ length: reps }, () => planOnce(ctx, facts));
      const total = runs.map((r) => r.desiredMs + r.parseMs + r.diffMs);
      const last = runs.at(-1)!;
      // a bench that measures the wrong plan measures nothing: (b) is one weight, one line
      if (facts === oneOff && (last.batchLines !== 1 || last.changes !== 1)) throw new Error(`(b) planned ${last.changes} change(s), ${last.batchLines} batch line(s): expected one weight change`);
      if (facts === empty && last.batchLines !== SERVICES * (1 + MEMBERS)) throw new Error(`(a) planned ${last.batchLines} batch lines`);
      const spread = `median of ${reps}; min ${Math.min(...total).toFixed(0)}, max ${Math.max(...total).toFixed(0)} ms`;
      const stage = (f: (r: (typeof runs)[number]) => number) => median(runs.map(f));
      results.push(
        { measure: `${label}: plan time`, value: median(total), unit: 'ms', detail: spread },
        { measure: `${label}:   desired (table + rules file)`, value: stage((r) => r.desiredMs), unit: 'ms', detail: 'median, same runs' },
        { measure: `${label}:   parse (probe output)`, value: stage((r) => r.parseMs), unit: 'ms', detail: 'median, same runs' },
        { measure: `${label}:   diff + apply script`, value: stage((r) => r.diffMs), unit: 'ms', detail: 'median, same runs' },
        { measure: `${label}: batch lines`, value: last.batchLines, unit: 'count', detail: `${last.changes} change(s) incl. the rules file; apply script ${last.scriptKiB.toFixed(0)} KiB` },
      );
    }
    return results;
  },
};

export default planIpvs;
