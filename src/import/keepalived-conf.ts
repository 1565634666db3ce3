/**
 * keepalived.conf → imported services (owned by keepalived) and the VRRP instance of the director
 * whose config it is. keepalived's defaults are kept explicit where lvsplay's differ (lvs_method
 * NAT, protocol UDP); a checker's timing is what keepalived uses: its own value, else the
 * virtual_server's (delay_loop, connect_timeout, retry, delay_before_retry). The first real
 * server's checker becomes the service's health_check; another real server's checker becomes its
 * `check:` with what differs, when inheritance can say it (a field it lacks would be inherited).
 */
import { isIPv4, isIPv6 } from 'node:net';
import { isDeepStrictEqual } from 'node:util';
import ipaddr from 'ipaddr.js';
import type * as z from 'zod';
import { addressFamily, canonicalAddress, hostPort } from '../inventory/addresses.js';
import type { Forwarding } from '../inventory/model.js';
import { InterfaceName, Name } from '../inventory/fields.js';
import { HealthCheck, KEEPALIVED_PORT_CHECKS, type MemberCheckInput, SCHEDULERS, type VrrpPairInput } from '../inventory/schema.js';
import { defaultNetmask, serviceKey } from '../resources/ipvs/forms.js';
import { VRRP_PASS_MAX } from '../resources/keepalived/keys.js';
import type { ServiceKey } from '../resources/ipvs/table.js';
import { InputFileError } from '../util/input-file.js';
import { InputError, type Problem } from '../util/problems.js';
import { distinctServers } from './members.js';
import type { ImportedMember, ImportedService, ImportedVrrp, Origin, Tunnel } from './model.js';
import { programOnly, Report } from './report.js';
import { groupKeys, readGroups, type VirtualServerGroup } from './keepalived-group.js';
import { BLANKS, type IncludeReader, origin, parseKeepalived, problemAt, type Statement } from './keepalived-syntax.js';
import { missingValues } from './keepalived-parameters.js';
import { own } from '../util/own.js';

/** The environment variable the imported inventory reads the VRRP password from. */
export const VRRP_PASS_ENV = 'LVSPLAY_VRRP_PASS';

const METHODS: Record<string, Forwarding> = { DR: 'dr', NAT: 'nat', TUN: 'tun' };
const CHECKERS: Record<string, string> = { TCP_CHECK: 'connect', HTTP_GET: 'http', SSL_GET: 'https', DNS_CHECK: 'dns', MISC_CHECK: 'misc', PING_CHECK: 'ping' };
/** Checker settings a virtual_server gives every checker that does not set its own. */
const VS_TIMING: Record<string, string> = { delay_loop: 'interval', connect_timeout: 'timeout', retry: 'retry', delay_before_retry: 'delay_before_retry' };
/** What a member check inherits from a service check of another type (load.ts memberCheck). */
const TIMING = ['port', 'interval', 'timeout', 'retry', 'delay_before_retry'];
const FLAGS = ['sh-port', 'sh-fallback', 'mh-port', 'mh-fallback'];
/** Keywords whose value keepalived reads as a whole number: anything else is malformed input. */
const NUMERIC = ['quorum', 'hysteresis', 'weight', 'uthreshold', 'lthreshold'];

/** One address keepalived's VRRP instance holds (virtual_ipaddress and _excluded). */
export interface HeldAddress extends Origin {
  address: string;
  prefix: number;
  dev?: string;
  label?: string;
  rest: string[];
}

export interface KeepalivedImport {
  services: ImportedService[];
  vrrp?: ImportedVrrp & { held: HeldAddress[]; instance: string };
  directorName?: string;
  /** global_defs' enable_script_security / script_user root: lvsplay writes them when a MISC_CHECK runs. */
  scriptSecurity: Origin[];
}

/** Where `include` lines read: the files a pattern names (in keepalived's order), and a file's text (InputFileError when it cannot be read). */
export interface IncludeSource {
  expand(pattern: string, from: string): string[];
  read(path: string): string;
}

/**
 * `includes`: where include lines read (without it an include is reported as not followed);
 * `configId`: the director's keepalived config id, for its `@ID` lines (unknown: reported, left out).
 */
export function importKeepalived(file: string, text: string, report: Report, includes?: IncludeSource, configId?: string): KeepalivedImport {
  const problems: Problem[] = [];
  const include: IncludeReader | undefined = includes && ((pattern, at) => {
    const paths = includes.expand(pattern, at.file);
    if (paths.length === 0) report.note(at, `include ${pattern}: no file matches it (keepalived goes on without)`);
    return paths.flatMap((path) => {
      try {
        return [{ file: path, text: includes.read(path) }];
      } catch (err) {
        if (!(err instanceof InputFileError)) throw err;
        problems.push(problemAt(at, `include ${pattern}: ${path} ${err.message}`));
        return [];
      }
    });
  });
  const statements = parseKeepalived(file, text, problems, { ...(include && { include }), ...(configId !== undefined && { configId }), skipped: (at, message) => report.notExpressed(at, message) });
  // keepalived stops at a keyword without its value: nothing after it is read, so nothing here either
  const bare = missingValues(statements);
  if (bare.length > 0) throw new InputError([...problems, ...bare]);
  const out: KeepalivedImport = { services: [], scriptSecurity: [] };
  const groups = readGroups(statements, report, problems);
  const syncGroups = readSyncGroups(statements);
  let syncDaemon: Statement | undefined;
  for (const s of statements) {
    if (s.keyword === 'global_defs') {
      for (const g of s.block ?? []) {
        if (g.keyword === 'router_id' && Name.safeParse(g.args[0]).success) out.directorName = g.args[0]!;
        else if (g.keyword === 'lvs_sync_daemon') syncDaemon = g;
        else if (g.keyword === 'enable_script_security' || (g.keyword === 'script_user' && g.args.join(' ') === 'root')) out.scriptSecurity.push(origin(g));
        else report.notExpressed(origin(g), `global_defs ${g.keyword}${g.keyword === 'router_id' ? ` ${g.args[0] ?? ''} (not a host name the inventory takes)` : ''}: lvsplay's keepalived.conf does not write it`);
      }
    } else if (s.keyword === 'vrrp_instance') {
      const group = out.vrrp && syncGroups.get(s.args[0] ?? '');
      if (out.vrrp && group !== undefined && group === syncGroups.get(out.vrrp.instance)) {
        const own = new Report();
        mergeSynced(out.vrrp, readInstance(s, own, problems), group, s, own, report);
      }
      else if (out.vrrp) report.notExpressed(origin(s), `vrrp_instance ${s.args[0] ?? ''}: lvsplay writes one VRRP instance per director pair (the first, line ${out.vrrp.origin.line}, is imported)`);
      else out.vrrp = readInstance(s, report, problems);
    } else if (s.keyword === 'vrrp_sync_group') {
      for (const x of s.block ?? []) {
        if (x.keyword !== 'group') report.notExpressed(origin(x), `vrrp_sync_group ${s.args[0] ?? ''} ${x.keyword}: lvsplay's keepalived.conf does not write it`);
      }
    } else if (s.keyword === 'virtual_server') {
      out.services.push(...readVirtualServer(s, groups, report, problems));
    } else if (s.keyword.startsWith('$')) {
      report.notExpressed(origin(s), `${s.keyword} ...: not a definition for keepalived, which needs the "=" right after the name ($NAME=value), so a line whose keyword it does not know; ${s.keyword} stays undefined`);
    } else if (s.keyword.startsWith('\ufeff')) {
      // A file saved with a UTF-8 byte order mark: keepalived's reader keeps it as part of the first word.
      report.notExpressed(origin(s), `${s.keyword}${s.block ? ' { ... }' : ''}: the file starts with a byte order mark (U+FEFF), which keepalived reads as part of this keyword, one it does not know ("Unknown keyword"): keepalived ignores this ${s.block ? 'block' : 'line'}, and so does the import; save the file without it`);
    } else if (s.keyword !== 'virtual_server_group') report.notExpressed(origin(s), `${s.keyword}${s.block ? ' { ... }' : ''}: lvsplay's keepalived.conf has global_defs, one vrrp_instance and virtual_server blocks only`);
  }
  if (syncDaemon) {
    if (out.vrrp && syncDaemon.args[1] === out.vrrp.instance && (syncDaemon.args[0] === out.vrrp.interface)) out.vrrp.settings.sync_daemon = true;
    else report.notExpressed(origin(syncDaemon), `lvs_sync_daemon ${syncDaemon.args.join(' ')}: lvsplay runs the sync daemon on the VRRP instance's interface, for that instance only`);
  }
  // A group's services are read from one block: its malformed lines once, not once per service.
  if (problems.length > 0) throw new InputError([...new Map(problems.map((p) => [JSON.stringify(p), p])).values()]);
  return out;
}

function readInstance(s: Statement, report: Report, problems: Problem[]): ImportedVrrp & { held: HeldAddress[]; instance: string } {
  const instance = s.args[0] ?? '';
  // lvsplay names the instance VI_<pair>: VI_1 stays VI_1 as pair "1".
  const suffix = /^VI_(.+)$/.exec(instance)?.[1];
  const pair = suffix !== undefined && Name.safeParse(suffix).success ? suffix : 'default';
  if (`VI_${pair}` !== instance) report.note(origin(s), `vrrp_instance ${instance} is named VI_${pair} by lvsplay (the name is local to this keepalived.conf)`);
  const settings: Partial<VrrpPairInput> = {};
  const vrrp: ImportedVrrp & { held: HeldAddress[]; instance: string } = { origin: origin(s), pair, instance, settings, role: 'backup', peers: [], held: [] };
  const int = (x: Statement, min: number, max: number): number | undefined => {
    const v = x.args[0];
    if (v !== undefined && /^\d+$/.test(v) && Number(v) >= min && Number(v) <= max) return Number(v);
    problems.push(problemAt(x, `expected ${x.keyword} N (${min}..${max}), got ${JSON.stringify(x.args.join(' '))}`));
    return undefined;
  };
  /** The words of the state line that decided the role, as keepalived reads them. */
  let state: string | undefined;
  let nopreempt: Statement | undefined;
  let owner = false;
  // The instance's address family: its first address's, unicast_src_ip or a VIP (vrrp_parser.c, vrrp_data.c).
  let family: { v6: boolean; at: Origin } | undefined;
  for (const x of s.block ?? []) {
    switch (x.keyword) {
      case 'state':
        // vrrp_state_handler: MASTER always sets it; BACKUP after MASTER is ignored; any other word is BACKUP
        if (x.args[0] === 'MASTER') [vrrp.role, state] = ['primary', 'MASTER'];
        else if (x.args[0] === 'BACKUP' && vrrp.role === 'primary') report.note(origin(x), 'state BACKUP after state MASTER: keepalived ignores it ("state previously set as MASTER - ignoring BACKUP"), so this director is MASTER');
        else {
          if (x.args[0] !== 'BACKUP') report.note(origin(x), `state ${x.args.join(' ')}: not MASTER or BACKUP, which keepalived reads as BACKUP ("unknown state ... defaulting to BACKUP")`);
          [vrrp.role, state] = ['backup', x.args.join(' ')];
        }
        break;
      case 'interface': {
        // copied into the inventory as the director's interface: one the inventory refuses would make the whole inventory invalid
        const name = InterfaceName.safeParse(x.args[0]);
        if (name.success) vrrp.interface = name.data;
        else report.notExpressed(origin(x), `interface ${JSON.stringify(x.args.join(' '))}: ${name.error.issues[0]?.message ?? 'not an interface name'}; the director's interface name is GUESSED instead`);
        break;
      }
      case 'virtual_router_id': { const v = int(x, 1, 255); if (v !== undefined) settings.virtual_router_id = v; break; }
      case 'priority': {
        const v = int(x, 1, 255);
        owner = v === 255;
        if (owner) report.notExpressed(origin(x), 'priority 255 (the address owner): lvsplay gives a VRRP pair priorities up to 254; imported as 254');
        if (v !== undefined) vrrp.priority = Math.min(v, 254);
        break;
      }
      case 'advert_int': {
        if (/^\d+$/.test(x.args[0] ?? '')) settings.advert_int = int(x, 1, 255)!;
        else report.notExpressed(origin(x), `advert_int ${x.args[0] ?? ''}: the inventory takes whole seconds; keepalived's default (1) is used`);
        break;
      }
      case 'nopreempt': nopreempt = x; break;
      // vrrp_parser.c: both set the adverts' source address (vrrp_srcip_handler), the director's own
      // on the VRRP interface; lvsplay's multicast adverts go from that interface's address.
      case 'unicast_src_ip': case 'mcast_src_ip':
        vrrp.sourceAddress = address(x, problems);
        family ??= { v6: vrrp.sourceAddress.includes(':'), at: origin(x) };
        break;
      case 'unicast_peer':
        settings.unicast = true;
        for (const p of x.block ?? []) vrrp.peers.push(address(p, problems, p.keyword));
        break;
      case 'authentication': {
        const type = x.block?.find((a) => a.keyword === 'auth_type')?.args[0];
        const pass = x.block?.find((a) => a.keyword === 'auth_pass');
        if (type !== 'PASS') report.notExpressed(origin(x), `authentication auth_type ${type ?? '(none)'}: lvsplay writes PASS authentication only`);
        else if (pass) {
          settings.auth_pass_env = VRRP_PASS_ENV;
          const long = pass.secret?.long ? `, to its first ${VRRP_PASS_MAX} characters: keepalived uses no more (it warns "Truncating auth_pass")` : '';
          report.note(origin(pass), `auth_pass (a secret, not copied): set ${VRRP_PASS_ENV} to it${long} where lvsplay runs (the inventory reads it from there: vrrp.${pair}.auth_pass_env)`);
          if (pass.secret?.writable === false) {
            report.notExpressed(origin(pass), `auth_pass: it has a character lvsplay does not write into keepalived.conf (a blank, quote, backslash, "#", "!", "$", a brace, or one outside printable ASCII), so lvsplay refuses it when it renders: give the pair a new password in ${VRRP_PASS_ENV} (both directors get it in one run; until then their adverts disagree)`);
          }
        }
        break;
      }
      case 'garp_master_delay': { const v = int(x, 0, 3600); if (v !== undefined) settings.garp_master_delay = v; break; }
      case 'garp_master_repeat': { const v = int(x, 1, 100); if (v !== undefined) settings.garp_master_repeat = v; break; }
      case 'garp_master_refresh': { const v = int(x, 0, 86400); if (v !== undefined) settings.garp_master_refresh = v; break; }
      case 'virtual_ipaddress': case 'virtual_ipaddress_excluded':
        for (const a of x.block ?? []) {
          const held = heldAddress(a, problems);
          if (!held) continue;
          if (x.keyword === 'virtual_ipaddress') {
            family ??= { v6: held.address.includes(':'), at: held };
            // vrrp_data.c alloc_vrrp_vip: a VIP of the other family is freed, never held (excluded ones are not checked)
            if (family.v6 !== held.address.includes(':')) {
              report.notExpressed(held, `${held.address}: keepalived ignores it ("address family must match VRRP instance"): the instance is ${family.v6 ? 'IPv6' : 'IPv4'} by its first address (line ${family.at.line}), so it does not hold this one`);
              continue;
            }
          }
          vrrp.held.push(held);
        }
        break;
      default: report.notExpressed(origin(x), `vrrp_instance ${x.keyword}: not in the inventory's VRRP settings (docs/inventory.md, VRRP pairs)`);
    }
  }
  if (nopreempt) {
    // vrrp.c (vrrp_complete_instance) clears nopreempt where the instance would start as MASTER:
    // the director preempts, and the import's must too (lvsplay writes nopreempt with state BACKUP)
    const cleared = vrrp.role === 'primary' ? 'state MASTER ("nopreempt will not work with initial state MASTER - clearing")'
      : owner ? 'priority 255 ("nopreempt is incompatible with priority 255. resetting nopreempt")' : undefined;
    if (cleared) report.note(origin(nopreempt), `nopreempt with ${cleared}: keepalived clears it, and so does the import (the director preempts)`);
    else settings.nopreempt = true;
  }
  if (settings.unicast && vrrp.peers.length === 0) report.notExpressed(origin(s), 'unicast_peer without peers: lvsplay sends unicast adverts to the pair\'s other directors');
  else if (vrrp.role === 'backup' && vrrp.peers.length === 0) report.note(origin(s), `this director is BACKUP (${state !== undefined ? `state ${state}` : 'keepalived\'s default without state'}) and names no unicast_peer: the pair's primary is in no input, so the inventory has a placeholder for it (name and address GUESSED): set them, or import the primary's keepalived.conf instead`);
  return vrrp;
}

/** Each vrrp_instance named in a vrrp_sync_group's `group { ... }` → that group's name. */
function readSyncGroups(statements: readonly Statement[]): Map<string, string> {
  const member = new Map<string, string>();
  for (const s of statements) {
    if (s.keyword !== 'vrrp_sync_group') continue;
    for (const g of (s.block ?? []).filter((x) => x.keyword === 'group')) {
      for (const name of (g.block ?? []).flatMap((x) => [x.keyword, ...x.args])) if (!member.has(name)) member.set(name, s.args[0] ?? '');
    }
  }
  return member;
}

/**
 * A vrrp_instance's lines whose values are the pair's, not its addresses' (readInstance's cases
 * but interface and virtual_ipaddress): one instance per pair has one of each.
 */
const SOURCE_SETTINGS = new Set(['unicast_src_ip', 'mcast_src_ip']);
const PAIR_SETTINGS = new Set([...SOURCE_SETTINGS, 'state', 'virtual_router_id', 'priority', 'advert_int', 'nopreempt', 'unicast_peer', 'authentication', 'garp_master_delay', 'garp_master_repeat', 'garp_master_refresh']);

/**
 * A later instance of the imported one's vrrp_sync_group (the classic NAT director: one instance
 * for the VIPs, one on the inside interface for the real servers' gateway). keepalived moves the
 * group's instances together, as lvsplay's one instance per pair moves everything: its addresses
 * join the imported instance's, on its own interface (resolveHeld takes the NAT gateway from them);
 * its pair settings (router id, priority, adverts) are the imported instance's in lvsplay's, which
 * the merge's note says once. What else it says that lvsplay cannot (a track_script, an address
 * keepalived would not hold, an interface name the inventory refuses) is passed on from `own`, the
 * report it was read with, as the imported instance's would be.
 */
function mergeSynced(into: ImportedVrrp & { held: HeldAddress[]; instance: string }, other: ImportedVrrp & { held: HeldAddress[]; instance: string }, group: string, s: Statement, own: Report, report: Report): void {
  into.held.push(...other.held.map((h) => ({ ...h, dev: h.dev ?? other.interface })));
  // On an interface of its own, its addresses say the directors' there: its source address is this
  // director's; its one peer, when the imported instance has one too, the pair's other director's.
  const inside = other.interface !== undefined && other.interface !== into.interface ? other.interface : undefined;
  const source = inside && other.sourceAddress;
  if (source) into.addressOn = { ...into.addressOn, [inside!]: source };
  const partner = inside && into.peers.length === 1 && other.peers.length === 1 ? into.peers[0]! : undefined;
  const peer = partner && other.peers[0]!;
  if (peer) into.peerAddressOn = { ...into.peerAddressOn, [partner!]: { ...into.peerAddressOn?.[partner!], [inside!]: peer } };
  const read = new Set([...(source ? SOURCE_SETTINGS : []), ...(peer ? ['unicast_peer'] : [])]);
  const dropped = [...PAIR_SETTINGS].filter((k) => !read.has(k) && s.block?.some((x) => x.keyword === k));
  report.note(origin(s), `vrrp_instance ${other.instance}: in vrrp_sync_group ${group} with ${into.instance} (line ${into.origin.line}), so keepalived moves them together, as lvsplay's one VRRP instance per pair moves everything: its addresses are held by that one${source ? `; its source address ${source} is the director's own on ${inside}` : ''}${peer ? `; its unicast_peer ${peer} is ${partner}'s on ${inside}` : ''}${dropped.length > 0 ? `; its own ${dropped.join(', ')} are not imported (the pair's are ${into.instance}'s)` : ''}`);
  const pairLines = new Set([`${s.file}:${s.line}`, ...(s.block ?? []).filter((x) => PAIR_SETTINGS.has(x.keyword)).flatMap(lineKeys)]);
  for (const l of own.lines) {
    if (l.kind === 'not expressed' && !pairLines.has(`${l.file}:${l.line}`)) report.notExpressed(l, l.message);
  }
}

/** `file:line` of a statement and of every line of its block. */
function lineKeys(x: Statement): string[] {
  return [`${x.file}:${x.line}`, ...(x.block ?? []).flatMap(lineKeys)];
}

/** `192.0.2.10/24 dev eth0 label eth0:1` (keepalived's default prefix: /32, /128). */
function heldAddress(a: Statement, problems: Problem[]): HeldAddress | undefined {
  const words = [a.keyword, ...a.args];
  const [addr, bits] = words[0]!.split('/');
  if (addr === undefined || !(isIPv4(addr) || isIPv6(addr))) {
    problems.push(problemAt(a, `expected an address (with an optional /prefix) in virtual_ipaddress, got ${JSON.stringify(words[0])}`));
    return undefined;
  }
  const held: HeldAddress = { ...origin(a), address: canonicalAddress(addr), prefix: bits === undefined ? (isIPv4(addr) ? 32 : 128) : Number(bits), rest: [] };
  for (let k = 1; k < words.length; k++) {
    if (words[k] === 'dev' && words[k + 1] !== undefined) held.dev = words[++k]!;
    else if (words[k] === 'label' && words[k + 1] !== undefined) held.label = words[++k]!;
    else held.rest.push(words[k]!);
  }
  return held;
}

function address(x: Statement, problems: Problem[], value = x.args[0]): string {
  if (value === undefined || !(isIPv4(value) || isIPv6(value))) {
    problems.push(problemAt(x, `expected an IP address, got ${JSON.stringify(value ?? '')}`));
    return '';
  }
  return canonicalAddress(value);
}

/**
 * The services of one virtual_server block: one, or (`virtual_server group NAME`) one per address
 * and port and per mark of the group, each with the block's settings and real servers.
 */
function readVirtualServer(s: Statement, groups: ReadonlyMap<string, VirtualServerGroup>, report: Report, problems: Problem[]): ImportedService[] {
  const fail = (x: Statement, message: string) => problems.push(problemAt(x, message));
  const [first, second] = s.args;
  const find = (k: string) => s.block?.find((x) => x.keyword === k);
  const protocolLine = find('protocol');
  // Without a protocol line keepalived makes an address's service UDP, as the kernel would
  // (check_data.c: "no protocol set - defaulting to UDP"); seen on the lab with keepalived 2.2.7.
  const protocol = (protocolLine?.args[0] ?? 'UDP').toLowerCase();
  if (!['tcp', 'udp', 'sctp'].includes(protocol)) {
    fail(protocolLine!, `expected protocol TCP, UDP or SCTP, got ${protocolLine!.args[0]}`);
    return [];
  }
  const udpByDefault = (keys: readonly ServiceKey[]) => {
    if (!protocolLine && keys.some((k) => k.kind === 'inet')) report.note(origin(s), 'no protocol line: keepalived makes the service UDP (its log says "no protocol set - defaulting to UDP"), and so does the import; write protocol TCP in the file if TCP was meant');
  };
  const ipFamily = find('ip_family')?.args[0] === 'inet6' ? 'ipv6' : undefined;
  if (first === 'group' && second === undefined) {
    // keepalived 2.2.7 itself dies on this line (a segmentation fault under keepalived -t)
    fail(s, 'expected virtual_server group NAME, got virtual_server group alone: keepalived 2.2.7 crashes reading this line, so no running keepalived reads the file');
    return [];
  }
  if (first === 'group') {
    const group = groups.get(second ?? '');
    if (!group) {
      report.notExpressed(origin(s), `virtual_server group ${second ?? ''}: no virtual_server_group ${second ?? ''} is defined (keepalived leaves this virtual_server out)`);
      return [];
    }
    const keys = groupKeys(group, protocol as 'tcp' | 'udp' | 'sctp', ipFamily, report);
    if (keys.length > 0) report.note(origin(s), `virtual_server group ${second}: imported as ${keys.length} service(s), one per address and port (and mark) of virtual_server_group ${second} (line ${group.at.line}), the IPVS services keepalived makes of it; lvsplay's keepalived.conf writes a virtual_server for each, and keepalived runs each one's checkers`);
    udpByDefault(keys);
    const block = { subject: `virtual_server group ${second}`, named: keys.length === 1, everyPort: keys.some(isEveryPort) };
    return keys.flatMap((key) => readService(s, key, block, report, problems) ?? []);
  }
  let key: ServiceKey;
  if (first === 'fwmark') {
    if (!/^\d+$/.test(second ?? '') || Number(second) < 1 || Number(second) > 4294967295) {
      fail(s, `expected virtual_server fwmark N (1..4294967295), got ${JSON.stringify(s.args.join(' '))}`);
      return [];
    }
    key = { kind: 'fwmark', fwmark: Number(second), family: ipFamily ?? 'ipv4' };
  } else {
    const port = second === undefined ? 0 : Number(second);
    if (first === undefined || !(isIPv4(first) || isIPv6(first)) || !Number.isInteger(port) || port < 0 || port > 65535) {
      // check_data.c alloc_vs: an address and port inet_stosockaddr cannot read (a $NAME never defined among them) is its "Invalid virtual server IP address/port - skipping": the block runs nothing
      report.notExpressed(origin(s), `virtual_server ${s.args.join(' ')} (and its real servers): not an address and port keepalived reads (expected ADDRESS PORT, fwmark N or group NAME); keepalived skips the block ("Invalid virtual server IP address/port"), and so does the import`);
      return [];
    }
    key = { kind: 'inet', protocol: protocol as 'tcp' | 'udp' | 'sctp', address: canonicalAddress(first), port };
  }
  udpByDefault([key]);
  const service = readService(s, key, { subject: `service ${serviceKey(key)}`, named: true, everyPort: isEveryPort(key) }, report, problems);
  return service ? [service] : [];
}

const isEveryPort = (key: ServiceKey) => key.kind === 'inet' && key.port === 0;

/**
 * keepalived's persistence timeout (libipvs.h IPVS_SVC_PERSISTENT_TIMEOUT) where a block is
 * persistent without saying for how long: a bare persistence_timeout, a persistence_granularity
 * alone, a port-0 service.
 */
const PERSISTENCE_DEFAULT = 360;

/**
 * How a virtual_server block reads, whichever of its services: `subject` names it in the report
 * (for a group, the same for each of its services, so that each thing is reported once); `named`:
 * the comment above it may name the service (not when a group makes several); `everyPort`: a
 * service of it is on port 0, which keepalived makes persistent when the block does not.
 */
interface Block {
  subject: string;
  named: boolean;
  everyPort: boolean;
}

/** One service with `key` from a virtual_server block. */
function readService(s: Statement, key: ServiceKey, { subject, named, everyPort }: Block, report: Report, problems: Problem[]): ImportedService | undefined {
  const fail = (x: Statement, message: string) => problems.push(problemAt(x, message));
  const family = key.kind === 'fwmark' ? key.family : key.address.includes(':') ? 'ipv6' : 'ipv4';
  const service: ImportedService = {
    origin: origin(s), owner: 'keepalived', key, scheduler: 'wlc', schedulerFlags: [], onePacket: false, forwarding: 'nat', members: [],
    ...(named && s.comment !== undefined && /^service (\S+)$/.test(s.comment) && Name.safeParse(s.comment.slice(8)).success && { name: s.comment.slice(8) }),
  };
  const vsCheck: Record<string, unknown> = {};
  const defaults: Record<string, number> = {};
  let fallback: { address: string; port?: number; at: Origin } | undefined;
  let fallbackMethod: Forwarding | undefined;
  let sorryInhibit: Origin | undefined;
  let virtualhost: string | undefined;
  const reals: Statement[] = [];
  let granular: Origin | undefined;
  // The scheduler the lines so far set (keepalived's vs->sched, empty until lb_algo/lvs_sched).
  let scheduled: string | undefined;
  for (const x of s.block ?? []) {
    const n = Number(x.args[0]);
    if (NUMERIC.includes(x.keyword) && !/^\d+$/.test(x.args[0] ?? '')) {
      fail(x, `expected ${x.keyword} N (a whole number), got ${JSON.stringify(x.args.join(' '))}`);
      continue;
    }
    switch (x.keyword) {
      case 'lb_algo': case 'lvs_sched':
        if (!(SCHEDULERS as readonly string[]).includes(x.args[0] ?? '')) {
          report.notExpressed(origin(s), `${subject} (and its real servers): ${x.keyword} ${x.args[0] ?? ''} is not a scheduler lvsplay knows (${SCHEDULERS.join(', ')})`);
          return undefined;
        }
        service.scheduler = x.args[0]!;
        scheduled = service.scheduler;
        break;
      case 'lb_kind': case 'lvs_method': {
        const m = method(x, report);
        if (m === undefined) break;
        if (typeof m === 'string') {
          fail(x, m);
          return undefined;
        }
        service.forwarding = m.forwarding;
        if (m.tunnel) service.tunnel = m.tunnel;
        break;
      }
      case 'protocol': case 'ip_family': break;
      case 'ops': service.onePacket = true; break;
      case 'persistence_timeout': {
        // keepalived's pto_handler: no value is its default; 1..31 days, or the line is ignored
        const timeout = x.args[0] === undefined ? PERSISTENCE_DEFAULT : /^\d+$/.test(x.args[0]) && n >= 1 && n <= 86400 * 31 ? n : undefined;
        if (timeout === undefined) report.notExpressed(origin(x), `persistence_timeout ${x.args.join(' ')}: keepalived takes 1..${86400 * 31} seconds; it reports "persistence_timeout invalid" and ignores the line, and so does the import`);
        else service.persistence = { ...service.persistence, timeout };
        if (x.args[0] === undefined) report.note(origin(x), `persistence_timeout without a value: keepalived's default, ${PERSISTENCE_DEFAULT} s`);
        break;
      }
      case 'persistence_granularity': {
        const g = granularity(x.args[0] ?? '', family);
        if (g === undefined) {
          report.notExpressed(origin(x), `persistence_granularity ${x.args[0] ?? ''}: not a ${family === 'ipv4' ? 'contiguous dotted netmask' : 'prefix length'}; imported with the default`);
          break;
        }
        // keepalived's pgr_handler makes the service persistent (its default timeout) when it is not yet
        granular = origin(x);
        service.persistence = { timeout: service.persistence?.timeout ?? 0, ...(g !== defaultNetmask(family) && g !== Number(defaultNetmask(family)) && { netmask: g }) };
        break;
      }
      case 'quorum': vsCheck['quorum'] = n; break;
      case 'hysteresis': vsCheck['hysteresis'] = n; break;
      case 'alpha': vsCheck['alpha'] = true; break;
      case 'omega': vsCheck['omega'] = true; break;
      case 'inhibit_on_failure': vsCheck['quiescent'] = true; break;
      case 'sorry_server': {
        const a = x.args[0];
        if (a === undefined || !(isIPv4(a) || isIPv6(a))) fail(x, `expected sorry_server ADDRESS [PORT], got ${JSON.stringify(x.args.join(' '))}`);
        else fallback = { address: canonicalAddress(a), at: origin(x), ...(x.args[1] !== undefined ? { port: Number(x.args[1]) } : key.kind === 'inet' && key.port > 0 ? { port: key.port } : {}) };
        break;
      }
      case 'sorry_server_lvs_method': {
        const m = method(x, report);
        if (m === undefined) break;
        if (typeof m === 'string') fail(x, m);
        else if (m.tunnel && !isDeepStrictEqual(m.tunnel, { type: 'ipip' })) report.notExpressed(origin(x), 'sorry_server_lvs_method TUN with tunnel options: lvsplay\'s sorry server tunnels like the service');
        else fallbackMethod = m.forwarding;
        break;
      }
      case 'sorry_server_inhibit': sorryInhibit = origin(x); break;
      case 'virtualhost': virtualhost = x.args[0]; break;
      case 'real_server': reals.push(x); break;
      default: {
        const timing = own(VS_TIMING, x.keyword);
        if (FLAGS.includes(x.keyword)) schedulerFlag(x, scheduled, service, report);
        else if (timing && /^\d+$/.test(x.args[0] ?? '')) defaults[timing] = n;
        else if (timing) report.notExpressed(origin(x), `virtual_server ${x.keyword} ${x.args.join(' ')}: the inventory's ${timing} is whole seconds`);
        else report.notExpressed(origin(x), `virtual_server ${x.keyword}: not something the inventory's services say`);
      }
    }
  }
  if (service.onePacket && key.kind === 'inet' && key.protocol !== 'udp') {
    service.onePacket = false;
    report.note(origin(s), `${subject}: ops on a ${key.protocol.toUpperCase()} service: keepalived turns it off ("one packet scheduling requires UDP - resetting"), and so does the import`);
  }
  if (granular && !service.persistence?.timeout) {
    service.persistence = { ...service.persistence, timeout: PERSISTENCE_DEFAULT };
    report.note(granular, `persistence_granularity without persistence_timeout: keepalived makes the service persistent for ${PERSISTENCE_DEFAULT} s, its default, and so does the import`);
  }
  if (everyPort && !service.persistence?.timeout) {
    service.persistence = { ...service.persistence, timeout: PERSISTENCE_DEFAULT };
    report.note(origin(s), `${subject}: port 0 without persistence_timeout: keepalived makes the block's services persistent for ${PERSISTENCE_DEFAULT} s ("zero port only valid for persistent services - setting"), and so does the import`);
  }
  const misfit = service.schedulerFlags.filter((f) => !f.startsWith(`${service.scheduler}-`));
  if (misfit.length > 0) report.notExpressed(origin(s), `${subject}: ${misfit.join(', ')} do not belong to scheduler ${service.scheduler}`);
  service.schedulerFlags = service.schedulerFlags.filter((f) => !misfit.includes(f)).sort();
  if (fallback) service.fallback = sorryServer(fallback, fallbackMethod ?? service.forwarding, key, family, report);
  const members: ReadMember[] = [];
  for (const r of reals) {
    const m = readReal(r, key, service.forwarding, { defaults, virtualhost }, report, problems);
    if (m) members.push(m);
  }
  service.members = distinctServers(members, report);
  if (service.members.length === 0) {
    report.notExpressed(origin(s), `${subject}: no real server could be imported, and an inventory service needs at least one`);
    return undefined;
  }
  inhibitOfMembers(service.members as ReadMember[], vsCheck, subject, origin(s), report);
  // The service's check is the first real server's checker that every other can be said over (one
  // setting a field another lacks cannot be: that one would inherit it); with none, the first one's,
  // and what the others cannot say is reported. The others say what differs.
  const kept = service.members as ReadMember[];
  const checkers = kept.flatMap((m) => (m.checker ? [m.checker] : []));
  const base = checkers.find((c) => checkers.every((o) => o === c || typeof memberDifference(c, o) !== 'string')) ?? checkers[0];
  if (base || Object.keys(vsCheck).length > 0) service.healthCheck = { ...(base ?? {}), ...vsCheck } as ImportedService['healthCheck'];
  for (const m of kept) {
    const own = m.checker;
    delete m.checker;
    if (!base || own === base) continue;
    if (!own) {
      report.notExpressed(m.origin, `real server ${hostPort(m.address, m.port)} has no checker while ${hostPort(kept[0]!.address, kept[0]!.port)}'s has one: in the inventory every real server of a checked service is checked`);
      continue;
    }
    const check = memberDifference(base, own);
    if (typeof check === 'string') report.notExpressed(m.origin, `real server ${hostPort(m.address, m.port)}'s checker: ${check}`);
    else if (Object.keys(check).length > 0) m.check = check;
  }
  // lvsplay writes sorry_server_inhibit only where keepalived would set it itself: a sorry server that
  // is one of the real servers, which then takes their inhibit_on_failure (check_data.c).
  const f = service.fallback;
  const duplicate = f !== undefined && service.members.some((m) => m.address === f.address && m.port === (f.port ?? 0));
  if (sorryInhibit && !(duplicate && service.healthCheck?.quiescent === true)) {
    report.notExpressed(sorryInhibit, 'sorry_server_inhibit: the inventory\'s sorry server is inhibited only where it is one of the real servers and inhibit_on_failure is on (keepalived then sets it itself)');
  }
  return service;
}

/**
 * The sorry server as keepalived keeps it: one of the other family is skipped unless tunnelled
 * (check_parser.c vs_end_handler: "Address family of virtual server and sorry server ... don't
 * match - skipping sorry server"), and a DR/TUN one of a fwmark service loses its port
 * (check_data.c: "sorry server has port specified - clearing"). Both are keepalived's warnings.
 */
function sorryServer(f: { address: string; port?: number; at: Origin }, forwarding: Forwarding, key: ServiceKey, family: 'ipv4' | 'ipv6', report: Report): ImportedService['fallback'] {
  if (forwarding !== 'tun' && addressFamily(f.address) !== family) {
    report.notExpressed(f.at, `sorry_server ${f.address}: not in the service's family (${family}), and not tunnelled: keepalived skips it ("Address family of virtual server and sorry server ... don't match"), and so does the import`);
    return undefined;
  }
  if (key.kind === 'fwmark' && forwarding !== 'nat' && f.port !== undefined && f.port !== 0) {
    report.note(f.at, `sorry_server ${f.address} ${f.port}: keepalived clears the port of a ${forwarding.toUpperCase()} sorry server of a firewall-mark service (the kernel keeps the packet's), and so does the import`);
    return { address: f.address, forwarding };
  }
  return { address: f.address, ...(f.port !== undefined && { port: f.port }), forwarding };
}

/**
 * An sh-/mh- flag line, as keepalived's lbflags_handler reads it: against the scheduler the lines
 * before it set, so a flag before lb_algo/lvs_sched, or under another scheduler, is ignored there
 * ("sh-port only applies to sh scheduler - ignoring"), and here.
 */
function schedulerFlag(x: Statement, scheduled: string | undefined, service: ImportedService, report: Report): void {
  if (scheduled !== undefined && x.keyword.startsWith(`${scheduled}-`)) service.schedulerFlags.push(x.keyword);
  else report.notExpressed(origin(x), `${x.keyword} ${scheduled === undefined ? 'before any lb_algo or lvs_sched line' : `after lvs_sched ${scheduled}`}: keepalived applies a scheduler flag only when the lines before it set that scheduler, and ignores this one; so does the import`);
}

/** `lvs_method DR|NAT|TUN [type ipip|gue|gre] [port N] [nocsum|csum|remcsum]`. */
/**
 * A method line as keepalived's svr_forwarding_handler reads it: NAT, DR or TUN compared with
 * strcmp; any other word (`dr` too) is its config error "unknown routing method", and the line is
 * ignored (undefined here, reported). A string: TUN's options are malformed.
 */
function method(x: Statement, report: Report): { forwarding: Forwarding; tunnel?: Tunnel } | string | undefined {
  const word = x.args[0] ?? '';
  const forwarding = own(METHODS, word);
  if (!forwarding) {
    report.notExpressed(origin(x), `${x.keyword} ${word}: keepalived knows NAT, DR and TUN, in capitals; it reports "unknown [${word}] routing method" and ignores the line, and so does the import`);
    return undefined;
  }
  if (forwarding !== 'tun' || x.args.length === 1) return { forwarding };
  const tunnel: Tunnel = { type: 'ipip' };
  for (let k = 1; k < x.args.length; k++) {
    const w = x.args[k]!;
    if (w === 'type' && ['ipip', 'gue', 'gre'].includes(x.args[k + 1] ?? '')) tunnel.type = x.args[++k] as Tunnel['type'];
    else if (w === 'port' && /^\d+$/.test(x.args[k + 1] ?? '')) tunnel.port = Number(x.args[++k]);
    else if (w === 'nocsum' || w === 'csum' || w === 'remcsum') tunnel.checksum = w;
    else return `unexpected ${JSON.stringify(w)} in ${x.keyword} TUN (expected type ipip|gue|gre, port N, nocsum|csum|remcsum)`;
  }
  return { forwarding, tunnel };
}

function granularity(value: string, family: 'ipv4' | 'ipv6'): string | number | undefined {
  if (family === 'ipv6') return /^\d{1,3}$/.test(value) && Number(value) >= 1 && Number(value) <= 128 ? Number(value) : undefined;
  if (!ipaddr.IPv4.isValidFourPartDecimal(value)) return undefined;
  const mask = ipaddr.IPv4.parse(value);
  return mask.prefixLengthFromSubnetMask() === null ? undefined : mask.toString();
}

/** A real server as read: its checker and its own inhibit_on_failure are folded into the service's check after. */
type ReadMember = ImportedMember & { checker?: Record<string, unknown>; inhibit?: { value: boolean; at: Origin } };

function readReal(r: Statement, key: ServiceKey, forwarding: Forwarding, vs: { defaults: Record<string, number>; virtualhost: string | undefined }, report: Report, problems: Problem[]): ReadMember | undefined {
  const [addr, portText] = r.args;
  if (addr === undefined || !(isIPv4(addr) || isIPv6(addr)) || (portText !== undefined && !/^\d+$/.test(portText))) {
    problems.push(problemAt(r, `expected real_server ADDRESS [PORT], got ${JSON.stringify(r.args.join(' '))}`));
    return undefined;
  }
  const servicePort = key.kind === 'inet' ? key.port : 0;
  let port = portText === undefined ? servicePort : Number(portText);
  if (forwarding !== 'nat' && key.kind === 'inet' && port !== servicePort) {
    report.notExpressed(origin(r), `port ${port} of a ${forwarding.toUpperCase()} real server: the kernel uses the virtual server's port ${servicePort}, and so does the inventory`);
    port = servicePort;
  }
  const m: ReadMember = { origin: origin(r), address: canonicalAddress(addr), port, weight: 1, upperThreshold: 0, lowerThreshold: 0 };
  for (const x of r.block ?? []) {
    const n = Number(x.args[0]);
    if (NUMERIC.includes(x.keyword) && !/^\d+$/.test(x.args[0] ?? '')) {
      problems.push(problemAt(x, `expected ${x.keyword} N (a whole number), got ${JSON.stringify(x.args.join(' '))}`));
      continue;
    }
    if (x.keyword === 'weight') m.weight = n;
    else if (x.keyword === 'uthreshold') m.upperThreshold = n;
    else if (x.keyword === 'lthreshold') m.lowerThreshold = n;
    else if (x.keyword === 'inhibit_on_failure') {
      // rs_inhibit_handler: no word is true; true/on/yes or false/off/no (check_true_false); another word, its error, ignored
      const value = x.args[0] === undefined ? true : own(TRUE_FALSE, x.args[0]);
      if (value === undefined) report.notExpressed(origin(x), `inhibit_on_failure ${x.args[0]}: keepalived ignores it (expected true, false, on, off, yes or no)`);
      else m.inhibit = { value, at: origin(x) };
    } else if (own(CHECKERS, x.keyword)) {
      if (m.checker) report.notExpressed(origin(x), `a second checker (${x.keyword}) on real server ${hostPort(m.address, port)}: the inventory has one check per real server`);
      else m.checker = readChecker(x, vs, report);
    } else if ((x.keyword === 'lvs_method' || x.keyword === 'lb_kind') && x.args.length === 1 && forwarding !== 'tun' && own(METHODS, x.args[0] ?? '') === forwarding) {
      // keepalived 2.x lets a real server set its own method; the service's own says nothing new
    } else report.notExpressed(origin(x), `real_server ${x.keyword}: not something the inventory's members say`);
  }
  // check_data.c: a DR/TUN real server of a fwmark service has the packet's port; keepalived clears
  // a written one (a warning), after its checker took it as the port it connects to (queue_checker).
  if (key.kind === 'fwmark' && forwarding !== 'nat' && port !== 0) {
    const checker = m.checker;
    const connects = checker !== undefined && (KEEPALIVED_PORT_CHECKS as readonly string[]).includes(checker['type'] as string) && checker['port'] === undefined;
    if (connects) checker['port'] = port;
    report.note(origin(r), `port ${port} of a ${forwarding.toUpperCase()} real server of a firewall-mark service: keepalived clears it (the kernel keeps the packet's port)${connects ? ' after its checker took it as the port it connects to, and so does the import: the check\'s port' : ', and so does the import'}`);
    m.port = 0;
  }
  return m;
}

/** One checker block as inventory check fields, with the virtual_server's timing filled in. */
function readChecker(c: Statement, vs: { defaults: Record<string, number>; virtualhost: string | undefined }, report: Report): Record<string, unknown> {
  const type = own(CHECKERS, c.keyword)!;
  const check: Record<string, unknown> = { type, ...vs.defaults };
  const set = (x: Statement, field: keyof z.input<typeof HealthCheck>, value: unknown) => {
    const ok = HealthCheck.shape[field].safeParse(value);
    if (ok.success) check[field] = value;
    else report.notExpressed(origin(x), `${x.keyword} ${x.args.join(' ')}: ${ok.error.issues[0]?.message ?? 'not a value the inventory takes'}`);
  };
  let urls = 0;
  for (const x of c.block ?? []) {
    const word = x.args[0] ?? '';
    const n = Number(word);
    switch (x.keyword) {
      case 'connect_port': set(x, 'port', n); break;
      case 'connect_timeout': case 'misc_timeout': set(x, 'timeout', n); break;
      case 'delay_loop': set(x, 'interval', n); break;
      case 'retry': case 'nb_get_retry': set(x, 'retry', n); break;
      case 'delay_before_retry': set(x, 'delay_before_retry', n); break;
      case 'misc_path': {
        // misc_path_handler: the line's first word (a quoted string keeps its blanks), split again at
        // keepalived's blanks into the command and its arguments; the line's later words are ignored.
        const [command = '', ...args] = word.split(new RegExp(`[${BLANKS}]+`)).filter((w) => w !== '');
        if (x.args.length > 1) report.note(origin(x), `misc_path ${programOnly(word)}: keepalived reads the first word only (a command with arguments is one quoted string, misc_path "COMMAND ARGS"), so it ignores the ${x.args.length - 1} word(s) after it, and so does the import`);
        const unfit = args.length > 0 ? HealthCheck.shape.args.safeParse(args).error : undefined;
        if (unfit) report.notExpressed(origin(x), `misc_path ${programOnly(word)}: its arguments: ${unfit.issues[0]?.message ?? 'not words the inventory takes'}`);
        else {
          set(x, 'command', command);
          if (args.length > 0 && check['command'] !== undefined) {
            check['args'] = args;
            report.note(origin(x), `misc_path ${programOnly(word)}: its arguments are copied into the inventory as health_check args; the import cannot tell a password among them: if one is, move it into a file the script reads (lvsplay render and --diff show keepalived.conf)`);
          }
        }
        break;
      }
      case 'misc_dynamic': check['misc_dynamic'] = true; break;
      case 'type': if (type === 'dns') set(x, 'query_type', word.toUpperCase()); else report.notExpressed(origin(x), `type in ${c.keyword}`); break;
      case 'name': if (type === 'dns') set(x, 'query_name', word); else report.notExpressed(origin(x), `name in ${c.keyword}`); break;
      case 'virtualhost': set(x, 'virtualhost', word); break;
      case 'url':
        if (++urls > 1) report.notExpressed(origin(x), `a second url block in ${c.keyword}: the inventory checks one URL per real server`);
        else for (const u of x.block ?? []) {
          const v = u.args[0] ?? '';
          if (u.keyword === 'path') set(u, 'path', v);
          else if (u.keyword === 'status_code') {
            const { codes, ignored } = statusCodes(u.args);
            // keepalived's status_code_handler skips a word it cannot read ("Invalid HTTP_GET status code") and keeps the others
            for (const word of ignored) report.notExpressed(origin(u), `status_code ${word}: keepalived ignores it (expected a code 100..599 or a range like 200-299)`);
            if (codes.length > 16) report.notExpressed(origin(u), `status_code ${u.args.join(' ')}: more than the 16 codes or ranges the inventory takes`);
            else if (codes.length > 0) set(u, 'status', codes.length === 1 ? codes[0] : codes);
          } else if (u.keyword === 'digest') set(u, 'digest', v.toLowerCase());
          else if (u.keyword === 'regex') set(u, 'regex', v);
          else if (u.keyword === 'virtualhost') set(u, 'virtualhost', v);
          else report.notExpressed(origin(u), `url ${u.keyword}: not in the inventory's http checks`);
        }
        break;
      default: report.notExpressed(origin(x), `${c.keyword} ${x.keyword}: not in the inventory's checks`);
    }
  }
  if ((type === 'http' || type === 'https') && check['virtualhost'] === undefined && vs.virtualhost !== undefined) check['virtualhost'] = vs.virtualhost;
  if ((type === 'http' || type === 'https') && check['path'] === undefined && urls === 0) report.note(origin(c), `${c.keyword} without a url block: lvsplay checks path / (keepalived needs a url to check anything)`);
  if (type === 'misc' || type === 'ping') delete check['port'];
  return check;
}

/** A member check's value for a field it lacks where the service's check has one: no arguments, no dynamic weight. */
const UNSET: Record<string, unknown> = { args: [], misc_dynamic: false };

/**
 * A member's own `check:` over the service's check (load.ts memberCheck's rule): with the same
 * type it inherits every field it does not set, with another only the timing ones. A field the
 * service's check has and this checker lacks is set to its UNSET value; any other cannot be
 * unset, so that is reported instead.
 */
function memberDifference(base: Record<string, unknown>, own: Record<string, unknown>): MemberCheckInput | string {
  const sameType = base['type'] === own['type'];
  const inherited = Object.keys(base).filter((k) => k !== 'type' && (sameType || TIMING.includes(k)) && !['quiescent', 'alpha', 'omega', 'quorum', 'hysteresis'].includes(k));
  const stated = { ...own, ...Object.fromEntries(Object.entries(UNSET).filter(([k]) => inherited.includes(k) && own[k] === undefined)) };
  const lacking = inherited.filter((k) => stated[k] === undefined);
  if (lacking.length > 0) return `it lacks ${lacking.join(', ')}, which it would inherit from the service's check (the first real server's)`;
  const diff: Record<string, unknown> = sameType ? {} : { type: own['type'] };
  for (const [k, v] of Object.entries(stated)) if (k !== 'type' && (!inherited.includes(k) || !isDeepStrictEqual(base[k], v))) diff[k] = v;
  return diff as MemberCheckInput;
}

/**
 * What the instance holds against what lvsplay's would: every VIP of the pair's services (/32 or
 * /128 on the instance's interface) and the NAT gateway. A held address that is no VIP becomes the
 * NAT gateway when NAT services need one (a prefix shorter than a host's); anything else differs.
 */
export function resolveHeld(vrrp: ImportedVrrp & { held: HeldAddress[] }, services: ImportedService[], report: Report): void {
  const vips = new Map(services.flatMap((s) => (s.key.kind === 'inet' ? [[s.key.address, s] as const] : [])));
  const nat = services.some((s) => s.forwarding === 'nat' && s.key.kind === 'inet' && !s.key.address.includes(':'));
  for (const h of vrrp.held) {
    const full = h.address.includes(':') ? 128 : 32;
    const gateway = !vips.has(h.address) && nat && vrrp.natGateway === undefined && !h.address.includes(':') && h.prefix < 32;
    // lvsplay holds the NAT gateway on the director's interface in its subnet: on another interface, the imported director gets that one.
    const otherDev = h.dev !== undefined && h.dev !== vrrp.interface;
    const extras = [...(otherDev && !gateway ? [`dev ${h.dev} (the instance's interface is ${vrrp.interface ?? 'not set'})`] : []),
      ...(h.label !== undefined ? [`label ${h.label}`] : []), ...(h.rest.length > 0 ? [h.rest.join(' ')] : [])];
    if (vips.has(h.address)) {
      if (h.prefix !== full) report.notExpressed(h, `${h.address}/${h.prefix}: lvsplay's VRRP holds a VIP as /${full}`);
    } else if (gateway) {
      vrrp.natGateway = `${h.address}/${h.prefix}`;
      if (otherDev) vrrp.natGatewayInterface = h.dev;
      report.note(h, `${h.address}/${h.prefix} is no service's VIP: imported as nat_gateway, the NAT real servers' gateway${otherDev ? `, held on the director's ${h.dev} (its interface in that subnet)` : ''}`);
    } else {
      report.notExpressed(h, `${h.address}/${h.prefix}: no service's VIP${nat ? ' (and the NAT gateway is another)' : ''}; lvsplay's VRRP holds service VIPs and the NAT gateway only`);
      continue;
    }
    if (extras.length > 0) report.notExpressed(h, `${h.address}: ${extras.join(', ')}: lvsplay's VRRP puts addresses on the instance's interface, without other options`);
  }
  const held = new Set(vrrp.held.map((h) => h.address));
  for (const [vip, s] of vips) {
    if (!held.has(vip)) report.notExpressed(s.origin, `VIP ${vip} is not in vrrp_instance's virtual_ipaddress (line ${vrrp.origin.line}): lvsplay's VRRP instance would hold it too (it holds every VIP of the pair's services)`);
  }
}

/**
 * status_code's words as keepalived's status_code_handler reads them: a code, or MIN-MAX with both
 * in 100..599 and MIN <= MAX (as the inventory writes a range, "200-299"); any other word is one it
 * ignores.
 */
function statusCodes(words: readonly string[]): { codes: (number | string)[]; ignored: string[] } {
  const codes: (number | string)[] = [];
  const ignored: string[] = [];
  for (const word of words) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(word);
    const [min, max] = m ? [Number(m[1]), Number(m[2] ?? m[1])] : [NaN, NaN];
    if (!(min >= 100 && max <= 599 && min <= max)) ignored.push(word);
    else codes.push(min === max ? min : `${min}-${max}`);
  }
  return { codes, ignored };
}

const TRUE_FALSE: Record<string, boolean> = { true: true, on: true, yes: true, false: false, off: false, no: false };

/**
 * keepalived gives each real server the virtual_server's inhibit_on_failure unless it sets its own
 * (check_data.c: rs->inhibit = vs->inhibit when unset). The inventory's is the service's
 * (`quiescent`): the same on every real server is that; differing ones are reported at their lines.
 */
function inhibitOfMembers(members: ReadMember[], vsCheck: Record<string, unknown>, subject: string, at: Origin, report: Report): void {
  const own = members.filter((m) => m.inhibit !== undefined);
  const byDefault = vsCheck['quiescent'] === true;
  const effective = members.map((m) => m.inhibit?.value ?? byDefault);
  if (effective.every((v) => v === effective[0]) && effective[0] !== byDefault) {
    vsCheck['quiescent'] = effective[0];
    report.note(at, `${subject}: every real server sets inhibit_on_failure ${effective[0] ? 'on' : 'off'}: the service's quiescent: ${effective[0]} (a virtual_server-level inhibit_on_failure, which keepalived gives every real server)`);
  } else if (!effective.every((v) => v === effective[0])) {
    for (const m of own) if (m.inhibit!.value !== byDefault) report.notExpressed(m.inhibit!.at, `real server ${hostPort(m.address, m.port)}: inhibit_on_failure ${m.inhibit!.value ? 'on' : 'off'}, unlike the others: the inventory's quiescent is the whole service's (${byDefault})`);
  }
  for (const m of members) delete m.inhibit;
}
