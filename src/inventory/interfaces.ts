/**
 * Which of a director's interfaces an address lives on. A director has one interface or several
 * (the classic two-NIC NAT director: the VIPs' network on one, the real servers' on the other).
 * An address goes on the interface the inventory names for it (a service's `interface`), else on
 * the interface whose subnet holds it (a VIP, or the NAT gateway, of that network), else on the
 * first one: a VIP routed to the director from another network is held beside its main address.
 * Used on the schema's output (checks.ts) and on the model (resources) alike.
 */
import { addressFamily, cidrAddress, inSubnet, sameAddress } from './addresses.js';

export interface DirectorInterface {
  name: string;
  /** IPv4 (or IPv6) address with prefix: 192.0.2.5/24. */
  address: string;
  address6?: string | undefined;
}

/** What a service says of where it lives: its VIP (none for fwmark) and the interface it names. */
interface Placed {
  vip?: string | undefined;
  interface?: string | undefined;
}

/** The interface's subnet (its address with prefix) in `family`, if it has an address of that family. */
export function subnetOf(iface: DirectorInterface, family: 'ipv4' | 'ipv6'): string | undefined {
  return [iface.address, iface.address6].find((cidr) => cidr !== undefined && addressFamily(cidrAddress(cidr)) === family);
}

/** The interface's own address in `family`, without its prefix. */
export function ownAddress(iface: DirectorInterface, family: 'ipv4' | 'ipv6'): string | undefined {
  const subnet = subnetOf(iface, family);
  return subnet === undefined ? undefined : cidrAddress(subnet);
}

/** The interface for `address`: the one `named` (when it exists), else the one whose subnet holds it, else the first. */
function interfaceFor<I extends DirectorInterface>(interfaces: readonly I[], address: string | undefined, named: string | undefined): I {
  const inside = (i: I) => {
    const subnet = address === undefined ? undefined : subnetOf(i, addressFamily(address));
    return subnet !== undefined && inSubnet(address!, subnet);
  };
  return interfaces.find((i) => i.name === named) ?? interfaces.find(inside) ?? interfaces[0]!;
}

/** Where a director holds `address` (a VIP, the NAT gateway), given the services it carries: one may name the interface. */
export function addressInterface<I extends DirectorInterface>(interfaces: readonly I[], address: string, carried: readonly Placed[]): I {
  const named = carried.find((s) => s.interface !== undefined && s.vip !== undefined && sameAddress(s.vip, address))?.interface;
  return interfaceFor(interfaces, address, named);
}

/** The interface a service lives on at a director: where its VIP is held; a fwmark service without one, the one it names or the first. */
export function serviceInterface<I extends DirectorInterface>(interfaces: readonly I[], service: Placed, carried: readonly Placed[]): I {
  return service.vip === undefined ? interfaceFor(interfaces, undefined, service.interface) : addressInterface(interfaces, service.vip, carried);
}
