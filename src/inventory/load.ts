/**
 * Inventory loading: YAML with positions → schema → semantic checks → Cluster. Nothing remote
 * happens here, and nothing downstream runs unless this returns: an invalid inventory throws an
 * InputError listing every problem.
 */
import { InputError, type Place } from '../util/problems.js';
import { schemaProblems } from '../util/schema-problems.js';
import { type SourceMap, YamlSource } from '../util/yaml-source.js';
import { canonicalAddress, cidrAddress } from './addresses.js';
import { generateServices } from './generate.js';
import { checkInventory, checkTypeOf, memberAddress, serviceFamily, serviceOwner } from './checks.js';
import { BUILTIN_GROUPS, KNOWN_HOSTS_DEFAULTS, type Cluster, type Director, type HealthCheck, type Host, type Owner, type RealServer, type Scalar, type SecretSource, type Service, type SshConfig, type Vrrp } from './model.js';
import { type HealthCheckInput, InventoryFile, type MemberCheckInput, type RealServerInput, type ServiceInput, type SshSettingsInput, type VrrpPairInput } from './schema.js';
import { derivedRouterId, vrrpInstance } from './vrrp.js';

export function loadInventory(file: string): Cluster {
  return parseInventory(YamlSource.read(file));
}

export function parseInventory(source: YamlSource): Cluster {
  if (source.problems.length > 0) throw new InputError(source.problems);
  if (source.data === null || typeof source.data !== 'object' || Array.isArray(source.data)) {
    throw new InputError([source.problem([], 'expected a mapping with directors, real_servers and services')]);
  }
  const generated = generateServices(source);
  if (generated.problems.length > 0) throw new InputError(generated.problems);
  const parsed = InventoryFile.safeParse(generated.data);
  if (!parsed.success) throw new InputError(schemaProblems(generated.source, InventoryFile, parsed.error.issues));
  const problems = checkInventory(parsed.data, generated.source);
  if (problems.length > 0) throw new InputError(problems);
  return buildCluster(source.file, parsed.data, generated.source);
}

const SSH_DEFAULTS = { port: 22, user: 'root', connectTimeoutS: 10, commandTimeoutS: 300 };
const paths = (value: string | string[]) => (typeof value === 'string' ? [value] : value);

function buildCluster(file: string, inv: InventoryFile, source: SourceMap): Cluster {
  const groupsOf = (builtin: string, own: string[]) => [builtin, ...own.filter((g) => g !== builtin)];
  const layered = (builtin: string, host: { groups: string[]; ssh?: SshSettingsInput | undefined; vars: Record<string, Scalar> }) => {
    const groups = groupsOf(builtin, host.groups);
    const layers = [inv.defaults, ...groups.map((g) => inv.groups[g]).filter((g) => g !== undefined), host];
    return {
      groups,
      vars: Object.assign({}, ...layers.map((l) => l.vars)) as Record<string, Scalar>,
      ssh: Object.assign({}, ...layers.map((l) => l.ssh ?? {})) as SshSettingsInput,
    };
  };

  const directors: Director[] = inv.directors.map((d) => {
    const { groups, vars, ssh } = layered('directors', d);
    // checks.ts made sure there is exactly one of `interface` and `interfaces`
    const [first, ...rest] = (d.interfaces ?? [d.interface!]).map((i) => ({ name: i.name, address: i.address, ...(i.address6 && { address6: i.address6 }) }));
    const interfaces: Director['interfaces'] = [first!, ...rest];
    return {
      kind: 'director', name: d.name, address: canonicalAddress(d.address), ...(d.address6 && { address6: canonicalAddress(d.address6) }),
      ssh: sshConfig(ssh, d.address), groups, vars, labels: d.labels, persist: d.persist,
      interface: interfaces[0], interfaces,
      role: d.role, priority: d.priority, pair: d.pair,
    };
  });
  const realServers: RealServer[] = inv.real_servers.map((r) => {
    const { groups, vars, ssh } = layered('real_servers', r);
    return {
      kind: 'real_server', name: r.name, address: canonicalAddress(r.address), ...(r.address6 && { address6: canonicalAddress(r.address6) }),
      ssh: sshConfig(ssh, r.address), groups, vars, labels: r.labels, persist: r.persist, managed: r.managed, ...(r.gateway && { gateway: canonicalAddress(r.gateway) }),
    };
  });
  const hosts = new Map<string, Host>([...directors, ...realServers].map((h) => [h.name, h]));
  const groups = new Set<string>([...BUILTIN_GROUPS, ...Object.keys(inv.groups), ...[...hosts.values()].flatMap((h) => h.groups)]);
  const servers = new Map(inv.real_servers.map((r) => [r.name, r]));
  const services = inv.services.map((s, i) => buildService(s, servers, directors, (key) => source.locate(['services', i, 'health_check', key])));
  const l = inv.ldirectord;
  return {
    file, directors, realServers, hosts, groups, services,
    ldirectord: {
      checkTimeoutS: l.check_timeout, ...(l.negotiate_timeout !== undefined && { negotiateTimeoutS: l.negotiate_timeout }), checkIntervalS: l.check_interval,
      failureCount: l.failure_count, autoReload: l.auto_reload, quiescent: l.quiescent, readdQuiescent: l.readd_quiescent,
      cleanStop: l.clean_stop, logfile: l.logfile, configFile: l.config_file,
      ...(l.email_alert && { emailAlert: l.email_alert }), ...(l.maintenance_dir && { maintenanceDir: l.maintenance_dir }),
    },
    vrrp: new Map(Object.entries(inv.vrrp).map(([pair, v]) => [pair, buildVrrp(pair, v, (key) => source.locate(['vrrp', pair, key]))])),
    ...(inv.nat_gateway && { natGateway: { address: cidrAddress(inv.nat_gateway), prefix: Number(inv.nat_gateway.split('/')[1]) } }),
    rulesFile: inv.rules_file,
    stateDir: inv.state_dir,
  };
}

function sshConfig(s: SshSettingsInput, address: string): SshConfig {
  return {
    host: s.host ?? address,
    port: s.port ?? SSH_DEFAULTS.port,
    user: s.user ?? SSH_DEFAULTS.user,
    ...(s.identity_file && { identityFile: s.identity_file }),
    ...(s.identity_passphrase_env && { identityPassphraseEnv: s.identity_passphrase_env }),
    agent: s.agent ?? true,
    knownHosts: s.known_hosts === undefined ? KNOWN_HOSTS_DEFAULTS.user : paths(s.known_hosts),
    globalKnownHosts: s.global_known_hosts === undefined ? KNOWN_HOSTS_DEFAULTS.global : paths(s.global_known_hosts),
    hostKeyPolicy: s.host_key_policy ?? 'strict',
    ...(s.config_file && { configFile: s.config_file }),
    ...(s.jump && {
      jump: { host: s.jump.host, port: s.jump.port ?? 22, user: s.jump.user ?? s.user ?? SSH_DEFAULTS.user, ...(s.jump.identity_file && { identityFile: s.jump.identity_file }) },
    }),
    ...(s.become && {
      become: { method: s.become.method, user: s.become.user, ...(s.become.password_env && { passwordEnv: s.become.password_env }), ...(s.become.password_file && { passwordFile: s.become.password_file }) },
    }),
    connectTimeoutS: s.connect_timeout ?? SSH_DEFAULTS.connectTimeoutS,
    commandTimeoutS: s.command_timeout ?? SSH_DEFAULTS.commandTimeoutS,
  };
}

function buildService(s: ServiceInput, servers: Map<string, RealServerInput>, directors: Director[], locate: (key: string) => Place): Service {
  const family = serviceFamily(s);
  const netmask = s.persistence?.netmask;
  // Health checks need ldirectord (or keepalived, when said); without one, lvsplay keeps the table itself.
  const owner = serviceOwner(s);
  const healthCheck = s.health_check && buildCheck(s.health_check, checkTypeOf(s.health_check, owner), locate);
  return {
    name: s.name,
    family,
    protocol: s.fwmark !== undefined ? 'fwmark' : s.protocol,
    ...(s.vip !== undefined && { vip: canonicalAddress(s.vip) }),
    ...(s.port !== undefined && { port: s.port }),
    ...(s.fwmark !== undefined && { fwmark: s.fwmark }),
    ...(s.interface !== undefined && { interface: s.interface }),
    ...(s.marks && { marks: s.marks.map((m) => ({ vip: canonicalAddress(m.vip), ...(m.protocol && { protocol: m.protocol }), ports: [...new Set(m.ports ?? [])].sort((a, b) => a - b) })) }),
    scheduler: s.scheduler,
    schedulerFlags: [...new Set(s.scheduler_flags)].sort(),
    ...(s.persistence && { persistence: { timeoutS: s.persistence.timeout, ...(netmask !== undefined && { netmask: String(netmask) }) } }),
    onePacket: s.one_packet,
    forwarding: s.forwarding,
    ...(s.tunnel && { tunnel: s.tunnel }),
    managedBy: owner,
    directors: s.directors ?? directors.map((d) => d.name),
    realServers: s.real_servers.map((m) => ({
      server: m.server,
      address: canonicalAddress(memberAddress(servers.get(m.server)!, family)!),
      port: m.port ?? s.port ?? 0,
      weight: m.weight,
      upperThreshold: m.upper_threshold,
      lowerThreshold: m.lower_threshold,
      ...((m.weight_policy ?? s.weight_policy) === 'initial' && { runtimeWeight: true as const }),
      ...(m.check && { check: memberCheck(healthCheck, m.check, owner) }),
    })),
    ...(healthCheck && { healthCheck }),
    ...(s.fallback && { fallback: { address: canonicalAddress(s.fallback.address), ...(s.fallback.port !== undefined && { port: s.fallback.port }), forwarding: s.fallback.forwarding } }),
  };
}

function buildCheck(hc: HealthCheckInput | MemberCheckInput, type: HealthCheck['type'], locate?: (key: string) => Place): HealthCheck {
  const vs = hc as HealthCheckInput;
  const status = hc.status === undefined ? undefined : Array.isArray(hc.status) ? hc.status : [hc.status];
  const passwd = secretSource(['passwd_env', vs.passwd_env], ['passwd_file', vs.passwd_file], locate);
  return {
    type, ...(vs.service && { service: vs.service }), ...(vs.request !== undefined && { request: vs.request }),
    ...(vs.receive !== undefined && { receive: vs.receive }), ...(hc.virtualhost && { virtualhost: hc.virtualhost }),
    ...(vs.http_method && { httpMethod: vs.http_method }), ...(hc.command && { command: hc.command }), ...(hc.args && { args: hc.args }), ...(hc.port && { port: hc.port }),
    ...(hc.interval && { intervalS: hc.interval }), ...(hc.timeout && { timeoutS: hc.timeout }),
    ...(vs.failure_count && { failureCount: vs.failure_count }), ...(vs.quiescent !== undefined && { quiescent: vs.quiescent }),
    ...(vs.login !== undefined && { login: vs.login }), ...(vs.database !== undefined && { database: vs.database }),
    ...(passwd && { passwd }),
    ...(hc.path !== undefined && { path: hc.path }), ...(status && { status }), ...(hc.digest !== undefined && { digest: hc.digest.toLowerCase() }),
    ...(hc.regex !== undefined && { regex: hc.regex }), ...(hc.query_name !== undefined && { queryName: hc.query_name }),
    ...(hc.query_type !== undefined && { queryType: hc.query_type }), ...(hc.misc_dynamic !== undefined && { miscDynamic: hc.misc_dynamic }),
    ...(hc.retry !== undefined && { retry: hc.retry }), ...(hc.delay_before_retry !== undefined && { delayBeforeRetryS: hc.delay_before_retry }),
    ...(vs.alpha !== undefined && { alpha: vs.alpha }), ...(vs.omega !== undefined && { omega: vs.omega }),
    ...(vs.quorum !== undefined && { quorum: vs.quorum }), ...(vs.hysteresis !== undefined && { hysteresis: vs.hysteresis }),
  };
}

/** Fields of a check that are its timing and target port: a member that names another type keeps only these of the service's. */
const TIMING = ['port', 'intervalS', 'timeoutS', 'retry', 'delayBeforeRetryS'] as const;
/** Fields that belong to the whole virtual server, never to one real server's checker. */
const VIRTUAL_SERVER_ONLY = ['quiescent', 'alpha', 'omega', 'quorum', 'hysteresis'] as const;

/** A member's own check: its `check:` fields over the service's health_check (only timing and port when it names another type). */
export function memberCheck(service: HealthCheck | undefined, own: MemberCheckInput, owner: Owner): HealthCheck {
  const type = own.type ?? service?.type ?? (owner === 'keepalived' ? 'connect' : 'negotiate');
  const base: Partial<HealthCheck> = {};
  if (service) {
    const inherited = service.type === type ? Object.keys(service) : TIMING;
    for (const key of inherited) {
      const value = service[key as keyof HealthCheck];
      if (value !== undefined && !(VIRTUAL_SERVER_ONLY as readonly string[]).includes(key)) Object.assign(base, { [key]: value });
    }
  }
  const mine = buildCheck(own, type);
  return { ...base, ...Object.fromEntries(Object.entries(mine).filter(([, v]) => v !== undefined)), type } as HealthCheck;
}

/** Where a secret is read on the control host: its `*_env` or its `*_file` field (checks.ts allows one), placed there. */
function secretSource(env: [field: string, value: string | undefined], file: [field: string, value: string | undefined], locate?: (field: string) => Place): SecretSource | undefined {
  const source = env[1] !== undefined ? { env: env[1] } : file[1] !== undefined ? { file: file[1] } : undefined;
  const at = source && locate?.('env' in source ? env[0] : file[0]);
  return source && { ...source, ...(at && { at }) };
}

function buildVrrp(pair: string, v: VrrpPairInput, locate: (key: string) => Place): Vrrp {
  const auth = secretSource(['auth_pass_env', v.auth_pass_env], ['auth_pass_file', v.auth_pass_file], locate);
  return {
    pair,
    instance: vrrpInstance(pair),
    virtualRouterId: v.virtual_router_id ?? derivedRouterId(pair),
    advertIntS: v.advert_int,
    unicast: v.unicast,
    nopreempt: v.nopreempt,
    ...(auth && { auth }),
    ...(v.garp_master_delay !== undefined && { garpMasterDelayS: v.garp_master_delay }),
    ...(v.garp_master_repeat !== undefined && { garpMasterRepeat: v.garp_master_repeat }),
    ...(v.garp_master_refresh !== undefined && { garpMasterRefreshS: v.garp_master_refresh }),
    syncDaemon: v.sync_daemon,
  };
}
