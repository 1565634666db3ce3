/**
 * lvsplay's own record, on a host, of what it created there (the VIPs it added, the IPVS services
 * it made): `<state_dir>/<name>` (/var/lib/lvsplay by default), one item per line, sorted. With it, what the inventory no
 * longer declares is removed, and nothing lvsplay did not create is touched. It is read with the
 * shell's own `read` (no process) and written like any managed file, only when it differs.
 */
import type { Change } from '../plan/types.js';
import type { Templates } from '../templates/templates.js';
import { diffFile } from './file/index.js';

/**
 * Shell printing the record's lines, or `@@absent` when there is none yet. `large`: the record is
 * expected to be long (thousands of lines), so one `cat` costs less than the shell's own `read`.
 */
export function recordProbe(templates: Templates, path: string, large = false): string {
  return templates.render('record/probe.sh.hbs', { path, large });
}

/** The recorded items, or undefined when the host has no record (never managed, or an older lvsplay). */
export function parseRecord(output: string): string[] | undefined {
  const lines = output.split('\n').filter((l) => l !== '');
  if (lines[0] === '@@absent') return undefined;
  return lines;
}

/** The change and script that make the record say `items`, or nothing when it already does. */
export function diffRecord(path: string, items: readonly string[], recorded: readonly string[] | undefined, templates: Templates, what: string): { changes: Change[]; script: string } {
  const want = [...new Set(items)].sort();
  if (recorded !== undefined && recorded.join('\n') === want.join('\n')) return { changes: [], script: '' };
  const content = want.map((l) => `${l}\n`).join('');
  const before = recorded === undefined ? undefined : recorded.map((l) => `${l}\n`).join('');
  const written = diffFile({ path, content, mode: '0644' }, before === undefined ? { present: false } : { present: true, mode: '644', owner: 'root:root', sha256: '', content: before }, templates);
  const change: Change = {
    id: path, action: before === undefined ? 'add' : 'change',
    summary: `${before === undefined ? '+' : '~'} record of the ${what} lvsplay manages here (${want.length})`,
    before: before ?? '', after: content,
  };
  return { changes: [change], script: written.script };
}
