/**
 * keepalived.conf's syntax, as its parser reads it: words separated by blanks; `{` and `}` open and
 * close blocks (on the keyword's line, on the next one, or inline: `real_server A 80 { weight 1 }`);
 * a comment from `#` or `!` outside double quotes; a backslash at the end of a line joins the next
 * one only in a `$NAME=` definition (elsewhere it is part of the last word); double-quoted words keep their blanks, their backslash escapes read as keepalived reads the
 * quoted values lvsplay writes (regex, misc_path: `\042`, `\\`, `\n`); an `include PATTERN` line
 * (and includer/m/w/b/a) is replaced by the files the pattern names, read as part of this one
 * wherever it stands (inside a block too), as keepalived's read_line does. Statements keep their
 * file and line, and the comment line just above them (lvsplay's own `# service NAME`). A secret
 * (the value of a keyword in keepalived/keys.ts REDACT: auth_pass...) is not kept.
 */
import { REDACT as SECRET_KEYWORDS, VRRP_PASS_MAX, writableVrrpPass } from '../resources/keepalived/keys.js';
import { own } from '../util/own.js';
import type { Problem } from '../util/problems.js';
import { NOT_SHOWN } from '../util/secret.js';
import type { Origin } from './model.js';

/** The files an include pattern names, in keepalived's order (`at`: the include line, whose file a relative pattern starts from). */
export type IncludeReader = (pattern: string, at: Origin) => { file: string; text: string }[];

export interface ReadOptions {
  include?: IncludeReader;
  /**
   * keepalived's config id (`-i`, by default the host name up to its first dot): an `@ID` line is
   * read only where it is ID, an `@^ID` line only where it is not. Unknown (a file read here, not
   * from its director), such a line is left out and `skipped` says so.
   */
  configId?: string;
  skipped?: (at: Origin, message: string) => void;
}

/** Definitions replace themselves again in what they bring; a loop of them stops here. */
const MAX_SUBSTITUTIONS = 32;

/** keepalived has no limit of its own; a loop of includes would otherwise never end. */
const MAX_INCLUDE_DEPTH = 16;
const MAX_BLOCK_DEPTH = 32;

export interface Statement {
  file: string;
  line: number;
  keyword: string;
  args: string[];
  block?: Statement[];
  /** The text of a comment line just above the statement. */
  comment?: string;
  /** auth_pass: its value's shape (the value itself is never kept). */
  secret?: SecretShape;
}

type Token = { file: string; line: number; text: string; kind: 'word' | 'open' | 'close' | 'end' | 'comment'; secret?: SecretShape };

/** What may be said of an auth_pass without showing it: longer than keepalived uses, and whether lvsplay can write it. */
export interface SecretShape {
  long: boolean;
  writable: boolean;
}

/** Where a statement was read, for the report. */
export const origin = (s: Statement): Origin => ({ file: s.file, line: s.line });

/** A problem at a statement's (or a token's, or an include line's) line. */
export const problemAt = (at: Origin, message: string): Problem => ({ file: at.file, line: at.line, col: 1, field: '', message });

export function parseKeepalived(file: string, text: string, problems: Problem[], options: ReadOptions = {}): Statement[] {
  const tokens = tokenize(file, text, problems, options, { chain: [file], definitions: new Map() });
  let i = 0;
  const block = (depth: number, opened: Token | undefined): Statement[] => {
    const out: Statement[] = [];
    let comment: string | undefined;
    while (i < tokens.length) {
      const t = tokens[i]!;
      if (t.kind === 'comment') {
        comment = t.text;
        i++;
      } else if (t.kind === 'end') {
        i++;
      } else if (t.kind === 'close') {
        i++;
        if (depth === 0) problems.push(problemAt(t, 'a "}" closes no block'));
        else return out;
      } else if (t.kind === 'open') {
        problems.push(problemAt(t, 'a "{" without a keyword before it'));
        i++;
        nested(depth + 1, t);
      } else {
        const s: Statement = { file: t.file, line: t.line, keyword: t.text, args: [], ...(comment !== undefined && { comment }) };
        comment = undefined;
        i++;
        while (i < tokens.length && tokens[i]!.kind === 'word') {
          if (tokens[i]!.secret) s.secret = tokens[i]!.secret;
          s.args.push(tokens[i++]!.text);
        }
        // A block may open on the next line: skip line ends (not comments) to look for it.
        let j = i;
        while (j < tokens.length && tokens[j]!.kind === 'end') j++;
        if (j < tokens.length && tokens[j]!.kind === 'open') {
          i = j + 1;
          s.block = nested(depth + 1, tokens[j]!);
        }
        out.push(s);
      }
    }
    if (depth > 0 && opened) problems.push(problemAt(opened, 'this block is never closed: expected a "}" before the end of the file'));
    return out;
  };
  // keepalived's own blocks nest 6 deep at most (virtual_server, real_server, checker, url...): a
  // deeper one is refused and skipped without recursing, so no input can exhaust the stack.
  const nested = (depth: number, opened: Token): Statement[] => {
    if (depth <= MAX_BLOCK_DEPTH) return block(depth, opened);
    problems.push(problemAt(opened, `blocks nested more than ${MAX_BLOCK_DEPTH} deep: keepalived.conf's nest a few levels`));
    for (let open = 1; i < tokens.length && open > 0; i++) open += tokens[i]!.kind === 'open' ? 1 : tokens[i]!.kind === 'close' ? -1 : 0;
    return [];
  };
  return block(0, undefined);
}

/**
 * `chain`: the files being read, outermost first (a file including itself, directly or not, is
 * refused); `definitions`: keepalived's `$NAME=value` lines so far, in every file (they are global).
 */
function tokenize(file: string, text: string, problems: Problem[], options: ReadOptions, state: { chain: string[]; definitions: Map<string, string> }): Token[] {
  const { include } = options;
  const { chain } = state;
  const tokens: Token[] = [];
  // keepalived's decomment drops the blanks before a final backslash: `lvs_method \` is the one
  // word `lvs_method\`, a keyword it does not know.
  const lines = text.split('\n').map((l) => l.replace(/\r$/, '').replace(/[ \t]+\\$/, '\\'));
  let n = 0;
  /**
   * A definition's value: keepalived's read_line goes on past a final backslash only here (a
   * multi-line definition), taking each next line trimmed as a line of the value, until one without
   * it or an empty line; a comment line is passed over. Anywhere else a backslash ends nothing.
   */
  const definitionValue = (first: string): string => {
    const parts: string[] = [];
    let part = first.trimEnd();
    while (part.endsWith('\\') && n + 1 < lines.length && lines[n + 1] !== '') {
      parts.push(part.slice(0, -1).trimEnd());
      part = uncommented(lines[++n]!).trim() || '\\';
    }
    parts.push(part.replace(/\\$/, ''));
    return parts.filter((p) => p !== '').join('\n');
  };
  /** One line, as keepalived's read_line reads it; `substitute`: not yet a definition's line replaced in it. */
  const readLine = (raw: string, line: number, substitute: boolean): void => {
    let body = raw;
    const commentOnly = /^\s*[#!]\s?(.*)$/.exec(body);
    if (commentOnly) {
      tokens.push({ file, line, kind: 'comment', text: commentOnly[1]! });
      return;
    }
    const at = { file, line };
    // As keepalived's read_line: a conditional line first, then a definition (kept as written), then
    // the definitions replaced in the line, and only then an include or the words.
    const conditional = /^\s*@(\^?)(\S*)(?:\s+(.*))?$/.exec(body);
    if (conditional) {
      const [, not, id, rest] = conditional;
      if (rest === undefined) return;
      if (options.configId === undefined) {
        options.skipped?.(at, `@${not}${id} line: keepalived reads it only where its config id (the host name) ${not ? 'is not' : 'is'} ${id}, and which host this file is for is unknown here (--from-host knows): left out`);
        return;
      }
      if ((options.configId === id) === (not === '^')) return;
      body = rest;
    }
    // check_definition: the name is letters, digits and `_` up to the `=`; `$NAME = x` (a blank
    // first) is no definition, but a line of words whose keyword keepalived does not know.
    const definition = /^\s*\$([A-Za-z_]\w*)=\s*(.*)$/.exec(uncommented(body));
    if (definition) {
      state.definitions.set(definition[1]!, definitionValue(definition[2]!));
      return;
    }
    if (substitute && state.definitions.size > 0 && body.includes('$')) {
      body = substituted(body, state.definitions);
      // A multi-line definition brings its lines, each read as a line of its own (at the line using it).
      if (body.includes('\n')) {
        for (const piece of body.split('\n')) readLine(piece, line, false);
        return;
      }
    }
    const included = include && /^\s*include[rmwba]?\s+([^#!]*)/.exec(body)?.[1]?.trim();
    if (included) {
      if (chain.length > MAX_INCLUDE_DEPTH) problems.push(problemAt(at, `includes nested more than ${MAX_INCLUDE_DEPTH} deep: ${chain.join(' → ')}`));
      else {
        for (const f of include(included, at)) {
          if (chain.includes(f.file)) problems.push(problemAt(at, `${f.file} includes itself: ${[...chain, f.file].join(' → ')}`));
          else tokens.push(...tokenize(f.file, f.text, problems, options, { ...state, chain: [...chain, f.file] }));
        }
      }
      return;
    }
    const words = tokens.length;
    readWords(body, at, tokens, problems);
    hideSecrets(tokens.slice(words));
    tokens.push({ file, line, kind: 'end', text: '' });
  };
  for (; n < lines.length; n++) readLine(lines[n]!, n + 1, true);
  return tokens;
}

/**
 * keepalived's blanks (parser.c's WHITE_SPACE_STR, less the newline a line has not): any other
 * character is part of a word, as keepalived reads it (a UTF-8 byte order mark, a no-break space).
 */
export const BLANKS = ' \t\f\v\r';
const BLANK = new RegExp(`[${BLANKS}]`);
const WORD_END = new RegExp(`[${BLANKS}{}"#!]`);
/** A line's first word, its keyword. */
const KEYWORD = new RegExp(`^[${BLANKS}]*([^${BLANKS}{}"#!]*)`);

/**
 * The keywords whose handlers read their line again with alloc_strvec_quoted_escaped, where a
 * backslash escapes in a quoted word (`\"` does not end it): check_http.c's regex, check_misc.c's
 * misc_path, a vrrp_script's script and the notify scripts (notify.c). Every other line is read by
 * alloc_strvec_r only: a quoted word ends at the next `"`, and a backslash is itself.
 */
const ESCAPED_KEYWORDS = /^(regex|misc_path|script|notify\w*)$/;

/** A line's words and braces: blanks separate words; a `#` or `!` starts a comment; double-quoted words keep their blanks. */
function readWords(body: string, { file, line }: Origin, tokens: Token[], problems: Problem[]): void {
  const escapes = ESCAPED_KEYWORDS.test(KEYWORD.exec(body)![1]!);
  let k = 0;
  while (k < body.length) {
    const c = body[k]!;
    if (BLANK.test(c)) k++;
    else if (c === '#' || c === '!') break;
    else if (c === '{' || c === '}') {
      tokens.push({ file, line, kind: c === '{' ? 'open' : 'close', text: c });
      k++;
    } else if (c === '"') {
      let word = '';
      k++;
      while (k < body.length && body[k] !== '"') {
        if (escapes && body[k] === '\\' && k + 1 < body.length) {
          const [c, next] = escape(body, k + 1);
          word += c;
          k = next;
        } else word += body[k++];
      }
      if (k >= body.length) problems.push({ file, line, col: k, field: '', message: 'a double quote is never closed on its line' });
      k++;
      tokens.push({ file, line, kind: 'word', text: word });
    } else {
      const start = k;
      while (k < body.length && !WORD_END.test(body[k]!)) k++;
      tokens.push({ file, line, kind: 'word', text: body.slice(start, k) });
    }
  }
}

const NAMED_ESCAPES: Record<string, string> = { a: '\x07', b: '\b', E: '\x1b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

/**
 * The escape after a backslash at `k`, as alloc_strvec_quoted_escaped reads it (the reader of
 * regex and misc_path, the quoted values lvsplay writes): `\x` and every hex digit after it, `\c`
 * and a character (its control character), one to three octal digits, `\a\b\E\f\n\r\t\v`, else
 * the character itself (`\"`, `\\`). A value is one byte, as its C `char`. Returns the character
 * and the index after the escape.
 */
function escape(body: string, k: number): [string, number] {
  const c = body[k]!;
  /** The end of the run of `digits` from `from`, `max` of them at most. */
  const run = (from: number, digits: RegExp, max: number) => {
    let end = from;
    while (end < body.length && end - from < max && digits.test(body[end]!)) end++;
    return end;
  };
  if (c === 'x' && /[0-9A-Fa-f]/.test(body[k + 1] ?? '')) {
    const end = run(k + 1, /[0-9A-Fa-f]/, Infinity);
    // each digit shifts the char left by 4: what is left is the last two
    return [String.fromCharCode(parseInt(body.slice(Math.max(k + 1, end - 2), end), 16)), end];
  }
  if (c === 'c' && k + 1 < body.length) return [String.fromCharCode(body.charCodeAt(k + 1) & 0x1f), k + 2];
  if (c >= '0' && c <= '7') {
    const end = run(k, /[0-7]/, 3);
    return [String.fromCharCode(parseInt(body.slice(k, end), 8) & 0xff), end];
  }
  return [own(NAMED_ESCAPES, c) ?? c, k + 1];
}

/**
 * A line's words from a secret keyword on are replaced, as they are read: the import never uses
 * the value (the inventory reads it from the environment), and so no report or error can show it,
 * whatever the line is (`auth_pass=x`, `auth_passx` and `auth_pass:x` are keywords keepalived does
 * not know, reported by name). The word keeps its keyword, so a well-formed line reads as before.
 */
function hideSecrets(line: Token[]): void {
  const at = line.findIndex((t) => t.kind === 'word' && SECRET_KEYWORDS.some((k) => t.text.startsWith(k)));
  if (at < 0) return;
  const keyword = SECRET_KEYWORDS.find((k) => line[at]!.text.startsWith(k))!;
  const value = line[at]!.text === 'auth_pass' ? line.slice(at + 1).find((t) => t.kind === 'word') : undefined;
  // vrrp_auth_pass_handler takes the first word, and its first 8 bytes
  if (value) value.secret = { long: Buffer.byteLength(value.text) > VRRP_PASS_MAX, writable: writableVrrpPass(value.text) };
  if (line[at]!.text !== keyword) line[at]!.text = `${keyword}${NOT_SHOWN}`;
  for (const t of line.slice(at + 1)) if (t.kind === 'word') t.text = NOT_SHOWN;
}

/** The line up to its comment (`#` or `!` outside double quotes). */
function uncommented(line: string): string {
  let quoted = false;
  for (let k = 0; k < line.length; k++) {
    if (line[k] === '"') quoted = !quoted;
    else if (!quoted && (line[k] === '#' || line[k] === '!')) return line.slice(0, k);
  }
  return line;
}

/**
 * `$NAME` (before a blank, `,`, `)` or the end) and `${NAME}` replaced by their definitions, again in
 * what they bring; an undefined name stays as written, as keepalived leaves it.
 */
function substituted(line: string, definitions: Map<string, string>): string {
  let out = line;
  for (let round = 0; round < MAX_SUBSTITUTIONS; round++) {
    const next = out.replace(/\$\{([A-Za-z_]\w*)\}|\$([A-Za-z_]\w*)(?=[\s,)]|$)/g, (whole, braced?: string, bare?: string) => definitions.get((braced ?? bare)!) ?? whole);
    if (next === out) break;
    out = next;
  }
  return out;
}
