/**
 * Where a shell template hands a word to another language's interpreter as its program: awk's
 * program, sed's script, `perl -e`, `python -c`, `node -e`, `ruby -e`, `php -r`, `lua -e`. A
 * `{{q}}` value there is code however it is quoted (awk's `system()`, sed's `e` command, any
 * statement in the others). Part of the shell-template check (shell-check.ts's codePlace): the
 * command given is the simple command up to where the value's word starts.
 */

/** perl/ruby `-e` (in a cluster: `-ne`, `-lpe`), python `-c`, node `-e`/`-p`/`--eval`/`--print`, php `-r`, lua `-e`: the next word. */
const PROGRAM_OPTION = [
  /(?:^|\s)(?:\S*\/)?(perl|ruby)[\d.]*\s(?:.*\s)?-[A-Za-z]*[eE]\s+$/,
  /(?:^|\s)(?:\S*\/)?(python)[\d.]*\s(?:.*\s)?-[A-Za-z]*c\s+$/,
  /(?:^|\s)(?:\S*\/)?(node|nodejs)\s(?:.*\s)?(?:-[ep]\s+|--(?:eval|print)(?:\s+|=))$/,
  /(?:^|\s)(?:\S*\/)?(php)[\d.]*\s(?:.*\s)?-r\s+$/,
  /(?:^|\s)(?:\S*\/)?(lua)[\d.]*\s(?:.*\s)?-e\s+$/,
];

/**
 * How awk and sed read their words: the options that take the next word (`-F :`, `-v a=1`, sed's
 * `-ne`), those whose next word is the program, and every form that gives the program or a
 * program file (so no operand is the program), attached arguments included.
 */
interface Syntax {
  takesArgument: RegExp;
  programArgument: RegExp;
  givesProgram: RegExp;
}

const AWK: Syntax = {
  takesArgument: /^(?:-[FvfeilW]|--(?:field-separator|assign|file|source|include|load))$/,
  programArgument: /^(?:-e|--source)$/,
  givesProgram: /^-[fe]|^--(?:file|source)(?:=|$)/,
};
const SED: Syntax = {
  takesArgument: /^(?:-[nrsuzE]*[efl]|--(?:expression|file|line-length))$/,
  programArgument: /^(?:-[nrsuzE]*e|--expression)$/,
  givesProgram: /^-[nrsuzE]*[ef]|^--(?:expression|file)(?:=|$)/,
};

/** The interpreter whose program the word starting at the end of `command` is, if it is one. */
export function programOf(command: string): string | undefined {
  for (const option of PROGRAM_OPTION) {
    const name = option.exec(command)?.[1];
    if (name) return name;
  }
  const awk = /(?:^|\s)(?:\S*\/)?([gmn]?awk)\s+((?:\S+\s+)*)$/.exec(command);
  if (awk && programWord(words(awk[2]!), AWK)) return awk[1];
  const sed = /(?:^|\s)(?:\S*\/)?(sed)\s+((?:\S+\s+)*)$/.exec(command);
  if (sed && programWord(words(sed[2]!), SED)) return sed[1];
  return undefined;
}

/** A command's words, split at blanks (the check's plain text has no quotes left in it). */
export function words(text: string): string[] {
  return text.trim().split(/\s+/).filter(Boolean);
}

/**
 * Whether the next word is the program, given the words so far: the argument of a program option
 * (`-e`, `--source`, `--expression`, seen last), or the first operand when no option gave the
 * program or a program file (`awk -F: {{q x}}`, `sed -n {{q x}}`).
 */
function programWord(so: string[], syntax: Syntax): boolean {
  let operands = 0;
  let given = false;
  for (let i = 0; i < so.length; i++) {
    const word = so[i]!;
    if (word === '--') {
      operands += so.length - i - 1;
      break;
    }
    if (syntax.givesProgram.test(word)) given = true;
    if (syntax.takesArgument.test(word)) {
      if (i === so.length - 1) return syntax.programArgument.test(word);
      i++;
    } else if (!word.startsWith('-')) {
      operands++;
    }
  }
  return !given && operands === 0;
}
