/**
 * `lvsplay drain -i INV SERVER... [--wait N]` and `lvsplay undrain -i INV SERVER...`: one-off
 * maintenance, as operators do it by hand with `ipvsadm -e ... -w 0`, but on every director that
 * carries the servers at once, through ldirectord's config for its services, and remembered there
 * (a later bootstrap keeps them drained). They run a one-play playbook of the same drain and
 * undrain tasks a rollout uses, so they validate, report and exit the same way as `apply`.
 */
import { Command } from 'commander';
import { stringify } from 'yaml';
import type { RealServer } from '../inventory/model.js';
import { parsePlaybook } from '../playbook/load.js';
import { carriers } from '../plan/prepare.js';
import { InputError, type Problem } from '../util/problems.js';
import { YamlSource } from '../util/yaml-source.js';
import { loadAll } from './load.js';
import { usageError } from './exit.js';
import { execute, type RunCommandOptions, withRunOptions } from './run-options.js';

interface DrainOptions extends RunCommandOptions {
  wait?: string;
  atDeadline?: 'fail' | 'continue';
  inactive?: boolean;
}

export function drainCommand(): Command {
  return maintenance('drain', 'take real servers out of rotation on every director that carries them (weight 0, remembered), and wait for their connections to end')
    .option('--wait <seconds>', 'how long to wait for their connections to end (0: do not wait)', '60')
    .option('--at-deadline <what>', 'connections left at the deadline: fail, or continue', 'fail')
    .option('--inactive', 'also wait for inactive connections (InActConn) to go');
}

export function undrainCommand(): Command {
  return maintenance('undrain', 'put drained real servers back in rotation: their inventory weights on every director that carries them');
}

function maintenance(kind: 'drain' | 'undrain', description: string): Command {
  return withRunOptions(new Command(kind).description(description))
    .argument('<servers...>', 'real servers, by inventory name')
    .action(async (servers: string[], options: DrainOptions) => {
      const { cluster, templates } = loadAll(options.inventory, [], options.templates);
      const unknown = servers.filter((s) => cluster.hosts.get(s)?.kind !== 'real_server');
      if (unknown.length > 0) {
        usageError(`${unknown.join(', ')}: not a real server of ${options.inventory}; real servers are ${cluster.realServers.map((r) => r.name).join(', ')}`);
        return;
      }
      // Asked by name, a server no director carries is a mistake to say, not a drain that does nothing.
      const idle = servers.filter((s) => carriers(cluster, cluster.hosts.get(s) as RealServer).length === 0);
      if (idle.length > 0) {
        usageError(`${idle.join(', ')}: in no service of ${options.inventory}, so no director carries ${idle.length === 1 ? 'it' : 'them'}: nothing to ${kind}`);
        return;
      }
      // A --wait that is no number goes in as the text given, so the check quotes it ("abc", not null).
      const wait = options.wait?.trim() && Number.isFinite(Number(options.wait)) ? Number(options.wait) : options.wait;
      const args = kind === 'drain' ? { wait, at_deadline: options.atDeadline, inactive: options.inactive ?? false } : {};
      const text = stringify([{ name: `${kind} ${servers.join(', ')}`, hosts: servers, tasks: [{ name: kind, [kind]: args }] }]);
      // The options become a playbook and go through its checks; what they refuse is said of the option.
      let playbook;
      try {
        playbook = parsePlaybook(new YamlSource(`lvsplay ${kind}`, text), cluster);
      } catch (err) {
        if (!(err instanceof InputError)) throw err;
        for (const problem of err.problems) usageError(optionProblem(problem));
        return;
      }
      await execute(cluster, [playbook], templates, options);
    });
}

/** A problem the drain task's checks found in an argument, said of the command-line option it came from. */
function optionProblem(problem: Problem): string {
  const arg = /\.(?:drain|undrain)\.(\w+)$/.exec(problem.field)?.[1];
  return `${arg ? `--${arg.replace(/_/g, '-')}` : problem.field}: ${problem.message}`;
}
