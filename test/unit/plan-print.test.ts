/** formatPlan: the plan list and, with --diff, unified before/after text; pinned by golden files. */
import test from 'ava';
import { hostContext, planHost, prepareHost } from '../../src/plan/pipeline.js';
import { formatPlan } from '../../src/plan/print.js';
import type { HostPlan } from '../../src/plan/types.js';
import { Templates } from '../../src/templates/templates.js';
import { TASK_MARK } from '../../src/resources/sections.js';
import { exampleCluster, hostOf, play, SUPPORT_TEMPLATES, task } from '../support/cluster.js';
import { addressProbe, baseLines, fileProbeOutput, ipLine, section, sections, sysctlValues } from '../support/facts.js';
import { golden } from '../support/golden.js';

/** web1 with five kinds of task against realistic facts: adds, changes, a file diff, a package. */
function web1Plan(): HostPlan {
  const cluster = exampleCluster();
  const p = play([
    task('address', {}, 'VIPs on lo'),
    task('sysctl', {}, 'ARP sysctls'),
    task('file', { path: '/etc/motd', template: 'site/motd.hbs' }, 'motd'),
    task('package', { names: ['ipvsadm'] }, 'tools'),
    task('service', { name: 'ssh' }, 'sshd running'),
  ]);
  const prepared = prepareHost(hostContext(cluster, hostOf(cluster, 'web1'), p, new Templates([SUPPORT_TEMPLATES])), p, 0);
  const facts = sections([
    ['0.0', addressProbe([...baseLines('192.0.2.21', '2001:db8::21'), ipLine(1, 'lo', '192.0.2.10/32', { brd: '192.0.2.255' })])],
    ['0.1', section('values', sysctlValues([
      ['net.ipv4.conf.all.arp_ignore', '0'], ['net.ipv4.conf.all.arp_announce', '2'],
      ['net.ipv4.conf.lo.arp_ignore', undefined], ['net.ipv4.conf.lo.arp_announce', '2'],
    ])) + section('file', fileProbeOutput('# Managed by lvsplay: LVS sysctls for web1. Local edits are overwritten.\nnet.ipv4.conf.all.arp_ignore = 0\nnet.ipv4.conf.all.arp_announce = 2\n'))],
    ['0.2', fileProbeOutput('web1 (real_server) at site example: managed by lvsplay\n- web tcp 192.0.2.10:80 via dr\n- old tcp 192.0.2.99:80 via dr\n')],
    ['0.3', 'ipvsadm absent\n'],
    ['0.4', 'active active\nenabled enabled\n'],
  ], TASK_MARK);
  return planHost(prepared, facts);
}

test('formatPlan: web1 against realistic facts, as a list', (t) => {
  golden(t, 'plan/web1.plan.txt', formatPlan(web1Plan()));
});

test('formatPlan: web1 against realistic facts, with --diff', (t) => {
  golden(t, 'plan/web1.plan-diff.txt', formatPlan(web1Plan(), { diff: true }));
});

test('formatPlan: lb1 from nothing (what `render` prints), with --diff', (t) => {
  const cluster = exampleCluster();
  const p = play([task('sysctl'), task('address'), task('ldirectord')]);
  const plan = planHost(prepareHost(hostContext(cluster, hostOf(cluster, 'lb1'), p, new Templates()), p, 0), '');
  golden(t, 'plan/lb1.render-diff.txt', formatPlan(plan, { diff: true }));
});

test('formatPlan: an empty plan is one ok line; tasks without changes are left out', (t) => {
  t.is(formatPlan({ host: 'web2', tasks: [] }), 'web2: ok (no changes)\n');
  t.is(formatPlan({ host: 'web2', tasks: [{ task: 'x', resource: 'sysctl', changes: [], script: '' }] }, { diff: true }), 'web2: ok (no changes)\n');
  const plan: HostPlan = {
    host: 'lb2',
    tasks: [
      { task: 'nothing', resource: 'sysctl', changes: [], script: '' },
      { task: 'VIPs', resource: 'address', changes: [{ id: '192.0.2.10/32', action: 'delete', summary: '- address 192.0.2.10/32 on eth0', before: '192.0.2.10/32 on eth0' }], script: 'ip addr del 192.0.2.10/32 dev eth0' },
    ],
  };
  t.is(formatPlan(plan, { diff: true }), 'lb2: 1 change(s)\n  [address] VIPs\n    - address 192.0.2.10/32 on eth0\n');
});

test('formatPlan --diff: a deleted text shows as all "-" lines, a text without a final newline is diffed as if it had one', (t) => {
  const plan: HostPlan = {
    host: 'lb1',
    tasks: [{
      task: 'cf', resource: 'file', script: 'x',
      changes: [
        { id: '/etc/a', action: 'delete', summary: '- file /etc/a', before: 'one\ntwo\n', after: '' },
        { id: '/etc/b', action: 'change', summary: '~ file /etc/b', before: 'same\nold', after: 'same\nnew\n' },
      ],
    }],
  };
  golden(t, 'plan/synthetic-diff.txt', formatPlan(plan, { diff: true }));
});
