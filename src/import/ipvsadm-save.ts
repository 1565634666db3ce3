/**
 * A saved IPVS table (`ipvsadm -S -n`, optionally with `ipvsadm -L -n --thresholds` for the -x/-y
 * that -S never saves) → imported services owned by lvsplay. The reading is the ipvs resource's own
 * (parseSave, parseThresholds): one parser of ipvsadm's output, whose canonical forms the round
 * trip compares against. This module only finds each line's number and says what the inventory
 * cannot hold: a persistence engine, flag bits without a name, a scheduler or netmask it refuses.
 */
import ipaddr from 'ipaddr.js';
import { SCHEDULERS } from '../inventory/schema.js';
import { canonicalAddress, hostPort } from '../inventory/addresses.js';
import { defaultNetmask, destKey, FLAG_3, keyFamily, lineSpec, printedFlags, printedSpec, serviceKey } from '../resources/ipvs/forms.js';
import { IpvsProbeError, listingHeaderLine, parseSave, parseThresholds, withThresholds } from '../resources/ipvs/parse.js';
import { type IpvsTable, sortedDests, sortedServices, type VirtualService } from '../resources/ipvs/table.js';
import { InputError } from '../util/problems.js';
import { distinctServers, type MethodMember, sharedForwarding } from './members.js';
import type { ImportedService, Origin } from './model.js';
import type { Report } from './report.js';

export interface SaveInput {
  file: string;
  text: string;
  thresholds?: { file: string; text: string };
}

/** The table as read, keyed like every ipvs table, and the services the inventory can hold. */
export function importSave(input: SaveInput, report: Report): { table: IpvsTable; services: ImportedService[] } {
  // A listing in place of a save is an easy slip (both come from ipvsadm): said once, not per line.
  const listing = listingHeaderLine(input.text);
  if (listing !== undefined) {
    throw new InputError([{
      file: input.file, line: listing, col: 1, field: '',
      message: 'this is what `ipvsadm -L -n` prints (a listing); --ipvsadm-save takes what `ipvsadm -S -n` prints (-A and -a lines), and a listing with --thresholds goes to --ipvsadm-thresholds',
    }]);
  }
  const table = parseSave(input.text, input.file);
  if (table.opaque) {
    throw new InputError([...table.opaque.values()].map((o) => ({
      file: input.file, line: o.line, col: 1, field: '',
      message: `${o.reason}; expected a line as \`ipvsadm -S -n\` prints it (-A or -a, then the service and its options)`,
    })));
  }
  if (input.thresholds) addThresholds(table, input.thresholds, report);
  const lines = lineNumbers(input.text);
  const services = sortedServices(table).flatMap((v) => {
    const at = { file: input.file, line: lines.get(printedSpec(v.key)) ?? 1 };
    const memberAt = (dk: string) => ({ file: input.file, line: lines.get(`${printedSpec(v.key)} ${dk}`) ?? at.line });
    const service = toService(v, at, memberAt, report);
    return service ? [service] : [];
  });
  return { table, services };
}

function addThresholds(table: IpvsTable, list: { file: string; text: string }, report: Report): void {
  let listed;
  try {
    listed = parseThresholds(list.text, list.file, (line, message) =>
      report.notExpressed({ file: list.file, line }, `this row (and the real server rows under it) cannot be read: ${message}; the thresholds it lists are not imported`));
  } catch (err) {
    if (!(err instanceof IpvsProbeError)) throw err;
    throw new InputError([{ file: list.file, line: 1, col: 1, field: '', message: `${err.message} (the output of ipvsadm -L -n --thresholds)` }]);
  }
  withThresholds(table, listed);
  for (const [key, service] of table.services) {
    const missing = [...service.dests.keys()].filter((dk) => !listed.get(key)?.has(dk));
    if (missing.length > 0) report.note({ file: list.file, line: 1 }, `no thresholds listed for ${key} real server(s) ${missing.join(', ')} (both files should come from one moment): imported as 0 (none)`);
  }
}

/** Line of each -A (by printed spec) and each -a (by printed spec and real server), 1-based. */
function lineNumbers(text: string): Map<string, number> {
  const at = new Map<string, number>();
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line.startsWith('-A ')) at.set(lineSpec(line), i + 1);
    const real = /^-a .* -r (\[([^\]]+)\]|[^\s:]+)(?::(\d+))?/.exec(line);
    if (real) {
      const address = canonicalAddress(real[2] ?? real[1]!);
      at.set(`${lineSpec(line)} ${hostPort(address, Number(real[3] ?? 0))}`, i + 1);
    }
  });
  return at;
}

function toService(v: VirtualService, at: Origin, memberAt: (dk: string) => Origin, report: Report): ImportedService | undefined {
  const name = serviceKey(v.key);
  if (!(SCHEDULERS as readonly string[]).includes(v.scheduler)) {
    report.notExpressed(at, `service ${name} (and its real servers): scheduler ${v.scheduler} is not one lvsplay knows (${SCHEDULERS.join(', ')})`);
    return undefined;
  }
  // sh and mh name bits 1 and 2 (sh-fallback, sh-port); every other bit is nameless in the inventory.
  const named = v.scheduler === 'sh' || v.scheduler === 'mh' ? printedFlags(v.scheduler, v.flags) : [];
  const nameless = v.scheduler === 'sh' || v.scheduler === 'mh' ? v.flags & FLAG_3 : v.flags;
  if (nameless !== 0) report.notExpressed(at, `service ${name}: scheduler flag bits ${printedFlags('', nameless).join(',')} on ${v.scheduler} (the inventory has only sh-/mh- fallback and port); imported without them`);
  if (v.pe !== undefined) report.notExpressed(at, `service ${name}: persistence engine --pe ${v.pe} (the inventory has none); imported without it`);
  const members: MethodMember[] = sortedDests(v).map((d) => ({
    origin: memberAt(destKey(d)), address: d.address, port: d.port, weight: d.weight,
    upperThreshold: d.upperThreshold, lowerThreshold: d.lowerThreshold, forwarding: d.method,
    ...(d.tunnel && { tunnel: d.tunnel }),
  }));
  const shared = sharedForwarding(members, report, 'dr');
  return {
    origin: at, owner: 'lvsplay', key: v.key, scheduler: v.scheduler, schedulerFlags: named,
    ...(v.persistence && { persistence: persistence(v, at, report) }),
    onePacket: v.onePacket, forwarding: shared.forwarding, ...(shared.tunnel && { tunnel: shared.tunnel }),
    members: distinctServers(shared.members, report),
  };
}

/** The netmask as the inventory writes it: absent at the family's default, a prefix length for IPv6, contiguous for IPv4. */
function persistence(v: VirtualService, at: Origin, report: Report): { timeout: number; netmask?: string | number } {
  const { timeout, netmask } = v.persistence!;
  const family = keyFamily(v.key);
  if (netmask === defaultNetmask(family)) return { timeout };
  if (family === 'ipv6') return { timeout, netmask: Number(netmask) };
  if (ipaddr.IPv4.parse(netmask).prefixLengthFromSubnetMask() === null) {
    report.notExpressed(at, `service ${serviceKey(v.key)}: persistence netmask ${netmask} is not contiguous (the inventory takes masks like 255.255.255.0); imported with the default 255.255.255.255`);
    return { timeout };
  }
  return { timeout, netmask };
}
