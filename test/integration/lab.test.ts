// The lab itself (issue 3): real qemu directors booting systemd on their own disks with the Debian
// kernel's IPVS, real sshd on every host, real packets from the client namespace, real reboots and
// power cuts, and a reset that brings every host back to the state it booted in. No mocks; if the
// lab cannot start, this fails.
import test from 'ava';
import { NodeSSH } from 'node-ssh';
import path from 'node:path';
import {
  HOSTS,
  host,
  INVENTORY_FILE,
  isAlive,
  knownHostKey,
  labCrash,
  labDown,
  labHeld,
  labNamespaces,
  labReboot,
  labReset,
  labStart,
  labUp,
  LAB_DIR,
  netnsExec,
  recordedPids,
  REPO_ROOT,
  run,
  sshConfig,
} from '../lab/lab.js';
import { existsSync } from 'node:fs';
import { CLI } from './support/lab-cli.js';

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
  // what every integration test file does first: a lab, and every host as it booted
  await labUp();
  upMs = Date.now() - t0;
  await labReset();
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

/** One command on a lab host over a fresh key-verified connection; throws unless it exits 0. */
async function on(name: string, command: string): Promise<string> {
  const ssh = await connect(name);
  try {
    const r = await sshRun(ssh, command);
    if (r.code !== 0) throw new Error(`${name}: \`${command}\` exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  } finally {
    ssh.dispose();
  }
}

const VMS = HOSTS.filter((h) => h.kind === 'vm').map((h) => h.name);

test.serial('lab:up recorded a qemu and its power supply per VM, and an sshd per namespace host', (t) => {
  t.log(`lab:up took ${upMs} ms`);
  const recorded = recordedPids();
  for (const hst of HOSTS) {
    for (const key of hst.kind === 'vm' ? [`${hst.name}.qemu`, `${hst.name}.vm`] : [`${hst.name}.sshd`]) {
      const pid = recorded.get(key);
      t.truthy(pid, `no recorded pid ${key}`);
      t.true(isAlive(pid!), `${key} (pid ${pid}) is not running`);
    }
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
    t.regex(r.stdout, new RegExp(`inet ${hst.address.replace(/\./g, '\\.')}/${hst.prefix} `), `${hst.name} has ${hst.address}/${hst.prefix} on eth0`);
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

test.serial('the VMs boot like Debian hosts: systemd, a root overlay on their own disk, their own identity', async (t) => {
  const machineId = (await run('cat', ['/etc/machine-id'])).stdout.trim();
  const ids = new Set<string>();
  for (const name of VMS) {
    const out = await on(
      name,
      'cat /proc/1/comm; systemctl is-system-running; findmnt -n -o FSTYPE /; systemd-detect-virt; cat /etc/machine-id; ' +
        'echo $(ls /sys/class/net | sort); ' +
        // installed, not enabled, not running
        'command -v ldirectord keepalived | wc -l; systemctl is-enabled ldirectord keepalived || true; systemctl is-active ldirectord keepalived || true; ' +
        'test -d /var/log/journal && echo persistent-journal',
    );
    const [comm, state, rootfs, virt, id, nics, installed, en1, en2, ac1, ac2, journal] = out.split('\n');
    t.is(comm, 'systemd', `${name}: PID 1`);
    t.is(state, 'running', `${name}: systemctl is-system-running`);
    t.is(rootfs, 'overlay', `${name}: /`);
    t.is(virt, 'qemu', `${name}: systemd-detect-virt (a container would mean the machine's /.dockerenv shows through)`);
    t.regex(id!, /^[0-9a-f]{32}$/);
    t.not(id, machineId, `${name} has its own machine-id, not the machine's`);
    ids.add(id!);
    t.is(nics, name === 'rs5' ? 'eth0 lo mgmt0 tunl0' : 'eth0 eth1 lo mgmt0', `${name}: NICs named by MAC (tunl0: rs5 loads ipip at boot; eth1: a director's on the back network)`);
    t.is(installed, '2', `${name}: ldirectord and keepalived are installed`);
    t.deepEqual([en1, en2], ['disabled', 'disabled'], `${name}: ldirectord, keepalived not enabled`);
    t.deepEqual([ac1, ac2], ['inactive', 'inactive'], `${name}: ldirectord, keepalived not running`);
    t.is(journal, 'persistent-journal');
  }
  t.is(ids.size, VMS.length, 'every VM has a machine-id of its own');
  t.is(await on('rs5', 'echo $(systemctl is-active lab-httpd lab-udp-name)'), 'active active', 'rs5 runs the lab web services as units');
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
    const sysctl = await sshRun(ssh, 'sysctl -w net.ipv4.ip_forward=1 net.ipv4.vs.expire_nodest_conn=1 >/dev/null && sysctl -n net.ipv4.ip_forward net.ipv4.vs.expire_nodest_conn');
    t.is(sysctl.code, 0, sysctl.stderr);
    t.is(sysctl.stdout, '1\n1');
  } finally {
    ssh.dispose();
  }
  // what that test left (modules, tunl0, sysctls): the reset takes it away
  await labReset(['lb1']);
  t.is(await on('lb1', 'grep -cE "^(ip_vs_wlc|ipip) " /proc/modules || true; sysctl -n net.ipv4.ip_forward net.ipv4.vs.expire_nodest_conn; test -e /sys/class/net/tunl0 || echo no-tunl0'), '0\n0\n0\nno-tunl0');
});

test.serial('a hand-written DR service on lb1 balances client requests over rs1/rs2 by round robin', async (t) => {
  const VIP = '192.0.2.10';
  const ARP = [
    'net.ipv4.conf.lo.arp_ignore', 'net.ipv4.conf.all.arp_ignore',
    'net.ipv4.conf.lo.arp_announce', 'net.ipv4.conf.all.arp_announce',
  ];
  // a known state for these hosts, whatever ran before
  await labReset(['lb1', 'rs1', 'rs2', 'client']);
  const lb1 = await connect('lb1');
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
    lb1.dispose();
    // undo everything, so later tests start clean
    await labReset(['lb1', 'rs1', 'rs2', 'client']);
  }
  t.is(await on('lb1', `ipvsadm -S -n; ip -4 -o addr show dev eth0 | grep -c ${VIP} || true`), '0', 'lb1 is clean again');
  t.is((await netnsExec(host('rs1').netns!, ['sysctl', '-n', 'net.ipv4.conf.all.arp_ignore'])).stdout.trim(), '0', 'rs1 is clean again');
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

// ---- labReset -------------------------------------------------------------------------------------

/**
 * What a host looks like to a test, read here independently of reset.sh (which restores it): the
 * IPVS table and sync daemons, addresses, links, routes, the network sysctls, ldirectord/keepalived
 * processes (of this host only: a namespace host sees the machine's), units and modules on the VMs,
 * and every file in the places lvsplay writes to, with its attributes and a hash.
 */
const FINGERPRINT = [
  'echo "## ipvs"; if [ -e /proc/net/ip_vs ]; then ipvsadm -S -n; ipvsadm -L -n --daemon; fi',
  'echo "## addr"; ip -o addr show | sed "s/^[0-9]*: //"',
  // (no peer ifindex: "eth0@if12" depends on the order the namespace hosts were made in)
  'echo "## link"; ip -o link show | awk \'{ sub(/@.*/, "", $2); print $2, $3 }\'',
  'echo "## route"; { ip route show table all; ip -6 route show table all; } | sed "s/ expires [0-9]*sec//" | sort',
  'echo "## sysctl"; sysctl -a 2>/dev/null | grep -E "^net\\.ipv4\\.conf\\.|^net\\.ipv6\\.conf\\.|^net\\.ipv4\\.ip_forward |^net\\.ipv4\\.vs\\."',
  'echo "## daemons"; for p in $(pgrep -x "ldirectord|keepalived"); do [ "$(readlink /proc/$p/ns/net)" = "$(readlink /proc/self/ns/net)" ] && cat /proc/$p/comm; done',
  'echo "## systemd"; if [ -d /run/systemd/system ]; then systemctl is-enabled ldirectord keepalived; systemctl is-active ldirectord keepalived; ' +
    'systemctl list-units --no-legend --plain "lvsplay-*" "lab-*"; cut -d" " -f1 /proc/modules | sort; fi',
  'echo "## files"; D="/etc/lvsplay /var/lib/lvsplay /etc/systemd/system /etc/sysctl.d /etc/modules-load.d /etc/modprobe.d /etc/ha.d /etc/keepalived /etc/default /etc/rc0.d /etc/rc1.d /etc/rc2.d /etc/rc3.d /etc/rc4.d /etc/rc5.d /etc/rc6.d /etc/rcS.d /etc/ipvsadm.rules"; ' +
    'find $D -printf "%p %y %m %U:%G %l\\n" 2>/dev/null | sort; find $D -type f -exec sha256sum {} + 2>/dev/null | sort; find /etc -name "*lvsplay*" | sort',
].join('; ');

async function fingerprints(): Promise<Map<string, string>> {
  const all = await Promise.all(HOSTS.map(async (h) => [h.name, await on(h.name, FINGERPRINT)] as const));
  return new Map(all);
}

/** The lines of b that differ from a, for a readable assertion message. */
function changes(a: string, b: string): string {
  const before = new Set(a.split('\n'));
  const after = new Set(b.split('\n'));
  return [...before].filter((l) => !after.has(l)).map((l) => `- ${l}`).concat([...after].filter((l) => !before.has(l)).map((l) => `+ ${l}`)).join('\n');
}

let resetState = new Map<string, string>();

test.serial('labReset: after a real bootstrap every host is exactly as after lab:up again', async (t) => {
  const clean = await fingerprints();
  for (const [name, fp] of clean) {
    t.regex(fp, /## files\n[^]*\/etc\/ha\.d\/ldirectord\.cf f /, `${name}: the fingerprint lists files`);
    t.regex(fp, /## sysctl\nnet\.ipv4\.conf\./, `${name}: the fingerprint lists sysctls`);
  }
  const bootstrap = await run('node', [CLI, 'apply', '-i', INVENTORY_FILE, path.join(REPO_ROOT, 'playbooks/bootstrap.yml')], { timeoutMs: 10 * 60_000 });
  t.is(bootstrap.code, 0, bootstrap.stdout + bootstrap.stderr);
  // a test that stops the lab's web services must not leave them stopped either
  const httpd = recordedPids().get('rs2.httpd')!;
  process.kill(httpd, 'SIGTERM');
  await on('rs5', 'systemctl stop lab-httpd');

  const dirty = await fingerprints();
  // the negative control: bootstrap changed what the fingerprint sees, on every host it configures
  for (const name of ['lb1', 'lb2', 'rs1', 'rs2', 'rs3', 'rs4', 'rs5']) t.not(dirty.get(name), clean.get(name), `bootstrap changed nothing on ${name}?`);
  t.regex(dirty.get('lb1')!, /^-A -t 192\.0\.2\.10:80 -s rr$/m);
  t.regex(dirty.get('lb1')!, /^ldirectord$/m);
  t.regex(dirty.get('lb1')!, /^\/etc\/sysctl\.d\/90-lvsplay\.conf f /m);
  t.regex(dirty.get('rs3')!, /^default via 198\.51\.100\.1 dev eth0/m);

  const t0 = Date.now();
  const reset = await labReset();
  const ms = Date.now() - t0;
  t.log(`labReset() of all ${HOSTS.length} hosts after bootstrap: ${ms} ms`);
  t.log(reset.stderr.split('\n').filter((l) => l.startsWith('[reset lb1]')).join('\n'));
  const after = await fingerprints();
  for (const [name, fp] of clean) t.is(after.get(name), fp, `${name} is not as after lab:up:\n${changes(fp, after.get(name)!)}`);
  resetState = after;

  // the web services answer again (rs2's from a new, recorded process)
  t.not(recordedPids().get('rs2.httpd'), httpd);
  t.true(isAlive(recordedPids().get('rs2.httpd')!));
  for (const rs of ['rs2', 'rs5']) {
    const r = await netnsExec(host('client').netns!, ['curl', '-s', '--max-time', '5', `http://${host(rs).address}/`]);
    t.is(r.stdout, `${rs}\n`);
  }
  // a reset with nothing to do changes nothing and says so
  const again = await labReset();
  t.notRegex(again.stderr, /^\[reset /m, again.stderr);
});

// ---- reboot, power cut ----------------------------------------------------------------------------

test.serial('labReboot(lb1): a real reboot; same host key, synced /etc kept, /run empty, one boot more, enabled units ran', async (t) => {
  const UNIT = 'lvsplay-labtest-boot.service'; // lvsplay-*: the reset at the end removes it
  const before = (
    await on(
      'lb1',
      'set -e; cat /proc/sys/kernel/random/boot_id; journalctl --list-boots --no-pager | tail -n +2 | wc -l; ' +
        'echo "written before the reboot" > /etc/labtest-reboot; touch /run/labtest-marker; ' +
        `printf '[Unit]\\nDescription=lab test: runs at boot\\n[Service]\\nType=oneshot\\nExecStart=/bin/sh -c "cat /proc/sys/kernel/random/boot_id > /var/lib/labtest-ran"\\n[Install]\\nWantedBy=multi-user.target\\n' > /etc/systemd/system/${UNIT}; ` +
        `systemctl enable -q ${UNIT}; sync`,
    )
  ).split('\n');
  const [bootBefore, bootsBefore] = before;
  const qemuBefore = recordedPids().get('lb1.qemu');
  const t0 = Date.now();
  await labReboot('lb1');
  t.log(`labReboot(lb1): ${Date.now() - t0} ms`);

  // on() verifies the host key against known_hosts: the same key as before the reboot
  const [bootNow, boots, kept, runMarker, ran, listed] = (
    await on(
      'lb1',
      'cat /proc/sys/kernel/random/boot_id; journalctl --list-boots --no-pager | tail -n +2 | wc -l; cat /etc/labtest-reboot; ' +
        'test -e /run/labtest-marker && echo still-there || echo gone; cat /var/lib/labtest-ran; ' +
        'echo $(journalctl --list-boots --no-pager | tail -n 2 | awk "{ print \\$2 }")',
    )
  ).split('\n');
  t.not(bootNow, bootBefore, 'a new boot');
  t.is(Number(boots), Number(bootsBefore) + 1, 'journalctl --list-boots: one boot more');
  if (Number(bootsBefore) === 1) t.is(Number(boots), 2);
  t.is(listed, `${bootBefore!.replace(/-/g, '')} ${bootNow!.replace(/-/g, '')}`, 'the journal lists the boot before and this one');
  t.is(kept, 'written before the reboot', 'a file written and synced to /etc survived');
  t.is(runMarker, 'gone', '/run starts empty');
  t.is(ran, bootNow, `the enabled ${UNIT} ran in this boot`);
  // the lab follows: a new qemu, recorded; the lab is healthy without a rebuild
  const qemuNow = recordedPids().get('lb1.qemu')!;
  t.not(qemuNow, qemuBefore);
  t.true(isAlive(qemuNow));
  t.regex((await labUp()).stderr, /already up and healthy/);

  await on('lb1', 'rm /etc/labtest-reboot /var/lib/labtest-ran');
  await labReset(['lb1']);
  const gone = await on('lb1', `systemctl is-enabled ${UNIT} 2>&1; find /etc/systemd/system -name '*labtest*' | wc -l`);
  t.regex(gone, /No such file or directory\n0$/, `labReset removed ${UNIT} and its wants link`);
});

test.serial('labCrash(rs5) + labStart(rs5): a power cut; the disk keeps what was synced; the VM comes back on it', async (t) => {
  const bootsBefore = Number(await on('rs5', 'echo synced > /var/lib/labtest-crash; sync; journalctl --list-boots --no-pager | tail -n +2 | wc -l'));
  const qemu = recordedPids().get('rs5.qemu')!;
  await labCrash('rs5');
  t.false(isAlive(qemu), 'qemu was killed');
  t.false(recordedPids().has('rs5.qemu'), 'the dead qemu is no longer recorded');
  t.false(recordedPids().has('rs5.vm'), 'nor its power supply');
  const down = await netnsExec(host('client').netns!, ['curl', '-s', '--max-time', '2', 'http://192.0.2.25/']);
  t.not(down.code, 0, 'rs5 does not answer while it is off');
  t.true(isAlive(recordedPids().get('rs1.sshd')!), 'nothing else was touched');

  const t0 = Date.now();
  await labStart('rs5');
  t.log(`labStart(rs5): ${Date.now() - t0} ms`);
  const qemuNow = recordedPids().get('rs5.qemu')!;
  t.not(qemuNow, qemu);
  t.true(isAlive(qemuNow));
  t.is(await on('rs5', 'cat /var/lib/labtest-crash; journalctl --list-boots --no-pager | tail -n +2 | wc -l'), `synced\n${bootsBefore + 1}`);
  const up = await netnsExec(host('client').netns!, ['curl', '-s', '--max-time', '5', 'http://192.0.2.25/']);
  t.is(up.stdout, 'rs5\n', 'its web service is back (an enabled unit)');
  t.regex((await labUp()).stderr, /already up and healthy/, 'lab:up finds the recorded PIDs right');
  await on('rs5', 'rm /var/lib/labtest-crash');
  await t.throwsAsync(labCrash('rs1'), { message: /not a VM/ });
});

test.serial('a freshly built lab is in the same state as the reset one', async (t) => {
  await labDown({ keepSession: true });
  const t0 = Date.now();
  await labUp();
  t.log(`lab:up from nothing (warm): ${Date.now() - t0} ms`);
  const fresh = await fingerprints();
  t.true(resetState.size > 0, 'the reset test ran');
  for (const [name, fp] of fresh) t.is(resetState.get(name), fp, `${name}:\n${changes(resetState.get(name)!, fp)}`);
});

test.serial('lab:down ends the recorded processes and leaves no namespace, bridge, tap or state behind', async (t) => {
  const recorded = recordedPids();
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
