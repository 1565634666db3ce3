/**
 * Text that did not come from lvsplay (names from a playbook, YAML keys, what a host printed, file
 * contents under --diff) is shown with its control characters made visible: an ESC sequence could
 * hide or recolour lines (`\e[8m`), a carriage return or line break could forge a line such as
 * "lb1: ok (no changes)", a bidi override could reorder what is read.
 */

// C0 controls, DEL, C1 controls, and the Unicode bidi embedding/override/isolate characters.
const UNSAFE = /[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const UNSAFE_BUT_NEWLINE = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

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
