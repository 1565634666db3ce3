/**
 * The services a keepalived.conf declares, read from the probe of its `virtual_server`,
 * `protocol` and `ip_family` lines (templates/keepalived/virtuals.sh.hbs), with keepalived's own
 * defaults: protocol TCP, a firewall mark's family IPv4 unless `ip_family inet6`. The ipvs task
 * reads them too: a service keepalived has and lvsplay now wants is one keepalived releases.
 */
import { canonicalAddress } from '../../inventory/addresses.js';
import { KEEPALIVED_CONF } from '../../inventory/host-files.js';
import type { Templates } from '../../templates/templates.js';
import { serviceKey } from '../ipvs/forms.js';
import type { ServiceKey } from '../ipvs/table.js';

/** Where keepalived reads its config (the packaged unit and `keepalived` alike). */
/** The first line of every keepalived.conf lvsplay writes: how it knows a config is its own. */
export const HEADER = '# Managed by lvsplay';
/**
 * Keywords of keepalived.conf whose line may hold a secret: cut after the keyword wherever the file
 * is shown, and never kept by the import (import/keepalived-syntax.ts).
 */
export const REDACT = ['auth_pass', 'password'];

/** keepalived's VRRP password is at most 8 bytes: vrrp_auth_pass_handler truncates the rest, with a warning. */
export const VRRP_PASS_MAX = 8;

/** A password keepalived.conf reads as one plain word: printable ASCII, no quote, backslash, comment, definition or brace. */
export const writableVrrpPass = (value: string): boolean => /^[!-~]+$/.test(value) && !/["'\\#!${}]/.test(value);

export function keepalivedVirtualsProbe(templates: Templates): string {
  return templates.render('keepalived/virtuals.sh.hbs', { path: KEEPALIVED_CONF, header: HEADER });
}

export interface KeepalivedConfFacts {
  /** The file's first line is lvsplay's header. */
  ours: boolean;
  keys: Map<string, ServiceKey>;
}

export function parseKeepalivedVirtuals(output: string): KeepalivedConfFacts {
  const blocks: { target: string[]; protocol?: string; family?: string }[] = [];
  let ours = false;
  for (const raw of output.split('\n')) {
    if (raw === 'header lvsplay') ours = true;
    if (!raw.startsWith('line ')) continue;
    const words = raw.slice(5).replace(/[#!].*$/, '').trim().split(/\s+/);
    const [keyword, ...args] = words;
    if (keyword === 'virtual_server') blocks.push({ target: args.filter((a) => a !== '{') });
    else if (keyword === 'protocol' && blocks.length > 0) blocks[blocks.length - 1]!.protocol = (args[0] ?? '').toLowerCase();
    else if (keyword === 'ip_family' && blocks.length > 0) blocks[blocks.length - 1]!.family = args[0];
  }
  const keys = new Map<string, ServiceKey>();
  for (const b of blocks) {
    const key = toKey(b.target, b.protocol, b.family);
    if (key) keys.set(serviceKey(key), key);
  }
  return { ours, keys };
}

export function keepalivedKeys(output: string): Map<string, ServiceKey> {
  return parseKeepalivedVirtuals(output).keys;
}

function toKey(target: string[], protocol: string | undefined, family: string | undefined): ServiceKey | undefined {
  const [first, second] = target;
  if (first === undefined || first === 'group') return undefined;
  if (first === 'fwmark') {
    return second !== undefined && /^\d+$/.test(second) ? { kind: 'fwmark', fwmark: Number(second), family: family === 'inet6' ? 'ipv6' : 'ipv4' } : undefined;
  }
  const port = second === undefined ? 0 : Number(second);
  if (!Number.isInteger(port) || port < 0 || port > 65535) return undefined;
  const proto = protocol === 'udp' || protocol === 'sctp' ? protocol : 'tcp';
  try {
    return { kind: 'inet', protocol: proto, address: canonicalAddress(first), port };
  } catch {
    return undefined;
  }
}
