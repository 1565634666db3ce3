/**
 * A table rendered as ipvsadm lines. `saveText` is exactly what `ipvsadm -S -n` prints (order and
 * spelling, from ipvsadm 1.31's print_service_entry), so `parseSave(saveText(t))` gives `t` back,
 * thresholds aside: ipvsadm never saves -x/-y. The same line builders make the batch lines the
 * diff feeds to `ipvsadm -R` (with -x/-y always spelled out) and the persisted rules file (with
 * -x/-y when set, which `ipvsadm -R` accepts).
 */
import { type Destination, type IpvsTable, sortedDests, sortedServices, type VirtualService } from './table.js';
import { commandFlags, keyFamily, defaultNetmask, printedFlags, serviceSpec } from './forms.js';
import { hostPort } from '../../inventory/addresses.js';

/** When a real-server line carries -x/-y: never (the save format), when set (rules file), always (batch -a/-e). */
export type ThresholdMode = 'never' | 'nonzero' | 'always';

/** `-s wlc -p 300 -M 255.255.255.0 --pe sip -o -b sh-fallback,sh-port`, in ipvsadm's print order. */
export function serviceOptions(s: VirtualService, flags: 'printed' | 'command' = 'command'): string {
  let out = `-s ${s.scheduler}`;
  if (s.persistence) {
    out += ` -p ${s.persistence.timeout}`;
    if (s.persistence.netmask !== defaultNetmask(keyFamily(s.key))) out += ` -M ${s.persistence.netmask}`;
  }
  if (s.pe !== undefined) out += ` --pe ${s.pe}`;
  if (s.onePacket) out += ' -o';
  // ipvsadm prints `-b ` whenever a flag bit is set, even when sh/mh have no name for it (bit 3).
  if (s.flags !== 0) out += ` -b ${(flags === 'printed' ? printedFlags : commandFlags)(s.scheduler, s.flags).join(',')}`;
  return out;
}

/** `-r 192.0.2.21:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum [-x U -y L]`. */
export function destOptions(d: Destination, thresholds: ThresholdMode): string {
  const method = d.method === 'dr' ? '-g' : d.method === 'tun' ? '-i' : '-m';
  let out = `-r ${hostPort(d.address, d.port)} ${method} -w ${d.weight}`;
  if (d.method === 'tun' && d.tunnel) {
    out += ` --tun-type ${d.tunnel.type}`;
    if (d.tunnel.type === 'gue') out += ` --tun-port ${d.tunnel.port ?? 0}`;
    if (d.tunnel.type !== 'ipip') out += ` --tun-${d.tunnel.checksum ?? 'nocsum'}`;
  }
  if (thresholds === 'always' || (thresholds === 'nonzero' && (d.upperThreshold !== 0 || d.lowerThreshold !== 0))) {
    out += ` -x ${d.upperThreshold} -y ${d.lowerThreshold}`;
  }
  return out;
}

export function serviceLine(verb: '-A' | '-E', s: VirtualService, flags: 'printed' | 'command' = 'command'): string {
  return `${verb} ${serviceSpec(s.key)} ${serviceOptions(s, flags)}`;
}

export function deleteServiceLine(s: VirtualService): string {
  return `-D ${serviceSpec(s.key)}`;
}

export function destLine(verb: '-a' | '-e', s: VirtualService, d: Destination, thresholds: ThresholdMode): string {
  return `${verb} ${serviceSpec(s.key)} ${destOptions(d, thresholds)}`;
}

export function deleteDestLine(s: VirtualService, d: Destination): string {
  return `-d ${serviceSpec(s.key)} -r ${hostPort(d.address, d.port)}`;
}

/** One service and its real servers, as `ipvsadm -S -n` prints them (plus -x/-y if asked, for --diff). */
export function serviceBlock(s: VirtualService, thresholds: ThresholdMode = 'never'): string[] {
  return [serviceLine('-A', s, 'printed'), ...sortedDests(s).map((d) => destLine('-a', s, d, thresholds))];
}

export function saveLines(table: IpvsTable): string[] {
  return sortedServices(table).flatMap((s) => serviceBlock(s));
}

/** Exactly `ipvsadm -S -n`: no header, one line each, a final newline; nothing for an empty table. */
export function saveText(table: IpvsTable): string {
  return saveLines(table).map((l) => l + '\n').join('');
}

/** The persisted rules' lines (the template adds Debian's `# ipvsadm.rules` header): -x/-y kept. */
export function rulesLines(table: IpvsTable): string[] {
  return sortedServices(table).flatMap((s) => [serviceLine('-A', s), ...sortedDests(s).map((d) => destLine('-a', s, d, 'nonzero'))]);
}
