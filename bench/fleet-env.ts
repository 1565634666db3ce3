/**
 * The fleet benchmark's environment, shared by `fleet` (fleet.ts) and `fleet-profile`
 * (fleet-profile.ts): N hosts up and always down again (Ctrl-C included), the inventories and
 * configs each tool reads, resetting and checking the hosts, and one measured run of a command
 * with what the hosts saw of it (SSH connections and sessions from each sshd's log, and the CPU
 * the hosts spent, from each sshd listener's reaped children).
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execOnAll, type FleetHost, readHosts } from './fleet-ssh.js';
import { type Measured, measure, readPid, reapedChildrenCpuMs } from './fleet-proc.js';

/** dist/bench/fleet-env.js → the repository (scripts and playbooks are read from the source tree). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const HOSTS_SCRIPT = join(REPO_ROOT, 'bench/fleet-hosts.sh');
export const INIT_SCRIPT = join(REPO_ROOT, 'bench/fleet-init.py');
/** The command users run: package.json's `bin` (the bundle, scripts/bundle.ts). */
export const LVSPLAY_CLI = join(REPO_ROOT, (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { bin: { lvsplay: string } }).bin.lvsplay);
export const FLOOR_SCRIPT = join(REPO_ROOT, 'dist/bench/fleet-floor.js');
export const LVSPLAY_PLAYBOOK = join(REPO_ROOT, 'bench/fleet/real-servers.yml');
export const ANSIBLE_PLAYBOOK = join(REPO_ROOT, 'bench/fleet/real-servers.ansible.yml');

/** What the job puts on a host, and what a reset takes away again. */
export const SYSCTL_FILE = '/etc/sysctl.d/90-lvsplay.conf';
export const ARP_SYSCTLS: Record<string, string> = {
  'net.ipv4.conf.all.arp_ignore': '1',
  'net.ipv4.conf.all.arp_announce': '2',
  'net.ipv4.conf.lo.arp_ignore': '1',
  'net.ipv4.conf.lo.arp_announce': '2',
};
/** Hosts in 198.51.100.0/24 are behind director lb1, those in 203.0.113.0/24 behind lb2. */
const GROUPS = [
  { prefix: '198.51.100.', director: 'lb1', dip: '198.51.100.1', vips: ['192.0.2.10', '192.0.2.11'] },
  { prefix: '203.0.113.', director: 'lb2', dip: '203.0.113.1', vips: ['192.0.2.20', '192.0.2.21'] },
];
export const vipsOf = (h: FleetHost): string[] => GROUPS.find((g) => h.address.startsWith(g.prefix))!.vips;

// ---------------------------------------------------------------------------------------------
// Interrupts: whatever is running is killed by its PID, every fleet that is up goes down.

const running = new Set<number>();
const upDirs = new Set<string>();
let handlersInstalled = false;

function onSignal(signal: NodeJS.Signals): void {
  process.stderr.write(`\n${signal}: ending the measured process and taking the hosts down\n`);
  for (const pid of running) {
    try {
      process.kill(-pid, 'SIGKILL'); // its own process group (spawned detached)
    } catch {
      // already gone
    }
  }
  for (const dir of upDirs) spawnSync('bash', [HOSTS_SCRIPT, 'down', dir], { stdio: 'inherit' });
  process.exit(signal === 'SIGINT' ? 130 : 143);
}

/** A process of ours the interrupt handler must kill (by PID, with its process group) if it is still running. */
export function trackPid(pid: number): void {
  running.add(pid);
}
export function untrackPid(pid: number): void {
  running.delete(pid);
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
}

/** Run a short helper command (its output to our stderr), killable by the interrupt handler. */
function runHelper(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    // its output to our stderr: stdout is the benchmark table
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 2, 2], detached: true, env });
    if (child.pid !== undefined) running.add(child.pid);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (child.pid !== undefined) running.delete(child.pid);
      if (code === 0) resolvePromise();
      else reject(new Error(`${argv.join(' ')} exited ${code ?? signal}`));
    });
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------

export interface RunOutcome {
  label: string;
  m: Measured;
  /** Per host, in host order: what its sshd logged during the run. */
  connections: number[];
  sessions: number[];
  /** Per host: CPU its sshd's finished children used (sshd sessions, shells, probes, Ansible's python). */
  remoteCpuMs: number[];
  stdoutFile: string;
  stderrFile: string;
  loadBefore: number;
  loadAfter: number;
}

export interface FleetOptions {
  portBase: number;
  /** Pause after each run, before reading the logs: sessions end and are reaped, lvsplay's
   * per-host lock holder (which polls its connection every second) exits. */
  settleMs: number;
  /**
   * The hosts' /bin/sh: Debian's dash, or bash as on RHEL-like hosts (the bench's default,
   * bench/README.md says why).
   */
  hostSh: 'dash' | 'bash';
}

export class Fleet {
  readonly hosts: FleetHost[];
  readonly lvsplayInventory: string;
  readonly ansibleConfig: string;
  private readonly listeners: number[];
  private runCount = 0;

  private constructor(readonly dir: string, readonly n: number, readonly upMs: number, private readonly options: FleetOptions) {
    this.hosts = readHosts(dir);
    this.listeners = this.hosts.map((h) => readPid(dir, `${h.name}.sshd`));
    this.lvsplayInventory = join(dir, 'inventory.yml');
    writeFileSync(this.lvsplayInventory, lvsplayInventory(dir, this.hosts));
    this.ansibleConfig = join(dir, 'ansible.cfg');
    writeFileSync(this.ansibleConfig, ansibleConfig(dir, this.hosts.length));
    writeFileSync(join(dir, 'ansible-inventory.yml'), ansibleInventory(dir, this.hosts));
    mkdirSync(join(dir, 'runs'));
  }

  /** Bring N hosts up (bench/fleet-hosts.sh) and check each answers as itself. */
  static async up(n: number, options: FleetOptions): Promise<Fleet> {
    installHandlers();
    // not under /run, /etc, /root, /var/lib or /var/log: the hosts remount those
    const dir = mkdtempSync('/tmp/lvsbench-');
    upDirs.add(dir);
    const t0 = performance.now();
    try {
      await runHelper(['bash', HOSTS_SCRIPT, 'up', String(n), dir, String(options.portBase)], { ...process.env, LVSBENCH_HOST_SH: options.hostSh });
      const fleet = new Fleet(dir, n, performance.now() - t0, options);
      const names = await execOnAll(dir, fleet.hosts, 'hostname');
      const wrong = names.filter((r, i) => r.stdout.trim() !== fleet.hosts[i]!.name);
      if (wrong.length > 0) throw new Error(`hosts do not answer as themselves, e.g. ${wrong[0]!.host}: ${wrong[0]!.error ?? wrong[0]!.stdout}`);
      return fleet;
    } catch (err) {
      await downDir(dir);
      throw err;
    }
  }

  async down(): Promise<void> {
    await downDir(this.dir);
  }

  /** Back to a clean host: no VIP on lo, ARP sysctls 0, no sysctl.d file, no lvsplay records. */
  async reset(): Promise<void> {
    const script = [
      'ip -4 addr flush dev lo scope global',
      ...Object.keys(ARP_SYSCTLS).map((k) => `echo 0 > /proc/sys/${k.replaceAll('.', '/')}`),
      `rm -f ${SYSCTL_FILE} ${SYSCTL_FILE}.lvsplay-bak`,
      'rm -rf /var/lib/lvsplay',
    ].join('\n');
    const out = await execOnAll(this.dir, this.hosts, 'sh -es', `${script}\n`);
    const bad = out.filter((r) => r.code !== 0);
    if (bad.length > 0) throw new Error(`reset failed on ${bad.length} host(s), e.g. ${bad[0]!.host}: ${bad[0]!.error ?? bad[0]!.stderr}`);
    await sleep(this.options.settleMs);
  }

  /**
   * After a changing run: every host has its VIPs on lo, the ARP sysctls and the sysctl.d file, in
   * its own /etc (the overlay's upper layer), and the machine's own /etc and sysctls are untouched.
   */
  async verifyConverged(who: string): Promise<void> {
    const keys = Object.keys(ARP_SYSCTLS);
    const script = `ip -4 -o addr show dev lo | while read -r _ _ _ cidr _; do echo "vip $cidr"; done
${keys.map((k) => `printf 'sysctl %s=%s\\n' ${k} "$(cat /proc/sys/${k.replaceAll('.', '/')})"`).join('\n')}
[ -f ${SYSCTL_FILE} ] && echo file-present
`;
    const out = await execOnAll(this.dir, this.hosts, 'sh -es', script);
    for (const [i, r] of out.entries()) {
      const host = this.hosts[i]!;
      const lines = new Set(r.stdout.split('\n'));
      const missing = [
        ...vipsOf(host).map((v) => `vip ${v}/32`),
        ...keys.map((k) => `sysctl ${k}=${ARP_SYSCTLS[k]}`),
        'file-present',
      ].filter((l) => !lines.has(l));
      if (missing.length > 0) throw new Error(`after ${who}, ${host.name} is not converged: missing ${missing.join(', ')}`);
      if (!existsSync(join(this.dir, 'h', host.name, 'ovl/etc/u', SYSCTL_FILE.slice('/etc/'.length)))) {
        throw new Error(`after ${who}, ${host.name}'s ${SYSCTL_FILE} is not in its own /etc overlay`);
      }
    }
    if (existsSync(SYSCTL_FILE)) throw new Error(`${SYSCTL_FILE} exists on the machine itself: a host's /etc is not its own`);
  }

  /** Run a command that contacts no host (start-up rows), measured the same way. */
  async runLocal(label: string, argv: string[], env: NodeJS.ProcessEnv): Promise<Measured> {
    return this.measured(argv, env, this.runBase(label));
  }

  /** measure(), with the PID known to the interrupt handler while it runs. */
  private async measured(argv: string[], env: NodeJS.ProcessEnv, base: string, sampleMs?: number): Promise<Measured> {
    let pid: number | undefined;
    try {
      return await measure(argv, {
        cwd: this.dir, env, stdoutFile: `${base}.out`, stderrFile: `${base}.err`, reportFile: `${base}.json`, initScript: INIT_SCRIPT,
        ...(sampleMs !== undefined && { sampleMs }),
        onStart: (p) => running.add((pid = p)),
      });
    } finally {
      if (pid !== undefined) running.delete(pid);
    }
  }

  private runBase(label: string): string {
    return join(this.dir, 'runs', `${String(++this.runCount).padStart(3, '0')}-${label.replace(/[^a-z0-9]+/gi, '-')}`);
  }

  /** Run `argv` measured, and collect what the hosts saw of it. */
  async run(label: string, argv: string[], env: NodeJS.ProcessEnv, sampleMs?: number): Promise<RunOutcome> {
    const base = this.runBase(label);
    const logs = this.hosts.map((h) => join(this.dir, 'h', h.name, 'sshd.log'));
    const offsets = logs.map((f) => statSync(f).size);
    const cpu0 = this.listeners.map(reapedChildrenCpuMs);
    const loadBefore = loadAvg1();
    const m = await this.measured(argv, env, base, sampleMs);
    const loadAfter = loadAvg1();
    await sleep(this.options.settleMs);
    const connections: number[] = [];
    const sessions: number[] = [];
    for (const [i, f] of logs.entries()) {
      const text = readFrom(f, offsets[i]!);
      connections.push(count(text, /^Accepted publickey for /gm));
      sessions.push(count(text, /^Starting session: /gm));
    }
    const remoteCpuMs = this.listeners.map((pid, i) => reapedChildrenCpuMs(pid) - cpu0[i]!);
    return { label, m, connections, sessions, remoteCpuMs, stdoutFile: `${base}.out`, stderrFile: `${base}.err`, loadBefore, loadAfter };
  }

  /** The sshd listener PID of a host (for strace). */
  listenerOf(host: string): number {
    return this.listeners[this.hosts.findIndex((h) => h.name === host)]!;
  }
}

async function downDir(dir: string): Promise<void> {
  try {
    await runHelper(['bash', HOSTS_SCRIPT, 'down', dir]);
  } finally {
    upDirs.delete(dir);
    // down removes DIR; if it could not (no mark: `up` failed before writing it), remove it here
    if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  }
}

export function loadAvg1(): number {
  return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
}

function readFrom(file: string, offset: number): string {
  const size = statSync(file).size;
  if (size <= offset) return '';
  const buf = Buffer.alloc(size - offset);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buf, 0, buf.length, offset);
  } finally {
    closeSync(fd);
  }
  return buf.toString('utf8');
}

const count = (text: string, re: RegExp) => (text.match(re) ?? []).length;

// ---------------------------------------------------------------------------------------------
// What each tool reads.

/**
 * lvsplay's inventory: the hosts as real servers of two DR services per director (TCP 80 and UDP
 * 53 on two VIPs), so each gets two VIPs on lo and the ARP sysctls. Directors lb1 (and lb2 beyond
 * 240 hosts, for 203.0.113.0/24) exist only so the DR subnet rule holds: the playbook selects
 * real_servers only and no director is contacted.
 */
export function lvsplayInventory(dir: string, hosts: readonly FleetHost[]): string {
  const out = [
    '# generated by bench/fleet.ts',
    'defaults:',
    // connect_timeout 60 (default 10), as the floor's readyTimeout and Ansible's timeout: at N = 200
    // on 2 loaded cores that also run every host's sshd, handshakes can take longer than 10 s,
    // and the bench measures speed, not how each tool gives up
    `  ssh: { user: root, identity_file: ${join(dir, 'id_bench')}, known_hosts: ${join(dir, 'known_hosts')}, agent: false, connect_timeout: 60 }`,
    'directors:',
  ];
  const used = GROUPS.filter((g) => hosts.some((h) => h.address.startsWith(g.prefix)));
  for (const [i, g] of used.entries()) {
    out.push(`  - { name: ${g.director}, address: ${g.dip}, interface: { name: eth0, address: ${g.dip}/24 }, role: primary, pair: p${i} }`);
  }
  out.push('real_servers:');
  for (const h of hosts) out.push(`  - { name: ${h.name}, address: ${h.address}, ssh: { host: 127.0.0.1, port: ${h.port} } }`);
  out.push('services:');
  for (const g of used) {
    const members = hosts.filter((h) => h.address.startsWith(g.prefix)).map((h) => `{ server: ${h.name} }`).join(', ');
    out.push(`  - { name: web-${g.director}, vip: ${g.vips[0]}, port: 80, scheduler: rr, directors: [${g.director}], real_servers: [${members}] }`);
    out.push(`  - { name: dns-${g.director}, vip: ${g.vips[1]}, port: 53, protocol: udp, scheduler: rr, directors: [${g.director}], real_servers: [${members}] }`);
  }
  return `${out.join('\n')}\n`;
}

/** Ansible's inventory (JSON, which is YAML): the same hosts, each with its VIPs. */
export function ansibleInventory(dir: string, hosts: readonly FleetHost[]): string {
  const inventory = {
    all: {
      children: {
        real_servers: {
          hosts: Object.fromEntries(hosts.map((h) => [h.name, { ansible_host: '127.0.0.1', ansible_port: h.port, lvs_vips: vipsOf(h).map((v) => `${v}/32`) }])),
          vars: { ansible_user: 'root', ansible_ssh_private_key_file: join(dir, 'id_bench') },
        },
      },
    },
  };
  return `${JSON.stringify(inventory, null, 1)}\n`;
}

/**
 * ansible.cfg: pipelining on, forks = N, no fact gathering, host key checking on against the
 * bench's known_hosts, and Ansible's default SSH multiplexing (-C, ControlMaster auto,
 * ControlPersist 60s); -F /dev/null so no ssh_config of the machine changes the comparison.
 */
export function ansibleConfig(dir: string, forks: number): string {
  return `# generated by bench/fleet.ts
[defaults]
inventory = ${join(dir, 'ansible-inventory.yml')}
forks = ${forks}
gathering = explicit
host_key_checking = True
interpreter_python = /usr/bin/python3
retry_files_enabled = False
timeout = 60
local_tmp = ${join(dir, 'ansible-local')}
nocolor = True

[ssh_connection]
pipelining = True
ssh_args = -F /dev/null -C -o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile=${join(dir, 'known_hosts')} -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes
`;
}

/** The environment every measured command gets: no ssh-agent, no NODE_OPTIONS, a UTF-8 locale (Ansible needs one). */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: process.env['HOME'] ?? '/root', LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8', TERM: 'dumb', ...extra };
}

/** Ansible's environment for one run: its config, and a ControlMaster socket folder of the run's own. */
export function ansibleEnv(fleet: Fleet, run: string): NodeJS.ProcessEnv {
  const cp = join(fleet.dir, 'cp', run);
  mkdirSync(cp, { recursive: true, mode: 0o700 });
  return cleanEnv({ ANSIBLE_CONFIG: fleet.ansibleConfig, ANSIBLE_SSH_CONTROL_PATH_DIR: cp, ANSIBLE_HOME: join(fleet.dir, 'ansible-home') });
}

/** `ansible-playbook` on PATH, or undefined. */
export function findAnsible(): string | undefined {
  const r = spawnSync('sh', ['-c', 'command -v ansible-playbook'], { encoding: 'utf8' });
  const path = r.stdout.trim();
  return r.status === 0 && path !== '' ? path : undefined;
}

// ---------------------------------------------------------------------------------------------
// Reading what a run printed.

export interface RecapRow {
  host: string;
  ok: number;
  changed: number;
  unreachable: number;
  failed: number;
}

/** lvsplay's and Ansible's recap lines have the same shape: `host : ok=N changed=N unreachable=N failed=N`. */
export function parseRecap(text: string): RecapRow[] {
  const rows: RecapRow[] = [];
  for (const m of text.matchAll(/^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)/gm)) {
    rows.push({ host: m[1]!, ok: Number(m[2]), changed: Number(m[3]), unreachable: Number(m[4]), failed: Number(m[5]) });
  }
  return rows;
}

/**
 * Check a tool's run did what it claims: every host in the recap, none failed or unreachable,
 * and every host changed (a first run) or none (a no-op or a check of converged hosts).
 */
export function expectRecap(run: RunOutcome, hosts: number, changed: 'all' | 'none'): void {
  const out = readFileSync(run.stdoutFile, 'utf8');
  const rows = parseRecap(out);
  const why =
    run.m.status !== 0 ? `exit status ${run.m.status}`
    : rows.length !== hosts ? `${rows.length} recap lines for ${hosts} hosts`
    : rows.some((r) => r.failed + r.unreachable > 0) ? 'failed or unreachable hosts'
    : changed === 'all' && rows.some((r) => r.changed === 0) ? `${rows.filter((r) => r.changed === 0).length} host(s) not changed by a first run`
    : changed === 'none' && rows.some((r) => r.changed > 0) ? `${rows.filter((r) => r.changed > 0).length} host(s) changed by a run that should change nothing`
    : undefined;
  if (why) {
    // the run's folder goes with the hosts: keep its output where it can be read afterwards
    const kept = mkdtempSync(join(tmpdir(), 'lvsbench-failed-'));
    copyFileSync(run.stdoutFile, join(kept, 'stdout'));
    copyFileSync(run.stderrFile, join(kept, 'stderr'));
    const err = readFileSync(run.stderrFile, 'utf8');
    const firstBad = out.split('\n').find((l) => / (UNREACHABLE|FAILED)/.test(l) || l.startsWith('fatal:')) ?? '';
    throw new Error(`${run.label}: ${why} (output kept in ${kept})\n${firstBad}\n--- stdout (tail) ---\n${out.slice(-1500)}\n--- stderr (tail) ---\n${err.slice(-1500)}`);
  }
}
