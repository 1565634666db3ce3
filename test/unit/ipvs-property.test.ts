/**
 * Property tests of the ipvs diff against an independent model of ipvsadm (fake-ipvsadm.ts):
 * a table read back from ipvsadm's own output needs no change; the batch turns any table into
 * the desired one; the inverses turn it back; no flush, and nothing outside the allowed services.
 */
import test from 'ava';
import fc from 'fast-check';
import { diffTables, type DiffOptions } from '../../src/resources/ipvs/diff.js';
import { parseSave, parseThresholds, withThresholds } from '../../src/resources/ipvs/parse.js';
import { saveText } from '../../src/resources/ipvs/lines.js';
import { cloneDest, cloneService, type IpvsTable } from '../../src/resources/ipvs/table.js';
import { destKey, serviceKey } from '../../src/resources/ipvs/forms.js';
import { arbTable, canonical, runLines, simFrom } from '../fixtures/ipvs/support.js';

const RUNS = { numRuns: 300 };
const opts = (o: Partial<DiffOptions> = {}): DiffOptions => ({ purge: false, graceful: true, deletable: new Set(), foreign: new Set(), ...o });

test('a table read back from ipvsadm -S -n and -L --thresholds needs no change', (t) => {
  fc.assert(fc.property(arbTable(true), (table) => {
    const sim = simFrom(table);
    const probed = withThresholds(parseSave(sim.save()), parseThresholds(sim.list('thresholds')));
    const { operations } = diffTables(table, probed, opts({ purge: true }));
    return operations.length === 0;
  }), RUNS);
  t.pass();
});

test('parse(save(t)) gives t back, thresholds and counts aside', (t) => {
  fc.assert(fc.property(arbTable(), (table) => {
    const back = parseSave(saveText(table));
    const zero = (x: IpvsTable) => canonical(x).map((l) => l.replace(/ x=\d+ y=\d+/, ''));
    t.deepEqual(zero(back), zero(table));
    t.is(saveText(back), saveText(table));
  }), RUNS);
});

/** What the table must look like after the batch, computed from the rules, not from diff.ts. */
function expected(before: IpvsTable, after: IpvsTable, o: DiffOptions): IpvsTable {
  const out: IpvsTable = { services: new Map() };
  for (const [key, s] of before.services) {
    if (o.foreign.has(key) || (!after.services.has(key) && !o.purge && !o.deletable.has(key))) out.services.set(key, cloneService(s));
  }
  for (const [key, want] of after.services) {
    if (o.foreign.has(key)) continue;
    const s = cloneService(want);
    const have = before.services.get(key);
    for (const [dk, d] of have?.dests ?? []) {
      if (want.dests.has(dk)) continue;
      const conns = (d.conns?.active ?? 0) + (d.conns?.inactive ?? 0);
      // TCP (and fwmark, which may carry TCP) drains; UDP and SCTP are deleted at once.
      const drains = want.key.kind === 'fwmark' || want.key.protocol === 'tcp';
      if (o.graceful && drains && conns > 0) s.dests.set(dk, { ...cloneDest(d), weight: 0 });
    }
    out.services.set(key, s);
  }
  return out;
}

const arbOptions = (before: IpvsTable, after: IpvsTable) => {
  const spare = [...before.services.keys()].filter((k) => !after.services.has(k));
  return fc.record({
    purge: fc.boolean(),
    graceful: fc.boolean(),
    deletable: fc.subarray(spare).map((a) => new Set(a)),
    foreign: fc.subarray(spare).map((a) => new Set(a)),
  });
};

const pairs = fc.tuple(arbTable(true), arbTable()).chain(([before, after]) => fc.tuple(fc.constant(before), fc.constant(after), arbOptions(before, after)));

test('the batch turns before into after on the ipvsadm model, and the inverses turn it back', (t) => {
  fc.assert(fc.property(pairs, ([before, after, o]) => {
    const { operations, result } = diffTables(after, before, o);
    const sim = simFrom(before);
    const failed = runLines(sim, operations.map((op) => op.line));
    t.deepEqual(failed, []);
    t.deepEqual(sim.canonical(), canonical(expected(before, after, o)));
    t.deepEqual(canonical(result), sim.canonical(), 'diff.ts predicts the result');
    const undo = operations.flatMap((op) => [op.inverse]).reverse().flat();
    t.deepEqual(runLines(sim, undo), []);
    t.deepEqual(sim.canonical(), canonical(before));
  }), RUNS);
});

test('a second diff after applying is empty (drained servers wait), and graceful drains settle', (t) => {
  fc.assert(fc.property(pairs, ([before, after, o]) => {
    const { operations } = diffTables(after, before, o);
    const sim = simFrom(before);
    runLines(sim, operations.map((op) => op.line));
    const probed = withThresholds(parseSave(sim.save()), parseThresholds(sim.list('thresholds')));
    t.deepEqual(diffTables(after, probed, o).operations.map((op) => op.line), []);
  }), RUNS);
});

test('no batch line is a flush, and without purge none names a service outside desired ∪ declared', (t) => {
  fc.assert(fc.property(pairs, ([before, after, o]) => {
    const { operations } = diffTables(after, before, o);
    for (const op of operations) {
      t.false(/(^| )(-C|--clear)( |$)/.test(op.line), op.line);
      for (const line of op.inverse) t.false(/(^| )(-C|--clear)( |$)/.test(line), line);
      t.false(o.foreign.has(op.service), `ldirectord's ${op.service} touched: ${op.line}`);
      if (!o.purge) t.true(after.services.has(op.service) || o.deletable.has(op.service), `${op.service} touched without purge: ${op.line}`);
    }
  }), RUNS);
});

test('operations come in service order, each service once, and their keys are the lines\' keys', (t) => {
  fc.assert(fc.property(pairs, ([before, after, o]) => {
    const { operations } = diffTables(after, before, o);
    const seen: string[] = [];
    for (const op of operations) {
      if (seen.at(-1) !== op.service) {
        t.false(seen.includes(op.service), `${op.service} comes back later`);
        seen.push(op.service);
      }
      const s = after.services.get(op.service) ?? before.services.get(op.service)!;
      t.is(serviceKey(s.key), op.service);
      if (op.dest !== undefined) t.true([...(after.services.get(op.service)?.dests.values() ?? []), ...(before.services.get(op.service)?.dests.values() ?? [])].some((d) => destKey(d) === op.dest));
    }
  }), RUNS);
});
