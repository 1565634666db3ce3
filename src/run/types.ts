/** What a run reports: per host and play, a status, its plan, and how many round trips it took. */
import type { Host } from '../inventory/model.js';
import type { Play } from '../playbook/model.js';
import type { HostPlan } from '../plan/types.js';

export type Stage = 'connect' | 'probe' | 'apply' | 'verify';
export type HostStatus = 'ok' | 'changed' | 'failed' | 'unreachable' | 'skipped';

export interface HostResult {
  host: string;
  play: string;
  status: HostStatus;
  /** The plan found by the probe (under --check: the drift). */
  plan?: HostPlan;
  /** Why it failed or was unreachable: the stage and the message. */
  error?: { stage: Stage | 'plan'; message: string };
  /** Tasks of the play, for the recap's per-task counts. */
  tasks: number;
  durationMs: number;
}

/** Progress of one host, for live displays. */
export type Progress = (stage: Stage, detail?: string) => void;

/** How a run is shown: a live task list, plain lines, or one JSON document. */
export interface Renderer {
  playStart(play: Play, hosts: string[]): void;
  /** Run `work` for every host, at most `forks` at once, showing progress as it goes. */
  runBatch(hosts: Host[], forks: number, work: (host: Host, progress: Progress) => Promise<HostResult>): Promise<HostResult[]>;
  hostSkipped(result: HostResult): void;
  done(results: HostResult[], exitCode: number): void;
}
