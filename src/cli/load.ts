/** What every command that plans starts with: the inventory, the playbooks, the templates. */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadInventory } from '../inventory/load.js';
import type { Cluster } from '../inventory/model.js';
import { loadPlaybook } from '../playbook/load.js';
import { type Play, type Playbook, playsInOrder } from '../playbook/model.js';
import { selectHosts } from '../playbook/select.js';
import { hostContext, type PreparedHost, prepareHost } from '../plan/build.js';
import { Templates } from '../resources/templates.js';
import { InputError } from '../util/problems.js';

/** The shipped playbooks, for `render` without a playbook. */
export const BUILTIN_PLAYBOOKS = join(dirname(fileURLToPath(import.meta.url)), '../../../playbooks');

export interface Loaded {
  cluster: Cluster;
  playbooks: Playbook[];
  templates: Templates;
}

/** Every play with the hosts it selects, each host's desired state prepared (pure: no host contacted). */
export function preparedPlays({ cluster, playbooks, templates }: Loaded): { play: Play; hosts: PreparedHost[] }[] {
  return playsInOrder(playbooks).map(({ play, index }) => ({
    play,
    hosts: selectHosts(cluster, play.hosts).map((host) => prepareHost(hostContext(cluster, host, play, templates), play, index)),
  }));
}

/** Load and check everything up front: one InputError with every problem, or all of it valid. */
export function loadAll(inventory: string, playbookFiles: string[], templateDirs: string[] = []): Loaded {
  const cluster = loadInventory(inventory);
  const playbooks: Playbook[] = [];
  const problems = [];
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
