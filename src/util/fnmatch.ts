/**
 * A shell wildcard as Python's fnmatch and glob(3) read one: `*`, `?`, `[seq]`, `[!seq]`, over the
 * whole name (Ansible's host globs; keepalived's include, one path segment at a time). Not a path
 * glob library's: `[!1]` is "not 1" here, and nothing is special about dots or slashes.
 *
 * Matched directly, not through a backtracking regular expression: `*a*a*a…b` against a long name
 * took a RegExp hours. Here a `*` is only ever retried from the latest one, which is enough for
 * wildcards (what a later star can match, an earlier one need not), so the cost is at most
 * pattern × name characters.
 */
type Token = { kind: 'star' } | { kind: 'one'; matches: (c: string) => boolean };

export function fnmatch(pattern: string): (name: string) => boolean {
  const tokens = tokenize(pattern);
  return (name) => matches(tokens, Array.from(name));
}

function tokenize(pattern: string): Token[] {
  const chars = Array.from(pattern);
  const tokens: Token[] = [];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === '*') {
      if (tokens.at(-1)?.kind !== 'star') tokens.push({ kind: 'star' });
    } else if (c === '?') tokens.push({ kind: 'one', matches: () => true });
    else if (c === '[') {
      let j = i + 1;
      if (chars[j] === '!') j++;
      if (chars[j] === ']') j++;
      while (j < chars.length && chars[j] !== ']') j++;
      if (j >= chars.length) {
        tokens.push(literal(c));
        continue;
      }
      tokens.push({ kind: 'one', matches: characterSet(chars.slice(i + 1, j).join('')) });
      i = j;
    } else tokens.push(literal(c));
  }
  return tokens;
}

const literal = (c: string): Token => ({ kind: 'one', matches: (x) => x === c });

/** `[seq]`'s test of one character: a one-character class is linear whatever it holds. */
function characterSet(set: string): (c: string) => boolean {
  const negated = set.startsWith('!');
  const escaped = (negated ? set.slice(1) : set).replace(/[\\[\]^]/g, '\\$&');
  try {
    const re = new RegExp(`^[${negated ? '^' : ''}${escaped}]$`, 'su');
    return (c) => re.test(c);
  } catch {
    return () => false; // a reversed range ([z-a]): Python drops it, so it matches nothing there either
  }
}

/** The wildcard walk: on a mismatch, the latest `*` takes one more character and the rest is tried again. */
function matches(tokens: readonly Token[], name: readonly string[]): boolean {
  let t = 0;
  let n = 0;
  let star = -1;
  let starFrom = 0;
  while (n < name.length) {
    const token = tokens[t];
    if (token?.kind === 'star') {
      star = t++;
      starFrom = n;
    } else if (token?.matches(name[n]!)) {
      t++;
      n++;
    } else if (star >= 0) {
      t = star + 1;
      n = ++starFrom;
    } else return false;
  }
  while (tokens[t]?.kind === 'star') t++;
  return t === tokens.length;
}
