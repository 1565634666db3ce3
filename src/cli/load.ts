/** What every command that plans starts with: the inventory, the playbooks, the templates. */
import { InvalidArgumentError } from 'commander';
import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadInventory } from '../inventory/load.js';
import type { Cluster } from '../inventory/model.js';
import { inventoryVarClash, loadPlaybook } from '../playbook/load.js';
import { selectHosts } from '../playbook/select.js';
import type { Playbook } from '../playbook/model.js';
import { Templates } from '../templates/templates.js';
import { Name, VarText } from '../inventory/fields.js';
import { shellClashMessage, shellNameClash, shellVarName } from '../util/shell.js';
import { InputError, type Problem } from '../util/problems.js';
import { valueProblem } from '../util/schema-problems.js';

/** The shipped playbooks, for `render` without a playbook. */
export const BUILTIN_PLAYBOOKS = join(dirname(fileURLToPath(import.meta.url)), '../../../playbooks');

export interface Loaded {
  cluster: Cluster;
  playbooks: Playbook[];
  templates: Templates;
}

/** The -e option of every command that loads playbooks. */
export const EXTRA_VARS_FLAGS = '-e, --extra-vars <key=value>';
export const EXTRA_VARS_HELP = 'set a var for every play, over playbook and inventory vars (repeatable)';

export const INVENTORY_FLAGS = '-i, --inventory <file>';
export const INVENTORY_HELP = 'inventory YAML file (one)';

/**
 * `-i` once: ansible-playbook merges every -i it is given, so `-i a.yml -i b.yml` from a hand used
 * to it means both, and quietly working on b.yml's hosts alone would leave a's unchanged.
 */
export function oneInventory(value: string, previous: string | undefined): string {
  if (previous !== undefined) throw new InvalidArgumentError(`one inventory only: -i ${previous} was given already (lvsplay does not merge inventories, as ansible-playbook does; put the hosts in one file)`);
  return value;
}

/** `-t DIR` may be given several times; each is one folder (so `-t DIR pb.yml` never eats the playbook). */
export function collectDirs(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/**
 * `-e key=value`, repeatable: a var for every play, over the playbooks' and the inventory's vars
 * (ansible-playbook's extra vars: the highest precedence). Values are strings; templates see them
 * like any var ($LVSPLAY_VAR_key in shell templates).
 */
function extraVars(pairs: readonly string[]): { vars: Record<string, string>; problems: Problem[] } {
  const vars: Record<string, string> = {};
  const problems: Problem[] = [];
  const shellNames = new Map<string, string>();
  const problem = (field: string, message: string) => problems.push({ file: '--extra-vars', line: 0, col: 0, field, message });
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const key = eq < 0 ? pair : pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    // The same rules as the inventory's vars: a value is bounded text, and two names are not one shell var.
    const other = shellNames.get(shellVarName(key));
    const text = VarText.safeParse(value);
    if (eq < 0 || !Name.safeParse(key).success) problem(key || '(empty)', `expected KEY=VALUE with KEY a var name (letters, digits, "_", "." or "-"), got ${JSON.stringify(pair.slice(0, 80))}`);
    else if (!text.success) problem(key, valueProblem(key, text.error.issues[0]!, value));
    else if (other !== undefined && other !== key) problem(key, shellClashMessage(key, other));
    else {
      vars[key] = value;
      shellNames.set(shellVarName(key), key);
    }
  }
  return { vars, problems };
}

/** An `-e` var whose shell name is another var's of a play or of a host it selects would quietly replace it in shell scripts. */
function extraVarClashes(extra: Record<string, string>, book: Playbook, cluster: Cluster): Problem[] {
  const plays = book.plays.map((play) => ({ play, inventory: inventoryVarClash(selectHosts(cluster, play.hosts)) }));
  const clash = (key: string): string | undefined => {
    for (const { play, inventory } of plays) {
      const own = shellNameClash(key, Object.keys(play.vars));
      if (own) return shellClashMessage(key, own, ` (a var of ${play.name} in ${book.file})`);
      const theirs = inventory(key);
      if (theirs) return theirs;
    }
    return undefined;
  };
  return Object.keys(extra).flatMap((key) => {
    const message = clash(key);
    return message ? [{ file: '--extra-vars', line: 0, col: 0, field: key, message }] : [];
  });
}

/** Load and check everything up front: one InputError with every problem, or all of it valid. */
export function loadAll(inventory: string, playbookFiles: string[], templateDirs: string[] = [], extra: readonly string[] = []): Loaded {
  const problems: Problem[] = templateDirs.flatMap((dir) => {
    let isDir = false;
    try {
      isDir = statSync(dir).isDirectory();
    } catch {
      // reported below
    }
    return isDir ? [] : [{ file: dir, line: 0, col: 0, field: '--templates', message: 'expected a folder of templates, and this is none' }];
  });
  const given = extraVars(extra);
  problems.push(...given.problems);
  const cluster = loadInventory(inventory);
  const playbooks: Playbook[] = [];
  for (const file of playbookFiles) {
    try {
      const book = loadPlaybook(file, cluster);
      problems.push(...extraVarClashes(given.vars, book, cluster));
      playbooks.push({ ...book, plays: book.plays.map((play) => ({ ...play, vars: { ...play.vars, ...given.vars } })) });
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
