/**
 * Probe output written by hand, as the real commands print it, and "already done" facts made
 * from a desired state (what a host that is exactly right would report).
 */
import { procPath } from '../../src/resources/sysctl/keys.js';
import { createHash } from 'node:crypto';
import type { AddressDesired } from '../../src/resources/address/index.js';
import type { FileDesired } from '../../src/resources/file/index.js';
import type { LdirectordDesired } from '../../src/resources/ldirectord/index.js';
import { PART_MARK } from '../../src/resources/sections.js';
import type { BootDesired } from '../../src/resources/boot/index.js';
import type { SysctlDesired } from '../../src/resources/sysctl/index.js';

/** What `framed(name, …)` prints around a fragment's output: a blank line, then the marker. */
export function section(name: string, output: string, mark: string = PART_MARK): string {
  return `\n${mark} ${name}@@\n${output}`;
}

/** Several framed sections, in order. */
export function sections(parts: [string, string][], mark: string = PART_MARK): string {
  return parts.map(([name, output]) => section(name, output, mark)).join('');
}

const VALID = '\\       valid_lft forever preferred_lft forever';

/**
 * One `ip -o addr show` line, with the "\   valid_lft …" tail iproute2 prints; `label` is the last
 * word for IPv4 (eth0:1), and `link` the "@NONE" some devices carry (tunl0@NONE).
 */
export function ipLine(index: number, device: string, cidr: string, extra: { brd?: string; scope?: string; label?: string; link?: string } = {}): string {
  const v6 = cidr.includes(':');
  const scope = extra.scope ?? 'global';
  const brd = extra.brd ? ` brd ${extra.brd}` : '';
  const tail = v6 ? ' ' : ` ${extra.label ?? device}`;
  return `${index}: ${device}${extra.link ?? ''}    ${v6 ? 'inet6' : 'inet'} ${cidr}${brd} scope ${scope}${tail}${VALID}`;
}

/** /proc/net/route as the kernel prints it, with a default route via `gateway` when given. */
export function procRoute(gateway = ''): string {
  const head = 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n';
  const hex = (ip: string) => ip.split('.').map(Number).reverse().map((b) => b.toString(16).padStart(2, '0')).join('').toUpperCase();
  const local = 'eth0\t0002000C\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n';
  return head + (gateway ? `eth0\t00000000\t${hex(gateway)}\t0003\t0\t0\t0\t00000000\t0\t0\t0\n` : '') + local;
}

/**
 * The address probe's output: `ip -o addr show` lines (with their tails), tunl0's flags (absent
 * when there is no tunl0), /proc/net/route, and lvsplay's record (absent when `record` is undefined).
 */
export function addressProbe(rawLines: string[], tunl0: 'up' | 'down' | 'none' = 'none', defaultRoute = '', record?: string[]): string {
  const flags = tunl0 === 'up' ? '0x41\n' : tunl0 === 'down' ? '0x80\n' : '';
  return sections([
    ['addr', rawLines.map((l) => `${l}\n`).join('')],
    ['tunl0', flags],
    ['route', procRoute(defaultRoute)],
    ['record', record === undefined ? '@@absent\n' : record.map((l) => `${l}\n`).join('')],
  ]);
}

/** The usual addresses of a host: lo (IPv4 and IPv6), eth0 (IPv4 with brd, IPv6 global and link-local). */
export function baseLines(address: string, address6?: string, prefix = 24): string[] {
  const broadcast = address.replace(/\.\d+$/, '.255');
  return [
    ipLine(1, 'lo', '127.0.0.1/8', { scope: 'host' }),
    ipLine(1, 'lo', '::1/128', { scope: 'host' }),
    ipLine(2, 'eth0', `${address}/${prefix}`, { brd: broadcast }),
    ...(address6 ? [ipLine(2, 'eth0', `${address6}/64`)] : []),
    ipLine(2, 'eth0', 'fe80::5054:ff:fe12:3456/64', { scope: 'link' }),
  ];
}

/** How `stat -c %a` prints a mode: octal without leading zeros ("0644" → "644", "0000" → "0"). */
export const statMode = (mode: string) => Number.parseInt(mode, 8).toString(8);

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The file probe's output for a file with `content` (or `absent`). */
export function fileProbeOutput(content: string | undefined, mode = '644', owner = 'root:root'): string {
  if (content === undefined) return 'absent\n';
  return `present ${mode} ${owner}\n${Buffer.from(content).toString('base64')}\n`;
}

/** The sysctl probe's `values` part: `key=value`, or `key=<absent>` for a key the kernel lacks. */
export function sysctlValues(values: [string, string | undefined][]): string {
  return values.map(([k, v]) => (v === undefined ? `@@absent ${procPath(k)}\n` : `${procPath(k)}:${v}\n`)).join('');
}

/** The sysctl probe's `record` part: each recorded path with its value before lvsplay, then current values. */
export function sysctlRecord(entries: [string, string][], now: [string, string][] = []): string {
  return entries.map(([path, was]) => `@@was ${path} ${was}\n`).join('') + now.map(([path, value]) => `${path}:${value}\n`).join('');
}

/** Facts of a host that already is as `desired` says, per resource. */
export const satisfied = {
  sysctl(desired: SysctlDesired): string {
    const values = section('values', sysctlValues(desired.values.map((v) => [v.key, v.value])));
    return values + (desired.file ? section('file', fileProbeOutput(desired.file.content, statMode(desired.file.mode))) : '');
  },
  address(desired: AddressDesired, host: { address: string; address6?: string }): string {
    const lines = baseLines(host.address, host.address6);
    for (const a of desired.present) {
      const index = a.device === 'lo' ? 1 : a.device === 'tunl0' ? 5 : 2;
      lines.push(ipLine(index, a.device, `${a.address}/${a.prefix}`, { ...(a.broadcast && { brd: a.broadcast }), ...(a.device === 'tunl0' && { link: '@NONE' }) }));
    }
    return addressProbe(lines, desired.tunnel ? 'up' : 'none', desired.gateway ?? '', desired.present.map((a) => `${a.address}/${a.prefix} ${a.device}`).sort());
  },
  file(desired: FileDesired): string {
    return fileProbeOutput(desired.content, statMode(desired.mode));
  },
  ldirectord(desired: LdirectordDesired): string {
    const daemon = section('daemon', 'daemon running\nsystemd no\nenabled no\n');
    if (!desired.file) return section('file', 'absent\n') + section('dropin', 'absent\n') + daemon;
    return section('file', fileProbeOutput(desired.file.content, statMode(desired.file.mode))) + section('dropin', 'absent\n') + daemon;
  },
  boot(desired: BootDesired): string {
    if (!desired.persist) return '';
    const state = `systemd yes\n${desired.units.map((u) => `enabled ${u}\n`).join('')}`;
    return section('state', state) + desired.files.map((f, i) => section(`file${i}`, fileProbeOutput(f.content, statMode(f.mode)))).join('');
  },
  package(names: string[], state: 'present' | 'absent'): string {
    return names.map((n) => `${n} ${state === 'present' ? 'installed' : 'absent'}\n`).join('');
  },
  service(state: 'started' | 'stopped', enabled: boolean | undefined): string {
    return `active ${state === 'started' ? 'active' : 'inactive'}\nenabled ${enabled === false ? 'disabled' : 'enabled'}\n`;
  },
};
