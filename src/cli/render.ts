/**
 * `lvsplay render -i INV [PLAYBOOK...] [--host H]`: what each host must look like, as the scripts
 * that would build it from nothing. No host is contacted: the plan is made against empty facts.
 */
import { join } from 'node:path';
import { Command } from 'commander';
import { applyScript, planHost } from '../plan/pipeline.js';
import { prepareRun, selectsNoHost, uncarried } from '../plan/prepare.js';
import { formatPlan } from '../plan/print.js';
import { safeText } from '../util/terminal.js';
import { say, usageError } from './exit.js';
import { BUILTIN_PLAYBOOKS, collectDirs, EXTRA_VARS_FLAGS, EXTRA_VARS_HELP, INVENTORY_FLAGS, INVENTORY_HELP, loadAll, oneInventory } from './load.js';

export function renderCommand(): Command {
  return new Command('render')
    .description("print each host's desired state as the scripts that build it from scratch (no remote)")
    .requiredOption(INVENTORY_FLAGS, INVENTORY_HELP, oneInventory)
    .argument('[playbooks...]', 'playbooks (default: the built-in bootstrap.yml)')
    .option('--host <name>', 'only this host (repeatable)', collectDirs, [])
    .option('--probe', 'also print the probe script each host would run')
    .option('-t, --templates <dir>', 'a template override folder (repeatable)', collectDirs, [])
    .option(EXTRA_VARS_FLAGS, EXTRA_VARS_HELP, collectDirs, [])
    .option('--debug', 'on an internal error, print where it happened')
    .action((files: string[], options: { inventory: string; host: string[]; probe?: boolean; templates: string[]; extraVars: string[] }) => {
      const playbookFiles = files.length > 0 ? files : [join(BUILTIN_PLAYBOOKS, 'bootstrap.yml')];
      const { cluster, playbooks, templates } = loadAll(options.inventory, playbookFiles, options.templates, options.extraVars);
      // --host is the command line's, not a place in the inventory: said as apply says a bad --limit
      const unknown = options.host.filter((h) => !cluster.hosts.has(h));
      if (unknown.length > 0) {
        usageError(`--host ${unknown.join(', ')}: no such host in ${cluster.file}`);
        return;
      }
      const only = options.host.length > 0 ? options.host : undefined;
      const out: string[] = [];
      let shown = 0;
      const plays = prepareRun(cluster, playbooks, templates, only);
      for (const { play, hosts } of plays) {
        out.push(`## ${safeText(play.name)}`);
        shown += hosts.length;
        for (const { steps } of hosts) {
          for (const { delegated, targets } of steps) {
            for (const prepared of targets) {
              const on = prepared.ctx.host.name;
              // A step delegated to the directors (drain, wait, undrain) plans against the live
              // table of a bootstrapped director, never against nothing: only its probe is known here.
              if (delegated) {
                const subject = prepared.ctx.subject?.name ?? '';
                out.push(`${on}: ${prepared.tasks.map((t) => t.task.kind).join(', ')} for ${subject}: planned at run time, from the director's live table`);
                if (options.probe) out.push(`### probe script for ${on} (${subject})\n${prepared.probe}`);
                continue;
              }
              const plan = planHost(prepared, '');
              out.push(formatPlan(plan, { diff: true }));
              if (options.probe) out.push(`### probe script for ${on}\n${prepared.probe}`);
              out.push(`### apply script for ${on}\n${applyScript(plan)}`);
            }
          }
        }
      }
      if (shown === 0) {
        usageError(only ? `--host ${only.join(', ')}: the playbooks select none of ${only.length === 1 ? 'it' : 'them'}: nothing to render` : selectsNoHost(plays)!);
        return;
      }
      for (const [name, file] of templates.overrides) say(`note: built-in template ${name} is overridden by ${file}`);
      for (const text of uncarried(plays)) say(`note: ${text}`);
      process.stdout.write(`${out.join('\n')}\n`);
    });
}
