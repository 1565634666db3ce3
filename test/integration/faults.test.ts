// Faults mid-run on the lab (issue 13): two lvsplay runs against one director at once (the second
// waits, then reports the host busy, and changes nothing there); SIGINT while a host is applying
// (that host finishes, the hosts not started are reported interrupted, exit 130, and they were
// not touched); lb1's sshd killed while it applies (its script finishes all its changes without
// its connection, and holds the host until then: a second run cannot interleave); lb1's link down
// while it applies. Playbooks whose one task takes 12 s (25 s) on each director make the timing certain.
import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { INVENTORY_FILE, labRelease, labReset, labUp } from '../lab/lab.js';
import { BOOTSTRAP, CLI, cli, eventually, inventoryWith, onHost } from './support/lab-cli.js';

const work = mkdtempSync(path.join(tmpdir(), 'lvsplay-faults-'));
const MARK = '/run/lvsplay-fault-test';
const templates = path.join(work, 'templates');
mkdirSync(path.join(templates, 'fault'), { recursive: true });

/** A playbook whose one task takes `seconds` on each director, one director at a time, then leaves a mark. */
function slowPlaybook(name: string, seconds: number): string {
  writeFileSync(path.join(templates, 'fault', `${name}.sh.hbs`), `sleep ${seconds}\ntouch ${MARK}\n`);
  const file = path.join(work, `${name}.yml`);
  writeFileSync(file, `- name: A slow change, one director at a time
  hosts: directors
  serial: 1
  tasks:
    - name: takes ${seconds} s, then leaves a mark
      shell: { template: fault/${name}.sh.hbs, check: "test -e ${MARK}" }
`);
  return file;
}
const slow = slowPlaybook('slow', 12);
// Held well beyond the 10 s a second run waits for the lock plus its start on a slow VM (with 12 s
// the first run could end within that wait, and the second then rightly got the host).
const held = slowPlaybook('held', 25);

// lb1's connection is killed during the first task: the sshd serving the script (its parent) is
// killed by a unit started beforehand, once the script has said who that is.
const SSHD_PID = '/run/lvsplay-fault-sshd';
const LOST_MARK = '/run/lvsplay-fault-lost';
const SCRIPT_PID = '/run/lvsplay-fault-script';
const lost = path.join(work, 'lost.yml');
writeFileSync(path.join(templates, 'fault', 'lost.sh.hbs'), `echo "$$" > ${SCRIPT_PID}\nprintf '%s\\n' "$PPID" > ${SSHD_PID}\nsleep 8\ntouch ${LOST_MARK}\n`);
writeFileSync(lost, `- name: lb1 loses its connection half way
  hosts: lb1
  tasks:
    - name: its sshd is killed here
      shell: { template: fault/lost.sh.hbs, check: "test -e ${LOST_MARK}" }
    - name: VIPs
      address: {}
    - name: IPVS services
      ipvs: {}
    - name: back after a reboot
      boot: {}
`);
const KILLER = `systemd-run --quiet --collect --unit=lvsplay-fault-killer sh -c 'while [ ! -s ${SSHD_PID} ]; do sleep 0.1; done; kill -KILL "$(cat ${SSHD_PID})"'`;

// lb1's management link (the one lvsplay's SSH comes in by) goes down during the first task and
// comes back 35 s later: a unit started beforehand cuts it once the script has said it runs.
// lb1's command timeout is 10 s in this run's inventory: the run waits 10 s for the script, then 15 s
// for lb1 to answer the order to stop it, and gives up on lb1 while its link is still down.
const LINK_MARK = '/run/lvsplay-fault-link';
const LINK_CUTTER = '/run/lvsplay-fault-cut.sh';
const cut = path.join(work, 'cut.yml');
writeFileSync(path.join(templates, 'fault', 'cut.sh.hbs'), `echo "$$" > ${SCRIPT_PID}\nsleep 4\ntouch ${LINK_MARK}\n`);
writeFileSync(cut, `- name: lb1's link goes down half way
  hosts: directors
  tasks:
    - name: lb1's link goes down here
      shell: { template: fault/cut.sh.hbs, check: "test -e ${LINK_MARK}" }
    - name: VIPs
      address: {}
    - name: IPVS services
      ipvs: {}
`);
const CUTTER = `cat > ${LINK_CUTTER} <<'EOF'
while [ ! -s ${SCRIPT_PID} ]; do sleep 0.1; done
for d in /sys/class/net/*; do case "$(cat "$d/address")" in 52:54:00:00:01:*) link=\${d##*/};; esac; done
ip link set dev "$link" down
sleep 35
ip link set dev "$link" up
EOF
systemd-run --quiet --collect --unit=lvsplay-fault-cut sh ${LINK_CUTTER}`;

test.before(async () => {
  await labUp();
});

test.after.always(async () => {
  rmSync(work, { recursive: true, force: true });
  await labRelease();
});

async function cleanStart(): Promise<void> {
  await labReset();
  // the lock file outlives its run (the lock is the flock, not the file): no run is active here
  for (const host of ['lb1', 'lb2']) await onHost(host, `rm -f ${MARK} ${SSHD_PID} ${LOST_MARK} ${LINK_MARK} ${LINK_CUTTER} ${SCRIPT_PID} /run/lock/lvsplay.lock /run/lock/lvsplay.lock.script`);
}

const marked = async (host: string) => (await onHost(host, `test -e ${MARK} && echo yes || echo no`)).trim() === 'yes';

/** The real CLI as a child process, so that the test can signal it; resolves with its exit and output. */
function started(args: string[]) {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { child, done };
}

/** Until lb1's lvsplay lock names a run (the first run has probed lb1 and holds it). */
const lockHeld = () => eventually('a run holding lb1', () => onHost('lb1', 'cat /run/lock/lvsplay.lock 2>/dev/null || :'), (s) => s.startsWith('lvsplay-run-'), 30_000);

test.serial('two runs against one director: the second (and a check) waits, then reports it busy (failed, exit 2) and changes nothing there; the first completes; a check alone takes no lock and writes nothing for it', async (t) => {
  await cleanStart();
  const before = await onHost('lb1', 'ipvsadm -S -n');
  const first = started(['apply', '-i', INVENTORY_FILE, held, '--templates', templates, '--limit', 'lb1']);
  await lockHeld();
  // a check at the same time waits too: its reads would see the first run's change half made
  const [second, check] = await Promise.all([
    cli(['apply', '-i', INVENTORY_FILE, BOOTSTRAP, '--limit', 'lb1', '--output', 'plain']),
    cli(['apply', '-i', INVENTORY_FILE, BOOTSTRAP, '--limit', 'lb1', '--output', 'plain', '--check']),
  ]);
  for (const other of [second, check]) {
    t.is(other.code, 2, other.stdout + other.stderr);
    t.regex(other.stdout + other.stderr, /another lvsplay run holds this host \(lvsplay-run-[0-9a-f]+ since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(holder pid \d+\)/);
  }
  t.is(await onHost('lb1', 'ipvsadm -S -n'), before, 'the second run changed nothing on lb1');
  const one = await first.done;
  t.is(one.code, 0, one.stdout + one.stderr);
  t.true(await marked('lb1'));
  // the lock went with the first run's connection: a third run gets the host
  const third = await cli(['apply', '-i', INVENTORY_FILE, BOOTSTRAP, '--limit', 'lb1', '--output', 'plain']);
  t.is(third.code, 0, third.stdout + third.stderr);
  // a check while no run holds the host takes no lock: the third run's line stays as it was, and
  // nothing holds the file after it (no flock, no holder process on the host)
  const owner = await onHost('lb1', 'cat /run/lock/lvsplay.lock');
  t.regex(owner, /^lvsplay-run-[0-9a-f]+ since \S+ \(holder pid \d+\)$/m);
  const fourth = await cli(['apply', '-i', INVENTORY_FILE, BOOTSTRAP, '--limit', 'lb1', '--output', 'plain', '--check', '--detailed-exitcode']);
  t.is(fourth.code, 0, fourth.stdout + fourth.stderr);
  t.is(await onHost('lb1', 'cat /run/lock/lvsplay.lock'), owner, 'the check wrote nothing to the lock file');
  t.is((await onHost('lb1', 'flock -n /run/lock/lvsplay.lock echo free')).trim(), 'free');
});

test.serial('SIGINT while lb1 applies: lb1 finishes its script, lb2 (not started) is reported interrupted and untouched, the recap is printed, exit 130', async (t) => {
  await cleanStart();
  const run = started(['apply', '-i', INVENTORY_FILE, slow, '--templates', templates, '--output', 'plain']);
  await lockHeld();
  await new Promise((r) => setTimeout(r, 3000)); // lb1's 12 s script is running
  run.child.kill('SIGINT');
  const out = await run.done;
  t.is(out.code, 130, out.stdout + out.stderr);
  t.regex(out.stdout, /RECAP/);
  t.regex(out.stdout + out.stderr, /lb2[^\n]*interrupted|interrupted[^\n]*lb2/);
  t.true(await marked('lb1'), 'the running script was let finish, not cut');
  t.false(await marked('lb2'), 'nothing started on lb2 after the signal');
  // a re-run converges: lb1 is done (ok), lb2 gets its change
  const again = await cli(['apply', '-i', INVENTORY_FILE, slow, '--templates', templates, '--output', 'plain']);
  t.is(again.code, 0, again.stdout + again.stderr);
  t.true(await marked('lb2'));
});

test.serial('lb1\'s sshd killed while it applies: the run reports lb1 lost; its script finishes every change without the connection and holds the host until then (a second run does not interleave); nothing is left to do after', async (t) => {
  await cleanStart();
  await onHost('lb1', KILLER);
  const run = await cli(['apply', '-i', INVENTORY_FILE, lost, '--templates', templates, '--output', 'plain']);
  t.is(run.code, 4, `lb1 unreachable:\n${run.stdout}${run.stderr}`);
  t.regex(run.stdout, /lb1\] UNREACHABLE at apply: lb1: connection lost: .*the apply script goes on to its end on the host/);
  // the orphaned script is still running (sleeping in its first task): a second run must not start beside it
  const second = await cli(['apply', '-i', INVENTORY_FILE, lost, '--templates', templates, '--json']);
  const status = second.json?.results.find((r) => r.host === 'lb1');
  t.true(
    (status?.status === 'failed' && /another lvsplay run holds this host/.test(status.error?.message ?? '')) || status?.status === 'ok',
    `the second run waited and found the host busy, or found everything done: ${JSON.stringify({ status: status?.status, error: status?.error }) ?? second.stderr}`,
  );
  await eventually('the orphaned script finished and let the host go', () => onHost('lb1', `test -e ${LOST_MARK} && ! test -d /proc/"$(cat ${SCRIPT_PID})" && flock -n /run/lock/lvsplay.lock true && echo done || echo running`), (s) => s.trim() === 'done', 60_000);
  const check = await cli(['apply', '-i', INVENTORY_FILE, lost, '--templates', templates, '--check', '--detailed-exitcode', '--output', 'plain']);
  t.is(check.code, 0, `every change of the script was made:\n${check.stdout}${check.stderr}`);
  t.regex(await onHost('lb1', 'ipvsadm -S -n'), /-A -t 192\.0\.2\.10:80 -s rr/);
});

test.serial('lb1\'s link down while it applies: lb1 is reported unreachable once it does not answer, lb2 completes; lb1\'s script makes every change; a re-run once the link is back finds nothing to do', async (t) => {
  await cleanStart();
  const inventory = inventoryWith(work, 'short-timeout', (inv) => {
    inv['directors'].find((d: { name: string }) => d.name === 'lb1').ssh.command_timeout = 10;
  });
  await onHost('lb1', CUTTER);
  const run = await cli(['apply', '-i', inventory, cut, '--templates', templates, '--output', 'plain']);
  t.is(run.code, 4, `lb1 unreachable:\n${run.stdout}${run.stderr}`);
  t.regex(run.stdout, /lb1\] UNREACHABLE at apply: lb1: no answer within 10 s, nor when told to stop the script \(link down\?\); the apply script goes on/);
  t.regex(run.stdout, /^lb2 +: ok=0 +changed=3 +unreachable=0 +failed=0/m, 'lb2 is not held up by lb1');
  // the link comes back 35 s after it went: the script finished long before, without it
  await eventually('lb1 back, its script finished', () => onHost('lb1', `test -e ${LINK_MARK} && ! test -d /proc/"$(cat ${SCRIPT_PID})" && echo done || echo running`).catch(() => 'unreachable'), (s) => s.trim() === 'done', 90_000);
  const check = await cli(['apply', '-i', INVENTORY_FILE, cut, '--templates', templates, '--check', '--detailed-exitcode', '--output', 'plain']);
  t.is(check.code, 0, `every change of lb1's script was made:\n${check.stdout}${check.stderr}`);
  t.regex(await onHost('lb1', 'ipvsadm -S -n'), /-A -t 192\.0\.2\.10:80 -s rr/);
});
