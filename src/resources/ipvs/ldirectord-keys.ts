/**
 * The services an ldirectord.cf declares, read from its `virtual=`/`virtual6=` lines and the
 * `protocol=` line of each block, with ldirectord's own defaults (read_config in ldirectord 4.12):
 * a number is a firewall mark (fwm), port 53 is udp, anything else tcp.
 */
import { canonicalAddress } from '../../inventory/addresses.js';
import { serviceKey } from './forms.js';
import type { ServiceKey } from './table.js';

/**
 * Keys of ldirectord.cf whose line may hold a secret (a check's `passwd=`, RADIUS `secret=`): cut
 * after the key wherever the file is shown, and never quoted by the import (import/ldirectord-cf.ts).
 */
export const REDACT = ['secret', 'passwd']; // in this order: the text a passwd line becomes says "secret"

export function ldirectordKeys(text: string): Map<string, ServiceKey> {
  const keys = new Map<string, ServiceKey>();
  const blocks: { family: 'ipv4' | 'ipv6'; target: string; protocol?: string }[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    const virtual = /^virtual(6?)\s*=\s*(\S+)/.exec(line);
    if (virtual) blocks.push({ family: virtual[1] === '6' ? 'ipv6' : 'ipv4', target: virtual[2]! });
    const protocol = /^protocol\s*=\s*(\S+)/.exec(line);
    if (protocol && blocks.length > 0) blocks[blocks.length - 1]!.protocol = protocol[1]!.toLowerCase();
  }
  for (const b of blocks) {
    const key = toKey(b.family, b.target, b.protocol);
    if (key) keys.set(serviceKey(key), key);
  }
  return keys;
}

function toKey(family: 'ipv4' | 'ipv6', target: string, protocol: string | undefined): ServiceKey | undefined {
  if (/^\d+$/.test(target)) return { kind: 'fwmark', fwmark: Number(target), family };
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(target);
  if (!m) return undefined;
  const port = Number(m[3]);
  const proto = protocol === 'udp' || protocol === 'tcp' ? protocol : port === 53 ? 'udp' : 'tcp';
  try {
    return { kind: 'inet', protocol: proto, address: canonicalAddress(m[1] ?? m[2]!), port };
  } catch {
    return undefined;
  }
}
