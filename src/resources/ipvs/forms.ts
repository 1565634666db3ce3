/**
 * ipvsadm's canonical forms, in one place for the parser, the desired state, the diff, the apply
 * script and the inventory checks: how a service is keyed and spelt (`tcp 192.0.2.10:80`,
 * `-t 192.0.2.10:80`, and `-f -1` as ipvsadm prints a mark of 2^32-1), the default persistence
 * netmask per family, and the scheduler flag names and bits.
 */
import { hostPort } from '../../inventory/addresses.js';
import type { IpvsFamily, ServiceKey } from './table.js';

export const FLAG_1 = 1;
export const FLAG_2 = 2;
export const FLAG_3 = 4;
export function keyFamily(key: ServiceKey): IpvsFamily {
  return key.kind === 'fwmark' ? key.family : key.address.includes(':') ? 'ipv6' : 'ipv4';
}

/** Canonical key string: `tcp 192.0.2.10:80`, `udp [2001:db8::10]:53`, `fwmark 1 ipv4`. */
export function serviceKey(key: ServiceKey): string {
  return key.kind === 'fwmark' ? `fwmark ${key.fwmark} ${key.family}` : `${key.protocol} ${hostPort(key.address, key.port)}`;
}

export function destKey(dest: { address: string; port: number }): string {
  return hostPort(dest.address, dest.port);
}

/** The service as ipvsadm options: `-t 192.0.2.10:80`, `--sctp-service [2001:db8::1]:9`, `-f 1 -6`. */
export function serviceSpec(key: ServiceKey): string {
  if (key.kind === 'fwmark') return key.family === 'ipv6' ? `-f ${key.fwmark} -6` : `-f ${key.fwmark}`;
  const option = key.protocol === 'tcp' ? '-t' : key.protocol === 'udp' ? '-u' : '--sctp-service';
  return `${option} ${hostPort(key.address, key.port)}`;
}

export function defaultNetmask(family: IpvsFamily): string {
  return family === 'ipv4' ? '255.255.255.255' : '128';
}

/**
 * The service as `ipvsadm -S -n` prints it, which is how the apply script finds a service's lines:
 * like serviceSpec, but a firewall mark is printed with %d (2^31 and above come out negative).
 */
export function printedSpec(key: ServiceKey): string {
  if (key.kind !== 'fwmark') return serviceSpec(key);
  const mark = key.fwmark >= 2 ** 31 ? key.fwmark - 2 ** 32 : key.fwmark;
  return key.family === 'ipv6' ? `-f ${mark} -6` : `-f ${mark}`;
}

/** The printed spec of the service a save or batch line is about: `-t 192.0.2.10:80`, `-f 1 -6` (same rule as the apply script's awk). */
export function lineSpec(line: string): string {
  const f = line.trim().split(/\s+/);
  return f[1] === '-f' && f[3] === '-6' ? `${f[1]} ${f[2]} -6` : `${f[1]} ${f[2]}`;
}

/** The flag names ipvsadm prints for a scheduler (print_sched_flags): sh and mh name bits 1 and 2 and drop bit 3. */
export function printedFlags(scheduler: string, flags: number): string[] {
  const out: string[] = [];
  if (scheduler === 'sh' || scheduler === 'mh') {
    if (flags & FLAG_1) out.push(`${scheduler}-fallback`);
    if (flags & FLAG_2) out.push(`${scheduler}-port`);
  } else {
    if (flags & FLAG_1) out.push('flag-1');
    if (flags & FLAG_2) out.push('flag-2');
    if (flags & FLAG_3) out.push('flag-3');
  }
  return out;
}

/** Flag names ipvsadm accepts for `-b` that set exactly these bits (flag-3 is accepted for any scheduler). */
export function commandFlags(scheduler: string, flags: number): string[] {
  const out = printedFlags(scheduler, flags);
  if ((scheduler === 'sh' || scheduler === 'mh') && flags & FLAG_3) out.push('flag-3');
  return out;
}

/** A flag name → its bit, checking that sh-/mh- names go with their scheduler (parse_sched_flags). */
export function flagBit(name: string, scheduler: string): number | string {
  switch (name) {
    case 'flag-1': return FLAG_1;
    case 'flag-2': return FLAG_2;
    case 'flag-3': return FLAG_3;
    case 'sh-fallback': case 'mh-fallback':
      return name.startsWith(scheduler + '-') ? FLAG_1 : `scheduler flag ${name} needs the ${name.slice(0, 2)} scheduler, not ${scheduler}`;
    case 'sh-port': case 'mh-port':
      return name.startsWith(scheduler + '-') ? FLAG_2 : `scheduler flag ${name} needs the ${name.slice(0, 2)} scheduler, not ${scheduler}`;
    default:
      return `unknown scheduler flag ${name}`;
  }
}

/** The inventory's flag names as bits: *-fallback is flag-1, *-port is flag-2 (ip_vs.h). */
export function flagBits(names: readonly string[]): number {
  return names.reduce((bits, name) => bits | (name.endsWith('-fallback') ? FLAG_1 : name.endsWith('-port') ? FLAG_2 : 0), 0);
}
