/**
 * The instrumented children of `fleet-profile` (fleet-profile.ts): the same work as
 * `lvsplay apply --check` and as the floor, stage by stage, each stage's start and end as
 * milliseconds since the process started (performance.now()), printed as one JSON line.
 *
 *   node dist/bench/fleet-profile-child.js lvsplay INVENTORY PLAYBOOK FORKS [HOST]
 *   node dist/bench/fleet-profile-child.js floor DIR [HOST]
 * (HOST: that host alone, as `--limit HOST`)
 *
 * This file has no static import but node builtins, and imports everything else dynamically in
 * the stage it belongs to, so module loading is timed where it happens. The lvsplay mode calls
 * the same functions, in the same order, as src/cli/main.ts → apply.ts → run-options.ts `execute`
 * (minus commander's option parsing and the signal handlers), with its transports and renderer
 * wrapped to time them.
 */
import { Writable } from 'node:stream';

const now = () => performance.now();
type Span = [number, number];

interface HostTimes {
  connect?: Span;
  exec: Span[];
  close?: Span;
}

async function lvsplay(inventory: string, playbook: string, forks: number, limit: string | undefined): Promise<Record<string, unknown>> {
  const started = now();
  // What src/cli/main.ts imports (its whole module graph): keep in step with that file.
  await Promise.all([
    import('commander'),
    import('../src/util/problems.js'),
    import('../src/util/terminal.js'),
    import('../src/cli/apply.js'),
    import('../src/cli/exit.js'),
    import('../src/cli/failover.js'),
    import('../src/cli/plan.js'),
    import('../src/cli/render.js'),
    import('../src/cli/validate.js'),
  ]);
  const imported = now();
  // already loaded as part of that graph: these imports cost nothing more
  const { loadAll } = await import('../src/cli/load.js');
  const { prepareRun } = await import('../src/plan/prepare.js');
  const { runPlays } = await import('../src/run/runner.js');
  const { exitCode } = await import('../src/run/recap.js');
  const { PlainRenderer } = await import('../src/run/render-plain.js');
  const { SshTransport } = await import('../src/transport/ssh.js');
  type Transport = import('../src/transport/types.js').Transport;
  type Renderer = import('../src/run/types.js').Renderer;

  const t0 = now();
  const { cluster, playbooks, templates } = loadAll(inventory, [playbook]);
  const loaded = now();
  const plays = prepareRun(cluster, playbooks, templates, limit === undefined ? undefined : [limit]);
  const prepared = now();

  let outputBytes = 0;
  const sink = new Writable({
    write(chunk: Buffer | string, _enc, done) {
      outputBytes += chunk.length;
      done();
    },
  });
  let rendererMs = 0;
  const plain = new PlainRenderer(sink, { check: true, diff: false });
  // every renderer call timed (they are synchronous but for batchEnd)
  const renderer = new Proxy(plain, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const a = now();
        const r = value.apply(target, args);
        rendererMs += now() - a;
        return r;
      };
    },
  }) as Renderer;

  const hosts = new Map<string, HostTimes>();
  const timed = (t: Transport, rec: HostTimes): Transport => ({
    host: t.host,
    get execCount() {
      return t.execCount;
    },
    async exec(script, options) {
      const a = now();
      const r = await t.exec(script, options);
      rec.exec.push([a, now()]);
      return r;
    },
    async close() {
      const a = now();
      await t.close();
      rec.close = [a, now()];
    },
  });
  const runStart = now();
  const results = await runPlays(plays, {
    templates,
    check: true,
    forks,
    connect: async (host) => {
      const rec: HostTimes = { exec: [] };
      hosts.set(host.name, rec);
      const a = now();
      const t = await SshTransport.connect(host.name, host.ssh);
      rec.connect = [a, now()];
      return timed(t, rec);
    },
  }, renderer);
  const runEnd = now();
  renderer.done(results, exitCode(results, { check: true, detailedExitcode: true }));
  const done = now();
  const bad = results.filter((r) => r.status !== 'ok');
  if (bad.length > 0) throw new Error(`${bad.length} host(s) not ok, e.g. ${bad[0]!.host}: ${bad[0]!.status} ${bad[0]!.error?.message ?? ''}`);
  return { started, imported, t0, loaded, prepared, runStart, runEnd, done, rendererMs, outputBytes, hosts: Object.fromEntries(hosts) };
}

async function floor(dir: string, only: string | undefined): Promise<Record<string, unknown>> {
  const started = now();
  const { readFileSync } = await import('node:fs');
  const ssh2 = (await import('ssh2')).default;
  const imported = now();
  const lines = readFileSync(`${dir}/hosts.tsv`, 'utf8').trim().split('\n').map((l) => l.split('\t')).filter(([name]) => only === undefined || name === only);
  const privateKey = readFileSync(`${dir}/id_bench`);
  const known = new Map<number, Buffer>();
  for (const line of readFileSync(`${dir}/known_hosts`, 'utf8').split('\n')) {
    const m = /^\[127\.0\.0\.1\]:(\d+) \S+ (\S+)$/.exec(line.trim());
    if (m) known.set(Number(m[1]), Buffer.from(m[2]!, 'base64'));
  }
  const runStart = now();
  const hosts: Record<string, HostTimes> = {};
  await Promise.all(lines.map(([name = '', , , , port = '']) => new Promise<void>((resolve, reject) => {
    const rec: HostTimes = { exec: [] };
    hosts[name] = rec;
    const c = new ssh2.Client();
    const a = now();
    c.on('error', reject);
    c.on('ready', () => {
      rec.connect = [a, now()];
      const e = now();
      c.exec('cat /proc/sys/net/ipv4/conf/all/arp_ignore', (err, ch) => {
        if (err) return reject(err);
        ch.resume();
        ch.on('close', () => {
          rec.exec.push([e, now()]);
          c.end();
          resolve();
        });
      });
    });
    c.connect({
      host: '127.0.0.1', port: Number(port), username: 'root', privateKey, readyTimeout: 60_000,
      algorithms: { serverHostKey: ['ssh-ed25519'] },
      hostVerifier: (key: Buffer) => known.get(Number(port))?.equals(key) ?? false,
    });
  })));
  const runEnd = now();
  return { started, imported, t0: imported, loaded: imported, prepared: runStart, runStart, runEnd, done: runEnd, rendererMs: 0, outputBytes: 0, hosts };
}

const [mode, ...args] = process.argv.slice(2);
const report = mode === 'lvsplay' ? await lvsplay(args[0]!, args[1]!, Number(args[2]), args[3]) : mode === 'floor' ? await floor(args[0]!, args[1]) : undefined;
if (!report) throw new Error('usage: fleet-profile-child.js lvsplay INVENTORY PLAYBOOK FORKS [HOST] | floor DIR [HOST]');
process.stdout.write(`${JSON.stringify(report)}\n`);
