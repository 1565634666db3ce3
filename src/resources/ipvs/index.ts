/**
 * `ipvs`: the virtual services and real servers lvsplay owns on a director.
 * - desired: the lvsplay-owned services this director carries (desired.ts), and the persisted
 *   rules file (`cluster.rulesFile`) when the task says `save`.
 * - probe, in one fragment: `ipvsadm -S -n`, `ipvsadm -L -n --thresholds` (thresholds and
 *   connection counts, which -S never prints), the rules file, lvsplay's record of the services it
 *   made here, the services ldirectord's and keepalived's configs on the host list, and the
 *   scheduler modules the kernel could not load; a missing ipvsadm or ip_vs
 *   is an error, and so is a service (whoever owns it) whose scheduler the kernel lacks: a plan,
 *   `--check` too, says so before ipvsadm would refuse it.
 * - diff: minimal add/edit/delete operations (diff.ts), applied as one `ipvsadm -R` batch with a
 *   precise rollback (batch-script.ts, templates/ipvs/apply.sh.hbs), then the record and the rules
 *   file. Services someone else made, even ones ipvsadm prints in a way lvsplay cannot read, are
 *   left alone; lvsplay's own must read back exactly.
 * A real server carries no table: there the resource is a no-op.
 */
import { diffFile, type FileActual, type FileDesired, fileProbe, parseFileProbe } from '../file/index.js';
import { diffRecord, parseRecord, recordProbe } from '../record.js';
import { recordPath } from '../../inventory/host-files.js';
import { type Service, servicesOf } from '../../inventory/model.js';
import { defineResource } from '../resource.js';
import { framed, splitSections } from '../sections.js';
import { applyData, renderApply } from './batch-script.js';
import { type DesiredTable, desiredTable, keyOf, tableOf, withRuntimeWeights } from './desired.js';
import { drainedProbe, parseDrained, withDrained } from '../drained.js';
import type { Templates } from '../../templates/templates.js';
import { diffTables } from './diff.js';
import { lineSpec, printedSpec, serviceKey } from './forms.js';
import { keepalivedKeys, keepalivedVirtualsProbe } from '../keepalived/keys.js';
import { ldirectordKeys } from './ldirectord-keys.js';
import { rulesLines } from './lines.js';
import { IpvsProbeError, parseSave, parseThresholds, probePart, withThresholds } from './parse.js';
import { emptyTable, type IpvsTable, type ServiceKey } from './table.js';

export interface IpvsDesired extends DesiredTable {
  /** False on a real server: nothing to probe or change. */
  director: boolean;
  purge: boolean;
  graceful: boolean;
  /** Seconds a removed real server that still has connections may take to go idle, then is deleted in the same run. */
  drainWait: number;
  /** The persisted rules file (with `save: true`). */
  rules?: FileDesired;
  /** ldirectord's config on the host, whose services are its own (and which it may release). */
  ldirectordConfig: string;
  /** lvsplay's record of the services it made on this director. */
  record: string;
  /** Every service this director carries, whoever owns it, by the kernel module its scheduler is (ip_vs_<scheduler>). */
  modules: Map<string, string[]>;
}

export interface IpvsActual {
  table: IpvsTable;
  /** The probed `ipvsadm -S -n` text, which the apply script checks is still current. */
  save: string;
  rules?: FileActual;
  /** Service keys lvsplay recorded it made here; undefined when there is no record. */
  recorded?: string[];
  /** Service keys (with their ServiceKey) in ldirectord's or keepalived's config on the host. */
  ldirectord: Map<string, ServiceKey>;
  /** Real servers drained on this director (their addresses): weight 0 until undrained. */
  drained: Set<string>;
  /** Set by `undrain`: real servers leaving the drained record in this run, back at the inventory's weight. */
  undrained?: ReadonlySet<string>;
  /** Modules of `IpvsDesired.modules` the kernel could not load. */
  unloadable: string[];
}

const SAVE = ['-S', '-n'];
/**
 * Services above which the probe's output is large enough that a process shrinking or speeding it
 * costs less than it saves (each process ~50-100 ms on an emulated director): the listing's
 * padding squeezed, the record read by `cat`.
 */
const LARGE_TABLE = 100;
const LIST = ['-L', '-n', '--thresholds'];

function probed(part: string | undefined, args: string[]): string {
  try {
    return probePart(part, `ipvsadm ${args.join(' ')}`);
  } catch (err) {
    if (err instanceof IpvsProbeError && /Can't initialize ipvs/.test(err.message)) {
      throw new IpvsProbeError(`${err.message} (the ip_vs kernel module is missing or cannot be loaded)`);
    }
    throw err;
  }
}

export const ipvs = defineResource({
  kind: 'ipvs',
  desired(ctx, args): IpvsDesired {
    const base = {
      ...desiredTable(ctx.cluster, ctx.host), director: ctx.host.kind === 'director', purge: args.purge, graceful: args.graceful, drainWait: args.graceful ? args.drain_wait : 0,
      ldirectordConfig: ctx.cluster.ldirectord.configFile, record: recordPath(ctx.cluster, 'ipvs-services'),
      modules: ctx.host.kind === 'director' ? kernelModules(servicesOf(ctx.cluster, ctx.host)) : new Map<string, string[]>(),
    };
    if (!base.director || !args.save) return base;
    const content = ctx.templates.render('ipvs/ipvsadm.rules.hbs', { lines: rulesLines(base.table) });
    return { ...base, rules: { path: ctx.cluster.rulesFile, content, mode: '0644' } };
  },
  probe(desired, ctx) {
    if (!desired.director) return ': # ipvs: a real server has no IPVS table\n';
    const large = desired.table.services.size > LARGE_TABLE;
    const table = framed('save', ctx.templates.render('ipvs/probe.sh.hbs', { args: SAVE }))
      + framed('thresholds', ctx.templates.render('ipvs/probe.sh.hbs', { args: LIST, squeeze: large }))
      + framed('record', recordProbe(ctx.templates, desired.record, large))
      + framed('ldirectord', ctx.templates.render('ipvs/ldirectord-virtuals.sh.hbs', { path: desired.ldirectordConfig }))
      + framed('keepalived', keepalivedVirtualsProbe(ctx.templates))
      + framed('drained', drainedProbe(ctx.templates, ctx.cluster))
      + (desired.modules.size > 0 ? framed('modules', ctx.templates.render('ipvs/modules.sh.hbs', { modules: [...desired.modules.keys()] })) : '');
    return desired.rules ? table + framed('rules', fileProbe(ctx.templates, desired.rules.path, { expected: desired.rules.content })) : table;
  },
  parse(output, desired): IpvsActual {
    const parts = splitSections(output);
    // No parts at all is "no facts" (`lvsplay render`, a facts file without this task): nothing there.
    // A real probe always prints its part markers, and a part without its "ok" trailer is an error.
    if (!desired.director || parts.size === 0) return { table: emptyTable(), save: '', ldirectord: new Map(), drained: new Set(), unloadable: [] };
    const save = probed(parts.get('save'), SAVE);
    const table = withThresholds(parseSave(save), parseThresholds(probed(parts.get('thresholds'), LIST)));
    const recorded = parseRecord(parts.get('record') ?? '@@absent');
    // Services another owner's config lists (ldirectord's or keepalived's): one it may release.
    const ldirectord = new Map([...ldirectordKeys(parts.get('ldirectord') ?? ''), ...keepalivedKeys(parts.get('keepalived') ?? '')]);
    const drained = parseDrained(parts.get('drained'));
    const rules = parts.get('rules');
    // no part (saved facts from before it was probed): nothing known to be missing
    const unloadable = (parts.get('modules') ?? '').split('\n').filter((m) => desired.modules.has(m));
    return { table, save, ldirectord, drained, unloadable, ...(recorded && { recorded }), ...(desired.rules && rules !== undefined && { rules: parseFileProbe(rules, desired.rules.content) }) };
  },
  diff(given, actual, ctx) {
    if (!given.director) return { changes: [], script: '' };
    refuseUnloadable(given.modules, actual.unloadable, ctx.host.name);
    const desired = withRuntime(drainedDesired(given, actual.drained, ctx.templates), actual);
    const wanted = new Set(desired.table.services.keys());
    // ldirectord (or keepalived) releases these in this run: its task (before this one) reloads it without them.
    const released = new Set([...actual.ldirectord.keys()].filter((k) => wanted.has(k)));
    const deletable = new Set([...desired.declared, ...(actual.recorded ?? [])].filter((k) => !desired.foreign.has(k)));
    refuseUnreadable(actual.table, [...wanted, ...deletable], desired.table, actual);
    const { operations, pending } = diffTables(desired.table, actual.table, { ...desired, deletable, released });
    const changes = [...operations.map((op) => op.change), ...pending];
    const scripts: string[] = [];
    if (operations.length > 0) {
      const gone = new Set([...released].map((k) => printedSpec(actual.ldirectord.get(k)!)));
      const expected = actual.save.split('\n').filter((l) => !gone.has(lineSpec(l))).join('\n');
      scripts.push(renderApply(ctx.templates, applyData(operations, expected), desired.drainWait));
    }
    const record = diffRecord(desired.record, [...wanted], actual.recorded, ctx.templates, 'IPVS services');
    changes.push(...record.changes);
    if (record.script) scripts.push(record.script);
    if (desired.rules) {
      const persisted = diffFile(desired.rules, actual.rules ?? { present: false }, ctx.templates);
      changes.push(...persisted.changes);
      if (persisted.script) scripts.push(persisted.script);
    }
    return { changes, script: scripts.join('\n') };
  },
});

/** The desired state with the servers drained on this director at weight 0 (table and rules file alike). */
function drainedDesired(desired: IpvsDesired, drained: ReadonlySet<string>, templates: Templates): IpvsDesired {
  if (![...desired.table.services.values()].some((s) => [...s.dests.values()].some((d) => drained.has(d.address)))) return desired;
  const table = tableOf(withDrained(desired.services, drained));
  const rules = desired.rules && { ...desired.rules, content: templates.render('ipvs/ipvsadm.rules.hbs', { lines: rulesLines(table) }) };
  return { ...desired, table, ...(rules && { rules }) };
}

/**
 * Members whose weight the runtime owns (weight_policy: initial) at the weight the director has:
 * in the table only, so the rules file a boot restores keeps the inventory's weight.
 */
function withRuntime(desired: IpvsDesired, actual: IpvsActual): IpvsDesired {
  if (!desired.services.some((s) => s.realServers.some((m) => m.runtimeWeight))) return desired;
  return { ...desired, table: withRuntimeWeights(desired.table, desired.services, actual.table, actual.drained, actual.undrained ?? new Set()) };
}

/** The kernel module of each service's scheduler, as the kernel's request_module names it (ip_vs_<scheduler>): module → services. */
function kernelModules(services: readonly Service[]): Map<string, string[]> {
  const modules = new Map<string, string[]>();
  for (const s of services) {
    const module = `ip_vs_${s.scheduler}`;
    modules.set(module, [...(modules.get(module) ?? []), `${s.name} (${serviceKey(keyOf(s))}${s.managedBy === 'lvsplay' ? '' : `, ${s.managedBy}'s`})`]);
  }
  return modules;
}

/**
 * A service whose scheduler's module the kernel cannot load would be refused by ipvsadm (and by
 * ldirectord's or keepalived's calls to IPVS): said for the whole director before anything runs,
 * rather than found by the apply (and rolled back) or in a daemon's log.
 */
function refuseUnloadable(modules: ReadonlyMap<string, string[]>, unloadable: readonly string[], host: string): void {
  if (unloadable.length === 0) return;
  const what = unloadable.map((m) => `scheduler ${m.slice('ip_vs_'.length)} (module ${m}), used by ${modules.get(m)!.join(', ')}`);
  throw new IpvsProbeError(`${host}'s kernel has no ${what.join('; no ')}: the module is not loaded and modprobe cannot find it, so IPVS would refuse the service ("Scheduler or persistence engine not found"); use a scheduler this kernel has, or install its module`);
}

/** A service lvsplay owns must read back exactly; someone else's unreadable rule is their business. */
function refuseUnreadable(table: IpvsTable, owned: string[], desired: IpvsTable, actual: IpvsActual): void {
  if (!table.opaque) return;
  for (const key of owned) {
    const spec = desired.services.get(key)?.key ?? actual.table.services.get(key)?.key ?? keyFromString(key);
    const aside = spec && table.opaque.get(printedSpec(spec));
    if (aside) throw new IpvsProbeError(`lvsplay's service ${key} cannot be read back: ${aside.error}`);
  }
}

/** `tcp 192.0.2.10:80` / `fwmark 1 ipv4` → the key (records hold these strings). */
function keyFromString(text: string): ServiceKey | undefined {
  const fw = /^fwmark (\d+) (ipv4|ipv6)$/.exec(text);
  if (fw) return { kind: 'fwmark', fwmark: Number(fw[1]), family: fw[2] as 'ipv4' | 'ipv6' };
  const inet = /^(tcp|udp|sctp) (?:\[([^\]]+)\]|([0-9.]+)):(\d+)$/.exec(text);
  if (inet) return { kind: 'inet', protocol: inet[1] as 'tcp' | 'udp' | 'sctp', address: inet[2] ?? inet[3]!, port: Number(inet[4]) };
  return undefined;
}
