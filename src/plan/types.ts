/**
 * Plans: what must change on a host, and the shell that changes it. Pure data, built by the
 * resources' `diff` functions, printed by print.ts, executed by the runner.
 */
import type { TaskKind } from '../playbook/tasks.js';
import type { Secret } from '../util/secret.js';

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
  /**
   * Still converging on its own, nothing to run now (a real server draining its connections): the
   * host differs from the inventory (--check says so) but apply has nothing to send for it.
   */
  pending?: true;
  /**
   * Finishes something already under way (deleting a server whose drain completed): expected to be
   * possible right after an apply, so verify does not count it as a failure.
   */
  settles?: true;
  /** About a secret file: its text is redacted or absent, and printers say so. */
  secret?: true;
}

/** One task's share of a host plan: its changes and the one script that makes them. */
export interface TaskPlan {
  task: string;
  /** The task's place in its play (`play.task`): a delegated task has one plan per director, all with this id. */
  id?: string;
  resource: TaskKind;
  changes: Change[];
  /** Shell run on the host; empty exactly when every change is pending. */
  script: string;
  /** Secrets the script carries as tokens: revealed only when the runner sends it (util/secret.ts). */
  secrets?: Secret[];
}

export interface HostPlan {
  host: string;
  tasks: TaskPlan[];
}

/** Nothing to run: apply sends nothing (changes still pending are only reported). */
export function isEmpty(plan: HostPlan): boolean {
  return plan.tasks.every((t) => t.changes.every((c) => c.pending));
}

/** The host is exactly as the inventory says: no change at all, not even a pending one. */
export function inSync(plan: HostPlan): boolean {
  return plan.tasks.every((t) => t.changes.length === 0);
}

/** What verify holds against an apply: changes that are neither pending nor settling a drain. */
export function unsettled(plan: HostPlan): Change[] {
  return plan.tasks.flatMap((t) => t.changes.filter((c) => !c.pending && !c.settles));
}

export function taskPlan(task: string, resource: TaskKind, changes: Change[], script: string, secrets?: Secret[]): TaskPlan {
  if (changes.every((c) => c.pending)) return { task, resource, changes, script: '' };
  return { task, resource, changes, script, ...(secrets && secrets.length > 0 && { secrets }) };
}
