/**
 * `drain` and `undrain`, delegated: they run on every director carrying the play's host (the
 * subject, a real server). Draining puts the subject's addresses in the director's drained record
 * (drained.ts) and brings the director's services to the inventory with that record — the ipvs
 * and ldirectord resources do the work, so lvsplay's services get `ipvsadm -e ... -w 0` in one
 * batch and ldirectord's services a config with weight 0, reloaded: ldirectord's own mechanism,
 * never behind its back. Then it waits, reading the director's table, until the subject's
 * connections end or the deadline passes (the play says whether that fails). Undraining removes
 * the subject from the record and so restores the inventory's weights.
 *
 * A real server of a keepalived-checked service on the director is refused before anything changes:
 * keepalived keeps its own weights (a weight set behind its back is undone at its next reload),
 * and lvsplay does not yet render a drained server into keepalived.conf.
 *
 * A drain touches the subject and nothing else: a director that differs from the inventory in
 * anything but the subject's weights is refused before anything changes (converge it first), so a
 * rollout never ships an unrelated inventory edit as a side effect of taking a server out.
 */
import type { RealServer } from '../../inventory/model.js';
import type { TaskArgs } from '../../playbook/model.js';
import type { Change } from '../../plan/types.js';
import { TASK_ARGS } from '../../playbook/tasks.js';
import { drainedRecord } from '../drained.js';
import { redact, withContent } from '../file/index.js';
import { hostPort } from '../../inventory/addresses.js';
import { ipvs, type IpvsActual, type IpvsDesired } from '../ipvs/index.js';
import { listedService } from '../ipvs/diff.js';
import { ldirectord, type LdirectordActual, ldirectordContent, type LdirectordDesired } from '../ldirectord/index.js';
import { REDACT as LDIRECTORD_REDACT } from '../ipvs/ldirectord-keys.js';
import { diffRecord } from '../record.js';
import { defineResource, type HostContext, type Resource } from '../resource.js';
import { framed, RESOURCE_MARK, splitSections } from '../sections.js';
import type { Destination } from '../ipvs/table.js';
import type { Secret } from '../../util/secret.js';

export interface DrainDesired {
  subject: string;
  /** The subject's addresses, as the director's table and record hold them. */
  addresses: string[];
  ipvs: IpvsDesired;
  ldirectord: LdirectordDesired;
  record: string;
  wait?: TaskArgs<'drain'>;
  /** The director as the inventory wants it without the subject: what must already be true. */
  others: { ipvs: IpvsDesired; ldirectord: LdirectordDesired };
}

export interface DrainActual {
  ipvs: IpvsActual;
  ldirectord: LdirectordActual;
}

function subjectOf(ctx: HostContext, kind: 'drain' | 'undrain'): RealServer {
  if (!ctx.subject) throw new Error(`${kind} runs on the directors carrying a real server: the play's hosts must be real servers`);
  return ctx.subject;
}

function desiredFor(ctx: HostContext, kind: 'drain' | 'undrain', wait?: TaskArgs<'drain'>): DrainDesired {
  const subject = subjectOf(ctx, kind);
  const services = ctx.cluster.services.map((s) => ({ ...s, realServers: s.realServers.filter((m) => m.server !== subject.name) }));
  const without = { ...ctx, cluster: { ...ctx.cluster, services } };
  return {
    others: { ipvs: ipvs.desired(without, TASK_ARGS.ipvs.parse({ save: false })), ldirectord: ldirectord.desired(without, TASK_ARGS.ldirectord.parse({})) },
    subject: subject.name,
    addresses: [subject.address, ...(subject.address6 ? [subject.address6] : [])],
    ipvs: ipvs.desired(ctx, TASK_ARGS.ipvs.parse({})),
    ldirectord: ldirectord.desired(ctx, TASK_ARGS.ldirectord.parse({})),
    record: drainedRecord(ctx.cluster),
    ...(wait && { wait }),
  };
}

const probeBoth = (desired: DrainDesired, ctx: HostContext) =>
  framed('ipvs', ipvs.probe(desired.ipvs, ctx), RESOURCE_MARK) + framed('ldirectord', ldirectord.probe(desired.ldirectord, ctx), RESOURCE_MARK);

function parseBoth(output: string, desired: DrainDesired): DrainActual {
  const parts = splitSections(output, RESOURCE_MARK);
  return { ipvs: ipvs.parse(parts.get('ipvs') ?? '', desired.ipvs), ldirectord: ldirectord.parse(parts.get('ldirectord') ?? '', desired.ldirectord) };
}

/** The ipvs and ldirectord plans for the director with `drained` as its record, and the record itself. */
function converge(desired: DrainDesired, actual: DrainActual, drained: Set<string>, ctx: HostContext): { changes: Change[]; scripts: string[]; secrets?: Secret[] } {
  refuseUnrelated(desired, actual, ctx);
  const ld = ldirectord.diff(desired.ldirectord, { ...actual.ldirectord, drained }, ctx);
  const undrained = new Set([...actual.ipvs.drained].filter((a) => !drained.has(a)));
  const table = ipvs.diff(desired.ipvs, { ...actual.ipvs, drained, undrained }, ctx);
  const record = diffRecord(desired.record, [...drained], actual.ipvs.drained.size > 0 || actual.ipvs.recorded ? [...actual.ipvs.drained].sort() : undefined, ctx.templates, 'drained real servers');
  // ldirectord.cf with a check's password travels as a token (util/secret.ts)
  return { changes: [...ld.changes, ...table.changes, ...record.changes], scripts: [ld.script, table.script, record.script].filter((s) => s !== ''), ...(ld.secrets && { secrets: ld.secrets }) };
}

/**
 * Throws when the director differs from the inventory in more than the subject: its table and
 * ldirectord's config compared with the subject taken out of both. Servers still draining out
 * (pending deletes) are a run in progress, not a difference.
 */
function refuseUnrelated(desired: DrainDesired, actual: DrainActual, ctx: HostContext): void {
  const subject = new Set(desired.addresses);
  const services = new Map([...actual.ipvs.table.services].map(([k, s]) => [k, { ...s, dests: new Map([...s.dests].filter(([, d]) => !subject.has(d.address))) }]));
  const table = ipvs.diff(desired.others.ipvs, { ...actual.ipvs, table: { ...actual.ipvs.table, services } }, ctx).changes
    .filter((c) => !c.settles && c.id !== desired.others.ipvs.record);
  // The config comes back with its passwords cut out (it is probed as a secret): compared the
  // same way, a password is not seen (and a drain writes the inventory's, which it must know).
  const file = actual.ldirectord.file;
  const others = ldirectordContent(desired.others.ldirectord, actual.ldirectord.drained, ctx);
  const rest = file.present ? withoutReals(file.content, subject) : '';
  const same = others !== undefined && redact(rest, LDIRECTORD_REDACT) === redact(others, LDIRECTORD_REDACT);
  const config = file.present ? withContent(file, same ? others : rest) : file;
  const ld = ldirectord.diff(desired.others.ldirectord, { ...actual.ldirectord, file: config }, ctx).changes;
  const drift = [...ld, ...table];
  if (drift.length === 0) return;
  const shown = drift.slice(0, 5).map((c) => c.summary).join('; ');
  throw new Error(`${ctx.host.name} differs from the inventory in more than ${desired.subject}'s weights (${drift.length} change${drift.length === 1 ? '' : 's'}: ${shown}${drift.length > 5 ? '; …' : ''}): bring the directors to the inventory first (playbooks/bootstrap.yml), then drain`);
}

/** Throws when the subject is a real server of a keepalived-checked service on this director (see the file comment). */
function refuseKeepalived(desired: DrainDesired, ctx: HostContext): void {
  const owned = ctx.cluster.services.filter((s) => s.directors.includes(ctx.host.name) && s.managedBy === 'keepalived' && s.realServers.some((m) => m.server === desired.subject));
  if (owned.length === 0) return;
  throw new Error(`${desired.subject} is a real server of ${[...new Set(owned.map((s) => s.name))].join(', ')}, checked by keepalived on ${ctx.host.name}: lvsplay cannot drain it through keepalived yet (a weight set behind keepalived's back is undone at its next reload). Nothing was changed; take it out with keepalived's own check (stop what it checks), or let ldirectord or lvsplay own the service`);
}

/** ldirectord.cf without the real= lines of these addresses (IPv6 ones in brackets). */
function withoutReals(config: string, addresses: ReadonlySet<string>): string {
  return config.split('\n').filter((line) => {
    const m = /^\s*real6?\s*=\s*(?:\[([^\]]+)\]|([^\s:]+))/.exec(line);
    return !m || !addresses.has(m[1] ?? m[2]!);
  }).join('\n');
}

/** The subject's real servers in the director's probed table, with their counts. */
function subjectDests(actual: DrainActual, addresses: readonly string[]): { listed: string; dest: Destination }[] {
  return [...actual.ipvs.table.services.values()].flatMap((s) =>
    [...s.dests.values()].filter((d) => addresses.includes(d.address)).map((dest) => ({ listed: listedService(s), dest })));
}

export const drain: Resource<'drain', DrainDesired, DrainActual> = defineResource({
  kind: 'drain',
  delegate: 'directors',
  desired: (ctx, args) => desiredFor(ctx, 'drain', args),
  probe: probeBoth,
  parse: parseBoth,
  diff(desired, actual, ctx) {
    refuseKeepalived(desired, ctx);
    const drained = new Set([...actual.ipvs.drained, ...desired.addresses]);
    const { changes, scripts, secrets } = converge(desired, actual, drained, ctx);
    const wait = desired.wait!;
    const dests = subjectDests(actual, desired.addresses);
    const busy = dests.reduce((n, { dest }) => n + (dest.conns?.active ?? 1) + (wait.inactive ? dest.conns?.inactive ?? 1 : 0), 0);
    // Waiting is part of draining: also when the weights are already 0 but connections are left.
    if (wait.wait > 0 && (changes.length > 0 || busy > 0) && dests.length > 0) {
      changes.push({
        id: `${desired.subject} drained`, action: 'change', settles: true,
        summary: `… wait up to ${wait.wait} s for ${desired.subject}'s connections to end (${busy} now)${wait.at_deadline === 'continue' ? ', then go on' : ''}`,
      });
      scripts.push(ctx.templates.render('drain/wait.sh.hbs', {
        seconds: wait.wait, inactive: wait.inactive, persistent: wait.persistent, fail: wait.at_deadline === 'fail',
        // "service TAB real server" each, joined by ";" (in neither: addresses, ports, protocol names)
        dests: dests.map(({ listed, dest }) => `${listed}\t${hostPort(dest.address, dest.port)}`).join(';'),
      }));
    }
    return { changes, script: scripts.join('\n'), ...(secrets && { secrets }) };
  },
});

export const undrain: Resource<'undrain', DrainDesired, DrainActual> = defineResource({
  kind: 'undrain',
  delegate: 'directors',
  desired: (ctx) => desiredFor(ctx, 'undrain'),
  probe: probeBoth,
  parse: parseBoth,
  diff(desired, actual, ctx) {
    const drained = new Set([...actual.ipvs.drained].filter((a) => !desired.addresses.includes(a)));
    const { changes, scripts, secrets } = converge(desired, actual, drained, ctx);
    return { changes, script: scripts.join('\n'), ...(secrets && { secrets }) };
  },
});
