/**
 * What a director is doing now, read in one round trip and never changed: its table (`ipvsadm -S
 * -n`, weights and forwarding), connection counts and thresholds (`-L -n --thresholds`), totals
 * (`--stats --exact`), rates (`--rate --exact`) and lvsplay's drained record. Read without the
 * run lock, so `status` works while a rollout holds it.
 */
import type { Cluster } from '../inventory/model.js';
import { drainedProbe, parseDrained } from '../resources/drained.js';
import { type CounterList, parseCounters, parseSave, parseThresholds, probePart, withThresholds } from '../resources/ipvs/parse.js';
import type { IpvsTable } from '../resources/ipvs/table.js';
import { framed, splitSections } from '../resources/sections.js';
import type { Templates } from '../templates/templates.js';

export const STATS = ['Conns', 'InPkts', 'OutPkts', 'InBytes', 'OutBytes'] as const;
export const RATES = ['CPS', 'InPPS', 'OutPPS', 'InBPS', 'OutBPS'] as const;

export interface Snapshot {
  table: IpvsTable;
  stats: CounterList;
  rates: CounterList;
  drained: Set<string>;
}

const COMMANDS = {
  save: ['-S', '-n'],
  thresholds: ['-L', '-n', '--thresholds'],
  stats: ['-L', '-n', '--stats', '--exact'],
  rates: ['-L', '-n', '--rate', '--exact'],
} as const;

export function snapshotScript(templates: Templates, cluster: Cluster): string {
  const parts = Object.entries(COMMANDS).map(([name, args]) => framed(name, templates.render('ipvs/probe.sh.hbs', { args })));
  return `export LC_ALL=C PATH="/usr/local/sbin:/usr/sbin:/sbin:$PATH"\n${parts.join('')}${framed('drained', drainedProbe(templates, cluster))}`;
}

export function parseSnapshot(output: string): Snapshot {
  const parts = splitSections(output);
  const part = (name: keyof typeof COMMANDS) => probePart(parts.get(name), `ipvsadm ${COMMANDS[name].join(' ')}`);
  return {
    table: withThresholds(parseSave(part('save')), parseThresholds(part('thresholds'))),
    stats: parseCounters(part('stats'), STATS, 'ipvsadm -L -n --stats --exact'),
    rates: parseCounters(part('rates'), RATES, 'ipvsadm -L -n --rate --exact'),
    drained: parseDrained(parts.get('drained')),
  };
}
