/** Running generated shell locally with /bin/sh (dash on Debian): syntax checks and real runs. */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ShResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `sh -n`: does the script parse? Returns sh's complaint, or '' when it parses. */
export function syntaxError(script: string): string {
  const r = spawnSync('/bin/sh', ['-n'], { input: script, encoding: 'utf8' });
  return r.status === 0 ? '' : `exit ${r.status}: ${r.stderr}`;
}

/** Run `script` on sh's stdin, in `cwd`, with `env` over a minimal environment. */
export function runSh(script: string, options: { cwd?: string; env?: Record<string, string>; args?: string[] } = {}): ShResult {
  const r = spawnSync('/bin/sh', ['-s', ...(options.args ?? [])], {
    input: script,
    encoding: 'utf8',
    cwd: options.cwd,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: options.cwd ?? tmpdir(), ...options.env },
    timeout: 10_000,
  });
  if (r.error) throw r.error;
  return { code: r.status ?? 128, stdout: r.stdout, stderr: r.stderr };
}

/** A fresh temporary folder; remove it with `cleanup`. */
export function tempDir(prefix = 'lvsplay-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function cleanup(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Put fake commands (`name` → shell body) in `dir/bin` and return a PATH with them first. */
export function fakeCommands(dir: string, commands: Record<string, string>): string {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  for (const [name, body] of Object.entries(commands)) {
    const file = join(bin, name);
    writeFileSync(file, `#!/bin/sh\n${body}\n`);
    chmodSync(file, 0o755);
  }
  return `${bin}:${process.env['PATH'] ?? '/usr/bin:/bin'}`;
}

/**
 * A PATH holding only these programs (links to this machine's, in `dir/only`): a script that starts
 * any other fails to find it, which is how a test shows what a script runs.
 */
export function onlyCommands(dir: string, names: readonly string[]): string {
  const bin = join(dir, 'only');
  mkdirSync(bin, { recursive: true });
  for (const name of names) symlinkSync(commandPath(name), join(bin, name));
  return bin;
}

/** Where this machine's `name` is, as /bin/sh finds it on PATH; '' when it has none. */
export function commandPath(name: string): string {
  return runSh(`command -v ${name}`).stdout.trim();
}

/** The first shell word of `text`, unquoted: '...' segments, backslash escapes and plain characters up to a blank. */
export function shellWord(text: string): string {
  let word = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n') break;
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new Error('unterminated single quote');
      word += text.slice(i + 1, end);
      i = end;
    } else if (c === '\\') word += text[++i] ?? '';
    else word += c;
  }
  return word;
}
