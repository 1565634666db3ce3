/**
 * `lvsplay render -i INV [PLAYBOOK...] [--host H]`: what each host must look like, as the scripts
 * that would build it from nothing. No host is contacted: the plan is made against empty facts.
 */
import { join } from 'node:path';
import { Command } from 'commander';
import { applyScript, hostContext, planHost, prepareHost, probeScript } from '../plan/build.js';
import { formatPlan } from '../plan/print.js';
import { selectHosts } from '../playbook/select.js';
import { BUILTIN_PLAYBOOKS, loadAll } from './load.js';

export function renderCommand(): Command {
  return new Command('render')
    .description("print each host's desired state as the scripts that build it from scratch (no remote)")
    .requiredOption('-i, --inventory <file>', 'inventory YAML file')
    .argument('[playbooks...]', 'playbooks (default: the built-in bootstrap.yml)')
    .option('--host <name...>', 'only these hosts')
    .option('--probe', 'also print the probe script each host would run')
    .option('-t, --templates <dir...>', 'template override folders', [])
    .action((files: string[], options: { inventory: string; host?: string[]; probe?: boolean; templates: string[] }) => {
      const playbookFiles = files.length > 0 ? files : [join(BUILTIN_PLAYBOOKS, 'bootstrap.yml')];
      const { cluster, playbooks, templates } = loadAll(options.inventory, playbookFiles, options.templates);
      const out: string[] = [];
      playbooks.forEach((playbook) =>
        playbook.plays.forEach((play, p) => {
          out.push(`## ${play.name}`);
          for (const host of selectHosts(cluster, play.hosts)) {
            if (options.host && !options.host.includes(host.name)) continue;
            const prepared = prepareHost(hostContext(cluster, host, play, templates), play, p);
            const plan = planHost(prepared, '');
            out.push(formatPlan(plan, { diff: true }));
            if (options.probe) out.push(`### probe script for ${host.name}\n${probeScript(prepared)}`);
            out.push(`### apply script for ${host.name}\n${applyScript(plan)}`);
          }
        }),
      );
      process.stdout.write(`${out.join('\n')}\n`);
    });
}
