/**
 * The probe fragments and their parsers agree: each fragment is run by /bin/sh here, with fake
 * `ip`, `sysctl`, `dpkg-query`, `ldirectord`, `systemctl`/`service` commands that print what the
 * real ones print, and its output goes through the resource's parser. The file resource runs for
 * real in a temp folder: probe → write script → probe again finds nothing to do.
 */
import { TASK_ARGS } from '../../src/playbook/tasks.js';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import test from 'ava';
import type { AddressActual } from '../../src/resources/address/index.js';
import type { FileActual, FileDesired } from '../../src/resources/file/index.js';
import type { LdirectordActual } from '../../src/resources/ldirectord/index.js';
import type { SysctlActual } from '../../src/resources/sysctl/index.js';
import { ctxFor } from '../support/cluster.js';
import { baseLines, fileProbeOutput, ipLine, procRoute, sha256 } from '../support/facts.js';
import { resourceOf, run } from '../support/resources.js';
import { cleanup, commandPath, fakeCommands, onlyCommands, runSh, tempDir } from '../support/sh.js';

/** Who owns the files these tests create, as `stat -c %U:%G` prints it (root in CI, anyone else too). */
const OWNER = runSh('printf %s "$(id -un):$(id -gn)"').stdout;

/** Run a resource's probe fragment with `commands` faked, and parse its output. `{dir}` in a file's text is the temp folder. */
function probeHere(kind: Parameters<typeof resourceOf>[0], host: string, args: unknown, commands: Record<string, string>, files: Record<string, string> = {}) {
  const dir = tempDir();
  try {
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, name)), { recursive: true });
      writeFileSync(join(dir, name), text.replaceAll('{dir}', dir));
    }
    const PATH = fakeCommands(dir, commands);
    const first = run(kind, ctxFor(host), args, '');
    // Probes read /proc and /sys directly (and lvsplay's record in /var/lib): here they read copies
    // in the temp folder, never the machine's.
    const script = first.probe.replaceAll('/proc/', `${dir}/proc/`).replaceAll('/sys/class/', `${dir}/sys/class/`).replaceAll('/var/lib/lvsplay/', `${dir}/var/lib/lvsplay/`)
      .replaceAll('/run/', `${dir}/run/`).replaceAll('/etc/', `${dir}/etc/`);
    const ran = runSh(script, { cwd: dir, env: { PATH, FAKE: dir } });
    // and what they print names the host's paths again (grep -H prints the path it read)
    const out = { ...ran, stdout: ran.stdout.replaceAll(`${dir}/`, '/') };
    const actual = resourceOf(kind).parse(out.stdout, first.desired);
    return { out, actual, outcome: run(kind, ctxFor(host), args, out.stdout) };
  } finally {
    cleanup(dir);
  }
}

test('sysctl probe: values as the kernel prints them in /proc/sys, <absent> for a key the kernel lacks', (t) => {
  const proc = {
    'proc/sys/net/ipv4/conf/all/arp_ignore': '1\n',
    'proc/sys/net/ipv4/conf/all/arp_announce': '2\n',
    'proc/sys/net/ipv4/conf/lo/arp_ignore': '0\n',
    'proc/sys/net/ipv4/tcp_rmem': '4096\t87380\t6291456\n',
  };
  const { out, actual, outcome } = probeHere('sysctl', 'web1', { persist: false, extra: { 'net.ipv4.tcp_rmem': '4096 87380 6291456' } }, {}, proc);
  t.is(out.code, 0, out.stderr);
  t.deepEqual([...(actual as SysctlActual).values], [
    ['net.ipv4.conf.all.arp_ignore', '1'],
    ['net.ipv4.conf.all.arp_announce', '2'],
    ['net.ipv4.conf.lo.arp_ignore', '0'],
    ['net.ipv4.conf.lo.arp_announce', undefined],
    ['net.ipv4.tcp_rmem', '4096 87380 6291456'],
  ]);
  t.deepEqual(outcome.changes.map((c) => `${c.action} ${c.id}`), ['change net.ipv4.conf.lo.arp_ignore', 'add net.ipv4.conf.lo.arp_announce', 'add /var/lib/lvsplay/sysctls']);
  // the role keys it changes are recorded with their value before: lo.arp_ignore was 0, lo.arp_announce absent
  t.is(outcome.changes.find((c) => c.id === '/var/lib/lvsplay/sysctls')?.after, '/proc/sys/net/ipv4/conf/lo/arp_announce @@absent\n/proc/sys/net/ipv4/conf/lo/arp_ignore 0\n');
});

test('sysctl probe: a recorded key the host no longer needs is read and put back to its value before lvsplay (regression: ip_forward stayed 1 at runtime, 0 after a reboot)', (t) => {
  const proc = {
    'proc/sys/net/ipv4/conf/all/arp_ignore': '1\n',
    'proc/sys/net/ipv4/conf/all/arp_announce': '2\n',
    'proc/sys/net/ipv4/conf/lo/arp_ignore': '1\n',
    'proc/sys/net/ipv4/conf/lo/arp_announce': '2\n',
    'proc/sys/net/ipv4/ip_forward': '1\n',
    'proc/sys/net/ipv4/ip_local_port_range': '20000\t60999\n',
    'var/lib/lvsplay/sysctls': '{dir}/proc/sys/net/ipv4/conf/all/arp_ignore 0\n{dir}/proc/sys/net/ipv4/ip_forward 0\n{dir}/proc/sys/net/ipv4/ip_local_port_range 32768 60999\n{dir}/proc/sys/net/ipv4/conf/gone/rp_filter @@absent\n',
  };
  const { out, actual, outcome } = probeHere('sysctl', 'web1', { persist: false }, {}, proc);
  t.is(out.code, 0, out.stderr);
  // a recorded key the host still needs is read once, with the values: not again for the record
  t.is((actual as SysctlActual).values.get('net.ipv4.conf.all.arp_ignore'), '1');
  t.deepEqual([...(actual as SysctlActual).recordedNow], [
    ['/proc/sys/net/ipv4/conf/all/arp_ignore', undefined],
    ['/proc/sys/net/ipv4/ip_forward', '1'],
    ['/proc/sys/net/ipv4/ip_local_port_range', '20000 60999'],
    ['/proc/sys/net/ipv4/conf/gone/rp_filter', undefined],
  ]);
  t.deepEqual(outcome.changes.map((c) => c.summary), [
    '~ sysctl net.ipv4.ip_forward 1 → 0 (no longer needed: its value before lvsplay)',
    '~ sysctl net.ipv4.ip_local_port_range 20000 60999 → 32768 60999 (no longer needed: its value before lvsplay)',
    '~ record of the sysctls lvsplay manages here (1)',
  ]);
  t.true(outcome.script.includes("printf '%s\\n' 0 > /proc/sys/net/ipv4/ip_forward\n"), outcome.script);
  t.true(outcome.script.includes("printf '%s\\n' '32768 60999' > /proc/sys/net/ipv4/ip_local_port_range\n"), outcome.script);
});

const IP = `
case "$*" in
  "-o addr show") cat "$FAKE/ip-addr" ;;
  *) echo "fake ip: unexpected $*" >&2; exit 2 ;;
esac`;

test('address probe: ip -o addr show (tails cut), tunl0 UP from its flags, the default route from /proc/net/route, the record', (t) => {
  const lines = [...baseLines('198.51.100.31'), ipLine(5, 'tunl0', '192.0.2.12/32', { link: '@NONE' })];
  const { out, actual, outcome } = probeHere('address', 'far1', {}, { ip: IP }, {
    'ip-addr': `${lines.join('\n')}\n`,
    'sys/class/net/tunl0/flags': '0x41\n',
    'proc/net/route': procRoute('198.51.100.1'),
    'var/lib/lvsplay/addresses': '192.0.2.12/32 tunl0\n',
  });
  t.is(out.code, 0, out.stderr);
  const a = actual as AddressActual;
  t.true(a.tunnelUp);
  t.is(a.gateway, '198.51.100.1');
  t.deepEqual(a.recorded, ['192.0.2.12/32 tunl0']);
  t.deepEqual(a.addresses.find((x) => x.device === 'tunl0'), { device: 'tunl0', address: '192.0.2.12', prefix: 32 });
  t.deepEqual(a.addresses.find((x) => x.address === '198.51.100.31'), { device: 'eth0', address: '198.51.100.31', prefix: 24, broadcast: '198.51.100.255' });
  t.deepEqual(outcome.changes, []);
});

test('address probe: tunl0 without IFF_UP is down; no tunl0 at all is down; no default route is none; no record is undefined', (t) => {
  const lines = baseLines('198.51.100.31');
  const down = probeHere('address', 'far1', {}, { ip: IP }, {
    'ip-addr': `${lines.join('\n')}\n`, 'sys/class/net/tunl0/flags': '0x80\n', 'proc/net/route': procRoute(),
  });
  t.false((down.actual as AddressActual).tunnelUp);
  t.is((down.actual as AddressActual).gateway, undefined);
  t.is((down.actual as AddressActual).recorded, undefined);
  const missing = probeHere('address', 'far1', {}, { ip: IP }, { 'ip-addr': `${lines.join('\n')}\n`, 'proc/net/route': procRoute() });
  t.false((missing.actual as AddressActual).tunnelUp);
  t.is(missing.outcome.changes[0]!.id, 'tunl0');
});

test('address probe: a DR real server with its VIPs on lo (brd = VIP) and IPv6 /128, and its record, has nothing to do', (t) => {
  const lines = [
    ...baseLines('192.0.2.21', '2001:db8::21'),
    ipLine(1, 'lo', '192.0.2.10/32', { brd: '192.0.2.10' }),
    ipLine(1, 'lo', '192.0.2.11/32', { brd: '192.0.2.11' }),
    ipLine(1, 'lo', '2001:db8::10/128'),
  ];
  const { out, outcome } = probeHere('address', 'web1', {}, { ip: IP }, {
    'ip-addr': `${lines.join('\n')}\n`, 'proc/net/route': procRoute(), 'var/lib/lvsplay/addresses': '192.0.2.10/32 lo\n192.0.2.11/32 lo\n2001:db8::10/128 lo',
  });
  t.is(out.code, 0, out.stderr);
  t.deepEqual(outcome.changes, [], 'a record without a final newline reads the same');
});

test('file probe on real files: mode, owner, sha256 and content (even one that looks like a marker)', (t) => {
  const dir = tempDir();
  try {
    const path = join(dir, 'site.conf');
    const content = 'héllo wörld\n@@lvsplay-task 0.1@@\n@@lvsplay-part file@@\nlast line without newline';
    writeFileSync(path, content);
    chmodSync(path, 0o640);
    const probed = (desired: FileDesired) => resourceOf('file').parse(runSh(resourceOf('file').probe(desired, ctxFor('web1'))).stdout, desired) as FileActual;
    const out = runSh(resourceOf('file').probe({ path, content: '', mode: '0640' }, ctxFor('web1')));
    t.is(out.code, 0, out.stderr);
    t.deepEqual(probed({ path, content: '', mode: '0640' }), { present: true, mode: '640', owner: OWNER, sha256: sha256(content), content });
    // a small file that is what lvsplay would write is answered "same", its content not sent
    t.is(runSh(resourceOf('file').probe({ path, content, mode: '0640' }, ctxFor('web1'))).stdout, 'present 640 ' + OWNER + '\nsame\n');

    writeFileSync(join(dir, 'empty'), '');
    t.like(probed({ path: join(dir, 'empty'), content: '', mode: '0644' }), { present: true, sha256: sha256(''), content: '' });

    t.deepEqual(probed({ path: join(dir, 'nope'), content: '', mode: '0644' }), { present: false });
  } finally {
    cleanup(dir);
  }
});

/** The shells a host's /bin/sh may be: this machine's /bin/sh (dash on Debian), bash, busybox's ash. */
const SHELLS = [['/bin/sh'], ['bash'], ['busybox', 'sh']]
  .map(([cmd, ...args]) => [commandPath(cmd!), ...args])
  .filter(([cmd]) => cmd !== '');

test('file probe on a small file: compared with the expected content by the shell itself (only stat runs), in dash, bash and busybox sh; a file that differs in any byte is sent', (t) => {
  t.true(SHELLS.length >= 2, 'at least two shells to run the probe with');
  const dir = tempDir();
  try {
    const path = join(dir, 'small.conf');
    const statOnly = onlyCommands(join(dir, 'stat-only'), ['stat']);
    const withBase64 = onlyCommands(join(dir, 'with-base64'), ['stat', 'base64']);
    const probe = (shell: string[], expected: string, PATH: string) => {
      const desired: FileDesired = { path, content: expected, mode: '0644' };
      const r = spawnSync(shell[0]!, [...shell.slice(1), '-s'], { input: resourceOf('file').probe(desired, ctxFor('web1')), encoding: 'utf8', env: { PATH } });
      return { ...r, actual: resourceOf('file').parse(r.stdout, desired) as FileActual };
    };
    const texts = [
      'héllo wörld\n@@lvsplay-task 0.1@@\nlast line without newline',
      'a\\b\\\\c \\n $HOME `id` \'q\' "d"\n  leading and trailing  \n\ttab\r\n\n\nend\n',
      '',
      '\n',
      '\n\n\n',
      '-n\n',
      '!',
      '(\n=\n)\n',
      '* [a-z]? ~\n',
      'x'.repeat(1024),
    ];
    for (const shell of SHELLS) {
      for (const text of texts) {
        writeFileSync(path, text);
        chmodSync(path, 0o644);
        const same = probe(shell, text, statOnly);
        t.is(same.stdout, `present 644 ${OWNER}\nsame\n`, `${shell.join(' ')}: ${JSON.stringify(text)}: ${same.stderr}`);
        t.deepEqual(same.actual, { present: true, mode: '644', owner: OWNER, sha256: sha256(text), content: text });
      }
      // Of the same size, differing: a byte changed, a NUL before a byte (one byte fewer elsewhere), a
      // newline moved, a missing final newline made up by a space, a NUL for a byte
      const expected = 'net.ipv4.conf.all.arp_ignore = 1\nnet.ipv4.conf.all.arp_announce = 2\n';
      const others = [
        expected.replace('= 1', '= 0'),
        expected.replace('= 1', '=\u00001'),
        `${expected.slice(0, 10)}\n${expected.slice(10, -1)}`,
        `${expected.slice(0, -1)} `,
        `${expected.slice(0, 20)}\0${expected.slice(21)}`,
      ];
      for (const other of others) {
        t.is(Buffer.byteLength(other), Buffer.byteLength(expected), JSON.stringify(other));
        writeFileSync(path, other);
        const sent = probe(shell, expected, withBase64);
        t.not(sent.stdout.split('\n')[1], 'same', `${shell.join(' ')}: ${JSON.stringify(other)}`);
        t.like(sent.actual, { present: true, sha256: sha256(other) }, `${shell.join(' ')}: ${JSON.stringify(other)}: ${sent.stderr}`);
      }
      // another size is sent without reading it in the shell
      writeFileSync(path, `${expected}# edited\n`);
      t.like(probe(shell, expected, withBase64).actual, { sha256: sha256(`${expected}# edited\n`) });
    }
  } finally {
    cleanup(dir);
  }
});

test('file probe on a large file: "same" (no content sent) only when its checksum is the expected one; otherwise its content', (t) => {
  const dir = tempDir();
  try {
    const path = join(dir, 'ipvsadm.rules');
    const line = (i: number) => `-a -t 203.0.113.${i % 200}:80 -r 192.0.2.${i % 250}:80 -g -w 1\n`;
    const content = Array.from({ length: 3000 }, (_, i) => line(i)).join('');
    t.true(content.length > 65536);
    writeFileSync(path, content);
    chmodSync(path, 0o644);
    const ask = (expected: string) => {
      const desired: FileDesired = { path, content: expected, mode: '0644' };
      const out = runSh(resourceOf('file').probe(desired, ctxFor('web1')));
      t.is(out.code, 0, out.stderr);
      return { bytes: out.stdout.length, actual: resourceOf('file').parse(out.stdout, desired) as FileActual };
    };
    const same = ask(content);
    t.deepEqual(same.actual, { present: true, mode: '644', owner: OWNER, sha256: sha256(content), content });
    t.true(same.bytes < 200, `the answer is the head and "same": ${same.bytes} bytes`);
    const edited = `${content}# edited by hand\n`;
    const differs = ask(edited);
    t.deepEqual(differs.actual, { present: true, mode: '644', owner: OWNER, sha256: sha256(content), content }, 'the file as it is, for the diff');
    t.true(differs.bytes > content.length);
    // one byte off at the end, and the same size: still its content
    const flipped = `${content.slice(0, -2)}2\n`;
    t.is(flipped.length, content.length);
    t.like(ask(flipped).actual, { sha256: sha256(content) });
  } finally {
    cleanup(dir);
  }
});

test('file, for real in a temp folder: absent → written; again → nothing; mode drift → fixed with a backup; new content → the action runs', (t) => {
  const dir = tempDir();
  try {
    const PATH = fakeCommands(dir, { systemctl: `echo "systemctl $*" >> "${dir}/actions"`, service: `echo "service $*" >> "${dir}/actions"` });
    const path = join(dir, 'etc', 'motd');
    const args = { path, template: 'site/motd.hbs', mode: '0640', on_change: { restart: 'motd-news' } };
    const step = (vars: Record<string, string> = {}) => {
      const ctx = ctxFor('web1', { vars });
      const first = run('file', ctx, args, '');
      const facts = runSh(first.probe, { env: { PATH } });
      const outcome = run('file', ctx, args, facts.stdout);
      const applied = outcome.script ? runSh(outcome.script, { cwd: dir, env: { PATH } }) : undefined;
      return { desired: first.desired as FileDesired, outcome, applied };
    };
    const actions = () => (existsSync(join(dir, 'actions')) ? readFileSync(join(dir, 'actions'), 'utf8').trim().split('\n') : []);

    const one = step();
    t.deepEqual(one.outcome.changes.map((c) => c.action), ['add']);
    t.is(one.applied?.code, 0, one.applied?.stderr);
    t.is(readFileSync(path, 'utf8'), one.desired.content);
    t.is(statSync(path).mode & 0o777, 0o640);
    t.false(existsSync(`${path}.lvsplay-bak`), 'nothing to back up the first time');
    t.is(actions().length, 1);

    const two = step();
    t.deepEqual(two.outcome.changes, [], 'idempotent against the real probe');
    t.is(two.applied, undefined);

    chmodSync(path, 0o600);
    const three = step();
    t.deepEqual(three.outcome.changes.map((c) => c.summary), [`~ file ${path} mode 600 owner ${OWNER} → mode 640 owner ${OWNER}`]);
    t.is(three.applied?.code, 0, three.applied?.stderr);
    t.is(statSync(path).mode & 0o777, 0o640);
    t.is(actions().length, 1, 'only the mode changed: the on_change action does not run');

    const four = step({ site: 'moved' });
    t.deepEqual(four.outcome.changes.map((c) => c.action), ['change']);
    t.is(four.applied?.code, 0, four.applied?.stderr);
    t.true(readFileSync(path, 'utf8').includes('at site moved'));
    t.true(readFileSync(`${path}.lvsplay-bak`, 'utf8').includes('at site example'), 'the previous version is kept');
    t.regex(actions().at(-1) ?? '', /(systemctl|service) .*restart/);
    t.deepEqual(step({ site: 'moved' }).outcome.changes, []);
  } finally {
    cleanup(dir);
  }
});

test('file, for real: content of every kind written byte for byte by the shell\'s printf; the mode exact whatever the caller\'s umask; an existing file keeps its owner and group', (t) => {
  const dir = tempDir();
  try {
    const awkward = ["it's", '\'\'', '\\', '%s %d %%', '$(touch pwned)', '`touch pwned`', '-n', '--', '\t', 'é ü 日本', '\u00a0', 'end\\'];
    for (const [i, text] of awkward.entries()) {
      const path = join(dir, `awkward${i}`);
      const planned = run('file', ctxFor('web1', { vars: { site: text } }), { path, template: 'site/motd.hbs' }, 'absent\n');
      const applied = runSh(planned.script, { cwd: dir });
      t.is(applied.code, 0, applied.stderr);
      t.is(readFileSync(path, 'utf8'), (planned.desired as FileDesired).content, JSON.stringify(text));
    }
    t.false(existsSync(join(dir, 'pwned')));
    for (const [mode, callerUmask] of [['0640', '000'], ['0600', '022'], ['0755', '077'], ['0644', '777'], ['0400', '000']] as const) {
      const path = join(dir, `f${mode}`);
      const planned = run('file', ctxFor('web1'), { path, template: 'site/motd.hbs', mode }, 'absent\n');
      const applied = runSh(`umask ${callerUmask}\n${planned.script}`, { cwd: dir });
      t.is(applied.code, 0, applied.stderr);
      t.is((statSync(path).mode & 0o7777).toString(8), Number.parseInt(mode, 8).toString(8), `${mode} under umask ${callerUmask}`);
    }
    if (process.getuid?.() === 0) {
      const path = join(dir, 'owned');
      writeFileSync(path, 'old\n');
      chownSync(path, 65534, 65534);
      const planned = run('file', ctxFor('web1'), { path, template: 'site/motd.hbs' }, fileProbeOutput('old\n', '644', 'nobody:nogroup'));
      t.is(runSh(planned.script, { cwd: dir }).code, 0);
      t.deepEqual([statSync(path).uid, statSync(path).gid], [65534, 65534], 'the new content has the old owner');
      const mine = join(dir, 'mine');
      writeFileSync(mine, 'old\n');
      const again = run('file', ctxFor('web1'), { path: mine, template: 'site/motd.hbs' }, fileProbeOutput('old\n', '644', 'root:root'));
      t.is(runSh(again.script, { cwd: dir }).code, 0);
      t.deepEqual([statSync(mine).uid, statSync(mine).gid], [0, 0]);
    }
  } finally {
    cleanup(dir);
  }
});

test('file, for real: a symlink planted at the backup path is replaced, never written through (the file it points to is untouched)', (t) => {
  const dir = tempDir();
  try {
    const path = join(dir, 'etc', 'motd');
    const victim = join(dir, 'shadow');
    writeFileSync(victim, 'root:secret\n');
    const args = { path, template: 'site/motd.hbs' };
    const apply = (vars: Record<string, string>) => {
      const ctx = ctxFor('web1', { vars });
      const facts = runSh(run('file', ctx, args, '').probe);
      const outcome = run('file', ctx, args, facts.stdout);
      return runSh(outcome.script, { cwd: dir });
    };
    t.is(apply({ site: 'one' }).code, 0);
    symlinkSync(victim, `${path}.lvsplay-bak`);
    const second = apply({ site: 'two' });
    t.is(second.code, 0, second.stderr);
    t.is(readFileSync(victim, 'utf8'), 'root:secret\n', 'the symlink target was not overwritten');
    t.false(lstatSync(`${path}.lvsplay-bak`).isSymbolicLink(), 'the backup replaced the link');
    t.true(readFileSync(`${path}.lvsplay-bak`, 'utf8').includes('at site one'));
    t.true(readFileSync(path, 'utf8').includes('at site two'));
  } finally {
    cleanup(dir);
  }
});

test('file, for real: a write starts only chmod, sync, ln and mv (no mktemp), leaves no temp file, and a read-only mode is set once the content is in, even for an owner who is not root', (t) => {
  const dir = tempDir();
  try {
    const bin = onlyCommands(dir, ['chmod', 'sync', 'ln', 'mv']);
    const path = join(dir, 'etc', 'motd');
    mkdirSync(dirname(path));
    const write = (site: string, probed: string) => runSh(run('file', ctxFor('web1', { vars: { site } }), { path, template: 'site/motd.hbs' }, probed).script, { cwd: dir, env: { PATH: bin } });
    const first = write('one', 'absent\n');
    t.is(first.code, 0, first.stderr);
    const second = write('two', fileProbeOutput(readFileSync(path, 'utf8'), '644', OWNER));
    t.is(second.code, 0, second.stderr);
    t.true(readFileSync(path, 'utf8').includes('at site two'));
    t.true(readFileSync(`${path}.lvsplay-bak`, 'utf8').includes('at site one'));
    t.deepEqual(readdirSync(dirname(path)).sort(), ['motd', 'motd.lvsplay-bak'], 'no temp file left behind');
    // The temp file is created before chmod gives it its mode: a mode without the owner's write bit
    // comes after the content, or an owner who is not root could not fill it.
    if (process.getuid?.() === 0) {
      chmodSync(dir, 0o711);
      const mine = join(dir, 'nobody');
      mkdirSync(mine);
      chownSync(mine, 65534, 65534);
      const readOnly = join(mine, 'ro.conf');
      const planned = run('file', ctxFor('web1'), { path: readOnly, template: 'site/motd.hbs', mode: '0444' }, 'absent\n');
      const applied = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '/bin/sh', '-s'], { input: planned.script, encoding: 'utf8', cwd: mine });
      t.is(applied.status, 0, applied.stderr);
      t.is(readFileSync(readOnly, 'utf8'), (planned.desired as FileDesired).content);
      t.is((statSync(readOnly).mode & 0o777).toString(8), '444');
    }
  } finally {
    cleanup(dir);
  }
});

test('file, for real: a symlink at the managed path is reported by the probe (not read through) and refused', (t) => {
  const dir = tempDir();
  try {
    const path = join(dir, 'motd');
    const victim = join(dir, 'shadow');
    writeFileSync(victim, 'root:secret\n');
    symlinkSync(victim, path);
    const args = { path, template: 'site/motd.hbs' };
    const facts = runSh(run('file', ctxFor('web1'), args, '').probe);
    t.is(facts.stdout, 'symlink\n', 'the content behind the link never leaves the host');
    t.throws(() => run('file', ctxFor('web1'), args, facts.stdout), { message: /is a symbolic link: lvsplay never writes through it/ });
    // A link planted between the probe and the apply: the write script refuses it too.
    const planned = run('file', ctxFor('web1'), args, 'absent\n');
    const applied = runSh(planned.script, { cwd: dir });
    t.not(applied.code, 0);
    t.regex(applied.stderr, /is not a regular file \(a symbolic link\?\): not writing through it/);
    t.is(readFileSync(victim, 'utf8'), 'root:secret\n');
  } finally {
    cleanup(dir);
  }
});

test('ldirectord probe: running from its pid file (or the packaged unit\'s) and a process called ldirectord, stopped, missing; systemd and boot state; no perl run', (t) => {
  const state = (files: Record<string, string>, commands: Record<string, string> = { ldirectord: 'echo "ldirectord must not run in a probe" >&2; exit 99' }) =>
    probeHere('ldirectord', 'lb1', {}, commands, files).actual as LdirectordActual;
  t.like(state({ 'run/ldirectord.ldirectord.cf.pid': '4242\n', 'proc/4242/comm': 'ldirectord\n' }), { daemon: 'running', systemd: false, enabled: false });
  t.like(state({ 'run/ldirectord.ldirectord.pid': '77\n', 'proc/77/comm': 'ldirectord\n' }), { daemon: 'running' }, 'started by the packaged unit');
  t.like(state({ 'run/ldirectord.ldirectord.cf.pid': '4242\n' }), { daemon: 'stopped' }, 'a stale pid file');
  t.like(state({ 'run/ldirectord.ldirectord.cf.pid': '4242\n', 'proc/4242/comm': 'bash\n' }), { daemon: 'stopped' }, 'a pid reused by another process (the control script would not signal it either)');
  t.like(state({}), { daemon: 'stopped' });
  t.like(state({ 'etc/systemd/system/multi-user.target.wants/ldirectord.service': '' }), { enabled: true });
  // no ldirectord anywhere on a PATH of just the fakes and coreutils
  const dir = tempDir();
  try {
    const first = run('ldirectord', ctxFor('lb1'), {}, '');
    fakeCommands(dir, {});
    const out = runSh(first.probe.replaceAll('/etc/', `${dir}/etc/`), { env: { PATH: `${join(dir, 'bin')}:/usr/bin:/bin` } });
    t.is((resourceOf('ldirectord').parse(out.stdout, first.desired) as LdirectordActual).daemon, 'missing');
  } finally {
    cleanup(dir);
  }
});

test('package probe: dpkg-query status lines; config-files only and unknown packages are absent', (t) => {
  const dpkg = `
case "$3" in
  ipvsadm) echo 'install ok installed' ;;
  ldirectord) echo 'deinstall ok config-files' ;;
  *) echo "dpkg-query: no packages found matching $3" >&2; exit 1 ;;
esac`;
  const { actual, outcome } = probeHere('package', 'lb1', { names: ['ipvsadm', 'ldirectord', 'keepalived'] }, { 'dpkg-query': dpkg });
  t.deepEqual([...(actual as Map<string, boolean>)], [['ipvsadm', true], ['ldirectord', false], ['keepalived', false]]);
  t.deepEqual(outcome.changes.map((c) => c.id), ['ldirectord', 'keepalived']);
});

test('service probe: active and boot state, from systemctl or the SysV fallback (whichever this machine has)', (t) => {
  // a unit no machine has in /etc/rc2.d, so the SysV branch reads "disabled" as the fake systemctl does
  const { actual } = probeHere('service', 'lb1', { name: 'lvsplay-test-unit', enabled: true }, {
    systemctl: 'case "$1" in is-active) echo active ;; is-enabled) echo disabled; exit 1 ;; esac',
    service: '[ "$2" = status ] && exit 0; exit 1',
  });
  t.deepEqual(actual, { active: true, enabled: false });
});

test('shell probe: the check\'s exit status decides, its own output is not mixed in', (t) => {
  const parse = (check: string) => probeHere('shell', 'web1', { template: 'site/hello.sh.hbs', check }, {}).actual;
  t.deepEqual(parse('echo noise; echo more >&2; true'), { done: true });
  t.deepEqual(parse('echo noise; false'), { done: false });
  t.deepEqual(parse('exit 3'), { done: false });
});

test('file: a path under ~ is refused by the playbook schema (it would be quoted, not expanded, on the host)', (t) => {
  for (const path of ['~/lvsplay-note.txt', '/', '/etc/', '/etc/x/..', '/etc/./x', '//etc/x', 'etc/x', '/etc/x/']) {
    const parsed = TASK_ARGS.file.safeParse({ path, template: 'site/motd.hbs' });
    t.false(parsed.success, path);
    t.regex(parsed.error?.issues[0]?.message ?? '', /absolute path of a file on the host/, path);
  }
  t.true(TASK_ARGS.file.safeParse({ path: '/etc/lvsplay/x.conf', template: 'site/motd.hbs' }).success);
  t.false(TASK_ARGS.service.safeParse({ name: '-fake-option' }).success, 'a unit name starting with - would reach systemctl as an option');
});
