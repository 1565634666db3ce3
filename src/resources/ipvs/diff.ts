/**
 * The smallest ordered set of ipvsadm operations that turns the probed table into the desired one,
 * each with its batch line (for `ipvsadm -R`), the exact inverse computed from the probed table
 * (for rollback), and a Change for people.
 *
 * Rules (lvs-notes §2):
 * - -E and -e replace every field, so their lines always carry the full spec.
 * - A key is never edited: a service or real server whose key differs is another one (delete + add).
 * - Never -C. A service is deleted only when lvsplay may: the inventory gives it to lvsplay (on
 *   another director, say), lvsplay's record says it created it here, or `purge`. A service another
 *   owner has (ldirectord, keepalived) is never touched; one ldirectord is releasing in this run
 *   (still in its running config, no longer in the inventory's) is planned as if already gone.
 * - Graceful removal (kube-proxy's graceful termination): a leaving TCP (or fwmark) real server
 *   with connections is set to weight 0; while it drains the plan only reports it (a pending change,
 *   nothing to run); once drained it is deleted. Every delete of a TCP real server is conditional:
 *   the apply script re-reads its counts right before, and drains instead when connections
 *   appeared since the probe. A UDP or SCTP real server is deleted at once: conntrack keeps a
 *   weight-0 UDP server busy for as long as its clients keep sending.
 */
import type { Change } from '../../plan/types.js';
import {
  deleteDestLine, deleteServiceLine, destLine, serviceBlock, serviceLine,
} from './lines.js';
import { cloneDest, cloneService, compareServiceKeys, type Destination, type IpvsTable, sameDestSettings, sameServiceSettings, type ServiceKey, sortedDests, type VirtualService } from './table.js';
import { hostPort } from '../../inventory/addresses.js';
import { defaultNetmask, destKey, keyFamily, printedFlags, printedSpec, serviceKey } from './forms.js';

export interface DiffOptions {
  purge: boolean;
  graceful: boolean;
  /** Keys lvsplay may delete here when not desired: the inventory gives them to lvsplay, or lvsplay's record says it made them here. */
  deletable: ReadonlySet<string>;
  /** Keys another owner (ldirectord, keepalived) has: never touched, even with purge. */
  foreign: ReadonlySet<string>;
  /** Keys ldirectord releases in this run (they leave its running config before this batch runs): planned as absent. */
  released?: ReadonlySet<string>;
}

export type OperationKind = 'add-service' | 'edit-service' | 'delete-service' | 'add-dest' | 'edit-dest' | 'drain-dest' | 'delete-dest';

/**
 * A delete the apply script re-checks right before the batch: when the real server has
 * connections by then, `drain` runs instead (weight 0), or nothing when it is already at weight 0.
 */
export interface Conditional {
  /** The service as `ipvsadm -L -n` heads it: `TCP 192.0.2.10:80`, `FWM 1`, `FWM 2 IPv6`. */
  listed: string;
  /** The real server as `ipvsadm -L -n` lists it: `192.0.2.21:80`. */
  dest: string;
  drain?: { line: string; inverse: string };
}

export interface Operation {
  kind: OperationKind;
  /** Service key, e.g. `tcp 192.0.2.10:80`. */
  service: string;
  /** The service as `ipvsadm -S -n` prints it (`-t 192.0.2.10:80`, `-f -1`): how the script finds its lines. */
  spec: string;
  /** Real-server key, e.g. `192.0.2.21:80`. */
  dest?: string;
  /** ipvsadm arguments, without the word ipvsadm: one line of the `ipvsadm -R` batch. */
  line: string;
  /** Lines that undo `line` on the probed table, in the order to run them. */
  inverse: string[];
  change: Change;
  conditional?: Conditional;
  /** A drain of a leaving real server: deleted by `line` once idle, within the run's drain_wait. */
  removal?: { listed: string; dest: string; line: string };
}

export interface TableDiff {
  operations: Operation[];
  /** Real servers still draining: reported, nothing to run for them now. */
  pending: Change[];
  /** The probed table with the operations applied (what the kernel will show afterwards). */
  result: IpvsTable;
}

const METHOD_NAME = { dr: 'dr', tun: 'tun', nat: 'nat' } as const;

function flagText(s: VirtualService): string {
  return s.flags === 0 ? 'none' : printedFlags(s.scheduler, s.flags).join(',') || `bits ${s.flags}`;
}

/** `wlc (sh-port) persistent 300 mask 255.255.255.0 pe sip ops`, like `ipvsadm -L`. */
export function describeService(s: VirtualService): string {
  let out = s.scheduler;
  if (s.flags !== 0) out += ` (${flagText(s)})`;
  if (s.persistence) {
    out += ` persistent ${s.persistence.timeout}`;
    if (s.persistence.netmask !== defaultNetmask(keyFamily(s.key))) out += ` mask ${s.persistence.netmask}`;
  }
  if (s.pe !== undefined) out += ` pe ${s.pe}`;
  if (s.onePacket) out += ' ops';
  return out;
}

function tunnelText(d: Destination): string {
  if (!d.tunnel) return 'none';
  const t = d.tunnel;
  return [t.type, ...(t.port !== undefined ? [`port ${t.port}`] : []), ...(t.checksum !== undefined ? [t.checksum] : [])].join(' ');
}

/** `dr, weight 3` plus thresholds and tunnel when set. */
export function describeDest(d: Destination): string {
  let out = `${METHOD_NAME[d.method]}, weight ${d.weight}`;
  if (d.upperThreshold !== 0 || d.lowerThreshold !== 0) out += `, thresholds ${d.upperThreshold}/${d.lowerThreshold}`;
  if (d.tunnel) out += `, tunnel ${tunnelText(d)}`;
  return out;
}

function serviceEdits(from: VirtualService, to: VirtualService): string[] {
  const out: string[] = [];
  const field = (name: string, a: string, b: string) => a !== b && out.push(`${name} ${a} → ${b}`);
  field('scheduler', from.scheduler, to.scheduler);
  field('flags', flagText(from), flagText(to));
  field('persistence', from.persistence ? String(from.persistence.timeout) : 'off', to.persistence ? String(to.persistence.timeout) : 'off');
  if (from.persistence && to.persistence) field('netmask', from.persistence.netmask, to.persistence.netmask);
  field('pe', from.pe ?? 'none', to.pe ?? 'none');
  field('one-packet', from.onePacket ? 'on' : 'off', to.onePacket ? 'on' : 'off');
  return out;
}

function destEdits(from: Destination, to: Destination): string[] {
  const out: string[] = [];
  const field = (name: string, a: string, b: string) => a !== b && out.push(`${name} ${a} → ${b}`);
  field('method', from.method, to.method);
  field('weight', String(from.weight), String(to.weight));
  field('upper threshold', String(from.upperThreshold), String(to.upperThreshold));
  field('lower threshold', String(from.lowerThreshold), String(to.lowerThreshold));
  field('tunnel', tunnelText(from), tunnelText(to));
  return out;
}

function connections(d: Destination): number | undefined {
  return d.conns === undefined ? undefined : d.conns.active + d.conns.inactive;
}

export function diffTables(desired: IpvsTable, actual: IpvsTable, opts: DiffOptions): TableDiff {
  const operations: Operation[] = [];
  const pending: Change[] = [];
  // Copy-on-write: services are cloned into the result only when an operation changes them.
  const result: IpvsTable = { services: new Map(actual.services) };
  const keys = new Map<string, ServiceKey>();
  for (const t of [actual, desired]) for (const [key, s] of t.services) keys.set(key, s.key);
  const ordered = [...keys].sort(([, a], [, b]) => compareServiceKeys(a, b)).map(([key]) => key);

  for (const key of ordered) {
    if (opts.foreign.has(key)) continue;
    const want = desired.services.get(key);
    const have = opts.released?.has(key) ? undefined : actual.services.get(key);
    const ops: Operation[] = [];
    const spec = printedSpec((want ?? have ?? actual.services.get(key))!.key);

    if (want && !have) {
      ops.push({
        kind: 'add-service', service: key, spec, line: serviceLine('-A', want), inverse: [deleteServiceLine(want)],
        change: { id: key, action: 'add', summary: `+ add service ${key} ${describeService(want)}` },
      });
      const added = { ...cloneService(want), dests: new Map<string, Destination>() };
      result.services.set(key, added);
      for (const d of sortedDests(want)) ops.push(addDest(want, d, added, []));
    } else if (have && !want) {
      if (!opts.deletable.has(key) && !opts.purge) continue;
      const n = have.dests.size;
      const why = opts.deletable.has(key) ? '' : ' (not in the inventory; purge)';
      ops.push({
        kind: 'delete-service', service: key, spec, line: deleteServiceLine(have),
        inverse: [serviceLine('-A', have), ...sortedDests(have).map((d) => destLine('-a', have, d, 'always'))],
        change: { id: key, action: 'delete', summary: `- delete service ${key}${n > 0 ? ` and its ${n} real server${n === 1 ? '' : 's'}` : ''}${why}` },
      });
      result.services.delete(key);
    } else if (want && have) {
      let owned: VirtualService | undefined;
      const target = (): VirtualService => {
        if (!owned) result.services.set(key, (owned = cloneService(have)));
        return owned;
      };
      if (!sameServiceSettings(have, want)) {
        const edits = serviceEdits(have, want);
        ops.push({
          kind: 'edit-service', service: key, spec, line: serviceLine('-E', want), inverse: [serviceLine('-E', have)],
          change: { id: key, action: 'change', summary: `~ edit service ${key} ${edits.join(', ')}` },
        });
        const edited = target();
        Object.assign(edited, { ...cloneService(want), dests: edited.dests });
        if (!want.persistence) delete edited.persistence;
        if (want.pe === undefined) delete edited.pe;
      }
      const leaving = sortedDests(have).filter((d) => !want.dests.has(destKey(d)));
      for (const d of sortedDests(want)) {
        const old = have.dests.get(destKey(d));
        if (!old) {
          const replaces = leaving.filter((l) => l.address === d.address).map(destKey);
          ops.push(addDest(want, d, target(), replaces));
        } else if (!sameDestSettings(old, d)) {
          ops.push(editDest(want, old, d, target()));
        }
      }
      for (const d of leaving) {
        const op = removeDest(have, d, opts.graceful, target);
        if (op) ops.push(op);
      }
      for (const d of leaving) {
        const note = stillDraining(have, d, opts.graceful);
        if (note) pending.push(note);
      }
    }

    if (ops.length === 0) continue;
    const before = have ? serviceBlock(have, 'nonzero').join('\n') + '\n' : '';
    const after = result.services.has(key) ? serviceBlock(result.services.get(key)!, 'nonzero').join('\n') + '\n' : '';
    // --diff text once per service: the old and new `-S -n` block (with -x/-y), on its first change.
    ops[0]!.change = { ...ops[0]!.change, before, after };
    operations.push(...ops);
  }
  return { operations, result, pending };
}

function addDest(s: VirtualService, d: Destination, target: VirtualService, replaces: string[]): Operation {
  const key = serviceKey(s.key);
  const spec = printedSpec(s.key);
  const dk = destKey(d);
  const { conns: _, ...added } = cloneDest(d);
  target.dests.set(dk, added);
  const note = replaces.length > 0 ? `; replaces ${replaces.join(', ')}` : '';
  return {
    kind: 'add-dest', service: key, spec, dest: dk, line: destLine('-a', s, d, 'always'), inverse: [deleteDestLine(s, d)],
    change: { id: `${key} ${dk}`, action: 'add', summary: `+ add real server ${dk} to ${key} (${describeDest(d)}${note})` },
  };
}

function editDest(s: VirtualService, old: Destination, d: Destination, target: VirtualService): Operation {
  const key = serviceKey(s.key);
  const spec = printedSpec(s.key);
  const dk = destKey(d);
  target.dests.set(dk, { ...cloneDest(d), ...(old.conns && { conns: { ...old.conns } }) });
  const edits = destEdits(old, d);
  const summary = edits.length === 1 && old.weight !== d.weight
    ? `~ weight ${dk} in ${key} ${old.weight} → ${d.weight}`
    : `~ edit real server ${dk} in ${key} ${edits.join(', ')}`;
  return {
    kind: 'edit-dest', service: key, spec, dest: dk, line: destLine('-e', s, d, 'always'), inverse: [destLine('-e', s, old, 'always')],
    change: { id: `${key} ${dk}`, action: 'change', summary },
  };
}

/** TCP and fwmark services drain; UDP and SCTP do not (their "connections" never end while clients send). */
function drains(s: VirtualService): boolean {
  return s.key.kind === 'fwmark' || s.key.protocol === 'tcp';
}

/** `TCP 192.0.2.10:80`, `UDP [2001:db8::1]:53`, `FWM 1`, `FWM 2 IPv6`: a service as `ipvsadm -L -n` heads it. */
export function listedService(s: VirtualService): string {
  if (s.key.kind === 'fwmark') return `FWM ${s.key.fwmark >= 2 ** 31 ? s.key.fwmark - 2 ** 32 : s.key.fwmark}${s.key.family === 'ipv6' ? ' IPv6' : ''}`;
  return `${s.key.protocol.toUpperCase()} ${hostPort(s.key.address, s.key.port)}`;
}

function removeDest(s: VirtualService, d: Destination, graceful: boolean, target: () => VirtualService): Operation | undefined {
  const key = serviceKey(s.key);
  const spec = printedSpec(s.key);
  const dk = destKey(d);
  const conns = connections(d);
  const deleteOp = (conditional?: Conditional, settles?: true): Operation => {
    target().dests.delete(dk);
    return {
      kind: 'delete-dest', service: key, spec, dest: dk, line: deleteDestLine(s, d), inverse: [destLine('-a', s, d, 'always')],
      change: { id: `${key} ${dk}`, action: 'delete', summary: `- delete real server ${dk} from ${key}${settles ? ' (drained)' : ''}`, ...(settles && { settles }) },
      ...(conditional && { conditional }),
    };
  };
  if (!graceful || !drains(s)) return deleteOp();
  const drained = { ...cloneDest(d), weight: 0 };
  const drainLine = destLine('-e', s, drained, 'always');
  const undoDrain = destLine('-e', s, d, 'always');
  if (conns === 0) {
    // Re-checked by the script: a connection that arrived since the probe turns it into a drain.
    const conditional: Conditional = { listed: listedService(s), dest: dk, ...(d.weight !== 0 && { drain: { line: drainLine, inverse: undoDrain } }) };
    return deleteOp(conditional, d.weight === 0 ? true : undefined);
  }
  // Has (or may have) connections: quiesce; a later run deletes it once drained.
  if (d.weight === 0) return undefined;
  target().dests.set(dk, drained);
  const count = conns === undefined ? 'connections unknown' : `${conns} connection${conns === 1 ? '' : 's'}`;
  return {
    kind: 'drain-dest', service: key, spec, dest: dk, line: drainLine, inverse: [undoDrain],
    removal: { listed: listedService(s), dest: dk, line: deleteDestLine(s, d) },
    change: { id: `${key} ${dk}`, action: 'change', summary: `~ drain real server ${dk} in ${key}: weight ${d.weight} → 0 (${count}; deleted once drained)` },
  };
}

/** A leaving real server already at weight 0 with connections: the plan has nothing to run for it, and says so. */
function stillDraining(s: VirtualService, d: Destination, graceful: boolean): Change | undefined {
  const conns = connections(d);
  if (!graceful || !drains(s) || d.weight !== 0 || conns === 0) return undefined;
  const key = serviceKey(s.key);
  const count = conns === undefined ? 'connections unknown' : `${conns} connection${conns === 1 ? '' : 's'} left`;
  return { id: `${key} ${destKey(d)}`, action: 'delete', summary: `… real server ${destKey(d)} in ${key} draining (weight 0, ${count}): deleted once drained`, pending: true };
}
