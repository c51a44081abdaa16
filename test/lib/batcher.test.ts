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

  it('gathering: requests made in the same turn go together (the first does not go alone), and free lanes share them', async () => {
    const batches: number[][] = [];
    const flush = async (xs: number[]) => {
      batches.push(xs);
      await new Promise((r) => setTimeout(r, 5));
      return xs.map((x) => x + 1);
    };
    const one = new Batcher<number, number>(flush, 1, 64, true);
    assert.deepEqual(await Promise.all([1, 2, 3, 4, 5].map((x) => one.run(x))), [2, 3, 4, 5, 6]);
    assert.deepEqual(batches, [[1, 2, 3, 4, 5]], 'one batch for one turn');
    batches.length = 0;
    const two = new Batcher<number, number>(flush, 2, 64, true);
    assert.deepEqual(await Promise.all([1, 2, 3, 4, 5].map((x) => two.run(x))), [2, 3, 4, 5, 6]);
    assert.deepEqual(batches, [[1, 2, 3], [4, 5]], 'two free lanes split the turn between them');
    batches.length = 0;
    // Without gathering (the default) the first request of an idle batcher goes at once, alone.
    const eager = new Batcher<number, number>(flush, 1, 64);
    await Promise.all([1, 2, 3].map((x) => eager.run(x)));
    assert.deepEqual(batches, [[1], [2, 3]]);
  });

  it('a second lane starts only for requests allowed one (extraLane), and an idle batcher then starts one lane', async () => {
    const batches: number[][] = [];
    let inFlight = 0;
    let most = 0;
    const flush = async (xs: number[]) => {
      batches.push(xs);
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      return xs.map((x) => x * 2);
    };
    const turn = () => new Promise((r) => setImmediate(r));
    // Negative requests may use a second lane; the others wait for the running one.
    const b = new Batcher<number, number>(flush, 2, 64, true, (q) => q.some((x) => x < 0));
    const first = [1, 2, 3, 4].map((x) => b.run(x));
    await turn();
    const later = b.run(5);
    assert.deepEqual(await Promise.all([...first, later]), [2, 4, 6, 8, 10]);
    assert.deepEqual(batches, [[1, 2, 3, 4], [5]], 'an idle batcher does not split them between lanes; 5 waits for the running lane');
    assert.equal(most, 1);
    batches.length = 0;
    most = 0;
    const a = [1, 2].map((x) => b.run(x));
    await turn();
    const c = [3, -1].map((x) => b.run(x));
    assert.deepEqual(await Promise.all([...a, ...c]), [2, 4, 6, -2]);
    assert.deepEqual(batches, [[1, 2], [3, -1]], 'a request allowed a second lane starts it, with what waits before it');
    assert.equal(most, 2);
  });

  it('while another lane runs, a lane takes its next batch only if extraLane allows it (else the other lane takes it)', async () => {
    const batches: number[][] = [];
    const release: Array<() => void> = [];
    const flush = async (xs: number[]) => {
      batches.push(xs);
      await new Promise<void>((r) => release.push(r));
      return xs;
    };
    const turn = () => new Promise((r) => setImmediate(r));
    const b = new Batcher<number, number>(flush, 2, 64, true, (q) => q.every((x) => x < 0));
    const all = [b.run(1)];
    await turn();
    all.push(b.run(-1));
    await turn();
    assert.deepEqual(batches, [[1], [-1]], 'two lanes running');
    all.push(b.run(2));
    release.shift()!(); // lane of [1] ends while the lane of [-1] runs: 2 may not run beside it
    await turn();
    assert.deepEqual(batches, [[1], [-1]]);
    release.shift()!(); // lane of [-1] ends and takes 2
    await turn();
    assert.deepEqual(batches, [[1], [-1], [2]]);
    release.shift()!();
    assert.deepEqual(await Promise.all(all), [1, -1, 2]);
  });
});
