/**
 * Property test (fast-check) of `lvsplay import`'s three readers: whatever a keepalived.conf,
 * ldirectord.cf or `ipvsadm -S -n` file holds (real ones mutated word by word, with the blanks
 * and characters editors leave: \r, \f, \v, a no-break space, a byte order mark), the import
 * returns an inventory or throws an InputError; never another exception, never a loop without end
 * (a lone \f in a keepalived.conf line once used all memory).
 */
import test from 'ava';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { importInventory, type ImportInputs } from '../../src/import/index.js';
import { InputError } from '../../src/util/problems.js';
import { repoPath } from '../helpers/inventory.js';

const LDIRECTORD = [
  'checktimeout=3', 'checkinterval=1', 'quiescent=no', 'fallback=127.0.0.1:80',
  'virtual=192.0.2.10:80', '\treal=192.0.2.21:80 gate 2', '\treal=192.0.2.22->192.0.2.23:http gate', '\tservice=http', '\tscheduler=wrr',
  '\tprotocol=tcp', '\tchecktype=negotiate', '\trequest="index.html"', '\treceive="Test Page"', '\tvirtualhost=www.example.com', '',
  'virtual6=[2001:db8::10]:80', '\treal6=[2001:db8::21]:80 gate', '\tchecktype=connect', '',
  'virtual=1', '\treal=192.0.2.21 gate', '\tservice=ldaps', '\tpersistent=600', '',
].join('\n');

const BASES: readonly (readonly [string, (text: string) => ImportInputs])[] = [
  [readFileSync(repoPath('test/golden/keepalived/lb1.keepalived.conf'), 'utf8'), (text) => ({ keepalived: { file: 'k.conf', text, includes: { expand: () => [], read: () => '' } } })],
  [LDIRECTORD, (text) => ({ ldirectord: { file: 'l.cf', text } })],
  [readFileSync(repoPath('test/fixtures/ipvs/save.txt'), 'utf8'), (text) => ({ save: { file: 's.txt', text } })],
];

const JUNK = ['', ' ', '\t', '\n', '\r', '\f', '\v', '\u00a0', '\u2028', '\ufeff', '\r\n', '{', '}', '"', '#', '!', '\\', '=', ':', '->', '[', ']',
  '0', '-1', '99999999999', '1.5', 'x'.repeat(80), '192.0.2.1', '::1', '[2001:db8::1]:80', 'include x', '@x', '$X', '$X=1',
  'real=', 'virtual=', 'real_server', 'virtual_server', 'vrrp_instance', 'fwmark', 'NAT', 'DR', 'TUN', 'gate', 'masq', 'ipip',
  '-A', '-a', '-t', '-u', '-f', '-r', '-g', '-m', '-i', '-w', '-s', '-p', '-M', '--tun-type', 'gue', '\u0000', 'é',
  // Object.prototype's names, where a reader looks a word up in a table
  'constructor', 'toString', '__proto__', 'hasOwnProperty', 'constructor {', 'real=192.0.2.21:80 constructor'];

const edit = fc.record({ at: fc.nat(), span: fc.nat({ max: 20 }), op: fc.constantFrom('replace', 'delete', 'insert', 'copy', 'cut'), junk: fc.constantFrom(...JUNK) });

/** The text's words and blanks, edited in turn. */
function mutated(text: string, edits: readonly { at: number; span: number; op: string; junk: string }[]): string {
  let parts = text.split(/(\s+)/);
  for (const { at: where, span, op, junk } of edits) {
    const at = where % (parts.length + 1);
    if (op === 'replace') parts[at] = junk;
    else if (op === 'delete') parts.splice(at, 1);
    else if (op === 'insert') parts.splice(at, 0, junk, ' ');
    else if (op === 'copy') parts.splice(at, 0, ...parts.slice(at, at + span + 1));
    else parts = parts.slice(0, at);
  }
  return parts.join('');
}

for (const [base, inputs] of BASES) {
  const kind = Object.keys(inputs(''))[0]!;
  test(`import property: a ${kind} file mutated word by word imports or is bad input (InputError), never another exception`, (t) => {
    fc.assert(fc.property(fc.array(edit, { minLength: 1, maxLength: 5 }), (edits) => {
      const text = mutated(base, edits);
      try {
        importInventory(inputs(text));
      } catch (err) {
        if (!(err instanceof InputError)) throw new Error(`${(err as Error).stack ?? String(err)}\n--- input\n${text}`);
      }
    }), { numRuns: 300 });
    t.pass();
  });
}
