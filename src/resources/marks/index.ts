/**
 * `marks`: the firewall marks of the fwmark services a director carries (the services' `marks:`),
 * as one nftables table of lvsplay's own, `inet lvsplay`, kept in a rules file and loaded whole
 * (`nft -f`: one transaction, so a packet never meets half a rule set, and other tables, the
 * host's own firewall included, are never touched). The file is checked by `nft -c` before it
 * replaces the old one. What nft printed after the last load is recorded (its checksum), so a
 * table edited or flushed by hand is seen and loaded again. A director that no longer marks
 * anything loses the table, the file and the record; one that never did is not touched at all.
 * The boot task's lvsplay-marks.service loads the same file at boot.
 */
import type { Service } from '../../inventory/model.js';
import { servicesOf } from '../../inventory/model.js';
import type { Change } from '../../plan/types.js';
import { ShellFragment } from '../../util/shell.js';
import { diffFile, type FileActual, type FileDesired, fileProbe, parseFileProbe, sha256 } from '../file/index.js';
import { MARKS_FILE, recordPath } from '../../inventory/host-files.js';
import { defineResource, type HostContext } from '../resource.js';
import { framed, splitSections } from '../sections.js';


export interface MarksDesired {
  /** The rules file, when the host marks anything. */
  file?: FileDesired;
  record: string;
}

export interface MarksActual {
  nft: boolean;
  file: FileActual;
  /** sha256 of `nft -s list table inet lvsplay`, when the table exists. */
  live?: string;
  /** What the last load recorded. */
  recorded?: string;
}

/** The nftables rules of one service's marks: `ip daddr 192.0.2.15 tcp dport { 80, 443 } meta mark set 7`. */
export function markRules(s: Service): string[] {
  return (s.marks ?? []).map((m) => {
    const daddr = `${m.vip.includes(':') ? 'ip6' : 'ip'} daddr ${m.vip}`;
    const proto = m.protocol === undefined ? '' : m.ports.length > 0 ? ` ${m.protocol} dport { ${m.ports.join(', ')} }` : ` meta l4proto ${m.protocol}`;
    return `${daddr}${proto} meta mark set ${s.fwmark}`;
  });
}

export function desiredMarks(ctx: HostContext): MarksDesired {
  const record = recordPath(ctx.cluster, 'marks');
  if (ctx.host.kind !== 'director') return { record };
  const rules = servicesOf(ctx.cluster, ctx.host).flatMap(markRules);
  if (rules.length === 0) return { record };
  const content = ctx.templates.render('marks/lvsplay.nft.hbs', { host: ctx.host.name, rules });
  const load = ctx.templates.render('marks/load.sh.hbs', { file: MARKS_FILE, record, recordDir: ctx.cluster.stateDir });
  return {
    file: { path: MARKS_FILE, mode: '0644', content, verify: new ShellFragment('nft -c -f "$lvsplay_tmp"'), onChange: new ShellFragment(load) },
    record,
  };
}

export const marks = defineResource({
  kind: 'marks',
  desired: (ctx): MarksDesired => desiredMarks(ctx),
  probe(desired, ctx) {
    return framed('state', ctx.templates.render('marks/probe.sh.hbs', {}))
      + framed('file', fileProbe(ctx.templates, MARKS_FILE, { ...(desired.file && { expected: desired.file.content }) }))
      + framed('record', ctx.templates.render('record/probe.sh.hbs', { path: desired.record }));
  },
  parse(output, desired): MarksActual {
    const parts = splitSections(output);
    const state = (parts.get('state') ?? '').split('\n');
    // No facts at all (render): a host with nothing; a real probe always prints its parts.
    const nft = parts.size === 0 || state.includes('nft yes');
    if (desired.file && !nft) {
      throw new Error('nft (nftables) is not installed on this director, and its fwmark services mark packets with it: install the nftables package (a package task before this one)');
    }
    const live = state.find((l) => l.startsWith('live '))?.slice(5);
    const recorded = (parts.get('record') ?? '').split('\n')[0];
    return {
      nft, file: parseFileProbe(parts.get('file') ?? '', desired.file?.content),
      ...(live && { live }), ...(recorded && recorded !== '@@absent' && { recorded }),
    };
  },
  diff(desired, actual, ctx) {
    const changes: Change[] = [];
    if (!desired.file) {
      if (!actual.file.present && actual.live === undefined && actual.recorded === undefined) return { changes, script: '' };
      changes.push({ id: 'table inet lvsplay', action: 'delete', summary: '- nftables table inet lvsplay and its rules file (no fwmark service here marks packets)' });
      return { changes, script: ctx.templates.render('marks/remove.sh.hbs', { live: actual.live !== undefined, file: MARKS_FILE, record: desired.record }) };
    }
    const written = diffFile(desired.file, actual.file, ctx.templates);
    changes.push(...written.changes);
    // a new content is loaded by the write itself (the file's onChange); the same content is
    // loaded again when the live table is missing, or is not what the last load left
    const rewritten = !actual.file.present || actual.file.sha256 !== sha256(desired.file.content);
    if (rewritten || (actual.live !== undefined && actual.live === actual.recorded)) return { changes, script: written.script };
    changes.push({
      id: 'table inet lvsplay', action: actual.live === undefined ? 'add' : 'change',
      summary: actual.live === undefined ? `+ nftables table inet lvsplay loaded from ${MARKS_FILE}` : `~ nftables table inet lvsplay loaded again from ${MARKS_FILE} (changed by hand since lvsplay loaded it)`,
    });
    const load = ctx.templates.render('marks/load.sh.hbs', { file: MARKS_FILE, record: desired.record, recordDir: ctx.cluster.stateDir });
    return { changes, script: [written.script, load].filter((x) => x !== '').join('\n') };
  },
});
