/**
 * What every command that runs playbooks on hosts shares (apply, failover): the options, the
 * renderer choice, the run itself over SshTransport, and the exit status.
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Command, Option } from 'commander';
import type { Cluster, Host } from '../inventory/model.js';
import type { Playbook } from '../playbook/model.js';
import { unknownTerm } from '../playbook/select.js';
import type { Templates } from '../resources/templates.js';
import { exitCode } from '../run/recap.js';
import { JsonRenderer } from '../run/render-json.js';
import { ListrRenderer } from '../run/render-listr.js';
import { PlainRenderer } from '../run/render-plain.js';
import { runPlaybooks } from '../run/runner.js';
import type { Renderer } from '../run/types.js';
import { SshTransport } from '../transport/ssh.js';
import { EXIT } from './exit.js';

export interface RunCommandOptions {
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

export function withRunOptions(command: Command): Command {
  return command
    .requiredOption('-i, --inventory <file>', 'inventory YAML file')
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
3 (--check --detailed-exitcode) a host differs from the inventory; 4 a host was unreachable.`);
}

/** Run the playbooks on their hosts and set the exit status. Returns false on bad options. */
export async function execute(cluster: Cluster, playbooks: Playbook[], templates: Templates, options: RunCommandOptions): Promise<boolean> {
  const forks = Number(options.forks);
  if (!Number.isInteger(forks) || forks < 1) return usageError(`--forks: expected a whole number >= 1, got ${options.forks}`);
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
  return true;
}

/** A bad option: say so, exit 1, touch nothing. */
export function usageError(message: string): false {
  process.stderr.write(`lvsplay: ${message}\n`);
  process.exitCode = EXIT.badInput;
  return false;
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

function pickRenderer(mode: RunCommandOptions['output'], options: { check: boolean; diff: boolean }): Renderer {
  if (mode === 'json') return new JsonRenderer(process.stdout, options);
  if (mode === 'tty' || (mode === 'auto' && process.stdout.isTTY)) return new ListrRenderer(process.stdout, options);
  return new PlainRenderer(process.stdout, options);
}
