/**
 * Host selection, Ansible style: `hosts: [directors, "web*", "!web3", "&zone_b"]`. Plain terms are
 * unioned, `&term` intersects, `!term` excludes; with no plain term at all the selection starts
 * from every host (Ansible's order_patterns: `!web1` alone means all but web1). A term is a host
 * name, a group, or a glob over host names. Order follows the inventory, so runs are reproducible.
 */
import picomatch from 'picomatch';
import type { Cluster, Host } from '../inventory/model.js';

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
 * `--limit` as ansible-playbook reads it (InventoryManager.subset): comma-separated terms, empty
 * ones dropped; no term left means no limit at all (so `--limit ','` limits nothing, as there).
 */
export function limitTerms(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const terms = text.split(',').map((t) => t.trim()).filter((t) => t !== '');
  return terms.length === 0 ? undefined : terms;
}

/** Why a term selects nothing, or undefined when it is fine. */
export function unknownTerm(cluster: Cluster, term: string): string | undefined {
  const bare = term.replace(/^[!&]/, '');
  if (bare === '') return `"${term}" names no host, group or pattern`;
  if (matching(cluster, bare).length > 0 || cluster.groups.has(bare)) return undefined;
  return `"${bare}" is no host, group or pattern matching a host; groups are ${[...cluster.groups].sort().join(', ')}`;
}

function matching(cluster: Cluster, term: string): Host[] {
  const all = [...cluster.hosts.values()];
  if (term === 'all' || term === '*') return all;
  const host = cluster.hosts.get(term);
  if (host) return [host];
  // The directors' roles are groups too, computed (they change on failover, groups do not).
  if (term === 'primary' || term === 'backup') return all.filter((h) => h.kind === 'director' && h.role === term);
  if (cluster.groups.has(term)) return all.filter((h) => h.groups.includes(term));
  const isMatch = picomatch(term);
  return all.filter((h) => isMatch(h.name));
}
