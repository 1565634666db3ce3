/**
 * `lvsplay import [--ipvsadm-save FILE [--ipvsadm-thresholds FILE]] [--ldirectord FILE]
 * [--keepalived FILE] [--names FILE] [-o FILE [--force]]`: an inventory from a running cluster's
 * files. The inventory goes to stdout (or -o), the report to stderr: one `file:line:` line per
 * thing the inventory cannot say, and notes. Exit 0 when everything was expressed, 3 when the
 * report lists something that was not, 1 on unreadable or malformed input (nothing written).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { Command } from 'commander';
import { readNames } from '../import/hosts.js';
import { importInventory, type ImportInputs } from '../import/index.js';
import { InputError, type Problem } from '../util/problems.js';
import { InputFileError, readInputFile } from '../util/input-file.js';
import { EXIT } from './exit.js';

interface ImportOptions {
  ipvsadmSave?: string;
  ipvsadmThresholds?: string;
  ldirectord?: string;
  keepalived?: string;
  names?: string;
  output?: string;
  force?: boolean;
}

export function importCommand(): Command {
  return new Command('import')
    .description("an inventory from a running cluster's files (saved IPVS table, ldirectord.cf, keepalived.conf), with a report of what it cannot say")
    .option('--ipvsadm-save <file>', 'the output of ipvsadm -S -n')
    .option('--ipvsadm-thresholds <file>', 'the output of ipvsadm -L -n --thresholds (the -x/-y that -S never saves)')
    .option('--ldirectord <file>', 'an ldirectord.cf: its virtuals become managed_by: ldirectord services')
    .option('--keepalived <file>', 'a keepalived.conf: its virtual servers become managed_by: keepalived services, its vrrp_instance the pair\'s vrrp settings')
    .option('--names <file>', 'a YAML mapping of addresses to host names (otherwise rs-192-0-2-21)')
    .option('-o, --output <file>', 'write the inventory here instead of stdout (never over an existing file without --force)')
    .option('--force', 'let -o replace an existing file')
    .option('--debug', 'on an internal error, print where it happened')
    .addHelpText('after', '\nExit status: 0 everything the files say is in the inventory; 3 the report lists what is not;\n1 a file is unreadable or malformed (nothing written).')
    .action((options: ImportOptions) => {
      const inputs = readInputs(options);
      const { yaml, imported, report } = importInventory(inputs);
      if (options.output === undefined) process.stdout.write(yaml);
      else writeOutput(options.output, yaml, options.force ?? false);
      process.stderr.write(report.format());
      const owners = ['ldirectord', 'keepalived', 'lvsplay'].map((o) => `${imported.services.filter((s) => s.owner === o).length} ${o}`).join(', ');
      const missing = report.lines.filter((l) => l.kind === 'not expressed').length;
      process.stderr.write(`lvsplay import: ${imported.services.length} services (${owners})${missing > 0 ? `; ${missing} thing(s) not expressed in the inventory (listed above)` : '; everything expressed'}\n`);
      // 3 as under --check: the cluster differs from the inventory (here, by what the report lists).
      process.exitCode = report.complete ? EXIT.ok : EXIT.drifted;
    });
}

function readInputs(o: ImportOptions): ImportInputs {
  if (o.ipvsadmSave === undefined && o.ldirectord === undefined && o.keepalived === undefined) {
    throw new InputError([{ file: 'lvsplay import', line: 0, col: 0, field: '', message: 'expected at least one of --ipvsadm-save, --ldirectord, --keepalived' }]);
  }
  if (o.ipvsadmThresholds !== undefined && o.ipvsadmSave === undefined) {
    throw new InputError([{ file: o.ipvsadmThresholds, line: 0, col: 0, field: '--ipvsadm-thresholds', message: 'the thresholds listing completes a saved table: give --ipvsadm-save too' }]);
  }
  const problems: Problem[] = [];
  const read = (file: string | undefined): { file: string; text: string } | undefined => {
    if (file === undefined) return undefined;
    try {
      return { file, text: readInputFile(file) };
    } catch (err) {
      if (!(err instanceof InputFileError)) throw err;
      problems.push({ file, line: 0, col: 0, field: '', message: `the file ${err.message}` });
      return undefined;
    }
  };
  const save = read(o.ipvsadmSave);
  const thresholds = read(o.ipvsadmThresholds);
  const inputs: ImportInputs = {
    ...(save && { save: { ...save, ...(thresholds && { thresholds }) } }),
    ...(o.ldirectord !== undefined && { ldirectord: read(o.ldirectord)! }),
    ...(o.keepalived !== undefined && { keepalived: read(o.keepalived)! }),
  };
  if (problems.length > 0) throw new InputError(problems);
  return { ...inputs, ...(o.names !== undefined && { names: { file: o.names, map: readNames(o.names) } }) };
}

/** Written only when it did not exist (O_EXCL), unless --force: an inventory is never overwritten by accident. */
function writeOutput(file: string, text: string, force: boolean): void {
  let fd: number;
  try {
    fd = openSync(file, force ? 'w' : 'wx', 0o644);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError([{ file, line: 0, col: 0, field: '-o', message: code === 'EEXIST' ? 'exists already: give --force to replace it, or another file' : `cannot be written (${code ?? (err as Error).message})` }]);
  }
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}
