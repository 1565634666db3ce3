/**
 * Everything a run needs before it contacts a host: each play's hosts (with `--limit`), and each
 * host's desired state with every template rendered. A template that fails for any selected host
 * (a missing value, a value a helper refuses) is bad input: the run stops here, exit 1, with the
 * template's file, line and column, and no host has been touched.
 */
import type { Cluster } from '../inventory/model.js';
import { type Play, type Playbook, playsInOrder } from '../playbook/model.js';
import { selectHosts } from '../playbook/select.js';
import { TemplateError, type Templates } from '../templates/templates.js';
import { InputError, type Problem } from '../util/problems.js';
import { applyScript, hostContext, type PreparedHost, planHost, prepareHost } from './pipeline.js';

export interface PreparedPlay {
  play: Play;
  /** The play's index in the whole run (probe sections are named by it). */
  index: number;
  /** The playbook file it came from: after a playbook with failures the next ones do not run. */
  playbook: string;
  hosts: PreparedHost[];
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
      .flatMap((host) => {
        try {
          const prepared = prepareHost(hostContext(cluster, host, play, templates), play, index);
          // The plan that builds the host from nothing renders the change templates too, with this
          // host's values: a template that fails must fail here, not half way through a run.
          applyScript(planHost(prepared, ''));
          return [prepared];
        } catch (err) {
          if (!(err instanceof TemplateError) || err.builtin) throw err;
          const key = `${err.file}:${err.line}:${err.column}:${err.message}`;
          const entry = problems.get(key) ?? { problem: { file: err.file, line: err.line, col: err.column, field: '', message: err.message }, hosts: [] };
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

function listHosts(hosts: string[]): string {
  const shown = hosts.slice(0, 5).join(', ');
  return hosts.length === 1 ? `host ${shown}` : `hosts ${shown}${hosts.length > 5 ? ` and ${hosts.length - 5} more` : ''}`;
}
