// keepalived on the lab (issue 11): test/lab/keepalived.yml (every service checked by keepalived,
// lb1/lb2 a VRRP pair) bootstrapped for real; the real keepalived 2.2 reads the rendered file.
// A second apply changes nothing; a hand edit is drift and apply puts it back by reload; a file
// keepalived refuses never replaces the running one; a real server's web server stopped is taken
// out by keepalived's check; lb1's VM killed under client load: lb2 takes the VIPs within seconds,
// and lb1 back takes them again (preempt, the default); with connection sync a TCP connection
// open through the VIP survives that crash.
import test, { type ExecutionContext } from 'ava';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { LAB_DIR, LAB_SCRIPTS, labCrash, labRelease, labReset, labStart, labUp, netnsExec, REPO_ROOT } from '../lab/lab.js';
import { BOOTSTRAP, bootstrapped, cli, curl, eventually, type Load, onHost, underLoad, udp } from './support/lab-cli.js';

const INVENTORY = path.join(LAB_SCRIPTS, 'keepalived.yml');
const CONF = '/etc/keepalived/keepalived.conf';
const VIPS = ['192.0.2.10', '192.0.2.11', '192.0.2.12', '192.0.2.13', '192.0.2.14'];
const work = mkdtempSync(path.join(tmpdir(), 'lvsplay-keepalived-'));

test.before(async () => {
  await labUp();
});

test.after.always(async () => {
  rmSync(work, { recursive: true, force: true });
  await labRelease();
});

/** The lab's VIPs (192.0.2.10-14) on a director's eth0, sorted. */
const vipsOn = async (host: string) => ((await onHost(host, 'ip -4 -o addr show dev eth0')).match(/192\.0\.2\.1[0-4](?=\/)/g) ?? []).sort();
const keepalivedPid = (host: string) => onHost(host, 'cat /run/keepalived.pid').then((s) => s.trim());
/** Which IPVS connection sync daemon runs on a director: `master`, `backup`, both or none (`ipvsadm -L -n --daemon`). */
const syncDaemon = async (host: string) => ((await onHost(host, 'ipvsadm -L -n --daemon')).match(/\b(master|backup)(?= sync daemon)/g) ?? []).join('+') || 'none';
const reals = async (host: string, vip: string) => (await onHost(host, 'ipvsadm -S -n')).split('\n').filter((l) => l.startsWith(`-a -t ${vip}:80 `)).map((l) => l.split(' ')[4]!).sort();

test.serial('bootstrap: keepalived on both directors, the VIPs on lb1 (MASTER) only, every VIP answers, enabled at boot; a second apply changes nothing; a hand edit is drift, undone by reload; a config keepalived refuses is never installed', async (t) => {
  await bootstrapped(INVENTORY);
  t.deepEqual(await eventually('VIPs on lb1', () => vipsOn('lb1'), (v) => v.length === VIPS.length, 30_000), VIPS);
  t.deepEqual(await vipsOn('lb2'), [], 'the backup holds no VIP');
  for (const host of ['lb1', 'lb2']) {
    t.is((await onHost(host, 'systemctl is-active keepalived; systemctl is-enabled keepalived')).trim(), 'active\nenabled', host);
    t.regex(await onHost(host, `stat -c %a ${CONF}`), /^600/, 'the rendered file is 0600');
  }
  await eventually('both web reals checked in', () => reals('lb1', '192.0.2.10'), (r) => r.length === 2, 30_000);
  const web = new Set<string>();
  const dns = new Set<string>();
  const nat = new Set<string>();
  for (let i = 0; i < 4; i++) {
    web.add(await curl('http://192.0.2.10/'));
    dns.add(await udp('192.0.2.11:53'));
    nat.add(await curl('http://192.0.2.13:8080/'));
  }
  t.deepEqual([...web].sort(), ['rs1', 'rs2']);
  t.deepEqual([...dns].sort(), ['rs1', 'rs2']);
  t.deepEqual([...nat].sort(), ['rs3', 'rs4']);
  t.is(await curl('http://192.0.2.12/'), 'rs5');

  const pid = await keepalivedPid('lb1');
  const again = await cli(['apply', '-i', INVENTORY, BOOTSTRAP, '--check', '--detailed-exitcode']);
  t.is(again.code, 0, again.stdout + again.stderr);
  t.is(await keepalivedPid('lb1'), pid);
  // (the lab is as bootstrapped: the next steps start from there, which saves a bootstrap each)
  await handEditIsDriftUndoneByReload(t);
  await refusedConfigNeverInstalled(t);
});

/** A hand edit of keepalived.conf is drift (exit 3); apply restores it by a reload, keepalived not restarted, the VIPs never leave lb1. */
async function handEditIsDriftUndoneByReload(t: ExecutionContext): Promise<void> {
  const original = await onHost('lb1', `cat ${CONF}`);
  const pid = await keepalivedPid('lb1');
  await onHost('lb1', `sed -i 's/lvs_sched rr/lvs_sched wlc/' ${CONF}`);
  const check = await cli(['apply', '-i', INVENTORY, BOOTSTRAP, '--check', '--detailed-exitcode', '--limit', 'lb1']);
  t.is(check.code, 3, check.stdout + check.stderr);
  t.regex(check.stdout, /keepalived\.conf/);
  const apply = await cli(['apply', '-i', INVENTORY, BOOTSTRAP, '--limit', 'lb1']);
  t.is(apply.code, 0, apply.stdout + apply.stderr);
  t.is(await onHost('lb1', `cat ${CONF}`), original);
  t.is(await keepalivedPid('lb1'), pid, 'reloaded, not restarted');
  t.deepEqual(await vipsOn('lb1'), VIPS);
  t.is((await cli(['apply', '-i', INVENTORY, BOOTSTRAP, '--check', '--detailed-exitcode', '--limit', 'lb1'])).code, 0);
}

/** A keepalived.conf the installed keepalived refuses never replaces the running one: apply fails, the old file and daemon stay. */
async function refusedConfigNeverInstalled(t: ExecutionContext): Promise<void> {
  const original = await onHost('lb1', `sha256sum ${CONF}`);
  const pid = await keepalivedPid('lb1');
  // a template override that adds a keyword keepalived does not know (its config test: exit 5)
  const overrides = path.join(work, 'templates');
  mkdirSync(path.join(overrides, 'keepalived'), { recursive: true });
  const builtin = readFileSync(path.join(REPO_ROOT, 'templates/keepalived/keepalived.conf.hbs'), 'utf8');
  writeFileSync(path.join(overrides, 'keepalived', 'keepalived.conf.hbs'), `${builtin}\nno_such_keyword_lvsplay yes\n`);
  const apply = await cli(['apply', '-i', INVENTORY, BOOTSTRAP, '--templates', overrides, '--limit', 'lb1']);
  t.is(apply.code, 2, apply.stdout + apply.stderr);
  t.regex(apply.stdout + apply.stderr, /keepalived refuses the new config/);
  t.is(await onHost('lb1', `sha256sum ${CONF}`), original, 'the old file stays');
  t.is(await keepalivedPid('lb1'), pid, 'the daemon was not touched');
  t.is((await onHost('lb1', `ls /etc/keepalived | grep -c '[.]lvsplay[.]' || :`)).trim(), '0', 'no temp file left');
}

test.serial('a real server whose web server stops is taken out by keepalived within its check interval, no request failing after; back once started', async (t) => {
  await bootstrapped(INVENTORY);
  await eventually('both web reals checked in', () => reals('lb1', '192.0.2.10'), (r) => r.length === 2, 30_000);
  const httpd = Number(readFileSync(path.join(LAB_DIR, 'pids', 'rs1.httpd'), 'utf8'));
  process.kill(httpd, 'SIGTERM');
  const stoppedAt = Date.now();
  await eventually('rs1 out of the web service', () => reals('lb1', '192.0.2.10'), (r) => r.join() === '192.0.2.22:80', 20_000);
  const outAfter = Date.now() - stoppedAt;
  t.log(`rs1 removed by keepalived ${outAfter} ms after its httpd stopped (check: every 2 s, 1 s timeout, 1 retry after 1 s)`);
  t.true(outAfter < 10_000);
  const answers = new Set<string>();
  for (let i = 0; i < 10; i++) answers.add(await curl('http://192.0.2.10/'));
  t.deepEqual([...answers], ['rs2'], 'every request answered, by rs2');
  await labReset(['rs1']); // the lab starts rs1's httpd again
  await eventually('rs1 back in the web service', () => reals('lb1', '192.0.2.10'), (r) => r.length === 2, 20_000);
});

test.serial('a misc check with arguments: keepalived runs the command with them (one quoted misc_path string), and a member whose own arguments make it fail stays out', async (t) => {
  // /usr/bin/test -d DIR: exit 0 only when it gets both words as two arguments; without them, or
  // with the line as one path, it fails (or is no program), and the member would be out.
  const file = path.join(work, 'keepalived-misc.yml');
  const inv = parseYaml(readFileSync(INVENTORY, 'utf8')) as Record<string, any>;
  inv['services'].push({
    name: 'misc', vip: '192.0.2.15', port: 80, scheduler: 'rr', managed_by: 'keepalived',
    health_check: { type: 'misc', command: '/usr/bin/test', args: ['-d', '/etc'], interval: 2, timeout: 2 },
    real_servers: [{ server: 'rs1' }, { server: 'rs2', check: { args: ['-d', '/nonexistent-lvsplay'] } }],
  });
  writeFileSync(file, stringifyYaml(inv));
  await bootstrapped(file);
  t.regex(await onHost('lb1', `cat ${CONF}`), /misc_path "\/usr\/bin\/test -d \/etc"\n/);
  await eventually('rs1 in the misc service, rs2 not', () => reals('lb1', '192.0.2.15'), (r) => r.join() === '192.0.2.21:80', 30_000);
  // stays so over several check intervals
  await new Promise((r) => setTimeout(r, 5_000));
  t.deepEqual(await reals('lb1', '192.0.2.15'), ['192.0.2.21:80']);
});

test.serial('lb1 crashes under client load: lb2 takes the VIPs by VRRP within seconds, a TCP connection open through the VIP carries on (connection sync); lb1 back takes them again (preempt)', async (t) => {
  await bootstrapped(INVENTORY);
  await eventually('both web reals checked in on lb2 too', () => reals('lb2', '192.0.2.10'), (r) => r.length === 2, 30_000);
  // the pair settled before the connection opens: lb1 MASTER (it holds the VIPs, its sync daemon
  // sends) and lb2 BACKUP (its daemon receives). keepalived starts every instance as BACKUP and
  // becomes master ~3 adverts later, so right after the bootstrap nobody may answer the VIP yet.
  await eventually('the VIPs on lb1', () => vipsOn('lb1'), (v) => v.length === VIPS.length, 30_000);
  await eventually('the sync daemons in their roles', () => Promise.all([syncDaemon('lb1'), syncDaemon('lb2')]), (d) => d.join() === 'master,backup', 30_000);
  const stop = path.join(work, `trickle-stop-${Date.now()}`);
  let ended: { code: number; stdout: string; stderr: string } | undefined;
  const trickle = netnsExec('lvsplay-client', ['/usr/bin/python3', path.join(LAB_SCRIPTS, 'trickle.py'), '192.0.2.10', stop], { timeoutMs: 5 * 60_000 });
  void trickle.then((r) => (ended = r));
  let load: Load;
  try {
    // the backup has the connection from lb1's sync daemon before lb1 goes (a trickle that ended
    // already, its connection refused or reset, is said at once: there is nothing to sync)
    const synced = () => onHost('lb2', 'ipvsadm -L -n -c | grep -c "ESTABLISHED.*192.0.2.10:80" || :').then((n) => n.trim());
    await eventually('the connection synced to lb2', synced, (n) => n !== '0' || ended !== undefined, 30_000);
    if (ended) throw new Error(`the open connection ended before lb1 crashed: ${JSON.stringify(ended)}`);
    ({ load } = await underLoad('http://192.0.2.10/', {}, async () => {
      const crash = await labCrash('lb1');
      if (crash.code !== 0) throw new Error(crash.stdout + crash.stderr);
      await eventually('the VIPs on lb2', () => vipsOn('lb2'), (v) => v.length === VIPS.length, 30_000);
      await new Promise((r) => setTimeout(r, 5000)); // the load and the open connection go on through lb2 a while
    }));
  } finally {
    writeFileSync(stop, '');
  }
  t.log(`failover by crash: ${load.requests} requests, ${load.failures} failed, largest gap between answers ${load.largest_gap_ms} ms, answers ${JSON.stringify(load.servers)}`);
  t.true(load.largest_gap_ms < 15_000, `the VIP answered again through lb2 within 15 s (gap ${load.largest_gap_ms} ms)`);
  t.true(load.requests >= 20);
  const open = await trickle;
  t.is(open.code, 0, open.stderr);
  t.regex(open.stdout.trim(), /^rs[12]$/, 'the request begun through lb1 was answered through lb2');
  t.deepEqual(await vipsOn('lb2'), VIPS);
  t.is(await curl('http://192.0.2.12/'), 'rs5', 'TUN through lb2');

  const start = await labStart('lb1');
  t.is(start.code, 0, start.stdout + start.stderr);
  // keepalived is enabled at boot and lb1 has the higher priority: it takes the VIPs back
  t.deepEqual(await eventually('the VIPs back on lb1', () => vipsOn('lb1'), (v) => v.length === VIPS.length, 90_000), VIPS);
  t.deepEqual(await eventually('none left on lb2', () => vipsOn('lb2'), (v) => v.length === 0, 30_000), []);
  t.regex(await eventually('the web VIP answers', () => curl('http://192.0.2.10/'), (a) => /^rs[12]$/.test(a), 30_000), /^rs[12]$/);
  const check = await cli(['apply', '-i', INVENTORY, BOOTSTRAP, '--check', '--detailed-exitcode']);
  t.is(check.code, 0, check.stdout + check.stderr);
});

test.serial('lvsplay failover on the VRRP pair changes priorities by reload (no restart): the VIPs move to lb2 and back, the VIP answering', async (t) => {
  await bootstrapped(INVENTORY);
  const pids = { lb1: await keepalivedPid('lb1'), lb2: await keepalivedPid('lb2') };
  const to2 = await cli(['failover', '-i', INVENTORY, '--to', 'lb2', '--output', 'plain']);
  t.is(to2.code, 0, to2.stdout + to2.stderr);
  t.deepEqual(await eventually('the VIPs on lb2', () => vipsOn('lb2'), (v) => v.length === VIPS.length, 30_000), VIPS);
  t.deepEqual(await eventually('none on lb1', () => vipsOn('lb1'), (v) => v.length === 0, 30_000), []);
  t.regex(await eventually('the web VIP answers through lb2', () => curl('http://192.0.2.10/'), (a) => /^rs[12]$/.test(a), 30_000), /^rs[12]$/);
  const back = await cli(['failover', '-i', INVENTORY, '--to', 'lb1', '--output', 'plain']);
  t.is(back.code, 0, back.stdout + back.stderr);
  t.deepEqual(await eventually('the VIPs back on lb1', () => vipsOn('lb1'), (v) => v.length === VIPS.length, 30_000), VIPS);
  t.deepEqual({ lb1: await keepalivedPid('lb1'), lb2: await keepalivedPid('lb2') }, pids, 'keepalived reloaded, never restarted');
  const check = await cli(['apply', '-i', INVENTORY, BOOTSTRAP, '--check', '--detailed-exitcode']);
  t.is(check.code, 0, check.stdout + check.stderr);
});
