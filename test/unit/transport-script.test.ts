// What reaches the host's shell: a script cut short on the way runs nothing, and a script whose
// connection is gone finishes (the shell lvsplay starts ignores SIGPIPE and SIGHUP). Both through a
// real /bin/sh started as lvsplay starts it, no SSH needed to see the shell's side.
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { launch, type GateIo } from '../../src/transport/become.js';
import { exitStatus, runScript, wholeOrNothing } from '../../src/transport/run-script.js';

const SCRIPT = `echo one
cat <<'EOF'
two
EOF
echo three
`;

test('a script cut at any byte runs none of its commands; the whole one runs all', (t) => {
  const sent = wholeOrNothing(SCRIPT);
  // every cut short of the last command's end, or of the closing brace: the script is not all there
  const whole = Math.max(sent.indexOf('echo three') + 'echo three'.length, sent.lastIndexOf('}'));
  for (let cut = 0; cut < whole; cut++) {
    const r = spawnSync('/bin/sh', ['-s'], { input: sent.slice(0, cut), encoding: 'utf8' });
    t.is(r.stdout, '', `cut after ${cut} bytes: ${JSON.stringify(sent.slice(0, cut))}`);
  }
  t.is(spawnSync('/bin/sh', ['-s'], { input: sent, encoding: 'utf8' }).stdout, 'one\ntwo\nthree\n');
  // a script without its last newline is still one group
  t.is(spawnSync('/bin/sh', ['-s'], { input: wholeOrNothing('echo a; exit 3'), encoding: 'utf8' }).stdout, 'a\n');
});

test('the script goes on when its output has nowhere to go (connection lost): it runs to its end', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lvsplay-sigpipe-'));
  const done = path.join(dir, 'done');
  try {
    const { child, running } = runLocally(`sleep 0.3\necho lost\necho lost again\nprintf finished > '${done}'\n`);
    // the reader goes away (as sshd's end of the pipe does), then the script writes, then finishes
    child.stdout.destroy();
    const code = await running.then((r) => r.code, (err: Error) => err.message);
    t.is(readFileSync(done, 'utf8'), 'finished', `the script ran to its end (exit ${code})`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const unused: GateIo = {
  writePassword: () => {
    throw new Error('no password was asked for');
  },
  startScript: () => {
    throw new Error('not expected here');
  },
  giveUp: () => {
    throw new Error('not expected here');
  },
};

test('without become the script is written at once, the marker its first line: no wrapper shell, no wait for the host', (t) => {
  const { argv, gate } = launch(undefined, undefined);
  t.deepEqual(argv, ['/bin/sh', '-s'], 'the session command is the script shell itself');
  const leads: string[] = [];
  gate.begin({ ...unused, startScript: (lead) => leads.push(lead) });
  t.is(leads.length, 1, 'written before the host said anything');
  const marker = /printf '%s %s\\n' (lvsplay-shell-[0-9a-f]+) "\$\$" >&2/.exec(leads[0]!)?.[1];
  t.truthy(marker, leads[0]);
  t.regex(leads[0]!, /^trap '' HUP PIPE; /, 'SIGHUP and SIGPIPE ignored before anything else runs');
  // the marker then opens the gate without writing the script again
  t.is(gate.feed(`rc noise\n${marker} 4242\nthe script's own\n`, unused), "the script's own\n");
  t.true(gate.opened);
  t.is(gate.pid, 4242);
});

test('with become the script waits for the marker: sudo reads the same stdin first', (t) => {
  const { argv, gate } = launch({ method: 'sudo', user: 'root' }, 'pw');
  t.is(argv[0], 'sudo');
  const calls: string[] = [];
  const io: GateIo = { writePassword: (p) => calls.push(`password ${p.trim()}`), startScript: (lead) => calls.push(`script [${lead}]`), giveUp: () => calls.push('give up') };
  gate.begin(io);
  t.deepEqual(calls, [], 'nothing written before the host asks');
  const prompt = argv[argv.indexOf('-p') + 1]!;
  gate.feed(prompt, io);
  t.deepEqual(calls, ['password pw']);
  const marker = /(lvsplay-shell-[0-9a-f]+)/.exec(argv.at(-1)!)?.[1];
  gate.feed(`${marker} 77\n`, io);
  t.deepEqual(calls, ['password pw', 'script []']);
  t.is(gate.pid, 77);
});

test('a script run as lvsplay starts it reports its output, its status and its own PID', async (t) => {
  const { child, gate, running } = runLocally('echo out; echo err >&2; exit 3');
  t.deepEqual(await running, { code: 3, stdout: 'out\n', stderr: 'err\n' });
  t.is(gate.pid, child.pid, 'the PID a timeout kills is the shell that ran the script');
});

/** `script` through runScript, in a local shell started as lvsplay starts one over SSH (no become). */
function runLocally(script: string) {
  const { argv, gate } = launch(undefined, undefined);
  const child = spawn(argv[0]!, argv.slice(1), { stdio: 'pipe' });
  const exited = new Promise<number>((resolve) => child.on('close', (code, signal) => resolve(exitStatus(code, signal))));
  const running = runScript({ stdin: child.stdin, stdout: child.stdout, stderr: child.stderr, exited, kill: async () => child.kill() }, script, gate, 'local', 10_000);
  return { child, gate, running };
}
