// What reaches the host's shell: a script cut short on the way runs nothing, and a script whose
// connection is gone finishes (the shell lvsplay starts ignores SIGPIPE and SIGHUP). Both through a
// real /bin/sh started as lvsplay starts it, no SSH needed to see the shell's side.
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { launch } from '../../src/transport/become.js';
import { wholeOrNothing } from '../../src/transport/run-script.js';

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
    const { argv } = launch(undefined, undefined);
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'ignore'] });
    // the reader goes away (as sshd's end of the pipe does), then the script writes, then finishes
    child.stdin.end(wholeOrNothing(`sleep 0.3\necho lost\necho lost again\nprintf finished > '${done}'\n`));
    child.stdout.destroy();
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    t.is(readFileSync(done, 'utf8'), 'finished', `the script ran to its end (exit ${code})`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
