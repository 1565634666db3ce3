/** `lvsplay status` as text: per director, one table per service, one row per real server. */
import type { DestLine, DirectorStatus, ServiceLine } from './compare.js';

const HEAD = ['SERVER', 'ADDRESS', 'FWD', 'WEIGHT', 'INV', 'ACTIVE', 'INACT', 'CONNS', 'INPKTS', 'OUTPKTS', 'INBYTES', 'OUTBYTES', 'CPS', 'STATE'];
/** Columns printed right-aligned (numbers). */
const NUMERIC = new Set(['WEIGHT', 'INV', 'ACTIVE', 'INACT', 'CONNS', 'INPKTS', 'OUTPKTS', 'INBYTES', 'OUTBYTES', 'CPS']);

export type DirectorReport = DirectorStatus | { director: string; error: string };

export function formatStatus(reports: readonly DirectorReport[]): string {
  return reports.map((r) => ('error' in r ? `${r.director}: unreachable: ${r.error}\n` : director(r))).join('\n');
}

function director(r: DirectorStatus): string {
  const verdict = r.differences === 0 ? 'as the inventory says' : `${r.differences} difference${r.differences === 1 ? '' : 's'} from the inventory`;
  return `${r.director} (${r.role}): ${verdict}\n${r.services.map(service).join('')}`;
}

function service(s: ServiceLine): string {
  const owner = s.owner ? ` [${s.owner}]` : '';
  const totals = s.stats ? `  conns ${s.stats[0]}, ${s.rates?.[0] ?? 0}/s` : '';
  const title = `  ${s.key}${s.name ? ` (${s.name})` : ''}${s.scheduler ? ` ${s.scheduler}` : ''}${owner}${totals}${s.state === 'ok' ? '' : `: ${s.state.toUpperCase()}`}\n`;
  if (s.dests.length === 0) return `${title}    (no real servers)\n`;
  return title + table([HEAD, ...s.dests.map(row)]);
}

function row(d: DestLine): string[] {
  const n = (v: number | undefined) => (v === undefined ? '-' : String(v));
  const addr = d.address.includes(':') ? `[${d.address}]:${d.port}` : `${d.address}:${d.port}`;
  return [d.server ?? '?', addr, d.forwarding ?? '-', n(d.weight), n(d.inventoryWeight), n(d.active), n(d.inactive),
    ...[0, 1, 2, 3, 4].map((i) => n(d.stats?.[i])), n(d.rates?.[0]), d.state];
}

function table(rows: string[][]): string {
  const widths = HEAD.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => `    ${r.map((cell, i) => (NUMERIC.has(HEAD[i]!) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ').trimEnd()}\n`).join('');
}
