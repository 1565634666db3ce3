/**
 * Whether a POSIX extended regular expression is one a director's `grep -E` compiles (a health
 * gate's `http.body`). Checked here so validate says so, instead of grep exiting 2 on every retry
 * of the gate, which read as "the body does not match".
 *
 * The rules are GNU grep's (glibc regcomp and dfa.c, as Debian's grep 3.8 answers): unbalanced `(`
 * or `[`, an unknown `[:class:]`, a multi-character `[.x.]`/`[=x=]`, a reversed range or a range
 * after a range or from a class, `{m,n}` with m > n or a third number, `[:alpha:]` outside a
 * bracket, and a trailing backslash. Stricter than grep on purpose, where its answer depends on more
 * than the pattern: no back-references (`\1`: valid or not by where its group is), ranges of ASCII
 * only (others follow the locale's collation), counts at most 255 and a pattern that expands to at
 * most 32,767 atoms (glibc's "Regular expression too big").
 */
const CLASSES = new Set(['alpha', 'digit', 'alnum', 'upper', 'lower', 'space', 'blank', 'punct', 'print', 'graph', 'cntrl', 'xdigit']);
const MAX_COUNT = 255;
const MAX_ATOMS = 32767;
const UNMATCHED_BRACKET = 'an unmatched "[" (grep -E: "Unmatched [, [^, [:, [., or [=")';
const TOO_BIG = `a pattern that expands to more than ${MAX_ATOMS} atoms (grep -E: "Regular expression too big")`;

class EreError extends Error {}

export function ereProblem(pattern: string): string | undefined {
  try {
    new EreReader(pattern).read();
    return undefined;
  } catch (err) {
    if (err instanceof EreError) return err.message;
    throw err;
  }
}

/** One pass over the pattern, sizing each group as its atoms expand (a count multiplies the atom before it). */
class EreReader {
  private i = 0;
  private skipped = false;
  /** Open groups, innermost last: the atoms so far in each, and the size of its last atom (what a count repeats). */
  private readonly groups: { size: number; last: number }[] = [{ size: 0, last: 0 }];

  constructor(private readonly p: string) {}

  read(): void {
    while (this.i < this.p.length) {
      const c = this.p[this.i]!;
      const group = this.groups.at(-1)!;
      // glibc skips a repetition with nothing before it to repeat (start, `(`, `|`, `^`, `$`) and
      // reads on; a `)` right after one is then a plain character: `(*)` is an unmatched "(".
      const afterSkipped = this.skipped;
      this.skipped = false;
      if (c === '\\') this.escape();
      else if (c === '[') {
        this.bracket();
        this.atom(1);
      }
      else if (c === '(') {
        this.groups.push({ size: 0, last: 0 });
        this.i++;
      } else if (c === ')' && this.groups.length > 1 && !afterSkipped) {
        this.groups.pop();
        this.i++;
        this.atom(Math.max(group.size, 1));
      } else if ('*+?{'.includes(c) && group.last === 0) {
        this.skipped = true;
        this.i++;
      } else if (c === '{' && this.interval()) continue;
      else {
        this.i++;
        if ('|^$'.includes(c)) group.last = 0;
        else if (!'*+?'.includes(c)) this.atom(1);
      }
    }
    if (this.groups.length > 1) throw new EreError('an unmatched "(" (grep -E: "Unmatched ( or \\(")');
  }

  private atom(size: number): void {
    const group = this.groups.at(-1)!;
    group.size += size;
    group.last = size;
    if (group.size > MAX_ATOMS) throw new EreError(TOO_BIG);
  }

  private escape(): void {
    const next = this.p[this.i + 1];
    if (next === undefined) throw new EreError('a trailing backslash (grep -E: "Trailing backslash")');
    if (/[1-9]/.test(next)) throw new EreError(`a back-reference ("\\${next}"), which lvsplay does not take in a health gate's body: grep's answer depends on where its group is`);
    this.i += 2;
    this.atom(1);
  }

  /**
   * `{m}`, `{m,}`, `{,n}`, `{m,n}` after an atom: true when read. Read as glibc's parse_dup_op
   * does: numbers up to the next `,` or `}`; anything but digits in one (`a{1a}`), or the end of the
   * pattern first (`a{1,2`), makes the `{` a plain character; otherwise the count must be complete.
   */
  private interval(): boolean {
    const first = this.number(this.i + 1);
    if (first.value === -2) return false;
    if (first.value === -1 && first.stop !== ',') throw new EreError('"{}": a count needs a number (grep -E: "Invalid content of \\{\\}")');
    const low = Math.max(first.value, 0);
    const second = first.stop === ',' ? this.number(first.at + 1) : { value: low, stop: '}', at: first.at };
    if (second.value === -2) return false;
    const text = this.p.slice(this.i, second.at + 1);
    if (second.stop !== '}') throw new EreError(`"${text}": a count is {m}, {m,}, {,n} or {m,n} (grep -E: "Invalid content of \\{\\}")`);
    const high = second.value === -1 ? undefined : second.value;
    if (high !== undefined && low > high) throw new EreError(`"${text}": the first count is larger than the second (grep -E: "Invalid content of \\{\\}")`);
    if (Math.max(low, high ?? 0) > MAX_COUNT) throw new EreError(`"${text}": counts of at most ${MAX_COUNT}`);
    const group = this.groups.at(-1)!;
    group.size += group.last * (Math.max(low, high ?? low, 1) - 1);
    if (group.size > MAX_ATOMS) throw new EreError(TOO_BIG);
    this.i = second.at + 1;
    return true;
  }

  /** glibc's fetch_number from `at`: -1 for no digits, -2 for other characters or the pattern's end; where it stopped (`,` or `}`). */
  private number(at: number): { value: number; stop: string; at: number } {
    let value = -1;
    for (let j = at; j < this.p.length; j++) {
      const c = this.p[j]!;
      if (c === ',' || c === '}') return { value, stop: c, at: j };
      value = /[0-9]/.test(c) && value !== -2 ? Math.min((value === -1 ? 0 : value * 10) + Number(c), MAX_COUNT + 1) : -2;
    }
    return { value: -2, stop: '', at: this.p.length };
  }

  /** A bracket expression from its `[`, checked item by item (it matches one character). */
  private bracket(): void {
    const start = this.i;
    let j = this.i + 1;
    if (this.p[j] === '^') j++;
    let first = true;
    let afterRange = false;
    /** What grep's "[:space:]" warning looks past: a range or a [: . =] element in the bracket. */
    let structured = false;
    for (;;) {
      const c = this.p[j];
      if (c === undefined) throw new EreError(UNMATCHED_BRACKET);
      if (c === ']' && !first) break;
      first = false;
      if (afterRange && c === '-' && this.p[j + 1] !== ']') throw new EreError('a range right after another range (grep -E: "Invalid range end")');
      let item: string | undefined;
      if (c === '[' && ':.='.includes(this.p[j + 1] ?? '')) {
        const kind = this.p[j + 1]!;
        const end = this.p.indexOf(`${kind}]`, j + 2);
        if (end < 0) throw new EreError(UNMATCHED_BRACKET);
        const name = this.p.slice(j + 2, end);
        if (kind === ':' && !CLASSES.has(name)) throw new EreError(`"[:${name}:]" is no character class (grep -E: "Invalid character class name"); the classes are ${[...CLASSES].join(', ')}`);
        if (kind !== ':' && Array.from(name).length !== 1) throw new EreError(`"[${kind}${name}${kind}]": one character only (grep -E: "Invalid collation character")`);
        item = kind === '.' ? name : undefined; // a class or an equivalence class cannot bound a range
        structured = true;
        j = end + 2;
      } else {
        item = c;
        j++;
      }
      if (this.p[j] === '-' && this.p[j + 1] !== ']' && this.p[j + 1] !== undefined) {
        if (item === undefined) throw new EreError('a range from a [:class:] or [=x=] (grep -E: "Invalid range end")');
        let to = this.p[j + 1]!;
        j += 2;
        if (to === '[' && ':='.includes(this.p[j] ?? '')) throw new EreError('a range to a [:class:] or [=x=] (grep -E: "Invalid range end")');
        if (to === '[' && this.p[j] === '.') {
          const end = this.p.indexOf('.]', j + 1);
          if (end < 0) throw new EreError(UNMATCHED_BRACKET);
          to = this.p.slice(j + 1, end);
          j = end + 2;
        }
        if (!/^[\x20-\x7e]$/.test(item) || !/^[\x20-\x7e]$/.test(to)) throw new EreError(`a range "${item}-${to}" of other than printable ASCII characters (their order follows the director's locale)`);
        if (item > to) throw new EreError(`a reversed range "${item}-${to}" (grep -E: "Invalid range end")`);
        afterRange = true;
        structured = true;
      } else afterRange = false;
    }
    const inside = this.p.slice(start + 1, j);
    if (!structured && /^:.*[^:].*:$/s.test(inside)) throw new EreError(`"[${inside}]": a class is written inside a bracket, [[${inside}]] (grep -E: "character class syntax is [[:space:]]")`);
    this.i = j + 1;
  }
}
