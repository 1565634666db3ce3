/**
 * Host key verification at fleet size, in-process: lvsplay's own path (src/transport/host-key.ts,
 * `guardHostKey` then the guard's `verify`, as SshTransport.connect calls them) for M host names
 * against an M-line known_hosts file, plain and hashed (HashKnownHosts). No host is contacted:
 * the key each "host" offers is the one recorded for it, so every verify must accept.
 *
 * Each measurement runs in a fresh child (this file, `child plain|hashed M SAMPLE FILE`): the
 * known_hosts cache is per process, so the file is read and parsed once in the time, as in a run.
 * A hashed line can only be matched by computing HMAC-SHA1(its salt, name), so looking up one name
 * costs one HMAC per hashed line (as it does for ssh(1)): M names against M lines is M² HMACs. At
 * large M the hashed case is timed over the first SAMPLE names and the total extrapolated.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { guardHostKey } from '../src/transport/host-key.js';
import { knownHostsLine } from '../src/transport/known-hosts.js';
import { median, reportFromChild, type Result, runChild } from './lib.js';

/** Host i: a name as a fleet has them, on port 22 (so known_hosts holds the bare name). */
const hostName = (i: number) => `rs${i}.fleet.example.net`;

/** Host i's ed25519 key blob (RFC 8709: string "ssh-ed25519", string key), derived, not random. */
export function hostKey(i: number): Buffer {
  const type = Buffer.from('ssh-ed25519');
  const key = createHash('sha256').update(`lvsbench host ${i}`).digest();
  const blob = Buffer.alloc(4 + type.length + 4 + key.length);
  blob.writeUInt32BE(type.length, 0);
  type.copy(blob, 4);
  blob.writeUInt32BE(key.length, 4 + type.length);
  key.copy(blob, 8 + type.length);
  return blob;
}

export function knownHostsFile(m: number, hashed: boolean): string {
  const lines: string[] = [];
  for (let i = 0; i < m; i++) lines.push(hashed ? knownHostsLine(hostName(i), hostKey(i), true) : knownHostsLine(hostName(i), hostKey(i)));
  return `${lines.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------
// Child: verify the first SAMPLE names (spread over the file) against FILE.

async function child(m: number, sample: number, file: string): Promise<void> {
  const times: Record<string, number> = {};
  await reportFromChild(async () => {
    const step = Math.max(1, Math.floor(m / sample));
    let first = 0;
    const t0 = performance.now();
    for (let k = 0; k < sample; k++) {
      const i = (k * step) % m;
      const guard = await guardHostKey(`h${i}`, { host: hostName(i), port: 22 }, { user: [file], global: [] }, 'strict');
      const accepted = await new Promise<boolean>((resolve) => guard.verify(hostKey(i), resolve));
      if (!accepted) throw new Error(`host ${i} refused: ${guard.refusal?.message}`);
      if (k === 0) first = performance.now() - t0; // includes reading and parsing the file
    }
    times['firstMs'] = first;
    times['restMs'] = performance.now() - t0 - first;
  }, () => times);
}

const self = fileURLToPath(import.meta.url);
if (process.argv[1] !== undefined && pathToFileURL(process.argv[1]).href === import.meta.url && process.argv[2] === 'child') {
  const [, , , , m, sample, file] = process.argv;
  if (file === undefined) throw new Error(`usage: node ${self} child plain|hashed M SAMPLE FILE`);
  await child(Number(m), Number(sample), file);
}

// ---------------------------------------------------------------------------------------------
// Parent.

export interface HostKeyRow {
  kind: 'plain' | 'hashed';
  m: number;
  /** Names timed (all M, or a sample for large hashed files). */
  sample: number;
  /** Total for M names: measured, or first lookup + the rest's mean × (M - 1) when sampled. */
  totalMs: number;
  /** Per name, after the first (the first also reads and parses the file). */
  perNameUs: number;
  loadMs: number;
  peakRssMiB: number;
  reps: number;
  spread: string;
}

export async function hostKeyRows(sizes: readonly number[], reps: number, hashedSample: number, progress: (s: string) => void): Promise<{ rows: HostKeyRow[]; results: Result[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'lvsbench-keys-'));
  const rows: HostKeyRow[] = [];
  try {
    for (const kind of ['plain', 'hashed'] as const) {
      for (const m of sizes) {
        const file = join(dir, `known_hosts-${kind}-${m}`);
        writeFileSync(file, knownHostsFile(m, kind === 'hashed'));
        const sample = kind === 'hashed' ? Math.min(m, hashedSample) : m;
        const totals: number[] = [];
        const per: number[] = [];
        const loads: number[] = [];
        const rss: number[] = [];
        for (let r = 0; r < reps; r++) {
          const rep = await runChild(self, ['child', kind, String(m), String(sample), file]);
          const first = rep.extra?.['firstMs'] ?? 0;
          const rest = rep.extra?.['restMs'] ?? 0;
          const perName = sample > 1 ? rest / (sample - 1) : 0;
          totals.push(first + perName * (m - 1));
          per.push(perName * 1000);
          loads.push(first);
          rss.push(rep.peakRssMiB);
        }
        const row: HostKeyRow = {
          kind, m, sample, totalMs: median(totals), perNameUs: median(per), loadMs: median(loads), peakRssMiB: median(rss), reps,
          spread: `min ${Math.min(...totals).toFixed(0)}, max ${Math.max(...totals).toFixed(0)} ms`,
        };
        progress(`  known_hosts ${kind} M=${m}: ${row.totalMs.toFixed(0)} ms for ${m} names (${row.perNameUs.toFixed(1)} µs per name${sample < m ? `, ${sample} names timed` : ''})`);
        rows.push(row);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const results: Result[] = rows.map((r) => ({
    measure: `host keys: ${r.m} names vs ${r.m}-line known_hosts, ${r.kind}`,
    value: r.totalMs,
    unit: 'ms',
    detail: `${r.perNameUs.toFixed(1)} µs/name; file read+parse+first ${r.loadMs.toFixed(0)} ms; median of ${r.reps}, ${r.spread}${r.sample < r.m ? `; ${r.sample} names timed, total extrapolated` : ''}`,
  }));
  for (const kind of ['plain', 'hashed'] as const) {
    const of = rows.filter((r) => r.kind === kind);
    for (let i = 1; i < of.length; i++) {
      const [a, b] = [of[i - 1]!, of[i]!];
      results.push({ measure: `host keys, ${kind}: growth for ${b.m / a.m}x the names and lines`, value: b.totalMs / a.totalMs, unit: 'x', detail: `${b.m / a.m}x = linear, ${(b.m / a.m) ** 2}x = quadratic` });
    }
  }
  return { rows, results };
}
