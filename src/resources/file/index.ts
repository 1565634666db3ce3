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
import { ShellFragment, varsPrologue } from '../../util/shell.js';

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
}

export type FileActual =
  | { present: false }
  /** A symlink or a non-regular file at the path: never read through, never written. */
  | { present: false; refused: 'symlink' | 'other' }
  | { present: true; mode: string; owner: string; sha256: string; content: string };

export function fileProbe(templates: Templates, path: string): string {
  return templates.render('file/probe.sh.hbs', { path });
}

export function parseFileProbe(output: string): FileActual {
  const [head = '', body = ''] = output.trim().split('\n');
  const fields = head.split(' ');
  if (fields[0] === 'symlink' || fields[0] === 'other') return { present: false, refused: fields[0] };
  if (fields[0] !== 'present') return { present: false };
  // The checksum is computed here from the content the probe sends anyway: one process less per file on the host.
  const bytes = Buffer.from(body, 'base64');
  return { present: true, mode: fields[1] ?? '', owner: fields[2] ?? '', sha256: sha256(bytes), content: bytes.toString('utf8') };
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

export function diffFile(desired: FileDesired, actual: FileActual, templates: Templates): { changes: Change[]; script: string } {
  if ('refused' in actual) {
    throw new Error(`${desired.path} is ${actual.refused === 'symlink' ? 'a symbolic link' : 'not a regular file'}: lvsplay never writes through it; remove it or manage the file it points to`);
  }
  const sha = sha256(desired.content);
  const mode = Number.parseInt(desired.mode, 8).toString(8); // as `stat -c %a` prints it: 0644 → 644, 0040 → 40
  const changes: Change[] = [];
  if (!actual.present) {
    changes.push({ id: desired.path, action: 'add', summary: `+ file ${desired.path}`, before: '', after: desired.content });
  } else if (actual.sha256 !== sha) {
    changes.push({ id: desired.path, action: 'change', summary: `~ file ${desired.path}`, before: actual.content, after: desired.content });
  } else if (actual.mode !== mode || (desired.owner !== undefined && actual.owner !== desired.owner)) {
    const before = `mode ${actual.mode} owner ${actual.owner}`;
    const after = `mode ${mode} owner ${desired.owner ?? actual.owner}`;
    changes.push({ id: desired.path, action: 'change', summary: `~ file ${desired.path} ${before} → ${after}`, before, after });
  }
  if (changes.length === 0) return { changes, script: '' };
  // Only a changed content runs the on_change action: a mode fix is not a new configuration.
  const contentChanged = !actual.present || actual.sha256 !== sha;
  const script = contentChanged
    ? templates.render('file/write.sh.hbs', {
      path: desired.path,
      dir: dirname(desired.path),
      base64: Buffer.from(desired.content).toString('base64'),
      mode,
      owner: desired.owner ?? '',
      onChange: desired.onChange ?? '',
      verify: desired.verify ?? '',
    })
    : templates.render('file/attrs.sh.hbs', { path: desired.path, mode, owner: desired.owner ?? '' });
  return { changes, script };
}

export const file = defineResource({
  kind: 'file',
  desired(ctx: HostContext, args): FileDesired {
    const rendered = ctx.templates.render(args.template, templateData(ctx));
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
  probe: (desired, ctx) => fileProbe(ctx.templates, desired.path),
  parse: (output) => parseFileProbe(output),
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
