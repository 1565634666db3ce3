// Correctness on the lab (issue 8), where the kernel and ARP decide: a backup holding a VIP at
// another prefix, and a real server with the VIP at another prefix on lo, are put right (one
// director answers ARP for the VIP); IPVS services lvsplay does not own, in forms its strict
// parser refuses for its own, are kept as they are; a firewall mark of 2^31 or more forwards real
// packets and reads back as given; a service moving to ldirectord and back converges in one run,
// and ldirectord is retired with its last service.
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { INVENTORY_FILE, labRelease, labReset, labUp, netnsExec } from '../lab/lab.js';
import { BOOTSTRAP, bootstrapped, cli, curl, eventually, inventoryWith, onHost } from './support/lab-cli.js';

const work = mkdtempSync(path.join(tmpdir(), 'lvsplay-correctness-'));

test.before(async () => {
  await labUp();
});

test.after.always(async () => {
  rmSync(work, { recursive: true, force: true });
  await labRelease();
});

const LB1_MAC = '52:54:00:00:00:05';
const ipvsLines = async (host: string, pattern: RegExp) => (await onHost(host, 'ipvsadm -S -n')).split('\n').filter((l) => pattern.test(l));
const answers = async (url: string, n = 4) => {
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) seen.add(await curl(url));
  return [...seen].sort();
};
/** The link-layer addresses that answer the client's ARP requests for `ip` (arping, 3 requests). */
async function arpAnswers(ip: string): Promise<string[]> {
  const r = await netnsExec('lvsplay-client', ['arping', '-c', '3', '-w', '6', '-I', 'eth0', ip], { timeoutMs: 15_000 });
  // Habets' arping (Debian's `arping` package): "42 bytes from 52:54:00:00:00:05 (192.0.2.10): ..."
  return [...new Set([...r.stdout.matchAll(/bytes from ([0-9a-f]{2}(?::[0-9a-f]{2}){5}) /gi)].map((m) => m[1]!.toLowerCase()))].sort();
}

// Foreign services as an operator's own tooling leaves them: a persistence netmask ipvsadm takes
// through inet_aton (not a contiguous mask), and the mh scheduler with a flag ipvsadm prints as a
// bare `-b` (flag-3 has no name). lvsplay must keep them as they are and manage the rest.
const FOREIGN = `
ipvsadm -A -t 192.0.2.99:80 -s rr -p 60 -M 255.0.255.0
ipvsadm -a -t 192.0.2.99:80 -r 192.0.2.21:80 -g -w 3
ipvsadm -A -t 192.0.2.98:80 -s mh -b flag-3
ipvsadm -a -t 192.0.2.98:80 -r 192.0.2.22:80 -g`;

test.serial('a VIP held at another prefix (a backup\'s /24, a real server\'s /24 on lo) is put right: only the primary answers ARP for it; foreign IPVS services in forms lvsplay refuses for its own are kept as they are', async (t) => {
  await labReset();
  await onHost('lb2', 'ip addr add 192.0.2.10/24 dev eth0');
  await onHost('rs1', 'ip addr add 192.0.2.10/24 dev lo');
  await onHost('lb1', FOREIGN);
  const foreign = await ipvsLines('lb1', /192\.0\.2\.9[89]:80/);
  t.is(foreign.length, 4, foreign.join('\n'));
  t.true(foreign.includes('-A -t 192.0.2.98:80 -s mh -b '), 'a bare -b, as ipvsadm prints flag-3');
  t.true(foreign.includes('-A -t 192.0.2.99:80 -s rr -p 60 -M 255.0.255.0'), 'a netmask that is not a prefix');
  t.deepEqual(await arpAnswers('192.0.2.10'), ['52:54:00:00:00:06', '52:54:00:00:00:21'], 'before: lb2 and rs1 both answer ARP for the VIP');

  const bootstrap = await cli(['apply', '-i', INVENTORY_FILE, BOOTSTRAP]);
  t.is(bootstrap.code, 0, bootstrap.stdout + bootstrap.stderr);

  t.notRegex(await onHost('lb2', 'ip -4 -o addr show dev eth0'), /192\.0\.2\.10\//, 'the backup gave the VIP up');
  const lo = await onHost('rs1', 'ip -4 -o addr show dev lo');
  t.regex(lo, /192\.0\.2\.10\/32/, 'rs1 holds the VIP as /32 on lo');
  t.notRegex(lo, /192\.0\.2\.10\/24/, 'and not at the prefix that made the whole subnet local');
  t.deepEqual(await arpAnswers('192.0.2.10'), [LB1_MAC], 'only the primary answers ARP for the VIP');
  t.deepEqual(await answers('http://192.0.2.10/'), ['rs1', 'rs2'], 'both real servers answer through the VIP (rs1 too: its replies are no longer local)');

  t.deepEqual(await ipvsLines('lb1', /192\.0\.2\.9[89]:80/), foreign, 'the foreign services are exactly as they were');
  const check = await cli(['apply', '-i', INVENTORY_FILE, BOOTSTRAP, '--check', '--detailed-exitcode']);
  t.is(check.code, 0, check.stdout + check.stderr);
});

// ipvsadm prints marks with %d: 3000000000 comes back as -1294967296. The kernel decides what the
// mark is, so the test marks the client's packets on lb1 with tc (the VMs have no iptables) and
// sends them.
const MARK = 3_000_000_000;

test.serial('a firewall-mark service with a mark of 2^31 or more forwards marked packets, reads back as given, and a second run changes nothing', async (t) => {
  // the mark service alone: the other services' setup is the other tests' (and costs minutes under TCG)
  const marked = inventoryWith(work, 'fwmark', (inv) => {
    inv.services = [{ name: 'marked', fwmark: MARK, vip: '192.0.2.15', scheduler: 'rr', real_servers: [{ server: 'rs1' }, { server: 'rs2' }] }];
  });
  await bootstrapped(marked);
  t.deepEqual(await ipvsLines('lb1', /-f /).then((l) => l.filter((x) => x.startsWith('-A'))), [`-A -f ${MARK - 2 ** 32} -s rr`], 'ipvsadm prints the mark signed');
  await onHost('lb1', `tc qdisc replace dev eth0 ingress && tc filter add dev eth0 parent ffff: protocol ip prio 1 u32 match ip dst 192.0.2.15/32 match ip dport 80 0xffff action skbedit mark ${MARK}`);
  try {
    t.deepEqual(await answers('http://192.0.2.15/'), ['rs1', 'rs2'], 'marked packets are balanced by the fwmark service');
    const again = await cli(['apply', '-i', marked, BOOTSTRAP, '--json']);
    t.is(again.code, 0, again.stderr);
    t.deepEqual([...new Set(again.json!.results.map((r) => r.status))], ['ok'], 'a second run changes nothing');
    const check = await cli(['apply', '-i', marked, BOOTSTRAP, '--check', '--detailed-exitcode']);
    t.is(check.code, 0, check.stdout + check.stderr);
  } finally {
    await onHost('lb1', 'tc qdisc del dev eth0 ingress'); // a reset does not undo a qdisc
  }
});

test.serial('a service moving from lvsplay to ldirectord and back converges in one run each way; ldirectord is retired with its last service', async (t) => {
  // web (lvsplay's) and checked (ldirectord's) only: the other services play no part here
  const both = (inv: Record<string, any>) => {
    inv.services = inv.services.filter((s: { name: string }) => s.name === 'web' || s.name === 'checked');
  };
  await bootstrapped(inventoryWith(work, 'web-and-checked', both));
  const toLdirectord = inventoryWith(work, 'web-checked', (inv) => {
    both(inv);
    const web = inv.services.find((s: { name: string }) => s.name === 'web');
    web.health_check = { type: 'negotiate', service: 'http', request: '/', receive: 'rs' };
  });
  const handover = await cli(['apply', '-i', toLdirectord, BOOTSTRAP]);
  t.is(handover.code, 0, handover.stdout + handover.stderr);
  t.regex(await onHost('lb1', 'cat /etc/ha.d/ldirectord.cf'), /virtual=192\.0\.2\.10:80/, 'ldirectord has the web service');
  const check = await cli(['apply', '-i', toLdirectord, BOOTSTRAP, '--check', '--detailed-exitcode']);
  t.is(check.code, 0, `converged in one run:\n${check.stdout}${check.stderr}`);
  await eventually('ldirectord checking rs1 and rs2 in', () => ipvsLines('lb1', /^-a -t 192\.0\.2\.10:80 /), (l) => l.length === 2, 60_000);
  t.deepEqual(await answers('http://192.0.2.10/'), ['rs1', 'rs2']);

  const noChecks = inventoryWith(work, 'no-checks', (inv) => {
    both(inv);
    for (const s of inv.services) delete s.health_check;
  });
  const back = await cli(['apply', '-i', noChecks, BOOTSTRAP]);
  t.is(back.code, 0, back.stdout + back.stderr);
  for (const host of ['lb1', 'lb2']) {
    t.is((await onHost(host, 'systemctl is-active ldirectord || :')).trim(), 'inactive', `${host}: ldirectord stopped`);
    t.is((await onHost(host, 'systemctl is-enabled ldirectord 2>/dev/null || :')).trim(), 'disabled', `${host}: and not started at boot`);
    t.is((await onHost(host, 'test -e /etc/ha.d/ldirectord.cf && echo kept || echo gone')).trim(), 'gone', `${host}: its config removed`);
  }
  // nothing deletes lvsplay's rules behind its back any more: still there a while later
  await new Promise((r) => setTimeout(r, 8000));
  t.is((await ipvsLines('lb1', /^-a -t 192\.0\.2\.1[04]:80 /)).length, 4, 'web and checked have both real servers, now lvsplay\'s');
  t.deepEqual(await answers('http://192.0.2.14/'), ['rs1', 'rs2']);
  const after = await cli(['apply', '-i', noChecks, BOOTSTRAP, '--check', '--detailed-exitcode']);
  t.is(after.code, 0, after.stdout + after.stderr);
});
