/**
 * A lookup table read with a key that came from input (a config file's word, a listing's column):
 * only the table's own entries answer. A plain `table[key]` also answers `constructor`, `toString`
 * or `__proto__` with Object.prototype's, which then travel on as if they were values.
 */
export function own<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}
