#!/usr/bin/env node
/**
 * The lvsplay command line: one subcommand per file in this folder, and the one place errors end:
 * bad input is its problem list and exit 1; anything else is a bug in lvsplay, said in one line
 * (exit 250, as ansible-playbook exits on an unexpected error), with the trace only under --debug.
 */
import { Command } from 'commander';
import { InputError } from '../util/problems.js';
import { safeText } from '../util/terminal.js';
import { applyCommand } from './apply.js';
import { drainCommand, undrainCommand } from './drain.js';
import { EXIT } from './exit.js';
import { failoverCommand } from './failover.js';
import { importCommand } from './import.js';
import { planCommand } from './plan.js';
import { renderCommand } from './render.js';
import { statusCommand } from './status.js';
import { validateCommand } from './validate.js';

const debug = process.argv.includes('--debug') || process.env['LVSPLAY_DEBUG'] === '1';

function fail(err: unknown): never {
  if (err instanceof InputError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(EXIT.badInput);
  }
  const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
  process.stderr.write(`lvsplay: internal error (a bug in lvsplay, please report it): ${safeText(message ?? '')}\n`);
  process.stderr.write(debug && err instanceof Error && err.stack ? `${err.stack}\n` : 'Run again with --debug to see where it happened.\n');
  process.exit(EXIT.internal);
}

process.on('uncaughtException', fail);
process.on('unhandledRejection', fail);

const program = new Command('lvsplay')
  .description('Stand up and roll out LVS/IPVS clusters over SSH, idempotently')
  .version('0.1.0')
  .option('--debug', 'on an internal error, print where it happened (a stack trace)')
  .showHelpAfterError()
  .addCommand(validateCommand())
  .addCommand(applyCommand())
  .addCommand(failoverCommand())
  .addCommand(drainCommand())
  .addCommand(undrainCommand())
  .addCommand(statusCommand())
  .addCommand(renderCommand())
  .addCommand(planCommand())
  .addCommand(importCommand());

// Usage errors quote the command line back ("unknown option '--x'"): its control characters are
// escaped like any foreign text (an ESC sequence in an argument could hide or recolour lines).
// addCommand does not pass output settings on, so every subcommand gets them.
const output = { outputError: (text: string, write: (s: string) => void) => write(text.split('\n').map(safeText).join('\n')) };
for (const command of [program, ...program.commands]) command.configureOutput(output);

program.exitOverride((err) => {
  process.exit(err.exitCode === 0 ? EXIT.ok : EXIT.badInput);
});

try {
  await program.parseAsync(process.argv);
} catch (err) {
  fail(err);
}
