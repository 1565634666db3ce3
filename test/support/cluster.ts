/**
 * The example inventory and small builders for tasks, plays and host contexts, so a test says
 * only what matters to it: `ctxFor('web1')`, `task('sysctl', { persist: false })`.
 */
import { readFileSync } from 'node:fs';
import { loadInventory, parseInventory } from '../../src/inventory/load.js';
import type { Cluster, Host, Scalar } from '../../src/inventory/model.js';
import type { Play, Task } from '../../src/playbook/model.js';
import { TASK_ARGS, type TaskKind } from '../../src/playbook/tasks.js';
import { hostContext } from '../../src/plan/pipeline.js';
import type { HostContext } from '../../src/resources/resource.js';
import { Templates } from '../../src/templates/templates.js';
import { YamlSource } from '../../src/util/yaml-source.js';
import { repoFile } from './paths.js';

/** The user templates the tests render through `file` and `shell` (test/support/templates). */
export const SUPPORT_TEMPLATES = repoFile('test/support/templates');

let example: Cluster | undefined;
let shared: Templates | undefined;

/** The built-in templates with test/support/templates as an override folder, compiled once per test file. */
export function supportTemplates(): Templates {
  shared ??= new Templates([SUPPORT_TEMPLATES]);
  return shared;
}

/** inventory/example.yml, loaded once per test file. */
export function exampleCluster(): Cluster {
  example ??= loadInventory(repoFile('inventory/example.yml'));
  return example;
}

/** inventory/example.yml with exact text replacements (each `from` must occur once). */
export function exampleWith(...edits: [string, string][]): Cluster {
  let text = readFileSync(repoFile('inventory/example.yml'), 'utf8');
  for (const [from, to] of edits) {
    const at = text.indexOf(from);
    if (at < 0 || text.indexOf(from, at + 1) >= 0) throw new Error(`exampleWith: ${JSON.stringify(from)} must occur exactly once`);
    text = text.slice(0, at) + to + text.slice(at + from.length);
  }
  return parseInventory(new YamlSource('example-edited.yml', text));
}

export function hostOf(cluster: Cluster, name: string): Host {
  const host = cluster.hosts.get(name);
  if (!host) throw new Error(`no host ${name} in ${cluster.file}`);
  return host;
}

/** A task as the playbook loader makes it: arguments through the kind's schema, defaults filled. */
export function task<K extends TaskKind>(kind: K, args: unknown = {}, name: string = kind): Task {
  return { name, kind, args: TASK_ARGS[kind].parse(args) } as Task;
}

export function play(tasks: Task[], options: Partial<Play> = {}): Play {
  return { name: 'test play', hosts: ['all'], serial: [], anyErrorsFatal: false, ignoreUnreachable: false, vars: {}, tasks, ...options };
}

export interface ContextOptions {
  cluster?: Cluster;
  vars?: Record<string, Scalar>;
  templates?: Templates;
}

/** The HostContext the runner would build for `name` in a play with `vars`. */
export function ctxFor(name: string, options: ContextOptions = {}): HostContext {
  const cluster = options.cluster ?? exampleCluster();
  return hostContext(cluster, hostOf(cluster, name), play([], { vars: options.vars ?? {} }), options.templates ?? supportTemplates());
}
