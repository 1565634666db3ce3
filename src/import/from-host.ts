/**
 * `lvsplay import --from-host`: what a live director says, read in one script over lvsplay's own
 * SSH transport (host key verified): its IPVS table and thresholds, the ldirectord.cf and
 * keepalived.conf it runs with, and its addresses. The files become the same inputs as `--ldirectord`
 * and friends (named `HOST:/path` in the report); the addresses say which interface carries the
 * VIPs and the director's own address there, so those are read, not guessed; host and service names
 * in ldirectord.cf are resolved there, as ldirectord does, and keepalived.conf's include lines
 * followed there. Nothing on the host is changed: the table is read only when IPVS is already
 * loaded (ipvsadm would load it).
 */
import { posix } from 'node:path';
import ipaddr from 'ipaddr.js';
import type { Transport } from '../transport/types.js';
import { InputFileError, MAX_INPUT_BYTES } from '../util/input-file.js';
import { shq } from '../util/shell.js';
import type { ImportInputs } from './index.js';
import type { IncludeSource } from './keepalived-conf.js';
import { braces } from './keepalived-include.js';
import { parseKeepalived } from './keepalived-syntax.js';
import { ldirectordNames } from './ldirectord-cf.js';
import { KEEPALIVED_CONF } from '../inventory/host-files.js';
import type { ObservedDirector } from './model.js';
import { parseResolved, resolveScript } from './names.js';

const LDIRECTORD_FILES = ['/etc/ha.d/ldirectord.cf', '/etc/ldirectord.cf'];

/** Each part as a `@@lvsplay-import NAME PATH` line, then its bytes in base64 on one line. */
const READ_SCRIPT = `part() { printf '@@lvsplay-import %s %s\\n' "$1" "$2"; base64 -w0; echo; }
if [ -e /proc/net/ip_vs ]; then
  ipvsadm -S -n | part save -
  ipvsadm -L -n --thresholds | part thresholds -
fi
for f in ${LDIRECTORD_FILES.join(' ')}; do
  if [ -f "$f" ]; then part ldirectord "$f" < "$f"; break; fi
done
[ -f ${KEEPALIVED_CONF} ] && part keepalived ${KEEPALIVED_CONF} < ${KEEPALIVED_CONF}
ip -o addr show | part addresses -
uname -n | part nodename -
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
  const parsed = parseHostRead(out.stdout, label);
  const ka = parsed.inputs.keepalived;
  const read = ka ? { ...parsed, inputs: { ...parsed.inputs, keepalived: { ...ka, includes: await remoteIncludes(transport, label, ka) } } } : parsed;
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
  const nodename = parts.get('nodename')?.text.trim();
  const inputs: ImportInputs = {
    ...(save && { save: { file: `${label}:ipvsadm -S -n`, text: save.text, ...(thresholds && { thresholds: { file: `${label}:ipvsadm -L -n --thresholds`, text: thresholds.text } }) } }),
    ...(ldirectord && { ldirectord }),
    // keepalived's config id, by default: the host name up to its first dot (its @ID lines)
    ...(keepalived && { keepalived: { ...keepalived, ...(nodename && { configId: nodename.split('.')[0]! }) } }),
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

/** Rounds of fetching: one per level of nesting (keepalived-syntax.ts stops at 16 levels). */
const MAX_ROUNDS = 17;

/**
 * Follows the include lines of the director's keepalived.conf (`file`: `LABEL:/path`) on the
 * director: each round parses what is known, collects the patterns not yet read (braces expanded
 * here, made absolute from the including file's folder), and has the director's shell glob them and
 * send the files back, until nothing is left (nested includes take a round each). A pattern comes
 * from the director's own file: every character but the wildcards is quoted, so nothing in it runs.
 */
export async function remoteIncludes(transport: Transport, label: string, keepalived: { file: string; text: string; configId?: string }): Promise<IncludeSource> {
  const globbed = new Map<string, string[]>();
  const texts = new Map<string, string | InputFileError>();
  const remote = (file: string) => file.slice(label.length + 1);
  const missing = new Set<string>();
  const source: IncludeSource = {
    expand: (pattern, from) => {
      const absolute = posix.isAbsolute(pattern) ? pattern : posix.join(posix.dirname(remote(from)), pattern);
      return braces(absolute).flatMap((p) => {
        const paths = globbed.get(p);
        if (paths === undefined) missing.add(p);
        return (paths ?? []).map((path) => `${label}:${path}`);
      });
    },
    read: (path) => {
      const text = texts.get(remote(path)) ?? new InputFileError('was not read from the director');
      if (text instanceof InputFileError) throw text;
      return text;
    },
  };
  for (let round = 0; round < MAX_ROUNDS; round++) {
    missing.clear();
    parseKeepalived(keepalived.file, keepalived.text, [], {
      ...(keepalived.configId !== undefined && { configId: keepalived.configId }),
      include: (pattern, at) => source.expand(pattern, at.file).flatMap((file) => {
        const text = texts.get(remote(file));
        return typeof text === 'string' ? [{ file, text }] : [];
      }),
    });
    if (missing.size === 0) break;
    const patterns = [...missing];
    const out = await transport.exec(patterns.map((p, i) => `printf '@@lvsplay-include %s\\n' ${i}\nfor f in ${shellGlob(p)}; do if [ -f "$f" ]; then printf '@@lvsplay-file '; printf %s "$f" | base64 -w0; echo; if [ "$(stat -c %s -- "$f")" -le ${MAX_INPUT_BYTES} ]; then base64 -w0 < "$f"; else printf '!'; fi; echo; fi; done\n`).join(''));
    if (out.code !== 0) throw new HostReadError(`${label}: following keepalived.conf's include lines failed on the director (exit ${out.code}): ${out.stderr.trim().split('\n').pop() ?? ''}`);
    let current: string[] = [];
    const lines = out.stdout.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const pattern = /^@@lvsplay-include (\d+)$/.exec(lines[i]!);
      if (pattern) globbed.set(patterns[Number(pattern[1])]!, current = []);
      const file = /^@@lvsplay-file (\S*)$/.exec(lines[i]!);
      if (!file) continue;
      const path = Buffer.from(file[1]!, 'base64').toString('utf8');
      current.push(path);
      const body = lines[++i] ?? '';
      texts.set(path, body === '!' ? new InputFileError(`is more than the ${MAX_INPUT_BYTES} bytes lvsplay reads`) : utf8(body));
    }
    for (const p of patterns) if (!globbed.has(p)) globbed.set(p, []);
  }
  return source;
}

// As the programs read these files: a byte order mark is part of the first word (readInputFile's keepBom).
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function utf8(base64: string): string | InputFileError {
  try {
    return decoder.decode(Buffer.from(base64, 'base64'));
  } catch {
    return new InputFileError('is not valid UTF-8');
  }
}

/** A glob for the director's sh: `*`, `?` and a `[...]` of plain characters bare, everything else single-quoted, so the pattern expands and nothing in it runs. */
export function shellGlob(pattern: string): string {
  let out = '';
  let literal = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    const bracket = c === '[' ? /^\[!?[A-Za-z0-9._-]+\]/.exec(pattern.slice(i))?.[0] : undefined;
    const wildcard = c === '*' || c === '?' ? c : bracket;
    if (wildcard === undefined) {
      literal += c;
      continue;
    }
    if (literal !== '') out += shq(literal);
    literal = '';
    out += wildcard;
    i += wildcard.length - 1;
  }
  return literal !== '' ? out + shq(literal) : out;
}
