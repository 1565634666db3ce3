/**
 * A director's snapshot against the inventory, line by line: each service it should carry and each
 * real server in it, with what the kernel shows and what the line means. A drained server (in
 * lvsplay's record, at weight 0) is expected, not a difference; for services ldirectord or
 * keepalived own, a server their health check took out (gone, or at weight 0) is said so.
 */
import type { Cluster, Director, Service } from '../inventory/model.js';
import { servicesOf } from '../inventory/model.js';
import { withDrained } from '../resources/drained.js';
import { keyOf, memberDestKey, tableOf } from '../resources/ipvs/desired.js';
import { destKey, serviceKey } from '../resources/ipvs/forms.js';
import type { Destination, VirtualService } from '../resources/ipvs/table.js';
import type { Snapshot } from './snapshot.js';

export type LineState = 'ok' | 'drained' | 'weight set at runtime' | 'missing' | 'extra' | 'weight differs' | 'down (health check)' | 'quiescent (health check)' | 'not in the inventory';

/** States that are what the inventory (and the drained record) say. */
const MATCHING: ReadonlySet<LineState> = new Set(['ok', 'drained', 'weight set at runtime']);

export interface DestLine {
  server?: string;
  address: string;
  port: number;
  forwarding?: string;
  weight?: number;
  inventoryWeight?: number;
  active?: number;
  inactive?: number;
  stats?: number[];
  rates?: number[];
  state: LineState;
}

export interface ServiceLine {
  key: string;
  name?: string;
  owner?: Service['managedBy'];
  scheduler?: string;
  stats?: number[];
  rates?: number[];
  state: LineState;
  dests: DestLine[];
}

export interface DirectorStatus {
  director: string;
  role: Director['role'];
  services: ServiceLine[];
  differences: number;
}

export function compare(cluster: Cluster, director: Director, snap: Snapshot): DirectorStatus {
  const carried = servicesOf(cluster, director);
  const expected = tableOf(withDrained(carried, snap.drained));
  const serverAt = new Map([...cluster.realServers].flatMap((r) => [[r.address, r.name], ...(r.address6 ? [[r.address6, r.name] as const] : [])]));
  const services: ServiceLine[] = [];
  for (const service of carried) {
    const key = serviceKey(keyOf(service));
    const want = expected.services.get(key)!;
    const have = snap.table.services.get(key);
    services.push({
      key, name: service.name, owner: service.managedBy, ...(have && counters(snap, key)),
      ...(have && { scheduler: have.scheduler }),
      state: have ? 'ok' : 'missing',
      dests: destLines(want, have, service, snap, key, serverAt),
    });
  }
  for (const [key, have] of snap.table.services) {
    if (expected.services.has(key)) continue;
    services.push({ key, scheduler: have.scheduler, ...counters(snap, key), state: 'not in the inventory', dests: [...have.dests.values()].map((d) => seen(d, snap, key, serverAt, 'extra')) });
  }
  const differences = services.reduce((n, s) => n + (MATCHING.has(s.state) ? 0 : 1) + s.dests.filter((d) => !MATCHING.has(d.state)).length, 0);
  return { director: director.name, role: director.role, services, differences };
}

function destLines(want: VirtualService, have: VirtualService | undefined, service: Service, snap: Snapshot, key: string, serverAt: Map<string, string>): DestLine[] {
  const checked = service.managedBy !== 'lvsplay';
  const runtime = new Set(service.realServers.filter((m) => m.runtimeWeight && !snap.drained.has(m.address)).map((m) => memberDestKey(service, m)));
  const lines = [...want.dests.values()].map((w): DestLine => {
    const h = have?.dests.get(destKey(w));
    const inventoryWeight = w.weight;
    if (!h) return { ...named(w, serverAt), inventoryWeight, state: have && checked ? 'down (health check)' : 'missing' };
    const state: LineState = h.weight === w.weight
      ? (snap.drained.has(w.address) ? 'drained' : 'ok')
      : runtime.has(destKey(w)) ? 'weight set at runtime'
        : checked && h.weight === 0 ? 'quiescent (health check)' : 'weight differs';
    return { ...seen(h, snap, key, serverAt, state), inventoryWeight };
  });
  const extra = [...(have?.dests.values() ?? [])].filter((h) => !want.dests.has(destKey(h))).map((h) => seen(h, snap, key, serverAt, 'extra'));
  return [...lines, ...extra];
}

function named(d: { address: string; port: number }, serverAt: Map<string, string>): Pick<DestLine, 'server' | 'address' | 'port'> {
  const server = serverAt.get(d.address);
  return { ...(server && { server }), address: d.address, port: d.port };
}

/** A real server as the director shows it. */
function seen(d: Destination, snap: Snapshot, key: string, serverAt: Map<string, string>, state: LineState): DestLine {
  const dk = destKey(d);
  const stats = snap.stats.get(key)?.dests.get(dk);
  const rates = snap.rates.get(key)?.dests.get(dk);
  return {
    ...named(d, serverAt), forwarding: d.method, weight: d.weight,
    ...(d.conns && { active: d.conns.active, inactive: d.conns.inactive }),
    ...(stats && { stats }), ...(rates && { rates }), state,
  };
}

function counters(snap: Snapshot, key: string): Pick<ServiceLine, 'stats' | 'rates'> {
  const stats = snap.stats.get(key)?.totals;
  const rates = snap.rates.get(key)?.totals;
  return { ...(stats && { stats }), ...(rates && { rates }) };
}
