/**
 * `lvsplay import --from-host`: what a live director says, read in one script over lvsplay's own
 * SSH transport (host key verified): its IPVS table and thresholds, the ldirectord.cf and
 * keepalived.conf it runs with, and its addresses. The files become the same inputs as `--ldirectord`
 * and friends (named `HOST:/path` in the report); the addresses say which interface carries the
 * VIPs and the director's own address there, so those are read, not guessed; host and service names
 * in ldirectord.cf are resolved there, as ldirectord does. Nothing on the host is changed: the
 * table is read only when IPVS is already loaded (ipvsadm would load it).
 */
import ipaddr from 'ipaddr.js';
import type { Transport } from '../transport/types.js';
import type { ImportInputs } from './index.js';
import { ldirectordNames } from './ldirectord-cf.js';
import type { ObservedDirector } from './model.js';
import { parseResolved, resolveScript } from './names.js';

const LDIRECTORD_FILES = ['/etc/ha.d/ldirectord.cf', '/etc/ldirectord.cf'];
const KEEPALIVED_FILE = '/etc/keepalived/keepalived.conf';

/** Each part as a `@@lvsplay-import NAME PATH` line, then its bytes in base64 on one line. */
const READ_SCRIPT = `part() { printf '@@lvsplay-import %s %s\\n' "$1" "$2"; base64 -w0; echo; }
if [ -e /proc/net/ip_vs ]; then
  ipvsadm -S -n | part save -
  ipvsadm -L -n --thresholds | part thresholds -
fi
for f in ${LDIRECTORD_FILES.join(' ')}; do
  if [ -f "$f" ]; then part ldirectord "$f" < "$f"; break; fi
done
[ -f ${KEEPALIVED_FILE} ] && part keepalived ${KEEPALIVED_FILE} < ${KEEPALIVED_FILE}
ip -o addr show | part addresses -
`;

export interface HostRead {
  inputs: ImportInputs;
  /** `ip -o addr show`: interface, address, prefix. */
  addresses: { ifname: string; address: string; prefix: number }[];
}

/** The read script failed on the host (not a bug here, not bad input: the host's say). */
export class HostReadError extends Error {}

export async function readHost(transport: Transport, label: string): Promise<HostRead> {
  const out = await transport.exec(READ_SCRIPT);
  if (out.code !== 0) throw new HostReadError(`${label}: reading the director failed (exit ${out.code}): ${out.stderr.trim().split('\n').pop() ?? ''}`);
  const read = parseHostRead(out.stdout, label);
  const ld = read.inputs.ldirectord;
  const names = ld ? ldirectordNames(ld.file, ld.text) : { hosts: [], ports: [] };
  if (names.hosts.length + names.ports.length === 0) return read;
  // ldirectord resolves its names on the director when it starts: ask the director, as it would
  const resolved = await transport.exec(resolveScript(names.hosts, names.ports));
  if (resolved.code !== 0) throw new HostReadError(`${label}: resolving ldirectord.cf's names failed (exit ${resolved.code}): ${resolved.stderr.trim().split('\n').pop() ?? ''}`);
  return { ...read, inputs: { ...read.inputs, resolved: parseResolved(resolved.stdout) } };
}

export function parseHostRead(stdout: string, label: string): HostRead {
  const parts = new Map<string, { path: string; text: string }>();
  const lines = stdout.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^@@lvsplay-import (\S+) (\S+)$/.exec(lines[i]!);
    if (m) parts.set(m[1]!, { path: m[2]!, text: Buffer.from(lines[++i] ?? '', 'base64').toString('utf8') });
  }
  const file = (name: string) => {
    const p = parts.get(name);
    return p && { file: `${label}:${p.path === '-' ? name : p.path}`, text: p.text };
  };
  const save = file('save');
  const thresholds = file('thresholds');
  const ldirectord = file('ldirectord');
  const keepalived = file('keepalived');
  const inputs: ImportInputs = {
    ...(save && { save: { file: `${label}:ipvsadm -S -n`, text: save.text, ...(thresholds && { thresholds: { file: `${label}:ipvsadm -L -n --thresholds`, text: thresholds.text } }) } }),
    ...(ldirectord && { ldirectord }),
    ...(keepalived && { keepalived }),
  };
  const addresses = (parts.get('addresses')?.text ?? '').split('\n').flatMap((line) => {
    const a = /^\d+:\s+(\S+)\s+inet\s+([\d.]+)\/(\d+)/.exec(line);
    return a ? [{ ifname: a[1]!.replace(/@.*$/, ''), address: a[2]!, prefix: Number(a[3]) }] : [];
  });
  return { inputs, addresses };
}

/**
 * The director as its addresses show it: the interface holding most of the services' VIPs (else
 * the one whose subnet holds most real servers), its first address that is no VIP as the
 * director's own; its other interfaces that hold a VIP or have real servers on their subnet (a
 * two-NIC director), each with its own address; and, when NAT services have real servers, a
 * further address on their subnet as the NAT gateway (else its own address there, as their route).
 */
export function observeDirector(read: HostRead, vips: Set<string>, members: string[], natMembers: string[], name: string, ssh: Record<string, unknown>): ObservedDirector | undefined {
  const own = read.addresses.filter((a) => a.ifname !== 'lo' && !a.address.startsWith('127.'));
  const inside = (a: { address: string; prefix: number }, ip: string) => a.prefix < 32 && ipaddr.IPv4.parse(ip).match(ipaddr.IPv4.parse(a.address), a.prefix);
  const score = (ifname: string) => {
    const on = own.filter((a) => a.ifname === ifname);
    return [on.filter((a) => vips.has(a.address)).length, members.filter((m) => on.some((a) => inside(a, m))).length];
  };
  const ifnames = [...new Set(own.map((a) => a.ifname))].sort((x, y) => {
    const [vx, mx] = score(x);
    const [vy, my] = score(y);
    return vy! - vx! || my! - mx!;
  });
  const ifname = ifnames[0];
  if (ifname === undefined) return undefined;
  const ownOf = (name: string) => {
    const candidates = own.filter((a) => a.ifname === name && !vips.has(a.address) && a.prefix < 32);
    return candidates.find((a) => members.some((m) => inside(a, m))) ?? candidates[0];
  };
  const self = ownOf(ifname);
  if (!self) return undefined;
  const others = ifnames.slice(1).filter((n) => score(n).some((x) => x > 0)).flatMap((n) => {
    const a = ownOf(n);
    return a ? [a] : [];
  });
  const interfaces = [self, ...others];
  const onNatSubnet = (a: (typeof own)[number]) => natMembers.length > 0 && natMembers.every((m) => inside(a, m));
  const gateway = own.find((a) => !interfaces.includes(a) && onNatSubnet(a));
  const via = gateway ? undefined : interfaces.find(onNatSubnet);
  return {
    name,
    ssh,
    interface: { name: ifname, address: self.address, prefix: self.prefix },
    others: others.map((a) => ({ name: a.ifname, address: a.address, prefix: a.prefix })),
    ...(gateway && { natGateway: `${gateway.address}/${gateway.prefix}` }),
    ...(via && { natVia: via.address }),
  };
}
