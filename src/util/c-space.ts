/**
 * Blanks as C's isspace() reads them in the C locale, which is also Perl's `\s` on the bytes a
 * script reads: space, \t, \n, \v, \f, \r. ipvsadm splits a line it restores at these, ldirectord's
 * patterns match them; JavaScript's `\s` and `trim()` also take a no-break space, a byte order mark
 * and the other Unicode spaces, which those programs read as part of a word.
 */
const RUN = /[ \t\n\v\f\r]+/;
const LEADING = /^[ \t\n\v\f\r]+/;
const TRAILING = /[ \t\n\v\f\r]+$/;

/** The text's words, split at C's blanks. */
export function cWords(text: string): string[] {
  return text.split(RUN).filter((w) => w !== '');
}

/** C's blanks off both ends, or the end only. */
export function cTrim(text: string, ends: 'both' | 'end' = 'both'): string {
  const end = text.replace(TRAILING, '');
  return ends === 'end' ? end : end.replace(LEADING, '');
}
