/**
 * `lvsplay apply -i INV PLAYBOOK...`: bring hosts to their desired state over SSH. With --check,
 * only probe and report (CI, cron); with --detailed-exitcode, exit 3 when anything drifted.
 */
import { Command } from 'commander';
import { collectDirs, EXTRA_VARS_FLAGS, EXTRA_VARS_HELP, loadAll } from './load.js';
import { execute, type RunCommandOptions, withRunOptions } from './run-options.js';

export function applyCommand(): Command {
  return withRunOptions(new Command('apply').description('apply playbooks to the hosts of an inventory over SSH'))
    .argument('<playbooks...>', 'playbook YAML files, run in order')
    .option(EXTRA_VARS_FLAGS, EXTRA_VARS_HELP, collectDirs, [])
    .action(async (files: string[], options: RunCommandOptions & { extraVars: string[] }) => {
      const { cluster, playbooks, templates } = loadAll(options.inventory, files, options.templates, options.extraVars);
      await execute(cluster, playbooks, templates, options);
    });
}
