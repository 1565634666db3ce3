/**
 * `lvsplay validate -i INVENTORY [PLAYBOOK...]`: check files, touch nothing, say what was found.
 * With playbooks, every host's desired state is built as a run would build it, so a template that
 * needs a missing value, or one that breaks the shell-template rules, is found here.
 */
import { Command } from 'commander';
import { prepareRun, selectsNoHost, uncarried } from '../plan/prepare.js';
import { safeText } from '../util/terminal.js';
import { EXIT, say } from './exit.js';
import { collectDirs, EXTRA_VARS_FLAGS, EXTRA_VARS_HELP, INVENTORY_FLAGS, INVENTORY_HELP, loadAll, oneInventory } from './load.js';

export function validateCommand(): Command {
  return new Command('validate')
    .description('check an inventory (and playbooks, with their templates) without contacting any host')
    .requiredOption(INVENTORY_FLAGS, INVENTORY_HELP, oneInventory)
    .argument('[playbooks...]', 'playbook YAML files to check against the inventory')
    .option('-t, --templates <dir>', 'a template override folder (repeatable)', collectDirs, [])
    .option(EXTRA_VARS_FLAGS, EXTRA_VARS_HELP, collectDirs, [])
    .option('--debug', 'on an internal error, print where it happened')
    .action((files: string[], options: { inventory: string; templates: string[]; extraVars: string[] }) => {
      const { cluster, playbooks, templates } = loadAll(options.inventory, files, options.templates, options.extraVars);
      const plays = prepareRun(cluster, playbooks, templates);
      const idle = playbooks.length > 0 ? selectsNoHost(plays) : undefined;
      if (idle) {
        say(idle);
        process.exitCode = EXIT.badInput;
        return;
      }
      const tasks = playbooks.length > 0 ? `, ${playbooks.length} playbook(s)` : '';
      process.stdout.write(
        `${safeText(options.inventory)}: valid: ${cluster.directors.length} directors, ${cluster.realServers.length} real servers, ${cluster.services.length} services${tasks}\n`,
      );
      for (const [name, file] of templates.overrides) say(`note: built-in template ${name} is overridden by ${file}`);
      for (const text of uncarried(plays)) say(`note: ${text}`);
      process.exitCode = EXIT.ok;
    });
}
