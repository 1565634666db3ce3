/** What every command that plans starts with: the inventory, the playbooks, the templates. */
import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadInventory } from '../inventory/load.js';
import type { Cluster } from '../inventory/model.js';
import { loadPlaybook } from '../playbook/load.js';
import type { Playbook } from '../playbook/model.js';
import { Templates } from '../templates/templates.js';
import { InputError, type Problem } from '../util/problems.js';

/** The shipped playbooks, for `render` without a playbook. */
export const BUILTIN_PLAYBOOKS = join(dirname(fileURLToPath(import.meta.url)), '../../../playbooks');

export interface Loaded {
  cluster: Cluster;
  playbooks: Playbook[];
  templates: Templates;
}

/** `-t DIR` may be given several times; each is one folder (so `-t DIR pb.yml` never eats the playbook). */
export function collectDirs(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Load and check everything up front: one InputError with every problem, or all of it valid. */
export function loadAll(inventory: string, playbookFiles: string[], templateDirs: string[] = []): Loaded {
  const problems: Problem[] = templateDirs.flatMap((dir) => {
    let isDir = false;
    try {
      isDir = statSync(dir).isDirectory();
    } catch {
      // reported below
    }
    return isDir ? [] : [{ file: dir, line: 0, col: 0, field: '--templates', message: 'expected a folder of templates, and this is none' }];
  });
  const cluster = loadInventory(inventory);
  const playbooks: Playbook[] = [];
  for (const file of playbookFiles) {
    try {
      playbooks.push(loadPlaybook(file, cluster));
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      problems.push(...err.problems);
    }
  }
  if (problems.length > 0) throw new InputError(problems);
  // A project overrides built-in templates from its own templates/ folders: explicit ones first,
  // then the one beside each playbook.
  const overrides = [...templateDirs, ...playbookFiles.map((f) => join(dirname(f), 'templates'))];
  return { cluster, playbooks, templates: new Templates(overrides) };
}
