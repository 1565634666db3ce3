// Rollouts on the lab (issue 9), under a client's live load through the DR web VIP: the lab's
// rolling restart (test/lab/rollout.yml) drops no request with keep-alive off or on; a failed
// health gate stops the rollout with that server drained and the other serving, and the re-run
// resumes; `lvsplay status` sees the load and a hand-made weight; a real server removed from the
// inventory while a client holds a connection to it is drained, then deleted once it ends.
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { loadInventory } from '../../src/inventory/load.js';
import { SshTransport } from '../../src/transport/ssh.js';
import { INVENTORY_FILE, LAB_DIR, LAB_SCRIPTS, labRelease, labUp, netnsExec } from '../lab/lab.js';
import { BOOTSTRAP, bootstrapped, cli, eventually, inventoryWith, type Load, onHost, underLoad } from './support/lab-cli.js';

const ROLLOUT = path.join(LAB_SCRIPTS, 'rollout.yml');
const work = mkdtempSync(path.join(tmpdir(), 'lvsplay-rollout-'));
const WEB = '192.0.2.10:80';
const SERVERS = { rs1: '192.0.2.21', rs2: '192.0.2.22' } as const;
const rolloutId = (what: string) => `${what}-${process.pid}-${Date.now()}`;


test.before(async () => {
  await labUp();
  await bootstrapped();
});

test.after.always(async () => {
  rmSync(work, { recursive: true, force: true });
  await labRelease();
});

/** The weight of each web real server in lb1's table, sampled every 200 ms while `during` runs. */
async function sampled<T>(during: () => Promise<T>): Promise<{ result: T; samples: Record<string, number | undefined>[] }> {
  const lb1 = loadInventory(INVENTORY_FILE).hosts.get('lb1')!;
  const transport = await SshTransport.connect(lb1.name, lb1.ssh);
  const samples: Record<string, number | undefined>[] = [];
  let done = false;
  const sampling = (async () => {
    while (!done) {
      const table = (await transport.exec('ipvsadm -S -n')).stdout;
      samples.push(Object.fromEntries(Object.entries(SERVERS).map(([name, ip]) => [name, weightIn(table, ip)])));
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  try {
    return { result: await during(), samples };
  } finally {
    done = true;
    await sampling;
    await transport.close();
  }
}

function weightIn(saved: string, ip: string): number | undefined {
  const m = new RegExp(`^-a -t ${WEB.replace(/\./g, '\\.')} -r ${ip.replace(/\./g, '\\.')}:80 -g -w (\\d+)$`, 'm').exec(saved);
  return m ? Number(m[1]) : undefined;
}

/** The client's HTTP loop through the web VIP (test/lab/http-load.py) while `during` runs. */

const httpdPid = (name: string) => readFileSync(path.join(LAB_DIR, 'pids', `${name}.httpd`), 'utf8').trim();
const lb1Weights = async () => {
  const table = await onHost('lb1', 'ipvsadm -S -n');
  return Object.fromEntries(Object.entries(SERVERS).map(([name, ip]) => [name, weightIn(table, ip)]));
};

function reportLoad(t: import('ava').ExecutionContext, load: Load) {
  t.log(`${load.requests} requests, ${load.failures} failed, largest gap between answers ${load.largest_gap_ms} ms, answers ${JSON.stringify(load.servers)}`);
  t.deepEqual(load.errors, []);
  t.is(load.failures, 0);
  t.true(load.requests >= 50, `only ${load.requests} requests`);
}

for (const keepAlive of [false, true]) {
  test.serial(`the lab's rolling restart under load (keep-alive ${keepAlive ? 'on' : 'off'}): every web server drained, restarted, gated and back; 0 failed requests`, async (t) => {
    const before = { rs1: httpdPid('rs1'), rs2: httpdPid('rs2') };
    const id = rolloutId(keepAlive ? 'ka' : 'plain');
    const { result: { result: run, samples }, load } = await underLoad(`http://${WEB.split(':')[0]}/`, { keepAlive }, () => sampled(() => cli(['apply', '-i', INVENTORY_FILE, ROLLOUT, '-e', `rollout=${id}`])));
    t.is(run.code, 0, run.stdout + run.stderr);
    t.regex(run.stdout, /rs1 +: ok=1 +changed=3 +unreachable=0 +failed=0/, 'drain, restart and undrain changed; the gate only looks');
    reportLoad(t, load);
    t.deepEqual(Object.keys(load.servers).sort(), ['rs1', 'rs2'], 'both served during the rollout');
    for (const name of ['rs1', 'rs2'] as const) {
      t.not(httpdPid(name), before[name], `${name}'s web server was restarted`);
      t.true(samples.some((s) => s[name] === 0), `${name} went to weight 0 on lb1`);
    }
    t.false(samples.some((s) => s.rs1 === 0 && s.rs2 === 0), 'never both out of rotation (serial: 1)');
    t.deepEqual(await lb1Weights(), { rs1: 1, rs2: 1 }, 'both back at their inventory weight');
    t.log(`weights on lb1 seen: ${[...new Set(samples.map((s) => `${s.rs1}/${s.rs2}`))].join(' → ')}`);

    const again = await cli(['apply', '-i', INVENTORY_FILE, ROLLOUT, '-e', `rollout=${id}`]);
    t.is(again.code, 0);
    t.regex(again.stdout, /rs1 +: ok=\d+ +changed=0 +unreachable=0 +failed=0/, 'the same rollout again: done already');
    t.regex(again.stdout, /rs2 +: ok=\d+ +changed=0 +unreachable=0 +failed=0/);
  });
}

test.serial('a failed health gate: that server stays drained, the rollout stops (max_fail_percentage 0), the other keeps serving; the re-run resumes it from the gate', async (t) => {
  // The same rollout, but its gate expects rs2's answer: rs1 (first) is restarted and then fails it.
  const strict = parse(readFileSync(ROLLOUT, 'utf8')) as Record<string, any>[];
  strict[0]!['tasks'].find((task: Record<string, any>) => task['wait'])['wait'] = { http: { path: '/', body: '^rs2' }, retries: 2, interval: 1 };
  const strictFile = path.join(work, 'rollout-strict.yml');
  writeFileSync(strictFile, stringify(strict));
  const templates = ['--templates', path.join(LAB_SCRIPTS, 'templates')];
  const id = rolloutId('gate');
  const { result: failed, load } = await underLoad(`http://${WEB.split(':')[0]}/`, {}, () => cli(['apply', '-i', INVENTORY_FILE, strictFile, ...templates, '-e', `rollout=${id}`, '--json']));
  t.is(failed.code, 2, failed.stdout + failed.stderr);
  reportLoad(t, load);
  const status = Object.fromEntries(failed.json!.results.map((r) => [r.host, r.status]));
  t.is(status['rs1'], 'failed');
  t.not(status['rs2'], 'changed', 'the rollout stopped before rs2');
  t.deepEqual(await lb1Weights(), { rs1: 0, rs2: 1 }, 'rs1 stays drained, rs2 serves');
  // (ldirectord's checks may still be bringing the restarted server back in its own service)
  const st = await eventually('status with ldirectord settled', () => cli(['status', '-i', INVENTORY_FILE, '--json']), (r) => r.code === 0, 30_000);
  const web = (JSON.parse(st.stdout) as { directors: { director: string; services: { key: string; dests: { server?: string; state: string }[] }[] }[] })
    .directors.find((d) => d.director === 'lb1')!.services.find((s) => s.key === `tcp ${WEB}`)!;
  t.is(web.dests.find((d) => d.server === 'rs1')?.state, 'drained', 'status shows it drained');
  t.is(st.code, 0, 'drained is not a difference');

  const pid = httpdPid('rs1');
  const resumed = await cli(['apply', '-i', INVENTORY_FILE, ROLLOUT, '-e', `rollout=${id}`, '--json']);
  t.is(resumed.code, 0, resumed.stdout + resumed.stderr);
  t.is(httpdPid('rs1'), pid, 'rs1 was not restarted again: its change was done');
  t.deepEqual(await lb1Weights(), { rs1: 1, rs2: 1 });
  t.deepEqual(resumed.json!.results.map((r) => `${r.host} ${r.status}`).sort(), ['rs1 changed', 'rs2 changed']);
});

test.serial('status under load: the counters grow; a weight changed by hand is flagged (exit 3) until bootstrap puts it back', async (t) => {
  const webOf = (stdout: string) =>
    (JSON.parse(stdout) as { directors: { director: string; services: { key: string; stats?: number[]; dests: { server?: string; state: string; weight?: number }[] }[] }[] })
      .directors.find((d) => d.director === 'lb1')!.services.find((s) => s.key === `tcp ${WEB}`)!;
  const { result: [first, second], load } = await underLoad(`http://${WEB.split(':')[0]}/`, {}, async () => {
    const a = await cli(['status', '-i', INVENTORY_FILE, '--json']);
    await new Promise((r) => setTimeout(r, 3000));
    return [a, await cli(['status', '-i', INVENTORY_FILE, '--json'])] as const;
  });
  reportLoad(t, load);
  t.is(first.code, 0, first.stdout);
  t.is(second.code, 0);
  const [conns1, conns2] = [webOf(first.stdout).stats![0]!, webOf(second.stdout).stats![0]!];
  t.log(`web connections on lb1: ${conns1} → ${conns2}`);
  t.true(conns2 > conns1);

  await onHost('lb1', `ipvsadm -e -t ${WEB} -r ${SERVERS.rs1}:80 -g -w 5`);
  const flagged = await cli(['status', '-i', INVENTORY_FILE, '--json']);
  t.is(flagged.code, 3);
  t.like(webOf(flagged.stdout).dests.find((d) => d.server === 'rs1'), { state: 'weight differs', weight: 5 });
  const text = await cli(['status', '-i', INVENTORY_FILE]);
  t.regex(text.stdout, /rs1 .*weight differs/);
  t.is((await cli(['apply', '-i', INVENTORY_FILE, BOOTSTRAP])).code, 0);
  t.is((await cli(['status', '-i', INVENTORY_FILE])).code, 0);
});

test.serial('a real server removed from the inventory while a client holds a connection to it: drained, deleted once that connection ends, no request fails', async (t) => {
  // A request left half sent: its connection is ESTABLISHED at the director until the rest is sent.
  const release = path.join(work, `release-${Date.now()}`);
  const held = netnsExec('lvsplay-client', ['/usr/bin/python3', '-c', `
import os, socket, sys, time
s = socket.create_connection(('192.0.2.10', 80), timeout=60)
s.sendall(b'GET / HTTP/1.0\\r\\n')
while not os.path.exists(sys.argv[1]): time.sleep(0.1)
s.sendall(b'\\r\\n')
print(s.makefile().read().splitlines()[-1])
`, release], { timeoutMs: 5 * 60_000 });
  const entry = await eventually('the held connection at lb1', () => onHost('lb1', 'ipvsadm -L -n -c'), (l) => /ESTABLISHED +192\.0\.2\.50:\d+ +192\.0\.2\.10:80 +192\.0\.2\.2[12]:80/.test(l), 15_000);
  const holder = /ESTABLISHED +192\.0\.2\.50:\d+ +192\.0\.2\.10:80 +(192\.0\.2\.2[12]):80/.exec(entry)![1]!;
  const name = holder === SERVERS.rs1 ? 'rs1' : 'rs2';
  const without = inventoryWith(work, `without-${name}`, (inv) => {
    const web = inv['services'].find((s: { name: string }) => s.name === 'web');
    web.real_servers = web.real_servers.filter((r: { server: string }) => r.server !== name);
  });
  // the connection ends 5 s into the run (within the default drain_wait of 30 s)
  const ending = new Promise((r) => setTimeout(r, 5000)).then(() => writeFileSync(release, ''));
  const { result: removed, load } = await underLoad(`http://${WEB.split(':')[0]}/`, {}, async () => {
    const started = Date.now();
    const r = await cli(['apply', '-i', without, BOOTSTRAP, '--limit', 'directors', '--json']);
    return { ...r, ms: Date.now() - started };
  });
  await ending;
  const answer = await held;
  t.is(answer.stdout.trim(), name, `the held request was answered by ${name}, the server leaving`);
  t.is(removed.code, 0, removed.stdout + removed.stderr);
  t.log(`apply took ${removed.ms} ms`);
  reportLoad(t, load);
  const lb1 = removed.json!.results.find((r) => r.host === 'lb1')!;
  t.true(lb1.plan!.tasks.flatMap((task) => task.changes.map((c) => c.summary)).some((s) => s.includes(`drain real server ${holder}:80 in tcp ${WEB}`)), 'drained, not deleted, at the batch');
  t.is(weightIn(await onHost('lb1', 'ipvsadm -S -n'), holder), undefined, 'deleted within the same run once idle');
  t.is((await cli(['apply', '-i', INVENTORY_FILE, BOOTSTRAP])).code, 0, 'the lab inventory back');
});
