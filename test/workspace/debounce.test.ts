import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Debouncer, dueAt } from '../../src/lib/debounce.js';

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 2000 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(cond(), 'condition reached');
};

describe('checkpoint debouncer', () => {
  it('due time: quiet period after the last poke, capped by the max wait', () => {
    assert.equal(dueAt(0, 10, { quietMs: 100, maxWaitMs: 1000 }), 110);
    assert.equal(dueAt(0, 950, { quietMs: 100, maxWaitMs: 1000 }), 1000);
  });

  it('a burst of pokes becomes one run; pokes during a run cause exactly one more; stop flushes', async () => {
    let runs = 0;
    let release: () => void = () => undefined;
    const d = new Debouncer(async () => {
      runs++;
      if (runs === 1) await new Promise<void>((r) => (release = r));
    }, { quietMs: 10, maxWaitMs: 1000 });
    for (let i = 0; i < 5; i++) d.poke();
    await until(() => runs === 1);
    d.poke();
    d.poke();
    release();
    await until(() => runs === 2);
    d.poke();
    await d.stop();
    assert.equal(runs, 3, 'stop ran the pending one');
    d.poke();
    await d.flush();
    assert.equal(runs, 3, 'nothing after stop');
  });
});
