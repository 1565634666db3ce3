/**
 * sysctl(8)'s key spellings, in a leaf module: the playbook schema reads them (two spellings of one
 * key in `extra`) as well as the resource.
 */

/**
 * Where the kernel keeps a key, as sysctl(8) reads it: net.ipv4.ip_forward → /proc/sys/net/ipv4/ip_forward.
 * When the first separator is '/', slashes separate and dots are part of names; otherwise a '/'
 * stands for a dot in a name: net.ipv4.conf.eth0/100.rp_filter → .../conf/eth0.100/rp_filter.
 */
export function procPath(key: string): string {
  const slashFirst = /^[^.]*\//.test(key);
  return `/proc/sys/${slashFirst ? key : key.replace(/[./]/g, (c) => (c === '.' ? '/' : '.'))}`;
}

/** sysctl(8)'s name for a /proc/sys path: /proc/sys/net/ipv4/conf/eth0.100/rp_filter → net.ipv4.conf.eth0/100.rp_filter. */
export function keyOf(path: string): string {
  return path.slice('/proc/sys/'.length).replace(/[./]/g, (c) => (c === '/' ? '.' : '/'));
}
