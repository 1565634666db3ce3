/** src/run/batches.ts (serial, as Ansible cuts it) and src/run/pool.ts (the bounded pool). */
import test from 'ava';
import fc from 'fast-check';
import type { BatchSize } from '../../src/playbook/model.js';
import { batches, percentOfHosts } from '../../src/run/batches.js';
import { pool } from '../../src/run/pool.js';

const hosts = (n: number) => Array.from({ length: n }, (_, i) => `h${i + 1}`);
const sizes = (list: BatchSize[], n: number) => batches(hosts(n), list).map((b) => b.length);

// ---------------------------------------------------------------- batches

test('batches: no serial → one batch of every host; no hosts → no batch', (t) => {
  t.deepEqual(batches(hosts(3), []), [['h1', 'h2', 'h3']]);
  t.deepEqual(batches([], []), []);
  t.deepEqual(batches([], [{ count: 2 }]), []);
});

test('batches: counts, in order, the last repeating until every host is in', (t) => {
  t.deepEqual(batches(hosts(5), [{ count: 2 }]), [['h1', 'h2'], ['h3', 'h4'], ['h5']]);
  t.deepEqual(sizes([{ count: 1 }], 4), [1, 1, 1, 1]);
  t.deepEqual(sizes([{ count: 1 }, { count: 2 }], 6), [1, 2, 2, 1]);
  t.deepEqual(sizes([{ count: 1 }, { count: 3 }, { count: 10 }], 20), [1, 3, 10, 6]);
  t.deepEqual(sizes([{ count: 50 }], 3), [3]);
});

test('batches: a list longer than needed stops when the hosts run out', (t) => {
  t.deepEqual(sizes([{ count: 2 }, { count: 2 }, { count: 2 }, { count: 2 }], 3), [2, 1]);
});

test('batches: percentages of the play\'s hosts, rounded down, at least one host', (t) => {
  t.deepEqual(sizes([{ percent: 30 }], 10), [3, 3, 3, 1]);
  t.deepEqual(sizes([{ percent: 50 }], 5), [2, 2, 1]);
  t.deepEqual(sizes([{ percent: 25 }], 3), [1, 1, 1]);
  t.deepEqual(sizes([{ percent: 1 }], 7), [1, 1, 1, 1, 1, 1, 1]);
  t.deepEqual(sizes([{ percent: 100 }], 7), [7]);
  t.deepEqual(sizes([{ count: 1 }, { percent: 50 }], 9), [1, 4, 4]);
});

test('batches: a percentage is cut as Ansible\'s pct_to_int cuts it, float rounding included (python3: int((29 / 100.0) * 100) is 28)', (t) => {
  // each expected size printed by python3 -c 'print(int((P / 100.0) * N) or 1)'
  for (const [percent, n, size] of [[29, 100, 28], [57, 100, 56], [58, 50, 28], [70, 90, 62], [35, 180, 62], [30, 10, 3], [1, 50, 1]] as const) {
    t.is(percentOfHosts(percent, n), size, `${percent}% of ${n}`);
    t.is(sizes([{ percent }], n)[0], size, `${percent}% of ${n}`);
  }
  t.deepEqual(sizes([{ percent: 29 }], 100), [28, 28, 28, 16]);
});

test('batches (property): every host exactly once, in order, no empty batch, sizes as the rule says', (t) => {
  const size = fc.oneof(fc.integer({ min: 1, max: 12 }).map((count): BatchSize => ({ count })), fc.integer({ min: 1, max: 100 }).map((percent): BatchSize => ({ percent })));
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 300 }), fc.array(size, { maxLength: 4 }), (n, serial) => {
      const list = hosts(n);
      const out = batches(list, serial);
      if (out.flat().join() !== list.join()) return false;
      if (out.some((b) => b.length === 0)) return false;
      return out.slice(0, -1).every((b, i) => {
        const s = serial[Math.min(i, serial.length - 1)];
        if (!s) return b.length === n;
        // Ansible's pct_to_int: int((pct / 100.0) * n) or 1
        return b.length === ('count' in s ? s.count : Math.trunc((s.percent / 100) * n) || 1);
      });
    }),
  );
  t.pass();
});

// ---------------------------------------------------------------- pool

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function counter() {
  const c = { now: 0, max: 0 };
  const track = async <T>(fn: () => Promise<T>) => {
    c.now += 1;
    c.max = Math.max(c.max, c.now);
    try {
      return await fn();
    } finally {
      c.now -= 1;
    }
  };
  return { c, track };
}

test('pool: never more than the limit in flight, and it uses the limit', async (t) => {
  const { c, track } = counter();
  const items = Array.from({ length: 20 }, (_, i) => i);
  await pool(items, 3, (i) => track(() => sleep(1 + ((i * 7) % 5))));
  t.is(c.max, 3);
  t.is(c.now, 0);
});

test('pool: results keep the items\' order, whatever order the work finishes in', async (t) => {
  const finished: number[] = [];
  const out = await pool([30, 1, 20, 2, 10], 5, async (ms) => {
    await sleep(ms);
    finished.push(ms);
    return `done ${ms}`;
  });
  t.deepEqual(out, ['done 30', 'done 1', 'done 20', 'done 2', 'done 10']);
  t.notDeepEqual(finished, [30, 1, 20, 2, 10]);
});

test('pool: a limit above the item count starts one worker per item; 0 or less still makes progress with one', async (t) => {
  for (const [limit, expected] of [[100, 4], [0, 1], [-3, 1], [1, 1]] as const) {
    const { c, track } = counter();
    const out = await pool([1, 2, 3, 4], limit, (i) => track(async () => { await sleep(1); return i * 2; }));
    t.deepEqual(out, [2, 4, 6, 8]);
    t.is(c.max, expected, `limit ${limit}`);
  }
});

test('pool: no items → [] without calling work', async (t) => {
  t.deepEqual(await pool([], 4, async () => t.fail('work called')), []);
});

test('pool: items start in order (the first `limit` at once, then each as a slot frees)', async (t) => {
  const started: number[] = [];
  await pool([0, 1, 2, 3, 4, 5], 2, async (i) => { started.push(i); await sleep(1); });
  t.deepEqual(started, [0, 1, 2, 3, 4, 5]);
});

test('pool: a rejection in one item rejects the pool with that error, but the other workers go on with the remaining items (current behaviour)', async (t) => {
  const started: number[] = [];
  const finished: number[] = [];
  const run = pool([0, 1, 2, 3, 4, 5], 2, async (i) => {
    started.push(i);
    await sleep(i === 1 ? 1 : 5);
    if (i === 1) throw new Error('item 1 broke');
    finished.push(i);
    return i;
  });
  await t.throwsAsync(run, { message: 'item 1 broke' });
  const atRejection = [...started];
  for (let waited = 0; finished.length < 5 && waited < 2000; waited += 10) await sleep(10);
  // The worker that hit the error stops; the other one keeps taking items after the pool rejected.
  t.true(atRejection.length < 6, `started when the pool rejected: ${atRejection.join(',')}`);
  t.deepEqual(started.sort(), [0, 1, 2, 3, 4, 5]);
  t.deepEqual(finished.sort(), [0, 2, 3, 4, 5]);
});
