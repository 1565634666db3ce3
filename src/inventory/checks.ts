/**
 * Semantic checks: the rules that relate fields or entries to each other, which no schema can say.
 * Each rule is one small function returning Problems; `checkInventory` runs them all, so a user
 * sees every broken rule at once. Messages name both places when two entries clash.
 */
import ipaddr from 'ipaddr.js';
import { fieldPath, type Problem } from '../util/problems.js';
import type { SourceMap } from '../util/yaml-source.js';
import { BUILTIN_GROUPS, type CheckType, type Owner } from './model.js';
import { CHECK_TYPES, type DirectorInput, type InventoryFile, KEEPALIVED_PORT_CHECKS, type MemberCheckInput, type ServiceInput } from './schema.js';
import { ownAddress, serviceInterface, subnetOf, type DirectorInterface } from './interfaces.js';
import { derivedRouterId } from './vrrp.js';
import { FIXED_FILES, recordPath, RECORDS } from './host-files.js';
import { didYouMean } from '../util/schema-problems.js';
import { shellClashMessage, shellVarName } from '../util/shell.js';
import { addressFamily, canonicalAddress, cidrAddress, hostPort, inSubnet, sameAddress } from './addresses.js';

type Path = (string | number)[];
type Rule = (inv: InventoryFile, src: SourceMap) => Problem[];

export function checkInventory(inv: InventoryFile, src: SourceMap): Problem[] {
  return RULES.flatMap((rule) => rule(inv, src));
}

const place = (src: SourceMap, path: Path): string => {
  const p = src.locate(path);
  return `line ${p.line}`;
};

/** Whether the file itself sets the value at `path` (rather than a default). */
const isWritten = (src: SourceMap, path: Path): boolean =>
  path.reduce<unknown>((node, key) => (node !== null && typeof node === 'object' ? (node as Record<string | number, unknown>)[key] : undefined), src.data) !== undefined;

const uniqueHostNames: Rule = (inv, src) => {
  const seen = new Map<string, Path>();
  const problems: Problem[] = [];
  const hosts: [Path, string][] = [
    ...inv.directors.map((d, i): [Path, string] => [['directors', i, 'name'], d.name]),
    ...inv.real_servers.map((r, i): [Path, string] => [['real_servers', i, 'name'], r.name]),
  ];
  for (const [path, name] of hosts) {
    const first = seen.get(name);
    if (first) problems.push(src.problem(path, `host name "${name}" is already used at ${place(src, first)} (${first.slice(0, 2).join('[')}]); host names must be unique`));
    else seen.set(name, path);
  }
  return problems;
};

/**
 * A host named like a group: a selector (`hosts: directors`, `--limit web`) names a host before a
 * group, so the play would run on that one host instead of the group (Ansible only warns).
 */
const hostNamesAreNotGroups: Rule = (inv, src) => {
  const hosts = [...inv.directors.map((d, i) => [['directors', i, 'name'], d] as const), ...inv.real_servers.map((r, i) => [['real_servers', i, 'name'], r] as const)];
  const groups = new Set([...Object.keys(inv.groups), ...hosts.flatMap(([, h]) => h.groups)]);
  return hosts.flatMap(([path, host]) => {
    const builtin = (BUILTIN_GROUPS as readonly string[]).includes(host.name);
    if (!builtin && !groups.has(host.name)) return [];
    return [src.problem(path, `host name "${host.name}" is also ${builtin ? 'a built-in group\'s' : 'a group\'s'} name: a selector "${host.name}" would pick the host alone, not the group; rename one`)];
  });
};

const uniqueServiceNames: Rule = (inv, src) => {
  const seen = new Map<string, number>();
  return inv.services.flatMap((s, i) => {
    const first = seen.get(s.name);
    if (first === undefined) {
      seen.set(s.name, i);
      return [];
    }
    return [src.problem(['services', i, 'name'], `service name "${s.name}" is already used at ${place(src, ['services', first, 'name'])}`)];
  });
};

const hostAddressFamilies: Rule = (inv, src) => {
  const problems: Problem[] = [];
  const hosts = [...inv.directors.map((h, i) => ['directors', i, h] as const), ...inv.real_servers.map((h, i) => ['real_servers', i, h] as const)];
  for (const [list, i, host] of hosts) {
    if (host.address6 !== undefined && addressFamily(host.address6) !== 'ipv6') {
      problems.push(src.problem([list, i, 'address6'], `expected an IPv6 address, got "${host.address6}"`));
    }
  }
  return problems;
};

/**
 * A director's interfaces as written (`interface`, or `interfaces`), each with its path; none when
 * it has neither or both (directorInterfaces says so once; other rules do not guess which it meant).
 */
function interfacesAt(d: DirectorInput, i: number): { iface: DirectorInterface; path: Path }[] {
  if (d.interface !== undefined && d.interfaces !== undefined) return [];
  if (d.interfaces) return d.interfaces.map((iface, k) => ({ iface, path: ['directors', i, 'interfaces', k] }));
  return d.interface ? [{ iface: d.interface, path: ['directors', i, 'interface'] }] : [];
}
const interfacesOf = (d: DirectorInput): DirectorInterface[] => interfacesAt(d, 0).map((x) => x.iface);

/**
 * One interface (`interface`) or several (`interfaces`), never both; within a director, names unique
 * and subnets apart: an address inside two interfaces' subnets would be put on one by a guess.
 */
const directorInterfaces: Rule = (inv, src) => {
  const problems: Problem[] = [];
  inv.directors.forEach((d, i) => {
    if (d.interface !== undefined && d.interfaces !== undefined) {
      problems.push(src.problem(['directors', i, 'interfaces'], `director "${d.name}" has both interface and interfaces: give one interface as interface, or all of them (the main one first) as interfaces`, { key: true }));
    } else if (d.interface === undefined && d.interfaces === undefined) {
      problems.push(src.problem(['directors', i, 'name'], `director "${d.name}" has no interface: expected interface: {name, address: ADDRESS/PREFIX} (the one carrying the VIPs), or interfaces: [...] for several`));
    }
    const seen: { iface: DirectorInterface; path: Path }[] = [];
    for (const { iface, path } of interfacesAt(d, i)) {
      if (iface.address6 !== undefined && addressFamily(cidrAddress(iface.address6)) !== 'ipv6') {
        problems.push(src.problem([...path, 'address6'], `expected an IPv6 address with prefix length, got "${iface.address6}"`));
      }
      for (const other of seen) {
        if (other.iface.name === iface.name) {
          problems.push(src.problem([...path, 'name'], `interface ${iface.name} is already director "${d.name}"'s at ${place(src, other.path)}`));
        }
        const overlap = [iface.address, iface.address6].find((a) => a !== undefined && [other.iface.address, other.iface.address6].some((b) => b !== undefined && (inSubnet(cidrAddress(a), b) || inSubnet(cidrAddress(b), a))));
        if (overlap !== undefined) {
          problems.push(src.problem([...path, overlap === iface.address ? 'address' : 'address6'],
            `${iface.name}'s subnet ${overlap} overlaps ${other.iface.name}'s at ${place(src, other.path)}: director "${d.name}" could not tell which interface holds an address of both`));
        }
      }
      seen.push({ iface, path });
    }
  });
  return problems;
};

/** A service's `interface` is one every carrying director has; services sharing a VIP name the same one. */
const serviceInterfaces: Rule = (inv, src) => {
  const problems: Problem[] = [];
  const named = new Map<string, number>();
  inv.services.forEach((s, i) => {
    if (s.interface === undefined) return;
    for (const d of carriers(inv, s)) {
      const names = interfacesOf(d).map((x) => x.name);
      if (names.length > 0 && !names.includes(s.interface)) {
        problems.push(src.problem(['services', i, 'interface'], `director "${d.name}" has no interface ${s.interface}${didYouMean(s.interface, names)}; its interfaces are ${names.join(', ')}`));
      }
    }
    if (s.vip === undefined) return;
    const key = canonicalAddress(s.vip);
    const first = named.get(key);
    if (first === undefined) named.set(key, i);
    else if (inv.services[first]!.interface !== s.interface) {
      problems.push(src.problem(['services', i, 'interface'], `VIP ${key} is on ${inv.services[first]!.interface} for service "${inv.services[first]!.name}" at ${place(src, ['services', first, 'interface'])}: a VIP lives on one interface`));
    }
  });
  return problems;
};

/** A service is keyed by (protocol, VIP, port) or by (fwmark, family); the fields must say which. */
const serviceKeys: Rule = (inv, src) => {
  const problems: Problem[] = [];
  const seen = new Map<string, number>();
  inv.services.forEach((s, i) => {
    const at = (field: string, message: string) => problems.push(src.problem(['services', i, field], message));
    if (s.fwmark !== undefined) {
      if (s.port !== undefined) at('port', 'a firewall-mark service has no port: the mark selects the traffic');
      if (s.vip !== undefined && s.family !== undefined && addressFamily(s.vip) !== s.family) {
        at('family', `family ${s.family} does not match the vip ${s.vip}`);
      }
    } else {
      if (s.vip === undefined) at('vip', 'required field is missing: expected an IPv4 or IPv6 address (or set fwmark)');
      if (s.port === undefined) at('port', 'required field is missing: expected a port number (or set fwmark)');
      if (s.family !== undefined && s.vip !== undefined && addressFamily(s.vip) !== s.family) {
        at('family', `family ${s.family} does not match the vip ${s.vip}`);
      }
    }
    const key = serviceKey(s);
    if (key === undefined) return;
    const first = seen.get(key);
    if (first === undefined) seen.set(key, i);
    else {
      const field = s.fwmark !== undefined ? 'fwmark' : 'vip';
      at(field, `service ${key} is already declared by service "${inv.services[first]?.name}" at ${place(src, ['services', first, field])}`);
    }
  });
  return problems;
};

export function serviceKey(s: ServiceInput): string | undefined {
  if (s.fwmark !== undefined) return `fwmark ${s.fwmark} ${s.family ?? (s.vip ? addressFamily(s.vip) : 'ipv4')}`;
  if (s.vip === undefined || s.port === undefined) return undefined;
  return `${s.protocol} ${hostPort(canonicalAddress(s.vip), s.port)}`;
}

const serviceOptions: Rule = (inv, src) => {
  const problems: Problem[] = [];
  inv.services.forEach((s, i) => {
    const at = (path: Path, message: string) => problems.push(src.problem(['services', i, ...path], message));
    if (s.port === 0 && s.persistence === undefined) at(['port'], 'port 0 (all ports) requires persistence');
    if (s.one_packet && s.protocol !== 'udp' && s.fwmark === undefined) at(['one_packet'], 'one_packet scheduling is only for UDP or firewall-mark services');
    s.scheduler_flags.forEach((flag, f) => {
      const owner = flag.slice(0, 2);
      if (owner !== s.scheduler) at(['scheduler_flags', f], `flag ${flag} belongs to the ${owner} scheduler, but the scheduler is ${s.scheduler}`);
    });
    if (s.tunnel !== undefined && s.forwarding !== 'tun') at(['tunnel'], `tunnel settings need forwarding: tun (forwarding is ${s.forwarding})`);
    if (s.tunnel?.type === 'ipip' && (s.tunnel.port !== undefined || s.tunnel.checksum !== undefined)) {
      at(['tunnel'], 'an ipip tunnel has no port or checksum option (those are for gue and gre)');
    }
    // ipvsadm's --tun-port is GUE's UDP port: a GRE tunnel has none, and the port would be dropped.
    if (s.tunnel?.type === 'gre' && s.tunnel.port !== undefined) at(['tunnel', 'port'], 'a gre tunnel has no port (that is for gue tunnels)');
    if (s.tunnel?.type === 'gue' && s.tunnel.port === undefined) at(['tunnel', 'port'], 'required field is missing: a gue tunnel needs the port it listens on');
    if (s.tunnel?.type === 'gre' && s.tunnel.checksum === 'remcsum') at(['tunnel', 'checksum'], 'remcsum is only for gue tunnels');
    const netmask = s.persistence?.netmask;
    if (netmask !== undefined) {
      const family = serviceFamily(s);
      const ok = family === 'ipv4' ? typeof netmask === 'string' && isIpv4Mask(netmask) : typeof netmask === 'number' && netmask >= 1 && netmask <= 128;
      if (!ok) {
        at(['persistence', 'netmask'], family === 'ipv4'
          ? `expected a contiguous IPv4 netmask like 255.255.255.0 for an IPv4 service, got ${JSON.stringify(netmask)}`
          : `expected a prefix length 1..128 for an IPv6 service, got ${JSON.stringify(netmask)}`);
      }
    }
  });
  return problems;
};

function isIpv4Mask(mask: string): boolean {
  if (!ipaddr.IPv4.isValidFourPartDecimal(mask)) return false;
  return ipaddr.IPv4.parse(mask).prefixLengthFromSubnetMask() !== null;
}

export function serviceFamily(s: ServiceInput): 'ipv4' | 'ipv6' {
  if (s.vip !== undefined) return addressFamily(s.vip);
  return s.family ?? (s.marks?.[0] ? addressFamily(s.marks[0].vip) : 'ipv4');
}

/**
 * Marks: only on fwmark services, each VIP in the service's family, ports with a protocol; no two
 * rules may match one packet (the later rule's mark would win, silently), across all services.
 */
const marks: Rule = (inv, src) => {
  const problems: Problem[] = [];
  const taken: { vip: string; protocol?: string | undefined; ports?: number[] | undefined; at: Path; name: string }[] = [];
  inv.services.forEach((s, i) => {
    if (s.marks === undefined) return;
    if (s.fwmark === undefined) {
      problems.push(src.problem(['services', i, 'marks'], 'marks are for firewall-mark services: set fwmark, or drop marks (a vip:port service takes its packets by address and port)', { key: true }));
      return;
    }
    const family = serviceFamily(s);
    s.marks.forEach((m, j) => {
      const at: Path = ['services', i, 'marks', j];
      if (addressFamily(m.vip) !== family) problems.push(src.problem([...at, 'vip'], `${m.vip} is not ${family}, the service's family${s.family === undefined ? ' (set family: for a service of the other one)' : ''}`));
      if (m.ports !== undefined && m.protocol === undefined) problems.push(src.problem([...at, 'ports'], 'ports need a protocol: add protocol: tcp, udp or sctp'));
      const vip = canonicalAddress(m.vip);
      const clash = taken.find((o) => o.vip === vip && (o.protocol === undefined || m.protocol === undefined || o.protocol === m.protocol)
        && (o.ports === undefined || m.ports === undefined || o.ports.some((p) => m.ports!.includes(p))));
      if (clash) problems.push(src.problem([...at, 'vip'], `packets to ${vip} here are also marked for service "${clash.name}" at ${place(src, clash.at)}: a packet takes one mark`));
      taken.push({ vip, protocol: m.protocol, ports: m.ports, at, name: s.name });
      // IPVS looks a marked packet up by its mark first (ip_vs_service_find): a vip:port service it also matches would get none of them.
      const shadowed = inv.services.findIndex((o) => o.fwmark === undefined && o.vip !== undefined && canonicalAddress(o.vip) === vip
        && (m.protocol === undefined || m.protocol === o.protocol) && (m.ports === undefined || o.port === 0 || m.ports.includes(o.port!)));
      if (shadowed >= 0) {
        const o = inv.services[shadowed]!;
        problems.push(src.problem([...at, 'vip'], `these packets are also service "${o.name}"'s (${o.protocol} ${hostPort(o.vip!, o.port)}, ${place(src, ['services', shadowed, 'vip'])}): IPVS looks a marked packet up by its mark first, so that service would get none; narrow protocol or ports, or drop one service`));
      }
    });
  });
  return problems;
};

/** Members: the server exists, is a real server, has an address in the service's family, once. */
const serviceMembers: Rule = (inv, src) => {
  const problems: Problem[] = [];
  const servers = serverIndex(inv);
  const directorNames = new Set(inv.directors.map((d) => d.name));
  inv.services.forEach((s, i) => {
    const family = serviceFamily(s);
    const seen = new Map<string, number>();
    s.real_servers.forEach((m, j) => {
      const at = (field: string, message: string) => problems.push(src.problem(['services', i, 'real_servers', j, field], message));
      const index = servers.get(m.server);
      if (index === undefined) {
        at('server', directorNames.has(m.server)
          ? `"${m.server}" is a director, not a real server`
          : `no real server is named "${m.server}"${didYouMean(m.server, [...servers.keys()])}`);
        return;
      }
      const first = seen.get(m.server);
      if (first !== undefined) at('server', `"${m.server}" is already a member of this service at real_servers[${first}]`);
      seen.set(m.server, j);
      const rs = inv.real_servers[index]!;
      if (memberAddress(rs, family) === undefined) {
        at('server', `real server "${m.server}" (${place(src, ['real_servers', index, 'name'])}) has no ${family} address for this ${family} service`);
      }
      // The kernel refuses l > u whatever u is (ip_vs_ctl.c: -ERANGE), so -x 0 -y 5 too.
      if (m.lower_threshold > m.upper_threshold) {
        at('lower_threshold', m.upper_threshold === 0
          ? `lower_threshold ${m.lower_threshold} needs an upper_threshold at least as high (the kernel refuses a lower threshold above the upper one, and 0 is "none")`
          : `lower_threshold ${m.lower_threshold} is above upper_threshold ${m.upper_threshold}`);
      }
    });
  });
  return problems;
};

export function memberAddress(rs: { address: string; address6?: string | undefined }, family: 'ipv4' | 'ipv6'): string | undefined {
  if (addressFamily(rs.address) === family) return rs.address;
  if (family === 'ipv6' && rs.address6 !== undefined) return rs.address6;
  return undefined;
}

/** ipvsadm silently rewrites a DR/TUN real server's port to the VIP's: reject, or the diff never settles. */
const forwardedPorts: Rule = (inv, src) =>
  inv.services.flatMap((s, i) => {
    const method = s.forwarding.toUpperCase();
    if (s.fwmark !== undefined) {
      // A DR/TUN real server of a fwmark service takes the packet's own port. ldirectord.cf's real=
      // there has no port: a member port would be dropped. keepalived (check_data.c) clears a DR/TUN
      // real server's or sorry server's port there, with a warning its config test fails on.
      const owner = serviceOwner(s);
      if (s.forwarding === 'nat' || owner === 'lvsplay') return [];
      const members = s.real_servers.flatMap((m, j) => (m.port === undefined ? [] : [src.problem(['services', i, 'real_servers', j, 'port'],
        `a ${method} real server of ${owner}'s firewall-mark service has no port (the kernel keeps the packet's), got ${m.port}: the check's port is health_check.port`)]));
      const f = s.fallback;
      const fallback = owner === 'keepalived' && f && f.forwarding !== 'nat' && f.port !== undefined
        ? [src.problem(['services', i, 'fallback', 'port'], `a ${f.forwarding.toUpperCase()} fallback of keepalived's firewall-mark service has no port (the kernel keeps the packet's), got ${f.port}: keepalived clears it, and its config test fails`)]
        : [];
      return [...members, ...fallback];
    }
    const members = s.forwarding === 'nat' ? [] : s.real_servers.flatMap((m, j) =>
      m.port !== undefined && m.port !== s.port
        ? [src.problem(['services', i, 'real_servers', j, 'port'], `a ${method} real server must use the service port ${s.port}, got ${m.port} (only NAT can map ports)`)]
        : []);
    // The fallback too: DR, TUN and the director itself (local delivery) keep the packet's port,
    // and ldirectord would look for fallback:PORT in a table where ipvsadm wrote the service's port.
    const f = s.fallback;
    const fallback = f && f.forwarding !== 'nat' && f.port !== undefined && f.port !== s.port
      ? [src.problem(['services', i, 'fallback', 'port'], `a ${f.forwarding.toUpperCase()} fallback must use the service port ${s.port}, got ${f.port} (only NAT can map ports)`)]
      : [];
    return [...members, ...fallback];
  });

/** Real servers by name, built once per inventory: rules look members up per service. */
const serverIndexes = new WeakMap<InventoryFile, Map<string, number>>();
function serverIndex(inv: InventoryFile): Map<string, number> {
  let index = serverIndexes.get(inv);
  if (!index) {
    index = new Map();
    // The first declaration wins, as uniqueHostNames reports the later ones.
    inv.real_servers.forEach((r, i) => index!.has(r.name) || index!.set(r.name, i));
    serverIndexes.set(inv, index);
  }
  return index;
}

/** The directors each service is carried by: the named ones, or all of them. */
function carriers(inv: InventoryFile, s: ServiceInput): InventoryFile['directors'] {
  return s.directors === undefined ? inv.directors : inv.directors.filter((d) => s.directors!.includes(d.name));
}

/** The interface `d` carries service `s` on (interfaces.ts), if `d` has any. */
function carrierInterface(inv: InventoryFile, d: DirectorInput, s: ServiceInput): DirectorInterface | undefined {
  const interfaces = interfacesOf(d);
  // a fwmark service without a VIP lives where its first marked VIP is
  const placed = { vip: s.vip ?? s.marks?.[0]?.vip, interface: s.interface };
  return interfaces.length === 0 ? undefined : serviceInterface(interfaces, placed, inv.services.filter((x) => carriers(inv, x).includes(d)));
}

/** DR rewrites only the MAC: every real server must be on the segment of each director's interface for the service. */
const directRoutingSubnets: Rule = (inv, src) => {
  const problems: Problem[] = [];
  inv.services.forEach((s, i) => {
    if (s.forwarding !== 'dr') return;
    const family = serviceFamily(s);
    for (const d of carriers(inv, s)) {
      const iface = carrierInterface(inv, d, s);
      if (!iface) continue;
      const subnet = subnetOf(iface, family);
      s.real_servers.forEach((m, j) => {
        const index = serverIndex(inv).get(m.server);
        const rs = index === undefined ? undefined : inv.real_servers[index];
        const address = rs && memberAddress(rs, family);
        if (address === undefined) return;
        if (subnet === undefined || !inSubnet(address, subnet)) {
          problems.push(src.problem(['services', i, 'real_servers', j, 'server'],
            `DR real server "${m.server}" (${address}) is not on director "${d.name}"'s ${iface.name} subnet ${subnet ?? `(no ${family} address)`}: direct routing needs one L2 segment`));
        }
      });
    }
  });
  return problems;
};

/** NAT replies must come back through the director: each real server's gateway is a director address. */
const natGateways: Rule = (inv, src) => {
  const problems: Problem[] = [];
  inv.services.forEach((s, i) => {
    if (s.forwarding !== 'nat' || serviceFamily(s) !== 'ipv4') return;
    const own = carriers(inv, s).flatMap((d) => interfacesOf(d).map((x) => ownAddress(x, 'ipv4')));
    const allowed = [inv.nat_gateway && cidrAddress(inv.nat_gateway), ...own].filter((a): a is string => a !== undefined);
    s.real_servers.forEach((m, j) => {
      const index = serverIndex(inv).get(m.server);
      const rs = index === undefined ? undefined : inv.real_servers[index];
      if (!rs || index === undefined) return;
      if (rs.gateway === undefined || !allowed.some((a) => sameAddress(a, rs.gateway!))) {
        problems.push(src.problem(['services', i, 'real_servers', j, 'server'],
          `NAT real server "${m.server}" must route through the director: its gateway (${place(src, ['real_servers', index, rs.gateway === undefined ? 'name' : 'gateway'])}) is ${rs.gateway ?? 'not set'}, expected ${allowed.join(' or ')}`));
      }
    });
  });
  return problems;
};

const serviceDirectors: Rule = (inv, src) => {
  const names = new Set(inv.directors.map((d) => d.name));
  return inv.services.flatMap((s, i) =>
    (s.directors ?? []).flatMap((name, j) =>
      names.has(name) ? [] : [src.problem(['services', i, 'directors', j], `no director is named "${name}"; expected one of ${[...names].join(', ')}`)],
    ),
  );
};

/** Each pair has one primary, and its backups carry exactly the primary's services (or failover drops some). */
const directorPairs: Rule = (inv, src) => {
  const problems: Problem[] = [];
  const pairs = new Map<string, number[]>();
  inv.directors.forEach((d, i) => pairs.set(d.pair, [...(pairs.get(d.pair) ?? []), i]));
  for (const [pair, members] of pairs) {
    const primaries = members.filter((i) => inv.directors[i]!.role === 'primary');
    if (primaries.length !== 1) {
      const at = primaries[1] ?? members[0]!;
      problems.push(src.problem(['directors', at, 'role'], `director pair "${pair}" must have exactly one primary, found ${primaries.length}`));
      continue;
    }
    const primary = inv.directors[primaries[0]!]!;
    inv.services.forEach((s, i) => {
      const onPrimary = carriers(inv, s).includes(primary);
      for (const m of members) {
        const d = inv.directors[m]!;
        if (d === primary || carriers(inv, s).includes(d) === onPrimary) continue;
        problems.push(src.problem(['services', i, 'directors'],
          `service "${s.name}" is on ${onPrimary ? 'primary' : 'backup'} "${onPrimary ? primary.name : d.name}" but not on ${onPrimary ? 'backup' : 'primary'} "${onPrimary ? d.name : primary.name}": a pair's directors must carry the same services`));
      }
    });
  }
  return problems;
};

/** Who owns a service's live rules: managed_by, else ldirectord when it has a health check, else lvsplay. */
export function serviceOwner(s: ServiceInput): Owner {
  return s.managed_by ?? (s.health_check !== undefined ? 'ldirectord' : 'lvsplay');
}

/** A check's type as its owner reads it: unset, ldirectord's default is negotiate, keepalived's connect. */
export function checkTypeOf(hc: { type?: CheckType | undefined }, owner: Owner): CheckType {
  return hc.type ?? (owner === 'keepalived' ? 'connect' : 'negotiate');
}

/** Fields only ldirectord reads, and what a keepalived service says instead. */
const LDIRECTORD_ONLY: Record<string, string> = {
  service: 'keepalived picks its checker by type (connect, http, https, dns, misc, ping)',
  request: 'use type: http or https with path (and regex)',
  receive: 'use type: http or https with regex (or status, digest)',
  http_method: 'keepalived\'s HTTP_GET and SSL_GET always send GET',
  failure_count: 'keepalived counts retries: use retry (failure_count N is retry N-1)',
  login: 'keepalived\'s checks do not log in: use type: misc with a command that does',
  passwd_env: 'keepalived\'s checks do not log in: use type: misc with a command that does',
  passwd_file: 'keepalived\'s checks do not log in: use type: misc with a command that does',
  database: 'keepalived\'s checks do not log in: use type: misc with a command that does',
};
/** What only ldirectord's negotiate check reads: what it sends and expects, and how it logs in. */
export const NEGOTIATE_STRINGS = ['request', 'receive'] as const;
export const NEGOTIATE_LOGIN = ['login', 'passwd_env', 'passwd_file', 'database'] as const;
/** Fields only keepalived reads. */
const KEEPALIVED_ONLY = ['path', 'status', 'digest', 'regex', 'query_name', 'query_type', 'args', 'misc_dynamic', 'retry', 'delay_before_retry', 'alpha', 'omega', 'quorum', 'hysteresis'];
/** ldirectord's check types, and what a keepalived service says instead. */
const LDIRECTORD_TYPES: Record<string, string> = {
  negotiate: 'use http or https (path, status, digest, regex)',
  external: 'use misc (command)',
  off: 'remove health_check: a keepalived service without one keeps every real server in',
  on: 'remove health_check: a keepalived service without one keeps every real server in',
};
/** keepalived's checker fields, and the types that read them. */
const KEEPALIVED_FIELD_TYPES: Record<string, readonly CheckType[]> = {
  path: ['http', 'https'], status: ['http', 'https'], digest: ['http', 'https'], regex: ['http', 'https'], virtualhost: ['http', 'https'],
  query_name: ['dns'], query_type: ['dns'], command: ['misc'], args: ['misc'], misc_dynamic: ['misc'],
  port: KEEPALIVED_PORT_CHECKS,
};

/** Check types that connect to a port of the real server. */
const PORT_CHECKS: readonly CheckType[] = ['connect', 'negotiate', 'http', 'https', 'dns'];

const healthChecks: Rule = (inv, src) => {
  const problems: Problem[] = [];
  inv.services.forEach((s, i) => {
    const at = (path: Path, message: string) => problems.push(src.problem(['services', i, ...path], message));
    const owner = serviceOwner(s);
    if (owner === 'lvsplay' && s.health_check !== undefined) {
      at(['health_check'], 'health checks are run by ldirectord or keepalived: set managed_by: ldirectord (or managed_by: keepalived), or remove health_check');
    }
    if (owner === 'lvsplay' && s.fallback !== undefined) at(['fallback'], 'a fallback server is ldirectord\'s (keepalived\'s sorry_server): set managed_by: ldirectord or managed_by: keepalived');
    // ldirectord and keepalived set their services' weights themselves (health, quiescence): a
    // weight left to a third party there would be undone at their next check or reload.
    const runtime = `weights left to the runtime (weight_policy: initial) are for services lvsplay owns; ${owner} sets this service's weights itself`;
    if (owner !== 'lvsplay' && s.weight_policy === 'initial') at(['weight_policy'], runtime);
    s.real_servers.forEach((m, j) => {
      if (m.check !== undefined && owner !== 'keepalived') at(['real_servers', j, 'check'], `a real server's own check is keepalived's: set managed_by: keepalived (this service is ${owner}'s)`);
      if (owner !== 'lvsplay' && m.weight_policy === 'initial') at(['real_servers', j, 'weight_policy'], runtime);
    });
    // What ldirectord 4.12 can say (read_config, ld_setup): schedflags=, ops= (UDP only),
    // real=... l:N u:N; gate/masq/ipip only (no gue or gre tunnels); tcp, udp and fwm.
    if (owner === 'ldirectord' && s.protocol === 'sctp') at(['protocol'], 'ldirectord handles tcp, udp and fwmark services, not sctp: set managed_by: lvsplay or keepalived');
    if (owner === 'ldirectord' && s.one_packet && s.fwmark !== undefined) at(['one_packet'], 'ldirectord applies one-packet scheduling (ops) only to UDP services, not to firewall-mark ones: set managed_by: lvsplay or keepalived');
    if (owner === 'ldirectord' && s.tunnel !== undefined && s.tunnel.type !== 'ipip') at(['tunnel', 'type'], `ldirectord has only ipip tunnels, not ${s.tunnel.type}: set managed_by: lvsplay or keepalived`);
    const hc = s.health_check;
    if (hc === undefined) return;
    const type = checkTypeOf(hc, owner);
    // A firewall-mark or port-0 service's real servers have port 0: a check that connects needs
    // its port said (ldirectord: checkport, else its `service`'s well-known port: its real= lines
    // have no port there; keepalived: connect_port, else the real server's port), or it checks port 0.
    const portless = s.fwmark !== undefined || s.port === 0;
    const known = owner === 'ldirectord' && hc.service !== undefined && hc.service !== 'none' && hc.service !== 'simpletcp';
    if (portless && hc.port === undefined && !known && PORT_CHECKS.includes(type) && s.real_servers.some((m) => m.check?.port === undefined && (owner !== 'keepalived' || !m.port))) {
      at(['health_check'], `a ${s.fwmark !== undefined ? 'firewall-mark' : 'port 0'} service's real servers have no port of their own: a ${type} check needs health_check.port (the port it connects to)${owner === 'ldirectord' ? ', or a service with a well-known port' : ''}`);
    }
    if (owner === 'ldirectord') {
      if (!(CHECK_TYPES as readonly string[]).includes(type)) at(['health_check', 'type'], `type ${type} is a keepalived check: set managed_by: keepalived (ldirectord's types are ${CHECK_TYPES.join(', ')})`);
      for (const field of KEEPALIVED_ONLY) {
        if (hc[field as keyof typeof hc] !== undefined) at(['health_check', field], `${field} is keepalived's, and this service is ldirectord's: set managed_by: keepalived, or remove ${field}`);
      }
      if (type === 'external' && hc.command === undefined) at(['health_check', 'command'], 'required field is missing: an external check needs the command to run');
      if (type !== 'negotiate' && NEGOTIATE_STRINGS.some((f) => hc[f] !== undefined)) {
        at(['health_check', 'type'], `request/receive are only used by negotiate checks, but the type is ${type}`);
      }
      const credentials = NEGOTIATE_LOGIN.filter((f) => hc[f] !== undefined);
      if (type !== 'negotiate' && credentials.length > 0) at(['health_check', credentials[0]!], `${credentials.join(', ')}: only negotiate checks log in, but the type is ${type}`);
      if (hc.passwd_env !== undefined && hc.passwd_file !== undefined) at(['health_check', 'passwd_file'], 'give the check\'s password one way: passwd_env or passwd_file, not both');
    }
    if (owner === 'keepalived') {
      // keepalived warns, and its config test fails, when the quorum exceeds the servers' total weight or hysteresis reaches the quorum.
      const quorum = hc.quorum ?? 1;
      const total = s.real_servers.reduce((sum, m) => sum + m.weight, 0);
      if (total < quorum) {
        at(hc.quorum === undefined ? ['real_servers'] : ['health_check', 'quorum'], `keepalived needs the real servers' total weight (${total}) to reach the quorum (${quorum}${hc.quorum === undefined ? ', its default' : ''}): it warns otherwise and its config test fails; raise a weight${hc.quorum === undefined ? '' : ' or lower quorum'}`);
      }
      if (hc.hysteresis !== undefined && hc.hysteresis >= quorum) {
        at(['health_check', 'hysteresis'], `hysteresis ${hc.hysteresis} must be below the quorum (${quorum}${hc.quorum === undefined ? ', its default' : ''}): keepalived resets it otherwise and its config test fails`);
      }
      if (LDIRECTORD_TYPES[type] !== undefined) at(['health_check', 'type'], `type ${type} is ldirectord's, and this service is keepalived's: ${LDIRECTORD_TYPES[type]}`);
      for (const [field, instead] of Object.entries(LDIRECTORD_ONLY)) {
        if (hc[field as keyof typeof hc] !== undefined) at(['health_check', field], `${field} is ldirectord's, and this service is keepalived's: ${instead}`);
      }
      problems.push(...keepalivedCheckFields(src, ['services', i, 'health_check'], hc, type));
      s.real_servers.forEach((m, j) => {
        if (m.check === undefined) return;
        const own = checkTypeOf({ type: m.check.type ?? type }, owner);
        if (LDIRECTORD_TYPES[own] !== undefined) at(['real_servers', j, 'check', 'type'], `type ${own} is ldirectord's, and this service is keepalived's: ${LDIRECTORD_TYPES[own]}`);
        problems.push(...keepalivedCheckFields(src, ['services', i, 'real_servers', j, 'check'], m.check, own, m.check.type !== undefined && m.check.type !== type ? undefined : hc));
      });
    }
  });
  // A keepalived service without a health_check: the same quorum rule, and member checks checked the same way.
  inv.services.forEach((s, i) => {
    if (serviceOwner(s) !== 'keepalived' || s.health_check !== undefined) return;
    const total = s.real_servers.reduce((sum, m) => sum + m.weight, 0);
    if (total < 1) problems.push(src.problem(['services', i, 'real_servers'], `keepalived needs the real servers' total weight (${total}) to reach the quorum (1, its default): it warns otherwise and its config test fails; raise a weight`));
    s.real_servers.forEach((m, j) => {
      if (m.check === undefined) return;
      const own = checkTypeOf(m.check, 'keepalived');
      if (LDIRECTORD_TYPES[own] !== undefined) problems.push(src.problem(['services', i, 'real_servers', j, 'check', 'type'], `type ${own} is ldirectord's, and this service is keepalived's: ${LDIRECTORD_TYPES[own]}`));
      problems.push(...keepalivedCheckFields(src, ['services', i, 'real_servers', j, 'check'], m.check, own));
    });
  });
  return problems;
};

/**
 * keepalived's checker fields against the check's type: each is read by some checkers only (path by
 * HTTP_GET and SSL_GET, query_name by DNS_CHECK, ...), and MISC_CHECK needs its command. `inherited`
 * is the service's check a member's fields are merged over (for the misc command).
 */
function keepalivedCheckFields(src: SourceMap, at: Path, hc: MemberCheckInput, type: CheckType, inherited?: MemberCheckInput): Problem[] {
  const problems: Problem[] = [];
  for (const [field, types] of Object.entries(KEEPALIVED_FIELD_TYPES)) {
    if (hc[field as keyof MemberCheckInput] === undefined || types.includes(type)) continue;
    problems.push(src.problem([...at, field], field === 'port' && type === 'ping'
      ? 'a ping check has no port'
      : `${field} is only read by ${types.join(' and ')} checks, but the type is ${type}`));
  }
  if (type === 'misc' && hc.command === undefined && inherited?.command === undefined) {
    problems.push(src.problem([...at, 'type'], 'a misc check needs the command to run: set command'));
  }
  // check_dns.c dns_name_handler looks for an empty label from the name's first character: one
  // whose first label is a single character ("a.example.net") is one it finds, and ignores the line.
  if (type === 'dns' && hc.query_name !== undefined && hc.query_name[1] === '.') {
    problems.push(src.problem([...at, 'query_name'], `keepalived 2.2.7 reads a name whose first label is one character as one with an empty label ("DNS_CHECK name ... has empty label"), ignores it, and its config test fails: got ${hc.query_name}`));
  }
  // check_misc.c and parser.c read misc_timeout and connect_timeout as whole microseconds in 32
  // bits: above 4294 s keepalived ignores the line, with an error its config test fails on.
  if (hc.timeout !== undefined && hc.timeout > KEEPALIVED_MAX_TIMEOUT) {
    problems.push(src.problem([...at, 'timeout'], `keepalived takes a check timeout (${type === 'misc' ? 'misc_timeout' : 'connect_timeout'}) of at most ${KEEPALIVED_MAX_TIMEOUT} seconds, got ${hc.timeout}: it ignores the line otherwise, and its config test fails`));
  }
  return problems;
}

/** The largest connect_timeout / misc_timeout keepalived 2.2.7 reads: 4294.967295 s, whole seconds for misc. */
const KEEPALIVED_MAX_TIMEOUT = 4294;

/**
 * Director pairs that fail over by VRRP: the pair exists, its router id is not used by another
 * pair on the same network, its priorities leave room to raise a primary above its backups, and
 * the VRRP instance can say what it needs (IPv6 VRRP, version 3, has no authentication; unicast
 * needs each director's own address in the instance's family).
 */
const vrrpPairs: Rule = (inv, src) => {
  const problems: Problem[] = [];
  const pairs = [...new Set(inv.directors.map((d) => d.pair))];
  const ids = new Map<number, string[]>();
  for (const [pair, v] of Object.entries(inv.vrrp)) {
    const at = (field: string, message: string) => problems.push(src.problem(['vrrp', pair, field], message));
    if (!pairs.includes(pair)) {
      problems.push(src.problem(['vrrp', pair], `no director pair is named "${pair}"${didYouMean(pair, pairs)}; pairs are ${pairs.join(', ')} (a director's pair: field, "default" when unset)`, { key: true }));
      continue;
    }
    if (v.auth_pass_env !== undefined && v.auth_pass_file !== undefined) at('auth_pass_file', 'give the VRRP password one way: auth_pass_env or auth_pass_file, not both');
    const members = inv.directors.map((d, i) => [d, i] as const).filter(([d]) => d.pair === pair);
    for (const [d, i] of members) {
      if (d.priority > 254) {
        problems.push(src.problem(['directors', i, 'priority'], `director "${d.name}" is in pair "${pair}", which fails over by VRRP: priorities go up to 254 (255 is VRRP's address owner, and lvsplay raises the primary above its backups)`));
      }
    }
    const id = v.virtual_router_id ?? derivedRouterId(pair);
    ids.set(id, [...(ids.get(id) ?? []), pair]);
    // The instance's family: IPv4 when the pair has an IPv4 VIP (or the NAT gateway), else IPv6.
    const vips = inv.services.filter((s) => s.vip !== undefined && carriers(inv, s).some((d) => d.pair === pair)).map((s) => s.vip!);
    const nat = inv.nat_gateway !== undefined && inv.services.some((s) => s.forwarding === 'nat' && carriers(inv, s).some((d) => d.pair === pair));
    if (vips.length === 0 && !nat) continue;
    const family = nat || vips.some((a) => addressFamily(a) === 'ipv4') ? 'ipv4' : 'ipv6';
    if (family === 'ipv6' && (v.auth_pass_env !== undefined || v.auth_pass_file !== undefined)) {
      at(v.auth_pass_env !== undefined ? 'auth_pass_env' : 'auth_pass_file', `pair "${pair}" has only IPv6 VIPs, so its VRRP is version 3, which has no authentication: remove the password`);
    }
    if (v.unicast) {
      for (const [d, i] of members) {
        const main = interfacesAt(d, i)[0];
        if (main && ownAddress(main.iface, family) === undefined) {
          problems.push(src.problem(main.path, `pair "${pair}" sends VRRP adverts by unicast over ${family}, but director "${d.name}"'s ${main.iface.name} (its main interface, which carries VRRP) has no ${family} address`));
        }
      }
    }
  }
  for (const [id, named] of ids) {
    for (let a = 0; a < named.length; a++) {
      for (let b = a + 1; b < named.length; b++) {
        const [pa, pb] = [named[a]!, named[b]!];
        if (!sameNetwork(inv, pa, pb)) continue;
        const explicit = inv.vrrp[pb]?.virtual_router_id !== undefined;
        problems.push(src.problem(['vrrp', pb, ...(explicit ? ['virtual_router_id'] : [])],
          `pairs "${pa}" and "${pb}" both use VRRP router id ${id} on one network${explicit ? '' : ' (derived from the pair names)'}: set a different virtual_router_id on one of them`, { key: !explicit }));
      }
    }
  }
  return problems;
};

/** Do two pairs' directors share a network (one's main interface address inside another's: VRRP adverts go there)? */
function sameNetwork(inv: InventoryFile, a: string, b: string): boolean {
  const subnets = (pair: string) => inv.directors.filter((d) => d.pair === pair).flatMap((d) => interfacesOf(d).slice(0, 1)).flatMap((x) => [x.address, ...(x.address6 ? [x.address6] : [])]);
  return subnets(a).some((x) => subnets(b).some((y) => inSubnet(cidrAddress(x), y) || inSubnet(cidrAddress(y), x)));
}

/**
 * One address, one host: two hosts with the same address would be one IPVS destination (the
 * second host's weight silently lost), and a director that is also a real server is not a setup
 * lvsplay builds (its own VIPs would land on its lo).
 */
const uniqueAddresses: Rule = (inv, src) => {
  const seen = new Map<string, { path: Path; name: string }>();
  const problems: Problem[] = [];
  const hosts: [Path, string, string][] = [
    ...inv.directors.flatMap((d, i): [Path, string, string][] => [[['directors', i, 'address'], d.address, d.name], ...(d.address6 ? [[['directors', i, 'address6'], d.address6, d.name] as [Path, string, string]] : [])]),
    ...inv.real_servers.flatMap((r, i): [Path, string, string][] => [[['real_servers', i, 'address'], r.address, r.name], ...(r.address6 ? [[['real_servers', i, 'address6'], r.address6, r.name] as [Path, string, string]] : [])]),
  ];
  for (const [path, address, name] of hosts) {
    const key = canonicalAddress(address);
    const first = seen.get(key);
    if (first && first.name !== name) {
      const both = first.path[0] !== path[0] ? ' (a host cannot be both a director and a real server)' : '';
      problems.push(src.problem(path, `address ${key} is already ${first.name}'s at ${place(src, first.path)}: every host needs its own address${both}`));
    } else if (!first) seen.set(key, { path, name });
  }
  return problems;
};

/**
 * A fallback (sorry server) is reached like a member: in the service's family (only keepalived's
 * tunnel may cross families: the kernel refuses a DR or NAT destination of the other one,
 * keepalived skips such a sorry server with an error its config test fails on, and ldirectord's
 * `fallback=` of a virtual= block reads IPv4 only), and by DR on each carrying director's segment
 * (a loopback fallback is the director itself).
 */
const fallbacks: Rule = (inv, src) => {
  const problems: Problem[] = [];
  inv.services.forEach((s, i) => {
    const f = s.fallback;
    if (!f) return;
    const crosses = f.forwarding === 'tun' && serviceOwner(s) === 'keepalived';
    if (!crosses && addressFamily(f.address) !== serviceFamily(s)) {
      problems.push(src.problem(['services', i, 'fallback', 'address'], `the fallback ${f.address} is not in the service's family (${serviceFamily(s)}): only a TUN fallback of keepalived's may be of the other family`));
      return;
    }
    if (f.forwarding !== 'dr' || ipaddr.parse(f.address).range() === 'loopback') return;
    for (const d of carriers(inv, s)) {
      const iface = carrierInterface(inv, d, s);
      if (!iface) continue;
      const subnet = subnetOf(iface, serviceFamily(s));
      if (subnet === undefined || !inSubnet(f.address, subnet)) {
        problems.push(src.problem(['services', i, 'fallback', 'address'],
          `DR fallback ${f.address} is not on director "${d.name}"'s ${iface.name} subnet ${subnet ?? '(none)'}: direct routing needs one L2 segment`));
      }
    }
  });
  return problems;
};

/** A VIP is nobody's own address: lvsplay moves it between directors and removes it where it must not be. */
const vipsAreNotHosts: Rule = (inv, src) => {
  const owners = new Map<string, string>();
  for (const h of [...inv.directors, ...inv.real_servers]) {
    owners.set(canonicalAddress(h.address), h.name);
    if (h.address6) owners.set(canonicalAddress(h.address6), h.name);
  }
  const gateway = inv.nat_gateway && canonicalAddress(cidrAddress(inv.nat_gateway));
  return inv.services.flatMap((s, i) => {
    const vip = s.vip === undefined ? undefined : canonicalAddress(s.vip);
    const owner = vip === undefined ? undefined : owners.get(vip);
    const taken = owner ? `host ${owner}'s own address` : vip !== undefined && vip === gateway ? `the NAT gateway (${place(src, ['nat_gateway'])})` : undefined;
    return taken ? [src.problem(['services', i, 'vip'], `VIP ${s.vip} is ${taken}: a VIP must be an address of its own (lvsplay adds and removes it)`)] : [];
  });
};

/**
 * An address that is the network or the directed broadcast address of a subnet the cluster uses (a
 * director interface's, the NAT gateway's): Linux takes it, but it is no host's on that link (a
 * packet to the broadcast reaches every host there; IPv6's all-zero host part is its routers'
 * anycast). /31, /32 and IPv6 /127, /128 have no such edges (RFC 3021, RFC 6164).
 */
const subnetEdges: Rule = (inv, src) => {
  const subnets: { cidr: string; path: Path }[] = [];
  inv.directors.forEach((d, i) => {
    const interfaces = d.interfaces?.map((f, k) => [f, ['directors', i, 'interfaces', k]] as const) ?? (d.interface ? [[d.interface, ['directors', i, 'interface']] as const] : []);
    for (const [f, path] of interfaces) for (const key of ['address', 'address6'] as const) if (f[key]) subnets.push({ cidr: f[key]!, path: [...path, key] });
  });
  if (inv.nat_gateway) subnets.push({ cidr: inv.nat_gateway, path: ['nat_gateway'] });
  const addresses: [Path, string | undefined][] = [
    ...subnets.map((s): [Path, string] => [s.path, cidrAddress(s.cidr)]),
    ...inv.directors.flatMap((h, i): [Path, string | undefined][] => [[['directors', i, 'address'], h.address], [['directors', i, 'address6'], h.address6]]),
    ...inv.real_servers.flatMap((h, i): [Path, string | undefined][] => [
      [['real_servers', i, 'address'], h.address], [['real_servers', i, 'address6'], h.address6], [['real_servers', i, 'gateway'], h.gateway],
    ]),
    ...inv.services.flatMap((s, i): [Path, string | undefined][] => [[['services', i, 'vip'], s.vip], [['services', i, 'fallback', 'address'], s.fallback?.address]]),
  ];
  return addresses.flatMap(([path, address]) => {
    if (address === undefined) return [];
    for (const s of subnets) {
      const edge = subnetEdge(address, s.cidr);
      if (edge) return [src.problem(path, `${address} is the ${edge} of ${s.cidr} (${place(src, s.path)}), no host's address on that link: pick another`)];
    }
    return [];
  });
};

function subnetEdge(address: string, cidr: string): 'network address' | 'broadcast address' | undefined {
  const family = addressFamily(cidrAddress(cidr));
  const prefix = Number(cidr.split('/')[1]);
  if (addressFamily(address) !== family || prefix >= (family === 'ipv4' ? 31 : 127) || !inSubnet(address, cidr)) return undefined;
  const kind = family === 'ipv4' ? ipaddr.IPv4 : ipaddr.IPv6;
  if (sameAddress(address, kind.networkAddressFromCIDR(cidr).toString())) return 'network address';
  if (family === 'ipv4' && sameAddress(address, kind.broadcastAddressFromCIDR(cidr).toString())) return 'broadcast address';
  return undefined;
}

/**
 * IPv6 goes as far as lvsplay can take it end to end: DR (VIP/128 on lo, announced by the kernel's
 * unsolicited neighbour advertisement on the new primary). IPv6 TUN needs ip6tnl0 on the real server
 * and IPv6 NAT a forwarding director with an IPv6 gateway address: neither is built, so both are
 * refused here rather than half set up on the hosts.
 */
const ipv6Methods: Rule = (inv, src) => inv.services.flatMap((s, i) => {
  if (serviceFamily(s) !== 'ipv6' || s.forwarding === 'dr') return [];
  return [src.problem(['services', i, 'forwarding'], s.forwarding === 'tun'
    ? 'IPv6 with forwarding: tun is not supported (the real servers would need ip6tnl0, which lvsplay does not set up): use dr'
    : 'IPv6 with forwarding: nat is not supported (the director would need IPv6 forwarding and an IPv6 gateway address, which lvsplay does not set up): use dr')];
});

/**
 * Vars reach shell scripts as $LVSPLAY_VAR_<name> with . and - as _: two names a host sees from any
 * of its scopes (defaults, its groups, its own; as load.ts layers them) must not meet there, or one
 * would quietly replace the other. A group no host is in is checked alone. Said once per pair, at
 * the more specific key. Linear in hosts: the shared scopes of each distinct group list are merged
 * once, and a host adds only its own vars.
 */
const shellVarNames: Rule = (inv, src) => {
  interface Seen { name: string; scope: Path }
  const problems: Problem[] = [];
  const said = new Set<string>();
  /** `vars` (at `scope`) over what `under` already holds: each clash reported, the new names in `into`. */
  const add = (scope: Path, vars: Record<string, unknown>, under: ReadonlyMap<string, Seen>, into: Map<string, Seen>) => {
    for (const name of Object.keys(vars)) {
      const shell = shellVarName(name);
      const first = into.get(shell) ?? under.get(shell);
      if (!first) into.set(shell, { name, scope });
      else if (first.name !== name) {
        const where = fieldPath(first.scope) === fieldPath(scope) ? '' : ` (${fieldPath(first.scope)})`;
        const message = shellClashMessage(name, first.name, where);
        if (!said.has(`${fieldPath(scope)} ${message}`)) problems.push(src.problem([...scope, name], message, { key: true }));
        said.add(`${fieldPath(scope)} ${message}`);
      }
    }
  };
  const shared = new Map<string, Map<string, Seen>>();
  const sharedScopes = (groups: readonly string[]): Map<string, Seen> => {
    let merged = shared.get(groups.join(','));
    if (merged) return merged;
    merged = new Map();
    add(['defaults', 'vars'], inv.defaults.vars, new Map(), merged);
    for (const g of groups) if (inv.groups[g]) add(['groups', g, 'vars'], inv.groups[g].vars, new Map(), merged);
    shared.set(groups.join(','), merged);
    return merged;
  };
  const hosts = [
    ...inv.directors.map((h, i) => ({ groups: ['directors', ...h.groups.filter((g) => g !== 'directors')], scope: ['directors', i, 'vars'], vars: h.vars })),
    ...inv.real_servers.map((h, i) => ({ groups: ['real_servers', ...h.groups.filter((g) => g !== 'real_servers')], scope: ['real_servers', i, 'vars'], vars: h.vars })),
  ];
  for (const host of hosts) add(host.scope, host.vars, sharedScopes(host.groups), new Map());
  for (const g of Object.keys(inv.groups)) add(['groups', g, 'vars'], inv.groups[g]!.vars, new Map(), new Map());
  return problems;
};

/**
 * The paths the inventory names for lvsplay's (and ldirectord's) files are apart from each other
 * and from lvsplay's own files (host-files.ts): no file is written by two writers (every run would
 * turn it back and forth), none is a folder lvsplay keeps files in, and none lies inside a file.
 */
const ownFilesApart: Rule = (inv, src) => {
  interface Entry { path: string; what: string; field?: Path; folder?: boolean }
  const l = inv.ldirectord;
  const entries: Entry[] = [
    { path: inv.rules_file, what: 'rules_file', field: ['rules_file'] },
    { path: inv.state_dir, what: 'state_dir', field: ['state_dir'], folder: true },
    ...RECORDS.map((name) => ({ path: recordPath({ stateDir: inv.state_dir }, name), what: `lvsplay's record "${name}" in state_dir`, field: ['state_dir'] })),
    { path: l.config_file, what: 'ldirectord.config_file', field: ['ldirectord', 'config_file'] },
    ...(l.logfile.startsWith('/') ? [{ path: l.logfile, what: 'ldirectord.logfile', field: ['ldirectord', 'logfile'] }] : []),
    ...(l.maintenance_dir ? [{ path: l.maintenance_dir, what: 'ldirectord.maintenance_dir', field: ['ldirectord', 'maintenance_dir'], folder: true }] : []),
    ...FIXED_FILES,
  ];
  /** What `b`'s path does to `a`'s, said of `b`; undefined when they can both be. */
  const clash = (a: Entry, b: Entry): string | undefined => {
    if (a.path === b.path) return a.folder && b.folder ? undefined : `is also ${a.what}`;
    if (!a.folder && b.path.startsWith(`${a.path}/`)) return `lies inside ${a.what} (${a.path}), a file`;
    if (!b.folder && a.path.startsWith(`${b.path}/`)) return `would have to be a folder for ${a.what} (${a.path})`;
    return undefined;
  };
  // Said once per field, of the one the file sets (a default is no one's choice).
  const rank = (e: Entry) => (e.field ? (isWritten(src, e.field) ? 2 : 1) : 0);
  const said = new Set<string>();
  const problems: Problem[] = [];
  entries.forEach((a, i) => {
    for (const b of entries.slice(i + 1)) {
      const [named, other] = rank(b) >= rank(a) ? [b, a] : [a, b];
      const why = clash(other, named);
      const key = named.field?.join('.');
      if (!why || !named.field || key === undefined || said.has(key)) continue;
      said.add(key);
      const at = other.field && isWritten(src, other.field) ? ` (${place(src, other.field)})` : '';
      problems.push(src.problem(named.field, `${named.what} "${named.path}" ${why}${at}: each of lvsplay's files needs a path of its own`));
    }
  });
  return problems;
};

const RULES: Rule[] = [
  uniqueHostNames, hostNamesAreNotGroups, uniqueAddresses, uniqueServiceNames, hostAddressFamilies, directorInterfaces, serviceInterfaces, serviceKeys, serviceOptions, serviceMembers,
  forwardedPorts, directRoutingSubnets, fallbacks, natGateways, serviceDirectors, directorPairs, healthChecks, shellVarNames,
  vipsAreNotHosts, subnetEdges, ipv6Methods, vrrpPairs, marks, ownFilesApart,
];
