/**
 * `address`: the VIPs each host must (or must not) hold, and what they need around them.
 * - DR real servers (members and DR fallbacks): VIP/32 on lo with broadcast = the VIP itself
 *   (VIP/128 for IPv6), so the host accepts the director's frames without answering ARP for the
 *   VIP (sysctl does the ARP part).
 * - TUN real servers: ipip loaded, tunl0 up, VIP/32 on tunl0.
 * - NAT real servers: default route via the director.
 * - Directors: the primary holds the VIPs on its VIP interface; a backup must not (two hosts
 *   answering ARP for one VIP is the classic LVS outage).
 * Presence and absence are decided by the address alone: a VIP at the wrong prefix or on the
 * wrong device is a change (a /24 on lo makes the whole subnet local; a /24 on a backup's eth0
 * answers ARP all the same). What must be absent: the cluster's VIPs this host has no part in,
 * and what lvsplay added here before and the inventory no longer wants (its record).
 * A director whose pair fails over by VRRP holds its pair's VIPs (and the NAT gateway) through
 * keepalived: those are neither present nor absent here, and never recorded; other pairs' VIPs
 * must still be absent.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { canonicalAddress } from '../../inventory/addresses.js';
import { InterfaceName, isCidr } from '../../inventory/fields.js';
import { holdingInterface, membershipsOf, pairAddresses, servicesOf, type Service, serviceVips, vrrpOf } from '../../inventory/model.js';
import type { Change } from '../../plan/types.js';
import { ShellFragment } from '../../util/shell.js';
import { diffRecord, parseRecord, type RecordForm, recordProbe } from '../record.js';
import { recordPath } from '../../inventory/host-files.js';
import { defineResource, type HostContext } from '../resource.js';
import { framed, splitSections } from '../sections.js';

export interface Address {
  /** The link (eth0), never an alias: the kernel keys addresses by link, not label. */
  device: string;
  /** An ifconfig-style alias (eth0:1) to label the address with, when the inventory names one. */
  label?: string;
  address: string;
  prefix: number;
  /** IPv4 broadcast, set only where it matters (DR VIPs on lo). */
  broadcast?: string;
}

export interface AddressDesired {
  present: Address[];
  /** Addresses (canonical) that must be on no device unless `present` says where. */
  absent: string[];
  /** Addresses keepalived holds here (a VRRP pair's): left alone, even when lvsplay's record names them. */
  keep?: string[];
  tunnel: boolean;
  gateway?: string;
  record: string;
}

export interface AddressActual {
  addresses: Address[];
  tunnelUp: boolean;
  gateway?: string;
  /** What lvsplay recorded it added here; undefined when there is no record. */
  recorded?: string[];
}

const vipOn = (iface: string, vip: string, broadcast: boolean): Address => {
  const v6 = vip.includes(':');
  return { ...onInterface(iface), address: vip, prefix: v6 ? 128 : 32, ...(broadcast && !v6 && { broadcast: vip }) };
};

/** `eth0:1` → the link eth0 with the label eth0:1 (IPv6 addresses take no label). */
const onInterface = (iface: string): Pick<Address, 'device' | 'label'> => {
  const [device = iface] = iface.split(':');
  return device === iface ? { device } : { device, label: iface };
};

const vipsOf = (services: Service[]): string[] => [...new Set(services.flatMap(serviceVips))];

/** The services a real server takes traffic for: those it is a member of, and those it is the fallback of. */
function servedBy(ctx: HostContext, host: { name: string; address: string; address6?: string }): Service[] {
  const members = membershipsOf(ctx.cluster, host as never).map((m) => m.service);
  const own = new Set([host.address, ...(host.address6 ? [host.address6] : [])]);
  const fallbackOf = ctx.cluster.services.filter((s) => s.fallback && own.has(s.fallback.address));
  return [...new Set([...members, ...fallbackOf])];
}

/** Every address of the cluster lvsplay may have put on some host: VIPs and the NAT gateway. */
function clusterAddresses(ctx: HostContext): string[] {
  const gateway = ctx.cluster.natGateway ? [ctx.cluster.natGateway.address] : [];
  return [...vipsOf(ctx.cluster.services), ...gateway];
}

export function desiredAddresses(ctx: HostContext): AddressDesired {
  const host = ctx.host;
  let present: Address[];
  let tunnel = false;
  let gateway: string | undefined;
  let keep: string[] = [];
  if (host.kind === 'real_server') {
    const served = servedBy(ctx, host);
    const viaFallback = (s: Service) => s.fallback?.forwarding;
    const method = (s: Service) => (s.realServers.some((m) => m.server === host.name) ? s.forwarding : viaFallback(s));
    const dr = vipsOf(served.filter((s) => method(s) === 'dr')).map((vip) => vipOn('lo', vip, true));
    const tun = vipsOf(served.filter((s) => method(s) === 'tun' && s.family === 'ipv4')).map((vip) => vipOn('tunl0', vip, false));
    tunnel = tun.length > 0;
    present = [...dr, ...tun];
    if (served.some((s) => method(s) === 'nat' && s.family === 'ipv4') && host.gateway) gateway = host.gateway;
  } else {
    const services = servicesOf(ctx.cluster, host);
    const holder = (address: string) => holdingInterface(ctx.cluster, host, address).name;
    const vips = vipsOf(services).map((vip) => vipOn(holder(vip), vip, false));
    const nat = ctx.cluster.natGateway;
    // The NAT gateway keeps its prefix: the director reaches the real servers' network through it.
    if (nat && services.some((s) => s.forwarding === 'nat')) vips.push({ ...onInterface(holder(nat.address)), address: nat.address, prefix: nat.prefix });
    present = host.role === 'primary' ? vips : [];
    if (vrrpOf(ctx.cluster, host)) {
      const held = pairAddresses(ctx.cluster, host.pair);
      keep = [...held.vips, ...(held.natGateway ? [held.natGateway.address] : [])];
      present = [];
    }
  }
  const wanted = new Set([...present.map((a) => a.address), ...keep]);
  const absent = clusterAddresses(ctx).filter((a) => !wanted.has(a));
  return { present, absent, ...(keep.length > 0 && { keep }), tunnel, ...(gateway && { gateway }), record: recordPath(ctx.cluster, 'addresses') };
}

/** `ip -o addr show`, tunl0's flags, /proc/net/route and the record, each its own part. */
export function parseAddresses(output: string): AddressActual {
  const parts = splitSections(output);
  const addresses: Address[] = [];
  for (const line of (parts.get('addr') ?? '').split('\n')) {
    // "2: eth0    inet 192.0.2.5/24 brd 192.0.2.255 scope global eth0\       valid_lft forever ..."
    const words = line.replace(/\\.*$/, '').trim().split(/\s+/);
    if (words[2] !== 'inet' && words[2] !== 'inet6') continue;
    // A point-to-point address is "inet 10.0.0.1 peer 10.0.0.2/32": its prefix is the peer's.
    const [address = '', own] = (words[3] ?? '').split('/');
    const prefix = own ?? (words[4] === 'peer' ? words[5]?.split('/')[1] : undefined) ?? (isIPv4(address) ? '32' : '128');
    const brd = words[4] === 'brd' ? words[5] : undefined;
    const device = (words[1] ?? '').replace(/@.*$/, '');
    if (!/^\d{1,3}$/.test(prefix) || !(isIPv4(address) || isIPv6(address))) throw new Error(`cannot read this line of ip -o addr show: ${JSON.stringify(line.slice(0, 200))} (expected ADDRESS/PREFIX after ${words[2]})`);
    addresses.push({ device, address: canonicalAddress(address), prefix: Number(prefix), ...(brd && { broadcast: brd }) });
  }
  const flags = (parts.get('tunl0') ?? '').trim();
  const tunnelUp = /^0x[0-9a-f]+$/i.test(flags) && (Number.parseInt(flags, 16) & 1) === 1;
  const gateway = defaultGateway(parts.get('route') ?? '');
  const recorded = parts.has('record') ? parseRecord(parts.get('record')!, RECORD_FORM) : undefined;
  return { addresses, tunnelUp, ...(gateway && { gateway }), ...(recorded && { recorded }) };
}

/** A line of the address record: what `diff` writes (`cidr(a) device`), the address read back to remove it. */
const RECORD_FORM: RecordForm = {
  name: 'addresses',
  expected: 'ADDRESS/PREFIX DEVICE',
  valid(line) {
    const [cidr = '', device = '', ...rest] = line.split(' ');
    return rest.length === 0 && isCidr(cidr) && InterfaceName.safeParse(device).success;
  },
};

/** The IPv4 default route's gateway from /proc/net/route (hex, little-endian), if any. */
function defaultGateway(table: string): string | undefined {
  for (const line of table.split('\n')) {
    const [, destination, via, flags, , , , mask] = line.trim().split(/\s+/);
    if (destination !== '00000000' || mask !== '00000000' || !via || !flags) continue;
    if ((Number.parseInt(flags, 16) & 0x2) === 0) continue; // RTF_GATEWAY
    const n = Number.parseInt(via, 16);
    return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff].join('.');
  }
  return undefined;
}

const cidr = (a: Address) => `${a.address}/${a.prefix}`;
const exact = (a: Address, b: Address) => a.device === b.device && a.address === b.address && a.prefix === b.prefix && (b.broadcast === undefined || a.broadcast === b.broadcast);
const describe = (a: Address) => `${cidr(a)}${a.broadcast ? ` brd ${a.broadcast}` : ''} on ${a.device}`;

export const address = defineResource({
  kind: 'address',
  desired: (ctx) => desiredAddresses(ctx),
  probe: (desired, ctx) => framed('addr', 'ip -o addr show')
    + framed('tunl0', 'if read -r lvsplay_f < /sys/class/net/tunl0/flags 2>/dev/null; then printf \'%s\\n\' "$lvsplay_f"; fi')
    + framed('route', 'while IFS= read -r lvsplay_r; do printf \'%s\\n\' "$lvsplay_r"; done < /proc/net/route')
    + framed('record', recordProbe(ctx.templates, desired.record)),
  parse: (output) => parseAddresses(output),
  diff(desired, actual, ctx) {
    const changes: Change[] = [];
    const add: Address[] = [];
    const remove: Address[] = [];
    for (const want of desired.present) {
      const same = actual.addresses.filter((a) => a.address === want.address);
      const right = same.find((a) => exact(a, want));
      const wrong = same.filter((a) => a !== right);
      remove.push(...wrong);
      if (!right) add.push(want);
      if (wrong.length > 0) {
        changes.push({ id: cidr(want), action: 'change', summary: `~ address ${wrong.map(describe).join(', ')} → ${describe(want)}`, before: wrong.map(describe).join('\n'), after: describe(want) });
      } else if (!right) {
        changes.push({ id: cidr(want), action: 'add', summary: `+ address ${describe(want)}`, after: describe(want) });
      }
    }
    // Gone from the inventory but lvsplay put it there: absent too, wherever it is now.
    const present = new Set([...desired.present.map((a) => a.address), ...(desired.keep ?? [])]);
    const recordedGone = (actual.recorded ?? []).map((line) => canonicalAddress(line.split(/[\s/]/)[0]!)).filter((a) => !present.has(a));
    const absent = new Set([...desired.absent, ...recordedGone]);
    for (const have of actual.addresses) {
      if (!absent.has(have.address)) continue;
      remove.push(have);
      changes.push({ id: cidr(have), action: 'delete', summary: `- address ${describe(have)}`, before: describe(have) });
    }
    const tunnel = desired.tunnel && !actual.tunnelUp;
    if (tunnel) changes.unshift({ id: 'tunl0', action: 'change', summary: '~ tunl0 down → up (ipip loaded)', before: 'down', after: 'up' });
    const gateway = desired.gateway !== undefined && desired.gateway !== actual.gateway ? desired.gateway : undefined;
    if (gateway) {
      changes.push({ id: 'default route', action: actual.gateway ? 'change' : 'add', summary: `${actual.gateway ? '~' : '+'} default route ${actual.gateway ?? 'none'} → via ${gateway}`, before: actual.gateway ?? '', after: gateway });
    }
    const record = diffRecord(desired.record, desired.present.map((a) => `${cidr(a)} ${a.device}`), actual.recorded, ctx.templates, 'addresses');
    changes.push(...record.changes);
    if (changes.length === 0) return { changes, script: '' };
    const script = ctx.templates.render('address/apply.sh.hbs', {
      tunnel: desired.tunnel,
      add: add.map((a) => ({ cidr: cidr(a), device: a.device, broadcast: a.broadcast ?? '', label: a.label !== undefined && !a.address.includes(':') ? a.label : '' })),
      remove: remove.map((a) => ({ cidr: cidr(a), device: a.device })),
      gateway: gateway ?? '',
      // A director that takes a VIP announces it (failover); real servers never answer ARP for one.
      // (IPv6 VIPs are announced by the kernel itself: ndisc_notify, set by the sysctl task.)
      announce: ctx.host.kind === 'director' ? add.filter((a) => !a.address.includes(':')).map((a) => ({ device: a.device, address: a.address })) : [],
      record: new ShellFragment(record.script),
    });
    return { changes, script };
  },
});
