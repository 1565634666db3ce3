/**
 * The apply and its verify probe as one script (one SSH session, not two), and its output split
 * back into the two (docs/architecture.md, "The pipeline").
 */
import { randomBytes } from 'node:crypto';
import type { HostPlan } from '../plan/types.js';
import { revealedApplyScript } from '../plan/pipeline.js';
import type { ExecResult } from '../transport/types.js';

/** A line no task prints: new for each apply, so no output of the apply can pass for it. */
export const verifyMark = () => `@@lvsplay-verify ${randomBytes(6).toString('hex')}@@`;

/**
 * The apply and its verify probe in one script: one SSH session, not two. The apply exits at its
 * first failed task, so the mark (on stdout and stderr) and the probe after it run only when every
 * task succeeded; the probe runs in a subshell, so no variable the apply set reaches it.
 */
export function applyThenVerify(lock: string, plan: HostPlan, probe: string, mark: string): string {
  return `${lock}${revealedApplyScript(plan)}printf '%s\\n' '${mark}'\nprintf '%s\\n' '${mark}' >&2\n(\n${probe.trimEnd()}\n)\n`;
}

/** The apply's part of the output, and the verify probe's (absent when the apply did not get that far). */
export function splitAtMark(out: ExecResult, mark: string): { applied: ExecResult; verified?: ExecResult } {
  const line = `${mark}\n`;
  const at = out.stdout.indexOf(line);
  if (at < 0) return { applied: out };
  const err = out.stderr.indexOf(line);
  const [errBefore, errAfter] = err < 0 ? [out.stderr, ''] : [out.stderr.slice(0, err), out.stderr.slice(err + line.length)];
  return {
    applied: { code: 0, stdout: out.stdout.slice(0, at), stderr: errBefore },
    verified: { code: out.code, stdout: out.stdout.slice(at + line.length), stderr: errAfter },
  };
}
