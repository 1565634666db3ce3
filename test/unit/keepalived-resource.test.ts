/**
 * The keepalived resource: keepalived.conf as rendered for a DR/TUN/NAT/fwmark/IPv6 mix with every
 * check type (golden), and what its diff does with the facts it is given: nothing when all is as
 * it should be; verify, install, reload on a change; start when stopped; takeover and release of
 * services; retirement; step-down; the VRRP password never printed.
 */
import test from 'ava';
import { withPrimary } from '../../src/inventory/failover.js';
import { applyScript, revealedApplyScript } from '../../src/plan/pipeline.js';
import { formatPlan } from '../../src/plan/print.js';
import { type HostPlan, taskPlan } from '../../src/plan/types.js';
import { TASK_ARGS } from '../../src/playbook/tasks.js';
import { diffFile, fileProbe, parseFileProbe } from '../../src/resources/file/index.js';
import { RESOURCES } from '../../src/resources/index.js';
import { drain } from '../../src/resources/drain/index.js';
import type { KeepalivedDesired } from '../../src/resources/keepalived/index.js';
import { parseProcIpvs } from '../../src/resources/keepalived/index.js';
import { vrrpPriority } from '../../src/resources/keepalived/conf.js';
import { parseKeepalivedVirtuals } from '../../src/resources/keepalived/keys.js';
import { InputError } from '../../src/util/problems.js';
import { JsonRenderer } from '../../src/run/render-json.js';
import { ctxFor } from '../support/cluster.js';
import { sha256 } from '../support/facts.js';
import { golden } from '../support/golden.js';
import { kaCluster, kaCtx, kaFacts, PASSWORD } from '../support/keepalived.js';
import { run } from '../support/resources.js';
import { syntaxError } from '../support/sh.js';
import { Templates } from '../../src/templates/templates.js';

const desiredOf = (name: string, cluster = kaCluster(), args: object = {}) => run('keepalived', kaCtx(name, cluster), args, '').desired as KeepalivedDesired;
const configOf = (name: string, cluster = kaCluster()) => desiredOf(name, cluster).file!.content;
const outcome = (name: string, facts: Parameters<typeof kaFacts>[0], cluster = kaCluster(), args: object = {}) => run('keepalived', kaCtx(name, cluster), args, kaFacts(facts));

test('keepalived.conf for lb1 (golden): global_defs, the VRRP instance, a virtual_server per service with each real server\'s checker', (t) => {
  golden(t, 'keepalived/lb1.keepalived.conf', configOf('lb1'));
});

test('keepalived.conf for lb2 (golden): state BACKUP at its own priority, the other director as unicast peer, the same VIP list', (t) => {
  const lb2 = configOf('lb2');
  golden(t, 'keepalived/lb2.keepalived.conf', lb2);
  const vips = (text: string) => /virtual_ipaddress \{\n([\s\S]*?)\n {4}\}/.exec(text)![1];
  t.is(vips(lb2), vips(configOf('lb1')), 'one VIP list on every member (different lists make two masters)');
});

test('keepalived.conf: what every service must say, and what it must never say', (t) => {
  const conf = configOf('lb1');
  t.false(/lvs_flush/.test(conf), 'never lvs_flush nor lvs_flush_on_stop: they flush other owners\' services');
  const blocks = conf.split('\nvirtual_server ').slice(1);
  t.is(blocks.length, 6, 'the six keepalived services; www6 is lvsplay\'s');
  for (const b of blocks) t.regex(b, /\n {4}lvs_method (DR|NAT|TUN)/, 'lvs_method always written (keepalived\'s default is NAT)');
  t.true(conf.includes('    router_id lb1\n'));
  t.true(conf.includes('    lvs_sync_daemon eth0 VI_default\n'));
  t.true(conf.includes('    enable_script_security\n    script_user root\n'), 'a MISC_CHECK needs script security (config test exit 6 otherwise)');
  t.true(conf.includes('virtual_server fwmark 6 {\n    lvs_sched wrr\n    lvs_method DR\n    ip_family inet6\n'));
  t.true(conf.includes('    lvs_method TUN type gue port 6080 csum\n'));
  t.true(conf.includes('    lvs_method NAT\n    protocol SCTP\n'));
  t.true(conf.includes('        203.0.113.1/24 dev eth0\n'), 'the NAT gateway moves with the VIPs');
  t.true(conf.includes('    virtual_ipaddress_excluded {\n        2001:db8::10/128 dev eth0\n    }\n'), 'IPv6 VIPs beside the IPv4 instance');
  t.false(conf.includes('virtual_server 2001:db8::10'), 'www6 is lvsplay\'s service, only its VIP is keepalived\'s');
});

test('keepalived.conf without VRRP: no instance, no sync daemon; a pair with no keepalived service and no VRRP: nothing (retire only)', (t) => {
  const cluster = kaCluster([`vrrp:\n  default:\n    virtual_router_id: 51\n    unicast: true\n    auth_pass_env: LVSPLAY_VRRP_PASS\n    garp_master_delay: 0\n    garp_master_repeat: 1\n    garp_master_refresh: 2\n    sync_daemon: true\n`, '']);
  const conf = configOf('lb1', cluster);
  t.false(conf.includes('vrrp_instance'));
  t.false(conf.includes('lvs_sync_daemon'));
  t.false(conf.includes('auth_pass'));
  t.is(desiredOf('lb1', cluster).file!.secret, undefined, 'no password: not secret');
  t.deepEqual(run('keepalived', ctxFor('lb1'), {}, '').desired, { config: '/etc/keepalived/keepalived.conf', pidfile: '/run/keepalived.pid', services: [], reload: true });
});

test('VRRP state and priority follow the roles: failover --to lb2 raises lb2 above lb1 and makes it MASTER; nopreempt makes every state BACKUP', (t) => {
  const cluster = kaCluster();
  t.is(vrrpPriority(cluster, cluster.directors[0]!), 150);
  t.is(vrrpPriority(cluster, cluster.directors[1]!), 100);
  const swapped = withPrimary(cluster, 'lb2');
  const lb2 = configOf('lb2', swapped);
  const lb1 = configOf('lb1', swapped);
  t.true(lb2.includes('    state MASTER\n') && lb2.includes('    priority 151\n'), 'above the highest other (150)');
  t.true(lb1.includes('    state BACKUP\n') && lb1.includes('    priority 150\n'), 'its own priority as a backup');
  const nopreempt = kaCluster(['    unicast: true\n', '    unicast: true\n    nopreempt: true\n']);
  for (const name of ['lb1', 'lb2']) {
    const conf = configOf(name, nopreempt);
    t.true(conf.includes('    state BACKUP\n') && conf.includes('    nopreempt\n'), name);
  }
});

test('the VRRP password: read from the environment at prepare time, checked, never in an error message', (t) => {
  t.true(configOf('lb1').includes(`        auth_pass ${PASSWORD}\n`));
  const saved = process.env['LVSPLAY_VRRP_PASS'];
  try {
    delete process.env['LVSPLAY_VRRP_PASS'];
    const unset = t.throws(() => desiredOf('lb1'), { instanceOf: InputError });
    t.is(unset!.problems[0]!.field, 'vrrp.default.auth_pass_env');
    t.regex(unset!.message, /environment variable LVSPLAY_VRRP_PASS is not set/);
    for (const bad of ['longer-than-8', 'a b', 'pa"ss', 'p#ss', 'p$x']) {
      process.env['LVSPLAY_VRRP_PASS'] = bad;
      const e = t.throws(() => desiredOf('lb1'), { instanceOf: InputError });
      t.regex(e!.message, /1 to 8 printable characters/);
      t.false(e!.message.includes(bad), 'the value is never echoed');
    }
  } finally {
    process.env['LVSPLAY_VRRP_PASS'] = saved;
  }
});

// ---------------------------------------------------------------------------------------------
// The diff.

test('running with the same config → nothing to do, no script', (t) => {
  const content = configOf('lb1');
  const o = outcome('lb1', { content, live: ['TCP  C000020A:0050 wlc'] });
  t.deepEqual(o.changes, []);
  t.is(o.script, '');
});

test('a changed config while running: checked by the installed keepalived, installed, then reloaded (SIGHUP), never restarted', (t) => {
  const old = `${configOf('lb1').replace('    priority 150\n', '    priority 120\n')}`;
  const o = outcome('lb1', { content: old });
  t.deepEqual(o.changes.map((c) => c.summary), ['~ file /etc/keepalived/keepalived.conf (secrets not shown)']);
  const s = o.script;
  const check = s.indexOf('keepalived -t -e -f "$lvsplay_tmp"');
  const install = s.indexOf('mv -f -- "$lvsplay_tmp" "$lvsplay_p"');
  const reload = s.indexOf('systemctl reload keepalived');
  t.true(check > 0 && check < install && install < reload, 'verify, then install, then reload');
  t.true(s.includes('else kill -HUP "$lvsplay_pid"'), 'SIGHUP when systemd does not run it');
  t.false(/restart/.test(s));
  t.true(s.includes('chmod 600 -- "$lvsplay_tmp"'), 'mode 0600');
  t.true(s.includes('printf \'\' | LC_ALL=C grep -P -e OK'), 'the check regex compiled as PCRE before install, without UTF mode as keepalived compiles it');
  t.true(s.includes("echo \"lvsplay: $lvsplay_p: the new content was refused by its check; the old file stays\""), 'a refused config is never installed');
});

test('stopped → started (a changed config too, by the start itself); under systemd enabled at boot first, unless the host keeps nothing', (t) => {
  const content = configOf('lb1');
  const stopped = outcome('lb1', { content, daemon: 'stopped' });
  t.deepEqual(stopped.changes.map((c) => c.summary), ['~ keepalived stopped → running']);
  t.true(stopped.script.includes('  systemctl start keepalived\n') && stopped.script.includes('  lvsplay_start\n'));
  const both = outcome('lb1', { content: 'old\n', daemon: 'stopped' });
  t.deepEqual(both.changes.map((c) => c.id), ['/etc/keepalived/keepalived.conf', 'keepalived']);
  t.false(both.script.includes('systemctl reload keepalived'), 'no reload: the start reads the new file');
  const boot = outcome('lb1', { content, daemon: 'stopped', systemd: true });
  t.deepEqual(boot.changes.map((c) => c.summary), ['~ keepalived enabled at boot', '~ keepalived stopped → running']);
  t.true(boot.script.indexOf('systemctl enable keepalived') < boot.script.indexOf('systemctl start keepalived'), boot.script);
  const ephemeral = kaCluster(['    role: backup\n', '    role: backup\n    persist: false\n']);
  t.deepEqual(outcome('lb2', { content: configOf('lb2', ephemeral), systemd: true }, ephemeral).changes, [], 'persist: false: never enabled at boot');
  t.deepEqual(outcome('lb1', { content, systemd: true, enabled: true }).changes, []);
});

test('keepalived missing → a clear error; a real server → nothing to do', (t) => {
  const e = t.throws(() => outcome('lb1', { daemon: 'missing' }));
  t.regex(e!.message, /keepalived is not installed on this director/);
  const rs = outcome('web1', { daemon: 'missing' });
  t.deepEqual(rs.changes, []);
});

test('takeover: a service keepalived does not own yet but the table has (lvsplay\'s until now) is deleted right before keepalived\'s reload', (t) => {
  const current = configOf('lb1').replace(/\n# service web\nvirtual_server 192\.0\.2\.10 80 \{[\s\S]*?\n\}\n/, '\n');
  t.false(current.includes('virtual_server 192.0.2.10 80'));
  const o = outcome('lb1', { content: current, live: ['TCP  C000020A:0050 wlc', 'UDP  C000020B:0035 sh ops'] });
  t.deepEqual(o.changes.map((c) => c.summary), [
    '~ file /etc/keepalived/keepalived.conf (secrets not shown)',
    '~ keepalived takes over tcp 192.0.2.10:80 (deleted first: keepalived would adopt the existing service as it is)',
  ]);
  const del = o.script.indexOf('ipvsadm -D -t 192.0.2.10:80 2>/dev/null || :');
  t.true(del > o.script.indexOf('mv -f -- "$lvsplay_tmp"') && del < o.script.indexOf('systemctl reload keepalived'), o.script);
  t.false(o.script.includes('-u 192.0.2.11:53'), 'dns is keepalived\'s already');
  // A stopped keepalived owns nothing yet: what the table has of its services is deleted before it starts.
  const stopped = outcome('lb1', { content: configOf('lb1'), daemon: 'stopped', live: ['UDP  C000020B:0035 sh ops', 'FWM  00000005 lc'] });
  t.true(stopped.script.includes('ipvsadm -D -u 192.0.2.11:53') && stopped.script.includes('ipvsadm -D -f 5 2>/dev/null'));
  t.true(stopped.script.indexOf('ipvsadm -D -f 5') < stopped.script.indexOf('lvsplay_start\n'));
});

test('release: services leaving keepalived are deleted by its reload; the script waits for that (the ipvs task then creates them)', (t) => {
  const current = configOf('lb1').replace('# service web\n', '# service old\nvirtual_server 192.0.2.77 80 {\n    protocol TCP\n}\n# service web\n');
  const o = outcome('lb1', { content: current });
  t.true(o.script.includes("printf '%s' '-t 192.0.2.77:80\n' > \"$lvsplay_released\"\n"), o.script);
  t.true(o.script.indexOf('systemctl reload keepalived') < o.script.indexOf('lvsplay_released=$(mktemp)'));
  t.true(o.script.includes("if [ \"$lvsplay_waited\" -ge 30 ]"));
});

test('retired when nothing is keepalived\'s any more: stopped, disabled, lvsplay\'s config removed, its services waited for; a config lvsplay did not write is left alone', (t) => {
  const ours = '# Managed by lvsplay for director lb1: local edits are overwritten.\nglobal_defs {\n}\nvirtual_server 192.0.2.10 80 {\n    protocol TCP\n}\n';
  const o = run('keepalived', ctxFor('lb1'), {}, kaFacts({ content: ours, systemd: true, enabled: true }));
  t.deepEqual(o.changes.map((c) => c.summary), ['- keepalived retired: no service or VRRP instance is its own any more (stopped, disabled, /etc/keepalived/keepalived.conf removed)']);
  t.is(o.changes[0]!.before, undefined, 'the old config (it may hold a password) is not shown');
  t.true(o.script.includes('systemctl stop keepalived') && o.script.includes('systemctl disable keepalived'), o.script);
  t.true(o.script.includes('ln -f -- "$lvsplay_cf" "$lvsplay_cf.lvsplay-bak" && rm -f -- "$lvsplay_cf"'));
  t.true(o.script.includes("printf '%s' '-t 192.0.2.10:80\n' > \"$lvsplay_released\""), o.script);
  const theirs = run('keepalived', ctxFor('lb1'), {}, kaFacts({ content: '! Configuration File for keepalived\nvirtual_server 192.168.6.240 80 {\n}\n' }));
  t.deepEqual(theirs.changes, []);
  t.deepEqual(run('keepalived', ctxFor('lb1'), {}, kaFacts({})).changes, [], 'no config at all: nothing');
});

test('step_down (failover on a nopreempt pair): a backup still holding the VIPs restarts keepalived; one that does not, or a preempt pair, does nothing', (t) => {
  const nopreempt = withPrimary(kaCluster(['    unicast: true\n', '    unicast: true\n    nopreempt: true\n']), 'lb2');
  const content = configOf('lb1', nopreempt);
  const held = outcome('lb1', { content, addr: ['2: eth0    inet 192.0.2.10/32 scope global eth0\\       valid_lft forever preferred_lft forever'] }, nopreempt, { step_down: true });
  t.deepEqual(held.changes.map((c) => c.summary), ['~ keepalived gives up VRRP mastership of VI_default (restarted: with nopreempt a master keeps the role until it stops)']);
  t.true(held.script.includes('systemctl restart keepalived'));
  t.deepEqual(outcome('lb1', { content, addr: ['2: eth0    inet 192.0.2.5/24 scope global eth0'] }, nopreempt, { step_down: true }).changes, []);
  const preempt = withPrimary(kaCluster(), 'lb2');
  t.is((desiredOf('lb1', preempt, { step_down: true })).stepDown, undefined, 'with preempt the raised priority takes over by itself');
  t.false(run('keepalived', kaCtx('lb1', preempt), { step_down: true }, '').probe.includes('ip -o addr show'), 'no address probe then');
});

// ---------------------------------------------------------------------------------------------
// Secrets.

/** The host plan of the keepalived task, as planHost makes it (with the diff's secrets). */
function planOf(name: string, facts: Parameters<typeof kaFacts>[0]): HostPlan {
  const ctx = kaCtx(name);
  const r = RESOURCES.keepalived;
  const desired = r.desired(ctx, TASK_ARGS.keepalived.parse({}));
  const { changes, script, secrets } = r.diff(desired, r.parse(kaFacts(facts), desired), ctx);
  return { host: name, tasks: [taskPlan('keepalived', 'keepalived', changes, script, secrets)] };
}

test('the VRRP password is never printed: plans, --diff, --json, scripts as printed; only the script the runner sends has it', (t) => {
  const content = configOf('lb1');
  const b64 = Buffer.from(content).toString('base64');
  for (const facts of [{}, { content: content.replace('priority 150', 'priority 120') }]) {
    const plan = planOf('lb1', facts);
    const change = plan.tasks[0]!.changes[0]!;
    t.true(change.secret);
    t.true(change.after!.includes('        auth_pass (secret not shown)\n'), 'the after text is redacted, not dropped');
    for (const [what, text] of [
      ['formatPlan', formatPlan(plan)], ['formatPlan --diff', formatPlan(plan, { diff: true })],
      ['apply script as printed', applyScript(plan)], ['JSON', JSON.stringify(plan)],
    ] as const) {
      t.false(text.includes(PASSWORD), `${what} shows the password`);
      t.false(text.includes(b64), `${what} holds the content's base64`);
    }
    t.true(applyScript(plan).includes("printf '%s' @@lvsplay-secret:/etc/keepalived/keepalived.conf@@ | base64 -d"));
    t.true(revealedApplyScript(plan).includes(`printf '%s' ${b64} | base64 -d`), 'the runner sends the real content');
    t.true(JSON.stringify(plan).includes('"secrets":["(secret content not shown)"]'));
  }
  // The JSON renderer (`--json`) prints results with their plans: no password there either.
  const out: string[] = [];
  const renderer = new JsonRenderer({ write: (s: string) => out.push(s) } as unknown as NodeJS.WritableStream, { check: false });
  renderer.done([{ host: 'lb1', play: 'p', status: 'changed', plan: planOf('lb1', {}), tasks: 1, durationMs: 1 }], 0);
  t.false(out.join('').includes(PASSWORD));
  t.false(out.join('').includes(b64));
});

test('a config that loses its password: the old one (on the host) is still only seen redacted', (t) => {
  const cluster = kaCluster(['    auth_pass_env: LVSPLAY_VRRP_PASS\n', '']);
  const old = configOf('lb1');
  const o = run('keepalived', kaCtx('lb1', cluster), {}, kaFacts({ content: old }));
  t.true(o.changes[0]!.before!.includes('auth_pass (secret not shown)'));
  t.false(o.changes[0]!.before!.includes(PASSWORD));
  t.true(o.probe.includes("sed -e 's/auth_pass.*$/auth_pass (secret not shown)/'"), 'the probe redacts on the host');
  t.false(/base64 -w0 < "\$lvsplay_p"/.test(o.probe), 'the content itself never comes back');
});

// ---------------------------------------------------------------------------------------------
// Parsers.

test('/proc/net/ip_vs service lines and keepalived.conf virtual servers read as service keys', (t) => {
  t.deepEqual([...parseProcIpvs('TCP  C000020A:0050 rr \nUDP  [2001:0db8:0000:0000:0000:0000:0000:0010]:0035 wlc \nFWM  00000005 lc \nSCTP  CB00710D:20FB rr \n')], [
    'tcp 192.0.2.10:80', 'udp [2001:db8::10]:53', 'fwmark 5 ipv4', 'fwmark 5 ipv6', 'sctp 203.0.113.13:8443',
  ]);
  const facts = parseKeepalivedVirtuals('header lvsplay\nline virtual_server 192.0.2.10 80 {\nline protocol TCP\nline virtual_server fwmark 6 {\nline ip_family inet6\nline virtual_server 192.0.2.11 53 {\nline protocol UDP\nline virtual_server 192.0.2.99 {\nline virtual_server group g1 {\n');
  t.true(facts.ours);
  t.deepEqual([...facts.keys.keys()], ['tcp 192.0.2.10:80', 'fwmark 6 ipv6', 'udp 192.0.2.11:53', 'tcp 192.0.2.99:0']);
  t.false(parseKeepalivedVirtuals('line virtual_server 192.0.2.10 80\n').ours);
});

test('a file whose content is wholly secret (no lines to redact): no text in its changes, --diff says so, the probe sends only the checksum', (t) => {
  const ctx = kaCtx('lb1');
  const desired = { path: '/etc/lvsplay/token', content: 'hunter22\n', mode: '0600', secret: { redact: [] as string[] } };
  const probe = fileProbe(ctx.templates, desired.path, { secret: desired.secret });
  t.true(probe.includes("printf 'sha256 '; sha256sum < \"$lvsplay_p\""));
  t.false(probe.includes('base64 -w0'), 'nothing of the content comes back');
  const actual = parseFileProbe(`present 600 root:root\nsha256 ${'0'.repeat(64)}  -\n`);
  const o = diffFile(desired, actual, ctx.templates);
  t.deepEqual(o.changes, [{ id: '/etc/lvsplay/token', action: 'change', summary: '~ file /etc/lvsplay/token (secret content not shown)', secret: true }]);
  const plan: HostPlan = { host: 'lb1', tasks: [taskPlan('file', 'file', o.changes, o.script, o.secrets)] };
  t.true(formatPlan(plan, { diff: true }).includes('      (secret content not shown)\n'));
  for (const text of [formatPlan(plan, { diff: true }), applyScript(plan), JSON.stringify(plan)]) {
    t.false(text.includes('hunter22'));
    t.false(text.includes(Buffer.from('hunter22\n').toString('base64')));
  }
  t.true(revealedApplyScript(plan).includes(Buffer.from('hunter22\n').toString('base64')));
  t.deepEqual(diffFile(desired, parseFileProbe(`present 600 root:root\nsha256 ${sha256('hunter22\n')}  -\n`), ctx.templates).changes, [], 'same checksum: nothing');
  const moded = diffFile(desired, parseFileProbe(`present 644 root:root\nsha256 ${sha256('hunter22\n')}  -\n`), ctx.templates);
  t.deepEqual(moded.changes.map((c) => c.summary), ['~ file /etc/lvsplay/token mode 644 owner root:root → mode 600 owner root:root']);
  t.is(moded.secrets, undefined, 'a mode fix carries no content');
});

test('the keepalived control fragment is valid sh for every sequence of verbs (regression: `enable` alone left an empty else branch, and the lab bootstrap with keepalived failed with a syntax error)', (t) => {
  const verbs = ['start', 'stop', 'reload', 'restart', 'enable', 'disable'];
  const sequences = [[], ...verbs.map((v) => [v]), ...verbs.flatMap((a) => verbs.filter((b) => b !== a).map((b) => [a, b]))];
  const templates = new Templates();
  const broken = sequences.filter((seq) => syntaxError(templates.render('keepalived/control.sh.hbs', { config: '/etc/keepalived/keepalived.conf', pidfile: '/run/keepalived.pid', verbs: seq })) !== '');
  t.deepEqual(broken, []);
});

test('drain of a real server of a keepalived-checked service is refused before anything changes, naming the services (regression: the weight was left to keepalived, the drained record written, and the wait ran out)', (t) => {
  const cluster = kaCluster();
  const ctx = { ...kaCtx('lb1', cluster), subject: cluster.hosts.get('web1') as never };
  const desired = drain.desired(ctx, TASK_ARGS.drain.parse({}));
  const error = t.throws(() => drain.diff(desired, drain.parse('', desired), ctx));
  t.regex(error!.message, /^web1 is a real server of web, dns, marked, web6, checked by keepalived on lb1: lvsplay cannot drain it through keepalived yet .* Nothing was changed/);
});
