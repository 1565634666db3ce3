/**
 * What every command that runs playbooks on hosts shares (apply, failover): the options, the
 * renderer choice, the run itself over SshTransport, signals, and the exit status.
 */
import { type Command, Option } from 'commander';
import type { Cluster, Host } from '../inventory/model.js';
import type { Playbook } from '../playbook/model.js';
import { invalidTerm, LimitFileError, limitTerms, selectHosts, unknownTerm } from '../playbook/select.js';
import { prepareRun, selectsNoHost, uncarried } from '../plan/prepare.js';
import type { Templates } from '../templates/templates.js';
import { exitCode } from '../run/recap.js';
import { JsonRenderer } from '../run/render-json.js';
import { PlainRenderer } from '../run/render-plain.js';
import { runPlays } from '../run/runner.js';
import type { Renderer } from '../run/types.js';
import { EXIT, say, usageError } from './exit.js';
import { factsWriter } from './facts-dir.js';
import { collectDirs, INVENTORY_FLAGS, INVENTORY_HELP, oneInventory } from './load.js';

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
    .requiredOption(INVENTORY_FLAGS, INVENTORY_HELP, oneInventory)
    .option('-C, --check', 'probe and plan only; change nothing')
    .option('-D, --diff', 'show before/after text of each change')
    .option('--detailed-exitcode', 'with --check: exit 3 when any host differs from the inventory')
    .option('-f, --forks <n>', 'hosts worked on at once', '50')
    .option('-l, --limit <terms>', "only hosts matching these terms, as ansible-playbook's --limit (names, groups, globs, ~regex, [subscript], !exclude, &intersect, joined by , or :; @FILE for a file of host names)")
    .addOption(new Option('--output <mode>', 'live task list, plain lines, or one JSON document').choices(['auto', 'tty', 'plain', 'json']).default('auto'))
    .option('--json', 'same as --output json')
    .option('-t, --templates <dir>', 'a template override folder (repeatable)', collectDirs, [])
    .option('--save-facts <dir>', "write each host's probe output to DIR/<host>.txt (a private folder), for `lvsplay plan --facts DIR`")
    .option('--debug', 'on an internal error, print where it happened')
    .addHelpText('after', `
Exit status: 0 all good; 1 bad input (nothing was touched); 2 a host failed;
3 (--check --detailed-exitcode) a host differs from the inventory; 4 a host was unreachable;
130/143 stopped by SIGINT/SIGTERM (running hosts finished, the rest reported interrupted).`);
}

/** Run the playbooks on their hosts and set the exit status. Returns false on bad options. */
export async function execute(cluster: Cluster, playbooks: Playbook[], templates: Templates, options: RunCommandOptions): Promise<boolean> {
  // Decimal digits, as ansible-playbook's -f: Number() alone would take 1e3, 0x10 and 2.0 as counts
  const forks = /^\s*[0-9]+\s*$/.test(options.forks) ? Number(options.forks) : NaN;
  if (!Number.isSafeInteger(forks) || forks < 1) return usageError(`--forks: expected a whole number >= 1, got ${options.forks}`);
  let limit: string[] | undefined;
  try {
    limit = limitTerms(options.limit);
  } catch (err) {
    if (err instanceof LimitFileError) return usageError(err.message);
    throw err;
  }
  for (const term of limit ?? []) {
    // as ansible-playbook: a malformed term is an error, one that matches nothing a warning
    const invalid = invalidTerm(cluster, term);
    if (invalid) return usageError(`--limit: ${invalid}`);
    const why = unknownTerm(cluster, term);
    if (why) say(`warning: --limit: ${why}; ignoring it`);
  }
  if (limit && selectHosts(cluster, limit).length === 0) return usageError(`--limit ${options.limit}: leaves no host to work on`);
  const plays = prepareRun(cluster, playbooks, templates, limit);
  const idle = selectsNoHost(plays);
  if (idle) return usageError(idle);
  const onFacts = options.saveFacts === undefined ? undefined : factsWriter(options.saveFacts);
  const check = options.check ?? false;
  // SSH and the live task list are loaded once a run starts, not by every command (start-up)
  const [{ SshTransport }, renderer] = await Promise.all([import('../transport/ssh.js'), pickRenderer(options.json ? 'json' : options.output, { check, diff: options.diff ?? false })]);
  for (const [name, file] of templates.overrides) renderer.note(`built-in template ${name} is overridden by ${file}`);
  for (const text of uncarried(plays)) renderer.note(text);
  const signals = stopOnSignals(renderer);
  try {
    const results = await runPlays(plays, {
      templates,
      check,
      forks,
      connect: (host: Host) => SshTransport.connect(host.name, host.ssh),
      stopping: () => signals.received !== undefined,
      ...(onFacts && { onFacts }),
    }, renderer);
    const code = signals.received === 'SIGINT' ? EXIT.interrupted
      : signals.received === 'SIGTERM' ? EXIT.terminated
        : exitCode(results, { check, detailedExitcode: options.detailedExitcode ?? false });
    renderer.done(results, code);
    process.exitCode = code;
  } finally {
    signals.release();
  }
  return true;
}

/**
 * The first SIGINT/SIGTERM asks the run to stop: no host or apply starts after it, running ones
 * complete (an IPVS batch is never cut short), then the recap. A second one ends lvsplay at once,
 * leaving whatever runs on the hosts to finish there unobserved.
 */
function stopOnSignals(renderer: Renderer): { received: NodeJS.Signals | undefined; release: () => void } {
  const state: { received: NodeJS.Signals | undefined; release: () => void } = { received: undefined, release: () => undefined };
  const handler = (signal: NodeJS.Signals) => {
    if (state.received !== undefined) {
      process.stderr.write(`\nlvsplay: ${signal} again: exiting now; scripts already running on hosts go on without lvsplay\n`);
      process.exit(signal === 'SIGINT' ? EXIT.interrupted : EXIT.terminated);
    }
    state.received = signal;
    renderer.note(`${signal}: stopping; hosts already running finish (send it again to exit at once)`);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  state.release = () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
  return state;
}

async function pickRenderer(mode: RunCommandOptions['output'], options: { check: boolean; diff: boolean }): Promise<Renderer> {
  if (mode === 'json') return new JsonRenderer(process.stdout, options);
  if (mode === 'tty' || (mode === 'auto' && process.stdout.isTTY)) return new (await import('../run/render-listr.js')).ListrRenderer(process.stdout, options);
  return new PlainRenderer(process.stdout, options);
}
