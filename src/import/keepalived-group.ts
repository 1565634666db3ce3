/**
 * keepalived's `virtual_server_group NAME { ... }`: the IPVS services a `virtual_server group NAME`
 * block stands for. keepalived makes one IPVS service of each address and port (and of each mark)
 * of the group, all with the block's scheduler, real servers and checkers; the inventory says each
 * as its own service. Entries, as keepalived's alloc_vsg_entry reads them:
 *   ADDRESS [PORT]                 PORT absent or 0: the service of every port
 *   A.B.C.D-E  [PORT]              the last byte from D to E (IPv6: the last group, in hex)
 *   ADDRESS-ADDRESS [PORT]         every address from the first to the second
 *   ADDRESS/PREFIX [PORT]          every address of the subnet (its host bits must be zero)
 *   fwmark N [inet|inet6]          a mark; without a family, the block's ip_family (else IPv4)
 */
import { isIPv4, isIPv6 } from 'node:net';
import { addressNumber, numberAddress } from '../inventory/addresses.js';
import { serviceKey } from '../resources/ipvs/forms.js';
import type { ServiceKey } from '../resources/ipvs/table.js';
import type { Problem } from '../util/problems.js';
import type { Report } from './report.js';
import { origin, problemAt, type Statement } from './keepalived-syntax.js';

/**
 * The most services one group may stand for: a /24 of VIPs. keepalived would make a /16's 65,536;
 * an inventory of that many copies of one service is better said as one fwmark service.
 */
const GROUP_LIMIT = 256;

/** One line of a group: a mark, or addresses (canonical) with a port (0: every port). */
type GroupEntry = { at: Statement } & ({ fwmark: number; family?: 'ipv4' | 'ipv6' } | { addresses: string[]; port: number });

export interface VirtualServerGroup {
  at: Statement;
  entries: GroupEntry[];
}

/** The top-level virtual_server_group blocks by name (the first of a name, as keepalived looks them up). */
export function readGroups(statements: readonly Statement[], report: Report, problems: Problem[]): Map<string, VirtualServerGroup> {
  const groups = new Map<string, VirtualServerGroup>();
  for (const s of statements) {
    if (s.keyword !== 'virtual_server_group') continue;
    const name = s.args[0] ?? '';
    const first = groups.get(name);
    if (first) {
      report.notExpressed(origin(s), `a second virtual_server_group ${name}: keepalived uses the first (line ${first.at.line})`);
      continue;
    }
    groups.set(name, { at: s, entries: (s.block ?? []).flatMap((e) => readEntry(e, report, problems)) });
  }
  return groups;
}

function readEntry(e: Statement, report: Report, problems: Problem[]): GroupEntry[] {
  const words = [e.keyword, ...e.args];
  if (e.block !== undefined) {
    problems.push(problemAt(e, `expected ADDRESS [PORT] or fwmark N [inet|inet6] in virtual_server_group, got a block`));
    return [];
  }
  if (e.keyword === 'fwmark') {
    const [, mark = '', family] = words;
    if (!/^\d+$/.test(mark) || Number(mark) < 1 || Number(mark) > 4294967295 || words.length > 3 || (family !== undefined && family !== 'inet' && family !== 'inet6')) {
      problems.push(problemAt(e, `expected fwmark N (1..4294967295) [inet|inet6], got ${JSON.stringify(words.join(' '))}`));
      return [];
    }
    return [{ at: e, fwmark: Number(mark), ...(family !== undefined && { family: family === 'inet6' ? ('ipv6' as const) : ('ipv4' as const) }) }];
  }
  const [range = '', portText = '0'] = words;
  const port = /^0+$/.test(portText) ? 0 : /^\d{1,5}$/.test(portText) && Number(portText) <= 65535 ? Number(portText) : undefined;
  const span = port === undefined || words.length > 2 ? undefined : addressRange(range);
  if (span === undefined || typeof span === 'string') {
    const why = typeof span === 'string' ? `: ${span}` : '';
    problems.push(problemAt(e, `expected ADDRESS[-END|/PREFIX] [PORT] in virtual_server_group, got ${JSON.stringify(words.join(' '))}${why}`));
    return [];
  }
  const count = span.last - span.first + 1n;
  if (count > BigInt(GROUP_LIMIT)) {
    report.notExpressed(origin(e), `${range}: ${count} addresses, a service each; lvsplay imports at most ${GROUP_LIMIT} of a group (a fwmark service says them in one)`);
    return [];
  }
  const addresses: string[] = [];
  for (let n = span.first; n <= span.last; n++) addresses.push(numberAddress(n, span.v6 ? 'ipv6' : 'ipv4'));
  return [{ at: e, addresses, port: port! }];
}

/** The first and last address (as numbers) a range stands for; a string says why it is malformed. */
function addressRange(range: string): { first: bigint; last: bigint; v6: boolean } | string {
  const slash = range.indexOf('/');
  const dash = range.indexOf('-');
  const start = range.slice(0, slash >= 0 ? slash : dash >= 0 ? dash : undefined);
  if (!isIPv4(start) && !isIPv6(start)) return `${JSON.stringify(start)} is not an IP address`;
  const v6 = isIPv6(start);
  const first = addressNumber(start);
  const bits = v6 ? 128n : 32n;
  if (slash >= 0) {
    const prefix = range.slice(slash + 1);
    if (!/^\d{1,3}$/.test(prefix) || Number(prefix) < 1 || BigInt(prefix) > bits) return `the prefix must be 1..${bits}`;
    const host = (1n << (bits - BigInt(prefix))) - 1n;
    if ((first & host) !== 0n) return 'the address has host bits set';
    return { first, last: first | host, v6 };
  }
  if (dash < 0) return { first, last: first, v6 };
  const end = range.slice(dash + 1);
  if (end.includes(v6 ? ':' : '.')) {
    if (v6 ? !isIPv6(end) : !isIPv4(end)) return `${JSON.stringify(end)} is not an ${v6 ? 'IPv6' : 'IPv4'} address`;
    const last = addressNumber(end);
    return last < first ? 'the range ends before it starts' : { first, last, v6 };
  }
  // The last byte (IPv4, decimal) or the last group (IPv6, hex) runs up to `end`.
  const radix = v6 ? 16 : 10;
  if (!(v6 ? /^[0-9a-f]{1,4}$/i : /^\d{1,3}$/).test(end) || Number.parseInt(end, radix) > (v6 ? 0xffff : 255)) return `the range end must be ${v6 ? '0..ffff (hex)' : '0..255'}`;
  const low = v6 ? 0xffffn : 0xffn;
  const last = (first & ~low) | BigInt(Number.parseInt(end, radix));
  return last <= first ? 'the range end is not after its start' : { first, last, v6 };
}

/**
 * The service keys of a `virtual_server group NAME` block (its `protocol`, its `ip_family`), each
 * once, in the group's order.
 */
export function groupKeys(group: VirtualServerGroup, protocol: 'tcp' | 'udp' | 'sctp', ipFamily: 'ipv4' | 'ipv6' | undefined, report: Report): ServiceKey[] {
  const keys = new Map<string, ServiceKey>();
  const seen = new Map<string, Statement>();
  for (const e of group.entries) {
    const own: ServiceKey[] = 'fwmark' in e
      ? [{ kind: 'fwmark', fwmark: e.fwmark, family: e.family ?? ipFamily ?? 'ipv4' }]
      : e.addresses.map((address) => ({ kind: 'inet', protocol, address, port: e.port }));
    for (const key of own) {
      const name = serviceKey(key);
      const before = seen.get(name);
      if (before) report.note(origin(e.at), `${name} is also at line ${before.line} of virtual_server_group ${group.at.args[0] ?? ''}: one IPVS service`);
      else {
        seen.set(name, e.at);
        keys.set(name, key);
      }
    }
  }
  return [...keys.values()];
}
