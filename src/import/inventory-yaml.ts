/**
 * The imported inventory as YAML text, through the yaml package's Document API so that comments
 * can sit on the nodes they explain: where each service came from (file and line), and every
 * value that was guessed rather than read. Defaults are left out (tcp, dr, wlc, weight 1,
 * thresholds 0, managed_by lvsplay), so the file reads like one written by hand; short mappings
 * (members, checks, persistence) are flow style, one line each.
 */
import { Document, isCollection, isNode } from 'yaml';
import { VRRP_PASS_ENV } from './keepalived-conf.js';
import type { Commented, Hosts } from './hosts.js';
import type { Imported, ImportedService } from './model.js';

/** Service names: the source's (an lvsplay `# service NAME` comment), else from the key, made unique. */
export function serviceNames(services: readonly ImportedService[]): string[] {
  const taken = new Set<string>();
  return services.map((s) => {
    const base = s.name ?? (s.key.kind === 'fwmark'
      ? `fwmark-${s.key.fwmark}${s.key.family === 'ipv6' ? '-ipv6' : ''}`
      : `${s.key.protocol}-${s.key.address.replace(/[.:]/g, '-')}-${s.key.port}`);
    let name = base;
    for (let n = 2; taken.has(name); n++) name = `${base}-${n}`;
    taken.add(name);
    return name;
  });
}

function service(s: ImportedService, name: string, nameOf: Map<string, string>): Record<string, unknown> {
  const k = s.key;
  const target = k.kind === 'fwmark'
    ? { fwmark: k.fwmark, ...(k.family === 'ipv6' && { family: 'ipv6' }) }
    : { vip: k.address, port: k.port, ...(k.protocol !== 'tcp' && { protocol: k.protocol }) };
  const servicePort = k.kind === 'inet' ? k.port : 0;
  return {
    name, ...target,
    ...(s.scheduler !== 'wlc' && { scheduler: s.scheduler }),
    ...(s.schedulerFlags.length > 0 && { scheduler_flags: s.schedulerFlags }),
    ...(s.persistence && { persistence: s.persistence }),
    ...(s.onePacket && { one_packet: true }),
    ...(s.forwarding !== 'dr' && { forwarding: s.forwarding }),
    ...(s.tunnel && s.tunnel.type !== 'ipip' && { tunnel: s.tunnel }),
    ...(s.owner !== 'lvsplay' && { managed_by: s.owner }),
    // type first: it says how to read the rest
    ...(s.healthCheck && { health_check: { type: s.healthCheck.type, ...s.healthCheck } }),
    ...(s.fallback && { fallback: { address: s.fallback.address, ...(s.fallback.port !== undefined && { port: s.fallback.port }), ...(s.fallback.forwarding !== 'dr' && { forwarding: s.fallback.forwarding }) } }),
    real_servers: s.members.map((m) => ({
      server: nameOf.get(m.address)!,
      ...(m.weight !== 1 && { weight: m.weight }),
      ...(m.port !== servicePort && { port: m.port }),
      ...(m.upperThreshold !== 0 && { upper_threshold: m.upperThreshold }),
      ...(m.lowerThreshold !== 0 && { lower_threshold: m.lowerThreshold }),
      ...(m.check && { check: m.check }),
    })),
  };
}

export function inventoryYaml(imported: Imported, hosts: Hosts, header: string): string {
  const names = serviceNames(imported.services);
  const vrrp = imported.vrrp;
  const data = {
    directors: hosts.directors,
    real_servers: hosts.realServers,
    ...(Object.keys(imported.ldirectord).length > 0 && { ldirectord: imported.ldirectord }),
    ...(vrrp && { vrrp: { [vrrp.pair]: vrrp.settings } }),
    ...((vrrp?.natGateway ?? imported.observed?.natGateway) && { nat_gateway: vrrp?.natGateway ?? imported.observed?.natGateway }),
    services: imported.services.map((s, i) => service(s, names[i]!, hosts.nameOf)),
  };
  const doc = new Document(data);
  doc.commentBefore = ` ${header.split('\n').join('\n ')}`;
  const flow = (path: (string | number)[]) => {
    const node = doc.getIn(path, true);
    if (isCollection(node)) node.flow = true;
  };
  hosts.directors.forEach((d, i) => {
    flow(['directors', i, 'interface']);
    (d['interfaces'] as unknown[] | undefined)?.forEach((_, k) => flow(['directors', i, 'interfaces', k]));
    if (d['ssh']) flow(['directors', i, 'ssh']);
  });
  hosts.realServers.forEach((_, i) => flow(['real_servers', i]));
  imported.services.forEach((s, i) => {
    for (const key of ['persistence', 'tunnel', 'health_check', 'fallback', 'scheduler_flags']) flow(['services', i, key]);
    s.members.forEach((_, j) => flow(['services', i, 'real_servers', j]));
  });
  const comments: Commented[] = [
    ...hosts.comments,
    ...imported.services.map((s, i) => ({ path: ['services', i], text: `${s.origin.file} line ${s.origin.line}` })),
    ...(vrrp?.settings.auth_pass_env ? [{ path: ['vrrp', vrrp.pair, 'auth_pass_env'], text: `set ${VRRP_PASS_ENV} to keepalived.conf's auth_pass (not copied here)` }] : []),
  ];
  for (const c of comments) {
    const node = doc.getIn(c.path, true);
    if (!isNode(node)) continue;
    // A sequence item or a whole list gets its comment above it; a value, after it on its line.
    const above = typeof c.path[c.path.length - 1] === 'number' || c.path.length === 1;
    if (above) node.commentBefore = node.commentBefore ? `${node.commentBefore}\n ${c.text}` : ` ${c.text}`;
    else node.comment = ` ${c.text}`;
  }
  return doc.toString({ lineWidth: 0 });
}

