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
 *
 * Each of these role keys lvsplay changes is recorded (`<state_dir>/sysctls`) with the value it had
 * before lvsplay first set it. A key the inventory no longer implies (the last NAT service gone: ip_forward) is
 * put back to that value at runtime, as the persisted file, which no longer names it, leaves it at
 * the next boot: runtime and boot agree, and a director that stops doing NAT stops forwarding.
 * Keys a task adds with `extra` are not recorded: another playbook's sysctl task must not undo them.
 */
import type { Cluster, Host } from '../../inventory/model.js';
import { holdingInterface, membershipsOf, servicesOf } from '../../inventory/model.js';
import type { Change } from '../../plan/types.js';
import { diffFile, type FileActual, type FileDesired, fileProbe, parseFileProbe } from '../file/index.js';
import { defineResource } from '../resource.js';
import { framed, splitSections } from '../sections.js';
import { diffRecord, type RecordForm, recordLineError } from '../record.js';
import { recordPath, SYSCTL_FILE } from '../../inventory/host-files.js';
import type { Templates } from '../../templates/templates.js';
import { keyOf, procPath } from './keys.js';


export interface SysctlDesired {
  values: { key: string; value: string }[];
  file?: FileDesired;
  /** The record of role keys' values before lvsplay (see the file comment). */
  record: string;
  /** The /proc/sys paths of the role keys: the only ones recorded. */
  owned: string[];
}

/** What the record says a role key's value was before lvsplay set it (ABSENT: the key did not exist). */
const ABSENT = '@@absent';

export interface SysctlActual {
  values: Map<string, string | undefined>;
  file?: FileActual;
  /** path → value before lvsplay, or undefined when the host has no record. */
  recorded?: Map<string, string>;
  /**
   * The current value of each recorded path the host no longer needs (undefined: the kernel has no
   * such key now); those it needs are in `values`, read once.
   */
  recordedNow: Map<string, string | undefined>;
}

/** The sysctls the inventory implies for a host, in a stable order. */
export function roleSysctls(cluster: Cluster, host: Host): Record<string, string> {
  const out: Record<string, string> = {};
  if (host.kind === 'real_server') {
    const methods = new Set(membershipsOf(cluster, host).map(({ service }) => service.forwarding));
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
    const services = servicesOf(cluster, host);
    if (services.some((s) => s.forwarding === 'nat')) out['net.ipv4.ip_forward'] = '1';
    if (services.length > 0) out['net.ipv4.vs.expire_nodest_conn'] = '1';
    if (services.some((s) => s.persistence)) out['net.ipv4.vs.expire_quiescent_template'] = '1';
    // each link holding an IPv6 VIP announces it when it comes up (a failover)
    for (const s of services) {
      if (s.family === 'ipv6' && s.vip !== undefined) out[`net.ipv6.conf.${holdingInterface(cluster, host, s.vip).name.split(':')[0]}.ndisc_notify`] = '1';
    }
  }
  return out;
}

/** Whitespace as one space, none at the ends: how both sides of a comparison are spelled. */
export function normalValue(value: string): string {
  return value.trim().replace(/\s+/g, ' ');
}

export const sysctl = defineResource({
  kind: 'sysctl',
  conflicts(args, cluster, host) {
    const role = new Map(Object.entries(roleSysctls(cluster, host)).map(([key, value]) => [procPath(key), { key, value }]));
    return Object.entries(args.extra).flatMap(([key, value]) => {
      const own = role.get(procPath(key));
      if (!own || own.value === normalValue(String(value))) return [];
      return [{ path: ['extra', key], message: `expected ${own.value} or no entry: lvsplay sets ${own.key} to ${own.value} where the inventory's LVS role needs it (see the sysctl task in docs/playbooks.md), and another value would break that role` }];
    });
  },
  desired(ctx, args): SysctlDesired {
    const role = roleSysctls(ctx.cluster, ctx.host);
    const owned = Object.keys(role).map(procPath);
    // The kernel prints multi-word values with tabs ("32768\t60999"): both sides compare with single
    // spaces. An extra key the role sets already (to its value: `conflicts` refuses another) is written once.
    const extra = Object.entries(args.extra).filter(([key]) => !owned.includes(procPath(key))).map(([key, value]): [string, string] => [key, normalValue(String(value))]);
    const values = Object.entries({ ...role, ...Object.fromEntries(extra) }).map(([key, value]) => ({ key, value }));
    const record = recordPath(ctx.cluster, 'sysctls');
    if (!args.persist || !ctx.host.persist || values.length === 0) return { values, record, owned };
    const content = ctx.templates.render('sysctl/lvsplay.conf.hbs', { host: ctx.host.name, values });
    return { values, file: { path: SYSCTL_FILE, content, mode: '0644' }, record, owned };
  },
  probe(desired, ctx) {
    const values = framed('values', ctx.templates.render('sysctl/probe.sh.hbs', { keys: desired.values.map((v) => ({ key: v.key, path: procPath(v.key) })) }));
    const record = framed('record', ctx.templates.render('sysctl/record.sh.hbs', { path: desired.record, wanted: desired.values.map((v) => procPath(v.key)) }));
    return values + record + (desired.file ? framed('file', fileProbe(ctx.templates, desired.file.path, { expected: desired.file.content })) : '');
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
    const { recorded, recordedNow } = parseRecorded(parts.get('record'));
    const file = parts.get('file');
    return { values, recordedNow, ...(recorded && { recorded }), ...(desired.file && file !== undefined && { file: parseFileProbe(file, desired.file.content) }) };
  },
  diff(desired, actual, ctx) {
    const changed = desired.values.filter((v) => actual.values.get(v.key) !== v.value);
    const changes: Change[] = changed.map((v) => {
      const before = actual.values.get(v.key);
      return before === undefined
        ? { id: v.key, action: 'add', summary: `+ sysctl ${v.key} = ${v.value}`, after: v.value }
        : { id: v.key, action: 'change', summary: `~ sysctl ${v.key} ${before} → ${v.value}`, before, after: v.value };
    });
    const writes = changed.map((v) => ({ path: procPath(v.key), value: v.value }));
    const released = releasedKeys(desired, actual);
    for (const r of released) {
      if (r.now === undefined) continue;
      changes.push({ id: r.path, action: 'change', summary: `~ sysctl ${keyOf(r.path)} ${r.now} → ${r.value} (no longer needed: its value before lvsplay)`, before: r.now, after: r.value });
      writes.push({ path: r.path, value: r.value });
    }
    // net.ipv4.vs.* exist once ip_vs is loaded (at boot, modules-load.d loads it before systemd-sysctl)
    const ipvs = changed.some((v) => v.key.startsWith('net.ipv4.vs.'));
    const scripts = writes.length > 0 ? [ctx.templates.render('sysctl/apply.sh.hbs', { ipvs, values: writes })] : [];
    if (desired.file) {
      const persisted = diffFile(desired.file, actual.file ?? { present: false }, ctx.templates);
      changes.push(...persisted.changes);
      if (persisted.script) scripts.push(persisted.script);
    }
    const before = new Map(changed.map((v) => [procPath(v.key), actual.values.get(v.key)]));
    const record = recordDiff(desired, actual, before, released, ctx.templates);
    changes.push(...record.changes);
    if (record.script) scripts.push(record.script);
    return { changes, script: scripts.join('\n') };
  },
});

/**
 * A line of the sysctl record: a key's /proc/sys path and its value before lvsplay, which a run
 * writes back to that path once the key is no longer needed: so the path stays inside /proc/sys.
 */
const RECORD_FORM: RecordForm = {
  name: 'sysctls',
  expected: '/proc/sys/PATH VALUE',
  valid(line) {
    const [path = '', ...value] = line.split(' ');
    const parts = path.split('/').slice(3);
    return path.startsWith('/proc/sys/') && parts.length > 0 && parts.every((p) => /^[A-Za-z0-9_.:@-]+$/.test(p) && p !== '.' && p !== '..')
      && value.length > 0 && /^[^\x00-\x08\x0a-\x1f\x7f]*$/.test(value.join(' '));
  },
};

/** The `record` part: `@@was PATH VALUE` per recorded key, then `PATH:VALUE` for those the kernel has (or `@@absent`: no record). */
function parseRecorded(part: string | undefined): Pick<SysctlActual, 'recorded' | 'recordedNow'> {
  const recordedNow = new Map<string, string | undefined>();
  const lines = (part ?? '@@absent').split('\n').filter((l) => l !== '');
  if (lines[0] === '@@absent') return { recordedNow };
  const recorded = new Map<string, string>();
  for (const [i, line] of lines.filter((l) => l.startsWith('@@was ')).entries()) {
    const entry = line.slice('@@was '.length);
    if (!RECORD_FORM.valid(entry)) throw recordLineError(RECORD_FORM, i + 1, entry);
    const [path = '', ...value] = entry.split(' ');
    recorded.set(path, value.join(' '));
    recordedNow.set(path, undefined);
  }
  for (const path of recorded.keys()) {
    const now = lines.filter((l) => l.startsWith(`${path}:`)).map((l) => l.slice(path.length + 1));
    if (now.length > 0) recordedNow.set(path, normalValue(now.join(' ')));
  }
  return { recorded, recordedNow };
}

/** Recorded keys the host no longer needs (dropped from the record), with the value to put back where it differs. */
function releasedKeys(desired: SysctlDesired, actual: SysctlActual): { path: string; now?: string; value: string }[] {
  const wanted = new Set(desired.values.map((v) => procPath(v.key)));
  return [...(actual.recorded ?? new Map<string, string>())]
    .filter(([path]) => !wanted.has(path))
    .map(([path, value]) => {
      const now = actual.recordedNow.get(path);
      return value === ABSENT || now === undefined || now === value ? { path, value } : { path, now, value };
    });
}

/**
 * The record after this run: what it held, less the released keys, plus each role key this run
 * changes for the first time, with the value it had before. Written only when that differs, so a
 * host already as desired is not written to.
 */
function recordDiff(desired: SysctlDesired, actual: SysctlActual, changed: Map<string, string | undefined>, released: readonly { path: string }[], templates: Templates): ReturnType<typeof diffRecord> {
  const gone = new Set(released.map((r) => r.path));
  const next = new Map([...(actual.recorded ?? [])].filter(([path]) => !gone.has(path)));
  for (const path of desired.owned) if (!next.has(path) && changed.has(path)) next.set(path, changed.get(path) ?? ABSENT);
  const lines = (m: Map<string, string>) => [...m].map(([path, value]) => `${path} ${value}`).sort();
  if (lines(next).join('\n') === lines(actual.recorded ?? new Map()).join('\n')) return { changes: [], script: '' };
  return diffRecord(desired.record, lines(next), actual.recorded && lines(actual.recorded), templates, 'sysctls');
}
