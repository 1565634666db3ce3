/**
 * `lvsplay plan -i INV PLAYBOOK... --facts DIR`: plans from saved probe output (DIR/<host>.txt,
 * the output of the host's probe scripts), so a plan can be reproduced and reviewed offline.
 * The facts are this command's input: a host without its file, or a file that cannot be read as
 * that host's probe output (a task's section missing or repeated: another file, or one cut short),
 * is bad input (exit 1), never a plan against nothing. An empty file is a blank host.
 */
import { join } from 'node:path';
import { Command } from 'commander';
import { notProbeOutput, planHost } from '../plan/pipeline.js';
import { prepareRun } from '../plan/prepare.js';
import { formatPlan } from '../plan/print.js';
import { inSync } from '../plan/types.js';
import { InputError, type Problem } from '../util/problems.js';
import { InputFileError, readInputFile } from '../util/input-file.js';
import { safeText } from '../util/terminal.js';
import { EXIT } from './exit.js';
import { collectDirs, EXTRA_VARS_FLAGS, EXTRA_VARS_HELP, INVENTORY_FLAGS, INVENTORY_HELP, loadAll, oneInventory } from './load.js';

export function planCommand(): Command {
  return new Command('plan')
    .description('compute plans from saved probe output, offline')
    .requiredOption(INVENTORY_FLAGS, INVENTORY_HELP, oneInventory)
    .requiredOption('--facts <dir>', 'folder with one probe output per host, named <host>.txt')
    .argument('<playbooks...>', 'playbook YAML files')
    .option('--diff', 'show before/after text')
    .option('--detailed-exitcode', 'exit 3 when any host would change')
    .option('-t, --templates <dir>', 'a template override folder (repeatable)', collectDirs, [])
    .option(EXTRA_VARS_FLAGS, EXTRA_VARS_HELP, collectDirs, [])
    .option('--debug', 'on an internal error, print where it happened')
    .action((files: string[], options: { inventory: string; facts: string; diff?: boolean; detailedExitcode?: boolean; templates: string[]; extraVars: string[] }) => {
      const { cluster, playbooks, templates } = loadAll(options.inventory, files, options.templates, options.extraVars);
      const out: string[] = [];
      const problems: Problem[] = [];
      let drifted = false;
      for (const { play, hosts } of prepareRun(cluster, playbooks, templates)) {
        out.push(`## ${safeText(play.name)}\n`);
        // A step delegated to the directors (drain, wait) is about the live table: planned at run time only.
        for (const prepared of hosts.flatMap((h) => h.steps.filter((s) => !s.delegated).flatMap((s) => s.targets))) {
          const name = prepared.ctx.host.name;
          const file = join(options.facts, `${name}.txt`);
          try {
            const facts = readInputFile(file);
            // An empty file stands for a blank host (the plan render shows); anything else is a probe's output, whole.
            const unfit = facts === '' ? undefined : notProbeOutput(prepared, facts);
            if (unfit) throw new Error(unfit);
            const plan = planHost(prepared, facts);
            drifted ||= !inSync(plan);
            out.push(formatPlan(plan, { diff: options.diff ?? false }));
          } catch (err) {
            const why = err instanceof InputFileError ? `the facts file of host ${name} ${err.message}` : `cannot plan host ${name} from it: ${(err as Error).message}`;
            problems.push({ file, line: 0, col: 0, field: '', message: why });
          }
        }
      }
      if (problems.length > 0) throw new InputError(problems);
      process.stdout.write(out.join(''));
      process.exitCode = options.detailedExitcode && drifted ? EXIT.drifted : EXIT.ok;
    });
}
