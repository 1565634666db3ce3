/**
 * `lvsplay apply -i INV PLAYBOOK...`: bring hosts to their desired state over SSH. With --check,
 * only probe and report (CI, cron); with --detailed-exitcode, exit 3 when anything drifted.
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import type { Host } from '../inventory/model.js';
import { JsonRenderer } from '../run/render-json.js';
import { ListrRenderer } from '../run/render-listr.js';
import { PlainRenderer } from '../run/render-plain.js';
import { exitCode } from '../run/recap.js';
import { runPlaybooks } from '../run/runner.js';
import type { Renderer } from '../run/types.js';
import { SshTransport } from '../transport/ssh.js';
import { unknownTerm } from '../playbook/select.js';
import { EXIT } from './exit.js';
import { loadAll } from './load.js';

interface ApplyOptions {
  inventory: string;
  check?: boolean;
  diff?: boolean;
  detailedExitcode?: boolean;
  forks: string;
  limit?: string;
  output: 'auto' | 'tty' | 'plain' | 'json';
  json?: boolean;
  templates: string[];
  saveFacts?: string;
}

export function applyCommand(): Command {
  return new Command('apply')
    .description('apply playbooks to the hosts of an inventory over SSH')
    .requiredOption('-i, --inventory <file>', 'inventory YAML file')
    .argument('<playbooks...>', 'playbook YAML files, run in order')
    .option('-C, --check', 'probe and plan only; change nothing')
    .option('-D, --diff', 'show before/after text of each change')
    .option('--detailed-exitcode', 'with --check: exit 3 when any host differs from the inventory')
    .option('-f, --forks <n>', 'hosts worked on at once', '50')
    .option('-l, --limit <terms>', 'only hosts matching these terms (comma-separated names, groups, globs)')
    .addOption(new Option('--output <mode>', 'live task list, plain lines, or one JSON document').choices(['auto', 'tty', 'plain', 'json']).default('auto'))
    .option('--json', 'same as --output json')
    .option('-t, --templates <dir...>', 'template override folders', [])
    .option('--save-facts <dir>', "write each host's probe output to DIR/<host>.txt, for `lvsplay plan --facts DIR`")
    .addHelpText('after', `
Exit status: 0 all good; 1 bad input (nothing was touched); 2 a host failed;
3 (--check --detailed-exitcode) a host differs from the inventory; 4 a host was unreachable.`)
    .action(async (files: string[], options: ApplyOptions) => {
      const forks = Number(options.forks);
      if (!Number.isInteger(forks) || forks < 1) return usageError(`--forks: expected a whole number >= 1, got ${options.forks}`);
      const { cluster, playbooks, templates } = loadAll(options.inventory, files, options.templates);
      const limit = options.limit?.split(',').filter((t) => t !== '');
      const unknown = limit?.map((term) => unknownTerm(cluster, term)).find((why) => why !== undefined);
      if (unknown) return usageError(`--limit: ${unknown}`);
      const check = options.check ?? false;
      const renderer = pickRenderer(options.json ? 'json' : options.output, { check, diff: options.diff ?? false });
      const results = await runPlaybooks(cluster, playbooks, templates, {
        check,
        forks,
        ...(limit && { limit }),
        connect: (host: Host) => SshTransport.connect(host.name, host.ssh),
        ...(options.saveFacts && { onFacts: factsWriter(options.saveFacts) }),
      }, renderer);
      const code = exitCode(results, { check, detailedExitcode: options.detailedExitcode ?? false });
      renderer.done(results, code);
      process.exitCode = code;
    });
}

/** A bad option: say so, exit 1, touch nothing. */
function usageError(message: string): void {
  process.stderr.write(`lvsplay apply: ${message}\n`);
  process.exitCode = EXIT.badInput;
}

/** Probe outputs per host, one file each; a host probed in several plays gets them all, in order. */
function factsWriter(dir: string): (host: Host, output: string) => void {
  mkdirSync(dir, { recursive: true });
  const started = new Set<string>();
  return (host, output) => {
    const file = join(dir, `${host.name}.txt`);
    if (started.has(host.name)) appendFileSync(file, output);
    else writeFileSync(file, output);
    started.add(host.name);
  };
}

function pickRenderer(mode: ApplyOptions['output'], options: { check: boolean; diff: boolean }): Renderer {
  if (mode === 'json') return new JsonRenderer(process.stdout, options);
  if (mode === 'tty' || (mode === 'auto' && process.stdout.isTTY)) return new ListrRenderer(process.stdout, options);
  return new PlainRenderer(process.stdout, options);
}
