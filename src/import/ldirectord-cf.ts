/**
 * ldirectord.cf → imported services (owned by ldirectord) and the globals lvsplay writes. Read as
 * ldirectord 4.x reads it (read_config): `key=value` lines, a comment from a `#` that starts the
 * line or follows a blank; a `virtual=` block goes on while lines are indented (a tab or four
 * spaces; a comment line inside does not end it, a blank line does, and an indented line after it
 * is ldirectord's "Unknown command"); defaults are ldirectord's own (scheduler
 * wrr, checktype negotiate, protocol fwm for a mark, udp on port 53, tcp otherwise, weight 1).
 * A line that is not `key=value`, or a value ldirectord itself would refuse, is malformed input.
 * Blanks are Perl's `\s` on the bytes ldirectord reads (space, tab, \n, \v, \f, \r: C's, cTrim),
 * written out in every pattern here: JavaScript's `\s` and `trim()` also take a no-break space or a
 * byte order mark for one, and would import a line ldirectord refuses ("Unknown command", "invalid ...").
 * Patterns with `.` have the `s` flag: Perl's `.` takes a \r (or U+2028) inside a line, JavaScript's not.
 */
import { isIPv4, isIPv6 } from 'node:net';
import ipaddr from 'ipaddr.js';
import type * as z from 'zod';
import { addressFamily, addressNumber, canonicalAddress, numberAddress } from '../inventory/addresses.js';
import type { Forwarding } from '../inventory/model.js';
import { NEGOTIATE_LOGIN, NEGOTIATE_STRINGS } from '../inventory/checks.js';
import { Name } from '../inventory/fields.js';
import { HealthCheck, LdirectordGlobals, SCHEDULER_FLAGS, SCHEDULERS } from '../inventory/schema.js';
import { defaultNetmask, serviceKey } from '../resources/ipvs/forms.js';
import { REDACT as SECRET_KEYS } from '../resources/ipvs/ldirectord-keys.js';
import type { ServiceKey } from '../resources/ipvs/table.js';
import { cTrim } from '../util/c-space.js';
import { InputError, type Problem } from '../util/problems.js';
import { distinctServers, type MethodMember, sharedForwarding } from './members.js';
import type { ImportedService, Origin } from './model.js';
import { Names } from './names.js';
import { programOnly, Report } from './report.js';
import { own } from '../util/own.js';

const METHODS: Record<string, Forwarding> = { gate: 'dr', masq: 'nat', ipip: 'tun' };
/** An address range on a real= line (10.0.0.1->10.0.0.9) expands to at most this many real servers. */
const MAX_RANGE = 256;

/** Globals lvsplay writes, by ldirectord key → inventory `ldirectord:` key. */
const GLOBALS: Record<string, keyof z.input<typeof LdirectordGlobals>> = {
  checktimeout: 'check_timeout', negotiatetimeout: 'negotiate_timeout', checkinterval: 'check_interval', failurecount: 'failure_count',
  autoreload: 'auto_reload', quiescent: 'quiescent', readdquiescent: 'readd_quiescent', cleanstop: 'clean_stop',
  logfile: 'logfile', emailalert: 'email_alert', maintenancedir: 'maintenance_dir',
};
const YES_NO = new Set(['auto_reload', 'quiescent', 'readd_quiescent', 'clean_stop']);
const NUMBERS = new Set(['check_timeout', 'negotiate_timeout', 'check_interval', 'failure_count']);

/** A virtual's check keys → inventory health_check keys. */
const CHECK_KEYS: Record<string, keyof z.input<typeof HealthCheck>> = {
  checktype: 'type', service: 'service', request: 'request', receive: 'receive', virtualhost: 'virtualhost', httpmethod: 'http_method',
  checkcommand: 'command', checkport: 'port', checkinterval: 'interval', checktimeout: 'timeout', failurecount: 'failure_count', quiescent: 'quiescent',
  login: 'login', database: 'database',
};

/**
 * The keys read_config knows where they stand (ldirectord 4.x): at a line's start outside a block,
 * and in a virtual= block. It matches them case for case, and refuses any other ("Unknown command"),
 * so the whole file is refused: the running ldirectord cannot be reading it. Some take their value
 * only in double quotes (request and receive are read with their check, below); any other form
 * matches no pattern there, and is refused the same way. Two are refused by name, as deprecated.
 */
const LDIRECTORD_KEYS = {
  global: new Set(['checktimeout', 'negotiatetimeout', 'checkinterval', 'checkcount', 'failurecount', 'fallback', 'fallback6', 'fallbackcommand',
    'autoreload', 'callback', 'logfile', 'execute', 'fork', 'supervised', 'quiescent', 'readdquiescent', 'emailalert', 'emailalertfreq',
    'emailalertstatus', 'emailalertfrom', 'cleanstop', 'smtp', 'maintenancedir']),
  virtual: new Set(['real', 'real6', 'request', 'receive', 'checktype', 'checkcommand', 'checktimeout', 'negotiatetimeout', 'checkcount',
    'failurecount', 'checkinterval', 'checkport', 'login', 'passwd', 'database', 'secret', 'load', 'scheduler', 'persistent', 'schedflags',
    'netmask', 'protocol', 'ops', 'service', 'httpmethod', 'virtualhost', 'fallback', 'fallback6', 'fallbackcommand', 'quiescent', 'emailalert',
    'emailalertfreq', 'emailalertstatus', 'monitorfile', 'cleanstop', 'smtp', 'servicename', 'comment']),
};
const QUOTED_ONLY = { global: new Set(['callback', 'logfile']), virtual: new Set(['login', 'passwd', 'database', 'secret', 'load']) };
/** Keys whose value read_config refuses when it is empty ("invalid check command", "maintenance directory not specified", ...). */
const NOT_EMPTY = { global: new Set(['fallbackcommand', 'emailalertfrom', 'maintenancedir']), virtual: new Set(['checkcommand', 'fallbackcommand']) };
const DEPRECATED: Record<string, string> = { connecttimeout: 'deprecated in favour of negotiatetimeout', timeout: 'deprecated in favour of checktimeout and negotiatetimeout' };

/**
 * read_config's numbers: `$1 =~ /(\d+)/ && $1`, the first run of digits anywhere in the value, which
 * must not be "0" (false in Perl): `checktimeout=5s` is 5 there, `checktimeout=s` refused. checkport
 * may not be 0 either (1..65535); emailalertfreq takes the digits at the value's start, 0 included.
 */
const NUMBERS_READ = {
  global: new Set(['checktimeout', 'negotiatetimeout', 'checkinterval', 'checkcount', 'failurecount']),
  virtual: new Set(['checktimeout', 'negotiatetimeout', 'checkcount', 'failurecount', 'checkinterval', 'checkport']),
};
/** read_config's checktype=: a count (any digits), or the first word, case for case, one of these. */
const LDIRECTORD_CHECKTYPES = new Set(['connect', 'negotiate', 'ping', 'off', 'on', 'external', 'external-perl']);
/** read_config's service=: the first word, case for case, one of these. */
const LDIRECTORD_SERVICES = new Set(['dns', 'ftp', 'http', 'https', 'http_proxy', 'imap', 'imaps', 'ldap', 'ldaps', 'nntp', 'mysql', 'none', 'oracle', 'pop', 'pops', 'radius', 'pgsql', 'sip', 'smtp', 'submission', 'simpletcp']);

/** Perl's `$value =~ /(\d+)/`: the first run of digits anywhere in the value. */
const firstDigits = (value: string) => /\d+/.exec(value)?.[0];

/**
 * The value as read_config keeps it, for the keys it reads a part of (numbers, names, flags) or
 * checks whole (netmask=); or why it refuses the line. `v6`: the block is a virtual6= one.
 */
function readValue(l: Line, where: 'global' | 'virtual', v6: boolean): { value: string } | string {
  const refuse = (why: string) => `${shownLine(l)}: ${why}: ldirectord refuses the line (and the file)`;
  if (NUMBERS_READ[where].has(l.key)) {
    const digits = firstDigits(l.value);
    if (digits === undefined || digits === '0') return refuse('expected a number above 0 (ldirectord reads the first digits in the value)');
    if (l.key === 'checkport' && Number(digits) > 65535) return refuse('expected a port 1..65535');
    return { value: digits };
  }
  if (l.key === 'emailalertfreq') {
    const digits = /^\d+/.exec(l.value)?.[0];
    return digits === undefined ? refuse('expected a number of seconds') : { value: digits };
  }
  if (l.key === 'protocol' && where === 'virtual') {
    const word = /\w+/.exec(l.value)?.[0];
    return word === 'tcp' || word === 'udp' || word === 'fwm' ? { value: word } : refuse('expected tcp, udp or fwm (case for case)');
  }
  if (l.key === 'checktype' && where === 'virtual') {
    const count = firstDigits(l.value);
    const word = /[\w-]+/.exec(l.value)?.[0];
    if (count !== undefined) return { value: count };
    return word !== undefined && LDIRECTORD_CHECKTYPES.has(word) ? { value: word } : refuse(`expected a number of connect checks or one of ${[...LDIRECTORD_CHECKTYPES].join(', ')} (case for case)`);
  }
  if (l.key === 'scheduler' && where === 'virtual') {
    // any run of a-z, not checked against a list (ipvsadm is): `scheduler=wlc2` is wlc there
    const name = /[a-z]+/.exec(l.value)?.[0];
    return name === undefined ? refuse('expected a scheduler name in lowercase letters (ldirectord reads the first run of a-z in the value)') : { value: name };
  }
  if (l.key === 'persistent' && where === 'virtual') {
    // the first digits, 0 included (ipvsadm then refuses -p 0: the inventory's range says so below)
    const digits = firstDigits(l.value);
    return digits === undefined ? refuse('expected a number of seconds (ldirectord reads the first digits in the value)') : { value: digits };
  }
  if (l.key === 'schedflags' && where === 'virtual') {
    const flags = /[^ \t\n\v\f\r]+/.exec(l.value)?.[0];
    return flags === undefined ? refuse('expected FLAG[,FLAG...] (ldirectord reads the first word of the value)') : { value: flags };
  }
  if (l.key === 'netmask' && where === 'virtual') {
    // checked whole, blanks and all (the raw value: a blank or a comment after it is refused)
    const whole = v6 ? /^\d+$/.test(l.raw) && Number(l.raw) >= 1 && Number(l.raw) <= 128 : /^\d+\.\d+\.\d+\.\d+$/.test(l.raw);
    return whole ? { value: l.raw } : refuse(v6 ? 'expected a prefix length 1..128 on an IPv6 virtual, and nothing after it' : 'expected a dotted quad like 255.255.255.0, and nothing after it');
  }
  if (QUOTED_ONLY[where].has(l.key)) {
    // `key\s*=\s*"(.*)"`: from the first double quote to the last, anything after it left out; not empty in a block (load: a word)
    const inner = l.value.slice(1, l.value.lastIndexOf('"'));
    if (where === 'virtual' && !(l.key === 'load' ? /\w/ : /./s).test(inner)) return refuse(`expected ${l.key}="TEXT", not empty`);
    return { value: `"${inner}"` };
  }
  if (NOT_EMPTY[where].has(l.key)) {
    // `$1 =~ /(.+)/ or config_error`: checkcommand= and fallbackcommand= in a block also take the value in double quotes
    const inner = where === 'virtual' ? /^"(.*)"/s.exec(l.value)?.[1] ?? l.value : l.value;
    return inner === '' ? refuse('expected a value, got none') : { value: l.value };
  }
  if (l.key === 'emailalert') {
    // read_emailalert: double quotes around the whole value are left out; nothing left is refused
    return /^(?:"")?$/.test(l.raw) ? refuse('expected an e-mail address, got none') : { value: l.value };
  }
  if (l.key === 'smtp') return /^[0-9A-Za-z._+-]/.test(l.value) ? { value: l.value } : refuse('expected an SMTP server\'s address or name');
  if (l.key === 'service' && where === 'virtual') {
    const word = /\w+/.exec(l.value)?.[0];
    return word !== undefined && LDIRECTORD_SERVICES.has(word) ? { value: word } : refuse(`expected one of ${[...LDIRECTORD_SERVICES].join(', ')} (case for case)`);
  }
  return { value: l.value };
}

/** `key=value` for a message, the value left out for a secret key. */
const shownLine = (l: Line) => SECRET_KEYS.some((k) => l.key.toLowerCase().startsWith(k)) ? `${l.key}=...` : `${l.key}=${l.value}`;

/** Why ldirectord refuses this line where it stands, or undefined. Never the value of a secret key. */
function refusedKey(l: Line, where: 'global' | 'virtual'): string | undefined {
  const place = where === 'global' ? 'outside a virtual= block' : 'in a virtual= block';
  const deprecated = own(DEPRECATED, l.key);
  if (deprecated) return `${l.key}= ${deprecated}: ldirectord refuses the line (and the file)`;
  if (!LDIRECTORD_KEYS[where].has(l.key)) {
    const elsewhere = where === 'global' ? LDIRECTORD_KEYS.virtual.has(l.key) ? ' (it is a virtual= block\'s setting: indent it under one, by a tab or four spaces)' : '' : LDIRECTORD_KEYS.global.has(l.key) ? ' (it is a global setting: at the start of a line, before the virtual= blocks)' : '';
    const lower = l.key !== l.key.toLowerCase() && LDIRECTORD_KEYS[where].has(l.key.toLowerCase()) ? ` (ldirectord matches keys case for case: ${l.key.toLowerCase()}=)` : '';
    return `ldirectord knows no ${l.key}= ${place}${elsewhere}${lower}, and refuses the line (and the file) as "Unknown command", got ${JSON.stringify(shownLine(l))}`;
  }
  if (QUOTED_ONLY[where].has(l.key) && !/^".*"/s.test(l.value)) return `expected ${l.key}="TEXT" (in double quotes: ldirectord refuses any other form, and the file, as "Unknown command")`;
  return undefined;
}

interface Line extends Origin {
  key: string;
  value: string;
  /** The value exactly as read_config captures it (blanks, a comment outside a block, a CR and all), which its yes/no compare whole. */
  raw: string;
  indented: boolean;
  /** The comment line just above, if any (lvsplay's own `# service NAME`). */
  comment?: string;
}

interface Block {
  virtual: Line;
  lines: Line[];
}

export interface LdirectordImport {
  services: ImportedService[];
  /** Inventory `ldirectord:` values the file sets (validated). */
  globals: Record<string, unknown>;
}

export function importLdirectord(file: string, text: string, report: Report, names: Names = new Names()): LdirectordImport {
  const problems: Problem[] = [];
  const { globals: globalLines, blocks } = readLines(file, text, problems);
  const globals: Record<string, unknown> = {};
  let fork = false;
  // ldirectord keeps two global fallbacks: fallback= for virtual= services, fallback6= for virtual6=.
  const fallbacks: GlobalFallbacks = {};
  for (const l of globalLines) {
    const key = own(GLOBALS, l.key);
    if (key) {
      const value = YES_NO.has(key) ? yesNo(l, problems) : NUMBERS.has(key) ? Number(l.value) : unquote(l.value);
      const checked = LdirectordGlobals.shape[key].safeParse(value);
      if (checked.success && value !== undefined) globals[key] = value;
      else report.notExpressed(l, `${l.key}=${l.value}: ${checked.success ? 'expected yes or no' : issue(checked.error)}`);
    } else if (l.key === 'fork') fork = yesNo(l, problems) ?? false;
    else if (l.key === 'fallback' || l.key === 'fallback6') fallbacks[l.key] = l;
    else report.notExpressed(l, unmodelled(l, 'global'));
  }
  Object.assign(globals, ldirectordDefaults(globals));
  const seen = new Map<string, Origin>();
  const services = blocks.flatMap((b) => {
    const s = readVirtual(b, { fork, fallbacks, seen }, report, problems, names);
    return s ? [s] : [];
  });
  // ldirectord writes fork=yes itself only when a virtual has its own checkinterval (renderLdirectordConf).
  const forkLine = globalLines.find((l) => l.key === 'fork');
  if (fork && forkLine && !services.some((s) => s.healthCheck?.interval !== undefined)) {
    report.notExpressed(forkLine, 'fork=yes: lvsplay writes fork=yes only when a virtual has its own checkinterval (none here), so the checks would run in one process');
  }
  if (problems.length > 0) throw new InputError(problems);
  return { services, globals };
}

/** ldirectord's set_defaults: where it logs without a logfile= line, and its timeouts when neither is set. */
const LDIRECTORD_LOG = '/var/log/ldirectord.log';
const DEFAULT_CHECKTIMEOUT = 5;
const DEFAULT_NEGOTIATETIMEOUT = 30;

/**
 * The globals where the file is silent, said outright where lvsplay's rendering would differ from
 * ldirectord's own defaults: lvsplay logs to syslog local0 by default, and it always writes
 * checktimeout (5 by default) and negotiatetimeout only when set. ldirectord's checktimeout falls
 * back to negotiatetimeout and then 5, its negotiatetimeout to checktimeout and then 30 (ld_setup),
 * so a lone negotiatetimeout=20 times connect checks out after 20 s, and neither line 30 s for
 * negotiate checks.
 */
function ldirectordDefaults(globals: Record<string, unknown>): Record<string, unknown> {
  const check = globals['check_timeout'] ?? globals['negotiate_timeout'] ?? DEFAULT_CHECKTIMEOUT;
  const negotiate = globals['negotiate_timeout'] ?? globals['check_timeout'] ?? DEFAULT_NEGOTIATETIMEOUT;
  return { logfile: globals['logfile'] ?? LDIRECTORD_LOG, check_timeout: check, ...(negotiate !== check && { negotiate_timeout: negotiate }) };
}

/** The host and service names a config uses (for `--from-host` to have the director resolve them). */
export function ldirectordNames(file: string, text: string): { hosts: string[]; ports: string[] } {
  const names = new Names(undefined, true);
  try {
    importLdirectord(file, text, new Report(), names);
  } catch (err) {
    if (!(err instanceof InputError)) throw err; // the real read reports it
  }
  return { hosts: [...names.hosts], ports: [...names.ports] };
}

/** `key=value`, blanks (Perl's) around the `=`. */
const KEY_VALUE = /^[ \t\n\v\f\r]*([A-Za-z0-9_]+)[ \t\n\v\f\r]*=[ \t\n\v\f\r]*(.*)$/s;

/** Split into global lines and virtual blocks, comments and blanks gone. */
function readLines(file: string, text: string, problems: Problem[]): { globals: Line[]; blocks: Block[] } {
  const globals: Line[] = [];
  const blocks: Block[] = [];
  let current: Block | undefined;
  let comment: string | undefined;
  // The block a blank line ended, until the next line without indent: an indented line then is an error ldirectord makes.
  let ended: Block | undefined;
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    const expanded = raw.replace(/\r$/, '').replaceAll('\t', '    ');
    const commentOnly = /^[ \t\n\v\f\r]*#[ \t\n\v\f\r]*(.*)$/s.exec(expanded);
    if (commentOnly) {
      comment = commentOnly[1];
      return;
    }
    const body = cTrim(expanded.replace(/[ \t\n\v\f\r]+#.*$/s, ''), 'end');
    if (cTrim(body) === '') {
      comment = undefined;
      ended = current ?? ended;
      current = undefined;
      return;
    }
    const indented = body.startsWith('    ');
    if (!indented && /^[ \t\n\v\f\r]/.test(body)) {
      // read_config takes a block's line by its indent (a tab or four spaces), a global one at the line's start
      problems.push({ file, line, col: 1, field: '', message: `a line indented by fewer than four spaces: ldirectord reads it neither as a virtual= block's (a tab or four spaces) nor as a global setting (at the line's start), and refuses it (and the file) as "Unknown command"` });
      return;
    }
    // `supervised` alone is read_config's supervised=yes
    const bareSupervised = /^supervised[ \t\n\v\f\r]*$/.test(body);
    const kv = bareSupervised ? [body, 'supervised', 'yes'] : KEY_VALUE.exec(body);
    if (!kv) {
      const bom = body.startsWith('\ufeff') ? ': the file starts with a byte order mark (U+FEFF), which ldirectord reads as part of this line, and refuses ("Unknown command"); save the file without it' : '';
      problems.push({ file, line, col: 1, field: '', message: `expected key=value (ldirectord.cf syntax), ${malformed(cTrim(body))}${bom}` });
      return;
    }
    // a block's line loses everything from its first # (s/#.*//), a global one nothing; the value then runs to the line's end
    const perl = indented ? raw.replace(/#.*$/s, '') : raw;
    const captured = bareSupervised ? 'yes' : KEY_VALUE.exec(perl)?.[2] ?? '';
    // the value as read_config captures it: a block's loses everything from its first # (`scheduler=wrr#x` is wrr), a global one keeps it
    const l: Line = { file, line, key: kv[1]!, value: cTrim(captured), raw: captured, indented, ...(comment !== undefined && { comment }) };
    comment = undefined;
    if (!indented) [current, ended] = [undefined, undefined];
    if (!indented && (l.key === 'virtual' || l.key === 'virtual6')) {
      current = { virtual: l, lines: [] };
      blocks.push(current);
      return;
    }
    const where = indented ? (current ? 'virtual' : undefined) : 'global';
    if (where) {
      const read = refusedKey(l, where) ?? readValue(l, where, current?.virtual.key === 'virtual6');
      if (typeof read === 'string') {
        problems.push({ file, line, col: 1, field: '', message: read });
        return;
      }
      l.value = read.value;
    }
    if (current) current.lines.push(l);
    else if (indented) {
      problems.push({ file, line, col: 1, field: '', message: ended
        ? `an indented ${l.key}= line after a blank line: ldirectord ends the virtual= block of line ${ended.virtual.line} at the blank line, then refuses this one ("Unknown command"); remove the blank line`
        : `an indented ${l.key}= line outside any virtual= block` });
    }
    else globals.push(l);
  });
  return { globals, blocks };
}

/**
 * What a line that is not `key=value` says in its error: itself, unless it names a secret key
 * anywhere (`passwd "x"`, `passwd:"x"`, `secretx`: a forgotten `=` leaves the value on the line),
 * then only that key: the value would otherwise reach the terminal and any log of it.
 */
function malformed(text: string): string {
  const secret = SECRET_KEYS.find((k) => new RegExp(`\\b${k}`, 'i').test(text));
  return secret === undefined ? `got ${JSON.stringify(text)}` : `got a line with ${secret} (not shown: it holds a secret)`;
}

type GlobalFallbacks = { fallback?: Line; fallback6?: Line };

/** `seen`: the virtuals read so far, by protocol, address and port (or mark), where their blocks start. */
function readVirtual(b: Block, global: { fork: boolean; fallbacks: GlobalFallbacks; seen: Map<string, Origin> }, report: Report, problems: Problem[], names: Names): ImportedService | undefined {
  const v6 = b.virtual.key === 'virtual6';
  const at: Origin = { file: b.virtual.file, line: b.virtual.line };
  const fail = (l: Origin, message: string) => problems.push({ file: l.file, line: l.line, col: 1, field: '', message });
  const target = readTarget(b.virtual.value, v6, names);
  if (typeof target === 'string') {
    fail(b.virtual, target);
    return undefined;
  }
  if ('unresolved' in target) {
    report.notExpressed(at, `service ${b.virtual.key}=${b.virtual.value} (and its real servers): ${target.unresolved}`);
    return undefined;
  }
  if (target.resolved) report.note(at, `${b.virtual.key}=${b.virtual.value}: ${target.resolved}`);
  if (target.ignored !== undefined) {
    const read = target.fwmark !== undefined ? `firewall mark ${target.fwmark}` : `${target.address}:${target.port}`;
    report.note(at, `${b.virtual.key}=${b.virtual.value}: ldirectord reads ${read} and leaves out the rest, ${JSON.stringify(target.ignored)}; imported as ${read}`);
  }
  const last = (key: string) => [...b.lines].reverse().find((l) => l.key === key);
  const protocolLine = last('protocol');
  // udp by default where the port is written 53 or domain (read_config's /:(53|domain)$/), tcp otherwise
  const protocol = protocolLine?.value ?? (target.port === undefined ? 'fwm' : /^(?:53|domain)$/.test(target.portText ?? '') ? 'udp' : 'tcp');
  if (!['tcp', 'udp', 'fwm'].includes(protocol) || (protocol === 'fwm') !== (target.port === undefined)) {
    fail(protocolLine ?? b.virtual, `protocol=${protocol} does not fit virtual${v6 ? '6' : ''}=${b.virtual.value} (expected tcp or udp for address:port, fwm for a firewall mark)`);
    return undefined;
  }
  const key: ServiceKey = target.port === undefined
    ? { kind: 'fwmark', fwmark: target.fwmark!, family: v6 ? 'ipv6' : 'ipv4' }
    : { kind: 'inet', protocol: protocol as 'tcp' | 'udp', address: target.address!, port: target.port };
  const name = serviceKey(key);
  // read_config refuses a second virtual of one protocol, address and port (or mark)
  const first = global.seen.get(name);
  if (first) {
    fail(b.virtual, `virtual ${name} again (its first block is at line ${first.line}): ldirectord refuses a duplicate virtual server (and the file)`);
    return undefined;
  }
  global.seen.set(name, at);
  const service: ImportedService = {
    origin: at, owner: 'ldirectord', key, scheduler: 'wrr', schedulerFlags: [], onePacket: false, forwarding: 'dr', members: [],
    ...(b.virtual.comment !== undefined && serviceName(b.virtual.comment)),
  };
  const members: MethodMember[] = [];
  const markPorts: { line: Line; port: number }[] = [];
  const check: Record<string, unknown> = {};
  let persistent: Line | undefined;
  let netmask: Line | undefined;
  let passwd: Line | undefined;
  const fallbackKey = v6 ? 'fallback6' : 'fallback';
  let fallback: Line | undefined = global.fallbacks[fallbackKey];
  for (const l of b.lines) {
    const checkField = own(CHECK_KEYS, l.key);
    // read_config refuses the other family's real= or fallback= in a virtual ("cannot specify ... here")
    const family = /^(real|fallback)(6?)$/.exec(l.key);
    if (family && (family[2] === '6') !== v6) fail(l, `expected ${family[1]}${v6 ? '6' : ''}= in a ${b.virtual.key}= section (ldirectord refuses ${l.key}= there), got ${l.key}=${l.value}`);
    else if (family?.[1] === 'real') members.push(...readReal(l, key, report, fail, names, markPorts));
    else if (family) fallback = l;
    else if (l.key === 'scheduler') {
      if ((SCHEDULERS as readonly string[]).includes(l.value)) service.scheduler = l.value;
      else {
        report.notExpressed(at, `service ${name} (and its real servers): scheduler=${l.value} is not one lvsplay knows (${SCHEDULERS.join(', ')})`);
        return undefined;
      }
    } else if (l.key === 'schedflags') {
      const flags = l.value.split(',').map((f) => cTrim(f)).filter((f) => f !== '');
      const unknown = flags.filter((f) => !(SCHEDULER_FLAGS as readonly string[]).includes(f));
      if (unknown.length > 0) report.notExpressed(l, `schedflags ${unknown.join(',')} (the inventory has ${SCHEDULER_FLAGS.join(', ')})`);
      service.schedulerFlags = flags.filter((f) => !unknown.includes(f));
    } else if (l.key === 'protocol') continue;
    else if (l.key === 'ops') {
      if (yesNo(l, problems) !== true) continue;
      if (protocol === 'udp') service.onePacket = true;
      else report.notExpressed(l, `ops=yes on a ${protocol} virtual: ldirectord applies one-packet scheduling to UDP only, so it has no effect here`);
    } else if (l.key === 'persistent') persistent = l;
    else if (l.key === 'netmask') netmask = l;
    else if (checkField) readCheckField(l, checkField, check, global.fork, report, problems);
    else if (l.key === 'passwd') {
      // never copied: the inventory names where the password is, on the control host
      check['passwd_env'] = passwordEnv(name);
      passwd = l;
    } else if (l.key === 'secret') report.notExpressed(l, 'secret= (a RADIUS secret: its value is not copied): lvsplay\'s checks have no RADIUS secret; the check would run without it');
    else report.notExpressed(l, unmodelled(l, 'virtual'));
  }
  // A flag for another scheduler is refused by the inventory (and by ipvsadm).
  const misfit = service.schedulerFlags.filter((f) => !f.startsWith(`${service.scheduler}-`));
  if (misfit.length > 0) {
    report.notExpressed(last('schedflags')!, `schedflags ${misfit.join(',')} do not belong to scheduler ${service.scheduler}`);
    service.schedulerFlags = service.schedulerFlags.filter((f) => !misfit.includes(f));
  }
  service.schedulerFlags.sort();
  if (persistent) {
    const timeout = Number(persistent.value);
    if (timeout < 1 || timeout > 2678400) fail(persistent, `expected persistent=SECONDS (1..2678400: ipvsadm refuses -p ${persistent.value}, so ldirectord cannot set this service up), got ${persistent.value}`);
    else service.persistence = { timeout, ...persistenceNetmask(netmask, key.kind === 'fwmark' ? key.family : v6 ? 'ipv6' : 'ipv4', report, fail) };
  } else if (netmask) report.notExpressed(netmask, 'netmask= without persistent=: ipvsadm uses the netmask only for persistence, so it has no effect');
  if (fallback) {
    const f = readFallback(fallback, v6, names);
    if (typeof f === 'string') fail(fallback, f);
    else if ('unresolved' in f) report.notExpressed(fallback, `${fallback.key}=${fallback.value}: ${f.unresolved}; the service is imported without its fallback`);
    else {
      const { resolved, ...fb } = f;
      if (resolved) report.note(fallback, `${fallback.key}=${fallback.value}: ${resolved}`);
      service.fallback = fb;
    }
  }
  if (check['type'] === undefined) check['type'] = 'negotiate';
  leaveOutUnused(check, b.lines, report);
  if (passwd && check['passwd_env'] !== undefined) {
    report.note(passwd, `passwd= (its value is not copied): the inventory reads this check's password from the environment variable ${passwordEnv(name)}: set it where lvsplay runs`);
  }
  checkPortFromMembers(check, markPorts, members.length, report);
  service.healthCheck = check as ImportedService['healthCheck'];
  const shared = sharedForwarding(members, report, 'dr');
  service.forwarding = shared.forwarding;
  if (shared.tunnel) service.tunnel = shared.tunnel;
  service.members = distinctServers(shared.members, report);
  if (service.members.length === 0) {
    report.notExpressed(at, `service ${name}: no real server could be imported, and an inventory service needs at least one`);
    return undefined;
  }
  return service;
}

const NEGOTIATE_ONLY: ReadonlySet<string> = new Set([...NEGOTIATE_STRINGS, ...NEGOTIATE_LOGIN]);

/**
 * ldirectord never reads a negotiate check's fields when the virtual's checktype is another
 * (connect, external, ping, off, on), and the inventory refuses them there: they are left out
 * with a note, not the whole service with them.
 */
function leaveOutUnused(check: Record<string, unknown>, lines: readonly Line[], report: Report): void {
  if (check['type'] === 'negotiate') return;
  // the inventory field each line set (passwd= sets passwd_env), when it is one only negotiate reads
  const unused = lines.flatMap((l) => {
    const field = l.key === 'passwd' ? 'passwd_env' : own(CHECK_KEYS, l.key);
    return field !== undefined && NEGOTIATE_ONLY.has(field) && check[field] !== undefined ? [{ l, field }] : [];
  });
  for (const { l } of unused) report.note(l, `${l.key}= is read only by negotiate checks, and this virtual's checktype is ${String(check['type'])}: ldirectord does not use it, so it is left out`);
  for (const { field } of unused) delete check[field];
}

/**
 * The ports on a firewall-mark virtual's gate/ipip real= lines: ldirectord checks each real server on
 * its own port when there is no checkport=. One port on every line is the service's check port (the
 * inventory has one per service); otherwise each is reported.
 */
function checkPortFromMembers(check: Record<string, unknown>, markPorts: readonly { line: Line; port: number }[], members: number, report: Report): void {
  if (markPorts.length === 0) return;
  const [first] = markPorts;
  if (check['port'] === undefined && markPorts.length === members && markPorts.every((p) => p.port === first!.port)) {
    check['port'] = first!.port;
    report.note(first!.line, `port ${first!.port} on the real servers of a firewall-mark virtual (the kernel keeps the packet's port): ldirectord checks them there, so it is the service's health_check.port`);
    return;
  }
  const why = check['port'] !== undefined ? 'checkport= is the port checked' : 'the inventory has one check port per service, and these real servers differ';
  for (const p of markPorts) report.notExpressed(p.line, `port ${p.port} on a real server of a firewall-mark virtual: the kernel keeps the packet's port, and ${why}`);
}

/**
 * `192.0.2.10:80`, `[2001:db8::10]:80` or a firewall mark `7`, as read_config reads virtual= and
 * virtual6=: the first of its patterns that matches the start of the value (IPv4:port for
 * virtual=, NAME:port, the digits of a firewall mark, [IPv6]:port for virtual6=); the rest of the
 * line is left out (a comment, or anything else: `virtual=10.0.0.1` is firewall mark 10 there).
 * `ignored`: that rest, when it is not a comment; `portText`: the port as written. A host or
 * service name (`www.example.com:http`) is well-formed for ldirectord, which resolves it when it
 * starts: it is read as the director resolved it, or said unresolved (names.ts).
 */
function readTarget(value: string, v6: boolean, names: Names): { address?: string; port?: number; portText?: string; fwmark?: number; resolved?: string; ignored?: string } | { unresolved: string } | string {
  const m = (!v6 ? /^(\d+\.\d+\.\d+\.\d+):([0-9A-Za-z_-]+)/.exec(value) : null) ?? /^([0-9A-Za-z._+-]+):([0-9A-Za-z_-]+)/.exec(value)
    ?? /^(\d+)/.exec(value) ?? /^\[([0-9A-Fa-f:]+)\]:([0-9A-Za-z_-]+)/.exec(value);
  const expected = `expected ${v6 ? '[IPv6 address]:port' : 'IPv4address:port'} or a firewall mark, got ${JSON.stringify(value)}`;
  if (!m) return expected;
  if (m[0].startsWith('[') && !v6) return `${expected}: ldirectord takes an IPv6 address in a virtual6= line only`;
  const rest = cTrim(value.slice(m[0].length));
  const ignored = rest === '' || rest.startsWith('#') ? {} : { ignored: rest };
  if (m[2] === undefined) {
    const fwmark = Number(m[1]);
    return fwmark >= 1 && fwmark <= 4294967295 ? { fwmark, ...ignored } : `expected a firewall mark 1..4294967295, got ${m[1]}`;
  }
  const r = names.resolve(m[1]!, m[2], v6);
  if ('unresolved' in r) return r;
  const { host: address, port } = r;
  if (!(v6 ? isIPv6(address) : isIPv4(address)) || !/^\d+$/.test(port ?? '') || Number(port) > 65535) return expected;
  return { address: canonicalAddress(address), port: Number(port), portText: m[2], ...(r.resolved && { resolved: r.resolved }), ...ignored };
}

/** The environment variable an imported check password is read from: `LVSPLAY_CHECK_PASS_TCP_192_0_2_13_3306`. */
const passwordEnv = (service: string) => `LVSPLAY_CHECK_PASS_${service.toUpperCase().replace(/[^A-Z0-9]+/g, '_').replace(/_+$/, '')}`;


/**
 * `real=ADDR[->ADDR][:port] gate|masq|ipip [weight] ["request", "receive"] [l:N] [u:N]`: one
 * member per address of the range, with the virtual's port when none is given (the kernel's port
 * for gate and ipip in any case).
 */
function readReal(l: Line, service: ServiceKey, report: Report, fail: (at: Origin, message: string) => void, names: Names, markPorts: { line: Line; port: number }[]): MethodMember[] {
  const v6 = l.key === 'real6';
  const m = /^(?:\[([^\]]+)\]|([^ \t\n\v\f\r:\[\]]+?))(?:->(?:\[([^\]]+)\]|([^ \t\n\v\f\r:\[\]]+?)))?(?::([\w-]+))?[ \t\n\v\f\r]+(\w+)(.*)$/s.exec(l.value);
  let first = m?.[1] ?? m?.[2];
  let lastAddress = m?.[3] ?? m?.[4];
  let portText = m?.[5];
  if (m && first !== undefined) {
    const r = names.resolve(first, portText, v6, lastAddress);
    const written = JSON.stringify(l.value.split(/[ \t\n\v\f\r]/)[0]);
    if ('unresolved' in r) {
      report.notExpressed(l, `real server ${written}: ${r.unresolved}`);
      return [];
    }
    if (r.resolved) report.note(l, `real server ${written}: ${r.resolved}`);
    [first, lastAddress, portText] = [r.host, r.last, r.port];
  }
  const isFamily = (a: string | undefined) => a !== undefined && (v6 ? isIPv6(a) : isIPv4(a));
  if (!m || !isFamily(first) || (lastAddress !== undefined && !isFamily(lastAddress)) || (portText !== undefined && !(/^\d+$/.test(portText) && Number(portText) <= 65535))) {
    fail(l, `expected ${l.key}=${v6 ? '[IPv6 address]' : 'IPv4address'}[:port] gate|masq|ipip [weight], got ${JSON.stringify(l.value)}`);
    return [];
  }
  const forwarding = own(METHODS, m[6]!);
  if (!forwarding) {
    fail(l, `expected the forwarding method gate, masq or ipip, got ${m[6]}`);
    return [];
  }
  const flags = realFlags(m[7]!);
  if ('leftover' in flags) {
    fail(l, `expected [weight] ["request", "receive"] [l:N] [u:N] after ${m[6]} (ldirectord's order), got ${JSON.stringify(flags.leftover)} left over`);
    return [];
  }
  const weight = flags.weight ?? 1;
  if (weight > 65535) {
    fail(l, `expected a weight 0..65535, got ${weight}`);
    return [];
  }
  if (flags.strings !== undefined) report.notExpressed(l, `the request/receive strings on this real= line (${flags.strings.length} characters): the inventory has one request and receive per service`);
  const servicePort = service.kind === 'inet' ? service.port : 0;
  let port = portText === undefined ? servicePort : Number(portText);
  if (forwarding !== 'nat' && port !== servicePort) {
    // A firewall-mark virtual's gate/ipip real server keeps the packet's port: its own port is the
    // port ldirectord checks it on (ld_checkport), which readVirtual makes the service's check port.
    if (service.kind === 'fwmark') markPorts.push({ line: l, port });
    else report.notExpressed(l, `port ${port} on a ${m[6]} real server: the kernel uses the virtual's port ${servicePort} for gate and ipip, and so does the inventory`);
    port = servicePort;
  }
  if (v6 && lastAddress !== undefined) {
    // add_real_server_range: "Address range for IPv6 is not supported yet", ldirectord's config error
    fail(l, `expected one IPv6 address per real6= line: ldirectord refuses a range there ("Address range for IPv6 is not supported yet"), got ${JSON.stringify(l.value.split(/[ \t\n\v\f\r]/)[0])}`);
    return [];
  }
  const addresses = range(first!, lastAddress);
  if (typeof addresses === 'string') {
    fail(l, addresses);
    return [];
  }
  return addresses.map((address) => ({
    origin: { file: l.file, line: l.line }, address, port, weight, upperThreshold: flags.u ?? 0, lowerThreshold: flags.l ?? 0,
    forwarding, ...(forwarding === 'tun' && { tunnel: { type: 'ipip' as const } }),
  }));
}

/**
 * What follows a real= line's method, read as ldirectord's add_real_server reads it: each part in
 * turn, searched (not anchored) in what the previous one left: the weight, the quoted request and
 * receive, `l:N`, `u:N`. Anything left is ldirectord's "Invalid real server line".
 */
function realFlags(rest: string): { weight?: number; strings?: string; l?: number; u?: number } | { leftover: string } {
  let flags = rest;
  const take = (re: RegExp) => {
    const found = re.exec(flags);
    if (found) flags = found[found.length - 1]!;
    return found;
  };
  const weight = take(/[ \t\n\v\f\r]+(\d+)(.*)/s)?.[1];
  const strings = take(/[ \t\n\v\f\r]+("(.*)"[, ][ \t\n\v\f\r]*"(.*)")(.*)/s)?.[1];
  const l = take(/[ \t\n\v\f\r]+l:(\d+)(.*)/s)?.[1];
  const u = take(/[ \t\n\v\f\r]+u:(\d+)(.*)/s)?.[1];
  if (/[^ \t\n\v\f\r]/.test(flags)) return { leftover: cTrim(flags) };
  return {
    ...(weight !== undefined && { weight: Number(weight) }), ...(strings !== undefined && { strings }),
    ...(l !== undefined && { l: Number(l) }), ...(u !== undefined && { u: Number(u) }),
  };
}

/** The addresses of `a->b` (ldirectord's range form), in order; just `a` without `b`. */
function range(a: string, b: string | undefined): string[] | string {
  const start = addressNumber(a);
  const end = b === undefined ? start : addressNumber(b);
  if (end < start || end - start >= BigInt(MAX_RANGE)) return `expected a range of 1..${MAX_RANGE} addresses, got ${a}->${b}`;
  const out: string[] = [];
  for (let n = start; n <= end; n++) out.push(numberAddress(n, addressFamily(a)));
  return out;
}

function readFallback(l: Line, v6: boolean, names: Names): { address: string; port?: number; forwarding: Forwarding; resolved?: string } | { unresolved: string } | string {
  const m = /^(?:\[([^\]]+)\]|([^ \t\n\v\f\r:\[\]]+))(?::([\w-]+))?(?:[ \t\n\v\f\r]+(\w+))?$/.exec(l.value);
  const expected = `expected ${l.key}=ADDRESS[:port] [gate|masq|ipip], got ${JSON.stringify(l.value)}`;
  if (!m || (m[1] ?? m[2]) === undefined) return expected;
  const r = names.resolve((m[1] ?? m[2])!, m[3], v6);
  if ('unresolved' in r) return r;
  const { host: address, port } = r;
  if (!(v6 ? isIPv6(address) : isIPv4(address)) || (port !== undefined && !(/^\d+$/.test(port) && Number(port) <= 65535))) return expected;
  const forwarding = own(METHODS, m[4] ?? 'gate');
  if (!forwarding) return `expected the forwarding method gate, masq or ipip, got ${m[4]}`;
  return { address: canonicalAddress(address), ...(port !== undefined && { port: Number(port) }), forwarding, ...(r.resolved && { resolved: r.resolved }) };
}

function persistenceNetmask(l: Line | undefined, family: 'ipv4' | 'ipv6', report: Report, fail: (at: Origin, message: string) => void): { netmask?: string | number } {
  if (!l) return {};
  if (family === 'ipv6') {
    const bits = Number(l.value); // 1..128, as readValue checked
    return bits === 128 ? {} : { netmask: bits };
  }
  if (!ipaddr.IPv4.isValidFourPartDecimal(l.value)) {
    fail(l, `expected a dotted netmask like 255.255.255.0, got ${l.value}`);
    return {};
  }
  const mask = ipaddr.IPv4.parse(l.value).toString();
  if (ipaddr.IPv4.parse(mask).prefixLengthFromSubnetMask() === null) {
    report.notExpressed(l, `netmask=${l.value} is not contiguous (the inventory takes masks like 255.255.255.0); imported with the default`);
    return {};
  }
  return mask === defaultNetmask('ipv4') ? {} : { netmask: mask };
}

function readCheckField(l: Line, key: keyof z.input<typeof HealthCheck>, check: Record<string, unknown>, fork: boolean, report: Report, problems: Problem[]): void {
  if (key === 'interval' && !fork) {
    report.notExpressed(l, 'checkinterval= in a virtual: ldirectord ignores it without fork=yes, so it is not imported (the global checkinterval applies)');
    return;
  }
  if ((key === 'request' || key === 'receive') && !/^".+"/.test(l.value)) {
    // read_config matches only request="..." (receive="..."): another form is its "Unknown command", an empty one its own error
    problems.push({ file: l.file, line: l.line, col: 1, field: '', message: `expected ${l.key}="TEXT" (in double quotes, not empty: ldirectord refuses any other form), got ${JSON.stringify(l.value)}` });
    return;
  }
  let value: unknown = unquote(l.value);
  if (key === 'quiescent') value = yesNo(l, problems);
  else if (['port', 'interval', 'timeout', 'failure_count'].includes(key)) value = /^\d+$/.test(l.value) ? Number(l.value) : l.value;
  else if (key === 'http_method') value = String(value).toUpperCase();
  if (key === 'type' && !['connect', 'negotiate', 'ping', 'external', 'off', 'on'].includes(String(value))) {
    report.notExpressed(l, /^\d+$/.test(String(value))
      ? `checktype=${l.value} (${l.value} connect checks, then a negotiate one): the inventory has connect or negotiate; imported as negotiate`
      : `checktype=${l.value}: not one of the inventory's ldirectord checks (connect, negotiate, ping, external, off, on); imported as negotiate`);
    check['type'] = 'negotiate';
    return;
  }
  const checked = HealthCheck.shape[key].safeParse(value);
  const shown = key === 'command' ? programOnly(String(value)) : l.value;
  // check_external: Perl's exec(LIST) of the whole value, then the four addresses and ports: no shell splits it.
  const why = key === 'command' && /[ \t]/.test(String(value))
    ? 'ldirectord runs checkcommand as one program, the whole value its path (exec with the virtual\'s and the real server\'s address and port as arguments, no shell), so there this is no program and the check always fails: put the arguments in a wrapper script'
    : undefined;
  if (!checked.success || value === undefined) report.notExpressed(l, `${l.key}=${shown}: ${why ?? (checked.success ? 'expected yes or no' : issue(checked.error))}`);
  else check[key] = value;
}

/** read_config's `$1 eq "yes" || $1 eq "no"`: the rest of the line, whole: another case, quotes, a trailing blank or comment are refused. */
function yesNo(l: Line, problems: Problem[]): boolean | undefined {
  if (l.raw === 'yes' || l.raw === 'no') return l.raw === 'yes';
  problems.push({ file: l.file, line: l.line, col: 1, field: '', message: `expected ${l.key}=yes or no, exactly (ldirectord compares the rest of the line: another case, quotes, or a blank or comment after it are refused), got ${JSON.stringify(l.raw)}` });
  return undefined;
}

function unquote(value: string): string {
  const m = /^"(.*)"$/s.exec(value);
  return m ? m[1]! : value;
}

/** lvsplay's own `# service NAME` comment above a virtual names it. */
function serviceName(comment: string): { name?: string } {
  const m = /^service ([^ \t\n\v\f\r]+)$/.exec(comment);
  return m && Name.safeParse(m[1]).success ? { name: m[1]! } : {};
}

function issue(error: z.ZodError): string {
  return error.issues[0]?.message ?? 'not a value the inventory takes';
}

function unmodelled(l: Line, where: 'global' | 'virtual'): string {
  return `${l.key}= (${where === 'global' ? 'a global setting' : 'a virtual setting'} the inventory does not model; lvsplay would not write it)`;
}
