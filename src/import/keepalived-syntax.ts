/**
 * keepalived.conf's syntax, as its parser reads it: words separated by blanks; `{` and `}` open and
 * close blocks (on the keyword's line, on the next one, or inline: `real_server A 80 { weight 1 }`);
 * a comment from `#` or `!` outside double quotes; a backslash at the end of a line joins the next
 * one; double-quoted words keep their blanks (`\"` and `\\` escaped). Statements keep their line
 * and the comment line just above them (lvsplay's own `# service NAME`).
 */
import type { Problem } from '../util/problems.js';

export interface Statement {
  line: number;
  keyword: string;
  args: string[];
  block?: Statement[];
  /** The text of a comment line just above the statement. */
  comment?: string;
}

type Token = { line: number; text: string; kind: 'word' | 'open' | 'close' | 'end' } | { line: number; kind: 'comment'; text: string };

export function parseKeepalived(file: string, text: string, problems: Problem[]): Statement[] {
  const tokens = tokenize(file, text, problems);
  let i = 0;
  const block = (depth: number, opened: number): Statement[] => {
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
        if (depth === 0) problems.push({ file, line: t.line, col: 1, field: '', message: 'a "}" closes no block' });
        else return out;
      } else if (t.kind === 'open') {
        problems.push({ file, line: t.line, col: 1, field: '', message: 'a "{" without a keyword before it' });
        i++;
        block(depth + 1, t.line);
      } else {
        const s: Statement = { line: t.line, keyword: t.text, args: [], ...(comment !== undefined && { comment }) };
        comment = undefined;
        i++;
        while (i < tokens.length && tokens[i]!.kind === 'word') s.args.push(tokens[i++]!.text);
        // A block may open on the next line: skip line ends (not comments) to look for it.
        let j = i;
        while (j < tokens.length && tokens[j]!.kind === 'end') j++;
        if (j < tokens.length && tokens[j]!.kind === 'open') {
          i = j + 1;
          s.block = block(depth + 1, tokens[j]!.line);
        }
        out.push(s);
      }
    }
    if (depth > 0) problems.push({ file, line: opened, col: 1, field: '', message: 'this block is never closed: expected a "}" before the end of the file' });
    return out;
  };
  return block(0, 0);
}

function tokenize(file: string, text: string, problems: Problem[]): Token[] {
  const tokens: Token[] = [];
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = n + 1;
    let body = lines[n]!.replace(/\r$/, '');
    // A trailing backslash continues the line (keepalived joins them before reading words).
    while (body.endsWith('\\') && n + 1 < lines.length) body = body.slice(0, -1) + ' ' + lines[++n]!.replace(/\r$/, '');
    const commentOnly = /^\s*[#!]\s?(.*)$/.exec(body);
    if (commentOnly) {
      tokens.push({ line, kind: 'comment', text: commentOnly[1]! });
      continue;
    }
    let k = 0;
    while (k < body.length) {
      const c = body[k]!;
      if (c === ' ' || c === '\t') k++;
      else if (c === '#' || c === '!') break;
      else if (c === '{' || c === '}') {
        tokens.push({ line, kind: c === '{' ? 'open' : 'close', text: c });
        k++;
      } else if (c === '"') {
        let word = '';
        k++;
        while (k < body.length && body[k] !== '"') {
          if (body[k] === '\\' && k + 1 < body.length) k++;
          word += body[k++];
        }
        if (k >= body.length) problems.push({ file, line, col: k, field: '', message: 'a double quote is never closed on its line' });
        k++;
        tokens.push({ line, kind: 'word', text: word });
      } else {
        const start = k;
        while (k < body.length && !/[\s{}"#!]/.test(body[k]!)) k++;
        tokens.push({ line, kind: 'word', text: body.slice(start, k) });
      }
    }
    tokens.push({ line, kind: 'end', text: '' });
  }
  return tokens;
}
