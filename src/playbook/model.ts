/** A playbook after validation: plays in order, each a host selector and typed tasks. */
import type * as z from 'zod';
import type { Scalar } from '../inventory/model.js';
import type { Problem } from '../util/problems.js';
import type { TASK_ARGS, TaskKind } from './tasks.js';

export type TaskArgs<K extends TaskKind> = z.output<(typeof TASK_ARGS)[K]>;

/** Where a task's args are written in its playbook (`[0].tasks[2].file`). */
export type TaskPlace = Omit<Problem, 'message' | 'services'>;

/**
 * `place`: where a problem found only once a host is planned (a template the task names is not
 * there) is reported; a task built in code has none.
 */
export type Task = { [K in TaskKind]: { name: string; kind: K; args: TaskArgs<K>; place?: TaskPlace } }[TaskKind];

/** A batch size: a host count or a percentage of the play's hosts. */
export type BatchSize = { count: number } | { percent: number };

export interface Play {
  name: string;
  /** Selector terms, Ansible style: names, groups, globs, `!exclude`, `&intersect`. */
  hosts: string[];
  /** Batch sizes in order; the last repeats. Empty = all hosts at once. */
  serial: BatchSize[];
  /** Abort the play when more than this share of a batch failed; unset: only when all of it failed. */
  maxFailPercentage?: number;
  anyErrorsFatal: boolean;
  /** Unreachable hosts are reported as such but counted neither failed nor unreachable (Ansible's keyword). */
  ignoreUnreachable: boolean;
  vars: Record<string, Scalar>;
  tasks: Task[];
}

export interface Playbook {
  file: string;
  plays: Play[];
}

/**
 * The plays of several playbooks in run order, each with its index in that whole run: probe
 * sections are named by it, so a host's probe outputs from every play can be kept in one file.
 */
export function playsInOrder(playbooks: readonly Playbook[]): { play: Play; index: number }[] {
  return playbooks.flatMap((pb) => pb.plays).map((play, index) => ({ play, index }));
}
