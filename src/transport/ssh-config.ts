/**
 * An OpenSSH client config file read as ssh 9.2 reads it (readconf.c), for the keywords lvsplay
 * takes from it: HostName, Port, User, IdentityFile, HostKeyAlias, ProxyJump, and ProxyCommand
 * (refused by route.ts: lvsplay cannot run one). What decides which lines apply is all of ssh's:
 * a line's words split as strdelim and argv_split split them (`=`, quotes, backslashes, a `#` word
 * ending the line); `Host` patterns matched one by one against the name given (a comma is part of
 * a pattern there); `Match` with all, host, originalhost, user, localuser, canonical and final
 * (and so a second, final pass); `Include` of files and globs, relative to ~/.ssh, at most 16 deep;
 * and the first value obtained for each keyword winning. `Match exec` runs a command, which
 * reading a file must not: where ssh would run it (no earlier criterion of its line failed), the
 * file is refused with its line. A keyword ssh does not know refuses the file, as in ssh (unless an
 * IgnoreUnknown line before it names it; ssh-keywords.ts says which ssh); the values of keywords
 * lvsplay does not use are not checked. `RefuseConnection` (OpenSSH 10) that applies refuses the
 * host, as there.
 *
 * The ssh-config package read these differently from ssh: `?` matched zero characters, a comma
 * split Host patterns, a negated Match criterion never matched, `HOSTNAME` in capitals did not
 * feed `Match host`, and Include was not read.
 */
import { readdir, readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { homedir, hostname, userInfo } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { fnmatch } from '../util/fnmatch.js';
import { expandHome } from './home.js';
import { SSH_CLIENT_KEYWORDS } from './ssh-keywords.js';
import { asciiLower, matchPattern, matchPatternList } from './ssh-pattern.js';

/** What the config says for a host: each value as written in the first line that applies. */
export interface SshConfigValues {
  hostName?: string;
  port?: number;
  user?: string;
  identityFiles: string[];
  hostKeyAlias?: string;
  /** `[user@]host[:port]` (or a chain, or an ssh:// URI), as written; null for `ProxyJump none`. */
  proxyJump?: string | null;
  proxyCommand?: string;
}

export interface SshConfigQuery {
  /** The name given (ssh's host_arg): what `Host` and `Match originalhost` match. */
  host: string;
  /** A user given on the command line (ssh's -l): it wins over the file's, and `Match user` sees it. */
  user?: string;
  /** The local user's name: `Match localuser`, and `Match user` when no user is set yet. */
  localUser: string;
}

export class SshConfigError extends Error {}

/** READCONF_MAX_DEPTH */
const MAX_INCLUDE_DEPTH = 16;

/**
 * misc.c's percent_expand (and, with `dollar`, percent_dollar_expand): `%%` a percent sign, `%x`
 * the token's value, `${NAME}` the environment's; an unknown token, a `%` at the end or a variable
 * that is not set is an error naming the keyword, as in ssh.
 */
function percentExpand(keyword: string, value: string, tokens: Readonly<Record<string, string>>, dollar: boolean): string {
  const fail = (message: string): never => {
    throw new SshConfigError(`${keyword} ${value}: ${message}`);
  };
  // Without `dollar` the two empty groups keep the token in the same place for one callback.
  return value.replace(dollar ? /\$\{([^}]*)(\}?)|%(.?)/g : /()()%(.?)/g, (whole, variable: string, closed: string, token: string) => {
    if (whole.startsWith('$')) {
      if (closed === '') fail(`environment variable '${whole.slice(2)}' missing closing '}'`);
      if (variable === '') fail('zero-length environment variable');
      return process.env[variable] ?? fail(`env var \${${variable}} has no value`);
    }
    if (token === '%') return '%';
    return tokens[token] ?? fail(token === '' ? 'a % at the end' : `unknown token %${token}`);
  });
}

/** HostName as ssh expands it: %h the name given. */
function expandHostName(value: string, host: string): string {
  return percentExpand('HostName', value, { h: host }, false);
}

/** What ssh knows of a connection when it expands an IdentityFile (ssh.c's ssh_conn_info). */
export interface ConnectionInfo {
  /** The host name in use (after HostName): %h. */
  host: string;
  /** The name given: %n, and %k without a HostKeyAlias. */
  original: string;
  port: number;
  user: string;
  hostKeyAlias?: string;
}

/**
 * An IdentityFile as ssh takes it when it loads the key (load_public_identity_files): `~`, then the
 * client's %-tokens and ${VARIABLES} (percent_dollar_expand). An unknown token, a `%` at the end or
 * a variable that is not set is an error, as in ssh.
 */
export function expandIdentityFile(path: string, info: ConnectionInfo): string {
  const local = localIdentity();
  const port = String(info.port);
  const tokens: Record<string, string> = {
    C: createHash('sha1').update(local.host + info.host + port + info.user).digest('hex'),
    L: local.host.split('.')[0] ?? '',
    i: local.uid,
    k: info.hostKeyAlias ?? info.original,
    l: local.host,
    n: info.original,
    p: port,
    d: local.home,
    h: info.host,
    r: info.user,
    u: local.user,
  };
  return percentExpand('IdentityFile', expandHome(path), tokens, true);
}

/** The local side as ssh sees it: host name, user, home folder, uid. */
export function localIdentity(): { host: string; user: string; home: string; uid: string } {
  let user = process.env['USER'] ?? '';
  let uid = '';
  try {
    const info = userInfo();
    user = info.username;
    uid = String(info.uid);
  } catch {
    // no passwd entry: what the environment says
  }
  return { host: hostname(), user, home: homedir(), uid };
}

/** The values for one host, HostName as ssh takes it into use (expanded, lowercased unless an address). */
export async function readSshConfig(path: string, query: SshConfigQuery): Promise<SshConfigValues> {
  const reader = new ConfigReader(query);
  await reader.file(path, 0, false, true);
  const values = reader.values;
  // ssh.c takes the host name into use expanded, and lowercased unless it is an address
  if (values.hostName !== undefined) values.hostName = hostInUse(expandHostName(values.hostName, query.host));
  if (reader.wantFinalPass) {
    // then every file is read again with `final` true; what the first pass set stays set
    values.hostName ??= hostInUse(query.host);
    reader.final = true;
    await reader.file(path, 0, false, true);
  }
  return values;
}

/** ssh.c lowercases the host it connects to unless it is an address. */
export function hostInUse(host: string): string {
  return isIP(host) === 0 ? asciiLower(host) : host;
}

class ConfigReader {
  readonly values: SshConfigValues = { identityFiles: [] };
  wantFinalPass = false;
  final = false;
  /** IgnoreUnknown's pattern list: the first that applies, for the lines after it. */
  private ignoredUnknown: string | undefined;

  constructor(private readonly query: SshConfigQuery) {
    if (query.user !== undefined) this.values.user = query.user;
  }

  /** read_config_file_depth: lines before any Host or Match apply (unless the Include that read this file was inactive). */
  async file(path: string, depth: number, neverMatch: boolean, mustExist: boolean): Promise<void> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if (!mustExist && (err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new SshConfigError(`cannot read ssh config file ${path}: ${(err as Error).message}`);
    }
    let active = !neverMatch;
    const lines = text.split('\n');
    for (const [index, line] of lines.entries()) {
      active = await this.line(line, `${path} line ${index + 1}`, active, neverMatch, depth);
    }
  }

  /** process_config_line_depth for one line; returns whether the lines after it apply. */
  private async line(raw: string, where: string, active: boolean, neverMatch: boolean, depth: number): Promise<boolean> {
    const line = raw.replace(/[ \t\r\n\f]+$/, '');
    let cut = strdelim(line);
    if (cut.token === '') cut = strdelim(cut.rest);
    const keyword = cut.token;
    if (keyword === null || keyword === '' || keyword.startsWith('#')) return active;
    const str = cut.rest?.replace(/^[ \t\r\n]+/, '') ?? '';
    const fail = (message: string): never => {
      throw new SshConfigError(`${where}: ${message}`);
    };
    if (str === '') fail(`no argument after keyword "${keyword}"`);
    const args = argvSplit(str);
    if (args === undefined) fail('invalid quotes');
    const name = asciiLower(keyword);
    if (!SSH_CLIENT_KEYWORDS.has(name)) {
      // parse_token: in a block that applies or not, ssh refuses the file for a word it does not know
      if (this.ignoredUnknown !== undefined && matchPatternList(name, this.ignoredUnknown, true) === 1) return active;
      fail(`Bad configuration option: ${keyword}`);
    }
    const one = (): string => {
      const [arg, ...extra] = args!;
      if (arg === undefined || arg === '') fail(`${keyword}: missing argument`);
      if (extra.length > 0) fail(`keyword ${keyword} extra arguments at end of line`);
      return arg!;
    };
    switch (name) {
      case 'host':
        return !neverMatch && this.hostMatches(args!, where);
      case 'match':
        return this.matchCondition(str, where) && !neverMatch;
      case 'include':
        for (const arg of args!) {
          if (arg === '') fail(`keyword ${keyword} empty argument`);
          if (depth >= MAX_INCLUDE_DEPTH) fail('too many recursive configuration includes');
          // read_config_file_depth: an included file's Host and Match lines do not change this file's state
          for (const path of await globPaths(isAbsolute(arg) || arg.startsWith('~') ? expandHome(arg) : expandHome(join('~/.ssh', arg)))) {
            await this.file(path, depth + 1, !active, false);
          }
        }
        return active;
      case 'hostname':
      case 'user':
      case 'hostkeyalias': {
        const value = one();
        const key = name === 'hostname' ? 'hostName' : name === 'user' ? 'user' : 'hostKeyAlias';
        if (active && this.values[key] === undefined) this.values[key] = value;
        return active;
      }
      case 'port': {
        const value = one();
        const port = await a2port(value);
        if (port <= 0) fail(`Bad port '${value}'`);
        if (active && this.values.port === undefined) this.values.port = port;
        return active;
      }
      case 'ignoreunknown': {
        const value = one();
        if (active && this.ignoredUnknown === undefined) this.ignoredUnknown = value;
        return active;
      }
      case 'refuseconnection': {
        // OpenSSH 10: where it applies, ssh stops, printing its argument (one word, or quoted)
        const [message] = args!;
        if (message === undefined || message === '') fail('RefuseConnection: missing argument');
        if (active) fail(`RefuseConnection: ${message}`);
        return active;
      }
      case 'identityfile': {
        const file = one();
        // add_identity_file skips a duplicate (the final pass reads the same lines again)
        if (active && !this.values.identityFiles.includes(file)) this.values.identityFiles.push(file);
        return active;
      }
      case 'proxyjump': {
        // parse_jump reads the raw rest of the line: it is `none` only when that is all of it
        // (`none # c` is a jump host named none, as ssh -G shows); otherwise a comment is cut off
        const raw = str.replace(/^[ \t\r\n=]+/, '');
        const value = raw.toLowerCase() === 'none' ? null : raw.replace(/#.*$/, '').replace(/[ \t\r\n]+$/, '');
        if (value === '') fail(`Invalid ProxyJump "${str}"`);
        // the first ProxyJump or ProxyCommand wins over a later ProxyJump
        if (active && this.values.proxyJump === undefined && this.values.proxyCommand === undefined) this.values.proxyJump = value;
        return active;
      }
      case 'proxycommand':
        // a ProxyJump before it wins, unless that was `ProxyJump none` (ssh 9.2 as Debian builds it, checked with ssh -G)
        if (active && this.values.proxyCommand === undefined && !this.values.proxyJump) {
          this.values.proxyCommand = str.replace(/^[ \t\r\n=]+/, '');
        }
        return active;
      default:
        return active;
    }
  }

  /**
   * `Host`: each pattern matched on its own (match_pattern), a matching negated one voids the block;
   * against the name given, and in the final pass against the host name taken into use (ssh.c
   * passes its `host` then).
   */
  private hostMatches(args: string[], where: string): boolean {
    const host = this.final ? this.values.hostName ?? this.query.host : this.query.host;
    let matched = false;
    for (const arg of args) {
      if (arg === '') throw new SshConfigError(`${where}: keyword Host empty argument`);
      const negated = arg.startsWith('!');
      if (!matchPattern(host, negated ? arg.slice(1) : arg)) continue;
      if (negated) return false;
      matched = true;
    }
    return matched;
  }

  /** match_cfg_line: every criterion must hold; `!` negates one. */
  private matchCondition(condition: string, where: string): boolean {
    const fail = (message: string): never => {
      throw new SshConfigError(`${where}: ${message}`);
    };
    const values = this.values;
    const host = this.final ? values.hostName ?? this.query.host : values.hostName === undefined ? this.query.host : expandHostName(values.hostName, this.query.host);
    const user = values.user ?? this.query.localUser;
    let rest: string | null = condition;
    let result = true;
    let attributes = 0;
    for (;;) {
      const cut = strdelim(rest);
      const attribute = cut.token;
      rest = cut.rest;
      if (attribute === null || attribute === '') break;
      if (attribute.startsWith('#')) {
        rest = null;
        break;
      }
      const negate = attribute.startsWith('!');
      const criterion = asciiLower(negate ? attribute.slice(1) : attribute);
      if (criterion === 'all') {
        const next = strdelim(rest);
        if (attributes > 1 || (next.token !== null && next.token !== '' && !next.token.startsWith('#'))) {
          fail(`'${attribute}' cannot be combined with other Match attributes`);
        }
        rest = null;
        return result && !negate;
      }
      attributes += 1;
      if (criterion === 'canonical' || criterion === 'final') {
        if (criterion === 'final') this.wantFinalPass = true;
        if (this.final === negate) result = false;
        continue;
      }
      const argument = strdelim(rest);
      rest = argument.rest;
      if (argument.token === null || argument.token === '' || argument.token.startsWith('#')) fail(`Missing Match criteria for ${attribute}`);
      const arg = argument.token!;
      let hit: boolean;
      if (criterion === 'host') hit = matchPatternList(asciiLower(host), arg, true) === 1;
      else if (criterion === 'originalhost') hit = matchPatternList(asciiLower(this.query.host), arg, true) === 1;
      else if (criterion === 'user') hit = matchPatternList(user, arg, false) === 1;
      else if (criterion === 'localuser') hit = matchPatternList(this.query.localUser, arg, false) === 1;
      else if (criterion === 'exec') {
        // ssh skips the command when an earlier criterion already failed; otherwise it would run it
        if (!result) continue;
        fail('Match exec would run a command here; lvsplay reads the file, it does not run what it says (set the inventory\'s ssh settings instead)');
      }
      else fail(`Unsupported Match attribute ${attribute}`);
      if (hit! === negate) result = false;
    }
    if (attributes === 0) fail('One or more attributes required for Match');
    if (rest !== null && rest !== '') fail('keyword Match extra arguments at end of line');
    return result;
  }
}

/**
 * misc.c strdelim: the next word, ended by white space, a `"` (a quoted word runs to the next one)
 * or one `=`; rest is null when the line has nothing after it.
 */
export function strdelim(text: string | null): { token: string | null; rest: string | null } {
  if (text === null) return { token: null, rest: null };
  const at = text.search(/[ \t\r\n"=]/);
  if (at === -1) return { token: text, rest: null };
  if (text[at] === '"') {
    const unquoted = text.slice(0, at) + text.slice(at + 1);
    const close = unquoted.indexOf('"', at);
    if (close === -1) return { token: null, rest: null };
    return { token: unquoted.slice(0, close), rest: unquoted.slice(close + 1).replace(/^[ \t\r\n]+/, '') };
  }
  const equals = text[at] === '=';
  let rest = text.slice(at + 1).replace(/^[ \t\r\n]+/, '');
  if (rest.startsWith('=') && !equals) rest = rest.slice(1).replace(/^[ \t\r\n]+/, '');
  return { token: text.slice(0, at), rest };
}

/**
 * misc.c argv_split with terminate_on_comment: words split by spaces and tabs, `'` or `"` quoting,
 * a backslash escaping a quote, a backslash or (unquoted) a space, and a word starting with `#`
 * ending the line. undefined for an unclosed quote.
 */
export function argvSplit(text: string): string[] | undefined {
  const words: string[] = [];
  let i = 0;
  while (i < text.length) {
    if (text[i] === ' ' || text[i] === '\t') {
      i += 1;
      continue;
    }
    if (text[i] === '#') break;
    let word = '';
    let quote = '';
    for (; i < text.length; i++) {
      const c = text[i]!;
      const next = text[i + 1];
      if (c === '\\') {
        if (next === "'" || next === '"' || next === '\\' || (quote === '' && next === ' ')) {
          i += 1;
          word += next;
        } else {
          word += c;
        }
      } else if (quote === '' && (c === ' ' || c === '\t')) break;
      else if (quote === '' && (c === '"' || c === "'")) quote = c;
      else if (quote !== '' && c === quote) quote = '';
      else word += c;
    }
    if (quote !== '') return undefined;
    words.push(word);
  }
  return words;
}

/**
 * misc.c a2port: a decimal number from 0 to 65535 as strtonum reads it (blanks and a sign before
 * it, nothing after), else a TCP service's port by getservbyname, here from /etc/services: the
 * first line naming it, by name or alias, exactly. -1 for neither; 0 is no port either.
 */
async function a2port(value: string): Promise<number> {
  if (/^[ \t\n\v\f\r]*[+-]?\d+$/.test(value)) {
    // Number reads the same shape strtonum does: those blanks, a sign, decimal digits
    const n = Number(value);
    return n >= 0 && n <= 65535 ? n : -1;
  }
  const services = await readFile('/etc/services', 'utf8').catch(() => '');
  for (const line of services.split('\n')) {
    const [name, portProto, ...aliases] = line.replace(/#.*/, '').trim().split(/[ \t]+/);
    const [port, proto] = (portProto ?? '').split('/');
    if (proto === 'tcp' && (name === value || aliases.includes(value)) && /^\d+$/.test(port!)) return Number(port);
  }
  return -1;
}

/** glob(3) of an Include path: `*`, `?` and `[...]` in any segment, matches sorted; none is no file. */
async function globPaths(pattern: string): Promise<string[]> {
  if (!/[*?[]/.test(pattern)) return [pattern];
  const segments = pattern.split('/');
  let found = [segments[0] === '' ? '/' : segments[0]!];
  for (const segment of segments.slice(1)) {
    if (segment === '') continue;
    if (!/[*?[]/.test(segment)) {
      found = found.map((dir) => join(dir, segment));
      continue;
    }
    const matches = fnmatch(segment);
    const next: string[] = [];
    for (const dir of found) {
      const names = await readdir(dir).catch(() => [] as string[]);
      // glob(3) leaves dot files to patterns that start with a dot
      next.push(...names.filter((n) => (!n.startsWith('.') || segment.startsWith('.')) && matches(n)).sort().map((n) => join(dir, n)));
    }
    found = next;
  }
  return found.sort();
}
