/**
 * Whether a regular expression is one the director's engine compiles: PCRE2 for keepalived's
 * `regex` (keepalived compiles it with pcre2_compile; the verify step asks `grep -P`), Perl for
 * ldirectord's `receive` (ldirectord matches with the pattern held in a variable; the verify step
 * asks perl's `qr//`). Checked here so validate says so, instead of the verify step refusing the
 * file on the director, and so that what those engines take (`(?i)`, `\A`, `a++`, `(?>...)`,
 * `[[:digit:]]`, `\Q...\E`) is not refused because JavaScript's RegExp would refuse it.
 *
 * The rules are PCRE2 10.42's and Perl 5.36's (Debian 12's, as on the lab's directors), read from
 * their error messages and checked against `grep -P` and `perl` (test/unit/pcre.test.ts): brackets
 * and parentheses, quantifiers (what they may follow, their counts), escapes, POSIX classes and
 * ranges, group syntax and names, references to groups that exist, (*VERB)s, lookbehinds of fixed
 * (PCRE2) or at most 255-character (Perl) length. Where a rule depends on more than the pattern
 * (Unicode property names), a pattern is taken, and the director's verify has the last word.
 * keepalived compiles without PCRE2's UTF mode (a pattern is bytes; `\x{100}` is too large) unless
 * the pattern starts with `(*UTF)`, and perl compiles the bytes ldirectord read: both are read so.
 */
export type RegexDialect = 'pcre2' | 'perl';

/** How many characters a piece of a pattern matches; `known` is false where that depends on a group's text (references, recursion). */
interface Span { min: number; max: number; known: boolean }
/** What a quantifier right after a piece meets: an item it repeats, an assertion PCRE2 refuses to repeat, `\\K` (neither repeats it), or nothing (an option setting). */
type Repeat = 'item' | 'assertion' | 'keep' | 'nothing';
interface Piece { span: Span; repeat: Repeat }

const ZERO: Span = { min: 0, max: 0, known: true };
const ONE: Span = { min: 1, max: 1, known: true };
const UNKNOWN: Span = { min: 0, max: Infinity, known: false };
const POSIX_CLASSES = new Set(['alpha', 'lower', 'upper', 'alnum', 'ascii', 'blank', 'cntrl', 'digit', 'graph', 'print', 'punct', 'space', 'word', 'xdigit']);
/** Letters after `\` that PCRE2 knows (others: "unrecognized character follows \"); Perl takes any letter as itself. */
const PCRE2_ESCAPES = new Set('aAbBcCdDeEfgGhHkKnNopPQrRsStvVwWxXzZ');
const PCRE2_UNSUPPORTED = new Set('FlLuU');
const CLASS_ESCAPES = new Set('dDsSwWhHvVpP');
const CHAR_ESCAPES: Record<string, number> = { a: 7, e: 27, f: 12, n: 10, r: 13, t: 9, b: 8 };
const VERBS = new Set(['ACCEPT', 'FAIL', 'F', 'COMMIT', 'PRUNE', 'SKIP', 'THEN', 'MARK', '']);
const PCRE2_START_OPTIONS = /^(UTF|UCP|NOTEMPTY|NOTEMPTY_ATSTART|NO_AUTO_POSSESS|NO_DOTSTAR_ANCHOR|NO_JIT|NO_START_OPT|CR|LF|CRLF|ANYCRLF|ANY|NUL|BSR_ANYCRLF|BSR_UNICODE|LIMIT_(HEAP|MATCH|DEPTH|RECURSION)=\d+)$/;
/** `(*name:...)` groups both know, and PCRE2's non-atomic lookarounds. */
const ALPHA_GROUPS: Record<string, 'lookahead' | 'lookbehind' | 'group'> = {
  pla: 'lookahead', nla: 'lookahead', positive_lookahead: 'lookahead', negative_lookahead: 'lookahead',
  plb: 'lookbehind', nlb: 'lookbehind', positive_lookbehind: 'lookbehind', negative_lookbehind: 'lookbehind',
  atomic: 'group', sr: 'group', asr: 'group', script_run: 'group', atomic_script_run: 'group',
};
const PCRE2_ALPHA_GROUPS: Record<string, 'lookahead' | 'lookbehind'> = {
  napla: 'lookahead', non_atomic_positive_lookahead: 'lookahead', naplb: 'lookbehind', non_atomic_positive_lookbehind: 'lookbehind',
};
const PERL_BOUNDS = new Set(['gcb', 'g', 'lb', 'sb', 'wb']);
const MAX_COUNT = { pcre2: 65535, perl: 65534 };
/** PCRE2's PARENS_NEST_LIMIT. */
const MAX_NESTING = 250;
const MAX_PERL_LOOKBEHIND = 255;
const MAX_PCRE2_LOOKBEHIND = 65535;

class PcreError extends Error {}

export function pcreProblem(pattern: string, dialect: RegexDialect): string | undefined {
  try {
    new PcreReader(pattern, dialect).read();
    return undefined;
  } catch (err) {
    if (err instanceof PcreError) return err.message;
    throw err;
  }
}

/** Recursive descent over branches, pieces and quantifiers, sizing each piece for the lookbehind rules. */
class PcreReader {
  private i = 0;
  /** Capture groups opened so far (a reference's number is read against it). */
  private groups = 0;
  private readonly names = new Map<string, number>();
  /** What each closed capture group matches: a back-reference to it matches the same length (PCRE2 sizes a lookbehind with it). */
  private readonly groupSpans = new Map<number, Span>();
  private duplicateNames = false;
  /** Where each group being read opened, innermost last. */
  private readonly opened: number[] = [];
  private lookarounds = 0;
  private lookbehinds = 0;
  /** References checked once every group is known (a reference may come before its group). */
  private readonly numberRefs: number[] = [];
  private readonly nameRefs: string[] = [];

  /** The pattern as the engine reads it: UTF-8 bytes (one char each), or characters in PCRE2's UTF mode. */
  private readonly p: string;
  /** PCRE2's UTF mode: keepalived compiles without it (regex_options), so only a leading (*UTF) turns it on. */
  private readonly utf: boolean;

  constructor(pattern: string, private readonly dialect: RegexDialect) {
    this.utf = dialect === 'pcre2' && /^(?:\(\*[A-Z_]+(?:=\d+)?\))*?\(\*UTF\)/.test(pattern);
    // Perl's qr// of a string ldirectord read from its file, and PCRE2 outside UTF mode, read bytes.
    this.p = this.utf ? pattern : Buffer.from(pattern, 'utf8').toString('latin1');
  }

  read(): void {
    this.branches(false);
    if (this.i < this.p.length) this.fail('an unmatched closing parenthesis', 'an unmatched )');
    for (const n of this.numberRefs) if (n > this.groups) this.fail(`a reference to group ${n}, which the pattern does not have`);
    for (const name of this.nameRefs) if (!this.names.has(name)) this.fail(`a reference to the group named "${name}", which the pattern does not have`);
  }

  /** Refuses the pattern: what is wrong in the dialect's words, and where (the character the reading stopped at, from 1). */
  private fail(pcre2: string, perl = pcre2): never {
    const before = this.p.slice(0, this.i);
    const characters = this.utf ? Array.from(before).length : Array.from(Buffer.from(before, 'latin1').toString('utf8')).length;
    throw new PcreError(`${this.pcre2 ? pcre2 : perl} at character ${characters + 1}`);
  }

  private get pcre2(): boolean {
    return this.dialect === 'pcre2';
  }

  /** Branches up to the group's `)` (left unread) or the pattern's end; `reset` numbers each branch's groups from the same start, as `(?|` does. */
  private branches(x: boolean, reset = false): Span[] {
    const spans: Span[] = [];
    const start = this.groups;
    let most = start;
    for (;;) {
      if (reset) this.groups = start;
      const branch = this.sequence(x);
      spans.push(branch.span);
      most = Math.max(most, this.groups);
      x = branch.x;
      if (this.p[this.i] !== '|') break;
      this.i++;
    }
    if (reset) this.groups = most;
    return spans;
  }

  /** One branch: its pieces and their quantifiers; also whether `(?x)` is on at its end (it carries to the next branch). */
  private sequence(x: boolean): { span: Span; x: boolean } {
    /** The span of the branch before its last piece, and that piece (undefined at the branch's start: nothing to repeat). */
    let before = { ...ZERO };
    let last: (Piece & { quantified: boolean }) | undefined;
    const total = () => (last ? add(before, last.span) : before);
    for (;;) {
      if (x) this.skipExtended();
      const c = this.p[this.i];
      if (c === undefined || c === '|' || c === ')') return { span: total(), x };
      const count = this.quantifier();
      if (count && (last === undefined || last.repeat === 'nothing') && count.brace && !this.pcre2) {
        // Perl reads a count with nothing before it as plain characters.
        before = total();
        last = { span: ONE, repeat: 'item', quantified: false };
        this.i++;
        continue;
      }
      if (count) {
        if (last === undefined || last.repeat === 'nothing') this.fail('a quantifier does not follow a repeatable item', 'a quantifier follows nothing');
        if (last.quantified) this.fail('a quantifier does not follow a repeatable item', 'nested quantifiers');
        if (this.pcre2 && (last.repeat === 'keep' || last.repeat === 'assertion')) this.fail('a quantifier does not follow a repeatable item');
        if (last.repeat === 'keep' && count.max === Infinity) this.fail('', '\\K repeated without end (it matches the empty string)');
        this.i = count.end;
        if (count.min > count.max) {
          // Perl (PCRE2 refused it above) puts a failure in place of a {n,m} with n > m: after it, a
          // quantifier follows nothing, and a `{` is a plain character.
          last = { span: ZERO, repeat: 'nothing', quantified: false };
          continue;
        }
        this.skipEmptyQuotes();
        if (this.p[this.i] === '?' || this.p[this.i] === '+') this.i++;
        last = { span: times(last.span, count.min, count.max), repeat: last.repeat, quantified: true };
        continue;
      }
      const piece = this.piece(x);
      if (piece === 'transparent') continue;
      before = total();
      if ('x' in piece) {
        x = piece.x;
        last = { span: ZERO, repeat: 'nothing', quantified: false };
      } else last = { ...piece, quantified: false };
    }
  }

  /** `(?x)`: white space and `#` to the line's end are not part of the pattern. */
  private skipExtended(): void {
    for (;;) {
      const c = this.p[this.i];
      if (c !== undefined && /\s/.test(c)) this.i++;
      else if (c === '#') {
        const end = this.p.indexOf('\n', this.i);
        this.i = end < 0 ? this.p.length : end + 1;
      } else return;
    }
  }

  /** A quantifier at `i`: `*`, `+`, `?`, or a `{...}` that reads as a count (others are plain characters). */
  private quantifier(): { min: number; max: number; end: number; brace: boolean } | undefined {
    const c = this.p[this.i];
    if (c === '*') return { min: 0, max: Infinity, end: this.i + 1, brace: false };
    if (c === '+') return { min: 1, max: Infinity, end: this.i + 1, brace: false };
    if (c === '?') return { min: 0, max: 1, end: this.i + 1, brace: false };
    if (c !== '{') return undefined;
    // PCRE2 10.42: {n}, {n,}, {n,m}, no blanks; Perl 5.36 also {,m}, and blanks inside.
    const re = this.pcre2 ? /^\{(\d+)(,(\d*))?\}/ : /^\{[ \t]*(\d*)[ \t]*(,[ \t]*(\d*)[ \t]*)?\}/;
    const m = re.exec(this.p.slice(this.i));
    if (!m || (m[1] === '' && (m[2] === undefined || m[3] === ''))) return undefined;
    const min = m[1] === '' ? 0 : Number(m[1]);
    const max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
    const limit = MAX_COUNT[this.dialect];
    if (min > limit || (max !== Infinity && max > limit)) this.fail(`a number too big in a {} quantifier (at most ${limit})`, `a quantifier in {,} bigger than ${limit}`);
    if (min > max && this.pcre2) this.fail(`numbers out of order in a {} quantifier ("${m[0]}")`);
    return { min, max, end: this.i + m[0].length, brace: true };
  }

  /** One item at `i` (not a quantifier): its span, or that it changed the options, or that it is nothing (a comment, an empty \Q\E). */
  private piece(x: boolean): Piece | { x: boolean } | 'transparent' {
    const c = this.p[this.i]!;
    if (c === '\\') return this.escape();
    if (c === '[') {
      if (this.pcre2 && ':.='.includes(this.p[this.i + 1] ?? '') && this.posixEnd(this.i + 1) >= 0) this.fail('a POSIX class ([:name:]) outside a character class');
      this.charClass();
      return { span: ONE, repeat: 'item' };
    }
    if (c === '(') return this.group(x);
    this.i += this.p.codePointAt(this.i)! > 0xffff ? 2 : 1;
    if (c === '^' || c === '$') return { span: ZERO, repeat: 'assertion' };
    return { span: ONE, repeat: 'item' };
  }

  private escape(): Piece | 'transparent' {
    const at = this.i;
    const piece = this.escapeItem();
    // Perl keeps `\X{` for syntax to come: a `{` right after a backslash and a letter must be a count.
    if (!this.pcre2 && this.i === at + 2 && /[A-Za-z]/.test(this.p[at + 1]!) && this.p[this.i] === '{' && !this.quantifier()) {
      this.fail('', `an unescaped left brace right after \\${this.p[at + 1]} (write \\{)`);
    }
    return piece;
  }

  private escapeItem(): Piece | 'transparent' {
    const at = this.i;
    const c = this.p[this.i + 1];
    if (c === undefined) this.fail('a backslash at the end of the pattern', 'a trailing \\');
    this.i += 2;
    if (/[1-9]/.test(c)) return this.numberEscape(at);
    if (c === '0') {
      this.i += /^[0-7]{0,2}/.exec(this.p.slice(this.i))![0].length;
      return { span: ONE, repeat: 'item' };
    }
    if (!/[A-Za-z]/.test(c)) {
      this.i = at + 1 + (this.p.codePointAt(at + 1)! > 0xffff ? 2 : 1);
      return { span: ONE, repeat: 'item' };
    }
    if (c === 'Q' && this.pcre2) return this.quoted() === '' ? 'transparent' : { span: ONE, repeat: 'item' };
    if (c === 'E' && this.pcre2) return 'transparent';
    if ('bB'.includes(c) && !this.pcre2 && this.p[this.i] === '{') {
      const m = /^\{([^}]*)\}/.exec(this.p.slice(this.i));
      if (!m || !PERL_BOUNDS.has(m[1]!.trim())) this.fail('', `an unknown \\${c}{...} bound type`);
      this.i += m![0].length;
      return { span: ZERO, repeat: 'assertion' };
    }
    if ('bBAzZG'.includes(c)) return { span: ZERO, repeat: 'assertion' };
    if (c === 'K') {
      if (this.lookarounds > 0) this.fail('\\K in a lookaround assertion');
      return { span: ZERO, repeat: 'keep' };
    }
    if (c === 'C') {
      if (!this.pcre2) this.fail('', '\\C, which Perl no longer supports');
      if (this.lookbehinds > 0 && this.utf) this.fail('\\C in a lookbehind assertion in UTF mode');
      return { span: ONE, repeat: 'item' };
    }
    if (c === 'R') return { span: { min: 1, max: 2, known: true }, repeat: 'item' };
    if (c === 'X') return { span: { min: 1, max: Infinity, known: true }, repeat: 'item' };
    if (c === 'g') return this.gEscape();
    if (c === 'k') {
      const name = this.delimitedName('\\k');
      this.nameRefs.push(name);
      return this.reference(this.groupSpans.get(this.names.get(name) ?? 0));
    }
    if (c === 'N' && this.p[this.i] === '{' && !this.quantifier()) {
      this.namedChar();
      return { span: ONE, repeat: 'item' };
    }
    this.i = at;
    this.charEscape(false);
    return { span: ONE, repeat: 'item' };
  }

  /** `\N{...}` from its `{`: PCRE2 takes only `\N{U+hex}`; Perl also takes names from its charnames, which are only shaped here. */
  private namedChar(): void {
    const m = /^\{([^}]*)\}/.exec(this.p.slice(this.i));
    const hex = m && /^U\+[0-9A-Fa-f]+$/.test(m[1]!);
    if (this.pcre2 && !hex) this.fail('PCRE2 does not support \\N{name}');
    if (this.pcre2 && !this.utf) this.fail('\\N{U+hex}, which PCRE2 takes only in UTF mode (keepalived compiles without it; start the pattern with (*UTF))');
    if (!m) this.fail('', 'a missing right brace on \\N{}');
    if (!hex && !/^[A-Z][A-Z0-9 -]*$/.test(m![1]!)) this.fail('', `an unknown character name \\N{${m![1]}} (Perl's names are upper case, like \\N{LATIN SMALL LETTER A})`);
    this.i += m![0].length;
  }

  /**
   * `\1`..`\9` are references; a longer number is one when that many groups are open before it,
   * or when it starts with 8 or 9; otherwise up to three octal digits are a character.
   */
  private numberEscape(at: number): Piece {
    const digits = /^\d*/.exec(this.p.slice(at + 1))![0];
    const n = Number(digits);
    if (n < 10 || n <= this.groups || /^[89]/.test(digits)) {
      this.i = at + 1 + digits.length;
      this.numberRefs.push(n);
      return this.reference(this.groupSpans.get(n));
    }
    this.i = at + 1 + (/^[0-7]{1,3}/.exec(digits)?.[0].length ?? 0);
    return { span: ONE, repeat: 'item' };
  }

  /** `\g{n}`, `\g{-n}`, `\g{name}`, `\gn`, `\g-n`; PCRE2 also `\g<...>` and `\g'...'` (a subroutine call). */
  private gEscape(): Piece {
    const rest = this.p.slice(this.i);
    const m = /^(?:\{([+-]?\d+|[^}]*)\}|([+-]?\d+))/.exec(rest) ?? (this.pcre2 ? /^(?:<([+-]?\d+|[^>]*)>|'([+-]?\d+|[^']*)')/.exec(rest) : null);
    if (!m) this.fail('\\g not followed by a braced, angle-bracketed or quoted name or number, or a plain number', 'an unterminated \\g... pattern');
    const ref = m[1] ?? m[2]!;
    const call = rest[0] === '<' || rest[0] === "'";
    this.i += m[0].length;
    let group: number;
    if (/^[+-]?\d+$/.test(ref)) group = this.numberRef(Number(ref), ref[0] === '-' || ref[0] === '+', call);
    else {
      const name = this.checkName(ref, '\\g');
      this.nameRefs.push(name);
      group = this.names.get(name) ?? 0;
    }
    return call ? { span: UNKNOWN, repeat: 'item' } : this.reference(this.groupSpans.get(group));
  }

  /** A back-reference: it matches what its group matched (its length, when the group is closed and its length known); Perl sizes no lookbehind with one. */
  private reference(group: Span | undefined): Piece {
    if (this.lookbehinds > 0 && !this.pcre2) this.fail('', 'a lookbehind longer than 255 (a back-reference in it)');
    return { span: group ?? UNKNOWN, repeat: 'item' };
  }

  /** A group number, relative (`-1` is the last opened, `+1` the next) or not; 0 is the whole pattern, which only a call may name. The group it names. */
  private numberRef(n: number, relative: boolean, call: boolean): number {
    if (n === 0 && (!call || relative)) this.fail('a reference to group 0', 'a reference to invalid group 0');
    const group = relative ? this.groups + n + (n < 0 ? 1 : 0) : n;
    if (relative && n < 0 && group < 1) this.fail(`a relative reference to a group before the first (${n})`);
    this.numberRefs.push(group);
    return group;
  }

  /** `\k<name>`, `\k'name'`, `\k{name}`. */
  private delimitedName(what: string): string {
    const open = this.p[this.i];
    const close = open === '<' ? '>' : open === "'" ? "'" : open === '{' ? '}' : undefined;
    if (!close) this.fail(`${what} not followed by a braced, angle-bracketed or quoted name`, `an unterminated ${what}... sequence`);
    const end = this.p.indexOf(close, this.i + 1);
    if (end < 0) this.fail('a group name without its terminator', `an unterminated ${what}${open}... sequence`);
    const name = this.p.slice(this.i + 1, end);
    this.i = end + 1;
    return this.checkName(name, what);
  }

  /** A group name: word characters, not starting with a digit (PCRE2: at most 32). */
  private checkName(name: string, what: string): string {
    const word = this.utf ? /^[\p{L}\p{N}_]+$/u : /^\w+$/;
    if (!word.test(name) || /^\d/.test(name)) this.fail(`${what}: a group name must start with a non-digit and hold only letters, digits and "_" ("${name}")`, `${what}: a group name must start with a non-digit word character ("${name}")`);
    if (this.pcre2 && name.length > 32) this.fail(`a group name longer than 32 characters ("${name}")`);
    return name;
  }

  /**
   * A character escape at `i` (its backslash): the character's code, or undefined for a class
   * (`\d`, `\p{...}`) or what only Perl takes as itself. Used inside and outside brackets.
   */
  private charEscape(inClass: boolean): number | undefined {
    const c = this.p[this.i + 1];
    if (c === undefined) this.fail('a backslash at the end of the pattern', 'a trailing \\');
    this.i += 2;
    if (c in CHAR_ESCAPES) return CHAR_ESCAPES[c];
    if (c === 'x') {
      if (this.p[this.i] === '{') {
        const m = /^\{([^}]*)\}?/.exec(this.p.slice(this.i))!;
        this.i += m[0].length;
        // Perl reads the hex digits the braces start with (none: 0), and warns about the rest.
        if (!this.pcre2) return parseInt(/^\s*([0-9A-Fa-f_]*)/.exec(m[1]!)![1]!.replaceAll('_', '') || '0', 16);
        if (m[1] === '' && m[0].endsWith('}')) this.fail('digits missing in \\x{}');
        if (!/^[0-9A-Fa-f]+\}$/.test(m[0].slice(1))) this.fail('a non-hex character in \\x{} (closing brace missing?)');
        return this.codePoint(parseInt(m[1]!, 16));
      }
      const hex = /^[0-9A-Fa-f]{0,2}/.exec(this.p.slice(this.i))![0];
      this.i += hex.length;
      return hex === '' ? 0 : parseInt(hex, 16);
    }
    if (c === 'o') {
      if (this.p[this.i] !== '{') this.fail('a missing opening brace after \\o', 'missing braces on \\o{}');
      const m = /^\{([^}]*)\}?/.exec(this.p.slice(this.i))!;
      this.i += m[0].length;
      if (m[1]!.trim() === '') this.fail('digits missing in \\o{}', 'an empty \\o{}');
      if (!this.pcre2) return parseInt(/^\s*([0-7]*)/.exec(m[1]!)![1] || '0', 8);
      if (!/^[0-7]+\}$/.test(m[0].slice(1))) this.fail('a non-octal character in \\o{} (closing brace missing?)');
      return this.codePoint(parseInt(m[1]!, 8));
    }
    if (c === 'c') {
      const next = this.p[this.i];
      if (next === undefined) this.fail('\\c at the end of the pattern', 'a trailing \\c');
      if (!/^[\x20-\x7e]$/.test(next)) this.fail('\\c followed by other than a printable ASCII character');
      if (next === '{' && !this.pcre2) this.fail('', '"\\c{"');
      this.i++;
      return next.toUpperCase().charCodeAt(0) ^ 0x40;
    }
    if (c === 'p' || c === 'P') {
      const m = /^(?:\{[^}]*\}|[A-Za-z])/.exec(this.p.slice(this.i));
      if (!m) this.fail(`a malformed \\${c} sequence`, this.p[this.i] === '{' ? `a missing right brace on \\${c}{}` : `an empty \\${c}`);
      this.i += m![0].length;
      return undefined;
    }
    if (CLASS_ESCAPES.has(c)) return undefined;
    if (this.pcre2 && PCRE2_UNSUPPORTED.has(c)) this.fail('an escape PCRE2 does not support (\\F, \\L, \\l, \\U or \\u)');
    if (this.pcre2 && inClass && 'BRXACzZGKkN'.includes(c)) this.fail(`\\${c}, an escape sequence invalid in a character class`);
    if (!this.pcre2 && inClass && c === 'N') this.fail('', '\\N in a character class, which must be a named character \\N{...}');
    if (this.pcre2 && /[A-Za-z]/.test(c) && !PCRE2_ESCAPES.has(c)) this.fail(`an unrecognized character after \\ ("\\${c}")`);
    return c.charCodeAt(0);
  }

  /** A code point PCRE2 (in UTF mode) can match. */
  private codePoint(n: number): number {
    if (n > (this.utf ? 0x10ffff : 0xff)) this.fail(`a character code point value in \\x{} or \\o{} too large (at most ${this.utf ? '0x10ffff' : '0xff, as keepalived compiles without UTF mode'})`);
    if (this.utf && n >= 0xd800 && n <= 0xdfff) this.fail('a disallowed Unicode code point (a surrogate)');
    return n;
  }

  /** Where a POSIX `[:name:]` (or `[.x.]`, `[=x=]`) that starts at `from` (its `:`) ends (its `]`), or -1 when it is not one (PCRE2's check_posix_syntax). */
  private posixEnd(from: number): number {
    const kind = this.p[from]!;
    for (let j = from + 1; j + 1 < this.p.length; j++) {
      const c = this.p[j]!;
      if (c === '\\' && (this.p[j + 1] === ']' || this.p[j + 1] === '\\')) j++;
      else if ((c === '[' && this.p[j + 1] === kind) || c === ']') return -1;
      else if (c === kind && this.p[j + 1] === ']') return j + 1;
    }
    return -1;
  }

  /** A bracket from its `[`: items, POSIX classes and ranges checked. */
  private charClass(): void {
    this.i++;
    this.skipEmptyQuotes();
    if (this.p[this.i] === '^') this.i++;
    let first = true;
    for (;;) {
      const c = this.p[this.i];
      if (c === undefined) this.fail('a missing terminating ] for a character class', 'an unmatched [');
      if (c === ']' && !first) break;
      // PCRE2: an empty \Q\E or a \E stands for nothing, so a `]` after it is still the first item (a plain character).
      const from = this.classItem();
      if (from === 'none') continue;
      first = false;
      // Between a character and a `-`, PCRE2 looks past what stands for nothing; after a class it does not.
      if (from !== undefined) this.skipEmptyQuotes();
      if (this.p[this.i] !== '-' || this.p[this.i + 1] === ']' || this.p[this.i + 1] === undefined) continue;
      const dash = this.i;
      this.i++;
      // Perl reads a `-` after a class as itself: the item after it may start a range of its own.
      if (from === undefined && !this.pcre2) continue;
      this.skipEmptyQuotes();
      const end = this.p[this.i] === ']' || this.p[this.i] === undefined;
      const to = end ? 0 : this.classItem();
      if (from === undefined || to === undefined) {
        if (this.pcre2) this.fail('an invalid range in a character class (a range from or to a class)');
        continue;
      }
      if (!end && from > (to as number)) {
        this.i = dash;
        this.fail('a range out of order in a character class', 'an invalid [] range');
      }
    }
    this.i++;
  }

  /** PCRE2's `\Q...\E` from after its `\Q`: the characters it quotes (to the pattern's end when no `\E` closes it). */
  private quoted(): string {
    const end = this.p.indexOf('\\E', this.i);
    const text = end < 0 ? this.p.slice(this.i) : this.p.slice(this.i, end);
    this.i = end < 0 ? this.p.length : end + 2;
    return text;
  }

  /** PCRE2's `\Q\E` and `\E` inside a bracket, which stand for nothing. */
  private skipEmptyQuotes(): void {
    if (!this.pcre2) return;
    for (;;) {
      if (this.p.startsWith('\\Q\\E', this.i)) this.i += 4;
      else if (this.p.startsWith('\\E', this.i)) this.i += 2;
      else return;
    }
  }

  /** One item of a bracket: a character's code, undefined for a class (`\d`, `[:alpha:]`), 'none' for what stands for nothing (an empty \Q\E, \E). */
  private classItem(): number | undefined | 'none' {
    const c = this.p[this.i]!;
    if (c === '[' && ':.='.includes(this.p[this.i + 1] ?? '')) {
      const end = this.posixEnd(this.i + 1);
      if (end >= 0) {
        const kind = this.p[this.i + 1];
        if (kind !== ':') this.fail('a POSIX collating element ([.x.] or [=x=]), which is not supported', 'POSIX syntax [. .] or [= =], reserved for future extensions');
        const name = this.p.slice(this.i + 2, end - 1).replace(/^\^/, '');
        if (!POSIX_CLASSES.has(name)) this.fail(`an unknown POSIX class name ("${name}"); the classes are ${[...POSIX_CLASSES].join(', ')}`);
        this.i = end + 1;
        return undefined;
      }
    }
    if (c !== '\\') {
      const code = this.p.codePointAt(this.i)!;
      this.i += code > 0xffff ? 2 : 1;
      return code;
    }
    const next = this.p[this.i + 1];
    if (this.pcre2 && next === 'Q') {
      this.i += 2;
      const text = this.quoted();
      return text === '' ? 'none' : text.codePointAt(text.length - 1);
    }
    if (this.pcre2 && next === 'E') {
      this.i += 2;
      return 'none';
    }
    if (next !== undefined && /[0-7]/.test(next)) {
      const octal = /^[0-7]{1,3}/.exec(this.p.slice(this.i + 1))![0];
      this.i += 1 + octal.length;
      return parseInt(octal, 8);
    }
    if (next === '8' || next === '9') {
      this.i += 2;
      return next.charCodeAt(0);
    }
    if (next === 'N' && !this.pcre2 && this.p[this.i + 2] === '{') {
      this.i += 2;
      this.namedChar();
      return undefined;
    }
    return this.charEscape(true);
  }

  /** A group from its `(`. */
  private group(x: boolean): Piece | { x: boolean } | 'transparent' {
    this.opened.push(this.i);
    try {
      return this.groupFrom(x);
    } finally {
      this.opened.pop();
    }
  }

  private groupFrom(x: boolean): Piece | { x: boolean } | 'transparent' {
    const open = this.i;
    if (this.p[this.i + 1] === '*') return this.verb(x);
    if (this.p[this.i + 1] !== '?') {
      this.i++;
      this.groups++;
      return this.body(x, 'capture', this.groups);
    }
    this.i += 2;
    const c = this.p[this.i];
    const rest = this.p.slice(this.i);
    if (c === '#') {
      const end = this.p.indexOf(')', this.i);
      if (end < 0) this.fail('a missing ) after a (?# comment', 'an unterminated (?#... comment');
      this.i = end + 1;
      return 'transparent';
    }
    if (c === ':' || c === '>') return this.advance(1, () => this.body(x, 'group'));
    if (c === '|') return this.advance(1, () => this.body(x, 'reset'));
    if (c === '=' || c === '!') return this.advance(1, () => this.body(x, 'lookahead'));
    if (c === '*' && this.pcre2) return this.advance(1, () => this.body(x, 'lookahead'));
    if (rest.startsWith('<=') || rest.startsWith('<!')) return this.advance(2, () => this.body(x, 'lookbehind'));
    if (rest.startsWith('<*') && this.pcre2) return this.advance(2, () => this.body(x, 'lookbehind'));
    if (c === '<' || c === "'" || rest.startsWith('P<')) {
      if (c === 'P') this.i++;
      const close = this.p[this.i] === '<' ? '>' : "'";
      const m = new RegExp(`^[^${close}()|]*${close}`).exec(this.p.slice(this.i + 1));
      if (!m) this.fail('a syntax error in a group name (missing terminator?)', 'an unterminated (?<... group name');
      const name = this.checkName(m![0].slice(0, -1), '(?<name>');
      this.i += 1 + m![0].length;
      this.groups++;
      const had = this.names.get(name);
      if (had !== undefined && had !== this.groups && this.pcre2 && !this.duplicateNames) this.fail(`two groups named "${name}" (PCRE2 takes one name once, unless (?J))`);
      if (had === undefined) this.names.set(name, this.groups);
      return this.body(x, 'capture', this.groups);
    }
    if (c === 'P') {
      const m = /^P([=>])([^)]*)\)/.exec(rest);
      if (!m) this.fail('an unrecognized character after (?P', 'an unrecognized (?P... sequence');
      this.i += m![0].length;
      this.nameRefs.push(this.checkName(m![2]!, `(?P${m![1]}`));
      return { span: UNKNOWN, repeat: 'item' };
    }
    const call = /^(?:(R)|([+-]?\d+)|&([^)]*))\)/.exec(rest);
    if (call) {
      this.i += call[0].length;
      if (call[2] !== undefined) this.numberRef(Number(call[2]), /^[+-]/.test(call[2]), true);
      if (call[3] !== undefined) this.nameRefs.push(this.checkName(call[3], '(?&'));
      return { span: UNKNOWN, repeat: 'item' };
    }
    if (c === '(') return this.conditional(x);
    if (c === '[' && !this.pcre2) return this.perlSet(open);
    if (c === 'C' && this.pcre2) {
      const m = /^C(?:\d*|(["'`^%#${])[^]*?\1|\{[^}]*\})\)/.exec(rest);
      if (!m) this.fail('a malformed (?C callout');
      this.i += m![0].length;
      return { span: ZERO, repeat: 'item' };
    }
    return this.options(x, open);
  }

  /** Perl's extended bracketed character class, `(?[ ... ])`: bracketed classes and `\\` classes joined by its set operators. */
  private perlSet(open: number): Piece {
    this.i++;
    let operands = 0;
    for (;;) {
      const c = this.p[this.i];
      if (c === undefined) {
        this.i = open;
        this.fail('', 'a syntax error in (?[...])');
      }
      if (c === ']' && this.p[this.i + 1] === ')' && operands > 0) break;
      if (/\s/.test(c) || '+|-&^!()'.includes(c)) this.i++;
      else if (c === '[') {
        this.charClass();
        operands++;
      } else if (c === '\\' && /^[dDsSwWhHvVpPNxotnrfeac0-7\W]/.test(this.p[this.i + 1] ?? '')) {
        this.charEscape(true);
        operands++;
      } else this.fail('', 'an unexpected character in (?[...])');
    }
    this.i += 2;
    return { span: ONE, repeat: 'item' };
  }

  private advance<T>(n: number, then: () => T): T {
    this.i += n;
    return then();
  }

  /** Option letters: `(?i)` (to the group's end) or `(?i:...)`. */
  private options(x: boolean, open: number): Piece | { x: boolean } {
    const m = /^(\^)?([A-Za-z]*)(?:-([A-Za-z]*))?([:)])/.exec(this.p.slice(this.i));
    const letters = this.pcre2 ? /^(?:[imnsJU]|xx?)*$/ : /^(?:[imnspadlu]|xx?|aa)*$/;
    const off = this.pcre2 ? /^[imnsxJU]*$/ : /^[imnsxp]*$/;
    if (!m || !letters.test(m[2]!) || (m[3] !== undefined && (m[1] !== undefined || !off.test(m[3])))) {
      this.i = open + 2;
      this.fail('an unrecognized character after (? or (?-', `an unrecognized (?${this.p[this.i] ?? ''}... sequence`);
    }
    this.i += m![0].length;
    if (m![2]!.includes('J')) this.duplicateNames = true;
    let xOn = m![1] === '^' ? false : x;
    if (m![2]!.includes('x')) xOn = true;
    if (m![3]?.includes('x')) xOn = false;
    if (m![4] === ')') return { x: xOn };
    return this.body(xOn, 'group');
  }

  /** `(?(condition)yes|no)`. */
  private conditional(x: boolean): Piece {
    const rest = this.p.slice(this.i + 1);
    if (rest.startsWith('?') || rest.startsWith('*')) {
      if (!/^(?:\?<?[=!]|\*(?:[pn]l[ab]|(?:positive|negative)_look(?:ahead|behind)):)/.test(rest)) this.fail('an assertion expected after (?(?', 'a switch condition not recognized');
      this.group(x);
    } else {
      const m = /^([^)]*)\)/.exec(rest);
      if (!m) this.fail('a malformed condition in (?(...)', 'an unterminated (?(... condition');
      const cond = m![1]!;
      const number = /^([+-]?)(\d+)$/.exec(cond);
      const named = /^<([^>]*)>$|^'([^']*)'$/.exec(cond);
      const recursion = /^R(\d+)$|^R&(.*)$/.exec(cond);
      // Perl does not check that a condition's group number exists; PCRE2 does.
      if (number && this.pcre2) this.numberRef(Number(cond), number[1] !== '', false);
      else if (number) { /* Perl: a group number, checked when matching */ }
      else if (named) this.nameRefs.push(this.checkName(named[1] ?? named[2]!, '(?(<name>)'));
      else if (recursion?.[1] !== undefined) { if (this.pcre2) this.numberRefs.push(Number(recursion[1])); }
      else if (recursion?.[2] !== undefined) this.nameRefs.push(this.checkName(recursion[2], '(?(R&'));
      else if (cond === 'R' || cond === 'DEFINE') { /* always a valid condition */ }
      else if (this.pcre2 && /^VERSION>?=\d+(\.\d+)?$/.test(cond)) { /* PCRE2's version test */ }
      else if (this.pcre2) this.nameRefs.push(this.checkName(cond, '(?(name)'));
      else this.fail('', `an unknown switch condition (?(${cond})`);
      this.i += 1 + m![0].length;
    }
    const define = /^DEFINE\)/.test(rest);
    const spans = this.closeGroup(x, 'group');
    if (spans.length > 2) this.fail('a conditional group with more than two branches', 'a switch (?(condition)... with too many branches');
    if (define && spans.length > 1) this.fail('a (?(DEFINE)...) group with more than one branch', 'a (?(DEFINE)...) group with branches');
    return { span: union(spans), repeat: 'item' };
  }

  /** `(*VERB)`, `(*VERB:NAME)`, `(*:NAME)`, PCRE2's start-of-pattern options, and `(*pla:...)`-style groups. */
  private verb(x: boolean): Piece | { x: boolean } {
    const m = /^\(\*([A-Za-z_]*(?:=\d+)?)(:?)/.exec(this.p.slice(this.i))!;
    const name = m[1]!;
    if (/^[a-z_]+$/.test(name) && m[2] === ':') {
      const kind = Object.hasOwn(ALPHA_GROUPS, name) ? ALPHA_GROUPS[name] : this.pcre2 && Object.hasOwn(PCRE2_ALPHA_GROUPS, name) ? PCRE2_ALPHA_GROUPS[name] : undefined;
      if (!kind) this.fail(`an unknown (*${name}:...) assertion`);
      this.i += m[0].length;
      // Perl builds (*atomic:...) and the script runs from its lookaround code: \K is refused in them too.
      const perlLook = !this.pcre2 && kind === 'group';
      if (perlLook) this.lookarounds++;
      const piece = this.body(x, kind!);
      if (perlLook) this.lookarounds--;
      return piece;
    }
    const end = this.p.indexOf(')', this.i);
    const arg = m[2] === ':' ? this.p.slice(this.i + m[0].length, end) : undefined;
    const startOption = this.pcre2 && arg === undefined && PCRE2_START_OPTIONS.test(name) && /^(\(\*[A-Z_]+(=\d+)?\))*$/.test(this.p.slice(0, this.i));
    if (end < 0 || !(VERBS.has(name) || startOption)) this.fail(`a (*VERB) not recognized or malformed ("(*${name}")`, `an unknown verb pattern "${name}"`);
    if ((name === 'MARK' || name === '') && !arg) this.fail('(*MARK) without its name', 'a (*MARK) without its name');
    this.i = end + 1;
    if (startOption) return { x };
    // PCRE2 repeats (*ACCEPT) only.
    return { span: ZERO, repeat: name === 'ACCEPT' ? 'item' : 'assertion' };
  }

  /** A group's content after its opening: capture, group, reset (branch reset), lookahead or lookbehind. */
  private body(x: boolean, kind: 'capture' | 'group' | 'reset' | 'lookahead' | 'lookbehind', number?: number): Piece {
    const look = kind === 'lookahead' || kind === 'lookbehind';
    if (look) this.lookarounds++;
    if (kind === 'lookbehind') this.lookbehinds++;
    const spans = this.closeGroup(x, kind);
    if (look) this.lookarounds--;
    if (kind === 'lookbehind') {
      this.lookbehinds--;
      if (this.pcre2 && spans.some((s) => s.known && s.min !== s.max)) this.fail('a lookbehind assertion that is not fixed length');
      if (this.pcre2 && spans.some((s) => s.known && s.max > MAX_PCRE2_LOOKBEHIND)) this.fail(`a lookbehind assertion longer than ${MAX_PCRE2_LOOKBEHIND} characters`);
      if (!this.pcre2 && spans.some((s) => s.known && s.max > MAX_PERL_LOOKBEHIND)) this.fail('', `a lookbehind longer than ${MAX_PERL_LOOKBEHIND} characters`);
    }
    const span = look ? ZERO : union(spans);
    if (number !== undefined) this.groupSpans.set(number, span);
    return { span, repeat: 'item' };
  }

  /** The branches to the group's `)`, which must be there. */
  private closeGroup(x: boolean, kind: string): Span[] {
    if (this.opened.length > MAX_NESTING && this.pcre2) this.fail(`parentheses nested deeper than ${MAX_NESTING}`);
    const spans = this.branches(x, kind === 'reset');
    if (this.p[this.i] !== ')') {
      this.i = this.opened.at(-1)!;
      this.fail('a missing closing parenthesis for this (', 'an unmatched (');
    }
    this.i++;
    return spans;
  }
}

function add(a: Span, b: Span): Span {
  return { min: a.min + b.min, max: a.max + b.max, known: a.known && b.known };
}

function times(s: Span, min: number, max: number): Span {
  return { min: s.min * min, max: max === 0 || s.max === 0 ? 0 : s.max * max, known: s.known };
}

function union(spans: Span[]): Span {
  return { min: Math.min(...spans.map((s) => s.min)), max: Math.max(...spans.map((s) => s.max)), known: spans.every((s) => s.known) };
}
