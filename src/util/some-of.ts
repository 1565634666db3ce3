/** A long list of names in a message: the first few, then how many more. */
export function someOf(names: readonly string[], shown: number): string {
  const first = names.slice(0, shown).join(', ');
  return names.length > shown ? `${first} and ${names.length - shown} more` : first;
}

/** Hosts a message is about: "host web1", or "hosts web1, web2 and 3 more". */
export function listHosts(hosts: readonly string[]): string {
  return `${hosts.length === 1 ? 'host' : 'hosts'} ${someOf(hosts, 5)}`;
}
