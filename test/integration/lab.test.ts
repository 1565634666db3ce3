// The lab itself (issue 3): real qemu directors with the Debian kernel's IPVS, real sshd on every
// host, real packets from the client namespace. No mocks; if the lab cannot start, this fails.
import test from 'ava';
import { NodeSSH } from 'node-ssh';
import {
  HOSTS,
  host,
  isAlive,
  knownHostKey,
  labDown,
  labHeld,
  labNamespaces,
  labUp,
  LAB_DIR,
  netnsExec,
  recordedPids,
  run,
  sshConfig,
} from '../lab/lab.js';
import { existsSync } from 'node:fs';

let recorded = new Map<string, number>();
let upMs = 0;
let rootLinksBefore = '';

const rootLinks = async () =>
  (await run('ip', ['-o', 'link', 'show'])).stdout
    .split('\n')
    .map((l) => l.split(':')[1]?.trim() ?? '')
    .filter(Boolean)
    .sort()
    .join(' ');

test.before(async () => {
  rootLinksBefore = await rootLinks();
  const t0 = Date.now();
  await labUp();
  upMs = Date.now() - t0;
  recorded = recordedPids();
});

// Safety net when the last test did not get to run lab:down (it gives the lab session back when it does).
test.after.always(async () => {
  if (labHeld()) await labDown();
});

async function connect(name: string): Promise<NodeSSH> {
  const ssh = new NodeSSH();
  await ssh.connect(sshConfig(name));
  return ssh;
}

async function sshRun(ssh: NodeSSH, command: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const r = await ssh.execCommand(command);
  return { code: r.code ?? -1, stdout: r.stdout, stderr: r.stderr };
}

test.serial('lab:up recorded a qemu process per VM and an sshd per namespace host', (t) => {
  t.log(`lab:up took ${upMs} ms`);
  for (const hst of HOSTS) {
    const key = hst.kind === 'vm' ? `${hst.name}.qemu` : `${hst.name}.sshd`;
    const pid = recorded.get(key);
    t.truthy(pid, `no recorded pid ${key}`);
    t.true(isAlive(pid!), `${key} (pid ${pid}) is not running`);
  }
});

test.serial('SSH with host-key verification reaches every host as root', async (t) => {
  const results = await Promise.all(
    HOSTS.map(async (hst) => {
      const ssh = await connect(hst.name);
      try {
        const r = await sshRun(ssh, 'hostname; id -u; ip -4 -o addr show dev eth0');
        return { hst, r };
      } finally {
        ssh.dispose();
      }
    }),
  );
  for (const { hst, r } of results) {
    t.is(r.code, 0, `${hst.name}: ${r.stderr}`);
    const [name, uid] = r.stdout.split('\n');
    t.is(name, hst.name);
    t.is(uid, '0');
    t.regex(r.stdout, new RegExp(`inet ${hst.address.replace(/\./g, '\\.')}/24 `), `${hst.name} has ${hst.address}/24 on eth0`);
  }
});

test.serial('a host key that does not match known_hosts is refused', async (t) => {
  const rs1 = host('rs1');
  const other = knownHostKey(host('rs2').port);
  t.truthy(other);
  t.not(other!.blob, knownHostKey(rs1.port)!.blob);
  const ssh = new NodeSSH();
  const err = await t.throwsAsync(
    ssh.connect({ ...sshConfig('rs1'), hostVerifier: (key: Buffer) => key.toString('base64') === other!.blob }),
  );
  t.regex(String(err?.message), /verification failed/i);
  ssh.dispose();
});

test.serial('lb1: ipvsadm talks to the real kernel IPVS (modules load by name)', async (t) => {
  const ssh = await connect('lb1');
  try {
    const save = await sshRun(ssh, 'ipvsadm -S -n');
    t.is(save.code, 0, save.stderr);
    const list = await sshRun(ssh, 'ipvsadm -L -n');
    t.is(list.code, 0, list.stderr);
    t.regex(list.stdout, /^IP Virtual Server version \d+\.\d+\.\d+ \(size=\d+\)/);
    const mods = await sshRun(ssh, 'modprobe ip_vs_wlc && modprobe ipip && grep -E "^(ip_vs|ip_vs_wlc|ipip) " /proc/modules | cut -d" " -f1 | sort');
    t.is(mods.code, 0, mods.stderr);
    t.deepEqual(mods.stdout.split('\n'), ['ip_vs', 'ip_vs_wlc', 'ipip']);
    const sysctl = await sshRun(ssh, 'sysctl -w net.ipv4.ip_forward=1 net.ipv4.vs.expire_nodest_conn=1 >/dev/null && sysctl -n net.ipv4.ip_forward net.ipv4.vs.expire_nodest_conn && sysctl -qw net.ipv4.ip_forward=0 net.ipv4.vs.expire_nodest_conn=0');
    t.is(sysctl.code, 0, sysctl.stderr);
    t.is(sysctl.stdout, '1\n1');
  } finally {
    ssh.dispose();
  }
});

test.serial('a hand-written DR service on lb1 balances client requests over rs1/rs2 by round robin', async (t) => {
  const VIP = '192.0.2.10';
  const ARP = [
    'net.ipv4.conf.lo.arp_ignore', 'net.ipv4.conf.all.arp_ignore',
    'net.ipv4.conf.lo.arp_announce', 'net.ipv4.conf.all.arp_announce',
  ];
  const lb1 = await connect('lb1');
  const cleanup = async () => {
    await sshRun(lb1, `ipvsadm -D -t ${VIP}:80; ip addr del ${VIP}/32 dev eth0`);
    for (const rs of ['rs1', 'rs2']) {
      const ns = host(rs).netns!;
      await netnsExec(ns, ['ip', 'addr', 'del', `${VIP}/32`, 'dev', 'lo']);
      await netnsExec(ns, ['sysctl', '-qw', ...ARP.map((k) => `${k}=0`)]);
    }
    await netnsExec(host('client').netns!, ['ip', 'neigh', 'flush', 'all']);
  };
  // lab:up reuses a healthy lab: remove what an interrupted earlier run of this test may have left
  await cleanup();
  try {
    // director: VIP on eth0, a DR service with two real servers
    const add = await sshRun(
      lb1,
      `set -e; ip addr add ${VIP}/32 dev eth0; ipvsadm -A -t ${VIP}:80 -s rr;` +
        ` ipvsadm -a -t ${VIP}:80 -r 192.0.2.21:80 -g -w 1; ipvsadm -a -t ${VIP}:80 -r 192.0.2.22:80 -g -w 1`,
    );
    t.is(add.code, 0, add.stderr);
    const save = await sshRun(lb1, 'ipvsadm -S -n');
    t.is(save.stdout, [
      `-A -t ${VIP}:80 -s rr`,
      `-a -t ${VIP}:80 -r 192.0.2.21:80 -g -w 1`,
      `-a -t ${VIP}:80 -r 192.0.2.22:80 -g -w 1`,
    ].join('\n'));
    // real servers: VIP on lo, ARP suppressed
    for (const rs of ['rs1', 'rs2']) {
      const ns = host(rs).netns!;
      const a = await netnsExec(ns, ['ip', 'addr', 'add', `${VIP}/32`, 'brd', VIP, 'dev', 'lo']);
      t.is(a.code, 0, a.stderr);
      const s = await netnsExec(ns, ['sysctl', '-qw', ...ARP.map((k) => `${k}=${k.endsWith('ignore') ? 1 : 2}`)]);
      t.is(s.code, 0, s.stderr);
    }
    // client: 4 requests to the VIP
    const answers: string[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await netnsExec(host('client').netns!, ['curl', '-s', '--max-time', '5', `http://${VIP}/`]);
      t.is(r.code, 0, `curl #${i + 1} exit ${r.code}: ${r.stderr}`);
      answers.push(r.stdout.trim());
    }
    t.log(`answers: ${answers.join(' ')}`);
    t.deepEqual([...answers].sort(), ['rs1', 'rs1', 'rs2', 'rs2']);
    for (let i = 1; i < answers.length; i++) t.not(answers[i], answers[i - 1], 'round robin alternates');
    // DR: the client's ARP entry for the VIP is the director's MAC; IPVS scheduled 4 connections
    const neigh = await netnsExec(host('client').netns!, ['ip', 'neigh', 'show', VIP]);
    t.regex(neigh.stdout, new RegExp(`lladdr ${host('lb1').mac}`));
    const conns = await sshRun(lb1, `ipvsadm -L -n -c | grep -c ' ${VIP}:80 '`);
    t.is(conns.stdout, '4');
  } finally {
    // undo everything, so later tests start clean
    await cleanup();
    const after = await sshRun(lb1, `ipvsadm -S -n; ip -4 -o addr show dev eth0 | grep -c ${VIP} || true`);
    lb1.dispose();
    t.is(after.stdout, '0', 'lb1 is clean again');
  }
});

test.serial('the client reaches UDP :53 on rs1 and HTTP on rs5 (the TUN real server VM) directly', async (t) => {
  const client = host('client').netns!;
  const udp = await netnsExec(client, ['socat', '-t', '1', '-T', '5', '-', 'UDP:192.0.2.21:53'], { input: 'ping\n' });
  t.is(udp.code, 0, udp.stderr);
  t.is(udp.stdout, 'rs1\n');
  const http = await netnsExec(client, ['curl', '-s', '--max-time', '5', 'http://192.0.2.25/']);
  t.is(http.code, 0, http.stderr);
  t.is(http.stdout, 'rs5\n');
  const udp5 = await netnsExec(client, ['socat', '-t', '1', '-T', '5', '-', 'UDP:192.0.2.25:53'], { input: 'ping\n' });
  t.is(udp5.stdout, 'rs5\n');
});

test.serial('lab:down ends the recorded processes and leaves no namespace, bridge, tap or state behind', async (t) => {
  t.true(recorded.size > 0);
  const qemu = [...recorded].filter(([k]) => k.endsWith('.qemu')).map(([, p]) => p);
  t.is(qemu.length, 3);
  const t0 = Date.now();
  await labDown();
  t.log(`lab:down took ${Date.now() - t0} ms`);
  t.deepEqual(await labNamespaces(), []);
  for (const [what, pid] of recorded) t.false(isAlive(pid), `${what} (pid ${pid}) still running`);
  t.false(existsSync(LAB_DIR), `${LAB_DIR} still exists`);
  // the bridge, taps and veths lived only in lvsplay-lab: the root namespace's links never changed
  t.is(await rootLinks(), rootLinksBefore);
  const listen = await run('ss', ['-ltnH']);
  for (const hst of HOSTS) t.notRegex(listen.stdout, new RegExp(`127\\.0\\.0\\.1:${hst.port}\\b`));
});
