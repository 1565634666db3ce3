/**
 * keepalived's `include PATTERN`, on this machine's files (`lvsplay import --keepalived FILE`; the
 * director's are read in from-host.ts, with the same braces): the pattern as glob(3) with GLOB_BRACE expands it, relative to the
 * including file's folder (keepalived changes to each file's folder as it opens it): `{a,b}`
 * alternatives in order, each one's matches sorted; `*`, `?` and `[...]` within one path segment, a
 * leading dot matched only by a dot; regular files only.
 */
import { readdirSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { fnmatch } from '../util/fnmatch.js';
import { readInputFile } from '../util/input-file.js';
import type { IncludeSource } from './keepalived-conf.js';

export const localIncludes: IncludeSource = {
  expand: (pattern, from) => braces(isAbsolute(pattern) ? pattern : join(dirname(from), pattern)).flatMap((p) => matches(p).sort()),
  read: (path) => readInputFile(path, { keepBom: true }),
};

/** GLOB_BRACE: the first `{...,...}` group's alternatives, each expanded in turn; a group without a comma is literal. */
export function braces(pattern: string): string[] {
  for (let open = pattern.indexOf('{'); open !== -1; open = pattern.indexOf('{', open + 1)) {
    const commas: number[] = [];
    let depth = 0;
    for (let k = open + 1; k < pattern.length; k++) {
      const c = pattern[k];
      if (c === '{') depth++;
      else if (c === ',' && depth === 0) commas.push(k);
      else if (c === '}' && depth-- === 0) {
        if (commas.length === 0) break;
        const cuts = [open, ...commas, k];
        return cuts.slice(1).flatMap((end, i) => braces(pattern.slice(0, open) + pattern.slice(cuts[i]! + 1, end) + pattern.slice(k + 1)));
      }
    }
  }
  return [pattern];
}

/** The regular files a brace-free pattern names, walking one segment at a time. */
function matches(pattern: string): string[] {
  let paths = [pattern.startsWith('/') ? '/' : '.'];
  for (const segment of pattern.split('/').filter((s) => s !== '')) {
    if (!/[*?[]/.test(segment)) {
      paths = paths.map((p) => join(p, segment));
      continue;
    }
    const match = fnmatch(segment);
    paths = paths.flatMap((dir) => entries(dir).filter((name) => (segment.startsWith('.') || !name.startsWith('.')) && match(name)).map((name) => join(dir, name)));
  }
  return paths.filter((p) => {
    try {
      return statSync(p).isFile();
    } catch {
      return false;
    }
  });
}

function entries(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
