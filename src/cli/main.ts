#!/usr/bin/env node
/**
 * The lvsplay command line: one subcommand per file in this folder, and the one place errors end:
 * bad input is its problem list and exit 1; anything else is a bug in lvsplay, said in one line
 * (exit 250, as ansible-playbook exits on an unexpected error), with the trace only under --debug.
 */
import { Command } from 'commander';
import { own } from '../util/own.js';
import { InputError } from '../util/problems.js';
import { safeLines, safeText } from '../util/terminal.js';
import { EXIT } from './exit.js';

const debug = process.argv.includes('--debug') || process.env['LVSPLAY_DEBUG'] === '1';
// The bundle users run (scripts/bundle.ts) has linked source maps: a trace names the TypeScript.
if (debug) process.setSourceMapsEnabled(true);

function fail(err: unknown): never {
  if (err instanceof InputError) {
    process.stderr.write(`${safeLines(err.message)}\n`);
    process.exit(EXIT.badInput);
  }
  const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
  process.stderr.write(`lvsplay: internal error (a bug in lvsplay, please report it): ${safeText(message ?? '')}\n`);
  process.stderr.write(debug && err instanceof Error && err.stack ? `${err.stack}\n` : 'Run again with --debug to see where it happened.\n');
  process.exit(EXIT.internal);
}

process.on('uncaughtException', fail);
process.on('unhandledRejection', fail);
// A reader that closes the pipe (`lvsplay render | head`) wants no more output, not a stopped run:
// an apply goes on to its end and its exit status; what it would print is dropped.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') fail(err);
});

/**
 * The subcommands, in the order help lists them, each loaded only when needed: a command's module
 * graph (zod, yaml, Handlebars, ssh2...) is most of lvsplay's start-up, and `apply` has no use
 * for `import`'s parsers or `status`'s tables (~20 ms), `--version` for any of them (~160 ms).
 */
const COMMANDS: Record<string, () => Promise<Command>> = {
  validate: async () => (await import('./validate.js')).validateCommand(),
  apply: async () => (await import('./apply.js')).applyCommand(),
  failover: async () => (await import('./failover.js')).failoverCommand(),
  drain: async () => (await import('./drain.js')).drainCommand(),
  undrain: async () => (await import('./drain.js')).undrainCommand(),
  status: async () => (await import('./status.js')).statusCommand(),
  render: async () => (await import('./render.js')).renderCommand(),
  plan: async () => (await import('./plan.js')).planCommand(),
  import: async () => (await import('./import.js')).importCommand(),
};

/**
 * Which subcommands this command line needs: the one it names (the program's own options take no
 * value, so that is its first operand), none for a bare --version, and every one otherwise (help,
 * and the "did you mean" of an unknown command, list them all).
 */
function needed(args: readonly string[]): string[] {
  const first = args.find((a) => !a.startsWith('-'));
  if (first !== undefined && own(COMMANDS, first)) return [first];
  if (first === undefined && args.some((a) => a === '-V' || a === '--version') && !args.some((a) => a === '-h' || a === '--help')) return [];
  return Object.keys(COMMANDS);
}

const program = new Command('lvsplay')
  .description('Stand up and roll out LVS/IPVS clusters over SSH, idempotently')
  .version('0.1.0')
  .option('--debug', 'on an internal error, print where it happened (a stack trace)')
  .showHelpAfterError();
for (const command of await Promise.all(needed(process.argv.slice(2)).map((name) => COMMANDS[name]!()))) program.addCommand(command);

// Usage errors quote the command line back ("unknown option '--x'"): its control characters are
// escaped like any foreign text (an ESC sequence in an argument could hide or recolour lines, a line
// break in one could forge a line). Commander's own line breaks are the message's end and the one
// before its suggestion ("(Did you mean validate?)"); every other is the argument's, and escaped.
// addCommand does not pass output settings on, so every subcommand gets them.
const output = { outputError: (text: string, write: (s: string) => void) => write(`${text.replace(/\n$/, '').split(/\n(?=\(Did you mean )/).map(safeText).join('\n')}\n`) };
for (const command of [program, ...program.commands]) command.configureOutput(output);

program.exitOverride((err) => {
  process.exit(err.exitCode === 0 ? EXIT.ok : EXIT.badInput);
});

try {
  await program.parseAsync(process.argv);
} catch (err) {
  fail(err);
}
