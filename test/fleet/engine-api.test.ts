// The remote engine's calls to the coordinator during an outage (src/fleet/remote-engine.ts): on
// behalf of a live lease they wait until a coordinator answers, however long; outside a lease they
// give up after their patience; a lease's end ends the wait; a refusal is never retried.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GantryError } from '../../src/domain/errors.js';
import { CoordinatorUnreachable } from '../../src/ports/fleet.js';
import { EngineApi, withinLease, type EngineTransport } from '../../src/fleet/remote-engine.js';

/** A coordinator that is down for the first `downFor` requests, then answers `{ok: n}`; or refuses. */
function coordinator(downFor: number, refuse?: GantryError) {
  let n = 0;
  let upAt = downFor;
  const t: EngineTransport = {
    request: async <T>() => {
      n++;
      if (n <= upAt) throw new CoordinatorUnreachable('connection refused');
      if (refuse) throw refuse;
      return { status: 200, data: { ok: n } as T };
    },
  };
  return { t, calls: () => n, goDown: () => void (upAt = Number.MAX_SAFE_INTEGER) };
}

// Patience far shorter than the outages below: a call that waits through them waited on purpose.
const fast = { patienceMs: 40, baseMs: 1, maxMs: 5 };

describe('remote engine calls during a coordinator outage', () => {
  it('outside a lease a call gives up once its patience is spent', async () => {
    const c = coordinator(Number.MAX_SAFE_INTEGER);
    await assert.rejects(new EngineApi(c.t, fast).call('GET', '/api/fleet/projects'), CoordinatorUnreachable);
    assert.ok(c.calls() > 1, 'retried before giving up');
  });

  it('a write of a lease (forLease) and every call made within the lease wait far past that patience until the coordinator answers', async () => {
    const lease = new AbortController();
    const bound = coordinator(200);
    assert.deepEqual(await new EngineApi(bound.t, fast).forLease(lease.signal).call('POST', '/api/fleet/jobs/t-1/run/commit', {}), { ok: 201 });
    // A shared port (checkpoint rows, task reads) learns its lease from the execution it serves.
    const shared = coordinator(200);
    const api = new EngineApi(shared.t, fast);
    assert.deepEqual(await withinLease(lease.signal, () => api.call('GET', '/api/fleet/jobs/t-1')), { ok: 201 });
    shared.goDown();
    await assert.rejects(api.call('GET', '/api/fleet/jobs/t-1'), CoordinatorUnreachable, 'the same object outside the lease is impatient again');
  });

  it("the lease's end (fenced, drained, stopped) ends the wait", async () => {
    const lease = new AbortController();
    const c = coordinator(Number.MAX_SAFE_INTEGER);
    const waiting = withinLease(lease.signal, () => new EngineApi(c.t, { ...fast, baseMs: 20, maxMs: 20 }).call('POST', '/api/fleet/jobs/t-1/checkpoints', {}));
    await new Promise((r) => setTimeout(r, 200)); // well past the patience: still waiting
    const before = c.calls();
    lease.abort();
    await assert.rejects(waiting, CoordinatorUnreachable);
    assert.ok(c.calls() - before <= 3, 'gave up within a couple of retries of the end');
  });

  it('a refusal (409 stale epoch) is never retried, in a lease or not', async () => {
    const lease = new AbortController();
    const c = coordinator(3, new GantryError('stale_epoch', 'lease t-1@1 lost'));
    await assert.rejects(new EngineApi(c.t, fast).forLease(lease.signal).call('POST', '/api/fleet/jobs/t-1/run/commit', {}), (e) => e instanceof GantryError && e.code === 'stale_epoch');
    assert.equal(c.calls(), 4, 'three transient failures, then the refusal once');
  });
});
