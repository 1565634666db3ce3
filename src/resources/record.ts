/**
 * lvsplay's own record, on a host, of what it created there (the VIPs it added, the IPVS services
 * it made): `<state_dir>/<name>` (/var/lib/lvsplay by default), one item per line, sorted. With it, what the inventory no
 * longer declares is removed, and nothing lvsplay did not create is touched. It is read with the
 * shell's own `read` (no process) and written like any managed file, only when it differs.
 */
import type { Change } from '../plan/types.js';
import type { Templates } from '../templates/templates.js';
import type { RecordName } from '../inventory/host-files.js';
import { diffFile } from './file/index.js';

/**
 * Shell printing the record's lines, or `@@absent` when there is none yet. `large`: the record is
 * expected to be long (thousands of lines), so one `cat` costs less than the shell's own `read`.
 */
export function recordProbe(templates: Templates, path: string, large = false): string {
  return templates.render('record/probe.sh.hbs', { path, large });
}

/**
 * The recorded items, or undefined when the host has no record (never managed, or an older lvsplay).
 * `form`: for a record whose lines lvsplay acts on (removes that address, writes that key back),
 * what a line must be; one that is not (a hand edit) stops the host's plan with `recordLineError`
 * rather than be guessed at.
 */
export function parseRecord(output: string, form?: RecordForm): string[] | undefined {
  const raw = output.replace(/^\n/, '').split('\n');
  if (raw[0] === '@@absent') return undefined;
  raw.forEach((line, i) => {
    if (form && line !== '' && !form.valid(line)) throw recordLineError(form, i + 1, line);
  });
  return raw.filter((l) => l !== '');
}

export interface RecordForm {
  name: RecordName;
  /** What a line is, for the message: `ADDRESS/PREFIX DEVICE`. */
  expected: string;
  valid(line: string): boolean;
}

/** A record line lvsplay did not write: the host is not planned (its other hosts are). */
export function recordLineError(form: RecordForm, line: number, text: string): Error {
  return new Error(`lvsplay's record <state_dir>/${form.name}, line ${line}: ${JSON.stringify(text)} is not a line lvsplay writes there (${form.expected}); lvsplay acts on its records and does not guess: correct or delete the line on the host`);
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
