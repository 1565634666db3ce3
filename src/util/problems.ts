/**
 * A Problem is one thing wrong with user input, pinned to its place in a file. Loaders collect
 * every problem before failing, so a user fixes a file in one pass rather than one error a run.
 */
import { someOf } from './some-of.js';
import { safeText } from './terminal.js';

export interface Place {
  file: string;
  line: number;
  col: number;
}

export interface Problem extends Place {
  /** Dotted path of the offending field, e.g. `services[2].real_servers[0].port`. */
  field: string;
  message: string;
  /**
   * The generated services the problem is in, when the value was written once for several
   * (service_defaults, ports, vips): one problem, naming them, not one per service.
   */
  services?: string[];
}

export function formatProblem(p: Problem): string {
  const field = p.field === '' ? '' : ` ${p.field}`;
  // line 0: a problem of a whole file or of a command-line option, which has no line to point at
  const place = p.line === 0 ? p.file : `${p.file}:${p.line}:${p.col}`;
  return safeText(`${place}${field}: ${p.message}${inServices(p.services)}`);
}

function inServices(names: readonly string[] | undefined): string {
  if (!names || names.length === 0) return '';
  return ` (in ${names.length === 1 ? 'service' : 'services'} ${someOf(names.map((n) => JSON.stringify(n)), 3)})`;
}

/** Problems at the same place saying the same thing are one, naming every service it is in. */
function merged(problems: readonly Problem[]): Problem[] {
  const byText = new Map<string, Problem>();
  for (const p of problems) {
    const key = `${p.file}:${p.line}:${p.col}:${p.field}:${p.message}`;
    const first = byText.get(key);
    if (!first) byText.set(key, p.services ? { ...p, services: [...p.services] } : p);
    else if (first.services && p.services) first.services.push(...p.services.filter((n) => !first.services!.includes(n)));
  }
  return [...byText.values()];
}

/** A file with thousands of mistakes is fixed a hundred at a time: the rest are counted, not listed. */
export const MAX_PROBLEMS_SHOWN = 100;

/** Thrown by loaders when input is invalid; carries every problem found, in file order. */
export class InputError extends Error {
  readonly problems: readonly Problem[];

  constructor(problems: readonly Problem[]) {
    const sorted = merged(problems).sort(
      (a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.col - b.col || a.field.localeCompare(b.field),
    );
    const shown = sorted.slice(0, MAX_PROBLEMS_SHOWN).map(formatProblem);
    if (sorted.length > MAX_PROBLEMS_SHOWN) shown.push(`... and ${sorted.length - MAX_PROBLEMS_SHOWN} more`);
    super(`${sorted.length} problem${sorted.length === 1 ? '' : 's'} found:\n${shown.join('\n')}`);
    this.name = 'InputError';
    this.problems = sorted;
  }
}

/** `['services', 2, 'port']` → `services[2].port` */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}

/** Show a user's value in an error message: short, on one line, never a secret (callers decide). */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  // "expected at least 1 item(s), got a list" said nothing: an empty one is what is wrong
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : 'a list';
  if (typeof value === 'object') return Object.keys(value).length === 0 ? 'an empty mapping' : 'a mapping';
  // JSON has no Infinity or NaN (YAML has: .inf, 1e400, .nan) and would print them as null
  const text = typeof value === 'number' && !Number.isFinite(value) ? String(value) : JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
