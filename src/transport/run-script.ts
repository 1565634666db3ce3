/**
 * Feeding a script to a started shell and collecting what it says: the gate (become.ts) decides
 * when the script goes in; the timeout stops the process and says so.
 */
import { constants } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import type { GateIo, ShellGate } from './become.js';
import { TransportError, type ExecResult } from './types.js';

/** A started `/bin/sh -s` (or sudo in front of it), seen as its three streams and its end. */
export interface ScriptProcess {
  stdin: Writable;
  stdout: Readable;
  stderr: Readable;
  /** The exit status once the process has ended (see exitStatus); rejects if the host was lost. */
  exited: Promise<number>;
  /** Stops the process: called when the timeout fires; false when the host could not be told to. */
  kill(): Promise<boolean>;
}

export function runScript(
  proc: ScriptProcess,
  script: string,
  gate: ShellGate,
  host: string,
  timeoutMs: number,
  onStdout?: (text: string) => void,
): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const stdout: string[] = [];
    const stderr: string[] = [];
    // Decoding in the stream keeps a UTF-8 character split across two chunks intact.
    proc.stdout.setEncoding('utf8');
    proc.stderr.setEncoding('utf8');
    // A script may exit before reading all of its stdin (an early `exit`); writing the rest then
    // fails with EPIPE, and the exit status already tells what happened.
    proc.stdin.on('error', () => undefined);
    const io: GateIo = {
      writePassword: (text) => proc.stdin.write(text),
      startScript: (lead) => proc.stdin.end(wholeOrNothing(lead + script)),
      giveUp: () => proc.stdin.end(),
    };
    proc.stdout.on('data', (text: string) => {
      stdout.push(text);
      onStdout?.(text);
    });
    proc.stderr.on('data', (text: string) => stderr.push(gate.feed(text, io)));
    gate.begin(io);

    // Once the timeout fired, it is the outcome (a result arriving while the stop is under way came
    // too late). A host that does not answer when told to stop the script (its link down) is
    // unreachable, not a script that hung: the script may go on there to its end.
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      void proc.kill().then((stopped) => reject(stopped
        ? new TransportError('timeout', host, `${host}: the script did not finish within ${timeoutMs / 1000} s and was stopped`)
        : new TransportError('unreachable', host, `${host}: no answer within ${timeoutMs / 1000} s, nor when told to stop the script (link down?)`)));
    }, timeoutMs);
    Promise.all([ended(proc.stdout), ended(proc.stderr), proc.exited]).then(
      ([, , code]) => {
        clearTimeout(timer);
        if (timedOut) return;
        if (!gate.opened) reject(gate.failure(host));
        else resolve({ code, stdout: stdout.join(''), stderr: stderr.join('') });
      },
      (err: unknown) => {
        clearTimeout(timer);
        if (!timedOut) reject(err);
      },
    );
  });
}

/**
 * The script as one brace group: `sh -s` reads a compound command to its end before running any of
 * it, so a script cut short on the way (connection lost while sshd still held part of it: a pipe
 * takes 64 KiB) is a syntax error that runs nothing, never its first half.
 */
export function wholeOrNothing(script: string): string {
  return `{\n${script}${script.endsWith('\n') ? '' : '\n'}}\n`;
}

function ended(stream: Readable): Promise<void> {
  return new Promise((resolve) => stream.once('end', resolve).once('close', resolve));
}

/**
 * A process killed by a signal has no exit code; report 128 + the signal number, as sh does for
 * `$?`, so "killed by KILL" reads 137 on either transport. 255 (what ssh(1) exits with when it
 * gets no status) when neither is known.
 */
export function exitStatus(code: number | null | undefined, signal: string | null | undefined): number {
  if (typeof code === 'number') return code;
  const number = signal ? constants.signals[signal as NodeJS.Signals] : undefined;
  return number === undefined ? 255 : 128 + number;
}
