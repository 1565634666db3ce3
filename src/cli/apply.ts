/**
 * `lvsplay apply -i INV PLAYBOOK...`: bring hosts to their desired state over SSH. With --check,
 * only probe and report (CI, cron); with --detailed-exitcode, exit 3 when anything drifted.
 */
import { Command } from 'commander';
import { loadAll } from './load.js';
import { execute, type RunCommandOptions, withRunOptions } from './run-options.js';

export function applyCommand(): Command {
  return withRunOptions(new Command('apply').description('apply playbooks to the hosts of an inventory over SSH'))
    .argument('<playbooks...>', 'playbook YAML files, run in order')
    .action(async (files: string[], options: RunCommandOptions) => {
      const { cluster, playbooks, templates } = loadAll(options.inventory, files, options.templates);
      await execute(cluster, playbooks, templates, options);
    });
}
