/**
 * A YAML file parsed with positions kept, so that any problem found later — by the schema or by a
 * semantic check — can be pinned to `file:line:col` by the path of the offending value.
 */
import { readFileSync } from 'node:fs';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { type Place, type Problem, fieldPath } from './problems.js';

export class YamlSource {
  readonly data: unknown;
  readonly problems: Problem[] = [];
  private readonly doc: Document;
  private readonly lines = new LineCounter();

  constructor(
    readonly file: string,
    text: string,
  ) {
    this.doc = parseDocument(text, { lineCounter: this.lines, uniqueKeys: true, prettyErrors: false });
    for (const err of [...this.doc.errors, ...this.doc.warnings]) {
      const at = this.lines.linePos(err.pos[0]);
      this.problems.push({ file, line: at.line, col: at.col, field: '', message: `YAML: ${firstLine(err.message)}` });
    }
    this.data = this.problems.length === 0 ? this.toData(file) : undefined;
  }

  /** Aliases are resolved here: a missing anchor or an alias bomb is a problem, not a crash. */
  private toData(file: string): unknown {
    try {
      return this.doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      this.problems.push({ file, line: 1, col: 1, field: '', message: `YAML: ${firstLine((err as Error).message)}` });
      return undefined;
    }
  }

  static read(file: string): YamlSource {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      const source = new YamlSource(file, '');
      source.problems.push({ file, line: 1, col: 1, field: '', message: `cannot read the file: ${(err as Error).message}` });
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
        const pair = node.items.find((item) => isPair(item) && isScalar(item.key) && item.key.value === part);
        if (!pair || !isPair(pair)) break;
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

  problem(path: readonly PropertyKey[], message: string, options: { key?: boolean } = {}): Problem {
    return { ...this.locate(path, options), field: fieldPath(path), message };
  }
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}
