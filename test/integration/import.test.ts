// Adoption on the lab (issue 12): lb1 brought to a state made by hand, the way an operator runs a
// director today (ipvsadm commands, a VIP added with ip, an ldirectord.cf written by hand and its
// daemon started), is imported with `lvsplay import --from-host`; the imported inventory then
// changes nothing in the IPVS table or the addresses (adopting writes only lvsplay's own files),
// a second look finds nothing to do, and one weight changed in the inventory is one batch line.
// The hand-made ldirectord.cf has a check password: imported as a variable's name, written back
// by lvsplay into a 0600 config, in no output; and a real server by host and service name,
// resolved on the director. A weight left to the runtime is kept.
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseInventory } from '../../src/inventory/load.js';
import { YamlSource } from '../../src/util/yaml-source.js';
import { IDENTITY_FILE, KNOWN_HOSTS_FILE, labRelease, labReset, labUp } from '../lab/lab.js';
import { cli, eventually, onHost, summaries } from './support/lab-cli.js';

const work = mkdtempSync(path.join(tmpdir(), 'lvsplay-import-'));
// The director's side of bootstrap: VIPs, ldirectord, IPVS (no real server is touched).
const adopt = path.join(work, 'adopt.yml');
writeFileSync(adopt, `- name: Directors
  hosts: directors
  tasks:
    - { name: VIPs, address: {} }
    - { name: ldirectord, ldirectord: {} }
    - { name: IPVS services, ipvs: {} }
`);

test.before(async () => {
  await labUp();
});

test.after.always(async () => {
  delete process.env['LVSPLAY_CHECK_PASS_TCP_192_0_2_14_80'];
  await onHost('lb1', "sed -i '/ rs2-by-name$/d' /etc/hosts").catch(() => undefined); // a reset does not restore /etc/hosts
  rmSync(work, { recursive: true, force: true });
  await labRelease();
});

const BY_HAND = `
ip addr add 192.0.2.10/32 dev eth0
ip addr add 192.0.2.11/32 dev eth0
ip addr add 192.0.2.14/32 dev eth0
ipvsadm -A -t 192.0.2.10:80 -s wrr
ipvsadm -a -t 192.0.2.10:80 -r 192.0.2.21:80 -g -w 1
ipvsadm -a -t 192.0.2.10:80 -r 192.0.2.22:80 -g -w 2
ipvsadm -A -u 192.0.2.11:53 -s rr -p 30
ipvsadm -a -u 192.0.2.11:53 -r 192.0.2.21:53 -g -w 1 -x 100 -y 50
ipvsadm -a -u 192.0.2.11:53 -r 192.0.2.22:53 -g -w 1
echo '192.0.2.22 rs2-by-name' >> /etc/hosts
mkdir -p /etc/ha.d
cat > /etc/ha.d/ldirectord.cf <<'EOF'
# written by hand
checktimeout=3
checkinterval=2
logfile="/var/log/ldirectord.log"

virtual=192.0.2.14:80
    real=192.0.2.21:80 gate
    real=rs2-by-name:http gate
    scheduler=wlc
    checktype=negotiate
    service=http
    request="/"
    receive="rs"
    login="monitor"
    passwd="pw-on-lb1"
EOF
ldirectord /etc/ha.d/ldirectord.cf start`;

const sortedSave = async () => (await onHost('lb1', 'ipvsadm -S -n | sort')).trim();
const ipvsOrAddress = (s: string) => /(service|real server|weight|address) /.test(s) && !s.includes('record of');

test.serial('a director set up by hand is imported from the host; the inventory adopts it without touching its IPVS table or addresses; one weight changed is one batch line', async (t) => {
  await labReset(['lb1']);
  await onHost('lb1', BY_HAND);
  await eventually('ldirectord checking its real servers in', sortedSave, (s) => (s.match(/-a -t 192\.0\.2\.14:80/g) ?? []).length === 2, 60_000);

  const inventory = path.join(work, 'imported.yml');
  const imported = await cli(['import', '--from-host', 'root@127.0.0.1:22101', '--identity', IDENTITY_FILE, '--known-hosts', KNOWN_HOSTS_FILE, '--name', 'lb1', '-o', inventory]);
  t.is(imported.code, 0, `everything expressed:\n${imported.stderr}`);
  // a host and a service name, resolved on the director as its ldirectord did
  t.regex(imported.stderr, /real server "rs2-by-name:http": resolved on the director as ldirectord would: rs2-by-name → 192\.0\.2\.22, http → 80/);
  const yaml = readFileSync(inventory, 'utf8');
  t.regex(yaml, /interface: \{ name: eth0, address: 192\.0\.2\.5\/24 \}/, yaml);
  // the check's password: never copied, named by the variable the inventory reads it from
  t.regex(imported.stderr, /note: passwd= \(its value is not copied\).*LVSPLAY_CHECK_PASS_TCP_192_0_2_14_80/);
  t.regex(yaml, /login: monitor/);
  t.false(`${yaml}${imported.stdout}${imported.stderr}`.includes('pw-on-lb1'));
  process.env['LVSPLAY_CHECK_PASS_TCP_192_0_2_14_80'] = 'pw-on-lb1';
  t.is((await cli(['validate', '-i', inventory])).code, 0);

  const before = await sortedSave();
  const plan = await cli(['apply', '-i', inventory, adopt, '--check', '--json']);
  t.deepEqual(summaries(plan.json!, 'lb1').filter(ipvsOrAddress), [], `adopting changes no IPVS service, real server or address:\n${plan.stdout}`);
  const first = await cli(['apply', '-i', inventory, adopt]);
  t.is(first.code, 0, first.stdout + first.stderr);
  await eventually('ldirectord (restarted with lvsplay\'s config) checking its real servers in', sortedSave, (s) => s === before, 60_000);
  t.is(await sortedSave(), before, 'the IPVS table is as it was by hand');
  const again = await cli(['apply', '-i', inventory, adopt, '--check', '--detailed-exitcode', '--diff']);
  t.is(again.code, 0, again.stdout + again.stderr);
  // lvsplay's ldirectord.cf holds the password (read back redacted: the check above compared it)
  t.is((await onHost('lb1', 'grep -c \'passwd="pw-on-lb1"$\' /etc/ha.d/ldirectord.cf; stat -c %a /etc/ha.d/ldirectord.cf')).trim(), '1\n600');
  t.false([plan, first, again].some((r) => `${r.stdout}${r.stderr}`.includes('pw-on-lb1')), 'the password is in no output');

  writeFileSync(inventory, yaml.replace(/(server: rs-192-0-2-22, weight: )2/, '$15'));
  const weight = await cli(['apply', '-i', inventory, adopt, '--json']);
  t.is(weight.code, 0, weight.stderr);
  t.deepEqual(summaries(weight.json!, 'lb1').filter(ipvsOrAddress), ['~ weight 192.0.2.22:80 in tcp 192.0.2.10:80 2 → 5']);
  t.regex(await sortedSave(), /-a -t 192\.0\.2\.10:80 -r 192\.0\.2\.22:80 -g -w 5/);

  // weights left to the runtime: an agent's weight is kept, and is no drift
  writeFileSync(inventory, readFileSync(inventory, 'utf8').replace(/(server: rs-192-0-2-22, weight: 5)/, '$1, weight_policy: initial'));
  await onHost('lb1', 'ipvsadm -e -t 192.0.2.10:80 -r 192.0.2.22:80 -g -w 9');
  const runtime = await cli(['apply', '-i', inventory, adopt, '--check', '--detailed-exitcode']);
  t.is(runtime.code, 0, runtime.stdout + runtime.stderr);
  t.is((await cli(['apply', '-i', inventory, adopt])).code, 0);
  t.regex(await sortedSave(), /-a -t 192\.0\.2\.10:80 -r 192\.0\.2\.22:80 -g -w 9/);
});


// keepalived.conf split with include lines, as many directors keep it: followed on the director,
// the pattern globbed by its shell with everything but the wildcards quoted; $NAME definitions
// used across the files, and @ID lines for this director's config id (its host name).
const SPLIT_BY_INCLUDE = `
mkdir -p /etc/keepalived/conf.d /etc/keepalived/members
cat > /etc/keepalived/keepalived.conf <<'END'
global_defs {
    router_id lb1
}
$DNS_PORT=53
$WEB_WEIGHT=1
END
id=$(uname -n | cut -d. -f1)
echo "@$id \\$WEB_WEIGHT=3" >> /etc/keepalived/keepalived.conf
echo "@^$id \\$WEB_WEIGHT=7" >> /etc/keepalived/keepalived.conf
cat >> /etc/keepalived/keepalived.conf <<'END'
include conf.d/*.conf
include /etc/keepalived/x$(touch /tmp/lvsplay-pwned).conf
END
cat > /etc/keepalived/conf.d/10-web.conf <<'END'
virtual_server 192.0.2.10 80 {
    lb_algo wrr
    lb_kind DR
    protocol TCP
    include ../members/web.inc
}
END
cat > /etc/keepalived/members/web.inc <<'END'
    real_server 192.0.2.21 80 {
        weight $WEB_WEIGHT
        TCP_CHECK {
            connect_timeout 3
        }
    }
    real_server 192.0.2.22 80 {
        weight 1
        SMTP_CHECK {
        }
    }
END
cat > /etc/keepalived/conf.d/20-dns.conf <<'END'
virtual_server 192.0.2.11 $DNS_PORT {
    lb_algo rr
    lb_kind DR
    protocol UDP
    real_server 192.0.2.21 $DNS_PORT {
        DNS_CHECK {
            name example.com
        }
    }
}
END`;

test.serial('a keepalived.conf split by include lines is imported from the host whole: the files its patterns name on the director, nested, each reported at its own path; nothing in a pattern runs there', async (t) => {
  await labReset(['lb1']);
  await onHost('lb1', `rm -f /tmp/lvsplay-pwned\n${SPLIT_BY_INCLUDE}`);
  const imported = await cli(['import', '--from-host', 'root@127.0.0.1:22101', '--identity', IDENTITY_FILE, '--known-hosts', KNOWN_HOSTS_FILE, '--name', 'lb1']);
  t.is(imported.code, 3, imported.stderr);
  const cluster = parseInventory(new YamlSource('imported.yml', imported.stdout));
  t.deepEqual(cluster.services.map((s) => [s.vip, s.port, s.protocol, s.realServers.map((m) => `${m.address}/${m.weight}`).join(' ')]), [
    ['192.0.2.10', 80, 'tcp', '192.0.2.21/3 192.0.2.22/1'],
    ['192.0.2.11', 53, 'udp', '192.0.2.21/1'],
  ]);
  t.regex(imported.stdout, /# lb1:\/etc\/keepalived\/conf\.d\/10-web\.conf line 1/);
  t.regex(imported.stderr, /lb1:\/etc\/keepalived\/members\/web\.inc:9: not expressed: real_server SMTP_CHECK/, 'reported at the included file\'s line');
  t.regex(imported.stderr, /lb1:\/etc\/keepalived\/keepalived\.conf:9: note: include .*no file matches it/);
  t.is((await onHost('lb1', '[ -e /tmp/lvsplay-pwned ] && echo ran || echo not run')).trim(), 'not run');
});

// keepalived's own expansion of a virtual_server_group, running on lb1: a plain entry, a last-byte
// range, an entry twice, a subnet, a mark and every port. Real servers without checkers: keepalived
// adds them at once. No protocol line: keepalived makes the addresses' services UDP (the import
// once said TCP); no persistence_timeout with a port-0 entry: the block's services persistent, 360 s.
const GROUPED = `mkdir -p /etc/keepalived
cat > /etc/keepalived/keepalived.conf <<'END'
global_defs {
    router_id lb1
}
virtual_server_group web {
    192.0.2.10 80
    192.0.2.11-12 80
    192.0.2.12 80
    192.0.2.16/31 80
    fwmark 5
    192.0.2.18 0
}
virtual_server group web {
    lb_algo wrr
    lb_kind DR
    real_server 192.0.2.21 80 {
        weight 3
    }
    real_server 192.0.2.22 80 {
        weight 1
    }
}
END
keepalived -D -f /etc/keepalived/keepalived.conf`;

test.serial('a virtual_server_group keepalived runs is imported from the host as the services keepalived made of it (UDP, without a protocol line), each keepalived\'s, none left over from the table', async (t) => {
  await labReset(['lb1']);
  await onHost('lb1', GROUPED);
  const table = await eventually('keepalived\'s services on lb1', async () => (await onHost('lb1', 'ipvsadm -S -n')).split('\n').filter((l) => l.startsWith('-A')), (lines) => lines.length >= 7);
  t.deepEqual(table.sort(), ['-A -f 5 -s wrr -p 360', ...['10:80', '11:80', '12:80', '16:80', '17:80', '18:0'].map((n) => `-A -u 192.0.2.${n} -s wrr -p 360`)], 'keepalived\'s own table');
  const imported = await cli(['import', '--from-host', 'root@127.0.0.1:22101', '--identity', IDENTITY_FILE, '--known-hosts', KNOWN_HOSTS_FILE, '--name', 'lb1']);
  t.is(imported.code, 3, imported.stderr); // the real servers' port 80 on the port-0 service is reported
  const cluster = parseInventory(new YamlSource('imported.yml', imported.stdout));
  const keys = (s: (typeof cluster.services)[number]) => (s.fwmark !== undefined ? `fwmark ${s.fwmark}` : `${s.protocol} ${s.vip}:${s.port}`);
  t.deepEqual(cluster.services.map((s) => [keys(s), s.managedBy, s.scheduler, s.persistence?.timeoutS, s.realServers.map((m) => `${m.address}/${m.weight}`).join(' ')]),
    ['udp 192.0.2.10:80', 'udp 192.0.2.11:80', 'udp 192.0.2.12:80', 'udp 192.0.2.16:80', 'udp 192.0.2.17:80', 'fwmark 5', 'udp 192.0.2.18:0'].map((k) => [k, 'keepalived', 'wrr', 360, '192.0.2.21/3 192.0.2.22/1']));
  t.regex(imported.stderr, /keepalived\.conf:12: note: virtual_server group web: imported as 7 service\(s\)/);
  t.regex(imported.stderr, /keepalived\.conf:12: note: virtual_server group web: port 0 without persistence_timeout/);
  t.regex(imported.stderr, /keepalived\.conf:7: note: udp 192\.0\.2\.12:80 is also at line 6/);
  t.regex(imported.stderr, /keepalived\.conf:12: note: no protocol line: keepalived makes the service UDP/);
});
