/** A corpus of shell metacharacter payloads, and /bin/sh as the judge of quoting. */
import { execFileSync } from 'node:child_process';
import { shellLine, shq } from '../../src/util/shell.js';

/**
 * Strings a shell would read as syntax, or a command as options. `canary` is a file that exists
 * only if some payload was executed instead of being passed as data.
 */
export function shellPayloads(canary: string): string[] {
  return [
    `$(touch ${canary})`, `\`touch ${canary}\``, `x;touch ${canary}`, `x|touch ${canary}`, `x&touch ${canary}`,
    `x && touch ${canary}`, `x || touch ${canary}`, `x\ntouch ${canary}`, `x\rtouch ${canary}`, `x\0touch ${canary}`,
    `x>${canary}`, `x>>${canary}`, 'x</etc/passwd', `'; touch ${canary}; '`, `"; touch ${canary}; "`,
    "it's", 'say "hi"', '\\', 'a\\nb', '\n', '\r', '\0', 'a\tb', '',
    '-C', '--flush', '-e', '-', '--', '--help=x',
    ' ', 'a b', ' leading', 'trailing ', '*', '?', '[a-z]', '~', '~root', '{a,b}', '$HOME', '${IFS}', '$((1+1))', '!!', '#x', '%s%n',
    '..', '../../etc/passwd', '/etc/passwd;id', 'ünïcödé ☃', '名前', '\u202ertl', '\u00a0nbsp', 'a\u0000', '\u001b[31mred',
  ];
}

/** What /bin/sh prints for `printf FORMAT <quoted words>`: the proof that quoting kept the bytes. */
export function printedBySh(words: string | readonly string[], format = '%s'): Buffer {
  const line = `printf ${shq(format)} ${typeof words === 'string' ? shq(words) : shellLine(words)}`;
  return execFileSync('/bin/sh', ['-c', line], { env: { PATH: '/usr/bin:/bin' }, timeout: 10_000 });
}
