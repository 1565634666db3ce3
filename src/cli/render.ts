/**
 * `lvsplay render -i INV [PLAYBOOK...] [--host H]`: what each host must look like, as the scripts
 * that would build it from nothing. No host is contacted: the plan is made against empty facts.
 */
import { join } from 'node:path';
import { Command } from 'commander';
import { applyScript, planHost, probeScript } from '../plan/build.js';
import { formatPlan } from '../plan/print.js';
import { BUILTIN_PLAYBOOKS, loadAll, preparedPlays } from './load.js';

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
      const out: string[] = [];
      for (const { play, hosts } of preparedPlays(loadAll(options.inventory, playbookFiles, options.templates))) {
        out.push(`## ${play.name}`);
        for (const prepared of hosts) {
          const name = prepared.ctx.host.name;
          if (options.host && !options.host.includes(name)) continue;
          const plan = planHost(prepared, '');
          out.push(formatPlan(plan, { diff: true }));
          if (options.probe) out.push(`### probe script for ${name}\n${probeScript(prepared)}`);
          out.push(`### apply script for ${name}\n${applyScript(plan)}`);
        }
      }
      process.stdout.write(`${out.join('\n')}\n`);
    });
}
