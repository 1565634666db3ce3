/**
 * OpenSSH's host and user patterns (match.c), shared by known_hosts (known-hosts.ts) and the client
 * config (ssh-config.ts), which both claim to read as ssh reads: `*` any run of characters, `?` any
 * one, nothing else special (no brackets, unlike fnmatch).
 */

/**
 * match_pattern: the whole string against one pattern, case as given. Matched in a single pass that
 * only ever retries from the latest `*` (what a later star can match an earlier one need not), so a
 * pattern of many stars costs pattern × string steps, not the exponential backtracking a RegExp or
 * match.c's recursion can take.
 */
export function matchPattern(text: string, pattern: string): boolean {
  let t = 0;
  let p = 0;
  let starP = -1;
  let starT = 0;
  while (t < text.length) {
    if (p < pattern.length && (pattern[p] === '?' || (pattern[p] !== '*' && pattern[p] === text[t]))) {
      t += 1;
      p += 1;
    } else if (p < pattern.length && pattern[p] === '*') {
      starP = p;
      starT = t;
      p += 1;
    } else if (starP !== -1) {
      p = starP + 1;
      starT += 1;
      t = starT;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p += 1;
  return p === pattern.length;
}

/** C's tolower in the C locale, as OpenSSH lowercases names and patterns: ASCII letters only. */
export function asciiLower(text: string): string {
  return text.replace(/[A-Z]+/g, (s) => s.toLowerCase());
}

/** match_pattern_list copies each pattern into a 1,024-byte buffer and gives up when it fills. */
const MAX_PATTERN_BYTES = 1023;

/** A pattern too long for match_pattern_list's buffer: the whole list then matches nothing. */
export function overlongPattern(pattern: string): boolean {
  return Buffer.byteLength(pattern) >= MAX_PATTERN_BYTES;
}

/**
 * match_pattern_list: a comma-separated list of patterns, each maybe negated by `!`, lowercased
 * (ASCII) first when `lower`. 1 when a pattern matches, -1 when a negated one does (whatever else
 * matches), 0 otherwise, and 0 as soon as a pattern is 1,023 bytes or more.
 */
export function matchPatternList(text: string, list: string, lower: boolean): -1 | 0 | 1 {
  let matched: 0 | 1 = 0;
  for (const item of list.split(',')) {
    const negated = item.startsWith('!');
    const pattern = negated ? item.slice(1) : item;
    if (overlongPattern(pattern)) return 0;
    if (!matchPattern(text, lower ? asciiLower(pattern) : pattern)) continue;
    if (negated) return -1;
    matched = 1;
  }
  return matched;
}
