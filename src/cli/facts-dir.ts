/**
 * `--save-facts DIR`: each host's probe output, which holds the contents of managed files, so the
 * folder is private (0700) and each file is written 0600 through a temp file renamed into place
 * (a rename replaces a symlink planted in DIR instead of writing through it).
 */
import { chmodSync, closeSync, constants, lstatSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Host } from '../inventory/model.js';
import { InputError } from '../util/problems.js';

/** Checks (and creates) the folder before any host is contacted; bad input when it cannot be used. */
export function factsWriter(dir: string): (host: Host, output: string) => void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const stat = lstatSync(dir);
    if (!stat.isDirectory()) throw new Error('it is not a folder (a file or a symbolic link)');
    chmodSync(dir, 0o700);
  } catch (err) {
    throw new InputError([{ file: dir, line: 0, col: 0, field: '--save-facts', message: `cannot keep facts there: ${(err as Error).message}` }]);
  }
  const outputs = new Map<string, string>();
  return (host, output) => {
    // A host probed in several plays gets them all, in order, in one file.
    const text = (outputs.get(host.name) ?? '') + output;
    outputs.set(host.name, text);
    const target = join(dir, `${host.name}.txt`);
    const temp = `${target}.${process.pid}.tmp`;
    const fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    try {
      writeSync(fd, text);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, target);
  };
}
