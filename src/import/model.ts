/**
 * What `lvsplay import` reads, in one shape for every source: the three parsers (ipvsadm-save.ts,
 * ldirectord-cf.ts, keepalived-conf.ts) each turn their file into these, already reduced to what
 * the inventory can say (the rest goes to the report, with its file and line), so that merging,
 * naming and emitting the inventory never look at a source format again. Check and global fields
 * are the inventory's own (schema.ts input names), so the emitter writes them as they are.
 */
import type { Forwarding, Owner } from '../inventory/model.js';
import type { HealthCheckInput, MemberCheckInput, VrrpPairInput } from '../inventory/schema.js';
import type { ServiceKey } from '../resources/ipvs/table.js';

/** Where something was read: a file and a 1-based line. */
export interface Origin {
  file: string;
  line: number;
}

export type Tunnel = { type: 'ipip' | 'gue' | 'gre'; port?: number; checksum?: 'nocsum' | 'csum' | 'remcsum' };

export interface ImportedMember {
  origin: Origin;
  /** Canonical address (as the kernel prints it). */
  address: string;
  /** 0 on a firewall-mark service (ipvsadm's port for those). */
  port: number;
  weight: number;
  upperThreshold: number;
  lowerThreshold: number;
  /** keepalived: this real server's checker, when it differs from the service's health_check. */
  check?: MemberCheckInput;
}

export interface ImportedService {
  origin: Origin;
  owner: Owner;
  /** A name the source gave (an lvsplay `# service NAME` comment), when it is a valid name. */
  name?: string;
  key: ServiceKey;
  scheduler: string;
  /** Inventory flag names: sh-fallback, sh-port, mh-fallback, mh-port. */
  schedulerFlags: string[];
  /** netmask: dotted IPv4 mask or IPv6 prefix length, absent when it is the family's default. */
  persistence?: { timeout: number; netmask?: string | number };
  onePacket: boolean;
  forwarding: Forwarding;
  tunnel?: Tunnel;
  members: ImportedMember[];
  healthCheck?: HealthCheckInput;
  fallback?: { address: string; port?: number; forwarding: Forwarding };
}

/** What keepalived's vrrp_instance says about the director whose config it is, and its pair. */
export interface ImportedVrrp {
  origin: Origin;
  pair: string;
  settings: Partial<VrrpPairInput>;
  role: 'primary' | 'backup';
  priority?: number;
  interface?: string;
  /** unicast_src_ip: this director's own address on the VRRP interface. */
  sourceAddress?: string;
  /** unicast_peer: the pair's other directors. */
  peers: string[];
  /** A virtual_ipaddress entry that is no service's VIP but the NAT real servers' gateway. */
  natGateway?: string;
  /** The interface keepalived held the NAT gateway on, when it is not `interface` (a second instance of its sync group). */
  natGatewayInterface?: string;
  /** This director's own address on another interface (a merged sync-group instance's unicast_src_ip), by interface name. */
  addressOn?: Record<string, string>;
  /** The pair's other director's address on another interface (a merged instance's one unicast_peer, the first's one peer), by its address, then interface name. */
  peerAddressOn?: Record<string, Record<string, string>>;
}

/** A live director as its addresses show it (`--from-host`): read, not guessed. */
export interface ObservedDirector {
  name: string;
  /** The inventory's `ssh:` keys that reached it. */
  ssh: Record<string, unknown>;
  /** The interface holding the VIPs, and the director's own address there. */
  interface: { name: string; address: string; prefix: number };
  /** Its other interfaces the cluster uses (holding a VIP, or real servers on their subnet), each with its own address. */
  others: { name: string; address: string; prefix: number }[];
  /** A floating address of its on the NAT real servers' subnet (not an interface's own): their gateway. */
  natGateway?: string;
  /** Its own address on the NAT real servers' subnet, when no floating one is there: their gateway then. */
  natVia?: string;
}

/** Everything read from the files, before naming and emitting. */
export interface Imported {
  services: ImportedService[];
  /** ldirectord.cf's globals that differ from lvsplay's defaults (inventory `ldirectord:` keys). */
  ldirectord: Record<string, unknown>;
  vrrp?: ImportedVrrp;
  /** keepalived's router_id, when it is a valid name: the director's name. */
  directorName?: string;
  /** The director read over SSH (`--from-host`). */
  observed?: ObservedDirector;
}

