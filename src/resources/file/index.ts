/**
 * `file`: a rendered file, probed by checksum, written atomically with a backup, and an optional
 * action when it changed. The other resources that keep a file (sysctl.d, the saved IPVS rules,
 * ldirectord.cf) use the same three functions, so every file lvsplay writes behaves the same.
 */
import { createHash } from 'node:crypto';
import { dirname } from 'node:path';
import type { Change } from '../../plan/types.js';
import { defineResource, type HostContext } from '../resource.js';
import { kindOf, type Templates } from '../../templates/templates.js';
import { NOT_SHOWN, Secret, secretToken } from '../../util/secret.js';
import { ShellFragment, shq, varsPrologue } from '../../util/shell.js';

export interface FileDesired {
  path: string;
  content: string;
  /** Octal, as chmod takes it. */
  mode: string;
  owner?: string;
  /** Shell run after the file's content changed (rendered by lvsplay: a fragment, never a value). */
  onChange?: ShellFragment;
  /**
   * Shell run on the new content (at "$lvsplay_tmp") before it replaces the old file; non-zero
   * refuses it, leaving the old file in place (ldirectord's and keepalived's own config checks).
   */
  verify?: ShellFragment;
  /**
   * The content holds a secret (keepalived.conf with its VRRP password): it is never printed and
   * never read back. The probe sends the file's checksum and, for --diff, its content with each
   * line holding one of the `redact` keywords cut after the keyword (nothing when `redact` is
   * empty); the write script carries a token the runner replaces (util/secret.ts).
   */
  secret?: { redact: readonly string[] };
}

export type FileActual =
  | { present: false }
  /** A symlink or a non-regular file at the path: never read through, never written. */
  | { present: false; refused: 'symlink' | 'other' }
  /** `secret`: the probe sent the checksum and the redacted content only. */
  | { present: true; mode: string; owner: string; sha256: string; content: string; secret?: true };

/**
 * The probe of the file at `path`. `secret`: its content is never sent back (see FileDesired).
 * `expected`: the content lvsplay would write there; a file with exactly that content is answered
 * "same" instead of its content (parseFileProbe must then be given the same text): a small one
 * compared by the host's shell, a large one by its checksum.
 */
export function fileProbe(templates: Templates, path: string, options: { secret?: FileDesired['secret']; expected?: string } = {}): string {
  const { secret, expected } = options;
  if (secret) return templates.render('file/probe-secret.sh.hbs', { path, redact: secret.redact.map(sedRedaction) });
  if (expected === undefined) return templates.render('file/probe.sh.hbs', { path });
  // as sha256sum prints the checksum of its stdin
  const same = `${sha256(expected)}  -`;
  const size = Buffer.byteLength(expected);
  const small = size <= COMPARED_BY_SHELL_UP_TO && !expected.includes('\0');
  return templates.render('file/probe.sh.hbs', { path, same, big: SENT_UP_TO, ...(small && { small, text: new ShellFragment(shq(expected)), size }) });
}

/**
 * An expected content up to this size is compared on the host by the shell's own `read`: no
 * process (a `base64` is ~50 ms on an emulated director, more than the sysctl.d file's whole
 * check), and the file is sent only when it differs. The shell reads a byte per system call, so
 * a larger file costs more that way than one process.
 */
const COMPARED_BY_SHELL_UP_TO = 1024;

/** A file up to this size, when not compared by the shell, is always sent (one process, base64); only a larger one is checked on the host first. */
const SENT_UP_TO = 65536;

/** What replaces the rest of a line after a redacted keyword, on the host (sed) and here alike. */
const REDACTED = '(secret not shown)';
const KEYWORD = /^[a-z_]+$/;

/** sed's script for one keyword: lvsplay's own code (a sed script is code to sed), built from a checked keyword. */
function sedRedaction(keyword: string): ShellFragment {
  if (!KEYWORD.test(keyword)) throw new Error(`bad redaction keyword ${keyword}`);
  return new ShellFragment(shq(`s/${keyword}.*$/${keyword} ${REDACTED}/`));
}

/** The text with each line holding a keyword cut after it, as the probe's sed does on the host. */
export function redact(text: string, keywords: readonly string[]): string {
  return text.split('\n').map((line) => keywords.reduce((l, k) => l.replace(new RegExp(`${k}.*$`, 's'), `${k} ${REDACTED}`), line)).join('\n');
}

/** `expected`: the content the probe was given (fileProbe), which a "same" answer stands for. */
export function parseFileProbe(output: string, expected?: string): FileActual {
  const [head = '', body = '', shown = ''] = output.trim().split('\n');
  const fields = head.split(' ');
  if (fields[0] === 'symlink' || fields[0] === 'other') return { present: false, refused: fields[0] };
  if (fields[0] !== 'present') return { present: false };
  const [mode = '', owner = ''] = fields.slice(1);
  // A secret file: its checksum as sha256sum prints it ("sha256 HASH  -"), then the redacted text.
  if (body.startsWith('sha256 ')) {
    return { present: true, mode, owner, sha256: body.split(/\s+/)[1] ?? '', content: Buffer.from(shown, 'base64').toString('utf8'), secret: true };
  }
  if (body === 'same') {
    if (expected === undefined) throw new Error('a file probe answered "same" to a probe that expected no content');
    return { present: true, mode, owner, sha256: sha256(expected), content: expected };
  }
  // The checksum is computed here from the content the probe sends anyway: one process less per file on the host.
  const bytes = Buffer.from(body, 'base64');
  return { present: true, mode, owner, sha256: sha256(bytes), content: bytes.toString('utf8') };
}

export const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/** A present file as if it held `content` instead: the checksum follows the content (diffs compare checksums). */
export function withContent(actual: Extract<FileActual, { present: true }>, content: string): FileActual {
  return { ...actual, content, sha256: sha256(content) };
}

/** Whether the file's content must be (re)written: absent, or another checksum. */
export function contentDiffers(desired: FileDesired, actual: FileActual): boolean {
  return !actual.present || actual.sha256 !== sha256(desired.content);
}

export function diffFile(desired: FileDesired, actual: FileActual, templates: Templates): { changes: Change[]; script: string; secrets?: Secret[] } {
  if ('refused' in actual) {
    throw new Error(`${desired.path} is ${actual.refused === 'symlink' ? 'a symbolic link' : 'not a regular file'}: lvsplay never writes through it; remove it or manage the file it points to`);
  }
  const sha = sha256(desired.content);
  const bits = Number.parseInt(desired.mode, 8);
  const mode = bits.toString(8); // as `stat -c %a` prints it: 0644 → 644, 0040 → 40
  // A secret file shows its redacted text, or nothing; every change about its content says so.
  const secret = desired.secret;
  const shown = (text: string): { text?: string } => (!secret ? { text } : secret.redact.length > 0 ? { text: redact(text, secret.redact) } : {});
  const side = (key: 'before' | 'after', text: string) => {
    const s = shown(text);
    return s.text === undefined ? {} : { [key]: s.text };
  };
  const marked = secret ? { secret: true as const } : {};
  const suffix = !secret ? '' : secret.redact.length > 0 ? ' (secrets not shown)' : ` ${NOT_SHOWN}`;
  const changes: Change[] = [];
  if (!actual.present) {
    changes.push({ id: desired.path, action: 'add', summary: `+ file ${desired.path}${suffix}`, ...side('before', ''), ...side('after', desired.content), ...marked });
  } else if (actual.sha256 !== sha) {
    changes.push({ id: desired.path, action: 'change', summary: `~ file ${desired.path}${suffix}`, ...side('before', actual.content), ...side('after', desired.content), ...marked });
  } else if (actual.mode !== mode || (desired.owner !== undefined && actual.owner !== desired.owner)) {
    const before = `mode ${actual.mode} owner ${actual.owner}`;
    const after = `mode ${mode} owner ${desired.owner ?? actual.owner}`;
    changes.push({ id: desired.path, action: 'change', summary: `~ file ${desired.path} ${before} → ${after}`, before, after });
  }
  if (changes.length === 0) return { changes, script: '' };
  // Only a changed content runs the on_change action: a mode fix is not a new configuration.
  const contentChanged = !actual.present || actual.sha256 !== sha;
  // A secret goes in as a token the runner replaces (base64: one word whatever it holds); a NUL
  // cannot be in a shell word. Anything else is written by the shell's own printf.
  const base64 = secret || desired.content.includes('\0') ? Buffer.from(desired.content).toString('base64') : undefined;
  const hidden = secret && contentChanged ? new Secret(secretToken(desired.path), base64!) : undefined;
  const script = contentChanged
    ? templates.render('file/write.sh.hbs', {
      path: desired.path,
      dir: dirname(desired.path),
      ...(base64 === undefined ? { content: new ShellFragment(shq(desired.content)) } : { base64: hidden ? hidden.token : base64 }),
      mode,
      // A read-only mode is set once the content is in: the owner may not be root.
      fillMode: (bits | 0o200).toString(8),
      readOnly: (bits & 0o200) === 0,
      owner: desired.owner ?? '',
      onChange: desired.onChange ?? '',
      verify: desired.verify ?? '',
    })
    : templates.render('file/attrs.sh.hbs', { path: desired.path, mode, owner: desired.owner ?? '' });
  return { changes, script, ...(hidden && { secrets: [hidden] }) };
}

export const file = defineResource({
  kind: 'file',
  desired(ctx: HostContext, args): FileDesired {
    const rendered = ctx.templates.renderChosen(args.template, templateData(ctx));
    // A shell script file reads its vars as $LVSPLAY_VAR_<name>, like a shell task (after any #! line).
    const content = kindOf(args.template) === 'shell' ? withPrologue(rendered, varsPrologue(ctx.vars)) : rendered;
    const action = args.on_change;
    const [verb, unit] = action === undefined ? [] : 'reload' in action ? ['reload', action.reload] : ['restart', action.restart];
    return {
      path: args.path,
      content,
      mode: args.mode,
      ...(unit !== undefined && { onChange: new ShellFragment(ctx.templates.render('service/action.sh.hbs', { unit, verb })) }),
    };
  },
  probe: (desired, ctx) => fileProbe(ctx.templates, desired.path, { ...(desired.secret ? { secret: desired.secret } : { expected: desired.content }) }),
  parse: (output, desired) => parseFileProbe(output, desired.content),
  diff: (desired, actual, ctx) => diffFile(desired, actual, ctx.templates),
});

/** What a user's template sees: the host, its vars (play vars win) and the cluster's services. */
export function templateData(ctx: HostContext): object {
  return { host: ctx.host, vars: ctx.vars, services: ctx.cluster.services, cluster: { directors: ctx.cluster.directors, real_servers: ctx.cluster.realServers } };
}

function withPrologue(script: string, prologue: string): string {
  if (!script.startsWith('#!')) return prologue + script;
  const cut = script.indexOf('\n') + 1 || script.length;
  return script.slice(0, cut) + prologue + script.slice(cut);
}
