/**
 * The shape every resource module has. A resource kind (sysctl, address, ipvs, ...) is four pure
 * parts around one remote read:
 *
 *   desired(ctx, args)        what this host must look like, from the inventory and the task args
 *   probe(desired, ctx)       a shell fragment whose stdout reports what is there now
 *   parse(output, desired)    that stdout, as typed facts
 *   diff(desired, actual, ctx) the changes and the ONE script that makes them
 *
 * The runner concatenates every task's probe into one script per host (one round trip), splits
 * the output back into sections, and concatenates the non-empty task scripts into one apply
 * script (a second round trip). Nothing here does I/O.
 */
import type { Cluster, Host, RealServer, Scalar } from '../inventory/model.js';
import type { TaskArgs } from '../playbook/model.js';
import type { TaskKind } from '../playbook/tasks.js';
import type { Change } from '../plan/types.js';
import type { Templates } from '../templates/templates.js';
import type { Secret } from '../util/secret.js';

export interface HostContext {
  cluster: Cluster;
  host: Host;
  /** For a task delegated to the directors (drain, undrain, wait): the real server it is about. */
  subject?: RealServer;
  /** Play vars over host vars, for user templates. */
  vars: Record<string, Scalar>;
  templates: Templates;
}

export interface Resource<K extends TaskKind, Desired, Actual> {
  kind: K;
  /**
   * `directors`: the task runs on every director carrying the play's host (a real server), not on
   * the host itself: drain and undrain change the directors' weights, wait checks from there.
   */
  delegate?: 'directors';
  /**
   * What in a task's args contradicts what the inventory makes the resource do on a host (a sysctl
   * the role needs, set otherwise in `extra`), each with its field's path under the args: checked
   * for every host of the play when the playbook is loaded, so nothing runs.
   */
  conflicts?(args: TaskArgs<K>, cluster: Cluster, host: Host): { path: string[]; message: string }[];
  desired(ctx: HostContext, args: TaskArgs<K>): Desired;
  probe(desired: Desired, ctx: HostContext): string;
  parse(output: string, desired: Desired): Actual;
  /** `secrets`: what the script carries as tokens (a secret file's content), revealed only when sent. */
  diff(desired: Desired, actual: Actual, ctx: HostContext): { changes: Change[]; script: string; secrets?: Secret[] };
}

/** Helper for modules: declare a resource with its types inferred. */
export function defineResource<K extends TaskKind, Desired, Actual>(resource: Resource<K, Desired, Actual>): Resource<K, Desired, Actual> {
  return resource;
}
