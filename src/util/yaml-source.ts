/**
 * A YAML file parsed with positions kept, so that any problem found later — by the schema or by a
 * semantic check — can be pinned to `file:line:col` by the path of the offending value.
 *
 * Read as lvsplay reads every input file (regular, UTF-8, bounded in size). Keys are checked here in
 * one linear pass, not by the yaml library's `uniqueKeys` (quadratic: 40,000 keys took 11 s): a
 * duplicate key, a key that is not a scalar, or `__proto__` (which a JavaScript object would turn
 * into its prototype, silently dropping it) is a problem, and so is a NUL byte in any key or text
 * value (a YAML "\0" escape: no shell word, file name or config line can hold one). Merge keys
 * (`<<: *defaults`) work.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node, type Pair, type YAMLMap } from 'yaml';
import { InputFileError, readInputFile } from './input-file.js';
import { type Place, type Problem, fieldPath } from './problems.js';

/** An input's data and where each value of it was written: what problems are placed with. */
export interface SourceMap {
  readonly file: string;
  readonly data: unknown;
  locate(path: readonly PropertyKey[], options?: { key?: boolean }): Place;
  problem(path: readonly PropertyKey[], message: string, options?: { key?: boolean }): Problem;
}

export class YamlSource implements SourceMap {
  readonly data: unknown;
  readonly problems: Problem[] = [];
  private readonly doc: Document;
  private readonly lines = new LineCounter();
  /** Each mapping's pairs by key, built on first use (pairsOf). */
  private readonly pairIndex = new WeakMap<YAMLMap, Map<unknown, Pair>>();

  constructor(
    readonly file: string,
    text: string,
  ) {
    this.doc = parseDocument(text, { lineCounter: this.lines, uniqueKeys: false, merge: true, prettyErrors: false });
    for (const err of [...this.doc.errors, ...this.doc.warnings]) {
      const at = this.lines.linePos(err.pos[0]);
      this.problems.push({ file, line: at.line, col: at.col, field: '', message: `YAML: ${firstLine(err.message)}` });
    }
    if (this.problems.length === 0) this.checkKeys(this.doc.contents, []);
    this.data = this.problems.length === 0 ? this.toData(file) : undefined;
  }

  /** Aliases are resolved here: a missing anchor or an alias bomb is a problem, not a crash. */
  private toData(file: string): unknown {
    try {
      return this.doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      // The library says neither where nor in the file's terms: at the first alias, what it means.
      let offset = 0;
      visit(this.doc, { Alias: (_, node) => { offset = node.range?.[0] ?? 0; return visit.BREAK; } });
      const at = this.lines.linePos(offset);
      const message = (err as Error).message.includes('Excessive alias count')
        ? 'aliases (*name) that expand to too much: each expansion counts, and an alias of aliases multiplies them (an "alias bomb"); write the values out'
        : firstLine((err as Error).message);
      this.problems.push({ file, line: at.line, col: at.col, field: '', message: `YAML: ${message}` });
      return undefined;
    }
  }

  /** Every mapping: scalar keys, each once, none named `__proto__`. Iterative: deep nesting cannot overflow the stack. */
  private checkKeys(root: unknown, rootPath: (string | number)[]): void {
    const stack: [unknown, (string | number)[]][] = [[root, rootPath]];
    while (stack.length > 0 && this.problems.length < 100) {
      const [node, path] = stack.pop()!;
      if (isMap(node)) {
        const seen = new Map<string, number>();
        for (const pair of node.items) {
          const key = pair.key;
          const problem = (message: string, field = path) => this.problemAt(key as Node | null, field, message);
          // a merge key (`<<: *defaults`): the yaml library gives it a symbol for a value
          if (isScalar(key) && typeof key.value === 'symbol' && key.value.description === '<<') {
            stack.push([pair.value, path]);
            continue;
          }
          if (!isScalar(key) || (typeof key.value !== 'string' && typeof key.value !== 'number')) {
            if (!isAlias(key)) problem('expected a plain key (text or a number), got a mapping or list as a key');
            continue;
          }
          const name = String(key.value);
          if (name === '__proto__') problem('the key "__proto__" is not allowed');
          if (name.includes('\0')) problem('a NUL byte ("\\0") in a key', [...path, name]);
          const first = seen.get(name);
          if (first !== undefined) problem(`duplicate key "${name}" (first at line ${first})`);
          else seen.set(name, this.lines.linePos(key.range?.[0] ?? 0).line);
          stack.push([pair.value, [...path, name]]);
        }
      } else if (isSeq(node)) {
        node.items.forEach((item, i) => stack.push([item, [...path, i]]));
      } else if (isScalar(node) && typeof node.value === 'string' && node.value.includes('\0')) {
        // ("\0" or "\x00" in a double-quoted scalar): values reach shells, files and argv, none of which holds one
        this.problemAt(node, path, 'a NUL byte ("\\0") in a value: no value lvsplay passes to a host (a shell word, a file name, a config line) can hold one');
      }
    }
  }

  /** A problem at a node's first character, for the field at `path`. */
  private problemAt(node: Node | null | undefined, path: readonly (string | number)[], message: string): void {
    const at = this.lines.linePos(node?.range?.[0] ?? 0);
    this.problems.push({ file: this.file, line: at.line, col: at.col, field: fieldPath(path), message });
  }

  static read(file: string): YamlSource {
    let text: string;
    try {
      text = readInputFile(file);
    } catch (err) {
      const source = new YamlSource(file, '');
      const why = err instanceof InputFileError ? err.message : (err as Error).message;
      source.problems.push({ file, line: 1, col: 1, field: '', message: `the file ${why}` });
      return source;
    }
    return new YamlSource(file, text);
  }

  /**
   * The place of the value at `path`, or of its key when `key` is set (for a key that should not be
   * there). A path that leaves the document (a missing field) points at the deepest node found.
   */
  locate(path: readonly PropertyKey[], options: { key?: boolean } = {}): Place {
    let node: unknown = this.doc.contents;
    let keyNode: unknown;
    for (const part of path) {
      if (isMap(node)) {
        const pair = this.pairsOf(node).get(part);
        if (!pair) break;
        keyNode = pair.key;
        node = pair.value ?? pair.key;
      } else if (isSeq(node) && typeof part === 'number' && node.items[part] !== undefined) {
        keyNode = undefined;
        node = node.items[part];
      } else break;
    }
    const target = (options.key && keyNode ? keyNode : node) as Node | null | undefined;
    const offset = target?.range?.[0] ?? 0;
    const at = this.lines.linePos(offset);
    return { file: this.file, line: at.line, col: at.col };
  }

  /**
   * A mapping's pairs by key (the first of a key, as the search it replaces found), indexed once:
   * a problem per key of a mapping with thousands of keys made locating them quadratic (60,000
   * unknown keys: 96 s to say so).
   */
  private pairsOf(map: YAMLMap): Map<unknown, Pair> {
    let pairs = this.pairIndex.get(map);
    if (!pairs) {
      pairs = new Map();
      for (const item of map.items) if (isPair(item) && isScalar(item.key) && !pairs.has(item.key.value)) pairs.set(item.key.value, item);
      this.pairIndex.set(map, pairs);
    }
    return pairs;
  }

  problem(path: readonly PropertyKey[], message: string, options: { key?: boolean } = {}): Problem {
    return { ...this.locate(path, options), field: fieldPath(path), message };
  }
}

/** The parser's message, its first line; its own stack overflow (collections nested thousands deep) said in the input's terms. */
function firstLine(message: string): string {
  if (message.includes('Maximum call stack size exceeded')) return 'collections nested too deeply to read (lvsplay\'s files nest a few levels)';
  if (message.startsWith('Source contains multiple documents')) return 'a second YAML document starts here (a "---" line after content): an lvsplay file is one document';
  return message.split('\n')[0] ?? message;
}
