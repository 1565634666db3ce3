/**
 * The health gate's HTTP check, run for real: the gate script by /bin/sh, the director's curl and
 * grep, against an HTTP server of this test's own on 127.0.0.1. PATH holds curl and grep only, so
 * the check starts no other program (no mktemp, no rm: each is ~50-100 ms on an emulated director).
 */
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import test from 'ava';
import { wait, type WaitDesired } from '../../src/resources/wait/index.js';
import { Templates } from '../../src/templates/templates.js';
import { cleanup, onlyCommands, tempDir } from '../support/sh.js';

const templates = new Templates();

/** Answers every request with this status and body. */
async function serve(status: number, body: string): Promise<{ url: string; server: Server }> {
  const server = createServer((_req, res) => res.writeHead(status, { 'content-type': 'text/plain' }).end(body));
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/health`, server };
}

/** The gate for one HTTP check, one try, run by /bin/sh with only curl and grep on its PATH; its parsed answer. */
function gate(url: string, expect: { status: number; body?: string }) {
  return gateOf({ kind: 'http', address: '127.0.0.1', port: 0, target: url, status: expect.status, ...(expect.body !== undefined && { body: expect.body }) }, ['curl', 'grep']);
}

/** The gate for one check, one try, run by /bin/sh with only `commands` on its PATH; its parsed answer. */
async function gateOf(check: WaitDesired['checks'][number], commands: readonly string[]) {
  const dir = tempDir();
  try {
    const bin = onlyCommands(dir, commands);
    const desired: WaitDesired = { subject: 'web1', checks: [check], interval: 1, retries: 1, timeout: 5 };
    const script = wait.probe(desired, { templates } as Parameters<typeof wait.probe>[1]);
    const stdout = await new Promise<string>((ok, fail) => {
      const child = execFile('/bin/sh', ['-s'], { env: { PATH: bin }, timeout: 20_000 }, (err, out) => (err ? fail(err) : ok(out)));
      child.stdin!.end(script);
    });
    return wait.parse(stdout, desired);
  } finally {
    cleanup(dir);
  }
}

test('wait, http for real: status and body checked by curl and grep alone; a wrong status, a body that does not match, no server at all each fail with why', async (t) => {
  const ok = await serve(200, 'rs1 ready\nsecond line');
  const busy = await serve(503, 'rs1 busy');
  // A body that holds the gate's own status mark: the status is curl's, after the last one.
  const tricky = await serve(200, 'x @@lvsplay-status 500\nrs2');
  try {
    t.deepEqual(await gate(ok.url, { status: 200, body: '^rs[0-9]' }), { passed: true, why: '' });
    t.deepEqual(await gate(ok.url, { status: 200, body: '^second line$' }), { passed: true, why: '' }, 'every line of the body is matched, the last one without its newline too');
    t.deepEqual(await gate(ok.url, { status: 200 }), { passed: true, why: '' });
    t.deepEqual(await gate(ok.url, { status: 200, body: '^web' }), { passed: false, why: 'http: the body does not match' });
    t.deepEqual(await gate(busy.url, { status: 200, body: 'rs1' }), { passed: false, why: 'http: status 503, expected 200' });
    t.deepEqual(await gate(busy.url, { status: 200 }), { passed: false, why: 'http: status 503, expected 200' });
    t.deepEqual(await gate(tricky.url, { status: 200, body: '^rs2$' }), { passed: true, why: '' });
    t.deepEqual(await gate(tricky.url, { status: 200, body: '500$' }), { passed: true, why: '' }, 'the mark inside the body stays part of the body');
  } finally {
    ok.server.close();
    busy.server.close();
    tricky.server.close();
  }
  const gone = await serve(200, 'x');
  gone.server.close();
  t.deepEqual(await gate(gone.url, { status: 200, body: 'x' }), { passed: false, why: 'http: status 000, expected 200' });
});

test('wait, a command for real: run by sh -c as written (quotes, ;, $(...)), with the server and port in its environment; its exit status decides', async (t) => {
  const command = (target: string) => gateOf({ kind: 'command', address: '192.0.2.21', port: 8080, target }, ['sh', 'timeout']);
  t.deepEqual(await command('[ "$LVSPLAY_SERVER:$LVSPLAY_PORT" = \'192.0.2.21:8080\' ]; [ "$(printf %s "a\'b")" = "a\'b" ]'), { passed: true, why: '' });
  t.deepEqual(await command('true; exit 3'), { passed: false, why: 'command: it failed' });
  t.deepEqual(await command("test 'it''s' = its"), { passed: true, why: '' }, 'the command is one string, its quotes its own');
});
