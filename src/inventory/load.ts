/**
 * Inventory loading: YAML with positions → schema → semantic checks → Cluster. Nothing remote
 * happens here, and nothing downstream runs unless this returns: an invalid inventory throws an
 * InputError listing every problem.
 */
import { InputError } from '../util/problems.js';
import { schemaProblems } from '../util/schema-problems.js';
import { YamlSource } from '../util/yaml-source.js';
import { canonicalAddress, cidrAddress } from './addresses.js';
import { checkInventory, memberAddress, serviceFamily } from './checks.js';
import type { Cluster, Director, Host, RealServer, Scalar, Service, SshConfig } from './model.js';
import { InventoryFile, type RealServerInput, type ServiceInput, type SshSettingsInput } from './schema.js';

export function loadInventory(file: string): Cluster {
  return parseInventory(YamlSource.read(file));
}

export function parseInventory(source: YamlSource): Cluster {
  if (source.problems.length > 0) throw new InputError(source.problems);
  if (source.data === null || typeof source.data !== 'object' || Array.isArray(source.data)) {
    throw new InputError([source.problem([], 'expected a mapping with directors, real_servers and services')]);
  }
  const parsed = InventoryFile.safeParse(source.data);
  if (!parsed.success) throw new InputError(schemaProblems(source, InventoryFile, parsed.error.issues));
  const problems = checkInventory(parsed.data, source);
  if (problems.length > 0) throw new InputError(problems);
  return buildCluster(source.file, parsed.data);
}

const SSH_DEFAULTS = { port: 22, user: 'root', knownHosts: '~/.ssh/known_hosts', connectTimeoutS: 10, commandTimeoutS: 300 };

function buildCluster(file: string, inv: InventoryFile): Cluster {
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
    return {
      kind: 'director', name: d.name, address: canonicalAddress(d.address), ...(d.address6 && { address6: canonicalAddress(d.address6) }),
      ssh: sshConfig(ssh, d.address), groups, vars, labels: d.labels, persist: d.persist,
      interface: { name: d.interface.name, address: d.interface.address, ...(d.interface.address6 && { address6: d.interface.address6 }) },
      role: d.role, priority: d.priority, pair: d.pair,
    };
  });
  const realServers: RealServer[] = inv.real_servers.map((r) => {
    const { groups, vars, ssh } = layered('real_servers', r);
    return {
      kind: 'real_server', name: r.name, address: canonicalAddress(r.address), ...(r.address6 && { address6: canonicalAddress(r.address6) }),
      ssh: sshConfig(ssh, r.address), groups, vars, labels: r.labels, persist: r.persist, ...(r.gateway && { gateway: canonicalAddress(r.gateway) }),
    };
  });
  const hosts = new Map<string, Host>([...directors, ...realServers].map((h) => [h.name, h]));
  const groups = new Set(['all', 'directors', 'real_servers', 'primary', 'backup', ...Object.keys(inv.groups), ...[...hosts.values()].flatMap((h) => h.groups)]);
  const servers = new Map(inv.real_servers.map((r) => [r.name, r]));
  const services = inv.services.map((s) => buildService(s, servers, directors));
  const l = inv.ldirectord;
  return {
    file, directors, realServers, hosts, groups, services,
    ldirectord: {
      checkTimeoutS: l.check_timeout, ...(l.negotiate_timeout !== undefined && { negotiateTimeoutS: l.negotiate_timeout }), checkIntervalS: l.check_interval,
      failureCount: l.failure_count, autoReload: l.auto_reload, quiescent: l.quiescent, readdQuiescent: l.readd_quiescent,
      cleanStop: l.clean_stop, logfile: l.logfile, configFile: l.config_file,
      ...(l.email_alert && { emailAlert: l.email_alert }), ...(l.maintenance_dir && { maintenanceDir: l.maintenance_dir }),
    },
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
    knownHosts: s.known_hosts ?? SSH_DEFAULTS.knownHosts,
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

function buildService(s: ServiceInput, servers: Map<string, RealServerInput>, directors: Director[]): Service {
  const family = serviceFamily(s);
  const netmask = s.persistence?.netmask;
  const hc = s.health_check;
  return {
    name: s.name,
    family,
    protocol: s.fwmark !== undefined ? 'fwmark' : s.protocol,
    ...(s.vip !== undefined && { vip: canonicalAddress(s.vip) }),
    ...(s.port !== undefined && { port: s.port }),
    ...(s.fwmark !== undefined && { fwmark: s.fwmark }),
    scheduler: s.scheduler,
    schedulerFlags: [...new Set(s.scheduler_flags)].sort(),
    ...(s.persistence && { persistence: { timeoutS: s.persistence.timeout, ...(netmask !== undefined && { netmask: String(netmask) }) } }),
    onePacket: s.one_packet,
    forwarding: s.forwarding,
    ...(s.tunnel && { tunnel: s.tunnel }),
    // Health checks need ldirectord; without one, lvsplay keeps the table itself.
    managedBy: s.managed_by ?? (hc !== undefined ? 'ldirectord' : 'lvsplay'),
    directors: s.directors ?? directors.map((d) => d.name),
    realServers: s.real_servers.map((m) => ({
      server: m.server,
      address: canonicalAddress(memberAddress(servers.get(m.server)!, family)!),
      port: m.port ?? s.port ?? 0,
      weight: m.weight,
      upperThreshold: m.upper_threshold,
      lowerThreshold: m.lower_threshold,
    })),
    ...(hc && {
      healthCheck: {
        type: hc.type, ...(hc.service && { service: hc.service }), ...(hc.request !== undefined && { request: hc.request }),
        ...(hc.receive !== undefined && { receive: hc.receive }), ...(hc.virtualhost && { virtualhost: hc.virtualhost }),
        ...(hc.http_method && { httpMethod: hc.http_method }), ...(hc.command && { command: hc.command }), ...(hc.port && { port: hc.port }),
        ...(hc.interval && { intervalS: hc.interval }), ...(hc.timeout && { timeoutS: hc.timeout }),
        ...(hc.failure_count && { failureCount: hc.failure_count }), ...(hc.quiescent !== undefined && { quiescent: hc.quiescent }),
      },
    }),
    ...(s.fallback && { fallback: { address: canonicalAddress(s.fallback.address), ...(s.fallback.port !== undefined && { port: s.fallback.port }), forwarding: s.fallback.forwarding } }),
  };
}
