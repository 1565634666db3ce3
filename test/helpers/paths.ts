/** Walking and editing plain JSON-like values (a parsed YAML document) by path. */
export type Path = (string | number)[];
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export function isObject(value: unknown): value is Record<string, Json> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Every path in `value`, containers and leaves, parents before children (the root excluded). */
export function allPaths(value: Json, at: Path = []): Path[] {
  const children: [string | number, Json][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : isObject(value) ? Object.entries(value) : [];
  return children.flatMap(([k, v]) => [[...at, k], ...allPaths(v, [...at, k])]);
}

/** Paths of every string leaf. */
export function stringPaths(value: Json): Path[] {
  return allPaths(value).filter((p) => typeof getAt(value, p) === 'string');
}

export function getAt(value: Json, path: Path): Json | undefined {
  let node: Json | undefined = value;
  for (const part of path) {
    if (Array.isArray(node) && typeof part === 'number') node = node[part];
    else if (isObject(node) && typeof part === 'string') node = node[part];
    else return undefined;
  }
  return node;
}

function parentOf(value: Json, path: Path): [Json | undefined, string | number] {
  if (path.length === 0) throw new Error('the root has no parent');
  return [getAt(value, path.slice(0, -1)), path[path.length - 1]!];
}

export function setAt(value: Json, path: Path, to: Json): void {
  const [parent, last] = parentOf(value, path);
  if (Array.isArray(parent) && typeof last === 'number') parent[last] = to;
  else if (isObject(parent) && typeof last === 'string') put(parent, last, to);
  else throw new Error(`no container at ${JSON.stringify(path)}`);
}

export function deleteAt(value: Json, path: Path): void {
  const [parent, last] = parentOf(value, path);
  if (Array.isArray(parent) && typeof last === 'number') parent.splice(last, 1);
  else if (isObject(parent) && typeof last === 'string') delete parent[last];
}

/** Rename the key at `path` (a mapping key), keeping the key order. */
export function renameAt(value: Json, path: Path, to: string): void {
  const [parent, last] = parentOf(value, path);
  if (!isObject(parent) || typeof last !== 'string' || last === to) return;
  const entries = Object.entries(parent).map(([k, v]): [string, Json] => [k === last ? to : k, v]);
  for (const k of Object.keys(parent)) delete parent[k];
  for (const [k, v] of entries) put(parent, k, v);
}

/** Duplicate the list item at `path` right after itself. */
export function duplicateAt(value: Json, path: Path): void {
  const [parent, last] = parentOf(value, path);
  if (Array.isArray(parent) && typeof last === 'number') parent.splice(last + 1, 0, structuredClone(parent[last]!));
}

/** Set an own property, even one named __proto__. */
function put(target: Record<string, Json>, key: string, value: Json): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

export const clone = <T>(value: T): T => structuredClone(value);
