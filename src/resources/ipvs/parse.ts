/**
 * Parsers for what ipvsadm prints: `ipvsadm -S -n` (the rules: every option ipvsadm 1.31 can print)
 * and `ipvsadm -L -n --thresholds` (the -x/-y thresholds, which -S never saves, and the
 * ActiveConn/InActConn counts that graceful removal needs). Strict on purpose: a token we do not
 * understand is an error naming its line, never skipped, because a misread table turns into a
 * wrong plan.
 */
import { isIPv4, isIPv6 } from 'node:net';
import ipaddr from 'ipaddr.js';
import { canonicalAddress } from '../../inventory/addresses.js';
import { destLine, serviceLine } from './lines.js';
import { lineSpec } from './forms.js';
import { DEFAULT_PERSISTENCE, type Destination, emptyTable, type IpvsTable, MAX_PERSISTENCE, MAX_THRESHOLD, type Method, normalTunnel, PE_NAME, SCHEDULER_NAME, type ServiceKey, type TunnelChecksum, type TunnelType, type VirtualService, sortedDests } from './table.js';
import { flagBit, keyFamily, serviceKey, destKey, defaultNetmask } from './forms.js';
import { cWords } from '../../util/c-space.js';
import { own } from '../../util/own.js';

/** A probe that cannot be trusted: ipvsadm missing, ip_vs not loadable, or output we cannot read. */
export class IpvsProbeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IpvsProbeError';
  }
}

class LineError extends Error {}

/** Reads one line's tokens left to right; every complaint names the token. */
class Tokens {
  private i = 0;
  constructor(private readonly tokens: string[]) {}

  get done(): boolean {
    return this.i >= this.tokens.length;
  }

  peek(): string | undefined {
    return this.tokens[this.i];
  }

  next(): string {
    return this.tokens[this.i++]!;
  }

  value(option: string, what: string): string {
    const v = this.tokens[this.i++];
    if (v === undefined) throw new LineError(`${option} needs ${what}`);
    return v;
  }
}

/**
 * A firewall mark as ipvsadm prints it: with printf's %d, so a mark of 2^31 or more reads as a
 * negative number (4294967295 is "-1"). Read back as the unsigned mark the kernel holds.
 */
function fwmarkValue(text: string): number {
  if (!/^-?\d{1,10}$/.test(text)) throw new LineError(`expected a firewall mark, got "${text}"`);
  const n = Number(text);
  const mark = n < 0 ? n + 2 ** 32 : n;
  if (n < -(2 ** 31) || mark < 1 || mark > 4294967295) throw new LineError(`expected a firewall mark (1..4294967295, printed signed), got "${text}"`);
  return mark;
}

function integer(text: string, min: number, max: number, what: string): number {
  if (!/^\d{1,10}$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new LineError(`expected ${what} (${min}..${max}), got "${text}"`);
  }
  return Number(text);
}

const CANONICAL_V4 = /^(0|[1-9][0-9]{0,2})(\.(0|[1-9][0-9]{0,2})){3}$/;

/** `192.0.2.10:80` or `[2001:db8::10]:80` (as ipvsadm prints with -n); without a port only when allowed. */
function addressPort(text: string, what: string, portOptional = false): { address: string; port: number | undefined } {
  let address: string;
  let port: string | undefined;
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(text);
  if (v6) {
    [, address = '', port] = v6;
    if (!isIPv6(address)) throw new LineError(`expected an IPv6 ${what}, got "${text}"`);
  } else {
    const colon = text.lastIndexOf(':');
    address = colon < 0 ? text : text.slice(0, colon);
    port = colon < 0 ? undefined : text.slice(colon + 1);
    if (!isIPv4(address)) throw new LineError(`expected an ${what} like 192.0.2.10:80 or [2001:db8::10]:80, got "${text}"`);
    if (port === undefined && !portOptional) throw new LineError(`expected ${what} with a port, got "${text}"`);
  }
  // ipvsadm prints IPv4 as inet_ntop does (already canonical); only IPv6 needs the RFC 5952 form.
  const canonical = v6 || !CANONICAL_V4.test(address) ? canonicalAddress(address) : address;
  return { address: canonical, port: port === undefined ? undefined : integer(port, 0, 65535, 'a port') };
}

/** The service part of a line: -t/-u/--sctp-service ADDR:PORT, or -f MARK [-6]. */
function readServiceKey(t: Tokens): ServiceKey {
  const option = t.next();
  switch (option) {
    case '-t': case '-u': case '--sctp-service': {
      const { address, port } = addressPort(t.value(option, 'an address:port'), 'address:port');
      const protocol = option === '-t' ? 'tcp' : option === '-u' ? 'udp' : 'sctp';
      return { kind: 'inet', protocol, address, port: port! };
    }
    case '-f': {
      const fwmark = fwmarkValue(t.value(option, 'a firewall mark'));
      if (t.peek() === '-6') {
        t.next();
        return { kind: 'fwmark', fwmark, family: 'ipv6' };
      }
      return { kind: 'fwmark', fwmark, family: 'ipv4' };
    }
    default:
      throw new LineError(`expected the service (-t, -u, --sctp-service or -f), got "${option ?? ''}"`);
  }
}

function once(seen: Set<string>, option: string, group = option): void {
  if (seen.has(group)) throw new LineError(`${option} given twice`);
  seen.add(group);
}

/**
 * ipvsadm reads -M with inet_aton, so a foreign rule may carry any dotted quad, contiguous or not
 * (255.0.255.0); it prints it back dotted. lvsplay's own services only ever have contiguous masks.
 */
function isDottedQuad(mask: string): boolean {
  return ipaddr.IPv4.isValidFourPartDecimal(mask);
}

function readService(t: Tokens): VirtualService {
  const key = readServiceKey(t);
  const family = keyFamily(key);
  const seen = new Set<string>();
  let scheduler = 'wlc';
  let timeout: number | undefined;
  let netmask: string | undefined;
  let pe: string | undefined;
  let onePacket = false;
  let flagText: string | undefined;
  while (!t.done) {
    const option = t.next();
    switch (option) {
      case '-s':
        once(seen, option);
        scheduler = t.value(option, 'a scheduler name');
        if (!SCHEDULER_NAME.test(scheduler)) throw new LineError(`expected a scheduler name, got "${scheduler}"`);
        break;
      case '-p': {
        once(seen, option);
        const next = t.peek();
        timeout = next === undefined || next.startsWith('-') ? DEFAULT_PERSISTENCE : integer(t.next(), 1, MAX_PERSISTENCE, 'a persistence timeout');
        break;
      }
      case '-M':
        once(seen, option);
        netmask = t.value(option, 'a netmask');
        if (family === 'ipv4' ? !isDottedQuad(netmask) : !/^\d{1,3}$/.test(netmask) || Number(netmask) < 1 || Number(netmask) > 128) {
          throw new LineError(`expected ${family === 'ipv4' ? 'a dotted IPv4 netmask' : 'an IPv6 prefix length (1..128)'} after -M, got "${netmask}"`);
        }
        netmask = family === 'ipv4' ? ipaddr.IPv4.parse(netmask).toString() : String(Number(netmask));
        break;
      case '--pe':
        once(seen, option);
        pe = t.value(option, 'a persistence engine name');
        if (!PE_NAME.test(pe)) throw new LineError(`expected a persistence engine name, got "${pe}"`);
        break;
      case '-o':
        once(seen, option);
        onePacket = true;
        break;
      case '-b': {
        once(seen, option);
        // ipvsadm prints a bare "-b" when the only flag set is one it has no name for (flag-3 on sh/mh).
        const next = t.peek();
        flagText = next === undefined || next.startsWith('-') ? 'flag-3' : t.next();
        break;
      }
      default:
        throw new LineError(`unknown option "${option}" for a virtual service`);
    }
  }
  if (netmask !== undefined && timeout === undefined) throw new LineError('-M without -p: ipvsadm prints a netmask only for a persistent service');
  let flags = 0;
  for (const name of flagText?.split(',') ?? []) {
    const bit = flagBit(name, scheduler);
    if (typeof bit === 'string') throw new LineError(bit);
    flags |= bit;
  }
  return {
    key, scheduler, flags, onePacket, dests: new Map(),
    ...(timeout !== undefined && { persistence: { timeout, netmask: netmask ?? defaultNetmask(family) } }),
    ...(pe !== undefined && { pe }),
  };
}

function readDest(t: Tokens, service: VirtualService): Destination {
  const seen = new Set<string>();
  let target: { address: string; port: number | undefined } | undefined;
  let method: Method = 'dr';
  let weight = 1;
  let upper = 0;
  let lower = 0;
  let tunType: TunnelType | undefined;
  let tunPort: number | undefined;
  let checksum: TunnelChecksum | undefined;
  while (!t.done) {
    const option = t.next();
    switch (option) {
      case '-r':
        once(seen, option);
        target = addressPort(t.value(option, 'the real server address:port'), 'real server address:port', true);
        break;
      case '-g': case '-i': case '-m':
        once(seen, option, 'forwarding method (-g, -i, -m)');
        method = option === '-g' ? 'dr' : option === '-i' ? 'tun' : 'nat';
        break;
      case '-w':
        once(seen, option);
        weight = integer(t.value(option, 'a weight'), 0, 65535, 'a weight');
        break;
      case '-x':
        once(seen, option);
        upper = integer(t.value(option, 'an upper threshold'), 0, MAX_THRESHOLD, 'an upper threshold');
        break;
      case '-y':
        once(seen, option);
        lower = integer(t.value(option, 'a lower threshold'), 0, MAX_THRESHOLD, 'a lower threshold');
        break;
      case '--tun-type': {
        once(seen, option);
        const type = t.value(option, 'a tunnel type');
        if (type !== 'ipip' && type !== 'gue' && type !== 'gre') throw new LineError(`expected a tunnel type (ipip, gue, gre), got "${type}"`);
        tunType = type;
        break;
      }
      case '--tun-port':
        once(seen, option);
        tunPort = integer(t.value(option, 'a tunnel port'), 1, 65535, 'a tunnel port');
        break;
      case '--tun-nocsum': case '--tun-csum': case '--tun-remcsum':
        once(seen, option, 'tunnel checksum option (--tun-nocsum, --tun-csum, --tun-remcsum)');
        checksum = option.slice('--tun-'.length) as TunnelChecksum;
        break;
      default:
        throw new LineError(`unknown option "${option}" for a real server`);
    }
  }
  if (target === undefined) throw new LineError('a real server line without -r');
  if (method !== 'tun' && (tunType !== undefined || tunPort !== undefined || checksum !== undefined)) {
    throw new LineError('tunnel options on a real server that is not -i');
  }
  const type = tunType ?? 'ipip';
  if (method === 'tun') {
    if (type === 'ipip' && (tunPort !== undefined || checksum !== undefined)) throw new LineError('an ipip tunnel takes no --tun-port or checksum option');
    if (type === 'gue' && tunPort === undefined) throw new LineError('a gue tunnel needs --tun-port');
    if (type === 'gre' && (tunPort !== undefined || checksum === 'remcsum')) throw new LineError('a gre tunnel takes no --tun-port or --tun-remcsum');
  }
  // ipvsadm copies the service port when -r has none (IPv4 only; fwmark services have port 0).
  const port = target.port ?? (service.key.kind === 'inet' ? service.key.port : 0);
  return {
    address: target.address, port, method, weight, upperThreshold: upper, lowerThreshold: lower,
    ...(method === 'tun' && { tunnel: normalTunnel({ type, port: tunPort, checksum }) }),
  };
}

/**
 * The lines with something on them, as `ipvsadm -R` reads them (its config_stream ignores a line
 * from a `#` on: Debian's `ipvsadm save` file begins with `# ipvsadm.rules`). Words are split where
 * ipvsadm splits them (cWords): a no-break space is part of a word, and `ipvsadm -R` refuses it.
 */
function lines(text: string): { n: number; line: string }[] {
  return text.split('\n').map((line, i) => ({ n: i + 1, line: line.replace(/\r$/, '').replace(/#.*$/, '') })).filter(({ line }) => cWords(line).length > 0);
}

/** The first line of every `ipvsadm -L` listing. */
const LISTING_HEADER = /^IP Virtual Server version /;

/** The line number of a listing's header when `text` is a listing (`ipvsadm -L ...`), not a save. */
export function listingHeaderLine(text: string): number | undefined {
  const first = lines(text)[0];
  return first && LISTING_HEADER.test(cWords(first.line).join(' ')) ? first.n : undefined;
}

/**
 * `ipvsadm -S -n` → a table (thresholds 0 and no connection counts: -S does not print them).
 * A service whose lines cannot be read is kept aside, as its raw lines, under its printed spec
 * (`-t 192.0.2.10:80`): it may be someone else's rule lvsplay has no reason to understand. The diff
 * decides: opaque and not lvsplay's is left alone; opaque and lvsplay's is an error.
 */
export function parseSave(text: string, source = 'ipvsadm -S -n'): IpvsTable {
  const table = emptyTable();
  const opaque: NonNullable<IpvsTable['opaque']> = new Map();
  const keyOfSpec = new Map<string, string>();
  for (const { n, line } of lines(text)) {
    const spec = lineSpec(line);
    const aside = opaque.get(spec);
    if (aside) {
      aside.lines.push(line);
      continue;
    }
    try {
      const t = new Tokens(cWords(line));
      const verb = t.next();
      if (verb === '-A') {
        const service = readService(t);
        const key = serviceKey(service.key);
        if (table.services.has(key)) throw new LineError(`service ${key} is listed twice`);
        table.services.set(key, service);
        keyOfSpec.set(spec, key);
      } else if (verb === '-a') {
        const key = serviceKey(readServiceKey(t));
        const service = table.services.get(key);
        if (!service) throw new LineError(`real server of service ${key}, which no earlier -A line declares`);
        const dest = readDest(t, service);
        const dk = destKey(dest);
        if (service.dests.has(dk)) throw new LineError(`real server ${dk} is listed twice in ${key}`);
        service.dests.set(dk, dest);
      } else {
        throw new LineError(`expected -A or -a (all that ipvsadm -S prints), got "${verb}"`);
      }
    } catch (err) {
      if (!(err instanceof LineError)) throw err;
      // The whole service goes aside, lines already read included.
      const key = keyOfSpec.get(spec);
      const earlier = key ? [...serviceLines(table, key)] : [];
      if (key) table.services.delete(key);
      opaque.set(spec, { lines: [...earlier, line], line: n, reason: err.message, error: `cannot read ${source} output, line ${n}: ${err.message}: ${line.trim()}` });
    }
  }
  if (opaque.size > 0) table.opaque = opaque;
  return table;
}

/** The lines a parsed service came from, in save form (to keep them when it goes aside). */
function serviceLines(table: IpvsTable, key: string): string[] {
  const s = table.services.get(key)!;
  return [serviceLine('-A', s, 'printed'), ...sortedDests(s).map((d) => destLine('-a', s, d, 'never'))];
}

export interface ListedDest {
  upperThreshold: number;
  lowerThreshold: number;
  active: number;
  inactive: number;
}

/** Per service key, per real-server key: what `ipvsadm -L -n --thresholds` shows. */
export type ThresholdList = Map<string, Map<string, ListedDest>>;

const LIST_PROTOCOLS: Record<string, 'tcp' | 'udp' | 'sctp'> = { TCP: 'tcp', UDP: 'udp', SCTP: 'sctp' };

/** A service row: `TCP  192.0.2.10:80 sh (sh-fallback,sh-port) persistent 300 mask 255.255.255.0 pe sip ops`. */
function readListedService(t: Tokens): ServiceKey {
  const key = readListedKey(t);
  const scheduler = t.value('the service', 'a scheduler');
  if (!SCHEDULER_NAME.test(scheduler)) throw new LineError(`expected a scheduler name, got "${scheduler}"`);
  const seen = new Set<string>();
  while (!t.done) {
    const word = t.next();
    if (/^\([a-z0-9,-]*\)$/.test(word)) once(seen, 'flags');
    else if (word === 'persistent') { once(seen, word); integer(t.value(word, 'a timeout'), 1, MAX_PERSISTENCE, 'a persistence timeout'); }
    else if (word === 'mask') { once(seen, word); t.value(word, 'a netmask'); }
    else if (word === 'pe') { once(seen, word); t.value(word, 'an engine name'); }
    else if (word === 'ops') once(seen, word);
    else throw new LineError(`unknown word "${word}" in a service row`);
  }
  return key;
}

/** The start of a listed service row: `TCP  192.0.2.10:80`, `FWM  7 IPv6`. */
function readListedKey(t: Tokens): ServiceKey {
  const prot = t.next();
  let key: ServiceKey;
  if (prot === 'FWM') {
    const fwmark = fwmarkValue(t.value('FWM', 'a firewall mark'));
    const v6 = t.peek() === 'IPv6';
    if (v6) t.next();
    key = { kind: 'fwmark', fwmark, family: v6 ? 'ipv6' : 'ipv4' };
  } else if (own(LIST_PROTOCOLS, prot)) {
    const { address, port } = addressPort(t.value(prot, 'an address:port'), 'address:port');
    key = { kind: 'inet', protocol: own(LIST_PROTOCOLS, prot)!, address, port: port! };
  } else {
    throw new LineError(`expected a service row (TCP, UDP, SCTP or FWM) or a real server row (->), got "${prot}"`);
  }
  return key;
}

/** `ipvsadm -L -n --thresholds` → thresholds and connection counts per real server. */
export function parseThresholds(text: string, source = 'ipvsadm -L -n --thresholds', onUnreadable?: (line: number, message: string) => void): ThresholdList {
  const list: ThresholdList = new Map();
  const rows = lines(text);
  const [version, title, subtitle] = rows;
  if (!version || !/^IP Virtual Server version \d+\.\d+\.\d+ \(size=\d+\)$/.test(version.line)) {
    throw new IpvsProbeError(`cannot read ${source} output: expected "IP Virtual Server version X.Y.Z (size=N)" first, got ${version ? JSON.stringify(version.line) : 'nothing'}`);
  }
  if (!title || !/^Prot LocalAddress:Port\s+Uthreshold\s+Lthreshold\s+ActiveConn\s+InActConn\s*$/.test(title.line)
    || !subtitle || subtitle.line.trim() !== '-> RemoteAddress:Port') {
    throw new IpvsProbeError(`cannot read ${source} output, line ${title?.n ?? 2}: expected the --thresholds column titles`);
  }
  let current: Map<string, ListedDest> | undefined;
  let currentKey = '';
  let skipping = false;
  for (const { line, n } of rows.slice(3)) {
    if (skipping && line.trim().startsWith('->')) continue;
    skipping = false;
    try {
      const t = new Tokens(cWords(line));
      if (t.peek() === '->') {
        t.next();
        if (!current) throw new LineError('a real server row before any service row');
        const { address, port } = addressPort(t.value('->', 'an address:port'), 'real server address:port');
        const numbers = [0, 1, 2, 3].map(() => integer(t.value('the real server', 'four numbers'), 0, 4294967295, 'a count'));
        if (!t.done) throw new LineError(`unexpected "${t.next()}" after the four counts`);
        const dk = destKey({ address, port: port! });
        if (current.has(dk)) throw new LineError(`real server ${dk} is listed twice in ${currentKey}`);
        const [upperThreshold, lowerThreshold, active, inactive] = numbers as [number, number, number, number];
        current.set(dk, { upperThreshold, lowerThreshold, active, inactive });
      } else {
        currentKey = serviceKey(readListedService(t));
        if (list.has(currentKey)) throw new LineError(`service ${currentKey} is listed twice`);
        current = new Map();
        list.set(currentKey, current);
      }
    } catch (err) {
      if (!(err instanceof LineError)) throw err;
      // A service row (or one of its rows) that cannot be read: its counts are unknown, which
      // graceful removal treats as "may have connections"; the rest of the list still counts.
      onUnreadable?.(n, err.message);
      current = undefined;
      skipping = true;
    }
  }
  return list;
}

/** Per service key: its own counters and each real server's (by destKey), as a counters listing shows them. */
export type CounterList = Map<string, { totals: number[]; dests: Map<string, number[]> }>;

/**
 * `ipvsadm -L -n --stats --exact` (Conns InPkts OutPkts InBytes OutBytes) or `--rate --exact`
 * (CPS InPPS OutPPS InBPS OutBPS): five numbers on every service row and every real server row.
 * Unlike the table lvsplay changes, these are only shown: a row that cannot be read is an error.
 */
export function parseCounters(text: string, columns: readonly string[], source: string): CounterList {
  const list: CounterList = new Map();
  const rows = lines(text);
  const [version, title, subtitle] = rows;
  if (!version || !LISTING_HEADER.test(version.line)) throw new IpvsProbeError(`cannot read ${source} output: expected "IP Virtual Server version" first`);
  if (!title || title.line.trim().split(/\s+/).slice(2).join(' ') !== columns.join(' ') || subtitle?.line.trim() !== '-> RemoteAddress:Port') {
    throw new IpvsProbeError(`cannot read ${source} output, line 2: expected the column titles ${columns.join(' ')}`);
  }
  let current: Map<string, number[]> | undefined;
  for (const { n, line } of rows.slice(3)) {
    try {
      const t = new Tokens(cWords(line));
      const dest = t.peek() === '->';
      let key = '';
      if (dest) {
        t.next();
        const { address, port } = addressPort(t.value('->', 'an address:port'), 'real server address:port');
        key = destKey({ address, port: port! });
      } else key = serviceKey(readListedKey(t));
      const numbers = columns.map((c) => integer(t.value(c, 'a count'), 0, Number.MAX_SAFE_INTEGER, c));
      if (!t.done) throw new LineError(`unexpected "${t.next()}" after the ${columns.length} counters`);
      if (!dest) list.set(key, { totals: numbers, dests: (current = new Map()) });
      else if (!current) throw new LineError('a real server row before any service row');
      else current.set(key, numbers);
    } catch (err) {
      if (!(err instanceof LineError)) throw err;
      throw new IpvsProbeError(`cannot read ${source} output, line ${n}: ${err.message}`);
    }
  }
  return list;
}

/**
 * Fill a parsed save with what the list shows: thresholds and connection counts. The two come from
 * two ipvsadm calls, so a real server that appeared in between has no counts (conns stays
 * undefined, which graceful removal treats as "may have connections").
 */
export function withThresholds(table: IpvsTable, list: ThresholdList): IpvsTable {
  for (const [key, service] of table.services) {
    const listed = list.get(key);
    for (const [dk, dest] of service.dests) {
      const row = listed?.get(dk);
      if (!row) continue;
      dest.upperThreshold = row.upperThreshold;
      dest.lowerThreshold = row.lowerThreshold;
      dest.conns = { active: row.active, inactive: row.inactive };
    }
  }
  return table;
}

/**
 * One probe part: the command's stdout, then a trailer line the probe adds, `# lvsplay: ok` or
 * `# lvsplay: error <why>` (ipvsadm missing, ip_vs not loadable, a non-zero exit, stderr output).
 * A part without a trailer was cut short. Returns the stdout; throws on anything else.
 */
export function probePart(part: string | undefined, command: string): string {
  if (part === undefined) throw new IpvsProbeError(`the probe printed no ${command} section`);
  const body = part.replace(/\n+$/, '');
  const cut = body.lastIndexOf('\n');
  const trailer = body.slice(cut + 1);
  const output = cut < 0 ? '' : body.slice(0, cut + 1);
  if (trailer === '# lvsplay: ok') return output;
  const error = /^# lvsplay: error (.*)$/.exec(trailer);
  if (error) throw new IpvsProbeError(`${command}: ${error[1]}`);
  throw new IpvsProbeError(`the ${command} section of the probe is incomplete (no "# lvsplay:" trailer)`);
}
