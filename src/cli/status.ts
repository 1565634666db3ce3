/**
 * `lvsplay status -i INV [--json] [--watch N]`: what every director is doing, read from all of
 * them at once, against the inventory. Exit 0 when every line matches (drained servers count as
 * matching: they are drained on purpose), 3 when something differs, 4 when a director cannot be
 * read. `--watch N` redraws every N seconds (in place on a terminal) until interrupted, then exits
 * with the last snapshot's status. It only reads, and takes no run lock: it works during a rollout.
 */
import { Command } from 'commander';
import type { Director } from '../inventory/model.js';
import { compare } from '../status/compare.js';
import { type DirectorReport, formatStatus } from '../status/print.js';
import { parseSnapshot, snapshotScript } from '../status/snapshot.js';
import type { Templates } from '../templates/templates.js';
import type { Transport } from '../transport/types.js';
import type { Cluster } from '../inventory/model.js';
import { safeText } from '../util/terminal.js';
import { EXIT, usageError } from './exit.js';
import { collectDirs, INVENTORY_FLAGS, INVENTORY_HELP, loadAll, oneInventory } from './load.js';

interface StatusOptions {
  inventory: string;
  json?: boolean;
  watch?: string;
  templates: string[];
}

export function statusCommand(): Command {
  return new Command('status')
    .description("every director's IPVS table, counters and rates against the inventory (read only)")
    .requiredOption(INVENTORY_FLAGS, INVENTORY_HELP, oneInventory)
    .option('--json', 'one JSON document')
    .option('--watch <seconds>', 'refresh every N seconds until interrupted')
    .option('-t, --templates <dir>', 'a template override folder (repeatable)', collectDirs, [])
    .option('--debug', 'on an internal error, print where it happened')
    .addHelpText('after', '\nExit status: 0 every line matches the inventory (drained servers included); 3 something differs;\n4 a director could not be read; 1 bad input.')
    .action(async (options: StatusOptions) => {
      const every = options.watch === undefined ? undefined : Number(options.watch);
      if (every !== undefined && !(Number.isInteger(every) && every >= 1)) {
        usageError(`--watch: expected a whole number of seconds >= 1, got ${options.watch}`);
        return;
      }
      const { cluster, templates } = loadAll(options.inventory, [], options.templates);
      const reader = new Reader(cluster, templates);
      let stop = false;
      const onSignal = () => {
        stop = true;
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        do {
          const reports = await reader.read();
          process.exitCode = exitFor(reports);
          const text = options.json ? `${JSON.stringify({ directors: reports, at: new Date().toISOString() }, null, 2)}\n` : formatStatus(reports);
          const inPlace = every !== undefined && process.stdout.isTTY && !options.json;
          process.stdout.write(inPlace ? `\x1b[H\x1b[2J${new Date().toISOString()}  every ${every} s (Ctrl-C ends)\n\n${text}` : text);
          if (every !== undefined && !stop) await sleep(every * 1000, () => stop);
        } while (every !== undefined && !stop);
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        await reader.close();
      }
    });
}

/** One connection per director, kept across --watch rounds. */
class Reader {
  readonly #connections = new Map<string, Promise<Transport>>();
  constructor(
    private readonly cluster: Cluster,
    private readonly templates: Templates,
  ) {}

  read(): Promise<DirectorReport[]> {
    const script = snapshotScript(this.templates, this.cluster);
    return Promise.all(this.cluster.directors.map((d) => this.#one(d, script)));
  }

  async #one(director: Director, script: string): Promise<DirectorReport> {
    try {
      let connection = this.#connections.get(director.name);
      if (!connection) {
        // loaded here, not by every command (start-up)
        connection = import('../transport/ssh.js').then(({ SshTransport }) => SshTransport.connect(director.name, director.ssh));
        this.#connections.set(director.name, connection);
      }
      const out = await (await connection).exec(script, { timeoutMs: 30_000 });
      if (out.code !== 0) throw new Error(`the read exited ${out.code}: ${out.stderr.trim().split('\n').pop() ?? ''}`);
      return compare(this.cluster, director, parseSnapshot(out.stdout));
    } catch (err) {
      // a lost connection is opened again next round
      this.#connections.delete(director.name);
      return { director: director.name, error: safeText((err as Error).message) };
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.#connections.values()].map(async (c) => (await c.catch(() => undefined))?.close()));
  }
}

function exitFor(reports: readonly DirectorReport[]): number {
  if (reports.some((r) => 'error' in r)) return EXIT.unreachable;
  return reports.some((r) => 'differences' in r && r.differences > 0) ? EXIT.drifted : EXIT.ok;
}

/** Sleep `ms`, waking early when `done()` turns true (checked every 100 ms). */
async function sleep(ms: number, done: () => boolean): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until && !done()) await new Promise((r) => setTimeout(r, Math.min(100, until - Date.now())));
}
