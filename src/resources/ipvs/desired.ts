/**
 * The table a director must carry, from the Cluster alone: every service it carries that lvsplay
 * owns, with the full spec the kernel will report back (DR/TUN real-server ports rewritten to the
 * service port, tunnel defaults filled in), and the keys the diff must leave alone or may delete.
 */
import ipaddr from 'ipaddr.js';
import type { Cluster, Host, Service, ServiceMember } from '../../inventory/model.js';
import { servicesOf } from '../../inventory/model.js';
import { cloneService, type Destination, emptyTable, type IpvsTable, normalTunnel, type ServiceKey, type VirtualService } from './table.js';
import { defaultNetmask, destKey, flagBits, serviceKey } from './forms.js';

export interface DesiredTable {
  /** The lvsplay-owned services this director carries, full spec. */
  table: IpvsTable;
  /** The same services as the inventory says them (to redo the table with drained servers at weight 0). */
  services: Service[];
  /** Keys of every service the inventory gives to another owner (ldirectord), on any director: never touched. */
  foreign: Set<string>;
  /** Keys of every service the inventory gives to lvsplay (on any director): deletable here without purge. */
  declared: Set<string>;
}

export function keyOf(s: Service): ServiceKey {
  if (s.protocol === 'fwmark') return { kind: 'fwmark', fwmark: s.fwmark!, family: s.family };
  return { kind: 'inet', protocol: s.protocol, address: s.vip!, port: s.port! };
}

/** The port the kernel reports for a member: ipvsadm rewrites a -g/-i server's port to the service's (fwmark services keep theirs). */
function memberPort(s: Service, m: ServiceMember): number {
  return s.forwarding !== 'nat' && s.protocol !== 'fwmark' ? s.port! : m.port;
}

/** A member's real-server key in its service, as the director's table holds it. */
export function memberDestKey(s: Service, m: ServiceMember): string {
  return destKey({ address: m.address, port: memberPort(s, m) });
}

export function toVirtualService(s: Service): VirtualService {
  const key = keyOf(s);
  const netmask = s.persistence?.netmask;
  const dests = new Map<string, Destination>();
  for (const m of s.realServers) {
    const dest: Destination = {
      address: m.address, port: memberPort(s, m),
      method: s.forwarding,
      weight: m.weight,
      upperThreshold: m.upperThreshold,
      lowerThreshold: m.lowerThreshold,
      ...(s.forwarding === 'tun' && { tunnel: normalTunnel(s.tunnel ?? { type: 'ipip' }) }),
    };
    dests.set(destKey(dest), dest);
  }
  return {
    key,
    scheduler: s.scheduler,
    flags: flagBits(s.schedulerFlags),
    onePacket: s.onePacket,
    dests,
    ...(s.persistence && {
      persistence: {
        timeout: s.persistence.timeoutS,
        netmask: netmask === undefined ? defaultNetmask(s.family)
          : s.family === 'ipv4' ? ipaddr.IPv4.parse(netmask).toString() : String(Number(netmask)),
      },
    }),
  };
}

/** A real server carries no IPVS table: its desired table is empty and nothing is declared. */
export function desiredTable(cluster: Cluster, host: Host): DesiredTable {
  const foreign = new Set<string>();
  const declared = new Set<string>();
  for (const s of cluster.services) (s.managedBy === 'lvsplay' ? declared : foreign).add(serviceKey(keyOf(s)));
  const table = emptyTable();
  if (host.kind !== 'director') return { table, services: [], foreign: new Set(), declared: new Set() };
  const services = servicesOf(cluster, host).filter((s) => s.managedBy === 'lvsplay');
  return { table: tableOf(services), services, foreign, declared };
}

export function tableOf(services: readonly Service[]): IpvsTable {
  const table = emptyTable();
  for (const s of services) {
    const v = toVirtualService(s);
    table.services.set(serviceKey(v.key), v);
  }
  return table;
}

/**
 * `table` with the weight the director has for every member whose weight the runtime owns
 * (weight_policy: initial), where the director has that member: the inventory's weight is for
 * adding it. Drained members stay at 0, and `restored` ones (undrained in this run) come back at
 * the inventory's weight: drain and undrain are an operator's say, over the runtime's.
 */
export function withRuntimeWeights(table: IpvsTable, services: readonly Service[], live: IpvsTable, drained: ReadonlySet<string>, restored: ReadonlySet<string>): IpvsTable {
  const out: IpvsTable = { ...table, services: new Map(table.services) };
  for (const s of services) {
    const key = serviceKey(keyOf(s));
    const want = table.services.get(key);
    const have = live.services.get(key);
    if (!want || !have) continue;
    for (const m of s.realServers) {
      if (!m.runtimeWeight || drained.has(m.address) || restored.has(m.address)) continue;
      const dk = memberDestKey(s, m);
      const d = want.dests.get(dk);
      const weight = have.dests.get(dk)?.weight;
      if (!d || weight === undefined) continue;
      // copied on the first change: the table given is the desired state's own
      const copy = out.services.get(key) === want ? cloneService(want) : out.services.get(key)!;
      copy.dests.set(dk, { ...d, weight });
      out.services.set(key, copy);
    }
  }
  return out;
}
