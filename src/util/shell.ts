/**
 * Shell quoting. Every value that reaches a remote shell goes through `shq`, even though the
 * inventory already validated it by type: validation keeps nonsense out, quoting keeps the shell
 * from ever reading data as syntax. Defence in depth, cheap.
 */

/** POSIX single-quote a value: 'it'\''s' — nothing inside single quotes is special to sh. */
export function shq(value: string | number): string {
  const text = String(value);
  if (text.includes('\0')) throw new Error('a NUL byte cannot be passed to a shell');
  if (/^[A-Za-z0-9_./:@%+=,-]+$/.test(text) && !text.startsWith('-')) return text;
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** Quote each word and join with spaces: one safe command line. */
export function shellLine(words: readonly (string | number)[]): string {
  return words.map(shq).join(' ');
}

/**
 * Shell code lvsplay generated itself (a rendered action, validated ipvsadm lines), as opposed to a
 * value: only a fragment may be pasted into a script unquoted (`{{sh x}}`), so a value can never be
 * mistaken for code by a template that forgot to quote it.
 */
export class ShellFragment {
  constructor(readonly code: string) {}

  toString(): string {
    return this.code;
  }
}

/** The variable a value named `name` is exposed as in shell scripts: `LVSPLAY_VAR_` + name, with . and - as _. */
export function shellVarName(name: string): string {
  return `LVSPLAY_VAR_${name.replace(/[.-]/g, '_')}`;
}

/**
 * Another var name among `names` that is not `name` but would be the same shell variable
 * (`a-b` and `a_b`, both $LVSPLAY_VAR_a_b): one would quietly replace the other in shell scripts.
 */
export function shellNameClash(name: string, names: Iterable<string>): string | undefined {
  const shell = shellVarName(name);
  for (const other of names) if (other !== name && shellVarName(other) === shell) return other;
  return undefined;
}

/** What validate says about two such names; `whose` says where the other one comes from. */
export function shellClashMessage(name: string, other: string, whose = ''): string {
  return `vars "${name}" and "${other}"${whose} would both be $${shellVarName(name)} in shell templates: rename one`;
}

/**
 * Assignments that make every value available to a script as data: `LVSPLAY_VAR_site='eu west'`.
 * A script reads "$LVSPLAY_VAR_site", which expands to the value and is never parsed as shell.
 */
export function varsPrologue(vars: Readonly<Record<string, string | number | boolean>>): string {
  return Object.entries(vars).map(([name, value]) => `${shellVarName(name)}=${shq(String(value))}\n`).join('');
}

/** Lines as one text, each ending in a newline; a line must not hold a line break or a NUL (`what` names them in the error). */
export function linesText(what: string, lines: readonly string[]): string {
  if (lines.some((l) => /[\n\r\0]/.test(l))) throw new Error(`a line with a line break or NUL cannot go into ${what}`);
  return lines.map((l) => `${l}\n`).join('');
}

/**
 * `printf '%s' 'LINES' > TARGET`: the lines (linesText) as one single-quoted word given to the
 * shell's own printf, so nothing in them is expanded and no process is started (a here-document
 * needs `cat`, ~50 ms a process on the lab's emulated directors).
 */
export function linesFile(target: string, lines: readonly string[]): ShellFragment {
  return new ShellFragment(`printf '%s' ${shq(linesText(target, lines))} > ${target}\n`);
}
