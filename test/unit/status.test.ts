/**
 * `lvsplay status` without hosts: a director's read (as ipvsadm prints it) parsed, compared with
 * the inventory line by line, and printed.
 */
import test from 'ava';
import { parseInventory } from '../../src/inventory/load.js';
import type { Director } from '../../src/inventory/model.js';
import { compare } from '../../src/status/compare.js';
import { formatStatus } from '../../src/status/print.js';
import { parseSnapshot } from '../../src/status/snapshot.js';
import { YamlSource } from '../../src/util/yaml-source.js';
import { sections } from '../support/facts.js';

/** lb1 and three real servers, for each test's services. */
const HOSTS = `
directors:
  - { name: lb1, address: 192.0.2.5, role: primary, interface: { name: eth0, address: 192.0.2.5/24 } }
real_servers:
  - { name: rs1, address: 192.0.2.21 }
  - { name: rs2, address: 192.0.2.22 }
  - { name: rs3, address: 192.0.2.23 }
`;

const cluster = parseInventory(new YamlSource('status.yml', `${HOSTS}services:
  - name: web
    vip: 192.0.2.10
    port: 80
    scheduler: rr
    real_servers: [{ server: rs1 }, { server: rs2, weight: 2 }, { server: rs3 }]
  - name: checked
    vip: 192.0.2.14
    port: 80
    health_check: { type: connect }
    real_servers: [{ server: rs1 }, { server: rs2 }]
  - name: gone
    vip: 192.0.2.15
    port: 443
    real_servers: [{ server: rs1 }]
`));
const lb1 = cluster.hosts.get('lb1') as Director;

const ok = (text: string) => `${text}# lvsplay: ok\n`;
const VERSION = 'IP Virtual Server version 1.2.1 (size=4096)\n';

/** What lb1 says: rs2 drained, rs3 at a hand-made weight, a stranger in web, ldirectord took rs2 out of checked, gone is missing, a service nobody declared. */
const READ = sections([
  ['save', ok(`-A -t 192.0.2.10:80 -s rr
-a -t 192.0.2.10:80 -r 192.0.2.21:80 -g -w 1
-a -t 192.0.2.10:80 -r 192.0.2.22:80 -g -w 0
-a -t 192.0.2.10:80 -r 192.0.2.23:80 -g -w 5
-a -t 192.0.2.10:80 -r 192.0.2.99:80 -g -w 1
-A -t 192.0.2.14:80 -s wlc
-a -t 192.0.2.14:80 -r 192.0.2.21:80 -g -w 1
-A -u 192.0.2.50:53 -s rr
`)],
  ['thresholds', ok(`${VERSION}Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn
  -> RemoteAddress:Port
TCP  192.0.2.10:80 rr
  -> 192.0.2.21:80                0          0          3          7
  -> 192.0.2.22:80                0          0          1          0
  -> 192.0.2.23:80                0          0          0          0
  -> 192.0.2.99:80                0          0          0          0
TCP  192.0.2.14:80 wlc
  -> 192.0.2.21:80                0          0          0          2
UDP  192.0.2.50:53 rr
`)],
  ['stats', ok(`${VERSION}Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes
  -> RemoteAddress:Port
TCP  192.0.2.10:80                    1520     9120        0   547200        0
  -> 192.0.2.21:80                     760     4560        0   273600        0
  -> 192.0.2.22:80                     760     4560        0   273600        0
  -> 192.0.2.23:80                       0        0        0        0        0
  -> 192.0.2.99:80                       0        0        0        0        0
TCP  192.0.2.14:80                      12       72        0     4320        0
  -> 192.0.2.21:80                      12       72        0     4320        0
UDP  192.0.2.50:53                       0        0        0        0        0
`)],
  ['rates', ok(`${VERSION}Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS
  -> RemoteAddress:Port
TCP  192.0.2.10:80                      25      150        0     9000        0
  -> 192.0.2.21:80                      25      150        0     9000        0
  -> 192.0.2.22:80                       0        0        0        0        0
  -> 192.0.2.23:80                       0        0        0        0        0
  -> 192.0.2.99:80                       0        0        0        0        0
TCP  192.0.2.14:80                       0        0        0        0        0
  -> 192.0.2.21:80                       0        0        0        0        0
UDP  192.0.2.50:53                       0        0        0        0        0
`)],
  ['drained', '192.0.2.22\n'],
]);

test('status: each line against the inventory (drained is expected; hand-made weight, stranger, missing service, health-check outs and undeclared services are not)', (t) => {
  const status = compare(cluster, lb1, parseSnapshot(READ));
  const lines = status.services.map((s) => [s.key, s.state, s.dests.map((d) => `${d.server ?? '?'} ${d.weight ?? '-'}/${d.inventoryWeight ?? '-'} ${d.state}`)]);
  t.deepEqual(lines, [
    ['tcp 192.0.2.10:80', 'ok', ['rs1 1/1 ok', 'rs2 0/0 drained', 'rs3 5/1 weight differs', '? 1/- extra']],
    ['tcp 192.0.2.14:80', 'ok', ['rs1 1/1 ok', 'rs2 -/0 down (health check)']],
    ['tcp 192.0.2.15:443', 'missing', ['rs1 -/1 missing']],
    ['udp 192.0.2.50:53', 'not in the inventory', []],
  ]);
  t.is(status.differences, 6);
  const web = status.services[0]!;
  t.deepEqual([web.stats, web.rates?.[0], web.dests[0]!.active, web.dests[0]!.inactive, web.dests[0]!.stats?.[0]], [[1520, 9120, 0, 547200, 0], 25, 3, 7, 760]);
  const text = formatStatus([status, { director: 'lb2', error: 'connect ECONNREFUSED' }]);
  t.regex(text, /^lb1 \(primary\): 6 differences from the inventory\n  tcp 192\.0\.2\.10:80 \(web\) rr \[lvsplay\]  conns 1520, 25\/s\n/);
  t.regex(text, /\n    rs2     192\.0\.2\.22:80  dr\s+0\s+0\s+1\s+0\s+760\s+4560\s+0\s+273600\s+0\s+0  drained\n/);
  t.regex(text, /tcp 192\.0\.2\.15:443 \(gone\) \[lvsplay\]: MISSING\n/);
  t.regex(text, /\nlb2: unreachable: connect ECONNREFUSED\n$/);
});

test('status: a director exactly as the inventory says has no difference; an unreadable listing is an error, not an empty table', (t) => {
  const clean = READ.replace('-a -t 192.0.2.10:80 -r 192.0.2.23:80 -g -w 5', '-a -t 192.0.2.10:80 -r 192.0.2.23:80 -g -w 1');
  const status = compare(cluster, lb1, parseSnapshot(clean));
  t.is(status.differences, 5);
  t.throws(() => parseSnapshot(READ.replace('Conns   InPkts', 'Conns   Foo')), { message: /cannot read ipvsadm -L -n --stats --exact output, line 2: expected the column titles Conns InPkts OutPkts InBytes OutBytes/ });
  t.throws(() => parseSnapshot(READ.replace(/(-> 192\.0\.2\.99:80 {23})0/, '$1x')), { message: /cannot read ipvsadm -L -n --stats --exact output, line 8: expected Conns .*got "x"/ });
});

test('status: a real server whose weight the runtime owns (weight_policy: initial) at another weight is "weight set at runtime", no difference; drained, it is drained', (t) => {
  const runtime = parseInventory(new YamlSource('status.yml', `${HOSTS}services:
  - name: web
    vip: 192.0.2.10
    port: 80
    scheduler: rr
    weight_policy: initial
    real_servers: [{ server: rs1, weight_policy: enforce, weight: 3 }, { server: rs2, weight: 2 }, { server: rs3 }]
`));
  const read = (drained: string) => sections([
    ['save', ok('-A -t 192.0.2.10:80 -s rr\n-a -t 192.0.2.10:80 -r 192.0.2.21:80 -g -w 1\n-a -t 192.0.2.10:80 -r 192.0.2.22:80 -g -w 0\n-a -t 192.0.2.10:80 -r 192.0.2.23:80 -g -w 5\n')],
    ['thresholds', ok(`${VERSION}Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn\n  -> RemoteAddress:Port\nTCP  192.0.2.10:80 rr\n${['21', '22', '23'].map((n) => `  -> 192.0.2.${n}:80                0          0          0          0\n`).join('')}`)],
    ['stats', ok(`${VERSION}Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n  -> RemoteAddress:Port\nTCP  192.0.2.10:80                       0        0        0        0        0\n${['21', '22', '23'].map((n) => `  -> 192.0.2.${n}:80                       0        0        0        0        0\n`).join('')}`)],
    ['rates', ok(`${VERSION}Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS\n  -> RemoteAddress:Port\nTCP  192.0.2.10:80                       0        0        0        0        0\n${['21', '22', '23'].map((n) => `  -> 192.0.2.${n}:80                       0        0        0        0        0\n`).join('')}`)],
    ['drained', drained],
  ]);
  const states = (drained: string) => compare(runtime, runtime.hosts.get('lb1') as Director, parseSnapshot(read(drained)));
  const live = states('');
  t.deepEqual(live.services[0]!.dests.map((d) => `${d.server} ${d.weight}/${d.inventoryWeight} ${d.state}`), ['rs1 1/3 weight differs', 'rs2 0/2 weight set at runtime', 'rs3 5/1 weight set at runtime']);
  t.is(live.differences, 1, 'only the member whose weight lvsplay keeps');
  t.deepEqual(states('192.0.2.22\n').services[0]!.dests.map((d) => d.state), ['weight differs', 'drained', 'weight set at runtime']);
});
