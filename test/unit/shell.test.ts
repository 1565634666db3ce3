/**
 * shq/shellLine: what they return, and proof by /bin/sh that the quoted text is read back as
 * exactly the original bytes, with no command run.
 */
import test from 'ava';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shellLine, shq } from '../../src/util/shell.js';
import { printedBySh, shellPayloads } from '../helpers/shell.js';

test('safe words are left bare', (t) => {
  for (const word of ['eth0', '192.0.2.5', '2001:db8::5', '/etc/ipvsadm.rules', 'a=b', 'user@host', 'x,y', '50%', 'a+b', 'v1.2_3']) t.is(shq(word), word);
  t.is(shq(80), '80');
  t.is(shq(0), '0');
});

test('everything else is single-quoted', (t) => {
  t.is(shq(''), "''");
  t.is(shq('a b'), "'a b'");
  t.is(shq('$(id)'), "'$(id)'");
  t.is(shq('~/.ssh/id'), "'~/.ssh/id'");
  t.is(shq('*'), "'*'");
  t.is(shq('-C'), "'-C'");
  t.is(shq(-1), "'-1'");
  t.is(shq("it's"), "'it'\\''s'");
  t.is(shq("''"), "''\\'''\\'''");
});

test('a NUL byte cannot be quoted', (t) => {
  t.throws(() => shq('a\0b'), { message: /NUL/ });
  t.throws(() => shellLine(['ok', '\0']), { message: /NUL/ });
});

test('shellLine quotes each word', (t) => {
  // a leading dash is quoted too (harmless, and it marks the word); note that quoting cannot stop a
  // command from reading '-C' as an option: only validation (names start with a letter or digit) can
  t.is(shellLine(['ipvsadm', '-A', '-t', '192.0.2.10:80', '-s', 'wlc']), "ipvsadm '-A' '-t' 192.0.2.10:80 '-s' wlc");
  t.is(shellLine(['echo', 'a b', "c'd", 7]), "echo 'a b' 'c'\\''d' 7");
  t.is(shellLine([]), '');
});

test('every payload of the corpus is printed back by /bin/sh byte for byte, and runs nothing', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsplay-shq-'));
  try {
    const canary = join(dir, 'pwned');
    for (const payload of shellPayloads(canary)) {
      if (payload.includes('\0')) {
        t.throws(() => shq(payload), undefined, JSON.stringify(payload));
        continue;
      }
      t.deepEqual(printedBySh(payload), Buffer.from(payload, 'utf8'), JSON.stringify(payload));
    }
    t.false(existsSync(canary), 'no payload ran a command');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('shellLine keeps word boundaries through /bin/sh', (t) => {
  const words = ['a b', '', "it's", '$(id)', '\n', '-C', '*'];
  const out = printedBySh(words, '%s\\0');
  t.deepEqual(out.toString('utf8').split('\0').slice(0, -1), words);
});
