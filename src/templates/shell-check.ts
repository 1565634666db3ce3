/**
 * Safety rules for shell templates (`*.sh.hbs`, and every `shell` task template), checked on the
 * template's parse tree before it is ever rendered, so a template that could turn a value into
 * shell code is refused at `validate`, not discovered on a host.
 *
 * - Every `{{...}}` must be `{{q VALUE}}` (single-quoted by lvsplay) or `{{sh FRAGMENT}}` (shell
 *   code lvsplay itself generated). A bare `{{x}}` or `{{{x}}}` would paste text into the script.
 * - `{{q ...}}` only where single-quoted text means what it says: in plain shell or a comment. Inside
 *   "double quotes", `backquotes`, 'single quotes' or a here-document, quotes are literal text and
 *   `$(...)` would still run; there, use the value's variable instead: "$LVSPLAY_VAR_name", set in
 *   the script's prologue (see prologue.ts), which expands to data and never to code.
 * - `{{sh ...}}` only in plain shell.
 * - A block (`{{#if}}`, `{{#each}}`) must end in the quoting state it started in, so that whichever
 *   branch or however many iterations render, the rules above still hold; partials and decorators
 *   cannot be checked and are refused.
 * The scanner is a small POSIX sh lexer over the template's literal text: quotes, backslashes,
 * comments and here-documents (`<<WORD`, `<<-WORD`, `<<'WORD'`).
 */

import { programOf, words } from './program-text.js';
import { CODE_SINK, MARK_BYTES, POSITIONAL, valueMark, valuesOnInput } from './shell-flow.js';
import { BUILTIN_START, COMMAND_START, type InputUse, inputUse, SHELL_NAMES, SSH_OPTIONS } from './shell-input.js';

/**
 * `arith`: inside `$(( ))` or `(( ))`, where the shell reads the text as if in double quotes.
 * `ansi`: inside bash's `$'...'`, where a backslash escapes the next character, a quote too.
 */
type Context = 'plain' | 'squote' | 'dquote' | 'bquote' | 'comment' | 'heredoc' | 'arith' | 'ansi';

interface HeredocPending {
  delimiter: string;
  stripTabs: boolean;
  /** For a body the shell expands (its delimiter unquoted): its number among the values, where a variable holding a value in it is placed. */
  mark?: number;
}

/** A place a value is used: a plain {{q}}, or a variable that holds one (`$LVSPLAY_VAR_x`), as the problems name it. */
interface ValueUse {
  line: number;
  column: number;
  what: string;
  /** A variable in a here-document's body: the body reaches the command, not the variable alone. */
  heredoc?: boolean;
}

interface State {
  context: Context;
  /** After a backslash in plain/dquote/bquote: the next character is literal. */
  escaped: boolean;
  /** Here-documents opened on the current line, whose bodies start at the next newline. */
  pending: HeredocPending[];
  /** The here-document whose body we are in. */
  heredoc?: HeredocPending;
  /** Text of the current line so far (here-document delimiters, `#` at a word start). */
  line: string;
  /** Open parentheses inside an `arith` context; it ends when they are all closed. */
  parens: number;
  /**
   * Inside bash's `[[ ... ]]`: where it began in `line`, and the {{q}} found in it, refused at its
   * `]]` if it compares numbers (`-eq`, `-lt`...: bash evaluates both sides as arithmetic).
   */
  test?: { from: number; values: ShellProblem[] };
  /** Problems known only after their mustache (a `[[ ]]` found to be arithmetic at its end). */
  late: ShellProblem[];
  /** Names the template declares `-i` anywhere: bash evaluates what is assigned to them as arithmetic. */
  integers: ReadonlySet<string>;
  /** Names the template declares `-A` anywhere: associative arrays, whose subscripts are strings, not arithmetic. */
  associative: ReadonlySet<string>;
  /** Names the template declares `-n` anywhere: name references, which hold the value of the variable they are given the name of. */
  references: ReadonlySet<string>;
  /**
   * The template's plain shell text so far, for valuesOnInput: quoted words, arithmetic and other
   * mustaches as `x`, comments and here-document bodies left out, each plain {{q}} as its mark.
   */
  code: string;
  /** The values marked in `code`, by number (a here-document's stays empty until a variable in its body fills it). */
  values: (ValueUse | undefined)[];
  /**
   * Names that hold a value from here on: assigned a plain {{q}} or a variable holding one
   * (`x={{q v}}`, `y="$x"`, `local y=$LVSPLAY_VAR_v`), or a loop's name given one (`for y in {{q v}}`).
   */
  tainted: Set<string>;
  /** Where the quotes we are in began, in `line`. */
  quoteStart: number;
  /** `${` open inside the double quotes we are in (a `"` there opens a quote nested in it, for bash). */
  braces: number;
  /** `${` open in plain shell: their braces are no group to the flow (`ssh ${h} sh` is one command). */
  expansions: number;
  /**
   * The `$( )` open around the reading point, innermost last. Inside double quotes its text is
   * plain shell again (`"$(eval "$x")"`), until the `)` that closes it, where the quotes go on.
   */
  substitutions: Substitution[];
  /**
   * A command run inside text this check reads as quoted: in an expanding here-document's body,
   * how deep in `$( )` (its own parentheses counted); there or in double quotes, whether in backquotes.
   */
  inner: { parens: number; backquotes: boolean };
}

/** A `$(` open: parentheses still open in it, its lines before the current one, and what it is in. */
interface Substitution {
  depth: number;
  lines: string;
  /** For one inside double quotes: the line as it was at the `$(` (inner text left out), where its quotes began, and the `${` open in them. */
  quotes?: { line: string; start: number; braces: number };
  /** The variable its output goes to (`y=$(`, `local y="$(`, `for h in $(`): a value in it is in that variable. */
  receiver?: string;
  /** Whether its output is run as code (`sh -c "$(`, `eval $(`, `sh <<< "$(`): to the flow its text is one group piped into CODE_SINK. */
  code?: boolean;
}

export interface ShellProblem {
  line: number;
  column: number;
  message: string;
}

const VALUE_HELPER = 'q';
const CODE_HELPER = 'sh';

const HOW = 'in a shell template every {{...}} must be {{q VALUE}} (single-quoted) or {{sh FRAGMENT}}; inside double quotes or here-documents use "$LVSPLAY_VAR_<name>" (docs/playbooks.md)';

export function checkShellTemplate(program: hbs.AST.Program): ShellProblem[] {
  const integers = declaredNames(program, 'i');
  const associative = declaredNames(program, 'A');
  const references = declaredNames(program, 'n');
  // A name a `read` is given a value for holds it, in the loop body before that read's input is
  // written too (`while read -r y; do eval "$y"; done <<< {{q x}}`): only the whole pass finds
  // such names, so the check runs again with them held from the start, until no new one turns up
  // (one pass when no read is given a value). A read of a read of a read... would take a pass
  // each: after READ_PASSES, every name any read assigns to is held, which is safe and bounded.
  const held = new Set<string>();
  for (let pass = 1; ; pass++) {
    const { problems, fed, read } = checkPass(program, { integers, associative, references }, held);
    const more = [...(pass < READ_PASSES ? fed : read)].filter((name) => !held.has(name));
    if (more.length === 0) return problems;
    for (const name of more) held.add(name);
  }
}

/** Passes of the check that follow reads given a value one step each, before all reads' names are held. */
const READ_PASSES = 4;

/**
 * One pass of the check, with `held` holding a value from the start: its problems, the names a
 * read given a value assigns to (`fed`), and those any read assigns to (`read`).
 */
function checkPass(program: hbs.AST.Program, declared: Pick<State, 'integers' | 'associative' | 'references'>, held: ReadonlySet<string>): { problems: ShellProblem[]; fed: Set<string>; read: Set<string> } {
  const problems: ShellProblem[] = [];
  const state: State = { context: 'plain', escaped: false, pending: [], line: '', parens: 0, late: [], ...declared, code: '', values: [], tainted: new Set(held), quoteStart: 0, braces: 0, expansions: 0, substitutions: [], inner: { parens: 0, backquotes: false } };
  walk(program, state, problems);
  // the template's last line may be a here-document's delimiter with no newline after it: lvsplay
  // puts one after the template (its own lines follow), so for the shell that line ends there
  if (state.context === 'heredoc' && state.line !== '') newline(state);
  problems.push(...state.late);
  const flow = valuesOnInput(state.code, state.integers);
  for (const [n, fed] of flow.fed) {
    const value = state.values[n];
    if (!value) continue; // a here-document with no value in it
    const how = value.heredoc ? 'in a here-document whose text reaches a command' : { pipeline: 'in a pipeline into a command', 'group here-string': 'as a here-string to a group (a loop, { }, ( ), a function) with a command', 'process substitution': 'through a process substitution into a command', 'code substitution': 'in a $( ) (or its input) whose output goes to a command' }[fed.via];
    problems.push({ line: value.line, column: value.column, message: `${value.what} ${how} that ${fed.use}; ${howFor(fed.kind, value.what)}` });
  }
  // A here-document never ended swallows the rest of the script (lvsplay's own lines after it),
  // and a later line that happens to be its delimiter would restart the shell somewhere else.
  const open = state.heredoc ?? state.pending[0];
  if (open) problems.push({ line: program.loc?.end.line ?? 1, column: 0, message: `a here-document (<<${open.delimiter}) is still open at the end of the template: end it with a line "${open.delimiter}"` });
  return { problems, fed: flow.held, read: flow.read };
}

/**
 * Every name the template declares with the option `letter`, on any line: `-i` (`declare -i n`,
 * `local -ri a b=1`), where an assignment to it elsewhere (`n={{q x}}`, in a loop or a function)
 * is evaluated as arithmetic too; `-A`, an associative array, whose subscripts are strings; `-n`,
 * a name reference.
 */
function declaredNames(program: hbs.AST.Program, letter: 'i' | 'A' | 'n'): Set<string> {
  const names = new Set<string>();
  const declaration = /(?:^|[\s;&|(){}])(?:declare|typeset|local)((?:\s+[-+][A-Za-z]+)+)\s+([^;&|\n]*)/g;
  const option = new RegExp(`-[A-Za-z]*${letter}`);
  for (const [, options, operands] of literalText(program).matchAll(declaration)) {
    if (!option.test(options!)) continue;
    for (const [, name] of operands!.matchAll(/(?:^|\s)([A-Za-z_]\w*)(?=[=\s[]|$)/g)) names.add(name!);
  }
  return names;
}

/** A template's literal text in order, each mustache as the word `x`, blocks' branches in turn. */
function literalText(program: hbs.AST.Program): string {
  return program.body.map((node) => {
    if (node.type === 'ContentStatement') return (node as hbs.AST.ContentStatement).value;
    if (node.type !== 'BlockStatement') return 'x';
    const block = node as hbs.AST.BlockStatement;
    return [block.program, block.inverse].map((branch) => (branch ? literalText(branch) : '')).join('\n');
  }).join('');
}

function walk(program: hbs.AST.Program, state: State, problems: ShellProblem[]): void {
  for (const node of program.body) {
    switch (node.type) {
      case 'ContentStatement': {
        const content = node as hbs.AST.ContentStatement;
        scan(content.value, state, placer(content), problems);
        break;
      }
      case 'CommentStatement':
        break;
      case 'MustacheStatement':
        checkMustache(node as hbs.AST.MustacheStatement, state, problems);
        // What a mustache renders is one quoted word or lvsplay's own code: no quote state changes.
        state.line += 'x';
        if (state.context === 'plain') state.code += isValue(node as hbs.AST.MustacheStatement) ? valueMark(state.values.push({ ...node.loc.start, what: '{{q ...}}' }) - 1) : 'x';
        break;
      case 'BlockStatement': {
        const block = node as hbs.AST.BlockStatement;
        for (const branch of [block.program, block.inverse]) {
          if (!branch) continue;
          const before = snapshot(state);
          walk(branch, state, problems);
          if (snapshot(state) !== before) {
            problems.push(at(block, `the {{#${pathName(block.path)}}} block leaves a quote, comment or here-document open that it did not open with: a block must end in the quoting state it started in`));
          }
          restore(state, before);
        }
        break;
      }
      default:
        break; // partials and decorators: refused in every template before this check (templates.ts)
    }
  }
}

function checkMustache(node: hbs.AST.MustacheStatement, state: State, problems: ShellProblem[]): void {
  const helper = node.params.length > 0 ? pathName(node.path) : undefined;
  if (!node.escaped || (helper !== VALUE_HELPER && helper !== CODE_HELPER)) {
    problems.push(at(node, HOW));
    return;
  }
  const where = describe(state.context);
  const plainValue = state.context === 'plain' && helper === VALUE_HELPER;
  const start = wordStart(state.line);
  const unquoted = plainValue ? unquotedPlace(state) : undefined;
  const run = plainValue ? runPlace('{{q ...}}', lastCommand(start), state.integers) : undefined;
  const holder = plainValue ? receiver(state.line) : undefined;
  if (holder) state.tainted.add(holder);
  if (plainValue) receive(state);
  if (state.escaped) {
    // `\{{q x}}` renders \'...': the backslash takes the opening quote, and the value is then shell
    problems.push(at(node, `{{${helper} ...}} right after a backslash, which would escape the quote it starts with: put a space or another word between them`));
  } else if (unquoted) {
    problems.push(at(node, `{{q ...}} ${unquoted}; ${ARITHMETIC_HOW}`));
  } else if (run) {
    problems.push(at(node, run));
  } else if (state.context === 'plain' && helper === VALUE_HELPER && state.test) {
    state.test.values.push(at(node, `{{q ...}} ${NUMERIC_TEST}; ${ARITHMETIC_HOW}`));
  } else if (helper === VALUE_HELPER && state.context === 'arith') {
    problems.push(at(node, `{{q ...}} ${ARITHMETIC}; ${ARITHMETIC_HOW}`));
  } else if (helper === VALUE_HELPER && state.context !== 'plain' && state.context !== 'comment') {
    problems.push(at(node, `{{q ...}} ${where}: the single quotes it adds would be literal text there; use "$LVSPLAY_VAR_<name>" instead (docs/playbooks.md)`));
  } else if (helper === CODE_HELPER && state.context !== 'plain') {
    problems.push(at(node, `{{sh ...}} ${where}: shell code belongs in plain shell`));
  }
}

/** A {{q}} in plain shell: one quoted word of data (its checks are checkMustache's). */
function isValue(node: hbs.AST.MustacheStatement): boolean {
  return node.params.length > 0 && pathName(node.path) === VALUE_HELPER && node.escaped;
}

/** What to write instead, for a value (a {{q}}, or a variable holding one, named `what`) run as code or evaluated as arithmetic. */
function howFor(kind: InputUse['kind'], what: string): string {
  if (kind === 'arithmetic') return ARITHMETIC_HOW;
  return what.startsWith('$') ? VARIABLE_CODE_HOW : CODE_HOW;
}

/**
 * The problem with a value named `what` (`{{q ...}}`, or `$NAME` for a variable holding one) in
 * `command`, the simple command up to where its word starts, when the shell runs it there: a code
 * place (codePlace), or a here-string to a command that runs or evaluates its input.
 */
function runPlace(what: string, command: string, integers: ReadonlySet<string>): string | undefined {
  // the shell takes redirections out of the words wherever they are: `sh -c 2>&1 {{q x}}` is -c's string
  const code = codePlace(command.replace(REDIRECTION, ''));
  if (code) return `${what} ${code}; ${howFor('code', what)}`;
  const hereString = hereStringPlace(command, integers);
  if (hereString) return `${what} as a here-string to a command that ${hereString.use}; ${howFor(hereString.kind, what)}`;
  return undefined;
}

function describe(context: Context): string {
  return {
    plain: 'in plain shell', squote: "inside 'single quotes'", dquote: 'inside "double quotes"', bquote: 'inside `backquotes`',
    comment: 'in a comment', heredoc: 'inside a here-document', ansi: "inside $'...' (ANSI-C quotes)", arith: 'inside $(( )) or (( )) arithmetic, where the shell reads the text as in double quotes and runs a $(...) in it',
  }[context];
}

const ARITHMETIC_HOW = 'keep values out of arithmetic and variable names: compare a number with [ "$LVSPLAY_VAR_<name>" -ge N ] (test reads digits and evaluates nothing), compute with awk -v or expr, and give names as fixed text (docs/playbooks.md)';
const ARITHMETIC = 'inside $(( )) or (( )) arithmetic, which bash evaluates as an expression (running a $(...) in the value)';
const NUMERIC_TEST = 'in a [[ ]] that compares numbers (-eq, -ne, -lt, -le, -gt, -ge), whose operands bash evaluates as arithmetic (running a $(...) in the value)';
const SUBSCRIPT_PLACE = 'in an array subscript or $[ ], which bash evaluates as arithmetic (running a $(...) in the value)';

/**
 * Places in plain shell where single quotes do not keep a {{q}} data: right after a `$`
 * (`$'...'`, bash's ANSI-C quoting: a backslash escapes the closing quote), or where bash
 * evaluates the word, as it would a variable's text there (evaluatedPlace).
 */
function unquotedPlace(s: State): string | undefined {
  if (s.line.endsWith('$')) return "right after a $, which makes $'...' (ANSI-C quoting, where a backslash in the value escapes the closing quote)";
  return evaluatedPlace(s, s.line, false);
}

/**
 * Where a variable holding a value, expanded where `lineBefore` ends (as `$NAME`, or `bare` as
 * NAME, which arithmetic evaluates too), is evaluated by bash as arithmetic or as a variable
 * name: in `$(( ))` or `(( ))`, in an expansion that evaluates (expansionPlace), or a word bash
 * evaluates (wordPlace; a bare name only where it is arithmetic). In a here-document's body only
 * its expansions evaluate.
 */
function evaluatedPlace(s: State, lineBefore: string, bare: boolean): string | undefined {
  if (s.context === 'arith') return ARITHMETIC;
  // in double quotes: an expansion open before them (`${a["$x"]}`, `a["$x"]=`), or inside them, read as it is
  const expansion = s.context === 'dquote'
    ? expansionPlace(unquoted(lineBefore.slice(0, s.quoteStart)), true, s) ?? expansionPlace(lineBefore.slice(s.quoteStart), false, s)
    : expansionPlace(s.context === 'plain' ? unquoted(lineBefore) : lineBefore, s.context === 'plain', s);
  if (expansion || s.context === 'heredoc') return expansion;
  const line = lineToWord(s, lineBefore);
  return bare ? arithmeticWord(line, s.integers) : wordPlace(line, wordStart(line), s.test !== undefined, s.integers);
}

/** The line up to the word being read: in double quotes, up to where they began (the word starts there). */
function lineToWord(s: State, lineBefore: string): string {
  return s.context === 'dquote' ? s.line.slice(0, s.quoteStart) : lineBefore;
}

/**
 * An expansion still open where `text` ends that bash evaluates as arithmetic: an array
 * subscript (`${a[`, `${#a[`, bash's `$[`, and at the command level, `plain`, an assignment's
 * `a[` or `a=( [`; not an array the template declares -A, whose subscripts are strings), a
 * `$((` (in double quotes or a here-document; in plain shell that is the `arith` context), a
 * substring's offset or length (`${v:N:M}`; not `${v:-word}`, `:=`, `:+` or `:?`, whose word is
 * quote-removed as usual), or a `${n:=default}` for a name declared -i.
 */
function expansionPlace(text: string, plain: boolean, s: Pick<State, 'integers' | 'associative'>): string | undefined {
  const subscript = openSubscript(text, plain);
  if (subscript !== undefined && !s.associative.has(subscript)) return SUBSCRIPT_PLACE;
  if (ARITHMETIC_OPEN.test(text)) return ARITHMETIC;
  if (/\$\{(?:[A-Za-z_]\w*|\d+|[@*])(?:\[[^\]]*\])?:(?![-=+?])[^}]*$/.test(text)) return 'in a ${name:offset:length}, whose offset and length bash evaluates as arithmetic (running a $(...) in the value)';
  const defaulted = /\$\{([A-Za-z_]\w*):?=[^}]*$/.exec(text)?.[1];
  if (defaulted && s.integers.has(defaulted)) return `in a \${${defaulted}:=...} default, assigned to ${defaulted}, declared -i in this template, which bash evaluates as arithmetic (running a $(...) in the value)`;
  return undefined;
}

/**
 * A word starting where `line` ends (`start`: up to where that word starts) that bash evaluates
 * as arithmetic (arithmeticWord), or reads as a variable name, whose array subscript it
 * evaluates: after `-v` of `[[`, `[`, `test` or `printf`, `read`'s names, a name given to
 * `declare`/`typeset`/`local`/`unset`, and an assignment declared `-n` (a name reference).
 */
function wordPlace(line: string, start: string, inTest: boolean, integers: ReadonlySet<string>): string | undefined {
  const arithmetic = arithmeticWord(line, integers);
  if (arithmetic) return arithmetic;
  // printf takes -v only before its format; [ and test anywhere among their operands
  if ((inTest && /\s-v\s+$/.test(start)) || NAME_AFTER_V.test(lastCommand(start))) {
    return 'after -v ([[ -v ]], [ -v ], test -v, printf -v), where bash reads a variable name and evaluates an array subscript in it (running a $(...) in the value)';
  }
  const named = nameOperand(lastCommand(start));
  if (named) return named;
  if (/(?:^|[;&|(){}])\s*(?:declare|typeset|local)\s+(?:-\w+\s+)*-\w*n\w*\s[^;&|\n]*$/.test(line)) return 'in an assignment declared -n (a name reference: bash evaluates an array subscript in the name it holds, running a $(...) in the value)';
  return undefined;
}

/**
 * A word starting where `line` ends that bash evaluates as arithmetic: an argument of `let`, an
 * assignment by `declare`/`typeset`/`local` with `-i`, or to a name the template declares `-i`
 * on any line.
 */
function arithmeticWord(line: string, integers: ReadonlySet<string>): string | undefined {
  if (/(?:^|[;&|(){}])\s*let\s[^;&|\n]*$/.test(line)) return 'in the arguments of let, which bash evaluates as arithmetic (running a $(...) in the value)';
  // one rule for `declare -i n={{q x}}` and for `n={{q x}}` anywhere else: declaredNames holds n either way
  const assigned = ASSIGNMENT.exec(simpleCommand(line))?.[1];
  if (assigned && integers.has(assigned)) return `in an assignment declared -i (to ${assigned}, in this template), which bash evaluates as arithmetic (running a $(...) in the value)`;
  return undefined;
}

/**
 * A word that starts where bash takes a variable name (and evaluates its array subscript): an
 * operand of `read` (not an option's argument, not a redirection's word, not `-a`'s array), a
 * name (not a value after `=`) given to `declare`, `typeset` or `local`, or one given to `unset`
 * (not with `-f`, which unsets functions).
 */
function nameOperand(command: string): string | undefined {
  const m = NAME_TAKER.exec(command);
  if (!m) return undefined;
  const list = words(m[2]!);
  const previous = list.at(-1) ?? '';
  if (m[1] === 'unset') {
    // unset -f takes function names, which have no subscript
    return list.some((w) => /^-[a-z]*f[a-z]*$/.test(w)) ? undefined : 'as a name given to unset, whose array subscript bash evaluates (running a $(...) in the value)';
  }
  if (m[1] !== 'read') return `as a name given to ${m[1]}, whose array subscript bash evaluates (running a $(...) in the value): give a value after "=" instead`;
  if (/^-[A-Za-z]*[pdtnNuia]$/.test(previous) || /[<>]$/.test(previous)) return undefined;
  return 'as a name read assigns to, whose array subscript bash evaluates (running a $(...) in the value)';
}

const VARIABLE_CODE_HOW = 'keep the code fixed and let it expand the variable itself, where it is data: sh -c \'printf "%s" "$LVSPLAY_VAR_<name>"\' (single quotes: the inner shell reads the value, it does not parse it as code) (docs/playbooks.md)';
const CODE_HOW = 'keep the code fixed and let it read the value as data, e.g. sh -c \'printf "%s" "$1"\' sh {{q VALUE}}, or "$LVSPLAY_VAR_<name>" inside the code (docs/playbooks.md)';

/**
 * Places where the shell runs a word as code, so that a value there, quoted or not, is a command:
 * `eval`'s arguments (eval joins them and parses the result again: `eval echo 'a;cmd'` runs cmd),
 * the command string after a shell's `-c` (`sh -c`, `bash -ec`, `/bin/sh -c`, also behind `sudo`,
 * `env`, `find -exec`...: a shell's name followed by its options only), the `-c`/`--command` of
 * `su`, `runuser`, `flock` and `script` (each hands it to a shell), ssh's remote command (every word
 * after the destination: ssh joins them and the remote shell parses the result), `env -S`'s
 * string (env splits it into a command line and runs it), `trap`'s action
 * (its first operand), the callback of `mapfile`/`readarray -C`, an `alias`'s text, `watch`'s
 * command (not with -x), GNU parallel's command (before `:::`, not with -q), an ssh `-o` that
 * is a whole option or one that runs a command, a git `-c` that is a whole setting or one git
 * runs as a command, a command tar runs, and an
 * assignment to a variable bash expands again (EXPANDED_VARIABLES) or other programs run as a
 * command (COMMAND_VARIABLES), in the shell or given to `env` or `sudo`. A value
 * after the command string (`sh -c 'code' sh {{q x}}`, its $0 and $1), ssh's destination and
 * option arguments, and a trap's signal stay data. Another interpreter's program text (awk's
 * program, sed's script, perl -e, python -c...: program-text.ts) is code too.
 */
function codePlace(command: string): string | undefined {
  if (EVAL.test(command)) return "in eval's arguments, which eval joins and runs as shell code (the quotes are removed first)";
  if (SHELL_C.test(command) || COMMAND_OPTION.test(command)) return 'as the command string of a shell\'s -c, which that shell runs as code';
  if (SSH_COMMAND.test(command)) return "in ssh's remote command, which ssh joins and the remote shell runs as code";
  if (ENV_SPLIT.test(command)) return "as env -S's string, which env splits into a command and its arguments and runs";
  if (TRAP_ACTION.test(command)) return "as trap's action, which the shell runs as code when the signal comes";
  if (MAPFILE_C.test(command)) return "as mapfile's -C callback, which bash runs as code";
  if (ALIAS.test(command)) return "in alias's arguments, whose text the shell runs as code where the alias is used";
  if (WATCH.test(command) && !/\s(?:-[A-Za-z]*x|--exec)\s/.test(command)) return 'in the command of watch, which watch hands to sh -c (unless -x)';
  if (PARALLEL_COMMAND.test(command) && !/\s(?:-[A-Za-z]*q|--quote)\s/.test(command)) return 'in the command of parallel (before :::), which GNU parallel hands to a shell (unless -q); its arguments after ::: are quoted for it';
  const program = programOf(command);
  if (program) return `as the program text of ${program}, which runs it as code (a value is data only where the program reads it: awk -v, a file, an argument)`;
  if (SSH_OPTION.test(command)) return 'as an ssh option that can be ProxyCommand, LocalCommand or RemoteCommand, which run as shell code';
  if (TAR_COMMAND.test(command)) return 'as a command tar runs through sh -c (--to-command, -I/--use-compress-program, --checkpoint-action=exec=)';
  if (GIT_CONFIG.test(command)) return "as a git -c setting, or the value of one git runs as a shell command (core.sshCommand, core.pager, core.editor, alias.NAME with '!'...)";
  const assigned = ASSIGNMENT.exec(command)?.[1] ?? ENV_ASSIGNMENT.exec(command)?.[1];
  if (assigned && EXPANDED_VARIABLES.has(assigned)) return `in an assignment to ${assigned}, whose value bash expands again (running a $(...) in it)`;
  if (assigned && COMMAND_VARIABLES.has(assigned)) return `in an assignment to ${assigned}, whose value programs run as a shell command (git, less, man, systemctl, crontab -e)`;
  return undefined;
}

/**
 * A redirection with its target word complete (a blank after it): `2>&1`, `> /dev/null`, `&>>log`,
 * `<&0`; not a here-string or here-document (`<<<`, `<<`), and not one whose target is the value
 * being read.
 */
const REDIRECTION = /(?<=^|\s)\d*(?:&>>?|>>|>&|>\||<&|<>|>|<(?!<))\s*[^\s<>]+(?=\s)/g;

/** A here-string (`<<< {{q x}}`) given to a command that evaluates its standard input (inputUse). */
function hereStringPlace(command: string, integers: ReadonlySet<string>): InputUse | undefined {
  const stage = /^(.*)<<<\s*$/.exec(command)?.[1];
  return stage === undefined ? undefined : inputUse(stage, integers);
}

/**
 * The array whose subscript is still open where `text` ends ('' for bash's `$[` or a word that is
 * no name), or undefined: a `[` with no `]` after it, in a parameter expansion (`${a[`, `${#a[`,
 * `${!a[`) or `$[`, and at the command level (`plain`) also in a compound assignment (`a=( [`)
 * or after a word (`a[`), blanks and other text before the value included. It looks back from
 * the last `[`s only, not along the line: every value on a long line asks.
 */
function openSubscript(text: string, plain: boolean): string | undefined {
  for (let k = text.indexOf('[', text.lastIndexOf(']') + 1); k >= 0; k = text.indexOf('[', k + 1)) {
    const before = text.slice(Math.max(0, k - LOOK_BACK), k);
    if (before.endsWith('$')) return '';
    const name = NAME_AT_END.exec(before)?.[0];
    if (name !== undefined && /\$\{[#!]?$/.test(before.slice(0, -name.length))) return name;
    if (!plain) continue;
    const open = text.lastIndexOf('(', k);
    const compound = open > text.lastIndexOf(')', k) ? ASSIGNED_AT_END.exec(text.slice(Math.max(0, open - LOOK_BACK), open))?.[1] : undefined;
    if (compound !== undefined) return compound;
    if (name !== undefined) return name;
    if (/\w$/.test(before)) return '';
  }
  return undefined;
}

/** How far back openSubscript reads for a name (a longer one is cut, taken for no declared array: refused, on the safe side). */
const LOOK_BACK = 256;
const NAME_AT_END = /[A-Za-z_]\w*$/;
/** `NAME=` or `NAME+=` where a text ends: the `(` after it opens an array's list. */
const ASSIGNED_AT_END = /([A-Za-z_]\w*)\+?=$/;
/** A `$((` whose parentheses are not all closed (two levels of parentheses inside it followed). */
const ARITHMETIC_OPEN = /\$\(\((?:[^()]|\((?:[^()]|\([^()]*\))*\))*$/;
/** `[`, `test` or `printf` whose last word is `-v` (printf takes it only before its format). */
const NAME_AFTER_V = new RegExp(`${COMMAND_START}(?:(?:\\[|test)\\s(?:.*\\s)?|printf\\s+)-v\\s+$`);
/** An assignment's value under way: `NAME=`, `NAME+=1+` or `NAME[i]=`, alone or given to declare, typeset, local, export or readonly. */
const ASSIGNMENT = new RegExp(`${COMMAND_START}(?:(?:declare|typeset|local|export|readonly)\\s+(?:\\S+\\s+)*)?([A-Za-z_]\\w*)(?:\\[[^\\]]*\\])?\\+?=\\S*$`);
/** `for NAME in` or `select NAME in`, and its words so far: NAME takes each word in turn. */
const LOOP_WORDS = new RegExp(`${COMMAND_START}(?:for|select)\\s+([A-Za-z_]\\w*)\\s+in\\s(?:.*\\s)?$`);

/**
 * The variable a word starting at the end of `line` ends up in: an assignment's value (`y=`,
 * `local y=`, `export y=pre`), a word of a `for`/`select` list, any word after `printf -v y`, or
 * an element of an array assignment (`a=( x `). What that word holds, that variable holds.
 */
function receiver(line: string): string | undefined {
  const command = simpleCommand(line);
  return ASSIGNMENT.exec(command)?.[1] ?? LOOP_WORDS.exec(command)?.[1] ?? PRINTF_V.exec(command)?.[1] ?? ARRAY_VALUE.exec(unquoted(line))?.[1];
}

/** `printf -v NAME` and words after it: printf writes them, formatted, to NAME. */
const PRINTF_V = new RegExp(`${BUILTIN_START}printf\\s+-v\\s*([A-Za-z_]\\w*)\\s`);
/** An array assignment's list still open: `a=( x `, `local a+=(`. */
const ARRAY_VALUE = /(?:^|[\s;&|(){}])([A-Za-z_]\w*)\+?=\([^()]*$/;

/** `read`, `declare`, `typeset`, `local` or `unset`, its words so far, and a word starting. */
const NAME_TAKER = new RegExp(`${COMMAND_START}(read|declare|typeset|local|unset)((?:\\s+\\S+)*)\\s+$`);

const EVAL = new RegExp(`${BUILTIN_START}eval\\s`);
/** A shell option: `-e`, `+x`, `--`, `--norc`, or one taking a word (`-o NAME`, `-O NAME`, `--rcfile FILE`). */
const SHELL_OPTION = '(?:[-+][oO]\\s+\\S+|--(?:rcfile|init-file)\\s+\\S+|[-+][-\\w]*)\\s+';
/** A shell's name (maybe a path; `$SHELL` or `$BASH` too), then only options, `-c` among them (in a cluster too): the next word is the command string. */
const SHELL_C = new RegExp(`(?:^|\\s)(?:\\S*/)?(?:${SHELL_NAMES})\\s+(?:${SHELL_OPTION})*?-[A-Za-z]*c[A-Za-z]*\\s+(?:${SHELL_OPTION})*$`);
/** `su`, `runuser`, `flock` or `script` with its `-c` (in a cluster too) or `--command`: a command they hand to a shell. */
const COMMAND_OPTION = /(?:^|\s)(?:\S*\/)?(?:su|runuser|flock|script)\s(?:.*\s)?(?:-[A-Za-z]*c|--command)(?:\s+|=)$/;
/** ssh, its options, its destination, and any words after it. */
const SSH_COMMAND = new RegExp(`(?:^|\\s)(?:\\S*/)?ssh\\s+${SSH_OPTIONS}(?:--\\s+)?[^-\\s]\\S*\\s(?:.*\\s)?$`);
/** `env` with `-S`/`--split-string` whose string starts here. */
const ENV_SPLIT = /(?:^|\s)(?:\S*\/)?env\s(?:.*\s)?(?:-[A-Za-z]*S\s*|--split-string(?:=|\s+))$/;
/** `trap`, its options (`--`), and its first operand starting. */
const TRAP_ACTION = new RegExp(`${BUILTIN_START}trap\\s+(?:-\\S*\\s+)*$`);
const MAPFILE_C = /(?:^|\s)(?:mapfile|readarray)\s(?:.*\s)?-[A-Za-z]*C\s*$/;
const ALIAS = new RegExp(`${BUILTIN_START}alias\\s`);
/** `watch` and its words so far: the command it runs (its words joined) starts after its options. */
/**
 * GNU `parallel` and its words so far, none of them `:::` or `::::` (after those come arguments,
 * which parallel quotes), not right after an option that takes a word (`-j 4`, `--joblog FILE`).
 */
const PARALLEL_COMMAND = new RegExp(`${COMMAND_START}(?:\\S*/)?parallel\\s(?:(?!:::)\\S+\\s+)*(?<!\\s(?:-[jPSadEIiLlNnsC]|--(?:jobs|arg-file|delimiter|timeout|delay|joblog|results|tmpdir|sshlogin|workdir|colsep|header|tagstring|retries|memfree|load|env))\\s+)$`);
const WATCH = new RegExp(`${COMMAND_START}(?:\\S*/)?watch\\s(?:.*\\s)?(?<!\\s-[nq]\\s+|\\s--(?:interval|equexit)\\s+)$`);
/** tar with an option whose word is a command it runs with `sh -c`, that word starting here (attached, after `=`, or the next word). */
const TAR_COMMAND = /(?:^|\s)(?:\S*\/)?tar\s(?:.*\s)?(?:--(?:to-command|use-compress-program)(?:=|\s+)|--checkpoint-action(?:=|\s+)exec=|-[A-Za-z]*I\s*)$/;
/**
 * git with `-c` whose setting starts here (any setting), or whose value starts after a key git
 * runs as a command: the ssh command, pager, editor, fsmonitor, askpass, external diff,
 * credential helper, gpg program, hooks path, an alias (`!` makes it shell).
 */
const GIT_CONFIG = /(?:^|\s)(?:\S*\/)?git\s(?:.*\s)?-c\s*(?:(?:core\.(?:sshcommand|pager|editor|fsmonitor|askpass|hookspath)|sequence\.editor|diff\.external|credential\.helper|gpg\.program|pager\.\S+|alias\.\S+)=\S*)?$/i;
/** ssh, scp or sftp with `-o` whose value starts here (any option) or after a keyword that runs a command. */
const SSH_OPTION = /(?:^|\s)(?:\S*\/)?(?:ssh|scp|sftp)\s(?:.*\s)?-o\s*(?:(?:ProxyCommand|LocalCommand|RemoteCommand)(?:\s*=\s*|\s+)\S*)?$/i;
/** `env` or `sudo` (its environment for the command it runs) and a `NAME=` among its words, its value starting here. */
const ENV_ASSIGNMENT = /(?:^|\s)(?:\S*\/)?(?:env|sudo|doas)\s(?:.*\s)?([A-Za-z_]\w*)=\S*$/;
/**
 * Variables whose value bash expands again where it uses it, `$(...)` included: the prompts
 * (PS4 is printed by `set -x`), PROMPT_COMMAND (run as code), BASH_ENV and ENV (a start-up file's
 * name, expanded first).
 */
const EXPANDED_VARIABLES: ReadonlySet<string> = new Set(['PS0', 'PS1', 'PS2', 'PS4', 'PROMPT_COMMAND', 'BASH_ENV', 'ENV']);
/** Environment variables whose value the programs that read them hand to `sh -c`: an editor, a pager, git's ssh, less's input filter. */
const COMMAND_VARIABLES: ReadonlySet<string> = new Set(['GIT_SSH_COMMAND', 'GIT_PAGER', 'GIT_EDITOR', 'GIT_SEQUENCE_EDITOR', 'PAGER', 'MANPAGER', 'SYSTEMD_PAGER', 'EDITOR', 'VISUAL', 'SUDO_EDITOR', 'LESSOPEN', 'LESSCLOSE']);

/**
 * The last simple command of a line: what follows its last `;`, `&`, `|`, parenthesis or brace
 * outside quotes (a quoted word counts as the one word `x`, so `eval 'a;b' ` stays one command).
 */
function simpleCommand(line: string): string {
  return lastCommand(unquoted(line));
}

/** The last simple command of a line `unquoted` gave (or a part of one, as wordStart gives). */
function lastCommand(text: string): string {
  let k = text.length;
  while (k > 0 && !(COMMAND_BREAKS.has(text.charCodeAt(k - 1)) && !inRedirection(text[k - 2], text[k - 1]!, text[k]))) k--;
  return text.slice(k);
}

/** Whether `c`, between `before` and `after`, is the `&` of a redirection (`2>&1`, `<&0`, `&>file`, `&>>file`), which ends no command. */
function inRedirection(before: string | undefined, c: string, after: string | undefined): boolean {
  return c === '&' && (before === '>' || before === '<' || after === '>');
}

/** `;&|(){}`, as character codes (read back along the line for each value: no string per character). */
const COMMAND_BREAKS: ReadonlySet<number> = new Set([...';&|(){}'].map((c) => c.charCodeAt(0)));

/**
 * The line up to where the value's word starts (quoted words as `x`, as unquoted gives them): a
 * value joined to the text before it is part of that word, and the word is judged by its place
 * (`sh -c 'echo '{{q x}}` is -c's command string, `trap 'rm '{{q x}} EXIT` the action,
 * `read 'a'{{q x}}` a name). Not when that word is an assignment (`x={{q v}}`: its value, which
 * the assignment rules judge) or an option with its argument attached (`-p{{q v}}`).
 */
function wordStart(line: string): string {
  const text = unquoted(line);
  let k = text.length;
  while (k > 0 && !isBlank(text.charCodeAt(k - 1))) k--;
  const joined = text.slice(k);
  return joined && !/^-|=/.test(joined) ? text.slice(0, k) : text;
}

/** Whether a character code is one `\s` matches (ASCII first: this runs back along a line). */
function isBlank(code: number): boolean {
  return code === 32 || (code >= 9 && code <= 13) || (code > 127 && /\s/.test(String.fromCharCode(code)));
}

/**
 * A line with each quoted word before the value as the one word `x`, and each expansion closed
 * before it (`$( )`, `${ }`, backquotes) as `x` too: what is inside them opens or ends nothing
 * (`eval ${cmd} {{q x}}` is one command, not one ended by the `}`).
 */
function unquoted(line: string): string {
  // one value's rules ask for the same line, and for what this gave (which it gives back as it
  // is), several times over: on a long line that was most of the check's time
  for (let k = 0; k < unquotedSeen.length; k += 2) if (unquotedSeen[k] === line) return unquotedSeen[k + 1]!;
  // a quoted variable alone (`"$SHELL"`, `"${h}"`) stays the variable it names, any other quoted word is x
  const text = closedExpansions(line.replace(/'[^']*'|"(?:[^"\\]|\\.)*"/g, (word) => (word.startsWith('"') ? aloneOr(word.slice(1, -1)) : 'x')));
  unquotedSeen.unshift(line, text, text, text);
  unquotedSeen.length = Math.min(unquotedSeen.length, 8);
  return text;
}

/**
 * A text with each `$(...)`, `${...}` and `` `...` `` that closes in it as `x` (nested ones
 * inside it too); one still open stays as it is, the value being read may be in it. One pass.
 */
function closedExpansions(text: string): string {
  if (!text.includes('$') && !text.includes('`')) return text;
  let out = '';
  let copied = 0;
  const open: { at: number; closer: string }[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    const top = open.at(-1);
    if (top && c === top.closer) {
      open.pop();
      if (open.length === 0) {
        // `${NAME}` stays the variable it names (`${SHELL} -c` is a shell); any other is the word x
        out += text.slice(copied, top.at) + aloneOr(text.slice(top.at, i + 1));
        copied = i + 1;
      }
    } else if (c === '`' && !(top && top.closer === '`')) open.push({ at: i, closer: '`' });
    else if (top?.closer !== '`' && c === '$' && (text[i + 1] === '(' || text[i + 1] === '{')) {
      open.push({ at: i, closer: text[i + 1] === '(' ? ')' : '}' });
      i++;
    } else if (top && top.closer !== '`' && (c === '(' || c === '{')) open.push({ at: i, closer: c === '(' ? ')' : '}' });
  }
  return out + text.slice(copied);
}

/** `$NAME` for a text that is that variable alone (`$NAME`, `${NAME}`), else the word `x`. */
function aloneOr(text: string): string {
  const m = VARIABLE_ALONE.exec(text);
  return m ? `$${m[1] ?? m[2]}` : 'x';
}

const VARIABLE_ALONE = /^\$(?:([A-Za-z_]\w*)|\{([A-Za-z_]\w*)\})$/;

/** unquoted's last inputs, each followed by what it gave, newest first. */
const unquotedSeen: string[] = [];

function pathName(path: hbs.AST.Expression): string {
  return path.type === 'PathExpression' ? (path as hbs.AST.PathExpression).original : path.type;
}

function at(node: hbs.AST.Node, message: string): ShellProblem {
  return { line: node.loc.start.line, column: node.loc.start.column, message };
}

function snapshot(state: State): string {
  return JSON.stringify([state.context, state.escaped, state.pending, state.heredoc ?? null, state.parens, state.test?.from ?? null, state.substitutions.map(({ lines, ...open }) => open), state.inner, state.braces, state.expansions]);
}

function restore(state: State, text: string): void {
  const [context, escaped, pending, heredoc, parens, testFrom, substitutions, inner, braces, expansions] = JSON.parse(text) as [Context, boolean, HeredocPending[], HeredocPending | null, number, number | null, Omit<Substitution, 'lines'>[], State['inner'], number, number];
  // the lines read so far stay (a case in any branch counts)
  state.substitutions = substitutions.map((open, k) => ({ ...open, lines: state.substitutions[k]?.lines ?? '' }));
  state.inner = inner;
  state.braces = braces;
  state.expansions = expansions;
  state.context = context;
  state.escaped = escaped;
  state.pending = pending;
  state.parens = parens;
  // the {{q}} a branch found in a [[ ]] stay with it, to be judged at its ]]
  if (testFrom === null) delete state.test;
  else state.test = { from: testFrom, values: state.test?.values ?? [] };
  if (heredoc) state.heredoc = heredoc;
  else delete state.heredoc;
}

/** The word `case` where a command can start. */
const CASE_WORD = /(?:^|[\s;&|(])case\s/;

/** A line ending in a `$` no backslash escapes: a quote after it opens bash's `$'...'`. */
const UNESCAPED_DOLLAR = /(?:^|[^\\])(?:\\\\)*\$$/;

/** Characters after which a `#` starts a comment (a word start). */
const WORD_BREAK = /(^|[\s;&|()<>])$/;

/** Where an offset of a template's text is: line and column, as the problems give them. */
type Place = (offset: number) => { line: number; column: number };

/**
 * A Place for one piece of the template's text, asked for offsets in increasing order: one pass
 * over it in all. Offsets are in the text the check reads (`value`), from which Handlebars has
 * taken the blanks of a line holding only a block's tag (`{{#if x}}` alone on its line);
 * `loc` is where the unstripped text (`original`) starts, so the offset is moved by what went.
 */
function placer(content: hbs.AST.ContentStatement): Place {
  const original: unknown = content.original; // typed StripFlags; the parser sets the unstripped text
  const text = typeof original === 'string' ? original : content.value;
  const stripped = leadingBlanks(text) - leadingBlanks(content.value);
  let line = content.loc.start.line;
  let lineStart = -1; // the last newline before the offset; -1 while on the piece's first line
  let seen = 0;
  return (offset) => {
    const at = offset + stripped;
    for (; seen < at; seen++) {
      if (text[seen] === '\n') {
        line++;
        lineStart = seen;
      }
    }
    return { line, column: lineStart < 0 ? content.loc.start.column + at : at - lineStart - 1 };
  };
}

function leadingBlanks(text: string): number {
  return text.length - text.trimStart().length;
}

function scan(text: string, s: State, place: Place, problems: ShellProblem[]): void {
  const problem = (offset: number, message: string): void => void problems.push({ ...place(offset), message });
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\n' && s.escaped) {
      // A backslash-newline joins the lines (plain shell, "double quotes", `backquotes`): one line for the shell, so one here.
      s.escaped = false;
      continue;
    }
    if (c === '\n') {
      newline(s);
      continue;
    }
    const lineBefore = s.line;
    const from = i;
    const before = s.context;
    let stream: string | undefined; // what goes to `code` for this character, when not the text itself
    s.line += c;
    if (s.escaped) {
      s.escaped = false;
      if (before === 'plain') s.code += 'x'; // an escaped character is part of a word (`\|` is no pipe)
      // bash ends `$'a\' b'` at its last quote, sh (dash) reads `$` then `'a\'` and ends it at the
      // second: the two disagree on what is quoted after it, so no reading of the template is safe.
      if (s.context === 'ansi' && c === "'") problem(i, "an escaped quote (\\') inside $'...': bash ends the quotes elsewhere than sh does; write the quote as \\x27");
      continue;
    }
    // a name written out where bash may evaluate it (arithmetic reads names bare); not one after a `$`, `${` or inside another word
    if (NAME_START.test(c) && EVALUATING[s.context] && (s.context !== 'heredoc' || s.heredoc!.mark !== undefined) && !NAME_BEFORE.test(lineBefore.slice(-3))) bareName(text, i, s, lineBefore, place, problems);
    switch (s.context) {
      case 'plain':
        if (c === '\\') s.escaped = true;
        else if (c === '$') variable(text, i, s, lineBefore, place, problems);
        else if (c === "'") {
          s.context = UNESCAPED_DOLLAR.test(lineBefore) ? 'ansi' : 'squote';
          s.quoteStart = lineBefore.length;
        }
        else if (c === '"') {
          s.context = 'dquote';
          s.quoteStart = lineBefore.length;
          s.braces = 0;
        }
        else if (c === '`') s.context = 'bquote';
        else if (c === '#' && WORD_BREAK.test(lineBefore)) s.context = 'comment';
        else if (c === '[' && text[i + 1] === '[' && /[ \t]/.test(text[i + 2] ?? '') && WORD_BREAK.test(lineBefore)) s.test = { from: lineBefore.length, values: [] };
        else if (c === ']' && text[i + 1] === ']' && s.test) {
          if (/\s-(?:eq|ne|lt|le|gt|ge)\s/.test(s.line.slice(s.test.from))) s.late.push(...s.test.values);
          delete s.test;
        } else if (c === '(' && text[i + 1] === '(') {
          // `$((` and bash's `((`: arithmetic up to the parenthesis that closes the first
          s.context = 'arith';
          s.parens = 2;
          s.line += '(';
          i++;
        }
        else if (c === '{' && UNESCAPED_DOLLAR.test(lineBefore)) {
          s.expansions++;
          stream = 'x';
        }
        else if (c === '}' && s.expansions > 0) {
          s.expansions--;
          stream = 'x';
        }
        else if (c === '(' && UNESCAPED_DOLLAR.test(lineBefore)) {
          s.substitutions.push(substitution(lineBefore.slice(0, -1), s.integers));
          // its whole text is one group, whose output the sink gets: lines in it end no pipeline into it
          if (s.substitutions.at(-1)!.code) stream = '({ ';
        }
        else if (c === '(' && s.substitutions.length > 0) s.substitutions.at(-1)!.depth++;
        else if (c === ')' && s.substitutions.length > 0 && --s.substitutions.at(-1)!.depth === 0) {
          const open = s.substitutions.pop()!;
          if (open.code) stream = `\n} | ${CODE_SINK})`;
          if (open.quotes) {
            // back in the double quotes around it, whose line reads `$()` for it; a case pattern's
            // `)` would have ended it here, where the shell goes on: the two would disagree on what is quoted after it
            if (CASE_WORD.test(open.lines + s.line)) problem(i, 'a case command inside "$( )": the check cannot tell its patterns\' ")" from the one that ends the $( ); set a variable with the case outside the quotes and use that');
            s.context = 'dquote';
            s.line = `${open.quotes.line})`;
            s.quoteStart = open.quotes.start;
            s.braces = open.quotes.braces;
            stream ??= ')';
          }
        }
        else if (c === '<' && text.startsWith('<<', i + 1)) {
          // a here-string, `<<<`: one word follows, no here-document (its last two `<` are no `<<`)
          s.line += '<<';
          i += 2;
        } else if (c === '<' && text[i + 1] === '<') {
          const parsed = heredocOperator(text, i + 2);
          if (typeof parsed === 'string') problem(i, parsed);
          else {
            // a body the shell expands is its command's input, which a variable in it may fill: to the flow, `< <(value)`
            const mark = parsed.expands ? s.values.push(undefined) - 1 : undefined;
            s.pending.push({ ...parsed.heredoc, ...(mark !== undefined && { mark }) });
            s.line += text.slice(i + 1, parsed.end);
            if (mark !== undefined) stream = ` < <(${valueMark(mark)}) `;
            i = parsed.end - 1;
          }
        } else if ((c === ';' || c === '&' || c === '|') && !inRedirection(lineBefore.at(-1), c, text[i + 1])) commandBreak(s);
        break;
      case 'squote':
        if (c === "'") s.context = 'plain';
        break;
      case 'ansi':
        if (c === '\\') s.escaped = true;
        else if (c === "'") s.context = 'plain';
        break;
      case 'dquote':
        if (c === '\\') s.escaped = true;
        else if (c === '"') {
          // bash and dash open a quote nested in the ${ } there, where this lexer would end the outer ones
          if (s.braces > 0) problem(i, 'a double quote inside a ${...} that is inside double quotes: the shell (bash, dash) reads it as a quote nested in the expansion, not as the end of the outer quotes, and this check does not follow that; leave the inner quotes out (inside double quotes the expansion is one word already: "${v:-$LVSPLAY_VAR_x}")');
          s.context = 'plain';
          s.inner.backquotes = false;
        }
        else if (c === '}' && s.braces > 0) s.braces--;
        else if (c === '`') s.inner.backquotes = !s.inner.backquotes;
        else if (c === '$' && text[i + 1] === '(' && text[i + 2] !== '(') {
          // a command substitution: plain shell inside the quotes, to the flow an unquoted `$( )` in this word
          s.substitutions.push(substitution(s.line.slice(0, s.quoteStart), s.integers, { line: `${s.line}(`, start: s.quoteStart, braces: s.braces }));
          s.context = 'plain';
          s.line = '';
          s.code += s.substitutions.at(-1)!.code ? '$({ ' : '$(';
          i++;
        }
        else if (c === '$') {
          if (text[i + 1] === '{') s.braces++;
          variable(text, i, s, lineBefore, place, problems);
        }
        break;
      case 'bquote':
        if (c === '\\') s.escaped = true;
        else if (c === '`') s.context = 'plain';
        else if (c === '$') variable(text, i, s, lineBefore, place, problems);
        break;
      case 'arith':
        if (c === '(') s.parens++;
        else if (c === ')' && --s.parens === 0) s.context = 'plain';
        else if (c === '$') variable(text, i, s, lineBefore, place, problems);
        break;
      case 'heredoc':
        if (s.heredoc!.mark === undefined) break;
        // an expanding body: `\$` is a literal dollar (a backslash before anything else, a newline too, is left alone)
        if (c === '\\' && /[$`\\]/.test(text[i + 1] ?? '')) s.escaped = true;
        else if (c === '$' && text[i + 1] === '(' && text[i + 2] !== '(') {
          s.inner.parens++;
          i++;
        }
        else if (c === '$') variable(text, i, s, lineBefore, place, problems);
        else if (c === '`') s.inner.backquotes = !s.inner.backquotes;
        else if (c === '(' && s.inner.parens > 0) s.inner.parens++;
        else if (c === ')' && s.inner.parens > 0) s.inner.parens--;
        break;
      case 'comment':
        break;
    }
    // plain text goes to `code` as it is (an operator read ahead with it); a quote, arithmetic or
    // backquotes opened here is one word `x`; a comment is left out
    // (the template's own text never holds what reads as a value's mark)
    if (before === 'plain' && c !== '\\') s.code += stream ?? (s.context === 'plain' ? text.slice(from, i + 1).replace(MARK_BYTES, 'x') : s.context === 'comment' ? '' : 'x');
  }
}

/**
 * After a `;`, `&` or `|` in plain shell, where a command ends: the line is read from here on, so
 * that the checks, which read the line's last command, cost one pass over a long line and not one
 * per value on it. Not inside a `[[ ]]` (read whole at its `]]`), nor where a `${` or a `[` is open
 * (there `|` and `&` are arithmetic, `${a[1|$x]}`, and the subscript rules read back to the `[`).
 */
function commandBreak(s: State): void {
  if (s.test || OPEN_BRACKET.test(unquoted(s.line))) return;
  // a case in the text let go still counts for the "$( )" around it
  const open = s.substitutions.at(-1);
  if (open) open.lines += s.line;
  s.line = '';
}

/** A `${` or a `[` not closed yet. */
const OPEN_BRACKET = /\$\{[^}]*$|\[[^\]]*$/;

/**
 * A `$(` opening where `before` (the line up to the word it is in) ends, inside double quotes
 * when `quotes` is given: the variable its output goes to, and whether that output is run as code.
 */
function substitution(before: string, integers: ReadonlySet<string>, quotes?: Substitution['quotes']): Substitution {
  const receiving = receiver(before);
  const code = runPlace('', lastCommand(wordStart(before)), integers) !== undefined;
  return { depth: 1, lines: '', ...(quotes && { quotes }), ...(receiving && { receiver: receiving }), ...(code && { code }) };
}

/** A value in the open `$( )`: the variables their output goes to hold it. */
function receive(s: State): void {
  for (const open of s.substitutions) if (open.receiver) s.tainted.add(open.receiver);
}

/** `$NAME` or `${NAME`, or a positional parameter (`$1`, `${10}`, `$@`, `$*`), at an offset where a `$` is. */
const VARIABLE = /\$\{?([A-Za-z_]\w*|[1-9]\d*|[@*])/y;
/** `${!NAME` (indirection: the variable NAME's value names the one expanded), not `${!NAME[@]}`, `${!PREFIX*}` or `${!PREFIX@}` (lists of names and keys). */
const INDIRECT = /\$\{!([A-Za-z_]\w*|[1-9]\d*)(?!\w|\[[@*]\]|[@*])/y;
/** `@P` (maybe after a subscript) right after a `${NAME`: bash expands the value as it does a prompt, `$(...)` included. */
const PROMPT_EXPANSION = /(?:\[[^\]]*\])?@P/y;
/** A positional parameter's name: all of them hold a value when `tainted` has POSITIONAL. */
const POSITIONAL_NAME = /^[1-9@*]/;
/** A name written out, at an offset where one starts. */
const NAME = /[A-Za-z_]\w*/y;
const NAME_START = /[A-Za-z_]/;
/** What the three characters before a name end with when it is not a name on its own: part of a word, or after `$`, `${`, `${#`, `${!`. */
const NAME_BEFORE = /(?:[\w$]|\$\{[#!]?)$/;
/** The contexts where a name written out can be evaluated (a here-document's body only when it expands). */
const EVALUATING: Record<Context, boolean> = { plain: true, dquote: true, heredoc: true, arith: true, squote: false, bquote: false, comment: false, ansi: false };

/** Whether a variable holds a value: `LVSPLAY_VAR_*`, a name in `tainted`, or a positional parameter once they hold one. */
function holds(s: State, name: string): boolean {
  return name.startsWith('LVSPLAY_VAR_') || s.tainted.has(POSITIONAL_NAME.test(name) ? POSITIONAL : name);
}

/**
 * A variable expanded at `i` (a `$` in plain shell, double quotes or an expanding here-document
 * body) that holds a value: `$LVSPLAY_VAR_name`, or a name in `tainted`. Its text
 * is the value's, so the places that make a {{q}} code make it code too: judged here where the
 * word it is in starts (codePlace, a here-string), or marked in `code` for the flow (a pipe into
 * `sh`), or, in a here-document, given to the mark of the body.
 */
function variable(text: string, i: number, s: State, lineBefore: string, place: Place, problems: ShellProblem[]): void {
  INDIRECT.lastIndex = i;
  const pointer = INDIRECT.exec(text)?.[1];
  if (pointer !== undefined && holds(s, pointer)) {
    problems.push({ ...place(i), message: `\${!${pointer}}, whose value bash takes as the name of the variable to expand and evaluates an array subscript in (running a $(...) in the value); ${ARITHMETIC_HOW}` });
    return;
  }
  VARIABLE.lastIndex = i;
  const name = VARIABLE.exec(text)?.[1];
  if (name === undefined || !holds(s, name)) return;
  const what = `$${name}`;
  PROMPT_EXPANSION.lastIndex = VARIABLE.lastIndex;
  if (text[i + 1] === '{' && PROMPT_EXPANSION.test(text)) {
    problems.push({ ...place(i), message: `${text.slice(i, PROMPT_EXPANSION.lastIndex)}}, which expands the value as a prompt string does (running a $(...) in it); ${VARIABLE_CODE_HOW}` });
    return;
  }
  receive(s);
  if (s.context === 'bquote' || s.inner.parens > 0 || s.inner.backquotes) {
    // code the shell runs in a subshell of its own, which this check does not read
    const where = s.context === 'heredoc' ? 'inside a $( ) or `backquotes` in a here-document\'s body' : 'inside `backquotes`';
    problems.push({ ...place(i), message: `${what} ${where}, a command the shell runs whose code this check does not read; set a variable with $( ) before it, outside quotes or in "$( )", and use that` });
    return;
  }
  const evaluated = evaluatedPlace(s, lineBefore, false);
  if (evaluated) {
    problems.push({ ...place(i), message: `${what} ${evaluated}; ${ARITHMETIC_HOW}` });
    return;
  }
  if (s.context === 'heredoc') {
    const mark = s.heredoc!.mark!;
    s.values[mark] ??= { ...place(i), what, heredoc: true };
    return;
  }
  const start = lineToWord(s, lineBefore);
  const run = runPlace(what, lastCommand(wordStart(start)), s.integers);
  // a copy is the value too (`y="$x"`, `for y in $x`)
  const holder = receiver(start);
  if (holder) s.tainted.add(holder);
  if (run) problems.push({ ...place(i), message: run });
  else {
    if (s.test) s.test.values.push({ ...place(i), message: `${what} ${NUMERIC_TEST}; ${ARITHMETIC_HOW}` });
    s.code += valueMark(s.values.push({ ...place(i), what }) - 1);
  }
}

/**
 * A name written out bare at `i` that holds a value, where bash evaluates it as arithmetic
 * (`$(( n + 1 ))`, `${a[n]}`, `let m=n`, `[[ n -gt 1 ]]`): bash evaluates the name's value as an
 * expression in turn, as it does `$n`'s text there.
 */
function bareName(text: string, i: number, s: State, lineBefore: string, place: Place, problems: ShellProblem[]): void {
  NAME.lastIndex = i;
  const name = NAME.exec(text)![0];
  if (!holds(s, name)) return;
  const what = `${name} (a variable holding a value, written bare)`;
  const evaluated = evaluatedPlace(s, lineBefore, true);
  if (evaluated) problems.push({ ...place(i), message: `${what} ${evaluated}; ${ARITHMETIC_HOW}` });
  // in a [[ ]], `-n`, `-eq`... are its operators, not a name
  else if (s.test && s.context === 'plain' && !/(?:^|\s)-$/.test(lineBefore.slice(-2))) s.test.values.push({ ...place(i), message: `${what} ${NUMERIC_TEST}; ${ARITHMETIC_HOW}` });
  else if (s.context === 'plain' || s.context === 'dquote') {
    // a name reference given this name (`declare -n r=LVSPLAY_VAR_x`, or `r=x` for one declared -n) expands to its value
    const assigned = ASSIGNMENT.exec(simpleCommand(lineToWord(s, lineBefore)))?.[1];
    if (assigned && s.references.has(assigned)) s.tainted.add(assigned);
  }
}

function newline(s: State): void {
  const line = s.line;
  const open = s.substitutions.at(-1);
  if (open) open.lines += `${line}\n`;
  if (s.context === 'plain' || s.context === 'comment') s.code += '\n';
  // quotes go on past the line: what comes before them (`sh -c "`, `x="`) still judges a value in
  // them, or joined to them after they end (`sh -c 'echo` newline `'{{q x}}` is -c's string)
  s.line = s.context === 'dquote' || s.context === 'squote' || s.context === 'ansi' ? line.slice(0, s.quoteStart + 1) : '';
  s.escaped = false;
  if (s.context === 'heredoc') {
    const h = s.heredoc!;
    if ((h.stripTabs ? line.replace(/^\t+/, '') : line) !== h.delimiter) return;
    delete s.heredoc;
    s.inner = { parens: 0, backquotes: false };
    s.context = 'plain';
  }
  if (s.context === 'comment') s.context = 'plain';
  // A newline inside quotes is part of the quoted word; here-document bodies start after the
  // command line ends, which a quoted newline does not do.
  if (s.context === 'plain' && s.pending.length > 0) {
    s.heredoc = s.pending.shift()!;
    s.context = 'heredoc';
  }
}

/**
 * `<<[-] WORD` from just after `<<`: the delimiter (quotes removed) and whether the body expands;
 * or why it cannot be read. The shell's delimiter is the whole word up to a blank or an operator,
 * so a word this lexer cannot read whole (`<<$E`, `<<E%`, a delimiter from a mustache) would put
 * it out of step with the shell about where the body ends: refused.
 */
function heredocOperator(text: string, start: number): { heredoc: HeredocPending; end: number; expands: boolean } | string {
  let i = start;
  const stripTabs = text[i] === '-';
  if (stripTabs) i++;
  while (text[i] === ' ' || text[i] === '\t') i++;
  const word = /^(?:'[^'\n]*'|"[^"\n]*"|\\?[A-Za-z0-9_.-]+)+/.exec(text.slice(i));
  const end = i + (word?.[0].length ?? 0);
  if (!word || (end < text.length && !/[\s;&|<>()]/.test(text[end]!))) {
    return 'a here-document\'s delimiter must be written out as one plain word (letters, digits, "_", "." or "-"), quoted or not: the shell reads the whole word, and this one cannot be followed';
  }
  const delimiter = word[0].replace(/['"\\]/g, '');
  return { heredoc: { delimiter, stripTabs }, end, expands: delimiter === word[0] };
}
