/**
 * Host selection, Ansible style: `hosts: [directors, "web*", "!web3", "&zone_b"]`, or one string
 * `directors:web*:!web3`. What each term matches follows ansible-core's InventoryManager
 * (_match_one_pattern, _enumerate_matches): a host name; a group; a glob or, after `~`, a regular
 * expression (anchored at its start, as Python's re.match), matched against group names (each
 * match brings the group's hosts) and against host names; an optional subscript picks from what
 * the term matched (`web[0]`, `web[-1]`, `real_servers[1:3]` inclusive, `[2:]` to the end). Plain
 * terms are unioned, `&term` intersects, `!term` excludes; with no plain term at all the selection
 * starts from every host (order_patterns: `!web1` alone means all but web1). The result keeps the
 * inventory's order whatever the terms' (Ansible keeps the terms'), so batches are reproducible.
 */
import { createRequire } from 'node:module';
import type { Cluster, Host } from '../inventory/model.js';
import { fnmatch } from '../util/fnmatch.js';
import { InputFileError, readInputFile } from '../util/input-file.js';
import { someOf } from '../util/some-of.js';
import { isOneAddress } from './ansible-address.js';

export function selectHosts(cluster: Cluster, terms: readonly string[]): Host[] {
  const all = [...cluster.hosts.values()];
  let chosen = new Set<Host>();
  const given = terms.filter((t) => t !== '');
  const plain = given.filter((t) => !t.startsWith('!') && !t.startsWith('&'));
  if (plain.length === 0) plain.push('all');
  for (const term of plain) for (const h of matching(cluster, term)) chosen.add(h);
  for (const term of given.filter((t) => t.startsWith('&'))) {
    const keep = new Set(matching(cluster, term.slice(1)));
    chosen = new Set([...chosen].filter((h) => keep.has(h)));
  }
  for (const term of given.filter((t) => t.startsWith('!'))) for (const h of matching(cluster, term.slice(1))) chosen.delete(h);
  return all.filter((h) => chosen.has(h));
}

/**
 * ansible-core's split_host_pattern: a string with a comma is split at commas; one without is a
 * single term when parse_address reads the whole as one host identifier (a host name, an IPv4 or
 * IPv6 address, with an optional port: ansible-address.ts), and is otherwise split at colons
 * outside brackets (`web[0:2]` stays whole) and at whitespace. Terms are trimmed, empty ones dropped.
 */
export function splitHostPattern(text: string): string[] {
  const parts = text.includes(',') ? text.split(',')
    : isOneAddress(text) ? [text]
      : text.match(/(?:[^\s:[\]]|\[[^\]]*\])+/g) ?? [];
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

/**
 * `--limit` as ansible-playbook reads it (InventoryManager.subset): split as above; a term
 * `@FILE` stands for the file's lines (a retry file: one host per line). No term left means no
 * limit at all (so `--limit ','` limits nothing, as there). Throws LimitFileError for a file that
 * cannot be read.
 */
export function limitTerms(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const terms = splitHostPattern(text).flatMap((term) => (term.startsWith('@') ? linesOf(term.slice(1)) : [term]));
  return terms.length === 0 ? undefined : terms;
}

export class LimitFileError extends Error {}

/** A retry file's host names: a regular file only (a FIFO would hang the run), as every file lvsplay is handed. */
function linesOf(file: string): string[] {
  let text: string;
  try {
    text = readInputFile(file);
  } catch (err) {
    if (!(err instanceof InputFileError)) throw err;
    throw new LimitFileError(`--limit @${file}: the file ${err.message}`);
  }
  return text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
}

/** A term's shape: a name, group or glob with an optional [subscript], or `~` and a regular expression (printable ASCII: it is quoted back on a terminal); `!` or `&` before either. */
const TERM = /^[!&]?(?:[A-Za-z0-9_.*?[\]!:-]{1,63}|~[\x21-\x2b\x2d-\x7e]{1,200})$/;

/** Why a term cannot select or selects nothing, or undefined when it is fine. */
export function unknownTerm(cluster: Cluster, term: string): string | undefined {
  const invalid = invalidTerm(cluster, term);
  if (invalid) return invalid;
  const bare = term.replace(/^[!&]/, '');
  // _enumerate_matches warns only when its expression (the subscript aside) matched no host and no
  // group name: `backup` with one director, `web1[1:]`, are known, and select nobody rightly
  const { expr } = splitSubscript(bare);
  if (enumerated(cluster, expr).length > 0 || [...cluster.groups].some(nameMatcher(expr))) return undefined;
  return `"${bare}" is no host, group or pattern matching a host; groups are ${[...cluster.groups].sort().join(', ')}`;
}

/**
 * Why a term is an error wherever it is given (ansible-core raises on it, --limit included), or
 * undefined: not a term at all, an expression after `~` that does not compile ("Invalid host list
 * pattern"), or an index past the end of what the term matched ("No hosts matched the subscripted
 * pattern"). A --limit term that is well formed but matches nothing is only a warning there.
 */
export function invalidTerm(cluster: Cluster, term: string): string | undefined {
  const bare = term.replace(/^[!&]/, '');
  if (bare === '') return `"${term}" names no host, group or pattern`;
  if (!TERM.test(term)) return `expected a host, group or glob (optionally with a [subscript]) or ~regex, with ! or & before it to exclude or intersect, got ${JSON.stringify(term)}`;
  const invalid = badRegex(bare);
  if (invalid) return `"${bare}": ${invalid}`;
  if (cluster.hosts.has(bare)) return undefined;
  const { expr, subscript } = splitSubscript(bare);
  const index = subscript && ('index' in subscript ? subscript.index : subscript.end === 0 ? subscript.start : undefined);
  if (index !== undefined) {
    const listed = enumerated(cluster, expr);
    // _apply_subscript returns an empty match as it is, subscript unread: no error there (a --limit
    // term that matches nothing is a warning, a play's is unknown); `[2:0]` is `[2]`, as there.
    if (listed.length > 0 && listed[index < 0 ? listed.length + index : index] === undefined) {
      return `"${bare}": no host matched the subscripted pattern (${expr} matches ${listed.length} host${listed.length === 1 ? '' : 's'}, counted from 0)`;
    }
  }
  return undefined;
}

/**
 * Why a play's terms, each fine alone, select no host together (`web1:&lb1`, `!all`), or undefined.
 * Ansible skips such a play ("no hosts matched"); here it is a mistake worth stopping for, as an
 * unknown term is. Terms whose own hosts are none (the group `backup` of an inventory with one
 * director) select nobody rightly: the play is for inventories that have them.
 */
export function leavesNoHost(cluster: Cluster, terms: readonly string[]): string | undefined {
  if (selectHosts(cluster, terms).length > 0) return undefined;
  const plain = terms.filter((t) => !t.startsWith('!') && !t.startsWith('&'));
  const before = selectHosts(cluster, plain).map((h) => h.name);
  if (before.length === 0) return undefined;
  const narrowing = terms.filter((t) => !plain.includes(t));
  return `selects no host: ${narrowing.join(', ')} leave${narrowing.length === 1 ? 's' : ''} none of ${plain.length > 0 ? plain.join(', ') : 'all'} (${someOf(before, 5)})`;
}

function badRegex(term: string): string | undefined {
  if (!term.startsWith('~')) return undefined;
  try {
    re2().compile(term.slice(1));
    return undefined;
  } catch (err) {
    const why = (err as Error).message.replace(/^error parsing regexp: /, '');
    return `not a regular expression after "~" (${why}; lvsplay reads RE2 syntax, matched in time linear in the name: no backreferences or lookarounds)`;
  }
}

/**
 * A user's pattern runs on RE2's engine (re2js, pure JavaScript), not V8's backtracking one, where
 * `~(a+)+b` against a 40-character name does not return. Loaded on first use: most runs have no `~`.
 */
let re2js: typeof import('re2js') | undefined;
function re2(): typeof import('re2js').RE2JS {
  re2js ??= createRequire(import.meta.url)('re2js') as typeof import('re2js');
  return re2js.RE2JS;
}

/** What one term (without its ! or &) selects, in inventory order. */
function matching(cluster: Cluster, term: string): Host[] {
  const exact = cluster.hosts.get(term);
  if (exact) return [exact];
  if (badRegex(term)) return [];
  const { expr, subscript } = splitSubscript(term);
  const picked = new Set(pick(enumerated(cluster, expr), subscript));
  return [...cluster.hosts.values()].filter((h) => picked.has(h));
}

/**
 * What an expression matches, listed as _enumerate_matches lists it, which is what a subscript
 * counts in: each matching group's hosts, group after group, then the matching host names (tried
 * when no group matched, or always for a regex or a glob); a host listed twice counts twice.
 */
function enumerated(cluster: Cluster, expr: string): Host[] {
  const all = [...cluster.hosts.values()];
  const isMatch = nameMatcher(expr);
  const groups = [...cluster.groups].filter((g) => isMatch(g));
  const listed = groups.flatMap((g) => all.filter((h) => inGroup(h, g)));
  if (groups.length === 0 || /^~|[.?*[]/.test(expr)) listed.push(...all.filter((h) => isMatch(h.name)));
  return listed;
}

function inGroup(host: Host, group: string): boolean {
  if (group === 'all') return true;
  // The directors' roles are groups too, computed (they change on failover, groups do not).
  if (group === 'primary' || group === 'backup') return host.kind === 'director' && host.role === group;
  return host.groups.includes(group);
}

/** A glob, or after `~` a regular expression, as a test of a group's or a host's name. */
function nameMatcher(expr: string): (name: string) => boolean {
  return expr.startsWith('~') ? anchoredAtStart(expr.slice(1)) : fnmatch(expr);
}

/** Python's re.match: the expression must match at the start of the name, not necessarily to its end. */
function anchoredAtStart(source: string): (name: string) => boolean {
  const re = re2().compile(source);
  return (name) => re.matcher(name).lookingAt();
}

type Subscript = { index: number } | { start: number; end: number | undefined };

/** `expr[n]`, `expr[a:b]` (inclusive), `expr[a:]`; Ansible's deprecated `[a-b]` reads as `[a:b]`. Not after `~`. */
function splitSubscript(term: string): { expr: string; subscript?: Subscript } {
  const m = term.startsWith('~') ? null : /^(.+)\[(?:(-?[0-9]+)|([0-9]+)[:-]([0-9]*))\]$/.exec(term);
  if (!m) return { expr: term };
  if (m[2] !== undefined) return { expr: m[1]!, subscript: { index: Number(m[2]) } };
  return { expr: m[1]!, subscript: { start: Number(m[3]), end: m[4] === '' ? undefined : Number(m[4]) } };
}

/** ansible-core's _apply_subscript, quirks included: an end of 0 picks the start alone; out of range picks nothing. */
function pick(hosts: Host[], subscript: Subscript | undefined): Host[] {
  if (!subscript || hosts.length === 0) return hosts;
  if ('index' in subscript) {
    const host = hosts.at(subscript.index);
    return host ? [host] : [];
  }
  if (subscript.end === 0) return hosts[subscript.start] ? [hosts[subscript.start]!] : [];
  return hosts.slice(subscript.start, subscript.end === undefined ? hosts.length : subscript.end + 1);
}
