/**
 * `lvsplay import` without the command line: read the given files, give each service its owner (a
 * config file's services are its daemon's; the saved table's others are lvsplay's), name the
 * hosts, emit the inventory, and check it with lvsplay's own loader. A service the loader still
 * refuses (a rule no reader foresaw: a quorum above the weights, a real server outside every
 * subnet) is left out with the loader's own words in the report, so the output always validates.
 */
import { hostPort } from '../inventory/addresses.js';
import { parseInventory } from '../inventory/load.js';
import { serviceKey } from '../resources/ipvs/forms.js';
import { InputError } from '../util/problems.js';
import { YamlSource } from '../util/yaml-source.js';
import { type HostRead, observeDirector } from './from-host.js';
import { buildHosts, type Hosts } from './hosts.js';
import { inventoryYaml } from './inventory-yaml.js';
import { importSave, type SaveInput } from './ipvsadm-save.js';
import { type IncludeSource, importKeepalived, resolveHeld } from './keepalived-conf.js';
import { importLdirectord } from './ldirectord-cf.js';
import { Names, type ResolvedNames } from './names.js';
import type { Imported, ImportedService } from './model.js';
import { Report } from './report.js';

export interface ImportInputs {
  save?: SaveInput;
  ldirectord?: { file: string; text: string };
  /** `includes`: where its include lines read (this machine's files for --keepalived); `configId`: its director's, for `@ID` lines (--from-host). */
  keepalived?: { file: string; text: string; includes?: IncludeSource; configId?: string };
  names?: { file: string; map: Map<string, string> };
  /** A live director (`--from-host`): its addresses, its name and the SSH settings that reached it. */
  host?: { read: HostRead; name: string; ssh: Record<string, unknown> };
  /** What the director resolved ldirectord.cf's host and service names to (`--from-host`). */
  resolved?: ResolvedNames;
}

export interface ImportResult {
  yaml: string;
  imported: Imported;
  report: Report;
}

export function importInventory(inputs: ImportInputs): ImportResult {
  const report = new Report();
  const ld = inputs.ldirectord && importLdirectord(inputs.ldirectord.file, inputs.ldirectord.text, report, new Names(inputs.resolved));
  const ka = inputs.keepalived && importKeepalived(inputs.keepalived.file, inputs.keepalived.text, report, inputs.keepalived.includes, inputs.keepalived.configId);
  const save = inputs.save && importSave(inputs.save, report);
  const owned = new Map<string, ImportedService>();
  for (const s of [...(ld?.services ?? []), ...(ka?.services ?? [])]) {
    const key = serviceKey(s.key);
    const first = owned.get(key);
    if (first) report.notExpressed(s.origin, `service ${key} is also ${first.owner}'s (${first.origin.file} line ${first.origin.line}): a service has one owner, the first is imported`);
    else owned.set(key, s);
  }
  // The saved table's services that a config owns are that daemon's: the config says them.
  const services = [...owned.values(), ...(save?.services ?? []).filter((s) => !owned.has(serviceKey(s.key)))].filter((s) => {
    const v6 = s.key.kind === 'fwmark' ? s.key.family === 'ipv6' : s.key.address.includes(':');
    if (v6 && s.forwarding !== 'dr') report.notExpressed(s.origin, `service ${serviceKey(s.key)} (and its real servers): IPv6 with ${s.forwarding === 'nat' ? 'NAT' : 'tunnelling'}, which lvsplay does not set up (IPv6 is direct routing only)`);
    return !v6 || s.forwarding === 'dr';
  });
  if (ka?.vrrp) resolveHeld(ka.vrrp, services, report);
  const scripts = services.some((s) => s.owner === 'keepalived' && [s.healthCheck, ...s.members.map((m) => m.check)].some((c) => c?.type === 'misc'));
  if (!scripts) for (const at of ka?.scriptSecurity ?? []) report.notExpressed(at, 'script security: lvsplay writes enable_script_security and script_user root only when a MISC_CHECK runs (none is imported)');
  const observed = inputs.host && observe(inputs.host, services, report);
  const imported: Imported = {
    services,
    ldirectord: ld?.globals ?? {},
    ...(ka?.vrrp && { vrrp: ka.vrrp }),
    ...(ka?.directorName !== undefined && { directorName: ka.directorName }),
    ...(observed && { observed }),
  };
  const header = [
    `Imported by lvsplay import from ${[inputs.save?.file, inputs.save?.thresholds?.file, inputs.ldirectord?.file, inputs.keepalived?.file].filter((f) => f !== undefined).join(', ')}.`,
    'Review every GUESSED value (directors, subnets, gateways), then: lvsplay validate -i THIS_FILE',
  ].join('\n');
  // Each round leaves out at least one service, a fallback or the VRRP pair, so this ends.
  for (;;) {
    const hosts = buildHosts(imported, inputs.names?.map ?? new Map(), inputs.names?.file);
    const yaml = inventoryYaml(imported, hosts, header);
    const { services: refused, others } = refusals(yaml);
    if (refused.size === 0 && others.length === 0) return { yaml, imported, report };
    const left = new Set<number>();
    for (const [i, problems] of refused) {
      const s = imported.services[i]!;
      const messages = problems.map((p) => p.message).join('; ');
      // A fallback the inventory cannot take (a global fallback= on another port than this
      // service's, say) costs the service its fallback, not the service and its real servers.
      if (s.fallback && problems.every((p) => /^services\[\d+\]\.fallback(\.|$)/.test(p.field))) {
        report.notExpressed(s.origin, `service ${serviceKey(s.key)}: its fallback ${hostPort(s.fallback.address, s.fallback.port)}: the inventory refuses it as imported: ${messages}; the service is imported without a fallback`);
        delete s.fallback;
        continue;
      }
      report.notExpressed(s.origin, `service ${serviceKey(s.key)} (and its real servers): the inventory refuses it as imported: ${messages}`);
      left.add(i);
    }
    imported.services = imported.services.filter((_, i) => !left.has(i));
    if (refused.size > 0) continue;
    // A refused real server host (a loopback address: the director itself) is its members' lines.
    if (dropRefusedHosts(imported, hosts, others, report)) continue;
    // Refusals outside the services: the VRRP pair is left out as a whole; anything else (no input
    // line says it: the emitter's guesses) is reported and the inventory is written as it stands.
    const vrrp = imported.vrrp;
    const ofVrrp = others.filter((p) => p.field.startsWith('vrrp'));
    if (vrrp && ofVrrp.length > 0) {
      report.notExpressed(vrrp.origin, `the VRRP instance: the inventory refuses it as imported: ${ofVrrp.map((p) => p.message).join('; ')}`);
      delete imported.vrrp;
      continue;
    }
    for (const p of others) report.notExpressed({ file: '(imported inventory)', line: 0 }, `${p.field}: ${p.message} (the inventory above does not validate until this is fixed by hand)`);
    return { yaml, imported, report };
  }
}

/**
 * Members whose real server host the inventory refuses (`real_servers[N]...`), reported at their own
 * lines and left out, with a service that has none left; whether any was. Hosts are built from the
 * members, so the next round has neither.
 */
function dropRefusedHosts(imported: Imported, hosts: Hosts, others: readonly { field: string; message: string }[], report: Report): boolean {
  const why = new Map<string, string[]>();
  for (const p of others) {
    const at = /^real_servers\[(\d+)\]/.exec(p.field);
    const host = at && hosts.realServers[Number(at[1])];
    if (!host) continue;
    for (const address of [host['address'], host['address6']].filter((a): a is string => typeof a === 'string')) why.set(address, [...(why.get(address) ?? []), p.message]);
  }
  if (why.size === 0) return false;
  imported.services = imported.services.filter((s) => {
    s.members = s.members.filter((m) => {
      const messages = why.get(m.address);
      if (messages) report.notExpressed(m.origin, `real server ${hostPort(m.address, m.port)} of service ${serviceKey(s.key)}: the inventory refuses it as a host: ${messages.join('; ')}`);
      return !messages;
    });
    if (s.members.length === 0) report.notExpressed(s.origin, `service ${serviceKey(s.key)}: no real server could be imported, and an inventory service needs at least one`);
    return s.members.length > 0;
  });
  return true;
}

/** The director's interface and own address, from its addresses; a note when they say nothing. */
function observe(host: NonNullable<ImportInputs['host']>, services: ImportedService[], report: Report) {
  const v4 = (a: string) => !a.includes(':');
  const vips = new Set(services.flatMap((s) => (s.key.kind === 'inet' ? [s.key.address] : [])));
  const members = services.flatMap((s) => s.members.map((m) => m.address)).filter(v4);
  const nat = services.filter((s) => s.forwarding === 'nat').flatMap((s) => s.members.map((m) => m.address)).filter(v4);
  const observed = observeDirector(host.read, vips, members, nat, host.name, host.ssh);
  if (!observed) report.note({ file: `${host.name}:ip -o addr show`, line: 0 }, 'no IPv4 address of its own on any interface: the director\'s interface and address are guessed');
  return observed;
}

/** What lvsplay's loader refuses in the imported inventory: services by index, and the rest. */
function refusals(yaml: string): { services: Map<number, { field: string; message: string }[]>; others: { field: string; message: string }[] } {
  const services = new Map<number, { field: string; message: string }[]>();
  const others: { field: string; message: string }[] = [];
  try {
    parseInventory(new YamlSource('(imported inventory)', yaml));
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    for (const p of err.problems) {
      const at = /^services\[(\d+)\]/.exec(p.field);
      if (at) services.set(Number(at[1]), [...(services.get(Number(at[1])) ?? []), { field: p.field, message: p.message }]);
      else others.push({ field: p.field, message: p.message });
    }
  }
  return { services, others };
}
