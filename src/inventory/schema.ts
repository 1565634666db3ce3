/**
 * The inventory file's shape, as zod schemas. Objects are strict: an unknown key is an error
 * (with a "did you mean"), because a misspelt `wieght:` silently ignored is a production outage.
 * Rules that relate two fields or two entries live in checks.ts, not here.
 */
import { z } from 'zod';
import {
  Cidr, EnvName, FilePath, Fwmark, HostName, InterfaceName, Ip, Name, Port, RemotePath, Seconds, SshPort,
  Threshold, UnicastIp, unusableAddress, UserName, VarValue, Weight,
} from './fields.js';

export const SCHEDULERS = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh'] as const;
export const SCHEDULER_FLAGS = ['sh-fallback', 'sh-port', 'mh-fallback', 'mh-port'] as const;
export const FORWARDING = ['dr', 'tun', 'nat'] as const;
export const PROTOCOLS = ['tcp', 'udp', 'sctp'] as const;
export const CHECK_TYPES = ['connect', 'negotiate', 'ping', 'external', 'off', 'on'] as const;
export const CHECK_SERVICES = ['http', 'https', 'dns', 'ftp', 'imap', 'imaps', 'ldap', 'mysql', 'nntp', 'pgsql', 'pop', 'pops', 'radius', 'sip', 'smtp', 'simpletcp', 'none'] as const;

const Become = z.strictObject({
  method: z.literal('sudo').default('sudo'),
  user: UserName.default('root'),
  password_env: EnvName.optional(),
  password_file: FilePath.optional(),
});

const Jump = z.strictObject({
  host: HostName,
  port: SshPort.optional(),
  user: UserName.optional(),
  identity_file: FilePath.optional(),
});

export const SshSettings = z.strictObject({
  host: HostName.optional(),
  port: SshPort.optional(),
  user: UserName.optional(),
  identity_file: FilePath.optional(),
  identity_passphrase_env: EnvName.optional(),
  agent: z.union([z.boolean(), FilePath], { error: 'expected true, false or the path of an agent socket' }).optional(),
  known_hosts: FilePath.optional(),
  host_key_policy: z.enum(['strict', 'accept-new']).optional(),
  config_file: FilePath.optional(),
  jump: Jump.optional(),
  become: Become.optional(),
  connect_timeout: Seconds.optional(),
  command_timeout: Seconds.optional(),
});

const Vars = z.record(Name, VarValue);

const HostCommon = {
  name: Name,
  /**
   * What lvsplay sets survives a reboot (systemd units, modules-load.d, sysctl.d). false: the host
   * keeps nothing across reboots (a container, a network namespace): runtime state only.
   */
  persist: z.boolean().default(true),
  address: UnicastIp,
  address6: UnicastIp.optional(),
  ssh: SshSettings.optional(),
  groups: z.array(Name).default([]),
  vars: Vars.default({}),
  labels: Vars.default({}),
};

const DirectorInterface = z.strictObject({
  name: InterfaceName,
  address: Cidr,
  address6: Cidr.optional(),
});

export const Director = z.strictObject({
  ...HostCommon,
  interface: DirectorInterface,
  role: z.enum(['primary', 'backup']),
  priority: z.int().min(1).max(255).default(100),
  /** Directors that share a VIP set fail over to each other; one pair unless said otherwise. */
  pair: Name.default('default'),
});

export const RealServer = z.strictObject({
  ...HostCommon,
  /** Default gateway: for NAT it must be the director's address. */
  gateway: UnicastIp.optional(),
});

const Persistence = z.strictObject({
  timeout: z.int().min(1).max(2678400),
  /** IPv4 dotted mask or, for IPv6, a prefix length. */
  netmask: z.union([z.string(), z.int()], { error: 'expected a dotted netmask (IPv4) or a prefix length (IPv6)' }).optional(),
});

const Tunnel = z.strictObject({
  type: z.enum(['ipip', 'gue', 'gre']).default('ipip'),
  port: SshPort.optional(),
  checksum: z.enum(['nocsum', 'csum', 'remcsum']).optional(),
});

const ServiceRealServer = z.strictObject({
  server: Name,
  weight: Weight.default(1),
  port: Port.optional(),
  upper_threshold: Threshold.default(0),
  lower_threshold: Threshold.default(0),
});

/**
 * Request/receive strings reach ldirectord.cf inside double quotes, and ldirectord cuts a line at
 * its first `#` (a comment): none of `"`, `#`, control characters. `receive` is a Perl regular
 * expression (ldirectord matches the answer with it): backslashes are allowed there, and the
 * director's perl checks it compiles before the file is installed.
 */
const CheckText = z.string().max(512).regex(/^[^"#\\\x00-\x1f\x7f]*$/, { error: 'expected text without double quotes, "#", backslashes or control characters' });
const CheckRegex = z.string().min(1).max(512).regex(/^[^"#\x00-\x1f\x7f]*$/, { error: 'expected a regular expression without double quotes, "#" or control characters' })
  .refine((v) => {
    try {
      new RegExp(v);
      return true;
    } catch {
      return false;
    }
  }, { error: 'expected a regular expression that compiles (receive is a Perl regex; unbalanced brackets or parentheses are not)' });

export const HealthCheck = z.strictObject({
  type: z.enum(CHECK_TYPES).default('negotiate'),
  service: z.enum(CHECK_SERVICES).optional(),
  request: CheckText.optional(),
  receive: CheckRegex.optional(),
  virtualhost: HostName.optional(),
  http_method: z.enum(['GET', 'HEAD']).optional(),
  command: RemotePath.optional(),
  port: SshPort.optional(),
  interval: Seconds.optional(),
  timeout: Seconds.optional(),
  failure_count: z.int().min(1).max(100).optional(),
  quiescent: z.boolean().optional(),
});

const Fallback = z.strictObject({
  /** A real server, an address lvsplay does not manage, or the director itself (loopback). */
  address: Ip.superRefine((v, ctx) => {
    const why = unusableAddress(v, { allowLoopback: true });
    if (why) ctx.addIssue({ code: 'custom', message: `expected a unicast address, got ${why}` });
  }),
  port: Port.optional(),
  forwarding: z.enum(FORWARDING).default('dr'),
});

export const Service = z.strictObject({
  name: Name,
  vip: UnicastIp.optional(),
  port: Port.optional(),
  protocol: z.enum(PROTOCOLS).default('tcp'),
  fwmark: Fwmark.optional(),
  family: z.enum(['ipv4', 'ipv6']).optional(),
  scheduler: z.enum(SCHEDULERS).default('wlc'),
  scheduler_flags: z.array(z.enum(SCHEDULER_FLAGS)).default([]),
  persistence: Persistence.optional(),
  one_packet: z.boolean().default(false),
  forwarding: z.enum(FORWARDING).default('dr'),
  tunnel: Tunnel.optional(),
  managed_by: z.enum(['lvsplay', 'ldirectord']).optional(),
  directors: z.array(Name).optional(),
  real_servers: z.array(ServiceRealServer).min(1),
  health_check: HealthCheck.optional(),
  fallback: Fallback.optional(),
});

export const LdirectordGlobals = z.strictObject({
  check_timeout: Seconds.default(5),
  /** Unset: ldirectord uses check_timeout for negotiate checks too (its own fallback). */
  negotiate_timeout: Seconds.optional(),
  check_interval: Seconds.default(10),
  failure_count: z.int().min(1).max(100).default(1),
  auto_reload: z.boolean().default(false),
  quiescent: z.boolean().default(false),
  readd_quiescent: z.boolean().default(false),
  clean_stop: z.boolean().default(true),
  logfile: z.union([RemotePath, z.enum(['local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7', 'daemon'])]).default('local0'),
  email_alert: z.string().regex(/^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+$/, { error: 'expected an e-mail address' }).optional(),
  maintenance_dir: RemotePath.optional(),
  config_file: RemotePath.default('/etc/ha.d/ldirectord.cf'),
});

const Group = z.strictObject({
  ssh: SshSettings.optional(),
  vars: Vars.default({}),
});

export const InventoryFile = z.strictObject({
  defaults: z.strictObject({ ssh: SshSettings.optional(), vars: Vars.default({}) }).default({ vars: {} }),
  groups: z.record(Name, Group).default({}),
  directors: z.array(Director).min(1),
  real_servers: z.array(RealServer).default([]),
  services: z.array(Service).default([]),
  ldirectord: LdirectordGlobals.default(LdirectordGlobals.parse({})),
  /**
   * The floating director address NAT real servers route through, with the prefix of their
   * network (198.51.100.1/24): held by the primary on its VIP interface, moved on failover.
   */
  nat_gateway: Cidr.optional(),
  /**
   * lvsplay's own saved IPVS rules (its services only, never ldirectord's or keepalived's), which
   * its boot unit restores: not the distribution's file, whose restore flushes the whole table.
   */
  rules_file: RemotePath.default('/etc/lvsplay/ipvs.rules'),
  /** Where lvsplay keeps, on each host, its record of what it created there. */
  state_dir: RemotePath.default('/var/lib/lvsplay'),
});

export type InventoryFile = z.output<typeof InventoryFile>;
export type SshSettingsInput = z.output<typeof SshSettings>;
export type ServiceInput = z.output<typeof Service>;
export type DirectorInput = z.output<typeof Director>;
export type RealServerInput = z.output<typeof RealServer>;
