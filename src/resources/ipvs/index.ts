/**
 * `ipvs`: the virtual services and real servers lvsplay owns on a director.
 * - desired: the lvsplay-owned services this director carries (desired.ts), and the persisted
 *   rules file (`cluster.rulesFile`, Debian style) when the task says `save`.
 * - probe: `ipvsadm -S -n`, `ipvsadm -L -n --thresholds` (thresholds and connection counts, which
 *   -S never prints) and the rules file, in one fragment; a missing ipvsadm or ip_vs is an error.
 * - diff: minimal add/edit/delete operations (diff.ts), applied as one `ipvsadm -R` batch with a
 *   precise rollback (apply.ts, templates/ipvs/apply.sh.hbs), then the rules file via diffFile.
 * A real server carries no table: there the resource is a no-op.
 */
import { diffFile, type FileActual, type FileDesired, fileProbe, parseFileProbe } from '../file/index.js';
import { defineResource } from '../resource.js';
import { framed, splitSections } from '../sections.js';
import { applyData, renderApply } from './apply.js';
import { type DesiredTable, desiredTable } from './desired.js';
import { diffTables } from './diff.js';
import { IpvsProbeError, parseSave, parseThresholds, probePart, withThresholds } from './parse.js';
import { rulesLines } from './save.js';
import { emptyTable, type IpvsTable } from './table.js';

export interface IpvsDesired extends DesiredTable {
  /** False on a real server: nothing to probe or change. */
  director: boolean;
  purge: boolean;
  graceful: boolean;
  /** The persisted rules file (with `save: true`). */
  rules?: FileDesired;
}

export interface IpvsActual {
  table: IpvsTable;
  /** The probed `ipvsadm -S -n` text, which the apply script checks is still current. */
  save: string;
  rules?: FileActual;
}

const SAVE = ['-S', '-n'];
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
    const base = { ...desiredTable(ctx.cluster, ctx.host), director: ctx.host.kind === 'director', purge: args.purge, graceful: args.graceful };
    if (!base.director || !args.save) return base;
    const content = ctx.templates.render('ipvs/ipvsadm.rules.hbs', { lines: rulesLines(base.table) });
    return { ...base, rules: { path: ctx.cluster.rulesFile, content, mode: '0644' } };
  },
  probe(desired, ctx) {
    if (!desired.director) return ': # ipvs: a real server has no IPVS table\n';
    const table = framed('save', ctx.templates.render('ipvs/probe.sh.hbs', { args: SAVE }))
      + framed('thresholds', ctx.templates.render('ipvs/probe.sh.hbs', { args: LIST }));
    return desired.rules ? table + framed('rules', fileProbe(ctx.templates, desired.rules.path)) : table;
  },
  parse(output, desired): IpvsActual {
    const parts = splitSections(output);
    // No parts at all is "no facts" (`lvsplay render`, a facts file without this task): nothing there.
    // A real probe always prints its part markers, and a part without its "ok" trailer is an error.
    if (!desired.director || parts.size === 0) return { table: emptyTable(), save: '' };
    const save = probed(parts.get('save'), SAVE);
    const table = withThresholds(parseSave(save), parseThresholds(probed(parts.get('thresholds'), LIST)));
    const rules = parts.get('rules');
    return desired.rules && rules !== undefined ? { table, save, rules: parseFileProbe(rules) } : { table, save };
  },
  diff(desired, actual, ctx) {
    if (!desired.director) return { changes: [], script: '' };
    const { operations } = diffTables(desired.table, actual.table, desired);
    const changes = operations.map((op) => op.change);
    const scripts = operations.length > 0 ? [renderApply(ctx.templates, applyData(operations, actual.save))] : [];
    if (desired.rules) {
      const persisted = diffFile(desired.rules, actual.rules ?? { present: false }, ctx.templates);
      changes.push(...persisted.changes);
      if (persisted.script) scripts.push(persisted.script);
    }
    return { changes, script: scripts.join('\n') };
  },
});
