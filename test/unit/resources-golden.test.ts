/**
 * Golden files of every built-in resource but ipvs: desired state, probe fragment, parsed facts,
 * changes and script, for inventory/example.yml's hosts, against empty facts (what `render` shows)
 * and against realistic facts written as the real commands print them.
 * Regenerate with UPDATE_GOLDEN=1 and review the diff.
 */
import test from 'ava';
import type { TaskKind } from '../../src/playbook/tasks.js';
import { SYSCTL_FILE } from '../../src/inventory/host-files.js';
import type { Cluster } from '../../src/inventory/model.js';
import { ctxFor, exampleWith } from '../support/cluster.js';
import { addressProbe, baseLines, fileProbeOutput, ipLine, section, sysctlValues } from '../support/facts.js';
import { golden } from '../support/golden.js';
import { describeOutcome, run } from '../support/resources.js';
import { syntaxError } from '../support/sh.js';

interface Case {
  kind: TaskKind;
  host: string;
  name: string;
  args?: unknown;
  facts: string;
  cluster?: () => Cluster;
}

/**
 * The example plus every ldirectord.cf branch the example does not reach: e-mail alerts, a
 * maintenance folder, a firewall-mark service with an external check, its own timeout, failure
 * count, check port and quiescent, a fallback; an HTTPS negotiate check with a virtual host and
 * HEAD.
 */
const extended = () => exampleWith(
  ['  quiescent: false\n', '  quiescent: false\n  email_alert: ops@example.net\n  maintenance_dir: /etc/ha.d/maintenance\n'],
  ['  # IPv6 direct routing.\n', `  - name: shop
    fwmark: 42
    family: ipv4
    scheduler: wrr
    persistence: { timeout: 900 }
    health_check: { type: external, command: /usr/local/bin/check-shop, port: 8080, timeout: 4, failure_count: 3, quiescent: true }
    fallback: { address: 192.0.2.5, port: 80 }
    real_servers:
      - { server: web1, weight: 2 }
      - { server: web3 }

  - name: cms
    vip: 192.0.2.14
    port: 443
    health_check: { type: negotiate, service: https, request: /status, receive: up and running, virtualhost: cms.example.net, http_method: HEAD, interval: 7 }
    real_servers:
      - { server: web2 }

  # IPv6 direct routing.
`],
);

const OLD_SYSCTL_FILE = '# written by hand\nnet.ipv4.conf.all.arp_ignore = 1\n';
const OLD_LDIRECTORD_CF = 'checktimeout=10\nvirtual=192.0.2.10:80\n\treal=192.0.2.21:80 gate 1\n\tscheduler=rr\n';

const FILE_ARGS = { path: '/etc/motd', template: 'site/motd.hbs', mode: '0644', on_change: { restart: 'motd-news' } };
const SHELL_ARGS = { template: 'site/hello.sh.hbs', check: "grep -q 'web1 example' /etc/lvsplay/hello" };
const PACKAGE_ARGS = { names: ['ipvsadm', 'ldirectord'] };
const SERVICE_ARGS = { name: 'ldirectord', state: 'started', enabled: true };

const cases: Case[] = [
  // sysctl: DR real server, TUN real server, NAT real server (none), directors (ip_forward)
  { kind: 'sysctl', host: 'web1', name: 'empty', facts: '' },
  {
    kind: 'sysctl', host: 'web1', name: 'realistic',
    facts: section('values', sysctlValues([
      ['net.ipv4.conf.all.arp_ignore', '0'], ['net.ipv4.conf.all.arp_announce', '0'],
      ['net.ipv4.conf.lo.arp_ignore', '1'], ['net.ipv4.conf.lo.arp_announce', '2'],
    ])) + section('file', fileProbeOutput(OLD_SYSCTL_FILE)),
  },
  { kind: 'sysctl', host: 'far1', name: 'empty', facts: '' },
  {
    kind: 'sysctl', host: 'far1', name: 'realistic',
    facts: section('values', sysctlValues([
      ['net.ipv4.conf.all.arp_ignore', '1'], ['net.ipv4.conf.all.arp_announce', '2'],
      ['net.ipv4.conf.lo.arp_ignore', '1'], ['net.ipv4.conf.lo.arp_announce', '2'],
      ['net.ipv4.conf.all.rp_filter', '2'], ['net.ipv4.conf.tunl0.rp_filter', undefined],
    ])) + section('file', fileProbeOutput(undefined)),
  },
  { kind: 'sysctl', host: 'app1', name: 'empty', facts: '' },
  { kind: 'sysctl', host: 'lb1', name: 'empty', facts: '' },
  {
    kind: 'sysctl', host: 'lb1', name: 'realistic',
    // ip_forward off; the persisted file already right but mode 600
    facts: section('values', sysctlValues([['net.ipv4.ip_forward', '0']]))
      + section('file', fileProbeOutput('# Managed by lvsplay: LVS sysctls for lb1. Local edits are overwritten.\nnet.ipv4.ip_forward = 1\n', '600')),
  },
  { kind: 'sysctl', host: 'lb2', name: 'empty', facts: '' },

  // address: DR (lo, brd = VIP, IPv6), TUN (tunl0), NAT (default route), primary, backup
  { kind: 'address', host: 'web1', name: 'empty', facts: '' },
  {
    kind: 'address', host: 'web1', name: 'realistic',
    // 192.0.2.10 right; 192.0.2.11 on lo without its broadcast (del + add); the IPv6 VIP missing
    facts: addressProbe([
      ...baseLines('192.0.2.21', '2001:db8::21'),
      ipLine(1, 'lo', '192.0.2.10/32', { brd: '192.0.2.10' }),
      ipLine(1, 'lo', '192.0.2.11/32'),
    ]),
  },
  { kind: 'address', host: 'far1', name: 'empty', facts: '' },
  {
    kind: 'address', host: 'far1', name: 'realistic',
    // ipip not loaded: no tunl0 at all, so its VIP is missing too
    facts: addressProbe(baseLines('198.51.100.31'), 'down', '198.51.100.1'),
  },
  { kind: 'address', host: 'app1', name: 'empty', facts: '' },
  {
    kind: 'address', host: 'app1', name: 'realistic',
    facts: addressProbe(baseLines('203.0.113.41'), 'down', '203.0.113.254'),
  },
  { kind: 'address', host: 'lb1', name: 'empty', facts: '' },
  {
    kind: 'address', host: 'lb1', name: 'realistic',
    // 192.0.2.10 as label eth0:1, 192.0.2.11 and the IPv6 VIP present; the rest missing
    facts: addressProbe([
      ...baseLines('192.0.2.5', '2001:db8::5'),
      ipLine(2, 'eth0', '192.0.2.10/32', { label: 'eth0:1' }),
      ipLine(2, 'eth0', '192.0.2.11/32'),
      ipLine(2, 'eth0', '2001:db8::10/128'),
    ], 'down', '192.0.2.1'),
  },
  { kind: 'address', host: 'lb2', name: 'empty', facts: '' },
  {
    kind: 'address', host: 'lb2', name: 'realistic',
    // a backup holding VIPs (after a failover that was not undone): they must go
    facts: addressProbe([
      ...baseLines('192.0.2.6', '2001:db8::6'),
      ipLine(2, 'eth0', '192.0.2.10/32', { label: 'eth0:1' }),
      ipLine(2, 'eth0', '2001:db8::10/128'),
      ipLine(2, 'eth0', '203.0.113.1/24', { brd: '203.0.113.255' }),
      ipLine(1, 'lo', '192.0.2.12/32'),
    ], 'down', '192.0.2.1'),
  },

  // file: a user template
  { kind: 'file', host: 'web1', name: 'empty', args: FILE_ARGS, facts: '' },
  { kind: 'file', host: 'web1', name: 'realistic', args: FILE_ARGS, facts: fileProbeOutput('web1: hand-written motd\n', '600') },

  // ldirectord: the primary (IPv4 + IPv6 services, checks, persistence, fork), the backup, a real server
  { kind: 'ldirectord', host: 'lb1', name: 'empty', facts: '' },
  { kind: 'ldirectord', host: 'lb1', name: 'realistic', facts: section('file', fileProbeOutput(OLD_LDIRECTORD_CF)) + section('daemon', 'running\n') },
  { kind: 'ldirectord', host: 'lb2', name: 'empty', facts: '' },
  { kind: 'ldirectord', host: 'lb1', name: 'extended', facts: section('file', 'absent\n') + section('daemon', 'running\n'), cluster: extended },
  { kind: 'ldirectord', host: 'web1', name: 'empty', facts: '' },

  // package, service, shell
  { kind: 'package', host: 'lb1', name: 'empty', args: PACKAGE_ARGS, facts: '' },
  { kind: 'package', host: 'lb1', name: 'realistic', args: PACKAGE_ARGS, facts: 'ipvsadm installed\nldirectord absent\n' },
  { kind: 'service', host: 'lb1', name: 'empty', args: SERVICE_ARGS, facts: '' },
  { kind: 'service', host: 'lb1', name: 'realistic', args: SERVICE_ARGS, facts: 'active inactive\nenabled enabled\n' },
  { kind: 'shell', host: 'web1', name: 'empty', args: SHELL_ARGS, facts: '' },
  { kind: 'shell', host: 'web1', name: 'realistic', args: SHELL_ARGS, facts: 'needed\n' },
];

for (const c of cases) {
  const file = `resources/${c.kind}/${c.host}.${c.name}.txt`;
  test(`golden ${file}`, (t) => {
    const outcome = run(c.kind, ctxFor(c.host, c.cluster ? { cluster: c.cluster() } : {}), c.args ?? {}, c.facts);
    golden(t, file, describeOutcome(`${c.kind} on ${c.host}, ${c.name} facts`, c.facts, outcome));
    t.is(syntaxError(outcome.probe), '', 'the probe fragment parses with sh -n');
    t.is(syntaxError(outcome.script), '', 'the script parses with sh -n');
    t.is(outcome.script === '', outcome.changes.length === 0, 'a script exactly when there are changes');
  });
}

test('the sysctl golden cases use the persisted file at its documented place', (t) => {
  t.is(SYSCTL_FILE, '/etc/sysctl.d/90-lvsplay.conf');
});
