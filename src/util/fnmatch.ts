/**
 * A shell wildcard as Python's fnmatch and glob(3) read one: `*`, `?`, `[seq]`, `[!seq]`, over the
 * whole name (Ansible's host globs; keepalived's include, one path segment at a time). Not a path
 * glob library's: `[!1]` is "not 1" here, and nothing is special about dots or slashes.
 */
export function fnmatch(pattern: string): (name: string) => boolean {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') source += '.*';
    else if (c === '?') source += '.';
    else if (c === '[') {
      let j = i + 1;
      if (pattern[j] === '!') j++;
      if (pattern[j] === ']') j++;
      while (j < pattern.length && pattern[j] !== ']') j++;
      if (j >= pattern.length) {
        source += '\\[';
        continue;
      }
      const set = pattern.slice(i + 1, j);
      i = j;
      const escaped = (s: string) => s.replace(/[\\[\]^]/g, '\\$&');
      source += set === '' ? '(?!)' : set === '!' ? '.' : set.startsWith('!') ? `[^${escaped(set.slice(1))}]` : `[${escaped(set)}]`;
    } else source += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  try {
    const re = new RegExp(`^(?:${source})$`, 'su');
    return (name) => re.test(name);
  } catch {
    return () => false; // a reversed range ([z-a]): Python drops it, so it matches nothing there either
  }
}
