/**
 * Where to connect: the inventory's ssh settings, completed from an OpenSSH client config file
 * when the inventory names one (`config_file`), so hosts already described in ~/.ssh/config need
 * not be described twice.
 *
 * Precedence. The inventory wins wherever it says something. Its SshConfig arrives with defaults
 * already filled in (port 22, user root), so an explicit "22" cannot be told from an absent port:
 * the config file's Port and User therefore apply only when the inventory value is that default.
 * The inventory host is looked up as the config's `Host` alias and replaced by its HostName;
 * IdentityFile (the first one) and ProxyJump apply when the inventory has no identity file / jump;
 * HostName's %h is the alias; HostKeyAlias is the name the host key is checked under (host-key.ts).
 * A jump host is resolved through the same file by the same rules (the one-hop subset of OpenSSH).
 */
import { readFile } from 'node:fs/promises';
import SSHConfig from 'ssh-config';
import type { SshConfig } from '../inventory/model.js';
import { expandHome } from './home.js';
import { TransportError } from './types.js';

export interface Endpoint {
  host: string;
  port: number;
  user: string;
  identityFile?: string;
  /** The config's HostKeyAlias: the name the host's key is looked up and recorded under, as ssh does. */
  hostKeyAlias?: string;
}

export interface Route {
  target: Endpoint;
  jump?: Endpoint;
}

const DEFAULT_PORT = 22;
const DEFAULT_USER = 'root';

export async function resolveRoute(hostName: string, ssh: SshConfig): Promise<Route> {
  const config = ssh.configFile === undefined ? undefined : await readConfig(hostName, expandHome(ssh.configFile));
  const complete = (e: Endpoint): { endpoint: Endpoint; proxyJump?: string } => {
    if (config === undefined) return { endpoint: e };
    // Match exec would run commands from the file; lvsplay reads the file, it does not execute it.
    const found = config.compute({ Host: e.host, ...(e.user !== DEFAULT_USER && { User: e.user }) }, { ignoreCase: true, matchExec: false });
    const text = (key: string): string | undefined => {
      const value = found[key];
      return Array.isArray(value) ? value[0] : value;
    };
    const port = text('port');
    const identityFile = e.identityFile ?? text('identityfile');
    const configured = text('hostname');
    const hostKeyAlias = text('hostkeyalias');
    const endpoint: Endpoint = {
      host: configured === undefined ? e.host : expandHostName(hostName, configured, e.host),
      port: e.port === DEFAULT_PORT && port !== undefined ? Number(port) : e.port,
      user: e.user === DEFAULT_USER ? (text('user') ?? e.user) : e.user,
      ...(identityFile !== undefined && { identityFile }),
      ...(hostKeyAlias !== undefined && hostKeyAlias !== 'none' && { hostKeyAlias }),
    };
    const proxyJump = text('proxyjump');
    return proxyJump === undefined || proxyJump === 'none' ? { endpoint } : { endpoint, proxyJump };
  };

  const target = complete({ host: ssh.host, port: ssh.port, user: ssh.user, ...(ssh.identityFile && { identityFile: ssh.identityFile }) });
  const jumpSpec: SshConfig['jump'] = ssh.jump ?? (target.proxyJump === undefined ? undefined : parseProxyJump(hostName, target.proxyJump));
  if (jumpSpec === undefined) return { target: target.endpoint };
  const jump = complete({
    host: jumpSpec.host,
    port: jumpSpec.port,
    user: jumpSpec.user,
    // One key for the whole route is the common case, so the jump falls back to the target's key.
    ...((jumpSpec.identityFile ?? ssh.identityFile) && { identityFile: jumpSpec.identityFile ?? ssh.identityFile }),
  }).endpoint;
  return { target: target.endpoint, jump };
}

/** HostName's tokens, as ssh expands them there: %h the name given, %% a percent sign; any other is an error, as in ssh. */
function expandHostName(hostName: string, value: string, given: string): string {
  return value.replace(/%(.?)/g, (token, letter: string) => {
    if (letter === 'h') return given;
    if (letter === '%') return '%';
    throw new TransportError('unreachable', hostName, `ssh config: HostName ${value}: ${token} is not a token of HostName (%h, the host name given, or %%)`);
  });
}

async function readConfig(hostName: string, path: string): Promise<SSHConfig> {
  try {
    return SSHConfig.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new TransportError('unreachable', hostName, `cannot read ssh config file ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** `[user@]host[:port]`, host possibly `[v6 address]`; OpenSSH's jump chains are not supported. */
function parseProxyJump(hostName: string, value: string): { host: string; port: number; user: string } {
  const match = /^(?:([^@,]+)@)?(\[[^\]]+\]|[^:,@]+)(?::(\d+))?$/.exec(value.replace(/^ssh:\/\//, ''));
  if (!match || match[2] === undefined) {
    throw new TransportError('unreachable', hostName, `ProxyJump ${value} is not supported: lvsplay takes one jump host as [user@]host[:port]`);
  }
  return {
    host: match[2].replace(/^\[|\]$/g, ''),
    port: match[3] === undefined ? DEFAULT_PORT : Number(match[3]),
    user: match[1] ?? DEFAULT_USER,
  };
}
