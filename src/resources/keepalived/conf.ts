/**
 * keepalived.conf for one director, as data for templates/keepalived/keepalived.conf.hbs:
 * global_defs (router_id = the director's name; the sync daemon when the pair asks for it; script
 * security when a MISC_CHECK runs a command; never lvs_flush nor a bare lvs_flush_on_stop, which
 * flush other owners' services), the VRRP instance of the director's pair, and a virtual_server per
 * keepalived-owned service it carries, one keyword per line, `lvs_method` always written (the
 * default is NAT) and each real server's checker with every option it uses.
 */
import ipaddr from 'ipaddr.js';
import { ownAddress } from '../../inventory/interfaces.js';
import type { Cluster, Director, HealthCheck, Service, ServiceMember, Vrrp } from '../../inventory/model.js';
import { holdingInterface, pairAddresses, servicesOf, vrrpOf } from '../../inventory/model.js';
import { own } from '../../util/own.js';

const METHOD = { dr: 'DR', nat: 'NAT', tun: 'TUN' } as const;
const CHECKER = { connect: 'TCP_CHECK', http: 'HTTP_GET', https: 'SSL_GET', dns: 'DNS_CHECK', misc: 'MISC_CHECK', ping: 'PING_CHECK' } as const;

/** The services keepalived owns on this director. */
export function keepalivedServices(cluster: Cluster, director: Director): Service[] {
  return servicesOf(cluster, director).filter((s) => s.managedBy === 'keepalived');
}

/**
 * The VRRP priority keepalived gets: a backup's own `priority`; the primary's raised above every
 * other director of its pair when it is not already the highest (so after `failover --to`, whose
 * cluster names another primary, the new primary wins the election at once).
 */
export function vrrpPriority(cluster: Cluster, director: Director): number {
  if (director.role !== 'primary') return director.priority;
  const others = cluster.directors.filter((d) => d.pair === director.pair && d.name !== director.name).map((d) => d.priority);
  return Math.max(director.priority, Math.max(0, ...others) + 1);
}

/** The link an interface name is on: eth0 for the alias eth0:1. */
const link = (name: string) => name.split(':')[0] ?? name;

export interface VrrpData {
  pair: string;
  instance: string;
  state: 'MASTER' | 'BACKUP';
  interface: string;
  routerId: number;
  priority: number;
  advertInt: number;
  nopreempt: boolean;
  unicastSrc: string;
  unicastPeers: string[];
  authPass: string;
  garpMasterDelay: string;
  garpMasterRepeat: string;
  garpMasterRefresh: string;
  addresses: string[];
  excluded: string[];
}

/**
 * The director's VRRP instance, or undefined when its pair does not fail over by VRRP or holds no
 * address (keepalived refuses an instance without one). IPv4 VIPs and the NAT gateway go in
 * virtual_ipaddress (a VRRPv2 instance) and IPv6 VIPs in virtual_ipaddress_excluded (one instance's
 * adverts carry one family); a pair with only IPv6 VIPs gets a VRRPv3 IPv6 instance.
 */
export function vrrpData(cluster: Cluster, director: Director, authPass: string | undefined): VrrpData | undefined {
  const vrrp: Vrrp | undefined = vrrpOf(cluster, director);
  if (!vrrp) return undefined;
  const held = pairAddresses(cluster, director.pair);
  const dev = link(director.interface.name);
  // each address on the interface that holds it (a two-NIC director: some on the other one)
  const on = (address: string, v6: boolean) => {
    const name = holdingInterface(cluster, director, address).name;
    return ` dev ${link(name)}${name !== link(name) && !v6 ? ` label ${name}` : ''}`;
  };
  const v4 = held.vips.filter((a) => !a.includes(':')).map((a) => `${a}/32${on(a, false)}`);
  if (held.natGateway) v4.push(`${held.natGateway.address}/${held.natGateway.prefix}${on(held.natGateway.address, false)}`);
  const v6 = held.vips.filter((a) => a.includes(':')).map((a) => `${a}/128${on(a, true)}`);
  if (v4.length === 0 && v6.length === 0) return undefined;
  const family = v4.length > 0 ? 'ipv4' : 'ipv6';
  const peers = cluster.directors.filter((d) => d.pair === director.pair && d.name !== director.name);
  const unicast = vrrp.unicast && peers.length > 0;
  const text = (n: number | undefined) => (n === undefined ? '' : String(n));
  return {
    pair: vrrp.pair,
    instance: vrrp.instance,
    // nopreempt works only from BACKUP (keepalived clears it on a MASTER and warns).
    state: director.role === 'primary' && !vrrp.nopreempt ? 'MASTER' : 'BACKUP',
    interface: dev,
    routerId: vrrp.virtualRouterId,
    priority: vrrpPriority(cluster, director),
    advertInt: vrrp.advertIntS,
    nopreempt: vrrp.nopreempt,
    unicastSrc: unicast ? ownAddress(director.interface, family) ?? '' : '',
    unicastPeers: unicast ? peers.map((d) => ownAddress(d.interface, family)).filter((a): a is string => a !== undefined) : [],
    authPass: authPass ?? '',
    garpMasterDelay: text(vrrp.garpMasterDelayS),
    garpMasterRepeat: text(vrrp.garpMasterRepeat),
    garpMasterRefresh: text(vrrp.garpMasterRefreshS),
    addresses: family === 'ipv4' ? v4 : v6,
    excluded: family === 'ipv4' ? v6 : [],
  };
}

/** `TUN type gue port 6080 csum`, `DR`, `NAT`. */
function method(s: Service, forwarding = s.forwarding): string {
  if (forwarding !== 'tun') return METHOD[forwarding];
  const t = s.forwarding === 'tun' ? s.tunnel : undefined;
  if (!t) return 'TUN';
  return ['TUN', 'type', t.type, ...(t.port !== undefined ? ['port', String(t.port)] : []), ...(t.checksum ? [t.checksum] : [])].join(' ');
}

/** A value that is one brace alone is taken for a block's by the line reader (a last word `}` closes the block): octal keeps it a value. */
const LONE_BRACE: Record<string, string> = { '{': '\\173', '}': '\\175' };

/**
 * A value in keepalived's double quotes, for the keywords it reads again with escapes (regex,
 * misc_path: alloc_strvec_quoted_escaped): a backslash as `\\`, a double quote as the octal
 * `\042`. Not `\"`: keepalived first reads every line with quotes that know no escape (parser.c's
 * alloc_strvec_r and its brace search), where `\"` ends the string, so an odd count of them is an
 * "Unmatched quote" its config test fails on, and a brace after one is read as a block's.
 */
export function quoted(text: string): string {
  return `"${own(LONE_BRACE, text) ?? text.replaceAll('\\', '\\\\').replaceAll('"', '\\042')}"`;
}

function checker(check: HealthCheck) {
  const type = check.type as keyof typeof CHECKER;
  const http = type === 'http' || type === 'https';
  const misc = type === 'misc';
  const n = (v: number | undefined) => (v === undefined ? '' : String(v));
  return {
    checker: CHECKER[type],
    url: http ? {
      path: check.path ?? '/',
      status: check.status?.join(' ') ?? '',
      digest: check.digest ?? '',
      regex: check.regex === undefined ? '' : quoted(check.regex),
      virtualhost: check.virtualhost ?? '',
    } : undefined,
    queryType: type === 'dns' ? check.queryType ?? '' : '',
    queryName: type === 'dns' ? check.queryName ?? '' : '',
    // With arguments, one quoted string: keepalived takes misc_path's first word only, then splits it at blanks.
    miscPath: !misc ? '' : check.args?.length ? quoted([check.command ?? '', ...check.args].join(' ')) : check.command ?? '',
    miscTimeout: misc ? n(check.timeoutS) : '',
    miscDynamic: misc && check.miscDynamic === true,
    connectPort: type === 'misc' || type === 'ping' ? '' : n(check.port),
    connectTimeout: misc ? '' : n(check.timeoutS),
    retry: n(check.retry),
    delayBeforeRetry: n(check.delayBeforeRetryS),
    delayLoop: n(check.intervalS),
  };
}

function real(s: Service, m: ServiceMember) {
  const check = m.check ?? s.healthCheck;
  return {
    target: m.port > 0 ? `${m.address} ${m.port}` : m.address,
    weight: m.weight,
    uthreshold: m.upperThreshold,
    lthreshold: m.lowerThreshold,
    check: check ? checker(check) : undefined,
  };
}

export function serviceData(s: Service) {
  const hc = s.healthCheck;
  const netmask = s.persistence?.netmask;
  const f = s.fallback;
  const sorryPort = f?.port ?? (s.protocol === 'fwmark' ? 0 : s.port ?? 0);
  return {
    name: s.name,
    target: s.protocol === 'fwmark' ? `fwmark ${s.fwmark}` : `${s.vip} ${s.port}`,
    scheduler: s.scheduler,
    flags: s.schedulerFlags,
    method: method(s),
    protocol: s.protocol === 'fwmark' ? '' : s.protocol.toUpperCase(),
    ipFamily: s.protocol === 'fwmark' && s.family === 'ipv6' ? 'inet6' : '',
    ops: s.onePacket,
    persistenceTimeout: s.persistence ? String(s.persistence.timeoutS) : '',
    persistenceGranularity: netmask === undefined ? '' : s.family === 'ipv4' ? ipaddr.IPv4.parse(netmask).toString() : netmask,
    quorum: hc?.quorum === undefined ? '' : String(hc.quorum),
    hysteresis: hc?.hysteresis === undefined ? '' : String(hc.hysteresis),
    alpha: hc?.alpha === true,
    omega: hc?.omega === true,
    inhibitOnFailure: hc?.quiescent === true,
    sorryServer: f ? (sorryPort > 0 ? `${f.address} ${sorryPort}` : f.address) : '',
    sorryMethod: f ? method(s, f.forwarding) : '',
    // check_data.c: a sorry server that is one of the real servers (address and port) gets their
    // inhibit_on_failure, with a warning its config test fails on: say it, as keepalived would set it.
    sorryInhibit: hc?.quiescent === true && f !== undefined
      && s.realServers.some((m) => m.address === f.address && m.port === sorryPort),
    reals: s.realServers.map((m) => real(s, m)),
  };
}

/** The regexes the config's checkers use (the verify step compiles each as PCRE on the director). */
export function checkRegexes(services: Service[]): string[] {
  const all = services.flatMap((s) => [s.healthCheck, ...s.realServers.map((m) => m.check)]).flatMap((c) => (c?.regex !== undefined && (c.type === 'http' || c.type === 'https') ? [c.regex] : []));
  return [...new Set(all)];
}

export function keepalivedConfData(cluster: Cluster, director: Director, authPass: string | undefined) {
  const services = keepalivedServices(cluster, director);
  const vrrp = vrrpData(cluster, director, authPass);
  const vrrpSettings = vrrpOf(cluster, director);
  const checks = services.flatMap((s) => [s.healthCheck, ...s.realServers.map((m) => m.check ?? s.healthCheck)]);
  return {
    director: director.name,
    scripts: checks.some((c) => c?.type === 'misc'),
    syncDaemon: vrrp && vrrpSettings?.syncDaemon ? { interface: vrrp.interface, instance: vrrp.instance } : undefined,
    vrrp,
    services: services.map(serviceData),
  };
}
