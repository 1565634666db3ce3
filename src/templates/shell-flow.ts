/**
 * Where a shell template's `{{q}}` values flow after the place they are written: through pipes,
 * out of groups and functions, through process substitutions and here-strings, to the commands
 * that read them (shell-input.ts says what each command does with its input). Part of the
 * shell-template check (shell-check.ts), which writes the plain text this module reads, in one
 * pass at the end: linear in the template.
 */

import { COMMAND_START, fileUse, type InputUse, inputUse, PROCESS_FILE, readNames } from './shell-input.js';

/** The mark of the value numbered n in the text valuesOnInput reads. */
export function valueMark(n: number): string {
  return `\u0001${n}\u0002`;
}

/** In the names held: the positional parameters (`$1`, `"$@"`...), once a value is an argument to a function the template defines or to `set`. */
export const POSITIONAL = '@';

/**
 * The one stage a `$( )` whose output the shell runs as code pipes into, in the text the check
 * writes (`sh -c "$(cat)"` is `sh -c x$(cat | CODE_SINK)`): what reaches it is run.
 */
export const CODE_SINK = '\u0004';

/** Characters the template's own text must not bring into that text (marks, PROCESS_FILE, CODE_SINK). */
export const MARK_BYTES = /[\u0001-\u0004]/g;

/** A value that reaches such a command, and how: through a pipeline, as a here-string to a whole group, through a process substitution, or through a `$( )` whose output is run as code (CODE_SINK). */
export interface FedValue extends InputUse {
  via: 'pipeline' | 'group here-string' | 'process substitution' | 'code substitution';
}

/**
 * The values (by number) that reach a command reading its standard input as code, with what that
 * command does, from `code`: the template's plain shell text in order, quoted words and arithmetic
 * as `x`, comments and here-document bodies left out, each plain {{q}} as its valueMark. A value's
 * text is taken to be its command's output; it flows on through `|`, out of a group at its end
 * (`{ echo {{q x}}; } | sh`), into the command a `$( )` or `<( )` is a word of, and into what a
 * `<( )` feeds: the input of the command or group redirected from it, or that command's program
 * when it runs the file. What a stage writes reaches its `>( )` commands, and what a stage reads
 * reaches the `$( )` in it. A function the template defines is its body where it is called. A
 * redirection to a file is not followed (`echo {{q x}} > f | sh` counts as fed): refusing there
 * costs nothing real. Also returned: the names that hold a value by the flow (`held`: what a
 * `read` given one assigns to, POSITIONAL), and every name a `read` or `mapfile` assigns to (`read`).
 */
export function valuesOnInput(code: string, integers: ReadonlySet<string>): { fed: Map<number, FedValue>; held: Set<string>; read: Set<string> } {
  const flow = new Flow(code, integers);
  for (const { 0: token, 1: mark, index } of code.matchAll(TOKEN)) flow.read(token, mark === undefined ? undefined : Number(mark), index);
  return { fed: flow.end(), held: flow.held, read: flow.readInto };
}

/**
 * Values flowing together: some of their own, and other lists joined in by reference (never
 * copied, so a pipeline of thousands of stages costs no more than its text). Once reported, a list
 * is done: its values are found for good, and a later report passes it by.
 */
class Values {
  readonly own: number[] = [];
  readonly parts: Values[] = [];
  done = false;

  get empty(): boolean {
    return this.own.length === 0 && this.parts.length === 0;
  }

  /** The lists joined: the one list itself when the others are empty (a list given here is no longer added to). */
  static of(...lists: Values[]): Values {
    const parts = lists.filter((list) => !list.empty);
    if (parts.length === 1) return parts[0]!;
    const joined = new Values();
    joined.parts.push(...parts);
    return joined;
  }
}

/** One frame per group (`{ }`, `( )`, `$( )`, `<( )`, `if`/`while`/`for`/`case` ... `fi`/`done`/`esac`, a function's body) open around the reading point. */
interface Frame {
  /** Values whose text is the current stage's output (written by it, or by a group in it). */
  own: Values;
  /** Values that earlier stages of the current pipeline pass on to it. */
  upstream: Values;
  /** Values piped into the group itself (`echo {{q x}} | { sh; }`): every pipeline in it starts with them. */
  stdin: Values;
  /** Values that reach the group's output (from pipelines that ended inside it). */
  out: Values;
  /** The current stage's words. */
  words: string[];
  /** Whether the current stage starts its pipeline (reads the group's own input). */
  first: boolean;
  /** The first stages so far (their words joined), which a redirection of the whole group feeds. */
  readers: string[];
  /** Values reaching the current stage's input from an 'input' process substitution. */
  input: Values;
  /** Values in the current stage's 'file' process substitutions (its words hold PROCESS_FILE there). */
  files: Values[];
  /** The first stages of the current stage's 'output' process substitutions: they read what it writes. */
  sinks: string[];
  /** In a `case`: before its `in` ('subject'), or in a pattern up to its `)` ('pattern'). */
  case?: 'subject' | 'pattern' | 'body';
  /**
   * A process substitution, by how its command's stage uses it: `sh < <(...)` reads its output
   * ('input'), `sh <(...)` gets it as a file operand ('file'), `cmd > >(...)` writes to it ('output').
   */
  substitution?: 'input' | 'file' | 'output';
  /** For an 'input' one that a whole group reads (`while read -r a; do sh; done < <(...)`): the group's readers. */
  group?: string[];
  /** A function's body (`f() { ... }`, `function f ( ... )`): its name. */
  fn?: string;
  /** Whether a value is among the current stage's arguments (not its here-string). */
  argued?: boolean;
}

/** A function the template defines: what its body does with its input, and the values it writes. */
interface FunctionFlow {
  /** What its body's readers do with the input, when that is code (the first that does). */
  use: InputUse | undefined;
  /** The functions its body's readers call, by name: their use is its, looked up at the end. */
  callees: string[];
  /** The names its body's readers `read` or `mapfile` into: fed a value when the function is. */
  reads: string[];
  out: Values;
}

/** Values that reach a command which may be a function the template defines: judged at the end, when every function is known. */
interface Call {
  values: Values;
  name: string;
  via: FedValue['via'];
}

/** A value's mark, an operator (redirections whole: `2>&1` is no `&`), or a word (`$`, `{`, `}` apart; `{}`, xargs' and find's, whole). */
const TOKEN = /\u0001(\d+)\u0002|\|\||&&|;;&|;;|;&|\|&|&>>?|\d*(?:[<>]&(?:\d+-?|-)?|<<<|<<-?|>>|<>|>\||[<>])|\{\}|[|;&\n(){}]|[^\s|;&(){}<>\u0001]+/g;
const SEPARATOR = new Set([';', '&', '&&', '||', '\n', ';;', ';&', ';;&']);
const OPENS = new Set(['if', 'while', 'until', 'for', 'select']);
const CLOSES = new Set(['fi', 'done']);
/** Reserved words that start no command of their own. */
const NO_COMMAND = new Set(['then', 'do', 'else', 'elif', '!', 'time']);
/** A function's name as the check defines and calls it (bash allows more; those go unfollowed). */
const FUNCTION_NAME = /^[A-Za-z_][\w.:@+-]*$/;
/** The word a simple command's name is, after reserved words and assignments. */
const COMMAND_NAME = new RegExp(`${COMMAND_START}(\\S+)`);
/** A definition's `()` from its `(` on (sticky: tried where the `(` is, not searched for). */
const EMPTY_PARENS = /\([ \t]*\)/y;

/** The name a stage's command is called by, if it can be a function's. */
function commandName(stage: string): string | undefined {
  const name = COMMAND_NAME.exec(stage)?.[1];
  return name !== undefined && FUNCTION_NAME.test(name) ? name : undefined;
}

function frame(stdin = new Values()): Frame {
  return { own: new Values(), upstream: stdin, stdin, out: new Values(), words: [], first: true, readers: [], input: new Values(), files: [], sinks: [] };
}

/** The pass itself: one token at a time, a stack of frames. */
class Flow {
  private readonly found = new Map<number, FedValue>();
  /**
   * Names that hold a value, known once the flow is: those a `read` or `mapfile` given a value
   * assigns to (by a pipe, a here-string, `< <(...)`, to it or to a group around it), and POSITIONAL.
   */
  readonly held = new Set<string>();
  /** The names any `read` assigns to, given a value or not. */
  readonly readInto = new Set<string>();
  private readonly stack: Frame[] = [frame()];
  private readonly functions = new Map<string, FunctionFlow>();
  private readonly calls: Call[] = [];
  /** The commands a value is an argument to: a function's makes its positional parameters hold it. */
  private readonly argued = new Set<string>();
  /** After `|`, `&&` or `||` a newline does not end the list. */
  private continued = false;
  /** The readers of the group that just ended, for its redirection. */
  private closed: string[] | undefined;
  private previous = '';
  /** Where the previous token ended: a token starting there is part of the same word. */
  private previousEnd = 0;
  /** Whether the tokens so far are a here-string's word (`<<< "a$x"` is the tokens `x` and a mark). */
  private hereWord = false;
  /** A function's name, until its body opens. */
  private defining: string | undefined;
  /** After the word `function`. */
  private naming = false;
  /** In a definition's `()`, which is skipped. */
  private emptyParens = false;

  constructor(
    private readonly code: string,
    private readonly integers: ReadonlySet<string>,
  ) {}

  /** One token of the code, at `index`, with its value's number if it is a mark. */
  read(token: string, mark: number | undefined, index: number): void {
    const f = this.stack.at(-1)!;
    const previous = this.previous;
    this.previous = token;
    const adjacent = index === this.previousEnd;
    this.previousEnd = index + token.length;
    const inHereWord = previous === '<<<' || (this.hereWord && adjacent);
    this.hereWord = inHereWord && (mark !== undefined || !/^[|;&(){}<>\n]/.test(token));
    if (token === '(' && (previous === '<' || previous === '>') && this.code[index - 1] === previous) {
      this.substitution(f, previous);
      return;
    }
    const atCommand = f.words.length === 0;
    if (mark !== undefined && this.hereWord) this.hereString(f, mark);
    if (token !== '<<<' && token !== '<' && !this.hereWord) this.closed = undefined; // close() sets it again; a here-string's word is all its
    if (token === '\n' && this.continued) return;
    this.continued = token === '|' || token === '|&' || token === '&&' || token === '||';
    if (f.case === 'subject') {
      if (token === 'in') f.case = 'pattern';
      return;
    }
    if (f.case === 'pattern') {
      if (token === ')') f.case = 'body';
      else if (token === 'esac') this.close();
      return;
    }
    if (mark === undefined && this.definition(token, f, index)) return;
    if (mark !== undefined) {
      f.own.own.push(mark);
      f.words.push('x');
      if (!this.hereWord) f.argued = true;
    } else if (token === '|' || token === '|&') {
      this.endStage(f);
      f.upstream = Values.of(f.upstream, f.own);
      f.own = new Values();
      f.first = false;
    } else if (SEPARATOR.has(token)) {
      this.endPipeline(f);
      if (f.case === 'body' && (token.startsWith(';;') || token === ';&')) f.case = 'pattern';
    } else if (this.defining && atCommand && (token === '(' || token === '{')) {
      this.stack.push({ ...frame(), fn: this.defining });
      this.defining = undefined;
    } else if (token === '(' || (atCommand && (token === '{' || OPENS.has(token)))) {
      this.stack.push(frame(f.upstream)); // a `$( )` in a stage reads the stage's input too
    } else if (atCommand && token === 'case') {
      this.stack.push({ ...frame(f.upstream), case: 'subject' });
    } else if (this.stack.length > 1 && (token === ')' || (atCommand && (token === '}' || CLOSES.has(token) || token === 'esac')))) {
      this.close();
    } else if (!(atCommand && NO_COMMAND.has(token))) {
      f.words.push(token);
    }
  }

  /** The values found, once the code has been read. */
  end(): Map<number, FedValue> {
    while (this.stack.length > 1) this.close();
    this.endPipeline(this.stack[0]!);
    const uses = this.functionUses();
    for (const call of this.calls) {
      const use = uses.get(call.name);
      if (use) this.report(call.values, { ...use, via: call.via });
    }
    for (const name of this.readsOfCalled()) this.held.add(name);
    if ([...this.argued].some((name) => this.functions.has(name))) this.held.add(POSITIONAL);
    return this.found;
  }

  /** `<(` or `>(`: a process substitution, a word of its command; a `<` before it makes it that command's input. */
  private substitution(f: Frame, operator: string): void {
    f.words.pop();
    const input = operator === '<' && f.words.at(-1) === '<';
    if (operator === '<') f.words.push(input ? 'x' : PROCESS_FILE);
    const kind = input ? 'input' : operator === '<' ? 'file' : 'output';
    this.stack.push({ ...frame(), substitution: kind, ...(input && this.closed && { group: this.closed }) });
    this.closed = undefined;
  }

  /** A value given as a here-string: to a whole group that just ended, or to a call of a function. */
  private hereString(f: Frame, mark: number): void {
    const values = new Values();
    values.own.push(mark);
    for (const reader of this.closed ?? []) this.fed(values, reader, 'group here-string');
    const stage = f.words.join(' ');
    for (const name of readNames(stage)) this.held.add(name);
    const name = commandName(stage); // a command's own here-string is shell-check's (hereStringPlace)
    if (name) this.calls.push({ values, name, via: 'group here-string' });
  }

  /** Reads a function definition's head (`f()`, `function f`, `function f ()`): true for a token it took. */
  private definition(token: string, f: Frame, index: number): boolean {
    if (this.naming) {
      this.naming = false;
      if (FUNCTION_NAME.test(token)) this.defining = token;
      return true;
    }
    if (token === 'function' && f.words.length === 0) {
      this.naming = true;
      return true;
    }
    const name = f.words.length === 1 ? f.words[0]! : f.words.length === 0 ? this.defining : undefined;
    EMPTY_PARENS.lastIndex = index;
    if (token === '(' && name && FUNCTION_NAME.test(name) && EMPTY_PARENS.test(this.code)) {
      f.words = [];
      this.defining = name;
      this.emptyParens = true;
      return true;
    }
    if (token === ')' && this.emptyParens) {
      this.emptyParens = false;
      return true;
    }
    return false;
  }

  private endStage(f: Frame): void {
    const stage = f.words.join(' ');
    if (f.argued) {
      const name = commandName(stage);
      if (name === 'set') this.held.add(POSITIONAL);
      else if (name) this.argued.add(name); // a function's, known at the end
      f.argued = false;
    }
    const fn = this.called(stage);
    if (fn) f.own.parts.push(fn.out); // a function's output is its call's
    if (f.words.length > 0) {
      for (const name of readNames(stage)) this.readInto.add(name);
      this.fed(f.upstream, stage, 'pipeline');
      if (f.first) f.readers.push(stage);
    }
    this.fed(f.input, stage, 'process substitution');
    for (const sink of f.sinks) this.fed(Values.of(f.upstream, f.own), sink, 'process substitution');
    f.files.forEach((values, i) => {
      const use = fileUse(stage, i);
      if (use) this.report(values, { ...use, via: 'process substitution' });
    });
    f.words = [];
    f.input = new Values();
    f.files = [];
    f.sinks = [];
  }

  private endPipeline(f: Frame): void {
    this.endStage(f);
    if (!f.upstream.empty) f.out.parts.push(f.upstream);
    if (!f.own.empty) f.out.parts.push(f.own);
    f.upstream = f.stdin;
    f.own = new Values();
    f.first = true;
  }

  private close(): void {
    const child = this.stack.pop()!;
    this.endPipeline(child);
    const parent = this.stack.at(-1)!;
    this.closed = child.substitution ? undefined : child.readers; // `tee >(sh) <<< x` gives the here-string to tee
    if (child.fn) {
      // a redirection after it (`f() { sh; } <<< x`) feeds each call: `closed` above
      const use = child.readers.map((reader) => inputUse(reader, this.integers)).find(Boolean);
      const callees = child.readers.map(commandName).filter((name): name is string => name !== undefined);
      this.functions.set(child.fn, { use, callees, reads: child.readers.flatMap(readNames), out: child.out });
      return;
    }
    if (child.substitution === 'output') parent.sinks.push(...child.readers);
    else parent.own.parts.push(child.out); // `cat <(...) | sh` passes it on too
    if (child.substitution === 'input') parent.input.parts.push(child.out);
    if (child.substitution === 'file') parent.files.push(child.out);
    for (const reader of child.group ?? []) this.fed(child.out, reader, 'process substitution');
    if (parent.first && !child.substitution) parent.readers.push(...child.readers);
  }

  /**
   * The names that `read`s in the functions given a value (and in those they call, however deep)
   * assign to: `f() { read -r y; eval "$y"; }; f <<< {{q x}}`. Walked breadth first, each
   * function once.
   */
  private readsOfCalled(): Set<string> {
    const names = new Set<string>();
    const queue = this.calls.filter((call) => !call.values.empty).map((call) => call.name);
    const seen = new Set(queue);
    for (let i = 0; i < queue.length; i++) {
      const fn = this.functions.get(queue[i]!);
      if (!fn) continue;
      for (const name of fn.reads) names.add(name);
      for (const callee of fn.callees) {
        if (seen.has(callee)) continue;
        seen.add(callee);
        queue.push(callee);
      }
    }
    return names;
  }

  /** The function a stage calls, if the template has defined it so far. */
  private called(stage: string): FunctionFlow | undefined {
    return this.functions.get(commandName(stage) ?? '');
  }

  /**
   * What each function does with its input: its body's own use, or that of a function it calls
   * (defined before or after it, as bash looks them up when called; calls in a cycle included).
   * Spread from the functions that use it themselves back to their callers, breadth first: linear
   * in the calls, no recursion however long a chain of functions is.
   */
  private functionUses(): Map<string, InputUse> {
    const uses = new Map<string, InputUse>();
    const callers = new Map<string, string[]>();
    for (const [name, fn] of this.functions) {
      if (fn.use) uses.set(name, fn.use);
      for (const callee of fn.callees) {
        const list = callers.get(callee);
        if (list) list.push(name);
        else callers.set(callee, [name]);
      }
    }
    const queue = [...uses.keys()];
    for (let i = 0; i < queue.length; i++) {
      for (const caller of callers.get(queue[i]!) ?? []) {
        if (uses.has(caller)) continue;
        uses.set(caller, uses.get(queue[i]!)!);
        queue.push(caller);
      }
    }
    return uses;
  }

  /**
   * Each value of a list not found yet is found this way (the first way found is the one
   * reported). Walked with a stack, not recursion (a pipeline of thousands of stages nests that
   * deep); a list walked once is done, so each list is walked once in all.
   */
  private report(values: Values, fed: FedValue): void {
    const stack = [values];
    while (stack.length > 0) {
      const list = stack.pop()!;
      if (list.done) continue;
      list.done = true;
      for (const n of list.own) if (!this.found.has(n)) this.found.set(n, fed);
      stack.push(...list.parts);
    }
  }

  /** Values that reach a stage's input: judged now by its command, or at the end if it calls a function. */
  private fed(values: Values, stage: string, via: FedValue['via']): void {
    if (values.empty) return;
    if (stage === CODE_SINK) {
      this.report(values, { use: 'runs it as code (sh -c "$(...)", eval "$(...)", sh <<< "$(...)")', kind: 'code', via: 'code substitution' });
      return;
    }
    for (const name of readNames(stage)) this.held.add(name);
    if (values.done) return;
    const use = inputUse(stage, this.integers);
    const name = commandName(stage);
    if (use) this.report(values, { ...use, via });
    else if (name) this.calls.push({ values, name, via });
  }
}
