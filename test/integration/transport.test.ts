/**
 * The transports against a real OpenSSH sshd (support/sshd.ts) and real sudo, as root: no mocks.
 * Throwaway users for become are created in before(), inside the sshd's own /etc (support/sshd.ts):
 * they vanish with it.
 */
import test, { type ExecutionContext } from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { access, chmod, copyFile, readFile, readdir, readlink, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inspect } from 'node:util';
import type { SshConfig } from '../../src/inventory/model.js';
import { SshTransport } from '../../src/transport/ssh.js';
import { TransportError } from '../../src/transport/types.js';
import { labHold, labRelease } from '../lab/lab.js';
import { freePort, run, startSshd, type Sshd } from './support/sshd.js';

const nonce = randomBytes(3).toString('hex');
/** Throwaway sudoers: one whose sudo rule wants the password, one NOPASSWD. */
const users = { password: `lvsplay-t${nonce}p`, nopasswd: `lvsplay-t${nonce}n` };
const becomePassword = `Pw-${randomBytes(6).toString('hex')}-secret`;
const becomeEnv = `LVSPLAY_TEST_BECOME_${nonce}`;
let sshd: Sshd | undefined;

function server(): Sshd {
  if (sshd === undefined) throw new Error('sshd did not start');
  return sshd;
}

test.before(async () => {
  // Not while the lab's VMs load both cores: the timeouts below are measured in seconds.
  await labHold();
  sshd = await startSshd();
  process.env[becomeEnv] = becomePassword;
  const publicKey = await readFile(`${sshd.clientKeyPath}.pub`, 'utf8');
  for (const [user, rule] of [
    [users.password, 'ALL'],
    [users.nopasswd, 'NOPASSWD: ALL'],
  ] as const) {
    // -l: no lastlog/faillog entries (/var/log is the overlay's all the same).
    await sshd.inside('useradd', ['-l', '-m', '-s', '/bin/sh', user]);
    await sshd.inside('chpasswd', [], `${user}:${becomePassword}\n`);
    await sshd.inside('su', ['-s', '/bin/sh', '-c', 'umask 077 && mkdir -p ~/.ssh && cat > ~/.ssh/authorized_keys', user], publicKey);
    const dropIn = `/etc/sudoers.d/${user}`;
    await sshd.inside('sh', ['-c', 'umask 337 && cat > "$1" && visudo -cf "$1"', 'sh', dropIn], `${user} ALL=(ALL:ALL) ${rule}\n`);
  }
});

test.after.always(async () => {
  await sshd?.stop();
  await labRelease();
});

function settings(overrides: Partial<SshConfig> = {}): SshConfig {
  const s = server();
  return {
    host: '127.0.0.1',
    port: s.port,
    user: 'root',
    identityFile: s.clientKeyPath,
    agent: false,
    knownHosts: [s.knownHostsPath],
    globalKnownHosts: [],
    hostKeyPolicy: 'strict',
    connectTimeoutS: 10,
    commandTimeoutS: 60,
    ...overrides,
  };
}

async function withSsh<T>(ssh: SshConfig, body: (t: SshTransport) => Promise<T>): Promise<T> {
  const transport = await SshTransport.connect('web1', ssh);
  try {
    return await body(transport);
  } finally {
    await transport.close();
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

async function fingerprintOf(publicKeyPath: string): Promise<string> {
  const [, fingerprint] = (await run('ssh-keygen', ['-lf', publicKeyPath])).split(' ');
  return fingerprint ?? '';
}

async function newKey(name: string, passphrase = ''): Promise<string> {
  const path = join(server().dir, name);
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', name, '-f', path]);
  return path;
}

/** Connects (and, if that works, runs a script that would leave a file): must fail with `kind`. */
async function refused(t: ExecutionContext, ssh: SshConfig, kind: TransportError['kind']): Promise<TransportError> {
  const witness = join(server().dir, `ran-${randomBytes(4).toString('hex')}`);
  const err = await t.throwsAsync(withSsh(ssh, (transport) => transport.exec(`touch ${witness}`)), { instanceOf: TransportError });
  t.is(err?.kind, kind, err?.message);
  t.false(await exists(witness), 'nothing ran on the host');
  return err as TransportError;
}

/** Is a TCP socket with this local port one of this process's own file descriptors? */
async function ownsLocalPort(port: number): Promise<boolean> {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const inodes = (await readFile('/proc/net/tcp', 'utf8'))
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => f[1]?.endsWith(`:${hexPort}`))
    .map((f) => `socket:[${f[9]}]`);
  const fds = await readdir('/proc/self/fd');
  const links = await Promise.all(fds.map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')));
  return links.some((link) => inodes.includes(link));
}

/**
 * A script that reports its own argv and whether any process on the machine has the script's
 * text in its argv (the probe string only exists joined in the script's comment).
 */
function argvProbe(): { script: string; expect: string } {
  const tag = randomBytes(6).toString('hex');
  return {
    script: [
      `# lvsplay-argv-probe-${tag}`,
      `A=lvsplay-argv-probe-; B=${tag}`,
      `for f in /proc/[0-9]*/cmdline; do case "$(tr '\\0' ' ' 2>/dev/null < "$f")" in *"$A$B"*) echo "in argv of $f";; esac; done`,
      `tr '\\0' ' ' < /proc/$$/cmdline`,
    ].join('\n'),
    expect: '/bin/sh -s ',
  };
}

// --- exec -------------------------------------------------------------------------------------

test('exec returns stdout, stderr and the exit status; a non-zero status is not an error', async (t) => {
  await withSsh(settings(), async (transport) => {
    t.deepEqual(await transport.exec('echo out; echo err >&2; exit 3'), { code: 3, stdout: 'out\n', stderr: 'err\n' });
    t.deepEqual(await transport.exec('printf "%s" "é ü ✓"'), { code: 0, stdout: 'é ü ✓', stderr: '' });
  });
});

test('a script killed by a signal reports 128 + the signal number', async (t) => {
  await withSsh(settings(), async (transport) => {
    t.is((await transport.exec('kill -KILL $$')).code, 137);
  });
});

test('the script travels on stdin: the shell is `/bin/sh -s` and no argv anywhere holds the script', async (t) => {
  const probe = argvProbe();
  await withSsh(settings(), async (transport) => {
    t.deepEqual(await transport.exec(probe.script), { code: 0, stdout: probe.expect, stderr: '' });
  });
});

test('a multi-megabyte script (heredoc) and multi-megabyte output go through intact', async (t) => {
  const payload = `${'0123456789abcdef'.repeat(8)}\n`.repeat(40_000); // 5.2 MB
  const digest = createHash('sha256').update(payload).digest('hex');
  await withSsh(settings(), async (transport) => {
    const result = await transport.exec(`cat <<'EOF' | sha256sum\n${payload}EOF\nhead -c 8000000 /dev/zero | tr '\\0' y\n`);
    t.is(result.code, 0);
    t.is(result.stdout.slice(0, 64), digest);
    t.is(result.stdout.length, `${digest}  -\n`.length + 8_000_000);
  });
});

test('one connection serves every exec, and execCount counts them', async (t) => {
  await withSsh(settings(), async (transport) => {
    t.is(transport.execCount, 0);
    const seen = [];
    for (let i = 0; i < 3; i++) seen.push((await transport.exec('echo $SSH_CONNECTION')).stdout);
    t.is(transport.execCount, 3);
    t.is(new Set(seen).size, 1);
    const clientPort = seen[0]?.split(' ')[1];
    const log = server().log();
    t.is(log.split(`Accepted publickey for root from 127.0.0.1 port ${clientPort} `).length - 1, 1, 'one login');
    t.is(log.split(`Starting session: command for root from 127.0.0.1 port ${clientPort} `).length - 1, 3, 'three sessions on it');
  });
});

test('a script over its timeout is stopped with kind timeout, killed on the host with what it started, and the connection stays usable', async (t) => {
  const pidFile = join(server().dir, `timeout-${nonce}.pid`);
  await withSsh(settings(), async (transport) => {
    const started = Date.now();
    // 10 s: ample for the shell to start now that no dotfile runs in it (support/sshd.ts: root's
    // .bashrc once held the shell up to 60 s on pyenv's lock), far below the sleep's 300 s.
    const err = await t.throwsAsync(transport.exec(`sleep 300 & echo $! > ${pidFile}; wait`, { timeoutMs: 10_000 }), { instanceOf: TransportError });
    t.is(err?.kind, 'timeout');
    t.regex(err!.message, /did not finish within 10 s and was stopped$/, 'the host answered the order to stop it');
    t.true(Date.now() - started < 40_000);
    t.is((await transport.exec('echo still here')).stdout, 'still here\n');
  });
  // Regression: sshd used to leave the script (and its background sleep) running after a timeout.
  const pid = Number(await readFile(pidFile, 'utf8'));
  // the kill is sent when the timeout fires; on a loaded machine the group may take a moment to go
  for (let i = 0; i < 50 && (await exists(`/proc/${pid}`)); i++) await new Promise((r) => setTimeout(r, 100));
  t.false(await exists(`/proc/${pid}`), 'the background sleep of the timed-out script was killed with its process group (within 5 s)');
});

test('the command timeout of the host settings applies when exec gives none', async (t) => {
  await withSsh(settings({ commandTimeoutS: 0.5 }), async (transport) => {
    // Not `read`: stdin is at its end once the script is in, and read returns at once (this passed
    // only while a slow shell start, root's dotfiles, made every exec take more than 0.5 s).
    const err = await t.throwsAsync(transport.exec('sleep 10'), { instanceOf: TransportError });
    t.is(err?.kind, 'timeout');
  });
});

test('a closed port is unreachable', async (t) => {
  const err = await refused(t, settings({ port: await freePort() }), 'unreachable');
  t.regex(err.message, /ECONNREFUSED/);
});

// --- host keys --------------------------------------------------------------------------------

test('known_hosts: a [127.0.0.1]:PORT entry is accepted', async (t) => {
  await withSsh(settings(), async (transport) => t.is((await transport.exec('echo ok')).stdout, 'ok\n'));
});

test('known_hosts: plain patterns: comma lists and wildcards match, a negated pattern excludes', async (t) => {
  const s = server();
  const listed = join(s.dir, 'kh-list');
  await writeFile(listed, `# comment\n\nother.example,[127.0.0.?]:${s.port} ${s.hostKeyLine} a comment\n`);
  await withSsh(settings({ knownHosts: [listed] }), async (transport) => t.is((await transport.exec('echo ok')).stdout, 'ok\n'));
  const negated = join(s.dir, 'kh-negated');
  await writeFile(negated, `[127.0.0.*]:*,![127.0.0.1]:${s.port} ${s.hostKeyLine}\n`);
  await refused(t, settings({ knownHosts: [negated] }), 'hostkey');
});

test('known_hosts: a hashed entry (ssh-keygen -H) is accepted', async (t) => {
  const s = server();
  const hashed = join(s.dir, 'kh-hashed');
  await writeFile(hashed, `[127.0.0.1]:${s.port} ${s.hostKeyLine}\n`);
  await run('ssh-keygen', ['-q', '-H', '-f', hashed]);
  t.regex(await readFile(hashed, 'utf8'), /^\|1\|/);
  await withSsh(settings({ knownHosts: [hashed] }), async (transport) => t.is((await transport.exec('echo ok')).stdout, 'ok\n'));
});

test('an unknown host key is refused with host, port, key type, fingerprint and file named', async (t) => {
  const s = server();
  const missing = join(s.dir, 'kh-missing');
  const err = await refused(t, settings({ knownHosts: [missing] }), 'hostkey');
  t.is(err.host, 'web1');
  for (const part of ['web1', '127.0.0.1', `port ${s.port}`, 'ssh-ed25519', await fingerprintOf(`${s.hostKeyPath}.pub`), missing]) {
    t.true(err.message.includes(part), `message names ${part}: ${err.message}`);
  }
  t.false(await exists(missing), 'strict mode writes nothing');
});

test('a changed host key is refused, even with accept-new, naming both fingerprints', async (t) => {
  const s = server();
  const other = await newKey('other-host-key');
  const file = join(s.dir, 'kh-changed');
  const recorded = `[127.0.0.1]:${s.port} ${(await readFile(`${other}.pub`, 'utf8')).split(' ').slice(0, 2).join(' ')}\n`;
  await writeFile(file, recorded);
  const err = await refused(t, settings({ knownHosts: [file], hostKeyPolicy: 'accept-new' }), 'hostkey');
  t.regex(err.message, /REMOTE HOST IDENTIFICATION HAS CHANGED/);
  t.true(err.message.includes(await fingerprintOf(`${s.hostKeyPath}.pub`)));
  t.true(err.message.includes(await fingerprintOf(`${other}.pub`)));
  t.is(await readFile(file, 'utf8'), recorded, 'known_hosts left as it was');
});

test('a host recorded with a key of another type, offering only a new type, is refused even with accept-new (OpenSSH: HOST_CHANGED)', async (t) => {
  const s = server();
  const file = join(s.dir, 'kh-other-type');
  await run('ssh-keygen', ['-q', '-t', 'ecdsa', '-N', '', '-C', '', '-f', join(s.dir, 'ecdsa-other')]);
  const recorded = `[127.0.0.1]:${s.port} ${(await readFile(join(s.dir, 'ecdsa-other.pub'), 'utf8')).split(' ').slice(0, 2).join(' ')}\n`;
  await writeFile(file, recorded);
  // Regression: the ed25519 key was accepted and appended, and a become password would have followed.
  const err = await refused(t, settings({ knownHosts: [file], hostKeyPolicy: 'accept-new' }), 'hostkey');
  t.regex(err.message, /REMOTE HOST IDENTIFICATION HAS CHANGED.*records the ecdsa-sha2-nistp256 key/);
  t.is(await readFile(file, 'utf8'), recorded, 'nothing appended');
  // What real OpenSSH says to the same server and file:
  const ssh = spawnSync('ssh', ['-F', '/dev/null', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=accept-new', '-o', `UserKnownHostsFile=${file}`,
    '-o', 'GlobalKnownHostsFile=/dev/null', '-i', s.clientKeyPath, '-p', String(s.port), 'root@127.0.0.1', 'true'], { encoding: 'utf8' });
  t.not(ssh.status, 0);
  t.regex(ssh.stderr, /REMOTE HOST IDENTIFICATION HAS CHANGED/);
});

test('accept-new writes a hashed line when the file already hashes names (as HashKnownHosts)', async (t) => {
  const s = server();
  const file = join(s.dir, 'kh-hash-new');
  await writeFile(file, `other.example ${s.hostKeyLine}\n`);
  await run('ssh-keygen', ['-q', '-H', '-f', file]);
  await withSsh(settings({ knownHosts: [file], hostKeyPolicy: 'accept-new' }), async (transport) => t.is((await transport.exec('echo ok')).stdout, 'ok\n'));
  const lines = (await readFile(file, 'utf8')).trim().split('\n');
  t.is(lines.length, 2);
  t.regex(lines[1]!, /^\|1\|[A-Za-z0-9+/=]+\|[A-Za-z0-9+/=]+ ssh-ed25519 /);
  t.false(lines[1]!.includes('127.0.0.1'));
  const found = await run('ssh-keygen', ['-F', `[127.0.0.1]:${s.port}`, '-f', file]);
  t.regex(found, /ssh-ed25519/, 'OpenSSH finds the hashed line');
  await withSsh(settings({ knownHosts: [file] }), async (transport) => t.is((await transport.exec('echo ok')).stdout, 'ok\n'));
});

test('a @revoked key is refused; a @cert-authority line is not taken for a host key', async (t) => {
  const s = server();
  const revoked = join(s.dir, 'kh-revoked');
  await writeFile(revoked, `@revoked [127.0.0.1]:${s.port} ${s.hostKeyLine}\n[127.0.0.1]:${s.port} ${s.hostKeyLine}\n`);
  t.regex((await refused(t, settings({ knownHosts: [revoked], hostKeyPolicy: 'accept-new' }), 'hostkey')).message, /REVOKED/);
  const ca = join(s.dir, 'kh-ca');
  await writeFile(ca, `@cert-authority [127.0.0.1]:${s.port} ${s.hostKeyLine}\n`);
  t.regex((await refused(t, settings({ knownHosts: [ca] }), 'hostkey')).message, /not known/);
});

test('accept-new records an unknown key as [host]:port, and a strict connect then succeeds', async (t) => {
  const s = server();
  const file = join(s.dir, 'kh-new', 'known_hosts');
  await withSsh(settings({ knownHosts: [file], hostKeyPolicy: 'accept-new' }), async (transport) => t.is((await transport.exec('echo ok')).stdout, 'ok\n'));
  t.is(await readFile(file, 'utf8'), `[127.0.0.1]:${s.port} ${s.hostKeyLine}\n`);
  await withSsh(settings({ knownHosts: [file] }), async (transport) => t.is((await transport.exec('echo ok')).stdout, 'ok\n'));
});

/** What real OpenSSH does with the same server and files: its exit status (0: connected). */
function opensshConnects(s: Sshd, options: string[], target = `root@127.0.0.1`, port = s.port): number | null {
  return spawnSync('ssh', ['-F', '/dev/null', '-o', 'BatchMode=yes', ...options, '-i', s.clientKeyPath, '-p', String(port), target, 'true'], { encoding: 'utf8' }).status;
}

test('the system known_hosts files count as ssh reads them: a key pinned or revoked there is refused even with accept-new, and one recorded there alone is known', async (t) => {
  const s = server();
  const other = await newKey('global-other-key');
  const otherLine = (await readFile(`${other}.pub`, 'utf8')).split(' ').slice(0, 2).join(' ');
  const user = join(s.dir, 'kh-user-empty');
  const pinned = join(s.dir, 'kh-global-pinned');
  await writeFile(pinned, `[127.0.0.1]:${s.port} ${otherLine}\n`);
  // Regression: only the user file was read, so accept-new took the key the system file contradicts.
  const err = await refused(t, settings({ knownHosts: [user], globalKnownHosts: [pinned], hostKeyPolicy: 'accept-new' }), 'hostkey');
  t.regex(err.message, new RegExp(`REMOTE HOST IDENTIFICATION HAS CHANGED.*${pinned}:1`));
  t.false(await exists(user), 'nothing recorded');
  t.not(opensshConnects(s, ['-o', 'StrictHostKeyChecking=accept-new', '-o', `UserKnownHostsFile=${user}`, '-o', `GlobalKnownHostsFile=${pinned}`]), 0, 'ssh refuses it too');
  const revoked = join(s.dir, 'kh-global-revoked');
  await writeFile(revoked, `@revoked * ${s.hostKeyLine}\n`);
  const trusting = join(s.dir, 'kh-user-trusting');
  await writeFile(trusting, `[127.0.0.1]:${s.port} ${s.hostKeyLine}\n`);
  t.regex((await refused(t, settings({ knownHosts: [trusting], globalKnownHosts: [revoked] }), 'hostkey')).message, new RegExp(`REVOKED.*${revoked}:1`));
  t.not(opensshConnects(s, ['-o', `UserKnownHostsFile=${trusting}`, '-o', `GlobalKnownHostsFile=${revoked}`]), 0);
  // A second user file (known_hosts2) and a system file are read as well as the first.
  const known = join(s.dir, 'kh-global-known');
  await writeFile(known, `[127.0.0.1]:${s.port} ${s.hostKeyLine}\n`);
  await withSsh(settings({ knownHosts: [user, known], globalKnownHosts: [] }), async (transport) => t.is((await transport.exec('echo ok')).stdout, 'ok\n'));
  await withSsh(settings({ knownHosts: [user], globalKnownHosts: [known] }), async (transport) => t.is((await transport.exec('echo ok')).stdout, 'ok\n'));
  t.false(await exists(user), 'a known key is not recorded again');
  t.is(opensshConnects(s, ['-o', `UserKnownHostsFile=${user}`, '-o', `GlobalKnownHostsFile=${known}`]), 0);
});

test('a HostKeyAlias is looked up lowercased as ssh lowercases it, ASCII only: K-ALIAS finds k-alias, a Kelvin sign K does not', async (t) => {
  const s = server();
  const file = join(s.dir, 'kh-alias-case');
  await writeFile(file, `k-alias ${s.hostKeyLine}\n`);
  for (const [alias, known] of [['K-ALIAS', true], ['\u212A-alias', false]] as const) {
    const options = ['-o', `UserKnownHostsFile=${file}`, '-o', 'GlobalKnownHostsFile=/dev/null', '-o', 'StrictHostKeyChecking=yes', '-o', `HostKeyAlias=${alias}`];
    t.is(opensshConnects(s, options) === 0, known, `ssh, HostKeyAlias ${alias}`);
    const config = join(s.dir, `ssh_config_alias_${known}`);
    await writeFile(config, `Host 127.0.0.1\n  HostKeyAlias ${alias}\n`);
    const ssh = settings({ knownHosts: [file], configFile: config });
    if (known) await withSsh(ssh, async (transport) => t.is((await transport.exec('echo ok')).stdout, 'ok\n'));
    else t.regex((await refused(t, ssh, 'hostkey')).message, /is not known/);
  }
});

test('on a port other than 22, a host nothing is recorded for as [host]:port is known by its bare name\'s key, as ssh ("found matching key w/out port"); another key there is a new host', async (t) => {
  const s = server();
  const bare = join(s.dir, 'kh-bare');
  await writeFile(bare, `127.0.0.1 ${s.hostKeyLine}\n`);
  await withSsh(settings({ knownHosts: [bare] }), async (transport) => t.is((await transport.exec('echo ok')).stdout, 'ok\n'));
  t.is(opensshConnects(s, ['-o', `UserKnownHostsFile=${bare}`, '-o', 'GlobalKnownHostsFile=/dev/null']), 0);
  const other = await newKey('bare-other-key');
  const otherBare = join(s.dir, 'kh-bare-other');
  const recorded = `127.0.0.1 ${(await readFile(`${other}.pub`, 'utf8')).split(' ').slice(0, 2).join(' ')}\n`;
  await writeFile(otherBare, recorded);
  t.regex((await refused(t, settings({ knownHosts: [otherBare] }), 'hostkey')).message, /is not known/);
  await withSsh(settings({ knownHosts: [otherBare], hostKeyPolicy: 'accept-new' }), async (transport) => t.is((await transport.exec('echo ok')).stdout, 'ok\n'));
  t.is(await readFile(otherBare, 'utf8'), `${recorded}[127.0.0.1]:${s.port} ${s.hostKeyLine}\n`, 'recorded as [host]:port, as ssh does');
});

test('on a port other than 22, @revoked lines for other keys under [host]:port pin nothing: the bare name\'s key is still found, as ssh\'s HOST_NEW falls back to it', async (t) => {
  const s = server();
  const other = await newKey('port-revoked-other-key');
  const file = join(s.dir, 'kh-port-revoked-other');
  const text = `@revoked [127.0.0.1]:${s.port} ${(await readFile(`${other}.pub`, 'utf8')).split(' ').slice(0, 2).join(' ')}\n127.0.0.1 ${s.hostKeyLine}\n`;
  await writeFile(file, text);
  t.is(opensshConnects(s, ['-o', `UserKnownHostsFile=${file}`, '-o', 'GlobalKnownHostsFile=/dev/null']), 0, 'ssh connects');
  await withSsh(settings({ knownHosts: [file] }), async (transport) => t.is((await transport.exec('echo ok')).stdout, 'ok\n'));
  await withSsh(settings({ knownHosts: [file], hostKeyPolicy: 'accept-new' }), async (transport) => t.is((await transport.exec('echo ok')).stdout, 'ok\n'));
  t.is(await readFile(file, 'utf8'), text, 'known, so nothing recorded');
});

test('lines ssh cannot parse are skipped as ssh skips them: a truncated key, a key under another type\'s name, fields split by a no-break space', async (t) => {
  const s = server();
  const [type, base64] = s.hostKeyLine.split(' ') as [string, string];
  const lines = [
    `[127.0.0.1]:${s.port} ${type} ${base64.slice(0, 40)}`, // cut short
    `[127.0.0.1]:${s.port} ssh-rsa ${base64}`, // an ed25519 blob labelled RSA
    `[127.0.0.1]:${s.port}\u00a0${type}\u00a0${base64}`, // not a field separator for ssh
  ];
  for (const line of lines) {
    const file = join(s.dir, `kh-unparsable-${randomBytes(3).toString('hex')}`);
    await writeFile(file, `${line}\n`);
    const sshAccepts = opensshConnects(s, ['-o', `UserKnownHostsFile=${file}`, '-o', 'GlobalKnownHostsFile=/dev/null']) === 0;
    t.false(sshAccepts, `ssh does not take ${JSON.stringify(line.slice(0, 60))} for a key`);
    t.regex((await refused(t, settings({ knownHosts: [file] }), 'hostkey')).message, /is not known/, 'nothing recorded: not known (never "changed", never accepted)');
  }
});

test('an ssh config HostKeyAlias is the name the key is checked and recorded under, as ssh; HostName %h is the name given', async (t) => {
  const s = server();
  const config = join(s.dir, 'ssh_config_alias');
  await writeFile(config, `Host lvsplay-kalias2\n  HostName 127.0.0.1\n  Port ${s.port}\n  HostKeyAlias pinned-name\n\n# %h is the name given: 127.0.0 + .1 (an address: no name is looked up)\nHost 127.0.0\n  HostName %h.1\n  Port ${s.port}\n`);
  const other = await newKey('alias-other-key');
  const pinnedOther = join(s.dir, 'kh-alias-other');
  await writeFile(pinnedOther, `pinned-name ${(await readFile(`${other}.pub`, 'utf8')).split(' ').slice(0, 2).join(' ')}\n[127.0.0.1]:${s.port} ${s.hostKeyLine}\n`);
  // Regression: the alias was ignored and the [127.0.0.1]:port line let in a key pinned otherwise.
  const viaAlias = (knownHosts: string, policy: SshConfig['hostKeyPolicy'] = 'strict') => settings({ host: 'lvsplay-kalias2', port: 22, configFile: config, knownHosts: [knownHosts], hostKeyPolicy: policy });
  t.regex((await refused(t, viaAlias(pinnedOther, 'accept-new'), 'hostkey')).message, /HAS CHANGED.*known as pinned-name/);
  const fresh = join(s.dir, 'kh-alias-new');
  await withSsh(viaAlias(fresh, 'accept-new'), async (transport) => t.is((await transport.exec('echo ok')).stdout, 'ok\n'));
  t.is(await readFile(fresh, 'utf8'), `pinned-name ${s.hostKeyLine}\n`, 'recorded under the alias, without the port');
  await withSsh(viaAlias(fresh), async (transport) => t.is((await transport.exec('echo ok')).stdout, 'ok\n'));
  // ssh itself, with the same config and file:
  t.is(spawnSync('ssh', ['-F', config, '-o', 'BatchMode=yes', '-o', `UserKnownHostsFile=${fresh}`, '-o', 'GlobalKnownHostsFile=/dev/null', '-i', s.clientKeyPath, 'root@lvsplay-kalias2', 'true']).status, 0);
  // Regression: "%h.1" was taken as the host name itself.
  await withSsh(settings({ host: '127.0.0', port: 22, configFile: config }), async (transport) => t.is((await transport.exec('echo ok')).stdout, 'ok\n'));
});

// --- authentication ---------------------------------------------------------------------------

test('an identity file with a passphrase from an environment variable', async (t) => {
  const passphrase = `pass-${randomBytes(6).toString('hex')}`;
  const key = await newKey('encrypted', passphrase);
  await server().authorize(await readFile(`${key}.pub`, 'utf8'));
  const env = `LVSPLAY_TEST_PASSPHRASE_${nonce}`;
  process.env[env] = passphrase;
  await withSsh(settings({ identityFile: key, identityPassphraseEnv: env }), async (transport) => t.is((await transport.exec('id -u')).stdout, '0\n'));

  const missing = await refused(t, settings({ identityFile: key, identityPassphraseEnv: `${env}_UNSET` }), 'auth');
  t.regex(missing.message, /_UNSET is not set/);
  const wrongEnv = `${env}_WRONG`;
  process.env[wrongEnv] = 'not-the-passphrase';
  const wrong = await refused(t, settings({ identityFile: key, identityPassphraseEnv: wrongEnv }), 'auth');
  t.true(wrong.message.includes(key));
  t.false(wrong.message.includes('not-the-passphrase'));
});

test('an identity file is read and decrypted once per run: a later host connects with the key in memory after the file is gone', async (t) => {
  // bcrypt_pbkdf makes each decryption of an encrypted key cost ~0.25 s of the control's CPU: once
  // per host (twice, before) would be minutes at fleet size
  const passphrase = `pass-${randomBytes(6).toString('hex')}`;
  const key = await newKey('once', passphrase);
  await server().authorize(await readFile(`${key}.pub`, 'utf8'));
  const env = `LVSPLAY_TEST_ONCE_${nonce}`;
  process.env[env] = passphrase;
  const ssh = settings({ identityFile: key, identityPassphraseEnv: env });
  await withSsh(ssh, async (transport) => t.is((await transport.exec('echo first')).stdout, 'first\n'));
  await rename(key, `${key}.moved`);
  await withSsh(ssh, async (transport) => t.is((await transport.exec('echo second')).stdout, 'second\n'));
  // another file is another identity: read when first used
  const err = await refused(t, settings({ identityFile: `${key}-missing` }), 'auth');
  t.regex(err.message, /cannot read identity file .*-missing: ENOENT/);
});

test('a public key given as the identity file fails with kind auth, saying it holds no private key', async (t) => {
  const key = await newKey('public-only');
  const err = await refused(t, settings({ identityFile: `${key}.pub` }), 'auth');
  t.regex(err.message, /identity file .*public-only\.pub: it holds no private key/);
});

test('a key the server does not accept fails with kind auth', async (t) => {
  const stranger = await newKey('stranger');
  const err = await refused(t, settings({ identityFile: stranger }), 'auth');
  t.true(err.message.includes(`identity file ${stranger}`), err.message);
});

test('ssh-agent alone (a socket path) authenticates', async (t) => {
  const socket = join(server().dir, `agent-${nonce}.sock`);
  const agent = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' });
  try {
    for (let i = 0; i < 100 && !(await exists(socket)); i++) await new Promise((r) => setTimeout(r, 50));
    await run('ssh-add', ['-q', server().clientKeyPath], { env: { ...process.env, SSH_AUTH_SOCK: socket } });
    const { identityFile: _, ...withoutKey } = settings({ agent: socket });
    await withSsh(withoutKey, async (transport) => t.is((await transport.exec('id -u')).stdout, '0\n'));
  } finally {
    if (agent.pid !== undefined) process.kill(agent.pid, 'SIGTERM');
  }
});

test('an ssh config file supplies HostName, Port, User and IdentityFile for a Host alias', async (t) => {
  const s = server();
  const config = join(s.dir, 'ssh_config');
  await writeFile(config, `Host lvsplay-alias\n  HostName 127.0.0.1\n  Port ${s.port}\n  User ${users.nopasswd}\n  IdentityFile ${s.clientKeyPath}\n\nHost *\n  User nobody\n`);
  const { identityFile: _, ...ssh } = settings({ host: 'lvsplay-alias', port: 22, user: 'root', configFile: config });
  await withSsh(ssh, async (transport) => t.is((await transport.exec('id -un')).stdout, `${users.nopasswd}\n`));
  // What the inventory sets explicitly wins over the file.
  await withSsh({ ...ssh, user: users.password }, async (transport) => t.is((await transport.exec('id -un')).stdout, `${users.password}\n`));
});

test('an IdentityFile from the ssh config is the file ssh loads: none skipped, its %-tokens and ${VARIABLES} expanded', async (t) => {
  const s = server();
  const config = join(s.dir, 'ssh_config_tokens');
  const key = join(s.dir, `key-127.0.0.1-${s.port}-root-lvsplay-idtok`);
  await copyFile(s.clientKeyPath, key);
  await chmod(key, 0o600);
  process.env['LVSPLAY_TEST_KEYS'] = s.dir;
  await writeFile(config, `Host lvsplay-idtok\n  HostName 127.0.0.1\n  Port ${s.port}\n  IdentityFile none\n  IdentityFile \${LVSPLAY_TEST_KEYS}/key-%h-%p-%r-%n\n`);
  const { SSH_AUTH_SOCK: _agent, ...env } = process.env;
  const verbose = spawnSync('ssh', ['-v', '-F', config, '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', '-o', `UserKnownHostsFile=${s.knownHostsPath}`, '-o', 'GlobalKnownHostsFile=/dev/null', 'lvsplay-idtok', 'true'], { encoding: 'utf8', env });
  t.regex(verbose.stderr, new RegExp(`identity file ${key.replace(/[.]/g, '\\.')} type`), 'ssh loads that file');
  t.is(verbose.status, 0, 'and logs in with it');
  const { identityFile: _, ...ssh } = settings({ host: 'lvsplay-idtok', port: 22, configFile: config });
  await withSsh(ssh, async (transport) => t.is((await transport.exec('echo ok')).stdout, 'ok\n'));
  await writeFile(config, `Host lvsplay-idtok\n  HostName 127.0.0.1\n  Port ${s.port}\n  IdentityFile ${s.dir}/key-%z\n`);
  t.regex((await refused(t, ssh, 'unreachable')).message, /IdentityFile .*key-%z: unknown token %z/);
});

// --- jump host --------------------------------------------------------------------------------

test('a jump host carries the connection to the target (the target socket is not ours)', async (t) => {
  const s = server();
  const portOf = async (transport: SshTransport) => Number((await transport.exec('echo $SSH_CONNECTION')).stdout.split(' ')[1]);
  await withSsh(settings(), async (direct) => t.true(await ownsLocalPort(await portOf(direct)), 'a direct connection is our socket'));
  await withSsh(settings({ jump: { host: '127.0.0.1', port: s.port, user: 'root' } }), async (viaJump) => {
    t.false(await ownsLocalPort(await portOf(viaJump)), 'through the jump, sshd opened the socket');
    t.is((await viaJump.exec('echo ok')).stdout, 'ok\n');
  });
});

test('a ProxyJump from the ssh config file is used', async (t) => {
  const s = server();
  const config = join(s.dir, 'ssh_config_jump');
  await writeFile(config, `Host lvsplay-behind\n  HostName 127.0.0.1\n  Port ${s.port}\n  ProxyJump root@127.0.0.1:${s.port}\n`);
  await withSsh(settings({ host: 'lvsplay-behind', port: 22, configFile: config }), async (transport) => {
    t.false(await ownsLocalPort(Number((await transport.exec('echo $SSH_CONNECTION')).stdout.split(' ')[1])));
  });
});

test('a jump host that may not forward leaves the target unreachable', async (t) => {
  const key = await newKey('no-forwarding');
  await server().authorize(`no-port-forwarding ${await readFile(`${key}.pub`, 'utf8')}`);
  const err = await refused(t, settings({ jump: { host: '127.0.0.1', port: server().port, user: 'root', identityFile: key } }), 'unreachable');
  t.regex(err.message, /jump host cannot reach/);
});

// --- become -----------------------------------------------------------------------------------

/** Everything a caller could ever see of a transport, its results and its errors. */
function visible(...things: unknown[]): string {
  return things.map((x) => (x instanceof Error ? `${x.message}\n${x.stack}\n${inspect(x, { depth: 5 })}` : inspect(x, { depth: 5 }))).join('\n');
}

test('become: sudo with a password from an env var runs as root; the password is shown nowhere', async (t) => {
  const probe = argvProbe();
  const payload = 'z'.repeat(2_000_000);
  const ssh = settings({ user: users.password, become: { method: 'sudo', user: 'root', passwordEnv: becomeEnv } });
  await withSsh(ssh, async (transport) => {
    const results = [
      await transport.exec('id -u; echo to-stderr >&2'),
      await transport.exec(probe.script),
      await transport.exec(`cat <<'EOF' | wc -c\n${payload}\nEOF\n`),
      await transport.exec('id -u; exit 4'),
    ];
    t.deepEqual(results[0], { code: 0, stdout: '0\n', stderr: 'to-stderr\n' });
    t.deepEqual(results[1], { code: 0, stdout: probe.expect, stderr: '' });
    t.is(results[2]?.stdout, `${payload.length + 1}\n`);
    t.deepEqual(results[3], { code: 4, stdout: '0\n', stderr: '' });
    t.false(visible(results, transport, server().log()).includes(becomePassword));
  });
});

test('become: the password may come from a file', async (t) => {
  const file = join(server().dir, `become-${nonce}`);
  await writeFile(file, `${becomePassword}\n`, { mode: 0o600 });
  const ssh = settings({ user: users.password, become: { method: 'sudo', user: 'root', passwordFile: file } });
  await withSsh(ssh, async (transport) => t.deepEqual(await transport.exec('id -u'), { code: 0, stdout: '0\n', stderr: '' }));
});

test('become: a wrong password fails with kind become (the host failed; it is not unreachable), runs nothing, and shows no password', async (t) => {
  const env = `${becomeEnv}_WRONG`;
  const wrongPassword = `Wrong-${randomBytes(6).toString('hex')}`;
  process.env[env] = wrongPassword;
  const ssh = settings({ user: users.password, become: { method: 'sudo', user: 'root', passwordEnv: env } });
  const witness = join('/tmp', `lvsplay-become-${nonce}`);
  await withSsh(ssh, async (transport) => {
    const err = await t.throwsAsync(transport.exec(`touch ${witness}`), { instanceOf: TransportError });
    t.is(err?.kind, 'become');
    t.regex(err?.message ?? '', /did not accept the become password/);
    t.false(visible(err, transport).includes(wrongPassword));
    t.false(visible(err, transport).includes(becomePassword));
  });
  t.false(await exists(witness));
});

test('become: sudo wanting a password when none is configured fails with kind become, runs nothing', async (t) => {
  const witness = join('/tmp', `lvsplay-become-none-${nonce}`);
  await withSsh(settings({ user: users.password, become: { method: 'sudo', user: 'root' } }), async (transport) => {
    const err = await t.throwsAsync(transport.exec(`touch ${witness}`), { instanceOf: TransportError });
    t.is(err?.kind, 'become');
    t.regex(err?.message ?? '', /no password_env or password_file/);
  });
  t.false(await exists(witness));
});

test('become: with NOPASSWD the configured password is neither sent nor run as a command', async (t) => {
  const ssh = settings({ user: users.nopasswd, become: { method: 'sudo', user: 'root', passwordEnv: becomeEnv } });
  await withSsh(ssh, async (transport) => {
    const results = [await transport.exec('id -u'), await transport.exec('cat')];
    t.deepEqual(results[0], { code: 0, stdout: '0\n', stderr: '' });
    // The script's own stdin is the rest of the script: nothing (no password) precedes it.
    t.deepEqual(results[1], { code: 0, stdout: '', stderr: '' });
    t.false(visible(results, transport).includes(becomePassword));
  });
});
