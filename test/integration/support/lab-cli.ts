/**
 * What the integration tests on the lab share: the real CLI run as a user runs it, a script on a
 * lab host over lvsplay's own transport (host keys verified), inventory variants, the client's
 * requests (one-off, or a load loop while something happens), and waiting for a condition.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { loadInventory } from '../../../src/inventory/load.js';
import { SshTransport } from '../../../src/transport/ssh.js';
import { tmpdir } from 'node:os';
import { INVENTORY_FILE, LAB_SCRIPTS, labReset, netnsExec, REPO_ROOT, run } from '../../lab/lab.js';
import { CLI as CLI_BIN } from '../../support/paths.js';

export const CLI = path.join(REPO_ROOT, CLI_BIN);
export const BOOTSTRAP = path.join(REPO_ROOT, 'playbooks/bootstrap.yml');

export interface JsonRun {
  exitCode: number;
  results: { host: string; play: string; status: string; error?: { stage: string; message: string }; plan?: { tasks: { changes: { summary: string }[] }[] } }[];
}

/** Run the real CLI; with --json, parse its one document. */
export async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string; json?: JsonRun }> {
  const r = await run('node', [CLI, ...args], { timeoutMs: 10 * 60_000 });
  return { ...r, ...(args.includes('--json') && r.stdout.trim().startsWith('{') && { json: JSON.parse(r.stdout) as JsonRun }) };
}

/** A copy of the lab inventory, written in `dir`, with `edit` applied to its parsed form. */
export function inventoryWith(dir: string, name: string, edit: (inv: Record<string, any>) => void): string {
  const inv = parse(readFileSync(INVENTORY_FILE, 'utf8')) as Record<string, any>;
  edit(inv);
  const file = path.join(dir, `${name}.yml`);
  writeFileSync(file, stringify(inv));
  return file;
}

export const statusByHost = (json: JsonRun) => Object.fromEntries(json.results.map((r) => [`${r.play}/${r.host}`, r.status]));
export const summaries = (json: JsonRun, hostName: string) =>
  json.results.filter((r) => r.host === hostName).flatMap((r) => r.plan?.tasks.flatMap((t) => t.changes.map((c) => c.summary)) ?? []);

/** Run a script on a lab host through lvsplay's own transport (host keys verified). */
export async function onHost(name: string, script: string): Promise<string> {
  const h = loadInventory(INVENTORY_FILE).hosts.get(name)!;
  const transport = await SshTransport.connect(h.name, h.ssh);
  try {
    const r = await transport.exec(script);
    if (r.code !== 0) throw new Error(`${name}: ${script} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  } finally {
    await transport.close();
  }
}

export const curl = async (url: string) => (await netnsExec('lvsplay-client', ['curl', '-s', '--max-time', '5', url])).stdout.trim();
export const udp = async (address: string) =>
  (await netnsExec('lvsplay-client', ['socat', '-T', '3', '-', `UDP:${address}`], { input: 'hello\n', timeoutMs: 10_000 })).stdout.trim();

export async function eventually<T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last = await probe();
  while (!ok(last) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 1000));
    last = await probe();
  }
  if (!ok(last)) throw new Error(`${what}: still ${JSON.stringify(last)} after ${timeoutMs} ms`);
  return last;
}

/** What test/lab/http-load.py reports: requests through a VIP while something happened. */
export interface Load {
  requests: number;
  failures: number;
  errors: string[];
  largest_gap_ms: number;
  servers: Record<string, number>;
}

/** Loops requests from the client to `url` (http-load.py) while `during` runs, from 1.5 s before to 1.5 s after. */
export async function underLoad<T>(url: string, options: { keepAlive?: boolean }, during: () => Promise<T>): Promise<{ result: T; load: Load }> {
  const stop = path.join(tmpdir(), `lvsplay-load-stop-${process.pid}-${Date.now()}`);
  const loading = netnsExec('lvsplay-client', ['/usr/bin/python3', path.join(LAB_SCRIPTS, 'http-load.py'), url, stop, ...(options.keepAlive ? ['--keep-alive'] : [])], { timeoutMs: 15 * 60_000 });
  await new Promise((r) => setTimeout(r, 1500)); // the loop is running before anything changes
  let result: T;
  try {
    result = await during();
    await new Promise((r) => setTimeout(r, 1500)); // and still runs after
  } finally {
    writeFileSync(stop, '');
  }
  const out = await loading;
  rmSync(stop, { force: true });
  if (out.code !== 0) throw new Error(`http-load.py exited ${out.code}: ${out.stderr}`);
  return { result, load: JSON.parse(out.stdout) as Load };
}

/** A known start whatever ran before: every lab host as booted, then playbooks/bootstrap.yml with `inventory`. */
export async function bootstrapped(inventory: string = INVENTORY_FILE): Promise<void> {
  await labReset();
  const bootstrap = await cli(['apply', '-i', inventory, BOOTSTRAP]);
  if (bootstrap.code !== 0) throw new Error(`bootstrap failed (exit ${bootstrap.code}):\n${bootstrap.stdout}${bootstrap.stderr}`);
}
