/**
 * The hosts of the imported inventory, which no saved table or config names: real servers are named
 * from their addresses (rs-192-0-2-21) unless a names file maps addresses to names (an IPv4 and an
 * IPv6 address mapped to one name are one host); directors come from keepalived's VRRP instance
 * (router_id, state, priority, interface, unicast_src_ip and unicast_peer) where there is one, and
 * otherwise are placeholders. A director's interface subnet is guessed as the smallest one (at most
 * a /24, or a /64) holding every direct-routing real server and sorry server, since direct routing
 * needs them on its segment; an address it lacks is the subnet's first free one. Every guess gets
 * a YAML comment saying so.
 */
import ipaddr from 'ipaddr.js';
import { isIPv4 } from 'node:net';
import { addressNumber, canonicalAddress, numberAddress } from '../inventory/addresses.js';
import { Ip, Name, unusableAddress } from '../inventory/fields.js';
import { InputError, type Problem } from '../util/problems.js';
import { YamlSource } from '../util/yaml-source.js';
import type { Imported } from './model.js';

/** A comment for the node at `path` in the emitted YAML. */
export interface Commented {
  path: (string | number)[];
  text: string;
}

export interface Hosts {
  directors: Record<string, unknown>[];
  realServers: Record<string, unknown>[];
  /** A member address → its real server's name. */
  nameOf: Map<string, string>;
  comments: Commented[];
}

/** `--names FILE`: a YAML mapping of addresses to host names. */
export function readNames(file: string): Map<string, string> {
  const source = YamlSource.read(file);
  if (source.problems.length > 0) throw new InputError(source.problems);
  const data = source.data;
  if (data === null || typeof data !== 'object' || Array.isArray(data)) throw new InputError([source.problem([], 'expected a mapping of addresses to host names, like 192.0.2.21: web1')]);
  const problems: Problem[] = [];
  const names = new Map<string, string>();
  for (const [address, name] of Object.entries(data)) {
    if (!Ip.safeParse(address).success) problems.push(source.problem([address], `expected an IP address as the key, got ${JSON.stringify(address)}`, { key: true }));
    else if (!Name.safeParse(name).success) problems.push(source.problem([address], `expected a host name (letters, digits, "_", "." or "-", at most 63), got ${JSON.stringify(name)}`));
    else names.set(canonicalAddress(address), name as string);
  }
  if (problems.length > 0) throw new InputError(problems);
  return names;
}

export function buildHosts(imported: Imported, names: Map<string, string>, namesFile: string | undefined): Hosts {
  const comments: Commented[] = [];
  const vrrp = imported.vrrp;
  const dr = imported.services.filter((s) => s.forwarding === 'dr');
  const points = (family: 'ipv4' | 'ipv6') => [
    ...dr.flatMap((s) => s.members.map((m) => m.address)),
    ...dr.flatMap((s) => (s.fallback && s.fallback.forwarding === 'dr' && ipaddr.parse(s.fallback.address).range() !== 'loopback' ? [s.fallback.address] : [])),
    ...(vrrp?.sourceAddress ? [vrrp.sourceAddress] : []), ...(vrrp?.peers ?? []),
  ].filter((a) => (family === 'ipv4') === isIPv4(a));
  const used = new Set([
    ...imported.services.flatMap((s) => [...s.members.map((m) => m.address), ...(s.key.kind === 'inet' ? [s.key.address] : []), ...(s.fallback ? [s.fallback.address] : [])]),
    ...(vrrp?.natGateway ? [vrrp.natGateway.split('/')[0]!] : []), ...(vrrp?.peers ?? []), ...(vrrp?.sourceAddress ? [vrrp.sourceAddress] : []), ...Object.values(vrrp?.addressOn ?? {}),
    ...Object.values(vrrp?.peerAddressOn ?? {}).flatMap((on) => Object.values(on)),
  ]);
  const observed = imported.observed;
  const v4 = observed
    ? subnetOf(observed.interface.address, observed.interface.prefix)
    : subnet(points('ipv4'), 'ipv4') ?? PLACEHOLDER;
  const v6 = subnet(points('ipv6'), 'ipv6');
  const subnetNote = observed
    ? `read from ${observed.name}'s addresses: the interface holding the VIPs`
    : v4.guessed
    ? 'GUESSED: a documentation subnet (the input says nothing of the director\'s network): set the interface carrying the VIPs and its address/prefix'
    : 'GUESSED: the smallest subnet (at most /24) holding every direct-routing real server: set the real one';

  // This director, and the pair's others from unicast_peer.
  const selfName = observed?.name ?? imported.directorName ?? 'lb1';
  const selfAddress = observed?.interface.address ?? vrrp?.sourceAddress ?? pick(v4, used);
  const members: { name: string; address: string; role: 'primary' | 'backup'; priority?: number; self: boolean; placeholder?: true }[] = [
    { name: selfName, address: selfAddress, role: vrrp?.role ?? 'primary', ...(vrrp?.priority !== undefined && { priority: vrrp.priority }), self: true },
  ];
  const base = vrrp?.priority ?? 100;
  const freeName = (first: number, wanted = `lb${first}`) => {
    const taken = new Set(members.map((m) => m.name));
    let name = wanted;
    for (let n = first + 1; taken.has(name); n++) name = `lb${n}`;
    return name;
  };
  (vrrp?.peers ?? []).forEach((peer, i) => {
    const primary = members[0]!.role === 'backup' && i === 0;
    members.push({ name: freeName(i + 2, names.get(peer)), address: peer, role: primary ? 'primary' : 'backup', priority: primary ? Math.min(254, base + 50) : Math.max(1, base - 50), self: false });
  });
  // A backup's keepalived.conf that names no peer (multicast adverts): its pair's primary is in no
  // input, and a pair needs one. A placeholder stands for it, every value GUESSED, rather than
  // promoting this director (applying that would make a backup preempt the real primary).
  if (!members.some((m) => m.role === 'primary')) {
    members.push({ name: freeName(2), address: pick(v4, used), role: 'primary', priority: Math.min(254, base + 50), self: false, placeholder: true });
  }
  const ifname = observed?.interface.name ?? vrrp?.interface ?? 'eth0';
  /** A director's interface on the NAT gateway's subnet, when keepalived held the gateway on another interface than the VIPs'. */
  const natInterface = (d: { self: boolean; address: string }): { name: string; address: string; prefix: number; read: boolean }[] => {
    const gw = vrrp?.natGateway?.split('/');
    if (!gw || vrrp?.natGatewayInterface === undefined || vrrp.natGatewayInterface === ifname) return [];
    const prefix = Number(gw[1]);
    const subnet = subnetOf(gw[0]!, prefix);
    const own = d.self ? vrrp.addressOn?.[vrrp.natGatewayInterface] : vrrp.peerAddressOn?.[d.address]?.[vrrp.natGatewayInterface];
    if (own !== undefined && isIPv4(own) && subnetOf(own, prefix).network === subnet.network) return [{ name: vrrp.natGatewayInterface, address: own, prefix, read: true }];
    return [{ name: vrrp.natGatewayInterface, address: pick(subnet, used), prefix, read: false }];
  };
  const directors = members.map((d, i) => {
    const address6 = v6 ? pick(v6, used) : undefined;
    if (address6) used.add(address6);
    comments.push({ path: ['directors', i, 'name'], text: d.self ? (observed ? 'as given to --from-host' : imported.directorName ? 'keepalived.conf router_id' : 'GUESSED: name this director') : d.placeholder ? 'GUESSED: a placeholder for the pair\'s primary, which no input names (the director above is BACKUP, its adverts multicast): set its name' : 'from unicast_peer: GUESSED name' });
    if ((d.self && !observed && !vrrp?.sourceAddress) || d.placeholder) comments.push({ path: ['directors', i, 'address'], text: `GUESSED: ${d.self ? 'the director\'s own address' : 'the primary\'s address'} (SSH goes there unless ssh.host is set)` });
    if (!d.self) comments.push({ path: ['directors', i, 'priority'], text: 'GUESSED: its keepalived.conf was not imported' });
    const main = { name: ifname, address: `${d.address}/${v4.prefix}`, ...(address6 && { address6: `${address6}/${v6!.prefix}` }) };
    const nat = observed ? [] : natInterface(d);
    const others = observed ? (d.self ? observed.others : []) : nat;
    const othersNote = observed ? '; then the others that hold a VIP or face real servers'
      : `; then the one keepalived held the NAT gateway on (name from its vrrp_instance; address ${nat[0]?.read ? (d.self ? 'its unicast_src_ip' : 'its unicast_peer') : 'GUESSED in the gateway\'s subnet'})`;
    comments.push({ path: ['directors', i, others.length > 0 ? 'interfaces' : 'interface'], text: `${observed ? '' : vrrp?.interface ? 'name from vrrp_instance interface; ' : 'GUESSED name; '}${subnetNote}${others.length > 0 ? othersNote : ''}` });
    return {
      name: d.name, address: d.address, ...(d.self && observed && { ssh: observed.ssh }),
      ...(others.length > 0
        ? { interfaces: [main, ...others.map((o) => ({ name: o.name, address: `${o.address}/${o.prefix}` }))] }
        : { interface: main }),
      role: d.role, ...(d.priority !== undefined && { priority: d.priority }),
      ...(vrrp && vrrp.pair !== 'default' && { pair: vrrp.pair }),
    };
  });
  if (directors.length === 1 && vrrp) comments.push({ path: ['directors', 0, 'role'], text: 'this VRRP pair\'s other directors are unknown (multicast adverts): add them' });

  // Real servers: one host per name; IPv4 is its address, IPv6 its address6 (or address alone).
  const primary = directors.find((d) => d.role === 'primary')!;
  const gateway = (vrrp?.natGateway ?? observed?.natGateway)?.split('/')[0] ?? observed?.natVia ?? primary.address;
  const natMembers = new Set(imported.services.filter((s) => s.forwarding === 'nat').flatMap((s) => s.members.map((m) => m.address)));
  const taken = new Set(directors.map((d) => d.name));
  const byName = new Map<string, { v4?: string; v6?: string }>();
  const nameOf = new Map<string, string>();
  const problems: Problem[] = [];
  for (const address of [...new Set(imported.services.flatMap((s) => s.members.map((m) => m.address)))]) {
    let name = names.get(address) ?? `rs-${address.replace(/[.:]/g, '-')}`;
    if (taken.has(name)) name = `rs-${name}`;
    const host = byName.get(name) ?? {};
    const family = isIPv4(address) ? 'v4' : 'v6';
    if (host[family] !== undefined) problems.push({ file: namesFile ?? '--names', line: 1, col: 1, field: address, message: `${address} and ${host[family]} are both named ${name}: a host has one address per family` });
    host[family] = address;
    byName.set(name, host);
    nameOf.set(address, name);
  }
  if (problems.length > 0) throw new InputError(problems);
  const realServers = [...byName].map(([name, h], i) => {
    const nat = [h.v4, h.v6].some((a) => a !== undefined && natMembers.has(a));
    if (nat) comments.push({ path: ['real_servers', i], text: vrrp?.natGateway ? 'gateway: the NAT gateway keepalived holds' : observed?.natGateway ?? observed?.natVia ? `gateway: ${observed!.name}'s address on their subnet` : 'gateway GUESSED: NAT replies go back through the primary director' });
    return {
      name, address: h.v4 ?? h.v6!, ...(h.v4 && h.v6 && { address6: h.v6 }),
      ...(nat && h.v4 && { gateway }),
    };
  });
  if (!namesFile && realServers.length > 0) comments.push({ path: ['real_servers'], text: 'named from their addresses: --names FILE (address: name) names them' });
  return { directors, realServers, nameOf, comments };
}

interface Subnet {
  network: bigint;
  prefix: number;
  family: 'ipv4' | 'ipv6';
  guessed: boolean;
}

const bits = (family: 'ipv4' | 'ipv6') => (family === 'ipv4' ? 32 : 128);

/** The documentation subnet (RFC 5737) a director gets when the input says nothing of its network. */
const PLACEHOLDER: Subnet = { network: addressNumber('192.0.2.0'), prefix: 24, family: 'ipv4', guessed: true };

/**
 * The smallest subnet holding every point, widened to a /24 (IPv4) or /64 (IPv6) at least; none when
 * they do not share a /16 (IPv6: /48): direct routing needs one link, and no link is that wide, so
 * such a guess would be no network at all (a /0).
 */
function subnet(points: string[], family: 'ipv4' | 'ipv6'): Subnet | undefined {
  if (points.length === 0) return undefined;
  const width = bits(family);
  const values = points.map(addressNumber);
  const differing = values.reduce((acc, v) => acc | (v ^ values[0]!), 0n);
  const common = differing === 0n ? width : width - differing.toString(2).length;
  if (common < (family === 'ipv4' ? 16 : 48)) return undefined;
  const prefix = Math.min(common, family === 'ipv4' ? 24 : 64);
  const mask = ((1n << BigInt(width)) - 1n) ^ ((1n << BigInt(width - prefix)) - 1n);
  return { network: values[0]! & mask, prefix, family, guessed: false };
}

/** The IPv4 subnet an address with its prefix lies in (read from a host, not guessed). */
function subnetOf(address: string, prefix: number): Subnet {
  const mask = ((1n << 32n) - 1n) ^ ((1n << BigInt(32 - prefix)) - 1n);
  return { network: addressNumber(address) & mask, prefix, family: 'ipv4', guessed: false };
}

/** Where a guess goes when its subnet has no address left for it (a /30, or a reserved range). */
const SPARE: Record<'ipv4' | 'ipv6', Subnet[]> = {
  ipv4: ['192.0.2.0', '198.51.100.0', '203.0.113.0'].map((a) => ({ network: addressNumber(a), prefix: 24, family: 'ipv4', guessed: true })),
  ipv6: [{ network: addressNumber('2001:db8::'), prefix: 64, family: 'ipv6', guessed: true }],
};

/**
 * The subnet's first address no host, VIP or sorry server has, and that can be a host's; else the
 * documentation subnets' (the guess is commented either way, and the loader's check of the output
 * says what then does not fit).
 */
function pick(s: Subnet, used: Set<string>): string {
  for (const subnet of [s, ...SPARE[s.family]]) {
    const size = 1n << BigInt(bits(subnet.family) - subnet.prefix);
    for (let k = 1n; k < size - 1n && k <= 65_536n; k++) {
      const candidate = numberAddress(subnet.network + k, subnet.family);
      if (!used.has(candidate) && unusableAddress(candidate) === undefined) {
        used.add(candidate);
        return candidate;
      }
    }
  }
  throw new Error(`no free address in ${numberAddress(s.network, s.family)}/${s.prefix} nor any documentation subnet`);
}
