/**
 * Plans: what must change on a host, and the shell that changes it. Pure data, built by the
 * resources' `diff` functions, printed by print.ts, executed by the runner.
 */
import type { TaskKind } from '../playbook/tasks.js';

/** One difference between desired and actual, for people: the plan list and --diff. */
export interface Change {
  /** What it is about: `tcp 192.0.2.10:80`, `net.ipv4.conf.all.arp_ignore`, `/etc/ipvsadm.rules`. */
  id: string;
  action: 'add' | 'change' | 'delete';
  /** One line: `+ add service tcp 192.0.2.10:80 wlc`, `~ weight web1 3 → 5`. */
  summary: string;
  /** Text before and after, for --diff (a file's content, a sysctl value, ipvsadm lines). */
  before?: string;
  after?: string;
}

/** One task's share of a host plan: its changes and the one script that makes all of them. */
export interface TaskPlan {
  task: string;
  resource: TaskKind;
  changes: Change[];
  /** Shell run on the host; empty exactly when `changes` is. */
  script: string;
}

export interface HostPlan {
  host: string;
  tasks: TaskPlan[];
}

/** A host is `ok` when no task has a change: apply then sends nothing. */
export function isEmpty(plan: HostPlan): boolean {
  return plan.tasks.every((t) => t.changes.length === 0);
}

export function taskPlan(task: string, resource: TaskKind, changes: Change[], script: string): TaskPlan {
  return changes.length === 0 ? { task, resource, changes: [], script: '' } : { task, resource, changes, script };
}
