/**
 * Scalar field types of the inventory and playbooks. Each is strict: a value that passes can be
 * handed to a shell (still quoted, see util/shell.ts) or to ipvsadm without surprises. Messages
 * start with "expected" so the problem formatter shows them as-is.
 */
import { isIPv4, isIPv6 } from 'node:net';
import ipaddr from 'ipaddr.js';
import { canonicalAddress, ipv6Groups } from './addresses.js';
import * as z from 'zod';

/** Host, group, service and task names: also used in file names and ldirectord comments. */
export const Name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, {
  error: 'expected a name of letters, digits, "_", "." or "-" (at most 63, starting with a letter or digit)',
});

export const Ipv4 = z.string().refine((v) => isIPv4(v), { error: 'expected an IPv4 address' });
/** Zone indexes (fe80::1%eth0) are refused: VIPs and RIPs are global, and ipvsadm takes none. */
const isAddress6 = (v: string) => isIPv6(v) && !v.includes('%');
export const Ipv6 = z.string().refine(isAddress6, { error: 'expected an IPv6 address (no zone index)' });
export const Ip = z.string().refine((v) => isIPv4(v) || isAddress6(v), { error: 'expected an IPv4 or IPv6 address' });

/**
 * Why an address cannot be a host's or a VIP's: one no packet can be addressed to, or that the
 * kernel and ipvsadm spell differently (an IPv4-mapped or -compatible IPv6 address, which
 * ipaddr.js and glibc print in two ways), or undefined when it is a usable unicast address.
 * Loopback is only for a director's own fallback (`allowLoopback`).
 */
export function unusableAddress(value: string, options: { allowLoopback?: boolean } = {}): string | undefined {
  if (!(isIPv4(value) || isAddress6(value)) || !ipaddr.isValid(value)) return undefined; // the Ip check says why
  if (value.includes(':')) {
    const g = ipv6Groups(value);
    const zeros = (n: number) => g.slice(0, n).every((x) => x === 0);
    if (zeros(5) && g[5] === 0xffff) return 'an IPv4-mapped IPv6 address; write the IPv4 address itself';
    if (zeros(6) && (g[6] !== 0 || g[7]! > 1)) return 'an IPv4-compatible IPv6 address (deprecated, RFC 4291); write the IPv4 address itself';
  }
  const range = ipaddr.parse(canonicalAddress(value)).range();
  switch (range) {
    case 'unspecified': return 'the unspecified address';
    case 'broadcast': return 'the broadcast address';
    case 'multicast': return 'a multicast address';
    case 'linkLocal': return 'a link-local address (it needs a zone, and VIPs and real servers are global)';
    case 'ipv4Mapped': return 'an IPv4-mapped IPv6 address; write the IPv4 address itself';
    case 'loopback': return options.allowLoopback ? undefined : 'a loopback address';
    default: return undefined;
  }
}

/** An address packets can be sent to: a VIP, a director's or real server's address. */
export const UnicastIp = Ip.superRefine((v, ctx) => {
  const why = unusableAddress(v);
  if (why) ctx.addIssue({ code: 'custom', message: `expected a unicast address, not ${why}` });
});

/**
 * Address with prefix length, as `ip addr` takes it (192.0.2.5/24, 2001:db8::5/64): an address on
 * a link with the link's prefix (an interface's, the NAT gateway's). A prefix under /8 (IPv6 /16)
 * is no link: `ip addr add 203.0.113.1/0` would put a connected route for everything on that
 * interface, over the director's default route.
 */
export const Cidr = z.string().refine(isCidr, { error: 'expected an address with a prefix length, like 192.0.2.5/24' }).superRefine((v, ctx) => {
  if (!isCidr(v)) return; // said above
  const prefix = Number(v.slice(v.lastIndexOf('/') + 1));
  const least = isIPv4(v.slice(0, v.lastIndexOf('/'))) ? 8 : 16;
  if (prefix < least) ctx.addIssue({ code: 'custom', message: `expected a link's prefix, /${least} or longer: a /${prefix} would route that much of the Internet to this link` });
});

/**
 * An SSH destination: an IP address or a DNS host name. A name whose last label is a number
 * (`010.0.0.1`, `0x7f.1`, `127.1`) is no DNS name (no top-level domain is numeric): the resolver
 * reads it as an IPv4 address in inet_aton's forms (octal, hex, short), another host than it looks.
 */
export const HostName = z
  .string()
  .refine((v) => isIPv4(v) || isAddress6(v) || /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(v), {
    error: 'expected an IP address or a DNS host name',
  })
  .refine((v) => isIPv4(v) || isAddress6(v) || !/(^|\.)(\d+|0x[0-9a-f]*)$/i.test(v), {
    error: 'expected an IP address as four decimal numbers (a name ending in a number is read as an address in octal, hex or short form: 010.0.0.1 is 8.0.0.1)',
  })
  .refine((v) => !(isIPv4(v) || isAddress6(v)) || !['unspecified', 'multicast', 'broadcast'].includes(ipaddr.parse(v).range()), {
    error: 'expected an address of one host (not 0.0.0.0 or ::, which connect to this machine, nor multicast or broadcast)',
  });

export const Port = z.int({ error: 'expected a port number (0..65535)' }).min(0).max(65535);
/** A port something connects to (SSH, a check, a health gate, a tunnel): 0 is no such port. */
export const ConnectPort = z.int({ error: 'expected a port number (1..65535)' }).min(1).max(65535);
export const Weight = z.int({ error: 'expected a weight (0..65535)' }).min(0).max(65535);
/** ipvsadm's -x/-y accept 0..INT_MAX. */
export const Threshold = z.int({ error: 'expected a connection threshold (0..2147483647)' }).min(0).max(2147483647);
export const Fwmark = z.int({ error: 'expected a firewall mark (1..4294967295)' }).min(1).max(4294967295);
export const Seconds = z.int({ error: 'expected a whole number of seconds' }).min(1).max(86400);

/**
 * Linux interface names: at most 15 bytes, no "/", whitespace or ":" — except the alias form
 * `eth0:1` that ifconfig-era setups still use, which `ip` accepts as a label.
 */
export const InterfaceName = z.string().refine((v) => /^[A-Za-z0-9_][A-Za-z0-9_.-]*(:[A-Za-z0-9]{1,8})?$/.test(v) && v.length <= 15, {
  error: 'expected an interface name (at most 15 characters of letters, digits, "_", "." or "-", optional ":alias")',
}).refine((v) => v !== 'all' && v !== 'default', {
  // /proc/sys/net/ipv*/conf/{all,default}: an interface of that name would be every interface's settings
  error: 'expected an interface name: "all" and "default" are the kernel\'s names for every interface\'s settings',
});

/** A path on the control host: absolute or home-relative (`~` expanded there), no shell metacharacters. */
export const FilePath = z.string().regex(/^(~|~\/|\/)[A-Za-z0-9_.@%+=,\/-]*$/, {
  error: 'expected an absolute path (or ~/...) of letters, digits and _.@%+=,/-',
});

/** Linux's longest file name, and its longest path with the terminating NUL. */
const NAME_MAX = 255;
const PATH_MAX = 4096;

/**
 * A file on a managed host: absolute and normal (no `~`, which would be quoted there, not expanded;
 * no `.` or `..` part, no `//`, no trailing `/`; not `/` itself), no shell metacharacters, and one
 * Linux can name: each part at most NAME_MAX bytes, the whole under PATH_MAX, or every open of it
 * fails (ENAMETOOLONG: ldirectord cannot open such a log file, say).
 */
export const RemotePath = z.string().refine((v) => v.length < PATH_MAX && /^(\/[A-Za-z0-9_@%+=,-][A-Za-z0-9_.@%+=,-]*)+$/.test(v)
  && !v.split('/').some((part) => part === '.' || part === '..' || part.length > NAME_MAX), {
  error: `expected an absolute path of a file on the host, like /etc/lvsplay/x.conf (no ~, no . or .. parts, no trailing /; letters, digits and _.@%+=,-; each part at most ${NAME_MAX} characters, the whole under ${PATH_MAX})`,
});

/**
 * One argument of a keepalived misc check's command (`args`). keepalived reads misc_path's quoted
 * string twice, splitting at blanks and taking quotes and backslashes each time, and takes `#`,
 * `!` and `$` for its own syntax: a word without any of those means the same to both readings.
 * Anything else (a password with symbols, say) belongs in a wrapper script.
 */
export const CommandArg = z.string().regex(/^[A-Za-z0-9_.@%+=,:\/-]{1,255}$/, {
  error: 'expected a word of letters, digits and _.@%+=,:/- (no blanks, quotes, \\, #, !, $ or braces: keepalived reads misc_path twice, splitting at blanks and taking quotes and escapes; put anything else in a wrapper script)',
});

export const EnvName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, { error: 'expected an environment variable name' });
export const UserName = z.string().regex(/^[a-z_][a-z0-9_-]{0,31}\$?$/, { error: 'expected a POSIX user name' });

/** A var's text (and every `-e` value): bounded. Tabs and newlines are text; other control characters (NUL, CR, ESC sequences) are not. */
export const VarText = z.string().max(4096).regex(/^[^\x00-\x08\x0b-\x1f\x7f]*$/, { error: 'expected text without control characters (tab and newline allowed)' });

/** Values of free-form `vars`/`labels`: plain scalars only, bounded, and no control characters. */
export const VarValue = z.union([
  VarText,
  z.number(),
  z.boolean(),
], { error: 'expected a string, number or boolean' });

export function isCidr(value: string): boolean {
  const slash = value.lastIndexOf('/');
  if (slash < 0) return false;
  const address = value.slice(0, slash);
  const prefix = value.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefix)) return false;
  const length = Number(prefix);
  if (isIPv4(address)) return length <= 32;
  if (isAddress6(address)) return length <= 128;
  return false;
}

/** A name to look up in DNS (keepalived's DNS_CHECK, a health gate's dig): labels, so never a leading "-" that dig would read as an option. */
export const DnsName = z.string().max(253).regex(/^(\.|([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.)*[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.?)$/, {
  error: 'expected a DNS name to query, like www.example.net (or "." for the root)',
});
