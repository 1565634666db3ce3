/** Where repository files are, from the compiled tests (dist/test/support/*.js → the repo root). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export function repoFile(relative: string): string {
  return fileURLToPath(new URL(`../../../${relative}`, import.meta.url));
}

/** The command users run (package.json's `bin`: the bundle, scripts/bundle.ts), relative to the repo root. */
export const CLI: string = (JSON.parse(readFileSync(repoFile('package.json'), 'utf8')) as { bin: { lvsplay: string } }).bin.lvsplay;
