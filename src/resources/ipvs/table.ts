/**
 * A typed IPVS table: what `ipvsadm -S -n` describes, plus the thresholds and connection counts
 * that only `ipvsadm -L -n --thresholds` shows. Desired and probed tables share this one shape,
 * so the diff compares like with like.
 *
 * Every value is kept in the kernel's canonical form (addresses as ipvsadm prints them, the
 * default persistence netmask spelled out, tunnel options with their defaults filled in), so two
 * tables that the kernel would treat alike compare equal field by field.
 */
import ipaddr from 'ipaddr.js';
import { keyFamily } from './forms.js';

export type IpvsProtocol = 'tcp' | 'udp' | 'sctp';
export type IpvsFamily = 'ipv4' | 'ipv6';
/** -g (direct routing), -i (tunnel), -m (masquerading / NAT). */
export type Method = 'dr' | 'tun' | 'nat';
export type TunnelType = 'ipip' | 'gue' | 'gre';
export type TunnelChecksum = 'nocsum' | 'csum' | 'remcsum';

/** A virtual service is keyed by (protocol, address, port) or by (fwmark, family). */
export type ServiceKey =
  | { kind: 'inet'; protocol: IpvsProtocol; address: string; port: number }
  | { kind: 'fwmark'; fwmark: number; family: IpvsFamily };

export interface Persistence {
  /** Seconds, 1..2678400. */
  timeout: number;
  /** IPv4: a dotted mask (255.255.255.255 is the default); IPv6: a prefix length ("128" is the default). */
  netmask: string;
}

/** Tunnel settings of a -i real server: ipip has none, gue a port and a checksum mode, gre a checksum mode. */
export interface Tunnel {
  type: TunnelType;
  port?: number;
  checksum?: TunnelChecksum;
}

export interface Destination {
  address: string;
  port: number;
  method: Method;
  /** 0..65535; 0 = quiescent. */
  weight: number;
  /** -x / -y, 0..INT_MAX; 0 = none. Never in `-S` output: probed with `-L -n --thresholds`. */
  upperThreshold: number;
  lowerThreshold: number;
  /** Present exactly when method is 'tun'. */
  tunnel?: Tunnel;
  /** Probed tables only: ActiveConn / InActConn (undefined when the list did not show this server). */
  conns?: { active: number; inactive: number };
}

export interface VirtualService {
  key: ServiceKey;
  scheduler: string;
  /** Scheduler flag bits: 1 = flag-1 (sh-fallback, mh-fallback), 2 = flag-2 (sh-port, mh-port), 4 = flag-3. */
  flags: number;
  persistence?: Persistence;
  /** Persistence engine (--pe), e.g. sip. */
  pe?: string;
  /** -o: one-packet scheduling (UDP and fwmark services only). */
  onePacket: boolean;
  /** Keyed by destKey(). */
  dests: Map<string, Destination>;
}

export interface IpvsTable {
  /** Keyed by serviceKey(). */
  services: Map<string, VirtualService>;
  /**
   * Probed tables only: services whose lines could not be read, by their printed spec
   * (`-t 192.0.2.10:80`), with those lines and why (`error`, which names the line; `line` and
   * `reason` apart, for `lvsplay import`'s file:line messages). Someone else's rules: left alone
   * unless lvsplay owns the service, which is then an error.
   */
  opaque?: Map<string, { lines: string[]; error: string; line: number; reason: string }>;
}

export const emptyTable = (): IpvsTable => ({ services: new Map() });

export const MAX_THRESHOLD = 2147483647;
export const MAX_PERSISTENCE = 2678400;
/** `-p` without a value (libipvs.h: 6*60, though the man page says 300). */
export const DEFAULT_PERSISTENCE = 360;

/** Scheduler and persistence-engine names: the kernel module suffix (IP_VS_SCHEDNAME_MAXLEN = 16). */
export const SCHEDULER_NAME = /^[a-z][a-z0-9_]{0,14}$/;
export const PE_NAME = /^[a-z][a-z0-9_]{0,14}$/;

/** Service settings (everything -E sets) are equal; real servers are not compared. */
export function sameServiceSettings(a: VirtualService, b: VirtualService): boolean {
  return a.scheduler === b.scheduler && a.flags === b.flags && a.onePacket === b.onePacket && (a.pe ?? '') === (b.pe ?? '')
    && a.persistence?.timeout === b.persistence?.timeout && a.persistence?.netmask === b.persistence?.netmask;
}

/** Real-server settings (everything -e sets) are equal; connection counts are not compared. */
export function sameDestSettings(a: Destination, b: Destination): boolean {
  return a.method === b.method && a.weight === b.weight && a.upperThreshold === b.upperThreshold && a.lowerThreshold === b.lowerThreshold
    && a.tunnel?.type === b.tunnel?.type && a.tunnel?.port === b.tunnel?.port && a.tunnel?.checksum === b.tunnel?.checksum;
}

/** Fill a tunnel's defaults as the kernel reports them: gue/gre checksum defaults to nocsum. */
export function normalTunnel(t: { type: TunnelType; port?: number | undefined; checksum?: TunnelChecksum | undefined }): Tunnel {
  if (t.type === 'ipip') return { type: 'ipip' };
  if (t.type === 'gre') return { type: 'gre', checksum: t.checksum ?? 'nocsum' };
  return { type: 'gue', ...(t.port !== undefined && { port: t.port }), checksum: t.checksum ?? 'nocsum' };
}

const PROTOCOL_NUMBER: Record<IpvsProtocol, number> = { tcp: 6, udp: 17, sctp: 132 };

/** Sort keys of addresses: "4" + 8 hex digits or "6" + 32, so string order is numeric order, IPv4 first. */
const sortKeys = new Map<string, string>();

function addressSortKey(address: string): string {
  let key = sortKeys.get(address);
  if (key === undefined) {
    const bytes = ipaddr.parse(address).toByteArray();
    key = (bytes.length === 4 ? '4' : '6') + bytes.map((b) => b.toString(16).padStart(2, '0')).join('');
    if (sortKeys.size > 100_000) sortKeys.clear();
    sortKeys.set(address, key);
  }
  return key;
}

function compareAddresses(a: string, b: string): number {
  if (a === b) return 0;
  const x = addressSortKey(a);
  const y = addressSortKey(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * The order `ipvsadm -S`/`-L` lists services in (ipvs_cmp_services): fwmark (0 for address
 * services), family (IPv4 first), protocol number, address, port. One difference: ipvsadm
 * subtracts u32 values into an int, so addresses more than 2^31 apart compare the wrong way round
 * and its order is not even transitive (10.0.0.1 sorts after 192.0.2.1); we use the true order.
 */
export function compareServiceKeys(a: ServiceKey, b: ServiceKey): number {
  const mark = (k: ServiceKey) => (k.kind === 'fwmark' ? k.fwmark : 0);
  const fam = (k: ServiceKey) => (keyFamily(k) === 'ipv4' ? 2 : 10);
  const proto = (k: ServiceKey) => (k.kind === 'fwmark' ? PROTOCOL_NUMBER.tcp : PROTOCOL_NUMBER[k.protocol]);
  const r = mark(a) - mark(b) || fam(a) - fam(b) || proto(a) - proto(b);
  if (r !== 0 || a.kind === 'fwmark' || b.kind === 'fwmark') return r;
  return compareAddresses(a.address, b.address) || a.port - b.port;
}

/** Real servers by address, then port (ipvs_cmp_dests), IPv4 before IPv6 when a tunnel service mixes them. */
export function compareDests(a: { address: string; port: number }, b: { address: string; port: number }): number {
  return compareAddresses(a.address, b.address) || a.port - b.port;
}

export function sortedServices(table: IpvsTable): VirtualService[] {
  return [...table.services.values()].sort((a, b) => compareServiceKeys(a.key, b.key));
}

export function sortedDests(service: VirtualService): Destination[] {
  return [...service.dests.values()].sort(compareDests);
}

/** A deep copy (dests and nested objects), for building a table from another. */
export function cloneService(s: VirtualService): VirtualService {
  return {
    ...s,
    key: { ...s.key },
    ...(s.persistence && { persistence: { ...s.persistence } }),
    dests: new Map([...s.dests].map(([k, d]) => [k, cloneDest(d)])),
  };
}

export function cloneDest(d: Destination): Destination {
  return { ...d, ...(d.tunnel && { tunnel: { ...d.tunnel } }), ...(d.conns && { conns: { ...d.conns } }) };
}

