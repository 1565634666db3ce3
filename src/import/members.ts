/**
 * The inventory gives a service one forwarding method (and one tunnel) for all its members, and
 * each member a distinct real server; ipvsadm and ldirectord say both per real server. What
 * differs from the service's first member is left out and reported, never bent to fit: an imported
 * inventory must not program a real server some other way than the source did.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Forwarding } from '../inventory/model.js';
import { destKey } from '../resources/ipvs/forms.js';
import type { ImportedMember, Tunnel } from './model.js';
import type { Report } from './report.js';

export interface MethodMember extends ImportedMember {
  forwarding: Forwarding;
  tunnel?: Tunnel;
}

const SAID = { dr: 'direct routing', tun: 'tunnelling', nat: 'NAT' } as const;

/** The service's forwarding (its first member's) and the members that share it; the others reported. */
export function sharedForwarding(members: MethodMember[], report: Report, fallback: Forwarding): { forwarding: Forwarding; tunnel?: Tunnel; members: ImportedMember[] } {
  const first = members[0];
  const forwarding = first?.forwarding ?? fallback;
  const tunnel = first?.tunnel;
  const kept: ImportedMember[] = [];
  for (const { forwarding: f, tunnel: t, ...m } of members) {
    if (f !== forwarding) report.notExpressed(m.origin, `real server ${destKey(m)} uses ${SAID[f]} while ${destKey(first!)} (the first) uses ${SAID[forwarding]}: an lvsplay service has one forwarding method for all its real servers`);
    else if (!isDeepStrictEqual(t, tunnel)) report.notExpressed(m.origin, `real server ${destKey(m)} has other tunnel settings than ${destKey(first!)} (the first): an lvsplay service has one tunnel type for all its real servers`);
    else kept.push(m);
  }
  return { forwarding, ...(tunnel && { tunnel }), members: kept };
}

/** Each address once per service (the inventory names a real server once per service); later ports reported. */
export function distinctServers(members: ImportedMember[], report: Report): ImportedMember[] {
  const seen = new Map<string, ImportedMember>();
  return members.filter((m) => {
    const first = seen.get(m.address);
    if (first) {
      report.notExpressed(m.origin, first.port === m.port
        ? `real server ${destKey(m)}: listed again (line ${first.origin.line}); the first is the one imported`
        : `real server ${destKey(m)}: ${m.address} is already a member of this service (line ${first.origin.line}) on another port; the inventory lists a real server once per service`);
      return false;
    }
    seen.set(m.address, m);
    return true;
  });
}
