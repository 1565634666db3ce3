/**
 * Turns zod issues into Problems placed in the YAML source: `expected X, got Y`, with a "did you
 * mean" for a misspelt key. Shared by the inventory and playbook loaders.
 */
import { closest, distance } from 'fastest-levenshtein';
import * as z from 'zod';
import { describeValue, type Problem } from './problems.js';
import type { SourceMap } from './yaml-source.js';

/** Keys that look like they hold a secret: their values are never echoed, and never accepted inline. */
const SECRET_KEY = /pass(word|phrase)?|secret|token|private_key/i;

/** `at` is where the validated value sits in the file, when the schema checked only part of it. */
export function schemaProblems(source: SourceMap, schema: z.ZodType, issues: readonly z.core.$ZodIssue[], at: readonly PropertyKey[] = []): Problem[] {
  return issues.filter((issue) => !outboundBySafeRange(issue, issues)).flatMap((issue) => issueProblems(source, schema, issue, at));
}

/**
 * zod checks an integer against the safe range (±2^53-1) before the field's own bound, and only
 * one problem per field is shown: 1e20 for a port said "<= 9007199254740991". The field's bound
 * is the one to name when both are broken.
 */
function outboundBySafeRange(issue: z.core.$ZodIssue, all: readonly z.core.$ZodIssue[]): boolean {
  if ((issue.code !== 'too_big' && issue.code !== 'too_small') || issue.origin !== 'int') return false;
  const key = JSON.stringify(issue.path);
  return all.some((other) => other !== issue && other.code === issue.code && JSON.stringify(other.path) === key);
}

function issueProblems(source: SourceMap, schema: z.ZodType, issue: z.core.$ZodIssue, at: readonly PropertyKey[]): Problem[] {
  const path = [...at, ...issue.path];
  if (issue.code === 'invalid_key') {
    const key = issue.path[issue.path.length - 1];
    return [source.problem(path, `${expectation(issue)}, got ${describeValue(key)}`, { key: true })];
  }
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeys(schema, issue.path);
    return issue.keys.map((key) => source.problem([...path, key], unknownKeyMessage(key, known), { key: true }));
  }
  const value = valueAt(source.data, path);
  const secret = path.some((part) => typeof part === 'string' && SECRET_KEY.test(part));
  const got = secret ? '' : `, got ${describeValue(value)}`;
  if (value === undefined && (issue.code === 'invalid_type' || issue.code === 'invalid_value')) {
    return [source.problem(path, `required field is missing: ${expectation(issue)}`)];
  }
  return [source.problem(path, `${expectation(issue)}${got}`)];
}

/** A value given outside a file (a command-line option) that a schema refused: the message a file's would have. */
export function valueProblem(key: string, issue: z.core.$ZodIssue, value: unknown): string {
  return `${expectation(issue)}${SECRET_KEY.test(key) ? '' : `, got ${describeValue(value)}`}`;
}

function expectation(issue: z.core.$ZodIssue): string {
  if (issue.message.startsWith('expected ')) return issue.message;
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${article(issue.expected)}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'too_small':
      return issue.origin === 'array'
        ? `expected at least ${String(issue.minimum)} item(s)`
        : issue.origin === 'string'
          ? `expected at least ${String(issue.minimum)} character(s)`
          : `expected a number ${issue.inclusive ? '>=' : '>'} ${String(issue.minimum)}`;
    case 'too_big':
      return issue.origin === 'array'
        ? `expected at most ${String(issue.maximum)} item(s)`
        : issue.origin === 'string'
          ? `expected at most ${String(issue.maximum)} character(s)`
          : `expected a number ${issue.inclusive ? '<=' : '<'} ${String(issue.maximum)}`;
    case 'invalid_key':
      return expectation(issue.issues[0] ?? issue);
    case 'invalid_union':
      return 'expected one of the accepted forms';
    default:
      return `expected something else (${issue.message})`;
  }
}

function article(type: string): string {
  const names: Record<string, string> = { int: 'an integer', number: 'a number', string: 'a string', boolean: 'true or false', object: 'a mapping', array: 'a list' };
  return names[type] ?? type;
}

function unknownKeyMessage(key: string, known: readonly string[]): string {
  if (SECRET_KEY.test(key) && known.some((k) => k.endsWith('_env'))) {
    return `unknown key "${key}": secrets are never written inline; name an environment variable (*_env) or a file (*_file) instead`;
  }
  return `unknown key "${key}"${didYouMean(key, known)}; expected one of ${known.join(', ')}`;
}

/** ` (did you mean "x"?)` when a known word is a few edits from what was typed, else nothing. */
export function didYouMean(typed: string, known: readonly string[]): string {
  const guess = known.length > 0 ? closest(typed, [...known]) : undefined;
  return guess !== undefined && similar(typed, guess) ? ` (did you mean "${guess}"?)` : '';
}

/** A suggestion is worth making when few edits separate it from what was typed. */
function similar(typed: string, guess: string): boolean {
  return distance(typed, guess) <= Math.max(2, Math.floor(guess.length / 3));
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let node = data;
  for (const part of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[part];
  }
  return node;
}

/** The keys the schema accepts at `path`, found by walking the schema through its wrappers. */
function knownKeys(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let nodes: z.ZodType[] = [schema];
  for (const part of path) nodes = nodes.flatMap((node) => step(unwrap(node), part));
  return [...new Set(nodes.flatMap((node) => objectsOf(unwrap(node)).flatMap((o) => Object.keys(o.shape))))].sort();
}

function unwrap(node: z.ZodType): z.ZodType {
  let current = node;
  for (;;) {
    if (current instanceof z.ZodOptional || current instanceof z.ZodNullable || current instanceof z.ZodDefault) {
      current = current.unwrap() as z.ZodType;
    } else if (current instanceof z.ZodPipe) {
      current = current.in as z.ZodType;
    } else return current;
  }
}

function objectsOf(node: z.ZodType): z.ZodObject[] {
  if (node instanceof z.ZodObject) return [node];
  if (node instanceof z.ZodUnion) return (node.options as z.ZodType[]).flatMap((o) => objectsOf(unwrap(o)));
  return [];
}

function step(node: z.ZodType, part: PropertyKey): z.ZodType[] {
  if (node instanceof z.ZodArray) return [node.element as z.ZodType];
  if (node instanceof z.ZodRecord) return [node.valueType as z.ZodType];
  if (node instanceof z.ZodUnion) return (node.options as z.ZodType[]).flatMap((o) => step(unwrap(o), part));
  if (node instanceof z.ZodObject && typeof part === 'string') {
    const child = (node.shape as Record<string, z.ZodType>)[part];
    return child ? [child] : [];
  }
  return [];
}
