/** `lvsplay validate -i INVENTORY [PLAYBOOK...]`: check files, touch nothing, say what was found. */
import { Command } from 'commander';
import { loadInventory } from '../inventory/load.js';
import { loadPlaybook } from '../playbook/load.js';
import { InputError } from '../util/problems.js';
import { EXIT } from './exit.js';

export function validateCommand(): Command {
  return new Command('validate')
    .description('check an inventory (and playbooks) without contacting any host')
    .requiredOption('-i, --inventory <file>', 'inventory YAML file')
    .argument('[playbooks...]', 'playbook YAML files to check against the inventory')
    .action((playbooks: string[], options: { inventory: string }) => {
      const cluster = loadInventory(options.inventory);
      const problems = playbooks.flatMap((file) => {
        try {
          loadPlaybook(file, cluster);
          return [];
        } catch (err) {
          if (err instanceof InputError) return err.problems;
          throw err;
        }
      });
      if (problems.length > 0) throw new InputError(problems);
      const tasks = playbooks.length > 0 ? `, ${playbooks.length} playbook(s)` : '';
      process.stdout.write(
        `${options.inventory}: valid: ${cluster.directors.length} directors, ${cluster.realServers.length} real servers, ${cluster.services.length} services${tasks}\n`,
      );
      process.exitCode = EXIT.ok;
    });
}
