// The group-commit helper: answers in order, batches what arrives while a batch is in flight, and
// fails a whole batch (only that batch) when its flush throws.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Batcher } from '../../src/lib/batcher.js';

describe('Batcher', () => {
  it('answers each request in order and batches concurrent arrivals', async () => {
    const sizes: number[] = [];
    const b = new Batcher<number, number>(async (xs) => {
      sizes.push(xs.length);
      await new Promise((r) => setTimeout(r, 5));
      return xs.map((x) => x * 10);
    }, 1, 4);
    const out = await Promise.all(Array.from({ length: 9 }, (_, i) => b.run(i)));
    assert.deepEqual(out, [0, 10, 20, 30, 40, 50, 60, 70, 80]);
    assert.deepEqual(sizes, [1, 4, 4], 'the first runs alone; the rest waited and went in batches of at most 4');
  });

  it('a failing flush rejects its own batch, and the next batch still runs', async () => {
    let calls = 0;
    const b = new Batcher<string, string>(async (xs) => {
      calls++;
      if (xs.includes('bad')) throw new Error('boom');
      return xs.map((x) => x.toUpperCase());
    });
    const first = b.run('bad');
    const [second] = await Promise.allSettled([b.run('ok'), first.catch(() => undefined)]);
    await assert.rejects(first, /boom/);
    assert.deepEqual(second, { status: 'fulfilled', value: 'OK' });
    assert.equal(calls, 2);
  });
});
