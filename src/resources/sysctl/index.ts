/**
 * `sysctl`: the kernel settings an LVS role needs, at runtime and persisted in /etc/sysctl.d.
 * - DR and TUN real servers: arp_ignore=1 and arp_announce=2 on `all` and `lo`, so only the
 *   director answers ARP for the VIP (the kernel uses max(all, iface); `lo` is convention).
 * - TUN real servers: rp_filter=0 on `all` and `tunl0`, or decapsulated packets are dropped.
 * - Directors carrying a NAT service: ip_forward=1.
 * - Directors carrying any service: vs.expire_nodest_conn=1, and with persistence
 *   vs.expire_quiescent_template=1 (kube-proxy sets both). Without them a drain leaks: a client
 *   reusing a source port whose connection entry still points at a weight-0 server (FIN_WAIT lasts
 *   2 min in DR) is sent there, refused when it is being restarted, and a persistent client stays
 *   on a drained server for the template's life. With them the kernel reschedules both.
 * - Directors carrying an IPv6 service: ndisc_notify=1 on the VIP interface, so the kernel sends
 *   an unsolicited neighbour advertisement for a VIP it takes (IPv6's gratuitous ARP, on failover).
 */
import type { Host } from '../../inventory/model.js';
import { membershipsOf, servicesOf } from '../../inventory/model.js';
import type { Change } from '../../plan/types.js';
import { diffFile, type FileActual, type FileDesired, fileProbe, parseFileProbe } from '../file/index.js';
import { defineResource, type HostContext } from '../resource.js';
import { framed, splitSections } from '../sections.js';

export const SYSCTL_FILE = '/etc/sysctl.d/90-lvsplay.conf';

export interface SysctlDesired {
  values: { key: string; value: string }[];
  file?: FileDesired;
}

export interface SysctlActual {
  values: Map<string, string | undefined>;
  file?: FileActual;
}

/** The sysctls the inventory implies for a host, in a stable order. */
export function roleSysctls(ctx: HostContext, host: Host): Record<string, string> {
  const out: Record<string, string> = {};
  if (host.kind === 'real_server') {
    const methods = new Set(membershipsOf(ctx.cluster, host).map(({ service }) => service.forwarding));
    if (methods.has('dr') || methods.has('tun')) {
      for (const iface of ['all', 'lo']) {
        out[`net.ipv4.conf.${iface}.arp_ignore`] = '1';
        out[`net.ipv4.conf.${iface}.arp_announce`] = '2';
      }
    }
    if (methods.has('tun')) {
      out['net.ipv4.conf.all.rp_filter'] = '0';
      out['net.ipv4.conf.tunl0.rp_filter'] = '0';
    }
  } else {
    const services = servicesOf(ctx.cluster, host);
    if (services.some((s) => s.forwarding === 'nat')) out['net.ipv4.ip_forward'] = '1';
    if (services.length > 0) out['net.ipv4.vs.expire_nodest_conn'] = '1';
    if (services.some((s) => s.persistence)) out['net.ipv4.vs.expire_quiescent_template'] = '1';
    if (services.some((s) => s.family === 'ipv6' && s.vip !== undefined)) out[`net.ipv6.conf.${host.interface.name.split(':')[0]}.ndisc_notify`] = '1';
  }
  return out;
}

/** Whitespace as one space, none at the ends: how both sides of a comparison are spelled. */
export function normalValue(value: string): string {
  return value.trim().replace(/\s+/g, ' ');
}

/**
 * Where the kernel keeps a key, as sysctl(8) reads it: net.ipv4.ip_forward → /proc/sys/net/ipv4/ip_forward.
 * When the first separator is '/', slashes separate and dots are part of names; otherwise a '/'
 * stands for a dot in a name: net.ipv4.conf.eth0/100.rp_filter → .../conf/eth0.100/rp_filter.
 */
export function procPath(key: string): string {
  const slashFirst = /^[^.]*\//.test(key);
  return `/proc/sys/${slashFirst ? key : key.replace(/[./]/g, (c) => (c === '.' ? '/' : '.'))}`;
}

export const sysctl = defineResource({
  kind: 'sysctl',
  desired(ctx, args): SysctlDesired {
    // The kernel prints multi-word values with tabs ("32768\t60999"): both sides compare with single spaces.
    const merged = { ...roleSysctls(ctx, ctx.host), ...Object.fromEntries(Object.entries(args.extra).map(([k, v]) => [k, normalValue(String(v))])) };
    const values = Object.entries(merged).map(([key, value]) => ({ key, value }));
    if (!args.persist || !ctx.host.persist || values.length === 0) return { values };
    const content = ctx.templates.render('sysctl/lvsplay.conf.hbs', { host: ctx.host.name, values });
    return { values, file: { path: SYSCTL_FILE, content, mode: '0644' } };
  },
  probe(desired, ctx) {
    const values = framed('values', ctx.templates.render('sysctl/probe.sh.hbs', { keys: desired.values.map((v) => ({ key: v.key, path: procPath(v.key) })) }));
    return desired.file ? values + framed('file', fileProbe(ctx.templates, desired.file.path)) : values;
  },
  parse(output, desired): SysctlActual {
    const parts = splitSections(output);
    const part = parts.get('values');
    const lines = (part ?? '').split('\n');
    const values = new Map<string, string | undefined>();
    for (const { key } of desired.values) {
      const path = procPath(key);
      // no part at all: no facts (`render`), nothing known to be there
      if (part === undefined || lines.includes(`@@absent ${path}`)) values.set(key, undefined);
      else values.set(key, normalValue(lines.filter((l) => l.startsWith(`${path}:`)).map((l) => l.slice(path.length + 1)).join(' ')));
    }
    const file = parts.get('file');
    return desired.file && file !== undefined ? { values, file: parseFileProbe(file) } : { values };
  },
  diff(desired, actual, ctx) {
    const changed = desired.values.filter((v) => actual.values.get(v.key) !== v.value);
    const changes: Change[] = changed.map((v) => {
      const before = actual.values.get(v.key);
      return before === undefined
        ? { id: v.key, action: 'add', summary: `+ sysctl ${v.key} = ${v.value}`, after: v.value }
        : { id: v.key, action: 'change', summary: `~ sysctl ${v.key} ${before} → ${v.value}`, before, after: v.value };
    });
    // net.ipv4.vs.* exist once ip_vs is loaded (at boot, modules-load.d loads it before systemd-sysctl)
    const ipvs = changed.some((v) => v.key.startsWith('net.ipv4.vs.'));
    const scripts = changed.length > 0 ? [ctx.templates.render('sysctl/apply.sh.hbs', { ipvs, values: changed.map((v) => ({ path: procPath(v.key), value: v.value })) })] : [];
    if (desired.file) {
      const persisted = diffFile(desired.file, actual.file ?? { present: false }, ctx.templates);
      changes.push(...persisted.changes);
      if (persisted.script) scripts.push(persisted.script);
    }
    return { changes, script: scripts.join('\n') };
  },
});
