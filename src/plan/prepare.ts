/**
 * Everything a run needs before it contacts a host: each play's hosts (with `--limit`), and each
 * host's desired state with every template rendered. A template that fails for any selected host
 * (a missing value, a value a helper refuses) is bad input: the run stops here, exit 1, with the
 * template's file, line and column, and no host has been touched.
 *
 * A play's tasks run on its host, except those delegated to the directors (drain, undrain, wait),
 * which run on every director carrying that real server: consecutive tasks with the same target
 * form a step, and a host's steps run in order (one probe and one apply per target and step).
 */
import { type Cluster, type Director, type Host, managedHost, type RealServer } from '../inventory/model.js';
import { type Play, type Playbook, playsInOrder } from '../playbook/model.js';
import { selectHosts } from '../playbook/select.js';
import { RESOURCES } from '../resources/index.js';
import { TemplateError, type Templates } from '../templates/templates.js';
import { InputError, type Problem } from '../util/problems.js';
import { listHosts } from '../util/some-of.js';
import { safeText } from '../util/terminal.js';
import { applyScript, hostContext, type PreparedHost, planHost, prepareHost } from './pipeline.js';

export interface Step {
  /** Run on the directors carrying the host, rather than on the host. */
  delegated: boolean;
  /** One prepared target per host the step runs on (the host itself, or each director). */
  targets: PreparedHost[];
}

/** One host of a play: its steps, in order. Most plays have one step on the host itself. */
export interface HostRun {
  host: Host;
  steps: Step[];
}

export interface PreparedPlay {
  play: Play;
  /** The play's index in the whole run (probe sections are named by it). */
  index: number;
  /** The playbook file it came from: after a playbook with failures the next ones do not run. */
  playbook: string;
  hosts: HostRun[];
}

export function prepareRun(cluster: Cluster, playbooks: readonly Playbook[], templates: Templates, limit?: readonly string[]): PreparedPlay[] {
  const limited = limit && new Set(selectHosts(cluster, limit));
  const problems = new Map<string, { problem: Problem; hosts: string[] }>();
  const files = playbooks.flatMap((pb) => pb.plays.map(() => pb.file));
  const prepared = playsInOrder(playbooks).map(({ play, index }) => ({
    play,
    index,
    playbook: files[index]!,
    hosts: selectHosts(cluster, play.hosts)
      .filter((h) => !limited || limited.has(h))
      .filter((h) => managedHost(h) || directorsOnly(play))
      .flatMap((host) => {
        try {
          return [prepareSteps(cluster, host, play, index, templates)];
        } catch (err) {
          if (!(err instanceof TemplateError) || err.builtin) throw err;
          const key = `${err.file}:${err.line}:${err.column}:${err.message}`;
          const entry = problems.get(key) ?? { problem: { file: err.file, line: err.line, col: err.column, field: err.field, message: err.message }, hosts: [] };
          entry.hosts.push(host.name);
          problems.set(key, entry);
          return [];
        }
      }),
  }));
  if (problems.size > 0) {
    throw new InputError([...problems.values()].map(({ problem, hosts }) => ({ ...problem, message: `${problem.message} (for ${listHosts(hosts)})` })));
  }
  return prepared;
}

/** A play whose every task runs on the directors (drain, undrain, wait): it never contacts its hosts. */
function directorsOnly(play: Play): boolean {
  return play.tasks.every((task) => RESOURCES[task.kind].delegate === 'directors');
}

/** The directors that carry a real server: those of every service it is a member or the fallback of. */
export function carriers(cluster: Cluster, server: RealServer): Director[] {
  const own = new Set([server.address, ...(server.address6 ? [server.address6] : [])]);
  const names = new Set(cluster.services
    .filter((s) => s.realServers.some((m) => m.server === server.name) || (s.fallback && own.has(s.fallback.address)))
    .flatMap((s) => s.directors));
  return cluster.directors.filter((d) => names.has(d.name));
}

function prepareSteps(cluster: Cluster, host: Host, play: Play, index: number, templates: Templates): HostRun {
  const groups: { delegated: boolean; indexes: number[] }[] = [];
  play.tasks.forEach((task, t) => {
    const delegated = RESOURCES[task.kind].delegate === 'directors';
    const last = groups[groups.length - 1];
    if (last && last.delegated === delegated) last.indexes.push(t);
    else groups.push({ delegated, indexes: [t] });
  });
  const steps = groups.map(({ delegated, indexes }): Step => {
    if (delegated && host.kind !== 'real_server') {
      // The playbook loader refuses this; a defensive message in case a play is built otherwise.
      throw new Error(`${play.tasks[indexes[0]!]!.kind} runs on the directors carrying a real server, but ${host.name} is a director`);
    }
    const on = delegated ? carriers(cluster, host as RealServer).map((d) => ({ target: d as Host, subject: host as RealServer })) : [{ target: host, subject: undefined }];
    const targets = on.map(({ target, subject }) => {
      const prepared = prepareHost(hostContext(cluster, target, play, templates, subject), play, index, indexes);
      // The plan that builds the host from nothing renders the change templates too, with this
      // host's values: a template that fails must fail here, not half way through a run. Only a
      // template error counts: a resource may refuse a host with nothing on it (a drain refuses a
      // director that differs from the inventory), which is for the real probe to decide.
      try {
        applyScript(planHost(prepared, ''));
      } catch (err) {
        if (err instanceof TemplateError) throw err;
      }
      return prepared;
    });
    return { delegated, targets };
  });
  return { host, steps };
}

/** Why a run of these plays is refused before it starts: none of them selects a host (validate and every run command say the same). */
export function selectsNoHost(plays: readonly PreparedPlay[]): string | undefined {
  return plays.every((p) => p.hosts.length === 0) ? 'the playbooks select no host at all: nothing would be checked or changed' : undefined;
}

/**
 * What the plays' tasks delegated to the directors cannot do: a real server in no service has no
 * director to drain it on or to gate it from. It takes no LVS traffic, so they do nothing for it
 * (a spare staged in the inventory is no error), and the run says so rather than pass in silence.
 */
export function uncarried(plays: readonly PreparedPlay[]): string[] {
  return plays.flatMap(({ play, hosts }) => {
    const idle = hosts.filter((h) => h.steps.some((s) => s.delegated && s.targets.length === 0)).map((h) => h.host.name);
    if (idle.length === 0) return [];
    const kinds = [...new Set(play.tasks.filter((t) => RESOURCES[t.kind].delegate === 'directors').map((t) => t.kind))].join(', ');
    return [`play "${safeText(play.name)}": ${kinds} do nothing for ${listHosts(idle)}: no director carries ${idle.length === 1 ? 'it' : 'them'} (in no service)`];
  });
}
