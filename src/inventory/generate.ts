/**
 * Service generation, before the schema sees the inventory: `service_defaults` under every
 * service (a service's own key wins, whole: a default `health_check` is replaced, not merged), and
 * one entry with `ports: [...]` and/or `vips: [...]` (one IPv4 and one IPv6 VIP) as one service
 * per VIP and port, named `NAME-PORT` / `NAME-ipv4`, `NAME-ipv6`. Everything after this (schema,
 * checks) sees plain services; a problem it finds in a generated one is placed where the user
 * wrote the value: the entry, its `ports`/`vips` item, or `service_defaults`.
 */
import { isIPv4 } from 'node:net';
import * as z from 'zod';
import { describeValue, type Place, type Problem } from '../util/problems.js';
import { schemaProblems } from '../util/schema-problems.js';
import type { SourceMap, YamlSource } from '../util/yaml-source.js';
import { ConnectPort, UnicastIp } from './fields.js';
import { Service } from './schema.js';

/** Services generated beyond those written, at most (the input's size is bounded; this keeps its expansion so). */
export const MAX_GENERATED = 100_000;

/** What makes a service the one it is: never a default. */
const IDENTITY = ['name', 'vip', 'vips', 'port', 'ports', 'fwmark'];

const Generators = z.object({
  ports: z.array(ConnectPort).min(1).max(64).refine((ps) => new Set(ps).size === ps.length, { error: 'expected each port once' }).optional(),
  vips: z.array(UnicastIp).min(1).max(2).refine((vs) => vs.length < 2 || isIPv4(vs[0]!) !== isIPv4(vs[1]!), { error: 'expected one IPv4 and one IPv6 VIP (one service per VIP: write another entry for another VIP of the same family)' }).optional(),
});

/** Where a generated service came from. */
interface Origin {
  index: number;
  /** Keys it took from service_defaults. */
  defaults: ReadonlySet<string>;
  /** Its item of the entry's `ports` / `vips`, when it came from one. */
  port?: number;
  vip?: number;
  /** Its name: said in a problem placed where several services' value was written. */
  name?: string;
  /** Made from an entry's ports or vips (rather than written as it is). */
  generated: boolean;
}

export interface Generated {
  data: unknown;
  source: SourceMap;
  problems: Problem[];
}

const isMapping = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

export function generateServices(source: YamlSource): Generated {
  const data = source.data;
  if (!isMapping(data) || !Array.isArray(data['services'])) return { data, source, problems: [] };
  const problems: Problem[] = [];
  const defaults = isMapping(data['service_defaults']) ? data['service_defaults'] : {};
  for (const key of Object.keys(defaults).filter((k) => IDENTITY.includes(k))) {
    problems.push(source.problem(['service_defaults', key], `${key} is what makes a service the one it is, not a default (${IDENTITY.join(', ')} belong to each service)`, { key: true }));
  }
  // Checked on their own too: a default every service overrides is still a mistake to report.
  const own = Service.omit({ name: true, vip: true, vips: true, port: true, ports: true, fwmark: true }).partial().safeParse(Object.fromEntries(Object.entries(defaults).filter(([k]) => !IDENTITY.includes(k))));
  if (!own.success) problems.push(...schemaProblems(source, Service, own.error.issues, ['service_defaults']));
  const defaultKeys = Object.keys(defaults).filter((k) => !IDENTITY.includes(k));
  const origins: Origin[] = [];
  const services: unknown[] = [];
  let generated = 0;
  (data['services'] as unknown[]).forEach((entry, index) => {
    if (!isMapping(entry)) {
      origins.push({ index, defaults: new Set(), generated: false });
      services.push(entry);
      return;
    }
    const taken = new Set(defaultKeys.filter((k) => !(k in entry)));
    const base: Record<string, unknown> = { ...Object.fromEntries([...taken].map((k) => [k, defaults[k]])), ...entry };
    const { ports, vips } = generators(source, entry, index, problems);
    delete base['ports'];
    delete base['vips'];
    const name = typeof entry['name'] === 'string' ? entry['name'] : undefined;
    const vipList: (string | undefined)[] = vips ?? [undefined];
    const portList: (number | undefined)[] = ports ?? [undefined];
    generated += vipList.length * portList.length - 1;
    if (generated > MAX_GENERATED) return;
    vipList.forEach((vip, v) => portList.forEach((port, p) => {
      const suffix = `${vips && vips.length > 1 ? (isIPv4(vip!) ? '-ipv4' : '-ipv6') : ''}${ports && ports.length > 1 ? `-${port}` : ''}`;
      const generatedName = name !== undefined && suffix !== '' ? `${name}${suffix}` : name;
      services.push({ ...base, ...(vip !== undefined && { vip }), ...(port !== undefined && { port }), ...(generatedName !== undefined && { name: generatedName }) });
      origins.push({ index, defaults: taken, generated: suffix !== '', ...(ports && { port: p }), ...(vips && { vip: v }), ...(generatedName !== undefined && { name: generatedName }) });
    }));
  });
  // 64 ports x 2 VIPs per entry could make a bounded file into millions of services
  if (generated > MAX_GENERATED) {
    problems.push(source.problem(['services'], `ports and vips here make more than ${MAX_GENERATED} services beyond those written; lvsplay generates at most that many`));
    return { data, source, problems };
  }
  return { data: { ...data, services }, source: new GeneratedSource(source, { ...data, services }, origins), problems };
}

/** `ports` and `vips` of one entry, validated; undefined when absent (or wrong: then a problem says so). */
function generators(source: YamlSource, entry: Record<string, unknown>, index: number, problems: Problem[]): { ports?: number[]; vips?: string[] } {
  if (entry['ports'] === undefined && entry['vips'] === undefined) return {};
  const at = (key: string, message: string) => problems.push(source.problem(['services', index, key], message, { key: true }));
  if (entry['ports'] !== undefined && entry['port'] !== undefined) at('ports', 'give port or ports, not both');
  if (entry['vips'] !== undefined && entry['vip'] !== undefined) at('vips', 'give vip or vips, not both');
  if (entry['fwmark'] !== undefined) at(entry['ports'] !== undefined ? 'ports' : 'vips', 'a firewall-mark service is one service whatever addresses and ports its packets are marked for: ports and vips do not apply to it');
  const lists = (['ports', 'vips'] as const).filter((k) => entry[k] !== undefined && !Array.isArray(entry[k]));
  for (const k of lists) problems.push(source.problem(['services', index, k], `expected a list, got ${describeValue(entry[k])}`));
  if (lists.length > 0) return {};
  const parsed = Generators.safeParse({ ports: entry['ports'], vips: entry['vips'] });
  if (!parsed.success) {
    problems.push(...schemaProblems(source, Generators, parsed.error.issues, ['services', index]));
    return {};
  }
  return { ...(parsed.data.ports && { ports: parsed.data.ports }), ...(parsed.data.vips && { vips: parsed.data.vips }) };
}

/** The generated inventory's data, with its problems placed in the file as the user wrote it. */
class GeneratedSource implements SourceMap {
  readonly file: string;

  constructor(
    private readonly source: YamlSource,
    readonly data: unknown,
    private readonly origins: readonly Origin[],
  ) {
    this.file = source.file;
  }

  locate(path: readonly PropertyKey[], options: { key?: boolean } = {}): Place {
    return this.source.locate(this.written(path), options);
  }

  problem(path: readonly PropertyKey[], message: string, options: { key?: boolean } = {}): Problem {
    const origin = path[0] === 'services' && typeof path[1] === 'number' ? this.origins[path[1]] : undefined;
    const written = this.written(path);
    const problem = this.source.problem(written, message, options);
    const shared = origin !== undefined && (origin.generated || written[0] === 'service_defaults');
    return shared && origin.name !== undefined ? { ...problem, services: [origin.name] } : problem;
  }

  /** The path of the value as written: in the entry, its ports/vips item, or service_defaults. */
  private written(path: readonly PropertyKey[]): readonly PropertyKey[] {
    const origin = path[0] === 'services' && typeof path[1] === 'number' ? this.origins[path[1]] : undefined;
    if (!origin) return path;
    const [key, ...rest] = path.slice(2);
    if (key === undefined) return ['services', origin.index];
    if (key === 'port' && origin.port !== undefined) return ['services', origin.index, 'ports', origin.port, ...rest];
    if (key === 'vip' && origin.vip !== undefined) return ['services', origin.index, 'vips', origin.vip, ...rest];
    if (typeof key === 'string' && origin.defaults.has(key)) return ['service_defaults', key, ...rest];
    return ['services', origin.index, key, ...rest];
  }
}
