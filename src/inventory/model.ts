/**
 * The Cluster: the inventory after validation, with every default filled in, every reference
 * resolved and every address normalised as the kernel prints it. Everything downstream (desired
 * state, templates, the runner) reads only this, never the raw YAML.
 */
import type { SecretSource } from '../util/secret.js';
import { addressInterface, type DirectorInterface } from './interfaces.js';

export type { DirectorInterface, SecretSource };
export type Scalar = string | number | boolean;
/**
 * The groups every inventory has; `primary` and `backup` are the directors by role, computed. In
 * the order an Ansible inventory would list them (the roles as children of `directors`), the
 * order a subscript after a glob counts hosts in (`*r*[2]`: playbook/select.ts).
 */
export const BUILTIN_GROUPS = ['all', 'directors', 'primary', 'backup', 'real_servers'] as const;
/** known_hosts files as ssh(1)'s defaults (readconf.c): the user's two, then the system's two. */
export const KNOWN_HOSTS_DEFAULTS: { readonly user: readonly string[]; readonly global: readonly string[] } = { user: ['~/.ssh/known_hosts', '~/.ssh/known_hosts2'], global: ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2'] };
export type Family = 'ipv4' | 'ipv6';
export type Forwarding = 'dr' | 'tun' | 'nat';
export type Protocol = 'tcp' | 'udp' | 'sctp';
export type Owner = 'lvsplay' | 'ldirectord' | 'keepalived';
export type CheckType = 'connect' | 'negotiate' | 'ping' | 'external' | 'off' | 'on' | 'http' | 'https' | 'dns' | 'misc';

export interface BecomeConfig {
  method: 'sudo';
  user: string;
  passwordEnv?: string;
  passwordFile?: string;
}

export interface SshConfig {
  host: string;
  port: number;
  user: string;
  identityFile?: string;
  identityPassphraseEnv?: string;
  /** true: the agent at $SSH_AUTH_SOCK; a string: that socket. */
  agent: boolean | string;
  /** UserKnownHostsFile: read; accept-new records in the first. */
  knownHosts: readonly string[];
  /** GlobalKnownHostsFile: read only. */
  globalKnownHosts: readonly string[];
  hostKeyPolicy: 'strict' | 'accept-new';
  configFile?: string;
  jump?: { host: string; port: number; user: string; identityFile?: string };
  become?: BecomeConfig;
  connectTimeoutS: number;
  commandTimeoutS: number;
}

interface HostBase {
  name: string;
  /** Address on the LVS network: the director's DIP or the real server's RIP. */
  address: string;
  address6?: string;
  ssh: SshConfig;
  /** Groups in precedence order, lowest first; always includes `directors` or `real_servers`. */
  groups: string[];
  vars: Record<string, Scalar>;
  labels: Record<string, Scalar>;
  /** Persist what lvsplay sets across reboots (systemd); false for hosts that keep nothing. */
  persist: boolean;
}

export interface Director extends HostBase {
  kind: 'director';
  /** The main interface (the first): VRRP adverts, and addresses in no interface's subnet. */
  interface: DirectorInterface;
  /** Every interface lvsplay may put an address on, the main one first (interfaces.ts). */
  interfaces: [DirectorInterface, ...DirectorInterface[]];
  role: 'primary' | 'backup';
  priority: number;
  pair: string;
}

export interface RealServer extends HostBase {
  kind: 'real_server';
  gateway?: string;
  /** false: in the directors' rules only; a play with tasks of its own leaves it out (never contacted). */
  managed: boolean;
}

export type Host = Director | RealServer;

export interface ServiceMember {
  server: string;
  /** The real server's address in the service's family. */
  address: string;
  port: number;
  weight: number;
  upperThreshold: number;
  lowerThreshold: number;
  /**
   * weight_policy: initial: the weight is set when lvsplay adds the member (and in the rules file),
   * then left to whatever sets it at runtime; drain and undrain still set it.
   */
  runtimeWeight?: true;
  /** keepalived: this member's own check (its `check:` over the service's health_check), when it has one. */
  check?: HealthCheck;
}

/**
 * A service's check: ldirectord's fields and keepalived's in one shape (inventory/checks.ts refuses
 * what the service's owner cannot do). The type is always set: ldirectord's default is negotiate,
 * keepalived's connect.
 */
export interface HealthCheck {
  type: CheckType;
  service?: string;
  request?: string;
  receive?: string;
  virtualhost?: string;
  httpMethod?: 'GET' | 'HEAD';
  command?: string;
  /** keepalived misc: the command's arguments. */
  args?: string[];
  port?: number;
  intervalS?: number;
  timeoutS?: number;
  failureCount?: number;
  /** ldirectord's quiescent, keepalived's inhibit_on_failure: a failed server stays at weight 0. */
  quiescent?: boolean;
  /** ldirectord's credentials for checks that log in; the password is read on the control host when rendered. */
  login?: string;
  passwd?: SecretSource;
  database?: string;
  // keepalived's
  path?: string;
  /** keepalived's status_code words: codes and "200-299" ranges. */
  status?: (number | string)[];
  digest?: string;
  regex?: string;
  queryName?: string;
  queryType?: string;
  miscDynamic?: boolean;
  retry?: number;
  delayBeforeRetryS?: number;
  alpha?: boolean;
  omega?: boolean;
  quorum?: number;
  hysteresis?: number;
}

export interface Service {
  name: string;
  family: Family;
  /** tcp/udp/sctp service on vip:port, or a firewall-mark service. */
  protocol: Protocol | 'fwmark';
  vip?: string;
  port?: number;
  fwmark?: number;
  /** fwmark services: the packets lvsplay marks for it (nftables); no protocol: all, no ports: every port. */
  marks?: { vip: string; protocol?: Protocol; ports: number[] }[];
  /** The director interface named for the VIP; unset: derived from the VIP (interfaces.ts). */
  interface?: string;
  scheduler: string;
  schedulerFlags: string[];
  persistence?: { timeoutS: number; netmask?: string };
  onePacket: boolean;
  forwarding: Forwarding;
  tunnel?: { type: 'ipip' | 'gue' | 'gre'; port?: number; checksum?: 'nocsum' | 'csum' | 'remcsum' };
  managedBy: Owner;
  directors: string[];
  realServers: ServiceMember[];
  healthCheck?: HealthCheck;
  fallback?: { address: string; port?: number; forwarding: Forwarding };
}

export interface LdirectordGlobals {
  checkTimeoutS: number;
  negotiateTimeoutS?: number;
  checkIntervalS: number;
  failureCount: number;
  autoReload: boolean;
  quiescent: boolean;
  readdQuiescent: boolean;
  cleanStop: boolean;
  logfile: string;
  emailAlert?: string;
  maintenanceDir?: string;
  configFile: string;
}

/** A director pair that fails over by VRRP: keepalived holds its VIPs (inventory `vrrp:`). */
export interface Vrrp {
  pair: string;
  /** keepalived's vrrp_instance name: VI_<pair>. */
  instance: string;
  virtualRouterId: number;
  advertIntS: number;
  unicast: boolean;
  nopreempt: boolean;
  /** Where the PASS password is read on the control host (never the password itself). */
  auth?: SecretSource;
  garpMasterDelayS?: number;
  garpMasterRepeat?: number;
  garpMasterRefreshS?: number;
  syncDaemon: boolean;
}

export interface Cluster {
  file: string;
  directors: Director[];
  realServers: RealServer[];
  hosts: Map<string, Host>;
  /** Every group name known: declared groups, groups hosts name, and the two built-in ones. */
  groups: Set<string>;
  services: Service[];
  ldirectord: LdirectordGlobals;
  /** The pairs that fail over by VRRP, by pair name. */
  vrrp: Map<string, Vrrp>;
  /** Floating NAT gateway: address and prefix length. */
  natGateway?: { address: string; prefix: number };
  rulesFile: string;
  /** lvsplay's records on each host (what it created there): /var/lib/lvsplay. */
  stateDir: string;
}

/** The services a director carries. */
/** lvsplay runs a play's own tasks on it: every director, and a real server unless `managed: false`. */
export function managedHost(host: Host): boolean {
  return host.kind !== 'real_server' || host.managed;
}

export function servicesOf(cluster: Cluster, director: Director): Service[] {
  return cluster.services.filter((s) => s.directors.includes(director.name));
}

/** The VRRP settings of the director's pair, when the pair fails over by VRRP. */
export function vrrpOf(cluster: Cluster, director: Director): Vrrp | undefined {
  return cluster.vrrp.get(director.pair);
}

/**
 * What keepalived holds for a VRRP pair: the VIPs of the services the pair's directors carry (one
 * list for every member: a pair's directors carry the same services), and the NAT gateway when
 * one of those services is NAT.
 */
export function pairAddresses(cluster: Cluster, pair: string): { vips: string[]; natGateway?: { address: string; prefix: number } } {
  const members = new Set(cluster.directors.filter((d) => d.pair === pair).map((d) => d.name));
  const carried = cluster.services.filter((s) => s.directors.some((d) => members.has(d)));
  const vips = [...new Set(carried.flatMap(serviceVips))];
  const nat = cluster.natGateway && carried.some((s) => s.forwarding === 'nat') ? cluster.natGateway : undefined;
  return { vips, ...(nat && { natGateway: nat }) };
}

/** The interface `director` holds `address` (a VIP, the NAT gateway) on: named by a service, else derived. */
export function holdingInterface(cluster: Cluster, director: Director, address: string): DirectorInterface {
  const carried = cluster.services.filter((s) => s.directors.includes(director.name));
  return addressInterface(director.interfaces, address, carried.flatMap((s) => serviceVips(s).map((vip) => ({ vip, interface: s.interface }))));
}

/** The addresses a service's director holds for it: its VIP, and a fwmark service's marked VIPs. */
export function serviceVips(s: Service): string[] {
  return [...new Set([...(s.vip ? [s.vip] : []), ...(s.marks ?? []).map((m) => m.vip)])];
}

/** The services a real server is a member of. */
export function membershipsOf(cluster: Cluster, server: RealServer): { service: Service; member: ServiceMember }[] {
  return cluster.services.flatMap((service) =>
    service.realServers.filter((m) => m.server === server.name).map((member) => ({ service, member })),
  );
}
