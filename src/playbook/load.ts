/**
 * Playbook loading: YAML with positions → schema → each task against its kind → host selectors
 * against the inventory. Like the inventory, every problem is reported at once, with its place.
 */
import { type Cluster, type Host, managedHost } from '../inventory/model.js';
import { fieldPath, InputError, type Problem } from '../util/problems.js';
import { listHosts } from '../util/some-of.js';
import { didYouMean, schemaProblems } from '../util/schema-problems.js';
import { shellClashMessage, shellNameClash } from '../util/shell.js';
import { YamlSource } from '../util/yaml-source.js';
import type { Play, Playbook, Task } from './model.js';
import { PlaybookFile, type PlayFile } from './schema.js';
import { leavesNoHost, selectHosts, splitHostPattern, unknownTerm } from './select.js';
import { RESOURCES } from '../resources/index.js';
import { TASK_ARGS, TASK_KINDS, type TaskKind } from './tasks.js';
import { ansibleTaskKeyword } from './ansible-keywords.js';

export function loadPlaybook(file: string, cluster: Cluster): Playbook {
  return parsePlaybook(YamlSource.read(file), cluster);
}

export function parsePlaybook(source: YamlSource, cluster: Cluster): Playbook {
  if (source.problems.length > 0) throw new InputError(source.problems);
  const parsed = PlaybookFile.safeParse(source.data);
  if (!parsed.success) throw new InputError(schemaProblems(source, PlaybookFile, parsed.error.issues));
  const problems: Problem[] = [];
  const plays = parsed.data.map((play, p) => buildPlay(source, cluster, play, p, problems));
  if (problems.length > 0) throw new InputError(problems);
  return { file: source.file, plays };
}

/**
 * A play's vars sit over its hosts' (inventory) vars, and all reach shell scripts as
 * $LVSPLAY_VAR_<name>: a play var whose shell name is another var's of the play or of one of its
 * hosts would quietly replace it there (`a-b` here, `a_b` in the inventory).
 */
function varClashes(source: YamlSource, vars: Record<string, unknown>, path: (string | number)[], hosts: readonly Host[]): Problem[] {
  const names = Object.keys(vars);
  const inventory = inventoryVarClash(hosts);
  return names.flatMap((name, i) => {
    const own = shellNameClash(name, names.slice(0, i));
    const message = own !== undefined ? shellClashMessage(name, own) : inventory(name);
    return message ? [source.problem([...path, name], message, { key: true })] : [];
  });
}

/** For a var set over these hosts (a play's, `-e`): the message when another of their vars has its shell name, naming a host that has it. */
export function inventoryVarClash(hosts: readonly Host[]): (name: string) => string | undefined {
  let names: Set<string> | undefined;
  return (name) => {
    names ??= new Set(hosts.flatMap((h) => Object.keys(h.vars)));
    const other = shellNameClash(name, names);
    return other === undefined ? undefined : shellClashMessage(name, other, ` (the inventory's, for ${hosts.find((h) => other in h.vars)!.name})`);
  };
}

function buildPlay(source: YamlSource, cluster: Cluster, play: PlayFile, p: number, problems: Problem[]): Play {
  const before = problems.length;
  // Each string is split as Ansible's split_host_pattern does, a list's items too.
  const hosts: string[] = [];
  (typeof play.hosts === 'string' ? [play.hosts] : play.hosts).forEach((item, h) => {
    const path = typeof play.hosts === 'string' ? [p, 'hosts'] : [p, 'hosts', h];
    const terms = splitHostPattern(item);
    if (terms.length === 0) problems.push(source.problem(path, `expected host terms joined by "," or ":", got ${JSON.stringify(item)}`));
    for (const term of terms) {
      const why = unknownTerm(cluster, term);
      if (why) problems.push(source.problem(path, why));
      else hosts.push(term);
    }
  });
  if (problems.length === 0) {
    const why = leavesNoHost(cluster, hosts);
    if (why) problems.push(source.problem([p, 'hosts'], why));
  }
  if (problems.length === 0) problems.push(...varClashes(source, play.vars, [p, 'vars'], selectHosts(cluster, hosts)));
  const tasks = play.tasks.flatMap((raw, t) => {
    const task = buildTask(source, raw, [p, 'tasks', t], problems);
    return task ? [task] : [];
  });
  // drain, undrain and wait run on the directors carrying each of the play's hosts: those must be real servers.
  const delegated = tasks.filter((t) => RESOURCES[t.kind].delegate === 'directors');
  if (delegated.length > 0 && problems.length === 0) {
    const directors = selectHosts(cluster, hosts).filter((h) => h.kind === 'director').map((h) => h.name);
    if (directors.length > 0) {
      problems.push(source.problem([p, 'hosts'], `${delegated.map((t) => t.kind).join(', ')} run on the directors carrying each of the play's hosts, so its hosts must be real servers; it selects the directors ${directors.join(', ')}`));
    }
  }
  if (problems.length === before) problems.push(...argConflicts(source, cluster, selectHosts(cluster, hosts), tasks, [p, 'tasks']));
  const serial = play.serial === undefined ? [] : Array.isArray(play.serial) ? play.serial : [play.serial];
  return {
    name: play.name ?? `play ${p + 1}`,
    hosts,
    serial,
    ...(play.max_fail_percentage !== undefined && { maxFailPercentage: play.max_fail_percentage }),
    anyErrorsFatal: play.any_errors_fatal,
    ignoreUnreachable: play.ignore_unreachable,
    vars: play.vars,
    tasks,
  };
}

/**
 * What a task's args contradict on the hosts it runs on (each resource's `conflicts`): one problem
 * per field and message, naming the hosts. A real server lvsplay does not manage runs no task.
 */
function argConflicts(source: YamlSource, cluster: Cluster, hosts: readonly Host[], tasks: readonly Task[], path: (string | number)[]): Problem[] {
  const found = new Map<string, { at: (string | number)[]; message: string; hosts: string[] }>();
  const contacted = hosts.filter(managedHost);
  tasks.forEach((task, t) => {
    const resource = RESOURCES[task.kind];
    if (!resource.conflicts || resource.delegate) return;
    for (const host of contacted) {
      for (const { path: field, message } of resource.conflicts(task.args as never, cluster, host)) {
        const at = [...path, t, task.kind, ...field];
        const key = JSON.stringify([at, message]);
        if (!found.has(key)) found.set(key, { at, message, hosts: [] });
        found.get(key)!.hosts.push(host.name);
      }
    }
  });
  return [...found.values()].map(({ at, message, hosts: names }) => source.problem(at, `${message} (for ${listHosts(names)})`));
}

function buildTask(source: YamlSource, raw: Record<string, unknown>, path: (string | number)[], problems: Problem[]): Task | undefined {
  const keys = Object.keys(raw).filter((k) => k !== 'name');
  const name = raw['name'];
  if (name !== undefined && (typeof name !== 'string' || name.length > 200)) {
    problems.push(source.problem([...path, 'name'], 'expected a task name (text, at most 200 characters)'));
  }
  const kinds = keys.filter((k): k is TaskKind => (TASK_KINDS as string[]).includes(k));
  for (const key of keys.filter((k) => !(TASK_KINDS as string[]).includes(k))) {
    const message = ansibleTaskKeyword(key) ?? `unknown task kind "${key}"${didYouMean(key, TASK_KINDS)}; expected one of ${TASK_KINDS.join(', ')}`;
    problems.push(source.problem([...path, key], message, { key: true }));
  }
  if (kinds.length !== 1) {
    if (keys.length === kinds.length) {
      problems.push(source.problem(path, kinds.length === 0 ? 'a task needs one task kind, like `ipvs: {}`' : `a task has exactly one kind, got ${kinds.join(' and ')}`));
    }
    return undefined;
  }
  const kind = kinds[0]!;
  const schema = TASK_ARGS[kind];
  const parsed = schema.safeParse(raw[kind] ?? {});
  if (!parsed.success) {
    problems.push(...schemaProblems(source, schema, parsed.error.issues, [...path, kind]));
    return undefined;
  }
  const place = { ...source.locate([...path, kind]), field: fieldPath([...path, kind]) };
  return { name: typeof name === 'string' ? name : kind, kind, args: parsed.data, place } as Task;
}
