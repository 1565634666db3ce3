/**
 * The inventory file's shape, as zod schemas. Objects are strict: an unknown key is an error
 * (with a "did you mean"), because a misspelt `wieght:` silently ignored is a production outage.
 * Rules that relate two fields or two entries live in checks.ts, not here.
 */
import * as z from 'zod';
import {
  Cidr, CommandArg, DnsName, EnvName, FilePath, Fwmark, HostName, InterfaceName, Ip, Name, Port, RemotePath, Seconds, ConnectPort,
  Threshold, UnicastIp, unusableAddress, UserName, VarValue, Weight,
} from './fields.js';
import { pcreProblem, type RegexDialect } from '../util/pcre.js';

/**
 * The kernel's IPVS schedulers (net/netfilter/ipvs/ip_vs_<name>.c). `twos` (weighted random "power
 * of two choices") is one keepalived (since 2.2.5) and ldirectord (any lowercase name) pass on;
 * a kernel built without it (CONFIG_IP_VS_TWOS: Debian 12's 6.1, the lab's, leaves it out) refuses
 * the service, and the director's change is rolled back like any failed batch.
 */
export const SCHEDULERS = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh', 'twos'] as const;
export const SCHEDULER_FLAGS = ['sh-fallback', 'sh-port', 'mh-fallback', 'mh-port'] as const;
export const FORWARDING = ['dr', 'tun', 'nat'] as const;
export const PROTOCOLS = ['tcp', 'udp', 'sctp'] as const;
/** ldirectord's check types. */
export const CHECK_TYPES = ['connect', 'negotiate', 'ping', 'external', 'off', 'on'] as const;
/** keepalived's: TCP_CHECK, HTTP_GET, SSL_GET, DNS_CHECK, MISC_CHECK, PING_CHECK. */
export const KEEPALIVED_CHECK_TYPES = ['connect', 'http', 'https', 'dns', 'misc', 'ping'] as const;
/** The keepalived checks that connect to a port: the real server's, unless `port` (connect_port) says another. */
export const KEEPALIVED_PORT_CHECKS = ['connect', 'http', 'https', 'dns'] as const satisfies readonly (typeof KEEPALIVED_CHECK_TYPES)[number][];
export const ALL_CHECK_TYPES = ['connect', 'negotiate', 'ping', 'external', 'off', 'on', 'http', 'https', 'dns', 'misc'] as const;
/** DNS_CHECK's query types (keepalived 2.2). */
export const DNS_QUERY_TYPES = ['A', 'NS', 'CNAME', 'SOA', 'MX', 'TXT', 'AAAA'] as const;
export const OWNERS = ['lvsplay', 'ldirectord', 'keepalived'] as const;
/** ldirectord 4.12's `service=` values (read_config), each but simpletcp and none with a well-known port (ld_service_to_port). */
export const CHECK_SERVICES = ['http', 'https', 'http_proxy', 'dns', 'ftp', 'imap', 'imaps', 'ldap', 'ldaps', 'mysql', 'nntp', 'oracle', 'pgsql', 'pop', 'pops', 'radius', 'sip', 'smtp', 'submission', 'simpletcp', 'none'] as const;

const Become = z.strictObject({
  method: z.literal('sudo').default('sudo'),
  user: UserName.default('root'),
  password_env: EnvName.optional(),
  password_file: FilePath.optional(),
});

const Jump = z.strictObject({
  host: HostName,
  port: ConnectPort.optional(),
  user: UserName.optional(),
  identity_file: FilePath.optional(),
});

export const SshSettings = z.strictObject({
  host: HostName.optional(),
  port: ConnectPort.optional(),
  user: UserName.optional(),
  identity_file: FilePath.optional(),
  identity_passphrase_env: EnvName.optional(),
  agent: z.union([z.boolean(), FilePath], { error: 'expected true, false or the path of an agent socket' }).optional(),
  known_hosts: z.union([FilePath, z.array(FilePath).min(1, { error: 'expected at least one known_hosts file: the first is where accept-new records keys' })], { error: 'expected the path of a known_hosts file, or a list of them (the first is where accept-new records keys)' }).optional(),
  global_known_hosts: z.union([FilePath, z.array(FilePath)], { error: 'expected the path of a system-wide known_hosts file, or a list of them (an empty list: none)' }).optional(),
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
  /** The link to the clients and real servers: VIPs are announced there, so never the loopback. */
  name: InterfaceName.refine((v) => v !== 'lo', { error: 'expected the director\'s network interface, not lo (VIPs there are announced to no one)' }),
  address: Cidr,
  address6: Cidr.optional(),
});

export const Director = z.strictObject({
  ...HostCommon,
  /** The interface carrying the VIPs; or `interfaces`, several (checks.ts wants exactly one of the two). */
  interface: DirectorInterface.optional(),
  /** Several interfaces, the first the main one (VRRP adverts; addresses in no interface's subnet). */
  interfaces: z.array(DirectorInterface).min(1).max(16).optional(),
  role: z.enum(['primary', 'backup']),
  priority: z.int().min(1).max(255).default(100),
  /** Directors that share a VIP set fail over to each other; one pair unless said otherwise. */
  pair: Name.default('default'),
});

export const RealServer = z.strictObject({
  ...HostCommon,
  /**
   * false: a real server lvsplay does not manage (an appliance, a host run by someone else): in
   * the directors' rules, drained and undrained there, never contacted itself.
   */
  managed: z.boolean().default(true),
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
  port: ConnectPort.optional(),
  checksum: z.enum(['nocsum', 'csum', 'remcsum']).optional(),
});

/**
 * Request/receive strings reach ldirectord.cf inside double quotes, and ldirectord cuts a line at
 * its first `#` (a comment): none of `"`, `#`, control characters. `receive` is a Perl regular
 * expression (ldirectord matches the answer with it): backslashes are allowed there; it is read
 * here as perl reads it (util/pcre.ts), and the director's perl compiles it before the file is
 * installed.
 */
const CheckText = z.string().max(512).regex(/^[^"#\\\x00-\x1f\x7f]*$/, { error: 'expected text without double quotes, "#", backslashes or control characters' });
const CheckRegex = z.string().min(1).max(512).regex(/^[^"#\x00-\x1f\x7f]*$/, { error: 'expected a regular expression without double quotes, "#" or control characters' })
  .superRefine(regexCompiles('perl', 'a Perl regular expression (ldirectord matches the answer with it)'));

/** A refinement: the pattern is one the director's engine compiles, or the message says what is wrong and where. */
function regexCompiles(dialect: RegexDialect, what: string) {
  return (pattern: string, ctx: z.RefinementCtx) => {
    const problem = pcreProblem(pattern, dialect);
    if (problem) ctx.addIssue({ code: 'custom', message: `expected ${what}, got ${problem}` });
  };
}

/**
 * keepalived.conf values: one token of a keepalived line. Its parser ends a line at `#` or `!`
 * (comments) outside quotes, opens and closes blocks at `{` `}`, expands `$NAME` and `${NAME}`
 * (its predefined _PWD, _INSTANCE, _RANDOM, ...), and takes quotes and backslashes as syntax.
 */
const UrlPath = z.string().max(1024).regex(/^\/[^\s"'\\#!${}\x00-\x1f\x7f]*$/, {
  error: 'expected a URL path starting with "/", without whitespace, quotes, backslashes, "#", "!", "$", "{" or "}" (keepalived.conf syntax)',
});
/**
 * keepalived's `regex` (PCRE2), matched against the whole HTTP response (status line, headers and
 * body). It is written in double quotes with `\\` and `"` escaped, so those are fine; `$` followed
 * by a name or `{` is refused (keepalived would expand it as a definition). It is read here as
 * PCRE2 reads it (util/pcre.ts), and the director's grep -P compiles it before install.
 */
const KeepalivedRegex = z.string().min(1).max(512).regex(/^[^\x00-\x1f\x7f]*$/, { error: 'expected a regular expression without control characters' })
  .refine((v) => !/\$[A-Za-z_{]/.test(v), { error: 'expected a regular expression without "$" before a letter, "_" or "{" (keepalived would expand it as one of its definitions; write [$] for a literal dollar)' })
  .superRefine(regexCompiles('pcre2', 'a PCRE2 regular expression (keepalived matches the response with it)'));
/** A status code, or keepalived's range of them ("200-299", both ends included). */
const STATUS_EXPECTED = 'expected an HTTP status code (100..599) or a range of them like "200-299"';
const HttpStatus = z.union([
  z.int({ error: STATUS_EXPECTED }).min(100).max(599),
  z.string({ error: STATUS_EXPECTED }).regex(/^[1-5]\d\d-[1-5]\d\d$/).refine((v) => Number(v.slice(0, 3)) <= Number(v.slice(4))),
], { error: STATUS_EXPECTED });
const Md5 = z.string().regex(/^[0-9a-fA-F]{32}$/, { error: 'expected an MD5 digest of the page (32 hex digits, as genhash prints it)' });
const Retry = z.int({ error: 'expected a retry count (1..100)' }).min(1).max(100);

/**
 * The parts of a check a keepalived real server may set for itself (`check:` on a member): the
 * check's type and target, and its timing. Unset fields come from the service's health_check
 * (only the timing ones when the member names another type).
 */
const CheckCommon = {
  type: z.enum(ALL_CHECK_TYPES).optional(),
  virtualhost: HostName.optional(),
  command: RemotePath.optional(),
  /** keepalived misc: the command's arguments (misc_path "COMMAND ARGS..."); [] in a member's check: none, over the service's. */
  args: z.array(CommandArg).max(32).optional(),
  port: ConnectPort.optional(),
  interval: Seconds.optional(),
  timeout: Seconds.optional(),
  // keepalived's
  path: UrlPath.optional(),
  status: z.union([HttpStatus, z.array(HttpStatus).min(1).max(16)], { error: 'expected an HTTP status code (100..599), a range like "200-299", or a list of them' }).optional(),
  digest: Md5.optional(),
  regex: KeepalivedRegex.optional(),
  query_name: DnsName.optional(),
  query_type: z.enum(DNS_QUERY_TYPES).optional(),
  misc_dynamic: z.boolean().optional(),
  retry: Retry.optional(),
  delay_before_retry: Seconds.optional(),
};

export const MemberCheck = z.strictObject(CheckCommon);

/** ldirectord's and keepalived's checks in one mapping; checks.ts refuses what the owner cannot do. */
export const HealthCheck = z.strictObject({
  ...CheckCommon,
  // ldirectord's
  service: z.enum(CHECK_SERVICES).optional(),
  // ldirectord refuses an empty request ("no request string specified"), as it does an empty login.
  request: CheckText.min(1).optional(),
  receive: CheckRegex.optional(),
  http_method: z.enum(['GET', 'HEAD']).optional(),
  failure_count: z.int().min(1).max(100).optional(),
  quiescent: z.boolean().optional(),
  /** Credentials of checks that log in (mysql, pgsql, ldap, ...): the password never inline, from the control host. */
  login: CheckText.min(1).optional(),
  passwd_env: EnvName.optional(),
  passwd_file: FilePath.optional(),
  database: CheckText.min(1).optional(),
  // keepalived's, for the whole virtual server
  alpha: z.boolean().optional(),
  omega: z.boolean().optional(),
  quorum: z.int({ error: 'expected a total weight (1..2147483647)' }).min(1).max(2147483647).optional(),
  hysteresis: z.int({ error: 'expected a weight (0..2147483647)' }).min(0).max(2147483647).optional(),
});

/**
 * Who keeps a real server's weight. enforce: lvsplay, every run (a weight changed by hand is
 * drift). initial: lvsplay sets it when it adds the real server (and in the rules file a boot
 * restores), then leaves it to whatever sets weights at runtime (a feedback agent, a depool tool).
 */
const WeightPolicy = z.enum(['enforce', 'initial']);

const ServiceRealServer = z.strictObject({
  server: Name,
  weight: Weight.default(1),
  /** Over the service's weight_policy, for this real server. */
  weight_policy: WeightPolicy.optional(),
  port: Port.optional(),
  upper_threshold: Threshold.default(0),
  lower_threshold: Threshold.default(0),
  /** keepalived only: this real server's own check, over the service's health_check. */
  check: MemberCheck.optional(),
});

const Fallback = z.strictObject({
  /** A real server, an address lvsplay does not manage, or the director itself (loopback). */
  address: Ip.superRefine((v, ctx) => {
    const why = unusableAddress(v, { allowLoopback: true });
    if (why) ctx.addIssue({ code: 'custom', message: `expected a unicast address, not ${why}` });
  }),
  port: Port.optional(),
  forwarding: z.enum(FORWARDING).default('dr'),
});

/**
 * Which packets a fwmark service takes: those to `vip` (of `protocol`, to one of `ports`) get the
 * service's mark, by an nftables rule lvsplay keeps on its directors (the marks task).
 */
const Mark = z.strictObject({
  vip: UnicastIp,
  protocol: z.enum(PROTOCOLS).optional(),
  ports: z.array(z.int({ error: 'expected a port number (1..65535)' }).min(1).max(65535)).min(1).max(64).optional(),
});

export const Service = z.strictObject({
  name: Name,
  vip: UnicastIp.optional(),
  port: Port.optional(),
  /** One service per VIP and port: expanded before the schema (generate.ts), so never seen here; known for "did you mean". */
  vips: z.never().optional(),
  ports: z.never().optional(),
  protocol: z.enum(PROTOCOLS).default('tcp'),
  fwmark: Fwmark.optional(),
  /** fwmark services: the packets to mark (nftables rules lvsplay keeps); unset, someone else marks them. */
  marks: z.array(Mark).min(1).max(64).optional(),
  family: z.enum(['ipv4', 'ipv6']).optional(),
  /** The director interface holding the VIP, when its subnet does not say (interfaces.ts). */
  interface: InterfaceName.optional(),
  scheduler: z.enum(SCHEDULERS).default('wlc'),
  scheduler_flags: z.array(z.enum(SCHEDULER_FLAGS)).default([]),
  persistence: Persistence.optional(),
  one_packet: z.boolean().default(false),
  forwarding: z.enum(FORWARDING).default('dr'),
  tunnel: Tunnel.optional(),
  managed_by: z.enum(OWNERS).optional(),
  directors: z.array(Name).optional(),
  real_servers: z.array(ServiceRealServer).min(1),
  weight_policy: WeightPolicy.default('enforce'),
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

/**
 * A director pair that fails over by VRRP (keepalived): keyed by the pair's name. keepalived then
 * holds the pair's VIPs; priorities and states come from the directors' `priority` and `role`.
 */
export const VrrpPair = z.strictObject({
  /** 1..255; derived from the pair's name when unset. */
  virtual_router_id: z.int({ error: 'expected a VRRP router id (1..255)' }).min(1).max(255).optional(),
  advert_int: z.int({ error: 'expected whole seconds (1..255) between adverts' }).min(1).max(255).default(1),
  /** Adverts to the other directors of the pair (unicast_peer) instead of multicast 224.0.0.18. */
  unicast: z.boolean().default(false),
  /** A director that comes back does not take over from the current master (every state BACKUP). */
  nopreempt: z.boolean().default(false),
  /** VRRP PASS authentication: the password (1..8 characters) from an environment variable or a file. */
  auth_pass_env: EnvName.optional(),
  auth_pass_file: FilePath.optional(),
  garp_master_delay: z.int({ error: 'expected seconds (0..3600)' }).min(0).max(3600).optional(),
  garp_master_repeat: z.int({ error: 'expected a count (1..100)' }).min(1).max(100).optional(),
  garp_master_refresh: z.int({ error: 'expected seconds (0..86400; 0 = never)' }).min(0).max(86400).optional(),
  /** The IPVS connection sync daemon, master on the VRRP master and backup on the others. */
  sync_daemon: z.boolean().default(false),
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
  /** Keys every service takes unless it sets its own: applied before the schema (generate.ts). */
  service_defaults: z.record(z.string(), z.unknown()).optional(),
  services: z.array(Service).default([]),
  ldirectord: LdirectordGlobals.default(LdirectordGlobals.parse({})),
  /** Director pairs that fail over by VRRP (keepalived), by pair name. */
  vrrp: z.record(Name, VrrpPair).default({}),
  /**
   * The floating director address NAT real servers route through, with the prefix of their
   * network (198.51.100.1/24): held by the primary on the interface of that network (its main
   * interface when none is), moved on failover.
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
export type HealthCheckInput = z.output<typeof HealthCheck>;
export type MemberCheckInput = z.output<typeof MemberCheck>;
export type VrrpPairInput = z.output<typeof VrrpPair>;
