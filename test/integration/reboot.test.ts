// Survive a reboot (issue 10), with real reboots of the lab's VMs: after a bootstrap, nothing of
// lvsplay runs again, and lb1 (the primary), rs5 (the TUN real server) and lb2 (the backup) come
// back from `systemctl reboot` with exactly the LVS state they had: IPVS table, addresses, routes,
// sysctls, ldirectord; the client's requests through every VIP are answered; `--check` sees no
// drift. A service removed from the inventory does not come back at the next boot.
import test, { type ExecutionContext } from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { INVENTORY_FILE, labDown, labReboot, labRelease, labReset, labUp } from '../lab/lab.js';
import { BOOTSTRAP, bootstrapped, cli, curl, eventually, inventoryWith, onHost, udp } from './support/lab-cli.js';

const work = mkdtempSync(path.join(tmpdir(), 'lvsplay-reboot-'));

test.before(async () => {
  await labUp();
});

// Rebooted VMs keep what lvsplay persisted and start it at boot (ldirectord from its enabled
// unit): more than a reset undoes. The lab is taken down, so the next file boots a fresh one.
test.after.always(async () => {
  rmSync(work, { recursive: true, force: true });
  await labDown({ keepSession: true });
  await labRelease();
});

/**
 * What a reboot must bring back, one fact a line, sorted: the IPVS table, lvsplay's firewall
 * marks, IPv4 addresses and routes, the sysctls lvsplay sets (ARP, rp_filter, forwarding, IPVS),
 * loaded LVS modules.
 */
const LVS_STATE = `
{ [ -e /proc/net/ip_vs ] && ipvsadm -S -n | sed 's/^/ipvs /'
  [ -d /sys/module/nf_tables ] && nft list table inet lvsplay 2>/dev/null | sed 's/^/nft /'
  ip -4 -o addr show | awk '{ print "addr", $2, $4 }'
  ip -4 route show table main | sed 's/^/route /'
  sysctl -a 2>/dev/null | grep -E '^net\\.ipv4\\.(conf\\.[^.]+\\.(arp_ignore|arp_announce|rp_filter)|ip_forward|vs\\.) '
  awk '$1 ~ /^(ip_vs|ipip)/ { print "module", $1 }' /proc/modules
} | sort`;
const state = (host: string) => onHost(host, LVS_STATE);

/** Reboots `host` and waits until its LVS state is `before` again (ldirectord adds its reals after its first checks). */
async function rebootedBackTo(host: string, before: string): Promise<string> {
  const bootId = (await onHost(host, 'cat /proc/sys/kernel/random/boot_id')).trim();
  const reboot = await labReboot(host);
  if (reboot.code !== 0) throw new Error(`lab:reboot ${host} failed:\n${reboot.stdout}${reboot.stderr}`);
  const after = (await onHost(host, 'cat /proc/sys/kernel/random/boot_id')).trim();
  if (after === bootId) throw new Error(`${host} did not reboot (same boot_id)`);
  return eventually(`${host}'s LVS state after its reboot`, () => state(host), (s) => s === before, 90_000).catch(async () => state(host));
}

/** What ldirectord said on `host` since its boot: printed when a state differs, to say why. */
const ldirectordLog = (host: string) => onHost(host, 'tail -n 40 /var/log/ldirectord.log 2>&1; systemctl status --no-pager ldirectord 2>&1 | head -n 12');

const lines = (text: string, prefix: string) => text.split('\n').filter((l) => l.startsWith(prefix));

/** A director's state once ldirectord's first checks have put both real servers of the checked service in (it adds them after the bootstrap returns). */
const settled = (host: string) => eventually(`${host}: ldirectord's real servers in`, () => state(host), (s) => lines(s, 'ipvs -a -t 192.0.2.14:80 ').length === 2, 60_000);

test.serial('lb1, rs5 and lb2 rebooted after a bootstrap come back with their LVS state, serving, with nothing run; --check sees no drift; a boot unit disabled or edited by hand is drift', async (t) => {
  // the lab's services, and a fwmark service whose packets lvsplay marks (nftables: the marks task)
  const inventory = inventoryWith(work, 'with-marks.yml', (inv) => {
    inv.services.push({ name: 'marked', fwmark: 7, scheduler: 'rr', marks: [{ vip: '192.0.2.15', protocol: 'tcp', ports: [80] }], real_servers: [{ server: 'rs1' }, { server: 'rs2' }] });
  });
  await bootstrapped(inventory);
  const before = { lb1: await settled('lb1'), rs5: await state('rs5'), lb2: await settled('lb2') };
  // the state is worth comparing: the bootstrap's work is in it
  t.true(lines(before.lb1, 'ipvs -A').length >= 5, before.lb1);
  t.regex(before.lb1, /addr eth0 192\.0\.2\.10\//);
  t.regex(before.lb1, /nft \t+ip daddr 192\.0\.2\.15 tcp dport 80 meta mark set 0x00000007/, 'the marks are part of what must come back');
  t.regex(before.rs5, /addr tunl0 192\.0\.2\.12\/32/);
  t.regex(before.rs5, /module ipip/);

  for (const host of ['lb1', 'rs5', 'lb2'] as const) {
    const after = await rebootedBackTo(host, before[host]);
    t.is(after, before[host], `${host}: the same LVS state after a real reboot${after === before[host] ? '' : `\n${await ldirectordLog(host)}`}`);
  }
  t.is((await onHost('lb1', 'systemctl is-active ldirectord || :')).trim(), 'active', 'ldirectord runs on lb1');
  t.is((await onHost('lb2', 'systemctl is-active ldirectord || :')).trim(), 'active', 'ldirectord runs on lb2');
  // the backup: the same IPVS services as the primary, and none of the VIPs
  t.deepEqual(lines(before.lb2, 'ipvs -A'), lines(before.lb1, 'ipvs -A'));
  t.notRegex(before.lb2, /addr eth0 192\.0\.2\.1[0-4]\//, 'no VIP on the backup');

  // every VIP answers the client: DR (TCP, UDP), TUN, NAT, and the ldirectord-checked service
  const web = new Set<string>();
  const dns = new Set<string>();
  const nat = new Set<string>();
  const checked = new Set<string>();
  for (let i = 0; i < 4; i++) {
    web.add(await curl('http://192.0.2.10/'));
    dns.add(await udp('192.0.2.11:53'));
    nat.add(await curl('http://192.0.2.13:8080/'));
    checked.add(await curl('http://192.0.2.14/'));
  }
  t.deepEqual([...web].sort(), ['rs1', 'rs2'], 'DR web');
  t.deepEqual([...dns].sort(), ['rs1', 'rs2'], 'DR dns');
  t.deepEqual([...nat].sort(), ['rs3', 'rs4'], 'NAT app');
  t.deepEqual([...checked].sort(), ['rs1', 'rs2'], 'ldirectord-checked');
  t.is(await curl('http://192.0.2.12/'), 'rs5', 'TUN');
  const marked = new Set<string>();
  for (let i = 0; i < 4; i++) marked.add(await curl('http://192.0.2.15/'));
  t.deepEqual([...marked].sort(), ['rs1', 'rs2'], 'fwmark, its packets marked by the rules loaded at boot');

  const check = await cli(['apply', '-i', inventory, '--check', '--detailed-exitcode', BOOTSTRAP]);
  t.is(check.code, 0, `no drift after the reboots:\n${check.stdout}${check.stderr}`);
  // (the lab is as bootstrapped: the next step starts from there, which saves a bootstrap)
  await bootUnitEditIsDrift(t, inventory);
});

test.serial('a service removed from the inventory and applied does not come back at the next boot', async (t) => {
  await bootstrapped(INVENTORY_FILE);
  const without = inventoryWith(work, 'without-app.yml', (inv) => {
    inv.services = inv.services.filter((s: { name: string }) => s.name !== 'app');
  });
  const apply = await cli(['apply', '-i', without, BOOTSTRAP]);
  t.is(apply.code, 0, apply.stdout + apply.stderr);
  const before = await settled('lb1');
  t.notRegex(before, /192\.0\.2\.13/, 'the app service and its VIP are gone at runtime');

  const after = await rebootedBackTo('lb1', before);
  t.is(after, before, after === before ? '' : await ldirectordLog('lb1'));
  t.notRegex(after, /192\.0\.2\.13/, 'and stay gone after the reboot');
  const check = await cli(['apply', '-i', without, '--check', '--detailed-exitcode', BOOTSTRAP]);
  t.is(check.code, 0, check.stdout + check.stderr);
});

/** A boot unit disabled or edited by hand is drift for --check, and apply restores it. */
async function bootUnitEditIsDrift(t: ExecutionContext, inventory: string): Promise<void> {
  await onHost('lb1', 'systemctl disable --quiet lvsplay-ipvs.service && echo "ExecStart=true" >> /etc/systemd/system/lvsplay-network.service');
  const check = await cli(['apply', '-i', inventory, '--check', '--detailed-exitcode', '--limit', 'lb1', BOOTSTRAP]);
  t.is(check.code, 3, check.stdout + check.stderr);
  t.regex(check.stdout, /lvsplay-ipvs\.service/);
  t.regex(check.stdout, /lvsplay-network\.service/);
  const apply = await cli(['apply', '-i', inventory, '--limit', 'lb1', BOOTSTRAP]);
  t.is(apply.code, 0, apply.stdout + apply.stderr);
  t.is((await onHost('lb1', 'systemctl is-enabled lvsplay-ipvs.service || :')).trim(), 'enabled');
  t.notRegex(await onHost('lb1', 'cat /etc/systemd/system/lvsplay-network.service'), /ExecStart=true\nExecStart=true/);
  const again = await cli(['apply', '-i', inventory, '--check', '--detailed-exitcode', '--limit', 'lb1', BOOTSTRAP]);
  t.is(again.code, 0, again.stdout + again.stderr);
}

test.serial('a host that must persist but runs no systemd (a namespace host) fails at probe with the reason, and nothing is changed on it', async (t) => {
  await labReset(['rs1']);
  const persisting = inventoryWith(work, 'rs1-persists.yml', (inv) => {
    for (const rs of inv.real_servers) if (rs.name === 'rs1') delete rs.persist;
  });
  const before = await onHost('rs1', 'ip -4 -o addr show; cat /proc/sys/net/ipv4/conf/all/arp_ignore');
  const run = await cli(['apply', '-i', persisting, BOOTSTRAP, '--limit', 'rs1', '--output', 'plain']);
  t.is(run.code, 2, run.stdout + run.stderr);
  t.regex(run.stdout + run.stderr, /does not run systemd, so lvsplay cannot make its state survive a reboot; set persist: false/);
  t.is(await onHost('rs1', 'ip -4 -o addr show; cat /proc/sys/net/ipv4/conf/all/arp_ignore'), before, 'not a half-done setup');
});
