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
