/** Address helpers on top of ipaddr.js: families, subnets, and the kernel's spelling of an address. */
import ipaddr from 'ipaddr.js';

export function addressFamily(address: string): 'ipv4' | 'ipv6' {
  return ipaddr.parse(address).kind();
}

/**
 * How the kernel (and so ipvsadm and ip) print an address: IPv6 compressed per RFC 5952. IPv6 goes
 * through the WHATWG URL parser, which reads an embedded IPv4 part right (ipaddr.js turns
 * `::192.0.2.10` into `::ffff:c000:20a`, another address).
 */
export function canonicalAddress(address: string): string {
  try {
    if (!address.includes(':')) return ipaddr.parse(address).toString();
    return new URL(`http://[${address}]/`).hostname.slice(1, -1);
  } catch {
    // the libraries' own words ("Invalid URL") would reach a user reading a host's output
    throw new Error(`${JSON.stringify(address)} is not an IP address`);
  }
}

/** The eight 16-bit groups of an IPv6 address, read as the kernel reads it. */
export function ipv6Groups(address: string): number[] {
  const canonical = canonicalAddress(address);
  const [head = '', tail] = canonical.split('::');
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => Number.parseInt(g, 16)));
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  return [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
}

export function sameAddress(a: string, b: string): boolean {
  return canonicalAddress(a) === canonicalAddress(b);
}

/** Is `address` inside `cidr` (e.g. 192.0.2.21 in 192.0.2.5/24)? Different families never match. */
export function inSubnet(address: string, cidr: string): boolean {
  const parsed = ipaddr.parse(address);
  const [net, bits] = ipaddr.parseCIDR(cidr);
  return parsed.kind() === net.kind() && parsed.match(net, bits);
}

/** `192.0.2.10:80`, `[2001:db8::10]:80` (ipvsadm, ldirectord.cf); without a port, just the bracketed host. */
export function hostPort(address: string, port?: number): string {
  const host = address.includes(':') ? `[${address}]` : address;
  return port === undefined ? host : `${host}:${port}`;
}

/** The address part of a CIDR: 192.0.2.5/24 → 192.0.2.5. */
export function cidrAddress(cidr: string): string {
  return canonicalAddress(cidr.slice(0, cidr.lastIndexOf('/')));
}

/** An address as a number (IPv4: 32 bits, IPv6: 128), for ranges and subnets. */
export function addressNumber(address: string): bigint {
  return BigInt(`0x${Buffer.from(ipaddr.parse(address).toByteArray()).toString('hex')}`);
}

/** The canonical address of a number `addressNumber` gave. */
export function numberAddress(n: bigint, family: 'ipv4' | 'ipv6'): string {
  const hex = n.toString(16).padStart(family === 'ipv4' ? 8 : 32, '0');
  return canonicalAddress(ipaddr.fromByteArray([...Buffer.from(hex, 'hex')]).toString());
}
