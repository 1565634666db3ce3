/**
 * `address`: the VIPs each host must (or must not) hold, and what they need around them.
 * - DR real servers: VIP/32 on lo with broadcast = the VIP itself (VIP/128 for IPv6), so the host
 *   accepts the director's frames without answering ARP for the VIP (sysctl does the ARP part).
 * - TUN real servers: ipip loaded, tunl0 up, VIP/32 on tunl0.
 * - NAT real servers: default route via the director.
 * - Directors: the primary holds the VIPs on its VIP interface; a backup must not (two hosts
 *   answering ARP for one VIP is the classic LVS outage). Only VIPs of declared services are
 *   ever removed.
 */
import { canonicalAddress } from '../../inventory/addresses.js';
import { membershipsOf, servicesOf, type Service } from '../../inventory/model.js';
import type { Change } from '../../plan/types.js';
import { defineResource, type HostContext } from '../resource.js';

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
  absent: Address[];
  tunnel: boolean;
  gateway?: string;
}

export interface AddressActual {
  addresses: Address[];
  tunnelUp: boolean;
  gateway?: string;
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

const vipsOf = (services: Service[]): string[] => [...new Set(services.flatMap((s) => (s.vip ? [s.vip] : [])))];

export function desiredAddresses(ctx: HostContext): AddressDesired {
  const host = ctx.host;
  if (host.kind === 'real_server') {
    const memberships = membershipsOf(ctx.cluster, host).map((m) => m.service);
    const dr = vipsOf(memberships.filter((s) => s.forwarding === 'dr')).map((vip) => vipOn('lo', vip, true));
    const tun = vipsOf(memberships.filter((s) => s.forwarding === 'tun' && s.family === 'ipv4')).map((vip) => vipOn('tunl0', vip, false));
    const nat = memberships.some((s) => s.forwarding === 'nat' && s.family === 'ipv4');
    return { present: [...dr, ...tun], absent: [], tunnel: tun.length > 0, ...(nat && host.gateway && { gateway: host.gateway }) };
  }
  const services = servicesOf(ctx.cluster, host);
  const vips = vipsOf(services).map((vip) => vipOn(host.interface.name, vip, false));
  const gateway = ctx.cluster.natGateway;
  // The NAT gateway keeps its prefix: the director reaches the real servers' network through it.
  if (gateway && services.some((s) => s.forwarding === 'nat')) vips.push({ ...onInterface(host.interface.name), address: gateway.address, prefix: gateway.prefix });
  return host.role === 'primary' ? { present: vips, absent: [], tunnel: false } : { present: [], absent: vips, tunnel: false };
}

export function parseAddresses(output: string): AddressActual {
  const addresses: Address[] = [];
  let tunnelUp = false;
  let gateway: string | undefined;
  for (const line of output.split('\n')) {
    const words = line.trim().split(/\s+/);
    if (words[0] === 'link-tunl0') tunnelUp = words[1] === 'up';
    else if (words[0] === 'default-route' && words[1]) gateway = canonicalAddress(words[1]);
    else if (words[2] === 'inet' || words[2] === 'inet6') {
      // "2: eth0    inet 192.0.2.5/24 brd 192.0.2.255 scope global eth0"; a label (eth0:1) is the last word
      const [address = '', prefix = '0'] = (words[3] ?? '').split('/');
      const brd = words[4] === 'brd' ? words[5] : undefined;
      const device = (words[1] ?? '').replace(/@.*$/, '');
      addresses.push({ device, address: canonicalAddress(address), prefix: Number(prefix), ...(brd && { broadcast: brd }) });
    }
  }
  return { addresses, tunnelUp, ...(gateway && { gateway }) };
}

const cidr = (a: Address) => `${a.address}/${a.prefix}`;
const same = (a: Address, b: Address) => a.device === b.device && a.address === b.address && a.prefix === b.prefix;
const describe = (a: Address) => `${cidr(a)}${a.broadcast ? ` brd ${a.broadcast}` : ''} on ${a.device}`;

export const address = defineResource({
  kind: 'address',
  desired: (ctx) => desiredAddresses(ctx),
  probe: (_desired, ctx) => ctx.templates.render('address/probe.sh.hbs', {}),
  parse: (output) => parseAddresses(output),
  diff(desired, actual, ctx) {
    const changes: Change[] = [];
    const add: Address[] = [];
    const remove: Address[] = [];
    for (const want of desired.present) {
      const have = actual.addresses.find((a) => same(a, want));
      if (have && have.broadcast === (want.broadcast ?? have.broadcast)) continue;
      if (have) {
        remove.push(have);
        changes.push({ id: cidr(want), action: 'change', summary: `~ address ${describe(have)} → ${describe(want)}`, before: describe(have), after: describe(want) });
      } else {
        changes.push({ id: cidr(want), action: 'add', summary: `+ address ${describe(want)}`, after: describe(want) });
      }
      add.push(want);
    }
    for (const unwanted of desired.absent) {
      const have = actual.addresses.find((a) => same(a, unwanted));
      if (!have) continue;
      remove.push(have);
      changes.push({ id: cidr(have), action: 'delete', summary: `- address ${describe(have)}`, before: describe(have) });
    }
    const tunnel = desired.tunnel && !actual.tunnelUp;
    if (tunnel) changes.unshift({ id: 'tunl0', action: 'change', summary: '~ tunl0 down → up (ipip loaded)', before: 'down', after: 'up' });
    const gateway = desired.gateway !== undefined && desired.gateway !== actual.gateway ? desired.gateway : undefined;
    if (gateway) {
      changes.push({ id: 'default route', action: actual.gateway ? 'change' : 'add', summary: `${actual.gateway ? '~' : '+'} default route ${actual.gateway ?? 'none'} → via ${gateway}`, before: actual.gateway ?? '', after: gateway });
    }
    if (changes.length === 0) return { changes, script: '' };
    const script = ctx.templates.render('address/apply.sh.hbs', {
      tunnel: desired.tunnel,
      add: add.map((a) => ({ cidr: cidr(a), device: a.device, broadcast: a.broadcast ?? '', label: a.label !== undefined && !a.address.includes(':') ? a.label : '' })),
      remove: remove.map((a) => ({ cidr: cidr(a), device: a.device })),
      gateway: gateway ?? '',
      // A director that takes a VIP announces it (failover); real servers never answer ARP for one.
      announce: ctx.host.kind === 'director' ? add.filter((a) => !a.address.includes(':')).map((a) => ({ device: a.device, address: a.address })) : [],
    });
    return { changes, script };
  },
});
