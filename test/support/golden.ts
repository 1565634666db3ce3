/**
 * Golden files: `golden(t, 'resources/address/web1.empty.txt', text)` compares `text` with the
 * committed file under test/golden/, exactly. With UPDATE_GOLDEN=1 in the environment it writes
 * the file instead (review the git diff before committing it).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ExecutionContext } from 'ava';
import { createTwoFilesPatch } from 'diff';
import { repoFile } from './paths.js';

export const UPDATING = process.env['UPDATE_GOLDEN'] === '1';

export function golden(t: ExecutionContext, name: string, actual: string): void {
  const file = repoFile(`test/golden/${name}`);
  if (UPDATING) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, actual);
    t.pass(`wrote ${name}`);
    return;
  }
  if (!existsSync(file)) {
    t.fail(`golden file test/golden/${name} is missing: run with UPDATE_GOLDEN=1 to create it`);
    return;
  }
  const expected = readFileSync(file, 'utf8');
  if (expected === actual) {
    t.pass();
    return;
  }
  const patch = createTwoFilesPatch(`test/golden/${name}`, 'actual', expected, actual, '', '', { context: 3 });
  t.fail(`output differs from test/golden/${name} (UPDATE_GOLDEN=1 rewrites it):\n${patch}`);
}
