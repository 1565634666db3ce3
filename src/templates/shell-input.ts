/**
 * Where a shell template's `{{q}}` value ends up on a command's standard input, and what that
 * command does with it: a shell reading its program there (`echo {{q x}} | sh`,
 * `{ echo {{q x}}; } | bash -s`, `sh <<< {{q x}}`, `echo {{q x}} > >(sh)`) runs the value, and
 * `read` into a name declared `-i` evaluates it as arithmetic. Also where it ends up in a process
 * substitution's file that a command runs as its program (`source <(echo {{q x}})`). Part of the
 * shell-template check (shell-check.ts), which builds the text this module reads.
 */

import { words } from './program-text.js';

/** Where a simple command's name starts: after reserved words and `NAME=value` prefixes (`while IFS= read`). */
export const COMMAND_START = '^\\s*(?:(?:!|if|while|until|then|do|else|elif)\\s+|\\w+=\\S*\\s+)*';
/** A simple command's start (COMMAND_START), maybe through `command` or `builtin`. */
export const BUILTIN_START = `${COMMAND_START}(?:(?:command|builtin)\\s+)*`;
/** ssh's options: flags, and those taking a word (attached or not). */
export const SSH_OPTIONS = '(?:-[46AaCfGgKkMNnqsTtVvXxYy]*(?:[BbcDEeFIiJLlmOopQRSWw]\\s*\\S+)?\\s+)*';

/** The mark of the value numbered n in the text valuesOnInput reads. */
export function valueMark(n: number): string {
  return `\u0001${n}\u0002`;
}

/** Characters the template's own text must not bring into that text (marks, and PROCESS_FILE). */
export const MARK_BYTES = /[\u0001-\u0003]/g;

/** A process substitution's file among a stage's words (`sh <(...)`), where runsFile looks for it. */
const PROCESS_FILE = '\u0003';

export interface InputUse {
  /** What the command does with its input, after "a command that". */
  use: string;
  /** Whether the value is run as code or evaluated as arithmetic (the advice differs). */
  kind: 'code' | 'arithmetic';
}

/**
 * What a simple command does with its standard input when that is code to it: runs it (a shell,
 * `ssh HOST`, `at`: readsProgram), or reads it into a name the template declares `-i`, which bash
 * evaluates as arithmetic (`read n`).
 */
export function inputUse(stage: string, integers: ReadonlySet<string>): InputUse | undefined {
  if (readsProgram(stage)) return { use: 'runs its standard input as shell code (sh, bash -s, ssh HOST, at), which runs the value', kind: 'code' };
  if (commandFromInput(stage)) return { use: "turns its input into a shell's command string (xargs sh -c, xargs -I{} sh -c 'echo {}', parallel with no command), which runs the value", kind: 'code' };
  const named = readNames(stage).find((name) => integers.has(name));
  if (named) return { use: `reads it into ${named}, declared -i in this template, which bash evaluates as arithmetic (running a $(...) in the value)`, kind: 'arithmetic' };
  return undefined;
}

/** A value that reaches such a command, and how: through a pipeline, as a here-string to a whole group, or through a process substitution. */
export interface FedValue extends InputUse {
  via: 'pipeline' | 'group here-string' | 'process substitution';
}

/** One frame per group (`{ }`, `( )`, `$( )`, `if`/`while`/`for`/`case` ... `fi`/`done`/`esac`) open around the reading point. */
interface Frame {
  /** Values whose text is the current stage's output (written by it, or by a group in it). */
  own: number[];
  /** Values that earlier stages of the current pipeline pass on to it. */
  upstream: number[];
  /** Values piped into the group itself (`echo {{q x}} | { sh; }`): every pipeline in it starts with them. */
  stdin: number[];
  /** Values that reach the group's output (from pipelines that ended inside it). */
  out: number[];
  /** The current stage's words. */
  words: string[];
  /** Whether the current stage starts its pipeline (reads the group's own input). */
  first: boolean;
  /** The first stages so far (their words joined), which a redirection of the whole group feeds. */
  readers: string[];
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
  /** Values reaching the current stage's input from an 'input' process substitution. */
  input: number[];
  /** Values in the current stage's 'file' process substitutions (its words hold PROCESS_FILE there). */
  files: number[][];
  /** The first stages of the current stage's 'output' process substitutions: they read what it writes. */
  sinks: string[];
}

/** A value's mark, an operator (redirections whole: `2>&1` is no `&`), or a word (`$`, `{`, `}` apart; `{}`, xargs' and find's, whole). */
const TOKEN = /\u0001(\d+)\u0002|\|\||&&|;;&|;;|;&|\|&|&>>?|\d*(?:[<>]&(?:\d+-?|-)?|<<<|<<-?|>>|<>|>\||[<>])|\{\}|[|;&\n(){}]|[^\s|;&(){}<>\u0001]+/g;
const SEPARATOR = new Set([';', '&', '&&', '||', '\n', ';;', ';&', ';;&']);
const OPENS = new Set(['if', 'while', 'until', 'for', 'select']);
const CLOSES = new Set(['fi', 'done']);
/** A function's name as the check defines and calls it (bash allows more; those go unfollowed). */
const FUNCTION_NAME = /^[A-Za-z_][\w.:@+-]*$/;
/** The word a simple command's name is, after reserved words and assignments. */
const COMMAND_NAME = new RegExp(`${COMMAND_START}(\\S+)`);
/** Reserved words that start no command of their own. */
const NO_COMMAND = new Set(['then', 'do', 'else', 'elif', '!', 'time']);

/**
 * The values (by number) that reach a command reading its standard input as code, with what that
 * command does, from `code`: the template's plain shell text in order, quoted words and arithmetic
 * as `x`, comments and here-document bodies left out, each plain {{q}} as its valueMark. A value's
 * text is taken to be its command's output; it flows on through `|`, out of a group at its end
 * (`{ echo {{q x}}; } | sh`), into the command a `$( )` or `<( )` is a word of, and into what a
 * `<( )` feeds: the input of the command or group redirected from it, or that command's program
 * when it runs the file (runsFile). What a stage writes reaches its `>( )` commands. A redirection
 * to a file is not followed (`echo {{q x}} > f | sh` counts as fed): refusing there costs nothing real.
 */
export function valuesOnInput(code: string, integers: ReadonlySet<string>): Map<number, FedValue> {
  const found = new Map<number, FedValue>();
  const frame = (stdin: number[] = []): Frame => ({ own: [], upstream: [...stdin], stdin, out: [], words: [], first: true, readers: [], input: [], files: [], sinks: [] });
  const stack: Frame[] = [frame()];
  let continued = false; // after `|`, `&&` or `||` a newline does not end the list
  let closed: string[] | undefined; // the readers of the group that just ended, for its redirection
  let previous = '';
  // functions the template defines: a call is its body to its input and output (`f() { sh; }; echo {{q x}} | f`)
  const functions = new Map<string, { readers: string[]; out: number[] }>();
  let defining: string | undefined; // a function's name, until its body opens
  let naming = false; // after the word `function`
  let emptyParens = false; // the `()` of a definition, skipped
  const called = (stage: string): { readers: string[]; out: number[] } | undefined => functions.get(COMMAND_NAME.exec(stage)?.[1] ?? '');
  const useOf = (stage: string, seen: Set<string>): InputUse | undefined => {
    const direct = inputUse(stage, integers);
    if (direct || seen.has(stage)) return direct;
    seen.add(stage);
    for (const reader of called(stage)?.readers ?? []) {
      const use = useOf(reader, seen);
      if (use) return use;
    }
    return undefined;
  };
  const fed = (values: readonly number[], stage: string, via: FedValue['via']): void => {
    const use = values.length > 0 ? useOf(stage, new Set()) : undefined;
    if (use) for (const n of values) if (!found.has(n)) found.set(n, { ...use, via });
  };
  const endStage = (f: Frame): void => {
    const stage = f.words.join(' ');
    f.own.push(...(called(stage)?.out ?? [])); // a function's output is its call's
    if (f.words.length > 0) {
      if (f.upstream.length > 0) fed(f.upstream, stage, 'pipeline');
      if (f.first) f.readers.push(stage);
    }
    fed(f.input, stage, 'process substitution');
    for (const sink of f.sinks) fed([...f.upstream, ...f.own], sink, 'process substitution');
    f.files.forEach((values, i) => {
      if (runsFile(stage, i)) for (const n of values) if (!found.has(n)) found.set(n, { use: RUNS_FILE, kind: 'code', via: 'process substitution' });
    });
    f.words = [];
    f.input = [];
    f.files = [];
    f.sinks = [];
  };
  const endPipeline = (f: Frame): void => {
    endStage(f);
    f.out.push(...f.upstream, ...f.own);
    f.upstream = [...f.stdin];
    f.own = [];
    f.first = true;
  };
  const close = (): void => {
    const child = stack.pop()!;
    endPipeline(child);
    const parent = stack.at(-1)!;
    if (child.fn) {
      functions.set(child.fn, { readers: child.readers, out: child.out });
      closed = child.readers; // `f() { sh; } <<< {{q x}}` gives each call that input
      return;
    }
    if (child.substitution === 'output') parent.sinks.push(...child.readers);
    else parent.own.push(...child.out); // `cat <(...) | sh` passes it on too
    if (child.substitution === 'input') parent.input.push(...child.out);
    for (const reader of child.group ?? []) fed(child.out, reader, 'process substitution');
    if (child.substitution === 'file') parent.files.push(child.out);
    if (parent.first && !child.substitution) parent.readers.push(...child.readers);
    closed = child.substitution ? undefined : child.readers; // `tee >(sh) <<< x` gives the here-string to tee
  };
  for (const { 0: token, 1: mark, index } of code.matchAll(TOKEN)) {
    const f = stack.at(-1)!;
    if (token === '(' && (previous === '<' || previous === '>') && code[index - 1] === previous) {
      // `<(` or `>(`: a process substitution, a word of its command; a `<` before it makes it that command's input
      f.words.pop();
      const input = previous === '<' && f.words.at(-1) === '<';
      if (previous === '<') f.words.push(input ? 'x' : PROCESS_FILE);
      stack.push({ ...frame(), substitution: input ? 'input' : previous === '<' ? 'file' : 'output', ...(input && closed && { group: closed }) });
      previous = token;
      closed = undefined;
      continue;
    }
    const atCommand = f.words.length === 0;
    // a here-string given to a whole group (`while read -r n; do ...; done <<< {{q x}}`) feeds its readers
    if (mark !== undefined && previous === '<<<' && closed) for (const reader of closed) fed([Number(mark)], reader, 'group here-string');
    if (mark !== undefined && previous === '<<<' && called(f.words.join(' '))) fed([Number(mark)], f.words.join(' '), 'group here-string');
    if (token !== '<<<' && token !== '<') closed = undefined; // close() below sets it again
    previous = token;
    if (token === '\n' && continued) continue;
    continued = token === '|' || token === '|&' || token === '&&' || token === '||';
    if (f.case === 'subject') {
      if (token === 'in') f.case = 'pattern';
      continue;
    }
    if (f.case === 'pattern') {
      if (token === ')') f.case = 'body';
      else if (token === 'esac') close();
      continue;
    }
    if (mark === undefined && definition(token, f, code.slice(index + 1))) continue;
    if (mark !== undefined) {
      f.own.push(Number(mark));
      f.words.push('x');
    } else if (token === '|' || token === '|&') {
      endStage(f);
      f.upstream.push(...f.own);
      f.own = [];
      f.first = false;
    } else if (SEPARATOR.has(token)) {
      endPipeline(f);
      if (f.case === 'body' && (token.startsWith(';;') || token === ';&')) f.case = 'pattern';
    } else if (defining && atCommand && (token === '(' || token === '{')) {
      stack.push({ ...frame(), fn: defining });
      defining = undefined;
    } else if (token === '(' || (atCommand && (token === '{' || OPENS.has(token)))) {
      stack.push(frame(atCommand ? f.upstream : []));
    } else if (atCommand && token === 'case') {
      stack.push({ ...frame(f.upstream), case: 'subject' });
    } else if (stack.length > 1 && (token === ')' || (atCommand && (token === '}' || CLOSES.has(token) || token === 'esac')))) {
      close();
    } else if (!(atCommand && NO_COMMAND.has(token))) {
      f.words.push(token);
    }
  }
  while (stack.length > 1) close();
  endPipeline(stack[0]!);
  return found;

  /** Reads a function definition's head (`f()`, `function f`, `function f ()`): true for a token it took. */
  function definition(token: string, f: Frame, after: string): boolean {
    if (naming) {
      naming = false;
      if (FUNCTION_NAME.test(token)) defining = token;
      return true;
    }
    if (token === 'function' && f.words.length === 0) {
      naming = true;
      return true;
    }
    const name = f.words.length === 1 ? f.words[0]! : defining && f.words.length === 0 ? defining : undefined;
    if (token === '(' && name && FUNCTION_NAME.test(name) && /^[ \t]*\)/.test(after)) {
      f.words = [];
      defining = name;
      emptyParens = true;
      return true;
    }
    if (token === ')' && emptyParens) {
      emptyParens = false;
      return true;
    }
    return false;
  }
}

const RUNS_FILE = 'runs that file as a program (sh FILE, source FILE, bash --rcfile FILE, awk -f FILE, python FILE, at -f FILE), which runs the value';

/**
 * Whether a simple command runs its `index`th process substitution file (PROCESS_FILE among its
 * words) as a program: a shell's script operand or `--rcfile`, `source`'s, `at -f`'s, awk's or
 * sed's `-f`, or an interpreter's script operand (perl, python... given no program option).
 */
function runsFile(stage: string, index: number): boolean {
  let seen = -1;
  const marked = stage.replace(/\u0003/g, () => (++seen === index ? PROCESS_FILE : 'x'));
  const m = FILE_RUNNER.exec(marked);
  if (!m) return false;
  const name = m[1] ?? m[2]!;
  const list = words(m[3]!);
  const after = (option: RegExp): boolean => list.some((w, i) => option.test(w) && list[i + 1] === PROCESS_FILE);
  const firstOperand = (): string | undefined => list.filter((w, i) => !/^[-+]|^\d*[<>]/.test(w) && !/^\d*[<>]+&?$/.test(list[i - 1] ?? ''))[0];
  if (name === 'source' || name === '.') return list.find((w) => w !== '--') === PROCESS_FILE;
  if (name === 'at' || name === 'batch') return after(/^-[A-Za-z]*f$/);
  if (/awk$|^sed$/.test(name)) return after(/^-[A-Za-z]*f$|^--file$/);
  if (SHELLS.test(name)) {
    if (after(/^--(?:rcfile|init-file)$/)) return true;
    if (list.some((w) => /^-[A-Za-z]*[cs]/.test(w))) return false; // operands are -c's $0 and $1, or -s's arguments
  } else if (list.some((w) => /^-[A-Za-z]*[eEcmr]$|^--(?:eval|print)/.test(w))) {
    return false; // an interpreter given its program (-e, -c, -m...): the operands are its arguments
  }
  return firstOperand() === PROCESS_FILE;
}

/** The names a `read` command assigns to (its operands, and `-a`'s array). */
function readNames(stage: string): string[] {
  const list = words(new RegExp(`${BUILTIN_START}read((?:\\s+\\S+)*)\\s*$`).exec(stage)?.[1] ?? '');
  const names: string[] = [];
  for (let i = 0; i < list.length; i++) {
    const word = list[i]!;
    if (/^\d*[<>]+&?$/.test(word)) i++; // a redirection and its word
    else if (/^-[A-Za-z]*[dinNptu]$/.test(word)) i++; // an option and its argument
    else if (/^-[A-Za-z]*a$/.test(word)) names.push(list[++i] ?? '');
    else if (!/^-|^\d*[<>]/.test(word)) names.push(word);
  }
  return names;
}

/**
 * Whether a simple command reads its program from standard input: a shell given no `-c` and no
 * script file (or given `-s`), maybe behind `sudo`, `env` or `nohup`; `ssh HOST` with no remote
 * command; or `at`/`batch` without `-f`.
 */
function readsProgram(stage: string): boolean {
  const m = STDIN_READER.exec(stage);
  if (!m) return false;
  const list = words(m[2]!);
  if (m[1] === 'at' || m[1] === 'batch') return !list.some((w) => /^-[A-Za-z]*f/.test(w));
  if (m[1] === 'ssh') return SSH_LOGIN.test(stage);
  let fromStdin = false;
  for (let i = 0; i < list.length; i++) {
    const word = list[i]!;
    if (/^\d*[<>]/.test(word)) {
      if (/^\d*[<>]+&?$/.test(word)) i++; // a redirection's word apart: `2> /dev/null`
      continue;
    }
    if (word === '--' || !/^[-+]/.test(word)) return fromStdin; // operands: a script file, unless -s
    if (/^[-+][oO]$|^--(?:rcfile|init-file)$/.test(word)) i++;
    else if (/^-[A-Za-z]*c/.test(word)) return false; // the program is -c's string (shell-check's codePlace)
    else if (/^-[A-Za-z]*s/.test(word)) fromStdin = true;
  }
  return true;
}

/**
 * Whether a simple command builds a shell's command string from its input: `xargs sh -c` (the
 * first input word is -c's string), `xargs -I R sh -c STRING` with no words after STRING (R can
 * only be in it: a safe form passes R as `$1`), and `parallel` with no command (each line is one).
 * `xargs -a FILE` reads no standard input.
 */
function commandFromInput(stage: string): boolean {
  if (PARALLEL_ALONE.test(stage)) return true;
  const m = XARGS.exec(stage);
  if (!m) return false;
  const list = words(m[1]!);
  let replace = false;
  let i = 0;
  for (; i < list.length && /^-/.test(list[i]!); i++) {
    const word = list[i]!;
    if (word === '--') {
      i++;
      break;
    }
    if (/^-[0prtx]*a|^--arg-file/.test(word)) return false;
    if (/^-[0prtx]*[Ii]|^--replace/.test(word)) replace = true;
    if (/^-[0prtx]*[dEILnPs]$|^--(?:delimiter|eof|max-lines|max-args|max-procs|max-chars)$/.test(word)) i++; // its argument apart
  }
  const shell = new RegExp(`${WRAPPERS}(?:\\S*/)?(?:sh|bash|dash|ash|ksh|mksh|zsh)((?:\\s+\\S+)*)\\s*$`).exec(list.slice(i).join(' '));
  if (!shell) return false;
  const options = words(shell[1]!);
  const c = options.findIndex((w) => /^-[A-Za-z]*c/.test(w));
  if (c < 0) return false;
  const after = options.length - c - 1; // -c's string, then $0, $1...
  return after === 0 || (replace && after === 1);
}

/** What runs a command: `sudo`, `doas`, `env`, `nohup`..., and `NAME=value` prefixes. */
const WRAPPERS = String.raw`^\s*(?:(?:sudo|doas)(?:\s+-[A-Za-z]*[ugCDhpRrTU]\s+\S+|\s+-\S+)*\s+|(?:env|nice|nohup|command|exec|setsid|stdbuf|ionice|time)(?:\s+-\S+)*\s+|\w+=\S*\s+)*`;
const SHELLS = /^(?:sh|bash|dash|ash|ksh|mksh|zsh)$/;
/** A simple command's name behind WRAPPERS (the first word that is none of them), and its words. */
const STDIN_READER = new RegExp(`${WRAPPERS}(?:\\S*/)?(sh|bash|dash|ash|ksh|mksh|zsh|at|batch|ssh)((?:\\s+\\S+)*)\\s*$`);
/** The same for the commands runsFile knows (interpreters with their version: python3, perl5.36). */
const FILE_RUNNER = new RegExp(`${WRAPPERS}(?:(source|\\.)|(?:\\S*/)?(sh|bash|dash|ash|ksh|mksh|zsh|at|batch|[gmn]?awk|sed|perl|ruby|python|node|nodejs|php|lua)[\\d.]*)((?:\\s+\\S+)*)\\s*$`);
/** xargs behind WRAPPERS, and its words. */
const XARGS = new RegExp(`${WRAPPERS}(?:\\S*/)?xargs((?:\\s+\\S+)*)\\s*$`);
/** GNU parallel given options only (numbers as their arguments: `-j 4`): it runs each input line as a command. */
const PARALLEL_ALONE = new RegExp(`${WRAPPERS}(?:\\S*/)?parallel(?:\\s+(?:-\\S*|\\d+))*\\s*$`);
/** ssh with a destination and no remote command (nor -N, -s or -W): the remote shell reads its program from standard input. */
const SSH_LOGIN = new RegExp(`(?:^|\\s)(?:\\S*/)?ssh\\s+(?!(?:.*\\s)?-[A-Za-z]*[NsW])${SSH_OPTIONS}(?:--\\s+)?[^-\\s]\\S*\\s*$`);
