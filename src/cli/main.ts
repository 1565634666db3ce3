#!/usr/bin/env node
/** The lvsplay command line: one subcommand per file in this folder. */
import { Command } from 'commander';
import { InputError } from '../util/problems.js';
import { EXIT } from './exit.js';
import { applyCommand } from './apply.js';
import { failoverCommand } from './failover.js';
import { planCommand } from './plan.js';
import { renderCommand } from './render.js';
import { validateCommand } from './validate.js';

const program = new Command('lvsplay')
  .description('Stand up and roll out LVS/IPVS clusters over SSH, idempotently')
  .version('0.1.0')
  .showHelpAfterError()
  .addCommand(validateCommand())
  .addCommand(applyCommand())
  .addCommand(failoverCommand())
  .addCommand(renderCommand())
  .addCommand(planCommand());

program.exitOverride((err) => {
  process.exit(err.exitCode === 0 ? EXIT.ok : EXIT.badInput);
});

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof InputError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(EXIT.badInput);
  }
  throw err;
}
