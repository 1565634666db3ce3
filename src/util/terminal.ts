/**
 * Text that did not come from lvsplay (names from a playbook, YAML keys, what a host printed, file
 * contents under --diff) is shown with its control characters made visible: an ESC sequence could
 * hide or recolour lines (`\e[8m`), a carriage return or line break could forge a line such as
 * "lb1: ok (no changes)", a bidi override could reorder what is read.
 */

// C0 controls, DEL, C1 controls, the Unicode bidi embedding/override/isolate characters, the line
// and paragraph separators, and the characters that look like a space or like nothing (no-break and
// typographic spaces, zero-width space and joiners, word joiner, byte order mark): "web\u200b1", a
// file's leading \ufeff or a no-break space in a config line would otherwise read as "web1", as
// nothing, and as the space a program splits at while it does not.
const HIDDEN = '\\u00a0\\u1680\\u2000-\\u200f\\u2028-\\u202f\\u205f-\\u2064\\u2066-\\u2069\\ufeff';
const UNSAFE = new RegExp(`[\\x00-\\x1f\\x7f-\\x9f${HIDDEN}]`, 'g');
const UNSAFE_BUT_NEWLINE = new RegExp(`[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f${HIDDEN}]`, 'g');

function escape(c: string): string {
  const code = c.codePointAt(0)!;
  if (c === '\n') return '\\n';
  if (c === '\r') return '\\r';
  if (c === '\t') return '\\t';
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** One line of foreign text: every control character, line breaks included, shown as an escape. */
export function safeText(text: string): string {
  return text.replace(UNSAFE, escape);
}

/** Several lines of foreign text (a file's content): line breaks kept, every other control escaped. */
export function safeLines(text: string): string {
  return text.replace(UNSAFE_BUT_NEWLINE, escape);
}
