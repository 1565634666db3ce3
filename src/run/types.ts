/** What a run reports: per host and play, a status, its plan, and why it failed. */
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
  /** Why it failed, was unreachable or skipped: the stage and the message. */
  error?: { stage: Stage | 'plan'; message: string };
  /** Unreachable in a play with `ignore_unreachable`: shown, but it neither stops nor fails the run. */
  ignored?: boolean;
  /** Not started (or not applied) because lvsplay was asked to stop (a signal). */
  interrupted?: boolean;
  /** Tasks of the play, for the recap's per-task counts. */
  tasks: number;
  durationMs: number;
}

/** How a run is shown: a live task list, plain lines, or one JSON document. Renderers only draw. */
export interface Renderer {
  playStart(play: Play, hosts: string[]): void;
  /** The hosts of a batch, before the first starts (a live display lists them all at once). */
  batchStart(hosts: string[]): void;
  hostProgress(host: string, stage: Stage, detail?: string): void;
  hostDone(result: HostResult): void;
  /** The batch is over: a live display finishes drawing it. */
  batchEnd(): Promise<void>;
  hostSkipped(result: HostResult): void;
  /** Something the user must know about the run as a whole (a built-in template overridden, the run stopped). */
  note(text: string): void;
  done(results: HostResult[], exitCode: number): void;
}
