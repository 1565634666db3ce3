/**
 * The recap, as Ansible prints it: one line per host with task counts, and the exit status the
 * run ends with.
 */
import { EXIT } from '../cli/exit.js';
import type { HostResult } from './types.js';

export interface HostRecap {
  host: string;
  ok: number;
  changed: number;
  failed: number;
  unreachable: number;
  skipped: number;
  /** Unreachable in a play with ignore_unreachable (Ansible's `ignored`). */
  ignored: number;
}

/** Per host over every play: tasks with no change are ok, tasks with changes changed. */
export function recap(results: readonly HostResult[]): HostRecap[] {
  const byHost = new Map<string, HostRecap>();
  for (const r of results) {
    const row = byHost.get(r.host) ?? { host: r.host, ok: 0, changed: 0, failed: 0, unreachable: 0, skipped: 0, ignored: 0 };
    byHost.set(r.host, row);
    // a delegated task has a plan per director: it is one task, changed if it changed anywhere
    const changedTasks = r.plan ? new Set(r.plan.tasks.filter((t) => t.changes.some((c) => !c.pending)).map((t) => t.id ?? t.task)).size : 0;
    if (r.status === 'ok' || r.status === 'changed') {
      row.changed += changedTasks;
      row.ok += r.tasks - changedTasks;
    } else if (r.status === 'failed') row.failed += 1;
    else if (r.status === 'unreachable') {
      if (r.ignored) row.ignored += 1;
      else row.unreachable += 1;
    } else row.skipped += r.tasks;
  }
  return [...byHost.values()];
}

export function formatRecap(rows: readonly HostRecap[]): string {
  const width = Math.max(4, ...rows.map((r) => r.host.length));
  const lines = rows.map((r) => `${r.host.padEnd(width)} : ok=${r.ok}  changed=${r.changed}  unreachable=${r.unreachable}  failed=${r.failed}  skipped=${r.skipped}${r.ignored > 0 ? `  ignored=${r.ignored}` : ''}`);
  return `RECAP ${'*'.repeat(Math.max(10, width + 50))}\n${lines.join('\n')}\n`;
}

/** 4 unreachable, else 2 failed, else (with --detailed-exitcode under --check) 3 drifted, else 0. */
export function exitCode(results: readonly HostResult[], options: { check: boolean; detailedExitcode: boolean }): number {
  if (results.some((r) => r.status === 'unreachable' && !r.ignored)) return EXIT.unreachable;
  if (results.some((r) => r.status === 'failed')) return EXIT.failed;
  if (options.check && options.detailedExitcode && results.some((r) => r.status === 'changed')) return EXIT.drifted;
  return EXIT.ok;
}
