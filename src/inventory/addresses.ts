/** Address helpers on top of ipaddr.js: families, subnets, and the kernel's spelling of an address. */
import ipaddr from 'ipaddr.js';

export function addressFamily(address: string): 'ipv4' | 'ipv6' {
  return ipaddr.parse(address).kind();
}

/** How the kernel (and so ipvsadm and ip) print an address: IPv6 compressed per RFC 5952. */
export function canonicalAddress(address: string): string {
  const parsed = ipaddr.parse(address);
  return parsed.kind() === 'ipv6' ? (parsed as ipaddr.IPv6).toRFC5952String() : parsed.toString();
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
