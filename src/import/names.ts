/**
 * Host and service names in ldirectord.cf (`real=web1:http`, `virtual=www.example.com:80`):
 * ldirectord resolves them when it starts, on the director. Read from a file they are reported,
 * not guessed; read from the live director (`--from-host`) they are resolved there, as ldirectord
 * would (`getent ahostsv4`/`ahostsv6`, `getent services`), and the report says what they became.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { canonicalAddress } from '../inventory/addresses.js';
import { shq } from '../util/shell.js';

/** What the director resolved the names to. */
export interface ResolvedNames {
  hosts: ReadonlyMap<string, { ipv4?: string; ipv6?: string }>;
  ports: ReadonlyMap<string, number>;
}

/** Literals to read the value on with (`last`: a range's end), and what was resolved, to say so; or why not. */
export type Resolution = { host: string; last?: string; port?: string; resolved?: string } | { unresolved: string };

/** A DNS host name (RFC 1123 labels), as ldirectord would pass it to its resolver. */
const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;
const SERVICE_NAME = /^[A-Za-z][\w-]{0,31}$/;

const isHostName = (host: string) => !isIPv4(host) && !isIPv6(host) && HOST_NAME.test(host) && !/^[\d.]+$/.test(host);

/** The names one config uses, recorded as they are met, and resolved when the director said. */
export class Names {
  readonly hosts = new Set<string>();
  readonly ports = new Set<string>();

  /**
   * `recording`: every name answers a placeholder, so that a read goes through the whole config
   * and meets every name (an unresolved virtual would end its block's read): ldirectordNames.
   */
  constructor(private readonly resolved?: ResolvedNames, private readonly recording = false) {}

  /** `host[->last][:port]`: ldirectord resolves both ends of a range (`sql01->sql03`), then takes every address between. */
  resolve(host: string, port: string | undefined, v6: boolean, last?: string): Resolution {
    const hostNames = [host, ...(last === undefined ? [] : [last])].filter(isHostName);
    const portName = port !== undefined && SERVICE_NAME.test(port);
    const literal = { host, ...(last !== undefined && { last }), ...(port !== undefined && { port }) };
    if (hostNames.length === 0 && !portName) return literal;
    for (const name of hostNames) this.hosts.add(name);
    if (portName) this.ports.add(port);
    const placeholder = this.recording ? { host: v6 ? '2001:db8::1' : '192.0.2.1', port: 1 } : undefined;
    const addressOf = (h: string) => (isHostName(h) ? placeholder?.host ?? this.resolved?.hosts.get(h)?.[v6 ? 'ipv6' : 'ipv4'] : h);
    const address = addressOf(host);
    const end = last === undefined ? undefined : addressOf(last);
    const number = portName ? placeholder?.port ?? this.resolved?.ports.get(port) : port;
    if (address === undefined || (last !== undefined && end === undefined) || (portName && number === undefined)) {
      const names = [...hostNames.map((h) => `host name ${JSON.stringify(h)}`), ...(portName ? [`service name ${JSON.stringify(port)}`] : [])].join(' and ');
      const why = this.resolved ? 'the director could not resolve it' : 'lvsplay import does not guess what it resolves to there (--from-host resolves it on the director)';
      return { unresolved: `${names}: ldirectord resolves names when it starts, and ${why}; write the address${hostNames.length > 1 ? 'es' : ''}${portName ? ' and port number' : ''} and import again` };
    }
    const said = [...hostNames.map((h) => `${h} → ${addressOf(h)}`), ...(portName ? [`${port} → ${number}`] : [])].join(', ');
    return { host: address, ...(end !== undefined && { last: end }), ...(number !== undefined && { port: String(number) }), resolved: `resolved on the director as ldirectord would: ${said}` };
  }
}

/** The script that asks the director (names checked above: no quoting surprise, and quoted anyway). */
export function resolveScript(hosts: readonly string[], ports: readonly string[]): string {
  const lines = [
    ...hosts.filter((h) => HOST_NAME.test(h)).map((h) => `printf '@@name host %s %s %s\\n' ${shq(h)} "$(getent ahostsv4 ${shq(h)} | awk 'NR==1{print $1}')" "$(getent ahostsv6 ${shq(h)} | awk 'NR==1{print $1}')"`),
    ...ports.filter((p) => SERVICE_NAME.test(p)).map((p) => `printf '@@name port %s %s\\n' ${shq(p)} "$(getent services ${shq(p)} | awk 'NR==1{print $2}')"`),
  ];
  return `${lines.join('\n')}\n`;
}

export function parseResolved(stdout: string): ResolvedNames {
  const hosts = new Map<string, { ipv4?: string; ipv6?: string }>();
  const ports = new Map<string, number>();
  for (const line of stdout.split('\n')) {
    const h = /^@@name host (\S+) (\S*) ?(\S*)$/.exec(line);
    if (h) {
      const [, name, v4, v6] = h;
      // getent ahostsv6 maps an IPv4-only name to ::ffff:a.b.c.d; ldirectord's AF_INET6 lookup does not
      hosts.set(name!, { ...(v4 && isIPv4(v4) && { ipv4: v4 }), ...(v6 && isIPv6(v6) && !/^::ffff:/i.test(v6) && { ipv6: canonicalAddress(v6) }) });
    }
    const p = /^@@name port (\S+) (\d+)\/\w+$/.exec(line);
    if (p && Number(p[2]) >= 1 && Number(p[2]) <= 65535) ports.set(p[1]!, Number(p[2]));
  }
  return { hosts, ports };
}
