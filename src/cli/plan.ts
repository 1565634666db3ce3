/**
 * `lvsplay plan -i INV PLAYBOOK... --facts DIR`: plans from saved probe output (DIR/<host>.txt,
 * the output of the host's probe scripts), so a plan can be reproduced and reviewed offline.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { planHost } from '../plan/build.js';
import { formatPlan } from '../plan/print.js';
import { isEmpty } from '../plan/types.js';
import { EXIT } from './exit.js';
import { loadAll, preparedPlays } from './load.js';

export function planCommand(): Command {
  return new Command('plan')
    .description('compute plans from saved probe output, offline')
    .requiredOption('-i, --inventory <file>', 'inventory YAML file')
    .requiredOption('--facts <dir>', 'folder with one probe output per host, named <host>.txt')
    .argument('<playbooks...>', 'playbook YAML files')
    .option('--diff', 'show before/after text')
    .option('--detailed-exitcode', 'exit 3 when any host would change')
    .option('-t, --templates <dir...>', 'template override folders', [])
    .action((files: string[], options: { inventory: string; facts: string; diff?: boolean; detailedExitcode?: boolean; templates: string[] }) => {
      let drifted = false;
      for (const { play, hosts } of preparedPlays(loadAll(options.inventory, files, options.templates))) {
        process.stdout.write(`## ${play.name}\n`);
        for (const prepared of hosts) {
          const factsFile = join(options.facts, `${prepared.ctx.host.name}.txt`);
          const facts = existsSync(factsFile) ? readFileSync(factsFile, 'utf8') : '';
          const plan = planHost(prepared, facts);
          drifted ||= !isEmpty(plan);
          process.stdout.write(formatPlan(plan, { diff: options.diff ?? false }));
        }
      }
      process.exitCode = options.detailedExitcode && drifted ? EXIT.drifted : EXIT.ok;
    });
}
