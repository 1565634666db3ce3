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
 * The file is read as ssh reads it (ssh-config.ts). A jump host is resolved through the same file
 * by the same rules, one hop only; a ProxyCommand that applies is refused (lvsplay runs nothing
 * from the file).
 */
import type { SshConfig } from '../inventory/model.js';
import { expandHome } from './home.js';
import { expandIdentityFile, hostInUse, localIdentity, readSshConfig, SshConfigError, type SshConfigValues } from './ssh-config.js';
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
  try {
    return await routeOf(hostName, ssh);
  } catch (err) {
    // the config file's own errors, which name its file and line, as the host's
    if (err instanceof SshConfigError) throw new TransportError('unreachable', hostName, `ssh config: ${err.message}`, { cause: err });
    throw err;
  }
}

async function routeOf(hostName: string, ssh: SshConfig): Promise<Route> {
  const configFile = ssh.configFile === undefined ? undefined : expandHome(ssh.configFile);
  const complete = async (e: Endpoint): Promise<{ endpoint: Endpoint; proxyJump?: string }> => {
    // the name given is the one the file's Host lines see; ssh connects to it lowercased (and so
    // expands %h in an IdentityFile lowercased)
    if (configFile === undefined) return { endpoint: { ...e, host: hostInUse(e.host) } };
    const found = await readConfig(configFile, e);
    if (found.proxyCommand !== undefined && found.proxyCommand !== 'none') {
      throw new TransportError('unreachable', hostName, `ssh config ${configFile}: ProxyCommand ${found.proxyCommand} applies to ${e.host}; lvsplay cannot run a proxy command (use ProxyJump, or the inventory's ssh.jump)`);
    }
    const host = found.hostName ?? hostInUse(e.host);
    const port = e.port === DEFAULT_PORT && found.port !== undefined ? found.port : e.port;
    const user = found.user ?? e.user;
    // ssh loads each IdentityFile but `none`, its tokens expanded; lvsplay takes the first
    const fromConfig = found.identityFiles.find((f) => f.toLowerCase() !== 'none');
    const identityFile = e.identityFile ?? (fromConfig === undefined ? undefined : expandIdentityFile(fromConfig, { host, original: e.host, port, user, ...(found.hostKeyAlias !== undefined && { hostKeyAlias: found.hostKeyAlias }) }));
    const endpoint: Endpoint = {
      host,
      port,
      user,
      ...(identityFile !== undefined && { identityFile }),
      ...(found.hostKeyAlias !== undefined && { hostKeyAlias: found.hostKeyAlias }),
    };
    const proxyJump = found.proxyJump;
    return proxyJump === undefined || proxyJump === null ? { endpoint } : { endpoint, proxyJump };
  };

  const target = await complete({ host: ssh.host, port: ssh.port, user: ssh.user, ...(ssh.identityFile && { identityFile: ssh.identityFile }) });
  const jumpSpec: SshConfig['jump'] = ssh.jump ?? (target.proxyJump === undefined ? undefined : parseProxyJump(hostName, target.proxyJump));
  if (jumpSpec === undefined) return { target: target.endpoint };
  const jump = await complete({
    host: jumpSpec.host,
    port: jumpSpec.port,
    user: jumpSpec.user,
    // One key for the whole route is the common case, so the jump falls back to the target's key.
    ...((jumpSpec.identityFile ?? ssh.identityFile) && { identityFile: jumpSpec.identityFile ?? ssh.identityFile }),
  });
  // One hop: a jump host the file sends through a jump again is a chain lvsplay does not follow
  // (through itself, a loop: ssh stops with "jumphost loop"; `Host * !bastion` is how ssh users avoid it).
  if (jump.proxyJump !== undefined) {
    throw new TransportError('unreachable', hostName, `ssh config: the jump host ${jumpSpec.host} itself gets ProxyJump ${jump.proxyJump}; lvsplay takes one jump host, not a chain (exclude it: Host * !${jumpSpec.host})`);
  }
  return { target: target.endpoint, jump: jump.endpoint };
}

/**
 * The config's values for one endpoint, as `ssh -F FILE [-l USER] HOST` would take them: a user
 * other than the inventory's default (root) is given as ssh's -l (it wins, and Match user sees it).
 */
function readConfig(path: string, e: Endpoint): Promise<SshConfigValues> {
  return readSshConfig(path, { host: e.host, ...(e.user !== DEFAULT_USER && { user: e.user }), localUser: localIdentity().user });
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
