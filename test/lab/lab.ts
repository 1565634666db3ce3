// The lab's facts and a few helpers for integration tests (test/lab/README.md describes the lab).
// Compiled to dist/test/lab/lab.js; the shell scripts are found from the repo root.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function findRepoRoot(): string {
  // dist/test/lab/lab.js -> ../../.. ; test/lab/lab.ts (run directly) -> ../..
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'test/lab/lab-up.sh'))) return dir;
    dir = path.dirname(dir);
  }
  throw new Error('lab.ts: cannot find the repository root (no test/lab/lab-up.sh above ' + fileURLToPath(import.meta.url) + ')');
}

export const REPO_ROOT = findRepoRoot();
export const LAB_SCRIPTS = path.join(REPO_ROOT, 'test/lab');
export const LAB_DIR = process.env.LVSPLAY_LAB_DIR ?? '/run/lvsplay-lab';
export const LAB_CACHE = process.env.LVSPLAY_LAB_CACHE ?? '/var/cache/lvsplay-lab';
export const IDENTITY_FILE = path.join(LAB_DIR, 'id_lab');
export const KNOWN_HOSTS_FILE = path.join(LAB_DIR, 'known_hosts');
export const INVENTORY_FILE = path.join(LAB_SCRIPTS, 'inventory.yml');
export const PORT_BASE = Number(process.env.LVSPLAY_LAB_PORT_BASE ?? 22100);
/** The lab's L2 segment (br0, inside namespace `lvsplay-lab`). */
export const LAB_SUBNET = '192.0.2.0/24';
/** Used by the VMs' management NIC (user-net); never present on br0: don't use it for VIPs. */
export const MGMT_SUBNET = '203.0.113.240/28';
/** The namespace that holds the bridge. */
export const BRIDGE_NETNS = 'lvsplay-lab';

export type LabHostKind = 'vm' | 'netns';
export type LabHostRole = 'director' | 'real_server' | 'client';
export interface LabHost {
  name: string;
  kind: LabHostKind;
  role: LabHostRole;
  /** Address on br0 (interface eth0 on every host), /24. */
  address: string;
  mac: string;
  /** SSH is forwarded to 127.0.0.1:port. */
  port: number;
  /** Network namespace, for netns hosts. */
  netns?: string;
  /** The prefix of its address on eth0: 24, or 25 on the back network. */
  prefix: number;
}

/**
 * The back network (bridge br1, 203.0.113.0/25, common.sh): the directors' second NIC (eth1,
 * .5 and .6), rs6 behind it, and the client's second leg (.50).
 */
const BACK_PREFIX = 25;

function h(name: string, kind: LabHostKind, role: LabHostRole, address: string, macSuffix: number, portOffset: number): LabHost {
  const mac = `52:54:00:00:00:${String(macSuffix).padStart(2, '0')}`;
  const host: LabHost = { name, kind, role, address, mac, port: PORT_BASE + portOffset, prefix: address.startsWith('203.0.113.') ? BACK_PREFIX : 24 };
  if (kind === 'netns') host.netns = `lvsplay-${name}`;
  return host;
}

export const HOSTS: readonly LabHost[] = [
  h('lb1', 'vm', 'director', '192.0.2.5', 5, 1),
  h('lb2', 'vm', 'director', '192.0.2.6', 6, 2),
  h('rs1', 'netns', 'real_server', '192.0.2.21', 21, 21),
  h('rs2', 'netns', 'real_server', '192.0.2.22', 22, 22),
  // NAT real servers: their own subnet on the same bridge, so replies to the client (192.0.2.50)
  // go through their gateway, the director, and not straight back across the link.
  h('rs3', 'netns', 'real_server', '198.51.100.23', 23, 23),
  h('rs4', 'netns', 'real_server', '198.51.100.24', 24, 24),
  h('rs5', 'vm', 'real_server', '192.0.2.25', 25, 25),
  // behind the directors' second NIC: the back network, br1
  h('rs6', 'netns', 'real_server', '203.0.113.26', 26, 26),
  h('client', 'netns', 'client', '192.0.2.50', 50, 50),
];


export function host(name: string): LabHost {
  const found = HOSTS.find((x) => x.name === name);
  if (!found) throw new Error(`no lab host named ${name}`);
  return found;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  input?: string;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  /** Copy the child's stderr to ours as it comes (lab scripts log progress there). */
  echoStderr?: boolean;
}

/** Run a program (no shell), collect its output. Never rejects on a non-zero exit. */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (opts.echoStderr) process.stderr.write(d);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
    if (opts.timeoutMs) timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    if (child.stdin) {
      child.stdin.on('error', () => {}); // the child may exit without reading its input
      child.stdin.end(opts.input);
    }
  });
}

/** Run argv inside a network namespace (`ip netns exec NS argv...`), as root on this machine. */
export function netnsExec(ns: string, argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return run('ip', ['netns', 'exec', ns, ...argv], opts);
}

// ---- lab lifecycle ----------------------------------------------------------------------------
//
// Test files run in parallel ava workers, and two files driving the same lab at once would trample
// each other (same VIPs, one file's lab:down under the other's feet). So a process that uses the
// lab holds an exclusive *session* lock, from labUp() until labDown()/labRelease(): other files'
// labUp()/labDown() wait for it. The lock is held by a child `flock FILE sh -c 'cat'` whose stdin
// is our pipe: if this process dies, cat sees EOF and the lock goes with it.

/** The session lock file (an empty file; like the lab:up/lab:down lock it stays after lab:down). */
export const SESSION_LOCK = `${LAB_DIR}.session`;
const DEFAULT_WAIT_MS = 20 * 60_000;
let session: ChildProcess | undefined;

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Does this process hold the lab session? */
export function labHeld(): boolean {
  return session !== undefined;
}

async function acquireSession(waitMs: number): Promise<void> {
  if (session) return;
  const secs = String(Math.max(1, Math.ceil(waitMs / 1000)));
  const child = spawn('flock', ['-x', '-w', secs, SESSION_LOCK, 'sh', '-c', 'echo locked; exec cat >/dev/null'], {
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`could not get the lab session lock ${SESSION_LOCK} within ${secs} s (flock exit ${code}): another test file holds the lab`)));
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.includes('locked')) resolve();
    });
  });
  child.removeAllListeners('exit');
  child.stdout!.destroy();
  child.stdin!.on('error', () => {});
  // don't keep the event loop alive for the lock; at exit the pipe closes and the lock goes
  child.unref();
  (child.stdin as unknown as { unref?: () => void }).unref?.();
  session = child;
}

/**
 * Take the lab session without bringing the lab up: for a test file that does not use the lab but
 * must not share the machine's 2 cores with it (timing-sensitive tests next to TCG-emulated VMs).
 */
export async function labHold(): Promise<void> {
  await acquireSession(DEFAULT_WAIT_MS);
}

/** Give the lab session back (other test files may now use the lab) without tearing it down. */
export async function labRelease(): Promise<void> {
  const child = session;
  if (!child) return;
  session = undefined;
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    child.on('exit', () => resolve());
    child.ref(); // keep the event loop alive until the lock is really gone
    child.stdin!.end();
  });
}

async function script(name: string, args: string[] = [], timeoutMs = 15 * 60_000): Promise<RunResult> {
  return run('bash', [path.join(LAB_SCRIPTS, name), ...args], { timeoutMs, echoStderr: !!process.env.LVSPLAY_LAB_VERBOSE });
}

/**
 * Take the lab session (waiting up to waitForOthersMs for another test file to finish with the
 * lab), then bring the lab up (idempotent: quick when it is already up and healthy). Throws with
 * the script's log when the lab cannot start; the session stays held until labDown/labRelease.
 */
export async function labUp(opts: { waitForOthersMs?: number } = {}): Promise<RunResult> {
  await acquireSession(opts.waitForOthersMs ?? DEFAULT_WAIT_MS);
  const r = await script('lab-up.sh');
  if (r.code !== 0) throw new Error(`lab:up failed (exit ${r.code}):\n${r.stderr}${r.stdout}`);
  return r;
}

/**
 * Tear the lab down (lab-down.sh) and give the session back. If another test file holds the
 * session, waits for it (up to waitForOthersMs) first. keepSession: keep it, for a test that
 * builds the lab again at once (released, another file waiting for the lab would take it in
 * between and the rebuilt lab would be that file's).
 */
export async function labDown(opts: { waitForOthersMs?: number; keepSession?: boolean } = {}): Promise<RunResult> {
  await acquireSession(opts.waitForOthersMs ?? DEFAULT_WAIT_MS);
  try {
    const r = await script('lab-down.sh');
    if (r.code !== 0) throw new Error(`lab:down failed (exit ${r.code}):\n${r.stderr}${r.stdout}`);
    return r;
  } finally {
    if (!opts.keepSession) await labRelease();
  }
}

/**
 * Bring lab hosts back to the state they booted in, without a reboot, in parallel (reset.sh):
 * IPVS empty, no ldirectord/keepalived running (nor enabled on the VMs), addresses, routes and
 * network sysctls as at boot, the files lvsplay writes as on a fresh host, the lab's web services
 * running. Default: every host. Throws with reset.sh's report when a host is not back as it booted.
 * Takes the lab session like labUp(), so a test file starts with `await labUp(); await labReset();`.
 */
export async function labReset(names?: readonly string[]): Promise<RunResult> {
  for (const name of names ?? []) host(name); // an unknown name throws here, before anything runs
  await acquireSession(DEFAULT_WAIT_MS);
  const r = await script('reset.sh', [...(names ?? [])], 10 * 60_000);
  if (r.code !== 0) throw new Error(`lab reset failed (exit ${r.code}):\n${r.stderr}${r.stdout}`);
  return r;
}

async function vmLifecycle(action: 'reboot' | 'crash' | 'start', name: string): Promise<RunResult> {
  if (host(name).kind !== 'vm') throw new Error(`${name} is not a VM: only lb1, lb2 and rs5 can ${action}`);
  await acquireSession(DEFAULT_WAIT_MS);
  const r = await script('lab-vm.sh', [action, name], 10 * 60_000);
  if (r.code !== 0) throw new Error(`lab ${action} ${name} failed (exit ${r.code}):\n${r.stderr}${r.stdout}`);
  return r;
}

/**
 * A real reboot of a VM: `systemctl reboot` inside it (its disk is kept; the guest comes back in a
 * fresh qemu). Resolves when it answers a key-verified ssh again with a new boot id and systemd has
 * finished booting (~25-30 s on a quiet 2-core machine).
 */
export async function labReboot(name: string): Promise<RunResult> {
  return vmLifecycle('reboot', name);
}

/** A power cut: kill -9 of the VM's qemu. Nothing else is touched; labStart() powers it on again. */
export async function labCrash(name: string): Promise<RunResult> {
  return vmLifecycle('crash', name);
}

/** Power a crashed or stopped VM on again on its disk; resolves when it answers ssh, booted. */
export async function labStart(name: string): Promise<RunResult> {
  return vmLifecycle('start', name);
}

export async function labStatus(): Promise<RunResult> {
  return script('lab-status.sh', [], 120_000);
}

/**
 * The PIDs the lab recorded, by file name: "lb1.qemu" (the VM's current qemu), "lb1.vm" (its power
 * supply, which starts a fresh qemu when the guest reboots), "rs1.sshd", "rs1.relay-out", ...
 */
export function recordedPids(): Map<string, number> {
  const out = new Map<string, number>();
  const dir = path.join(LAB_DIR, 'pids');
  if (!existsSync(dir)) return out;
  for (const f of readdirSync(dir)) {
    const pid = Number(readFileSync(path.join(dir, f), 'utf8').trim());
    if (Number.isInteger(pid) && pid > 0) out.set(f, pid);
  }
  return out;
}

export function isAlive(pid: number): boolean {
  return pidAlive(pid);
}

/** Network namespaces whose name starts with `lvsplay-`. */
export async function labNamespaces(): Promise<string[]> {
  const r = await run('ip', ['netns', 'list']);
  return r.stdout
    .split('\n')
    .map((l) => l.split(/\s+/)[0] ?? '')
    .filter((n) => n.startsWith('lvsplay-'));
}

// ---- SSH ---------------------------------------------------------------------------------------

/** The base64 key blob known_hosts holds for [127.0.0.1]:port (undefined when absent). */
export function knownHostKey(port: number, knownHostsFile = KNOWN_HOSTS_FILE): { type: string; blob: string } | undefined {
  const want = `[127.0.0.1]:${port}`;
  for (const line of readFileSync(knownHostsFile, 'utf8').split('\n')) {
    const [hosts, type, blob] = line.trim().split(/\s+/);
    if (!hosts || hosts.startsWith('#') || !type || !blob) continue;
    if (hosts.split(',').includes(want)) return { type, blob };
  }
  return undefined;
}

/**
 * An ssh2 `hostVerifier` that accepts exactly the key known_hosts lists for [127.0.0.1]:port.
 * ssh2 passes the raw host key blob (no hostHash set); known_hosts holds it base64-encoded.
 */
export function hostVerifier(port: number, knownHostsFile = KNOWN_HOSTS_FILE): (key: Buffer) => boolean {
  const known = knownHostKey(port, knownHostsFile);
  return (key: Buffer) => known !== undefined && key.toString('base64') === known.blob;
}

/** node-ssh connect options for a lab host, host key checked against the lab known_hosts. */
export function sshConfig(name: string) {
  const hst = host(name);
  return {
    host: '127.0.0.1',
    port: hst.port,
    username: 'root',
    privateKeyPath: IDENTITY_FILE,
    hostVerifier: hostVerifier(hst.port),
    readyTimeout: 60_000,
  };
}

/** Arguments for the OpenSSH client to reach a lab host (for `run('ssh', [...sshArgs(n), cmd])`). */
export function sshArgs(name: string): string[] {
  const hst = host(name);
  return [
    '-F', '/dev/null', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes',
    '-o', `UserKnownHostsFile=${KNOWN_HOSTS_FILE}`, '-o', 'GlobalKnownHostsFile=/dev/null',
    '-o', 'LogLevel=ERROR', '-i', IDENTITY_FILE, '-p', String(hst.port), 'root@127.0.0.1',
  ];
}
