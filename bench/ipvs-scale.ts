/**
 * The inventory of a director carrying lvsplay's 5,000 services x 4 real servers (issue 14's "IPVS
 * at scale"): planned offline by plan-ipvs, applied on the lab's lb1 by ipvs-lab.
 */
export const SERVICES = 5_000;
export const MEMBERS = 4;
const REAL_SERVERS = 40;

/**
 * 5,000 lvsplay-owned DR services (50 VIPs in 203.0.113.129-178 x 100 ports, wrr) over 40 real
 * servers in the director's /24 (never contacted); `director` is the directors: entry, `head`
 * what goes before it (defaults).
 */
export function scaleInventory(director: string, head = ''): string {
  const out = [head, 'directors:', director, 'real_servers:'].filter((l) => l !== '');
  for (let r = 0; r < REAL_SERVERS; r++) out.push(`  - { name: rs${r}, address: 192.0.2.${100 + r} }`);
  out.push('services:');
  for (let s = 0; s < SERVICES; s++) {
    out.push(`  - name: svc${s}`, `    vip: 203.0.113.${129 + Math.floor(s / 100)}`, `    port: ${8000 + (s % 100)}`, '    scheduler: wrr', '    real_servers:');
    for (let k = 0; k < MEMBERS; k++) out.push(`      - { server: rs${(s * MEMBERS + k) % REAL_SERVERS}, weight: ${1 + k} }`);
  }
  return `${out.join('\n')}\n`;
}

/** How many batch lines an ipvs apply script carries: its batch file's printf word (util/shell.ts linesFile; validated lines, no quote inside). */
export function batchLineCount(script: string): number {
  const batch = /printf '%s' '([^']*)' > "\$d\/batch"/.exec(script)?.[1] ?? '';
  return batch.split('\n').filter((l) => l !== '').length;
}
