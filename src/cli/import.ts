/**
 * `lvsplay import [--ipvsadm-save FILE [--ipvsadm-thresholds FILE]] [--ldirectord FILE]
 * [--keepalived FILE] [--names FILE] [-o FILE [--force]]`: an inventory from a running cluster's
 * files; or `--from-host [USER@]HOST[:PORT]` (with --identity, --known-hosts, --name): from a live
 * director, read over SSH with its host key verified. The inventory goes to stdout (or -o), the report to stderr: one `file:line:` line per
 * thing the inventory cannot say, and notes. Exit 0 when everything was expressed, 3 when the
 * report lists something that was not, 1 on unreadable or malformed input (nothing written).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { Command } from 'commander';
import { type HostRead, HostReadError, readHost } from '../import/from-host.js';
import { readNames } from '../import/hosts.js';
import { importInventory, type ImportInputs } from '../import/index.js';
import { localIncludes } from '../import/keepalived-include.js';
import { HostName, Name, UserName } from '../inventory/fields.js';
import { BUILTIN_GROUPS, KNOWN_HOSTS_DEFAULTS, type SshConfig } from '../inventory/model.js';
import { type Transport, TransportError } from '../transport/types.js';
import { InputError, type Problem } from '../util/problems.js';
import { safeText } from '../util/terminal.js';
import { InputFileError, readInputFile } from '../util/input-file.js';
import { EXIT } from './exit.js';

interface ImportOptions {
  ipvsadmSave?: string;
  ipvsadmThresholds?: string;
  ldirectord?: string;
  keepalived?: string;
  names?: string;
  output?: string;
  force?: boolean;
  fromHost?: string;
  identity?: string;
  knownHosts?: string;
  name?: string;
}

export function importCommand(): Command {
  return new Command('import')
    .description("an inventory from a running cluster's files (saved IPVS table, ldirectord.cf, keepalived.conf), with a report of what it cannot say")
    .option('--ipvsadm-save <file>', 'the output of ipvsadm -S -n')
    .option('--ipvsadm-thresholds <file>', 'the output of ipvsadm -L -n --thresholds (the -x/-y that -S never saves)')
    .option('--ldirectord <file>', 'an ldirectord.cf: its virtuals become managed_by: ldirectord services')
    .option('--keepalived <file>', 'a keepalived.conf: its virtual servers become managed_by: keepalived services, its vrrp_instance the pair\'s vrrp settings')
    .option('--from-host <[user@]host[:port]>', 'read a live director over SSH instead: its IPVS table, ldirectord.cf, keepalived.conf and addresses')
    .option('--identity <file>', 'with --from-host: the private key (otherwise the SSH agent)')
    .option('--known-hosts <file>', 'with --from-host: the known_hosts that must hold its key (default: as ssh, ~/.ssh/known_hosts and known_hosts2, and /etc/ssh/ssh_known_hosts and ssh_known_hosts2)')
    .option('--name <name>', 'with --from-host: the director\'s name in the inventory', 'lb1')
    .option('--names <file>', 'a YAML mapping of addresses to host names (otherwise rs-192-0-2-21)')
    .option('-o, --output <file>', 'write the inventory here instead of stdout (never over an existing file without --force)')
    .option('--force', 'let -o replace an existing file')
    .option('--debug', 'on an internal error, print where it happened')
    .addHelpText('after', '\nExit status: 0 everything the files say is in the inventory; 3 the report lists what is not;\n1 a file is unreadable or malformed (nothing written); 4 the host cannot be reached.')
    .action(async (options: ImportOptions) => {
      const inputs = options.fromHost === undefined ? readInputs(options) : await hostInputs(options.fromHost, options);
      const { yaml, imported, report } = importInventory(inputs);
      if (options.output === undefined) process.stdout.write(yaml);
      else writeOutput(options.output, yaml, options.force ?? false);
      process.stderr.write(report.format());
      const owners = ['ldirectord', 'keepalived', 'lvsplay'].map((o) => `${imported.services.filter((s) => s.owner === o).length} ${o}`).join(', ');
      const missing = report.lines.filter((l) => l.kind === 'not expressed').length;
      process.stderr.write(`lvsplay import: ${imported.services.length} services (${owners})${missing > 0 ? `; ${missing} thing(s) not expressed in the inventory (listed above)` : '; everything expressed'}\n`);
      // 3 as under --check: the cluster differs from the inventory (here, by what the report lists).
      process.exitCode = report.complete ? EXIT.ok : EXIT.drifted;
    });
}

/**
 * `[user@]host[:port]`, as ssh(1) and scp(1) write it: an IPv6 address in brackets when a port
 * follows, bare when none does. The user and host must be what the inventory takes (they are
 * written into its `ssh:`), so neither can read as an option, a shell word or a lookup of junk.
 */
function target(spec: string): { user: string; host: string; port: number } {
  const bad = (why: string) => new InputError([{ file: 'lvsplay import', line: 0, col: 0, field: '--from-host', message: `expected [user@]host[:port] (an IPv6 address with a port in brackets), got ${JSON.stringify(spec)}: ${why}` }]);
  const m = /^(?:([^@]*)@)?(.*)$/s.exec(spec)!;
  const user = m[1] ?? 'root';
  const rest = m[2]!;
  let host = rest;
  let port = 22;
  // a bare IPv6 address has colons and no port
  if (!(rest.includes(':') && HostName.safeParse(rest).success)) {
    const hp = /^(?:\[([^\]]*)\]|([^:[\]]*))(?::(\d{1,5}))?$/.exec(rest);
    if (!hp) throw bad('a port is a number after the host\'s last ":"');
    host = hp[1] ?? hp[2]!;
    port = Number(hp[3] ?? 22);
  }
  if (port < 1 || port > 65535) throw bad('a port is 1..65535');
  const userOk = UserName.safeParse(user);
  if (!userOk.success) throw bad(`the user: ${userOk.error.issues[0]!.message}`);
  const hostOk = HostName.safeParse(host);
  if (!hostOk.success) throw bad(`the host: ${hostOk.error.issues[0]!.message}`);
  return { user, host, port };
}

async function hostInputs(spec: string, o: ImportOptions): Promise<ImportInputs> {
  if (o.ipvsadmSave !== undefined || o.ldirectord !== undefined || o.keepalived !== undefined) {
    throw new InputError([{ file: 'lvsplay import', line: 0, col: 0, field: '--from-host', message: 'read one source: a host, or files (--ipvsadm-save, --ldirectord, --keepalived), not both' }]);
  }
  // the director's name in the inventory, so what the inventory takes there
  const named = Name.safeParse(o.name);
  const why = !named.success ? named.error.issues[0]!.message : (BUILTIN_GROUPS as readonly string[]).includes(o.name!) ? `expected a name that is no built-in group's (${BUILTIN_GROUPS.join(', ')})` : undefined;
  if (why) throw new InputError([{ file: 'lvsplay import', line: 0, col: 0, field: '--name', message: `${why}, got ${JSON.stringify(o.name)}` }]);
  const { user, host, port } = target(spec);
  const ssh: SshConfig = {
    host, port, user, agent: o.identity === undefined, hostKeyPolicy: 'strict',
    knownHosts: o.knownHosts === undefined ? KNOWN_HOSTS_DEFAULTS.user : [o.knownHosts], globalKnownHosts: KNOWN_HOSTS_DEFAULTS.global,
    ...(o.identity !== undefined && { identityFile: o.identity }),
    connectTimeoutS: 10, commandTimeoutS: 120,
  };
  const name = o.name!;
  const read = await hostRead(name, ssh);
  // the settings that reached it, as the inventory writes them (its defaults left out)
  const inventorySsh = { host, ...(port !== 22 && { port }), ...(user !== 'root' && { user }), ...(o.identity !== undefined && { identity_file: o.identity }), ...(o.knownHosts !== undefined && { known_hosts: o.knownHosts }) };
  return { ...read.inputs, host: { read, name, ssh: inventorySsh }, ...(o.names !== undefined && { names: { file: o.names, map: readNames(o.names) } }) };
}

/** What the director says; a host that cannot be reached (or refuses its key) ends the command with exit 4, a read that fails with 2. */
async function hostRead(name: string, ssh: SshConfig): Promise<HostRead> {
  let transport: Transport | undefined;
  try {
    // loaded here, not by every command (start-up)
    const { SshTransport } = await import('../transport/ssh.js');
    transport = await SshTransport.connect(name, ssh);
    return await readHost(transport, name);
  } catch (err) {
    if (err instanceof TransportError) {
      process.stderr.write(`lvsplay import: ${safeText(err.message)}\n`);
      process.exit(err.kind === 'timeout' || err.kind === 'become' ? EXIT.failed : EXIT.unreachable);
    }
    if (err instanceof HostReadError) {
      process.stderr.write(`lvsplay import: ${safeText(err.message)}\n`);
      process.exit(EXIT.failed);
    }
    throw err;
  } finally {
    await transport?.close();
  }
}

function readInputs(o: ImportOptions): ImportInputs {
  if (o.ipvsadmSave === undefined && o.ldirectord === undefined && o.keepalived === undefined) {
    throw new InputError([{ file: 'lvsplay import', line: 0, col: 0, field: '', message: 'expected at least one of --ipvsadm-save, --ldirectord, --keepalived' }]);
  }
  if (o.ipvsadmThresholds !== undefined && o.ipvsadmSave === undefined) {
    throw new InputError([{ file: o.ipvsadmThresholds, line: 0, col: 0, field: '--ipvsadm-thresholds', message: 'the thresholds listing completes a saved table: give --ipvsadm-save too' }]);
  }
  const problems: Problem[] = [];
  const read = (file: string | undefined): { file: string; text: string } | undefined => {
    if (file === undefined) return undefined;
    try {
      return { file, text: readInputFile(file, { keepBom: true }) };
    } catch (err) {
      if (!(err instanceof InputFileError)) throw err;
      problems.push({ file, line: 0, col: 0, field: '', message: `the file ${err.message}` });
      return undefined;
    }
  };
  const save = read(o.ipvsadmSave);
  const thresholds = read(o.ipvsadmThresholds);
  const inputs: ImportInputs = {
    ...(save && { save: { ...save, ...(thresholds && { thresholds }) } }),
    ...(o.ldirectord !== undefined && { ldirectord: read(o.ldirectord)! }),
    ...(o.keepalived !== undefined && { keepalived: { ...read(o.keepalived)!, includes: localIncludes } }),
  };
  if (problems.length > 0) throw new InputError(problems);
  return { ...inputs, ...(o.names !== undefined && { names: { file: o.names, map: readNames(o.names) } }) };
}

/** Written only when it did not exist (O_EXCL), unless --force: an inventory is never overwritten by accident. */
function writeOutput(file: string, text: string, force: boolean): void {
  let fd: number;
  try {
    fd = openSync(file, force ? 'w' : 'wx', 0o644);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError([{ file, line: 0, col: 0, field: '-o', message: code === 'EEXIST' ? 'exists already: give --force to replace it, or another file' : `cannot be written (${code ?? (err as Error).message})` }]);
  }
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}
