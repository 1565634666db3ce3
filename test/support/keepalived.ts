/** keepalived test support: the example cluster with keepalived, its contexts, and probe output written by hand. */
import { readFileSync } from 'node:fs';
import { parseInventory } from '../../src/inventory/load.js';
import type { Cluster } from '../../src/inventory/model.js';
import { hostContext } from '../../src/plan/pipeline.js';
import { redact } from '../../src/resources/file/index.js';
import { HEADER, REDACT } from '../../src/resources/keepalived/index.js';
import type { HostContext } from '../../src/resources/resource.js';
import { Templates } from '../../src/templates/templates.js';
import { YamlSource } from '../../src/util/yaml-source.js';
import { section, sha256 } from './facts.js';
import { play } from './cluster.js';
import { repoFile } from './paths.js';

/** The VRRP password the tests give keepalived.yml's auth_pass_env. */
export const PASSWORD = 'T3st-pw9';
process.env['LVSPLAY_VRRP_PASS'] = PASSWORD;

export const KA_TEXT = readFileSync(repoFile('inventory/keepalived.yml'), 'utf8');

/** inventory/keepalived.yml with exact text replacements (each `from` once). */
export function kaCluster(...edits: [string, string][]): Cluster {
  let text = KA_TEXT;
  for (const [from, to] of edits) {
    const at = text.indexOf(from);
    if (at < 0 || text.indexOf(from, at + 1) >= 0) throw new Error(`kaCluster: ${JSON.stringify(from)} must occur exactly once`);
    text = text.slice(0, at) + to + text.slice(at + from.length);
  }
  return parseInventory(new YamlSource('keepalived.yml', text));
}

let templates: Templates | undefined;

export function kaCtx(name: string, cluster: Cluster = kaCluster()): HostContext {
  templates ??= new Templates();
  return hostContext(cluster, cluster.hosts.get(name)!, play([]), templates);
}

/** The secret file probe's output for a file with `content`: mode, checksum, redacted text. */
export function secretFileProbe(content: string | undefined, mode = '600'): string {
  if (content === undefined) return 'absent\n';
  return `present ${mode} root:root\nsha256 ${sha256(content)}  -\n${Buffer.from(redact(content, REDACT)).toString('base64')}\n`;
}

/** What the virtuals probe prints for a config text: its header mark and its virtual_server/protocol/ip_family lines. */
export function confProbe(content: string | undefined): string {
  if (content === undefined) return '';
  const lines = content.split('\n');
  const out = lines[0]!.startsWith(HEADER) ? ['header lvsplay'] : [];
  for (const l of lines) {
    const w = l.trimStart();
    if (/^(virtual_server|protocol|ip_family)\s/.test(w)) out.push(`line ${w}`);
  }
  return out.map((l) => `${l}\n`).join('');
}

export interface KaFacts {
  /** The config on the host (undefined: none). */
  content?: string;
  daemon?: 'running' | 'stopped' | 'missing';
  systemd?: boolean;
  enabled?: boolean;
  /** /proc/net/ip_vs service lines. */
  live?: string[];
  /** `ip -o addr show` lines. */
  addr?: string[];
  mode?: string;
}

/** The keepalived probe's output. */
export function kaFacts(f: KaFacts): string {
  return section('file', secretFileProbe(f.content, f.mode))
    + section('conf', confProbe(f.content))
    + section('daemon', `daemon ${f.daemon ?? 'running'}\nsystemd ${f.systemd ? 'yes' : 'no'}\nenabled ${f.enabled ? 'yes' : 'no'}\n`)
    + section('live', (f.live ?? []).map((l) => `${l}\n`).join(''))
    + section('addr', (f.addr ?? []).map((l) => `${l}\n`).join(''));
}
