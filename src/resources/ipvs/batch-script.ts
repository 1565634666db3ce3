/**
 * The ipvs task's script: the diff's operations as ONE `ipvsadm -R` batch, guarded by a check that
 * the services it touches are still as probed, with a precise rollback (templates/ipvs/apply.sh.hbs
 * explains the protocol). This module renders it and applies nothing: it prepares and checks the
 * data the template embeds.
 */
import { createHash } from 'node:crypto';
import type { Templates } from '../../templates/templates.js';
import { linesFile, linesText, ShellFragment, shq } from '../../util/shell.js';
import type { Operation } from './diff.js';
import { lineSpec } from './forms.js';

/**
 * A batch line: a command ipvsadm -R can run (never -C or anything else), then only options
 * ipvsadm knows and values of a plain shape (numbers, addresses, names): one line of ipvsadm's
 * own syntax, whatever the inventory held (the files it goes into are shell-quoted anyway).
 */
const OPTION = '-[tufs6pMorgimwxyb]|--sctp-service|--pe|--tun-type|--tun-port|--tun-nocsum|--tun-csum|--tun-remcsum';
/** A conditional line's service and real server as `ipvsadm -L -n` lists them. */
const LISTED = /^(TCP|UDP|SCTP) (\d{1,3}(\.\d{1,3}){3}|\[[0-9a-f:.]{2,45}\]):\d{1,5}$|^FWM -?\d{1,10}( IPv6)?$/;
const LISTED_DEST = /^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-f:.]{2,45}\]):\d{1,5}$/;
const VALUE = '[0-9]{1,10}|[0-9]{1,3}(\\.[0-9]{1,3}){3}(:[0-9]{1,5})?|\\[[0-9a-f:.]{2,45}\\]:[0-9]{1,5}|[a-z][a-z0-9_]{0,14}|[a-z][a-z0-9-]{0,15}(,[a-z][a-z0-9-]{0,15}){0,3}';
export const BATCH_LINE = new RegExp(`^-[AEDaed]( (${OPTION}|${VALUE}))+$`);

export function checkBatchLine(line: string): string {
  if (!BATCH_LINE.test(line)) throw new Error(`refusing to embed an unexpected ipvsadm line in a script: ${JSON.stringify(line)}`);
  return line;
}

/**
 * sha256 of the lines of `ipvsadm -S -n` that belong to the given services, each ending in a newline:
 * the script recomputes it on the host (awk + sha256sum) to see whether those services changed since
 * the probe. Only the touched services count, so ldirectord moving its own real servers in between
 * does not block an apply.
 */
export function touchedDigest(save: string, specs: ReadonlySet<string>): string {
  const kept = save.split('\n').filter((l) => l.trim() !== '' && specs.has(lineSpec(l)));
  return createHash('sha256').update(kept.map((l) => l + '\n').join('')).digest('hex');
}

export interface ApplyData {
  count: number;
  sha: string;
  touched: string[];
  batch: string[];
  /** `N line`: the inverse lines, batch line N's group by group from the last to the first. */
  undo: string[];
  /** `N<TAB>listed service<TAB>real server<TAB>drain line or -<TAB>its inverse or -`: deletes re-checked right before the batch. */
  conditional: string[];
  /** `listed service<TAB>real server<TAB>delete line`: leaving real servers the batch drains, deleted once idle. */
  waiting: string[];
}

/**
 * The files the script's slower paths read (a rewritten batch, the rollback, the drain wait), made
 * only when one is taken (util/shell.ts linesFile): every line validated first. The batch file is
 * written from the script's own variable.
 */
function files(data: ApplyData): ShellFragment {
  return new ShellFragment([
    linesFile('"$d/undo"', data.undo),
    linesFile('"$d/conditional"', data.conditional),
    linesFile('"$d/waiting"', data.waiting),
  ].map((f) => f.code).join(''));
}

/**
 * `expectedSave`: the probed `-S -n` text as the batch will find it (services ldirectord releases
 * before this task runs already gone), so the stale check compares with what should be there.
 */
export function applyData(operations: Operation[], expectedSave: string): ApplyData {
  const touched = [...new Set(operations.map((op) => op.spec))];
  const batch = operations.map((op) => checkBatchLine(op.line));
  // Groups from the last batch line to the first; each group keeps its own order (-A before its -a's).
  const undo = operations.map((op, i) => op.inverse.map((l) => `${i + 1} ${checkBatchLine(l)}`)).reverse().flat();
  const conditional = operations.flatMap((op, i) => {
    const c = op.conditional;
    if (!c) return [];
    return [[i + 1, ...checkListed(c), c.drain ? checkBatchLine(c.drain.line) : '-', c.drain ? checkBatchLine(c.drain.inverse) : '-'].join('\t')];
  });
  const waiting = operations.flatMap((op) => (op.removal ? [[...checkListed(op.removal), checkBatchLine(op.removal.line)].join('\t')] : []));
  return { count: batch.length, sha: touchedDigest(expectedSave, new Set(touched)), touched, batch, undo, conditional, waiting };
}

function checkListed(c: { listed: string; dest: string }): [string, string] {
  if (!LISTED.test(c.listed) || !LISTED_DEST.test(c.dest)) throw new Error(`refusing to embed an unexpected service or real server: ${JSON.stringify(c)}`);
  return [c.listed, c.dest];
}

/** `drainWait`: seconds to wait for busy real servers being removed to go idle, then delete them. */
export function renderApply(templates: Templates, data: ApplyData, drainWait = 0): string {
  return templates.render('ipvs/apply.sh.hbs', {
    count: data.count,
    sha: data.sha,
    // The usual path reads these two as shell words: no temp folder (mktemp, rm: ~50-100 ms a process on an emulated director).
    touched: new ShellFragment(shq(linesText('the touched services', data.touched))),
    batch: new ShellFragment(shq(linesText('the batch', data.batch))),
    files: files(data),
    // A delete to re-check or a leaving server to wait for: the files are needed from the start.
    eager: data.conditional.length > 0 || data.waiting.length > 0,
    drainWait,
  });
}
