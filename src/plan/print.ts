/** Plans as people read them: one line per change, and with --diff the before/after text. */
import { createRequire } from 'node:module';
import { NOT_SHOWN } from '../util/secret.js';
import { safeLines, safeText } from '../util/terminal.js';
import { type HostPlan, inSync } from './types.js';

export function formatPlan(plan: HostPlan, options: { diff?: boolean } = {}): string {
  if (inSync(plan)) return `${plan.host}: ok (no changes)\n`;
  const all = plan.tasks.flatMap((t) => t.changes);
  const pending = all.filter((c) => c.pending).length;
  const count = `${all.length - pending} change(s)${pending > 0 ? `, ${pending} in progress` : ''}`;
  const lines = [`${plan.host}: ${count}`];
  for (const task of plan.tasks) {
    if (task.changes.length === 0) continue;
    lines.push(`  [${task.resource}] ${safeText(task.task)}`);
    for (const change of task.changes) {
      lines.push(`    ${safeText(change.summary)}`);
      // One-line values are already in the summary; texts (files, ipvsadm saves) get a unified diff.
      if (options.diff && `${change.before ?? ''}${change.after ?? ''}`.includes('\n')) {
        lines.push(indent(unified(change.id, change.before ?? '', change.after ?? ''), '      '));
      } else if (options.diff && change.secret && change.before === undefined && change.after === undefined) {
        lines.push(`      ${NOT_SHOWN}`);
      }
    }
  }
  return `${lines.join('\n')}\n`;
}

/**
 * jsdiff, loaded the first time a diff is shown (its CommonJS build, synchronously: plans print
 * synchronously): a run without --diff does not pay its ~12 ms of loading at start-up.
 */
let jsdiff: typeof import('diff') | undefined;

function unified(id: string, before: string, after: string): string {
  jsdiff ??= createRequire(import.meta.url)('diff') as typeof import('diff');
  const { createTwoFilesPatch } = jsdiff;
  const withNewline = (s: string) => (s === '' || s.endsWith('\n') ? s : `${s}\n`);
  const patch = createTwoFilesPatch(`${id} (before)`, `${id} (after)`, withNewline(before), withNewline(after), '', '', { context: 3 });
  // Drop the "====" banner line jsdiff puts first: the id is in the ---/+++ lines.
  // The ---/+++ header lines end in a tab when there is no timestamp: drop it.
  return safeLines(patch.split('\n').filter((l) => !/^={5,}$/.test(l) && l !== '').map((l) => (/^(---|\+\+\+) /.test(l) ? l.replace(/\t$/, '') : l)).join('\n'));
}

function indent(text: string, prefix: string): string {
  return text.split('\n').map((l) => prefix + l).join('\n');
}
