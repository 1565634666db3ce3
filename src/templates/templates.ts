/**
 * Handlebars templates for shell and config files: found, read, checked and compiled once each.
 *
 * - Lookup: a project's own template folders (the overrides) first, then the built-in ones, by the
 *   same relative path, so a site can replace any template without forking lvsplay. A template is
 *   read only if it really lies inside its folder (no symlink out of it), and an override of a
 *   built-in one is remembered so the run can say which built-ins were replaced.
 * - Shell templates (`*.sh.hbs`, and any template a `shell` task runs) must pass shell-check.ts:
 *   values only through `{{q}}`, lvsplay's own code only through `{{sh}}`. Config templates have
 *   every `{{x}}` routed through the `line` helper (one line of text); `{{{x}}}` inserts as is.
 * - Compiled with `noEscape` (HTML escaping is wrong for shell) and `strict` (a missing value is an
 *   error, not an empty string). Every failure is a TemplateError with the file, line and column.
 */
import { createHash } from 'node:crypto';
import { existsSync, realpathSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import { InputFileError, readInputFile } from '../util/input-file.js';
import { eq, HelperError, line, q, sh, yn } from './helpers.js';
import { checkShellTemplate } from './shell-check.js';

/** The package's own templates/ folder (this file is dist/src/templates/templates.js). */
export const BUILTIN_TEMPLATES = resolve(dirname(fileURLToPath(import.meta.url)), '../../../templates');

/**
 * The built-in templates, checked and compiled by the build (scripts/precompile-templates.ts):
 * name → the sha256 of the text it was made from, and Handlebars' template spec. Parsing,
 * checking and compiling the ~25 templates a run uses took ~0.1 s of every command's start.
 */
export const PRECOMPILED_TEMPLATES = resolve(BUILTIN_TEMPLATES, '../dist/templates/precompiled.cjs');
export type PrecompiledTemplates = Record<string, { sha256: string; spec: Parameters<typeof Handlebars.template>[0] }>;

/**
 * Handlebars' options for every template, compiled here or by the build. `log` is unregistered
 * (Templates' constructor): not compiled as a known helper either, so its use is an unknown name.
 */
const COMPILE_OPTIONS = { noEscape: true, strict: true, knownHelpers: { log: false } } as const;

export const sha256Of = (text: string) => createHash('sha256').update(text).digest('hex');

let precompiled: PrecompiledTemplates | undefined;
/** The build's table, read once; none (every template compiled here) from a checkout not built since. */
function precompiledTable(): PrecompiledTemplates {
  precompiled ??= existsSync(PRECOMPILED_TEMPLATES) ? (createRequire(import.meta.url)(PRECOMPILED_TEMPLATES) as PrecompiledTemplates) : {};
  return precompiled;
}

/** Templates are small: a bigger file is a mistake (or /dev/zero), not a template. */
const MAX_TEMPLATE_BYTES = 1024 * 1024;

/**
 * What the `{{#each}}` blocks of one render may produce, counted at every level they nest (so a
 * block two deep counts twice): 64 Mi characters. A keepalived.conf of 5,000 services is ~3 MB;
 * six nested `{{#each}}` over a site's hosts is terabytes, which used gigabytes of memory before
 * anything said so.
 */
const MAX_EACH_OUTPUT = 64 * 1024 * 1024;

export type TemplateKind = 'shell' | 'config';

/** Something wrong with a template or with what it was given, at a place in its file. */
export class TemplateError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly column: number,
    message: string,
    /** A built-in template (not overridden) failed: a bug in lvsplay, not bad input. */
    readonly builtin: boolean,
    /** The field at that place, when it is in a playbook (the task naming the template). */
    readonly field = '',
  ) {
    super(message);
    this.name = 'TemplateError';
  }
}

interface Located {
  file: string;
  builtin: boolean;
  /** In no override folder and not built in. */
  missing?: true;
}

export function kindOf(name: string): TemplateKind {
  return name.endsWith('.sh.hbs') ? 'shell' : 'config';
}

/** A template's compiled function, and its checked AST (to place an error Handlebars gives no place: parsed then for a precompiled one). */
interface Compiled {
  template: Handlebars.TemplateDelegate;
  program: () => hbs.AST.Program;
}

export class Templates {
  private readonly hbs = Handlebars.create();
  private readonly compiled = new Map<string, Compiled>();
  private readonly located = new Map<string, Located>();
  /** Built-in template names replaced by an override, with the file used instead. */
  readonly overrides = new Map<string, string>();

  /** What the render under way may still produce in `{{#each}}` blocks. */
  private eachBudget = 0;

  constructor(private readonly overrideDirs: readonly string[] = []) {
    this.hbs.registerHelper({ q, sh, line, eq, yn });
    // `{{log x}}` would write to lvsplay's own stdout (a value into `--json` output), not the file's.
    this.hbs.unregisterHelper('log');
    const each = this.hbs.helpers['each']!;
    const spend = (text: string, options: Handlebars.HelperOptions & { loc?: { start: { line: number; column: number } } }) => {
      this.eachBudget -= text.length;
      if (this.eachBudget < 0) {
        throw new HelperError(`this {{#each}} takes the template's output past ${MAX_EACH_OUTPUT / 1024 / 1024} Mi characters (nested blocks over long lists multiply): a config file is not that big`, options.loc?.start.line ?? 0, options.loc?.start.column ?? 0);
      }
      return text;
    };
    // `{{#list}}...{{/list}}` over a list goes through `each` too (Handlebars' blockHelperMissing).
    this.hbs.registerHelper('each', function (this: unknown, context: unknown, options: Handlebars.HelperOptions) {
      return each.call(this, context, { ...options, fn: (item: unknown, o?: Handlebars.RuntimeOptions) => spend(options.fn(item, o), options) });
    });
  }

  /** Which file a template name resolves to: the first override folder that has it, else the built-in. */
  locate(name: string): Located {
    let found = this.located.get(name);
    if (found) return found;
    for (const dir of this.overrideDirs) {
      const file = inside(dir, name);
      if (file === undefined) continue;
      found = { file, builtin: false };
      if (inside(BUILTIN_TEMPLATES, name) !== undefined) this.overrides.set(name, file);
      break;
    }
    if (!found) {
      const builtin = inside(BUILTIN_TEMPLATES, name);
      // A name found nowhere is the user's mistake (a task's `template:`), not a missing built-in.
      found = builtin ? { file: builtin, builtin: true } : { file: name, builtin: false, missing: true };
    }
    this.located.set(name, found);
    return found;
  }

  /** Read, check and compile a template (once), so validate finds every template problem. */
  load(name: string, kind: TemplateKind = kindOf(name)): void {
    this.template(name, kind);
  }

  render(name: string, data: object, kind: TemplateKind = kindOf(name)): string {
    const { template, program } = this.template(name, kind);
    const { file, builtin } = this.locate(name);
    this.eachBudget = MAX_EACH_OUTPUT;
    try {
      const text = template(data);
      // a shell template's last line ends: its check reads a last line that is a here-document's
      // delimiter as ending it, and what lvsplay puts after the text must not join that line
      return kind === 'shell' && text !== '' && !text.endsWith('\n') ? `${text}\n` : text;
    } catch (err) {
      if (err instanceof HelperError) throw new TemplateError(file, err.line, err.column + 1, err.message, builtin);
      const e = err as Error & { lineNumber?: number; column?: number };
      if (e.lineNumber !== undefined) {
        const message = e.message.replace(/ - \d+:\d+$/, '').replace(/^"([^"]+)" not defined in .*$/, '"$1" is not defined (no such value for this host: check the name, or set it in vars)');
        throw new TemplateError(file, e.lineNumber, (e.column ?? 0) + 1, message, builtin);
      }
      // Handlebars compiles on the first call, recursively: a template nested thousands deep overflows it.
      if (tooDeep(err)) throw new TemplateError(file, 0, 0, TOO_DEEP, builtin);
      // A helper's argument is looked up leniently: `{{q host.nothing.here}}` fails inside Handlebars,
      // with no place. The place is the path that reads that name from something that is not there.
      const reading = /^Cannot read properties of (?:undefined|null) \(reading '([^']*)'\)/.exec(e.message);
      if (err instanceof TypeError && reading) throw missingParent(file, program(), reading[1]!, data, builtin);
      // What else Handlebars finds only as it renders (a missing partial, decorator or helper) is the
      // template's: bad input in a user's, a bug in a built-in one (`builtin` says which).
      throw new TemplateError(file, 0, 0, (err as Error).message.split('\n')[0] ?? String(err), builtin);
    }
  }

  /**
   * A template a task names (`file`, `shell`): its failures are the task's input, even for a
   * built-in one, which was written for other data than the task gives it.
   */
  renderChosen(name: string, data: object, kind: TemplateKind = kindOf(name)): string {
    try {
      return this.render(name, data, kind);
    } catch (err) {
      if (err instanceof TemplateError && err.builtin) throw new TemplateError(err.file, err.line, err.column, `${err.message} (a built-in template, rendered here with a task's data)`, false);
      throw err;
    }
  }

  private template(name: string, kind: TemplateKind): Compiled {
    const key = `${kind}:${name}`;
    const known = this.compiled.get(key);
    if (known) return known;
    const { file, builtin, missing } = this.locate(name);
    if (missing) {
      const where = this.overrideDirs.length > 0 ? `${this.overrideDirs.join(', ')} or the built-in templates` : 'the built-in templates';
      throw new TemplateError(file, 0, 0, `template ${name} is not in ${where}`, false);
    }
    let text: string;
    try {
      text = readInputFile(file, { maxBytes: MAX_TEMPLATE_BYTES });
    } catch (err) {
      const why = err instanceof InputFileError ? err.message : (err as Error).message;
      throw new TemplateError(file, 0, 0, `template ${name} ${why}`, builtin);
    }
    // the build checked and compiled this very text, as this kind
    const built = builtin && kind === kindOf(name) ? precompiledTable()[name] : undefined;
    let compiled: Compiled;
    if (built && built.sha256 === sha256Of(text)) {
      let program: hbs.AST.Program | undefined;
      compiled = { template: this.hbs.template(built.spec), program: () => (program ??= checkedProgram(file, text, kind, builtin)) };
    } else {
      const program = checkedProgram(file, text, kind, builtin);
      compiled = { template: this.hbs.compile(program, COMPILE_OPTIONS), program: () => program };
    }
    this.compiled.set(key, compiled);
    return compiled;
  }
}

/** A built-in template as the build stores it (scripts/precompile-templates.ts): checked as `template` checks it, then compiled to Handlebars' spec. */
export function precompileTemplate(file: string, text: string, kind: TemplateKind): string {
  return String(Handlebars.precompile(checkedProgram(file, text, kind, true), COMPILE_OPTIONS));
}

/** A template's AST, parsed, checked (partials, size, the shell or config rules) and with its helpers' paths named. */
function checkedProgram(file: string, text: string, kind: TemplateKind, builtin: boolean): hbs.AST.Program {
  let program: hbs.AST.Program;
  try {
    program = Handlebars.parse(text);
  } catch (err) {
    throw parseError(file, err as Error, builtin);
  }
  // one walk of the AST serves every check and rewrite below
  const nodes = nodesOf(program);
  const mustaches = nodes.filter((node): node is hbs.AST.MustacheStatement => node.type === 'MustacheStatement');
  const partial = firstPartialOrDecorator(nodes);
  if (partial) throw new TemplateError(file, partial.loc.start.line, partial.loc.start.column + 1, PARTIALS, builtin);
  const past = pastMustacheCap(nodes);
  if (past) throw new TemplateError(file, past.loc.start.line, past.loc.start.column + 1, `more than ${MAX_MUSTACHES.toLocaleString('en')} {{...}} in one template: a config file is not that big (repeat with {{#each}})`, builtin);
  if (kind === 'shell') {
    const [first] = checkShellTemplate(program);
    if (first) throw new TemplateError(file, first.line, first.column + 1, first.message, builtin);
  } else {
    guardLines(mustaches);
  }
  namePaths(mustaches);
  return program;
}

/**
 * `dir/name` when it is a regular file whose real path lies inside the real `dir` (a symlink
 * pointing out of the folder is refused by being ignored: it would let a project read any file).
 */
function inside(dir: string, name: string): string | undefined {
  const candidate = join(dir, name);
  let real: string;
  let root: string;
  try {
    real = realpathSync(candidate);
    root = realpathSync(dir);
  } catch {
    return undefined;
  }
  const rel = relative(root, real);
  if (rel === '' || rel.startsWith(`..${sep}`) || rel === '..' || resolve(root, rel) !== real) {
    throw new TemplateError(candidate, 0, 0, `template ${name} resolves outside its folder ${dir} (a symbolic link?); refusing to read it`, false);
  }
  if (!statSync(real).isFile()) return undefined;
  return candidate;
}

const PARTIALS = 'partials and decorators are not allowed in templates: lvsplay registers none, a shell template could not be checked through one, and an inline partial can call itself without end (write the text out, or use {{#each}})';

/** The first `{{> partial}}`, `{{#> partial}}`, `{{* decorator}}` or `{{#* inline}}` of a template, in blocks too. */
function firstPartialOrDecorator(nodes: readonly hbs.AST.Node[]): hbs.AST.Node | undefined {
  return nodes.find((node) => /^(Partial|Decorator)/.test(node.type));
}

/**
 * The `{{...}}` (statements, blocks and sub-expressions) a template may hold. Handlebars compiles
 * each into code (~0.1 ms and ~15 kB apiece): a 1 MiB template of them took 10 s and 1.4 GB to
 * compile, and printed a 4 kB var 87,000 times. lvsplay's biggest built-in has 143; repetition is
 * what `{{#each}}` is for.
 */
const MAX_MUSTACHES = 10_000;

/** The first `{{...}}` past MAX_MUSTACHES, if the template has that many. */
function pastMustacheCap(nodes: readonly hbs.AST.Node[]): hbs.AST.Node | undefined {
  return nodes.filter((node) => /^(MustacheStatement|BlockStatement|SubExpression)$/.test(node.type))[MAX_MUSTACHES];
}

const TOO_DEEP = 'template syntax error: blocks or paths nested too deeply for Handlebars to read (thousands of levels)';
const tooDeep = (err: unknown) => err instanceof RangeError && err.message.includes('Maximum call stack size exceeded');

/** Handlebars' parse errors name a line and quote the source; keep the line and the expectation only. */
function parseError(file: string, err: Error, builtin: boolean): TemplateError {
  if (tooDeep(err)) return new TemplateError(file, 0, 0, TOO_DEEP, builtin);
  const lineNo = /line (\d+)/.exec(err.message)?.[1];
  const got = /(Expecting .*|got .*)$/m.exec(err.message)?.[1] ?? err.message.split('\n')[0] ?? 'unreadable';
  return new TemplateError(file, Number(lineNo ?? 0), 1, `template syntax error: ${got.length > 200 ? `${got.slice(0, 197)}...` : got}`, builtin);
}

/**
 * Strict mode checks the path of a bare `{{x}}` but not a helper's argument: `{{q vars.nosuch}}`
 * would quietly pass `undefined`. So every helper call whose first argument is a path also gets that
 * path's text (hash `lvsplayPath`), and the helpers refuse `undefined` naming it.
 */
function namePaths(mustaches: readonly hbs.AST.MustacheStatement[]): void {
  for (const m of mustaches) {
    const first = m.params[0];
    if (first?.type !== 'PathExpression') continue;
    const pair = { type: 'HashPair', key: 'lvsplayPath', value: { type: 'StringLiteral', value: (first as hbs.AST.PathExpression).original, original: (first as hbs.AST.PathExpression).original, loc: m.loc }, loc: m.loc };
    m.hash = { type: 'Hash', pairs: [...(m.hash?.pairs ?? []), pair], loc: m.loc } as unknown as hbs.AST.Hash;
  }
}

/**
 * Handlebars' TypeError for `{{q host.nothing.here}}` names only "here". The paths that read it
 * from a parent are the candidates; the one whose parent is missing from the render's own data is
 * the culprit (inside a block, whose context is not the data, the first candidate is named).
 */
function missingParent(file: string, program: hbs.AST.Program, name: string, data: object, builtin: boolean): TemplateError {
  const reads = pathsIn(program).flatMap((path) => path.parts.flatMap((part, at) => (at >= 1 && part === name ? [{ path, at }] : [])));
  // The read whose parent this render's data lacks (`x.y.x` may fail reading either "x")
  const missingAtRoot = ({ path, at }: { path: hbs.AST.PathExpression; at: number }) => {
    if (path.data || path.depth !== 0) return false;
    let value: unknown = data;
    for (const part of path.parts.slice(0, at)) {
      if (value === undefined || value === null) return true;
      value = (value as Record<string, unknown>)[part];
    }
    return value === undefined || value === null;
  };
  const read = reads.find(missingAtRoot) ?? reads[0];
  if (!read) return new TemplateError(file, 0, 0, `a nested value this template uses does not exist (looking up "${name}" in nothing): check the names`, builtin);
  const { path, at } = read;
  return new TemplateError(file, path.loc.start.line, path.loc.start.column + 1, `"${path.original}": "${path.parts.slice(0, at).join('.')}" does not exist for this host, so it has no "${name}" (check the names, or set it in vars)`, builtin);
}

/** Every path expression of a template, in source order. */
function pathsIn(program: hbs.AST.Program): hbs.AST.PathExpression[] {
  const found = nodesOf(program).filter((node): node is hbs.AST.PathExpression => node.type === 'PathExpression');
  return found.sort((a, b) => a.loc.start.line - b.loc.start.line || a.loc.start.column - b.loc.start.column);
}

/**
 * Every node of a template's AST, parents before children: statements, inside blocks and their
 * else branches, and the paths, parameters, sub-expressions and hash values of each. Iterative: a
 * template may nest deeper than a recursive walk's stack.
 */
function nodesOf(program: hbs.AST.Program): hbs.AST.Node[] {
  const out: hbs.AST.Node[] = [];
  const stack: hbs.AST.Node[] = [program];
  for (let node = stack.pop(); node; node = stack.pop()) {
    out.push(node);
    const call = node as { path?: hbs.AST.Node; params?: hbs.AST.Node[]; hash?: hbs.AST.Hash; program?: hbs.AST.Program; inverse?: hbs.AST.Program; body?: hbs.AST.Node[] };
    const children = [call.path, ...(call.params ?? []), ...(call.hash?.pairs ?? []).map((pair) => pair.value), ...(call.body ?? []), call.program, call.inverse];
    for (let i = children.length - 1; i >= 0; i--) if (children[i]) stack.push(children[i]!);
  }
  return out;
}

/** Every escaped `{{x}}` / `{{helper x}}` of a config template becomes `{{line x}}` / `{{line (helper x)}}`. */
function guardLines(mustaches: readonly hbs.AST.MustacheStatement[]): void {
  for (const m of mustaches) {
    if (!m.escaped) continue;
    const inner: hbs.AST.Expression = m.params.length > 0 || (m.hash?.pairs.length ?? 0) > 0
      ? ({ type: 'SubExpression', path: m.path, params: m.params, hash: m.hash, loc: m.loc } as unknown as hbs.AST.SubExpression)
      : m.path;
    m.path = { type: 'PathExpression', data: false, depth: 0, parts: ['line'], original: 'line', loc: m.loc } as hbs.AST.PathExpression;
    m.params = [inner];
    m.hash = undefined as unknown as hbs.AST.Hash;
  }
}
