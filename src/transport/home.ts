/**
 * `~` expansion for the paths an inventory or ssh config names (known_hosts, identity files, agent
 * socket): OpenSSH expands them, and a literal `~` directory is never what the user meant.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

export function expandHome(path: string): string {
  if (path === '~') return homedir();
  if (path.startsWith('~/')) return join(homedir(), path.slice(2));
  return path;
}
