// The factory's outbox delivery against a scripted coordinator (a real SQLite outbox): a report
// refused as stale quarantines its lease, and the quarantine report goes out in the same flush.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GantryError } from '../../src/domain/errors.js';
import { Factory } from '../../src/fleet/factory.js';
import { SqliteOutbox } from '../../src/store/fleet-outbox.js';
import type { ClaimResponse, CoordinatorClient, TaskExecutor } from '../../src/ports/fleet.js';
import type { Task } from '../../src/domain/task.js';
import { until } from './support.js';

/** Accepts everything except the leases in `stale`, which it refuses with 409 stale_epoch; records every call. */
function scriptedCoordinator(stale: Set<string>, grants: ClaimResponse[] = []) {
  const calls: string[] = [];
  const fenced = (taskId: string, epoch: number, what: string): void => {
    calls.push(`${what} ${taskId}@${epoch}`);
    if (stale.has(`${taskId}@${epoch}`)) throw new GantryError('stale_epoch', `lease ${taskId}@${epoch} lost`);
  };
  const client: CoordinatorClient = {
    heartbeat: async () => ({ serverTime: Date.now(), drain: false }),
    claim: async () => grants.shift() ?? null,
    patch: async (id, b) => fenced(id, b.leaseEpoch, 'patch'),
    renew: async () => ({ leaseExpiresAt: Date.now() + 60_000 }),
    release: async (id, b) => fenced(id, b.leaseEpoch, 'release'),
    quarantine: async (id, b) => void calls.push(`quarantine ${id}@${b.leaseEpoch}`),
    waitForWork: (since, ms, signal) => new Promise((r) => (signal.aborted ? r(since) : signal.addEventListener('abort', () => r(since)))),
  };
  return { client, calls };
}

const job = (id: string): Task => ({
  id, projectId: 'p', title: id, body: 'b', pipeline: 'quick', agent: null, priority: 0, capabilities: [], after: [], stage: 'assigned', blockedReason: null,
  idempotencyKey: null, attempts: 0, maxAttempts: 3, leaseEpoch: 1, leaseFactoryId: 'f-1', leaseExpiresAt: Date.now() + 60_000, checkpoint: null,
  affinityFactoryId: null, currentRunId: null, failureKind: null, failureMessage: null, quarantined: false, createdAt: 0, updatedAt: 0, queuedAt: 0, rev: 1,
});

const idle: TaskExecutor = { execute: async () => ({ outcome: 'done', report: {} }) };

describe('factory outbox delivery', () => {
  it('a release refused as stale is quarantined and the quarantine is reported in the same flush', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gantry-sender-'));
    const outbox = new SqliteOutbox(join(dir, 'outbox.db'));
    // What a factory left while the coordinator was away: t1 still its own, t2 taken back meanwhile.
    await outbox.add({ taskId: 't1', epoch: 1, kind: 'patch', body: { stage: 'building' } });
    await outbox.add({ taskId: 't2', epoch: 1, kind: 'patch', body: { stage: 'building' } });
    await outbox.add({ taskId: 't1', epoch: 1, kind: 'release', body: { outcome: 'done', report: { summary: 'kept' } } });
    await outbox.add({ taskId: 't2', epoch: 1, kind: 'release', body: { outcome: 'done', report: { summary: 'finished offline' } } });
    const { client, calls } = scriptedCoordinator(new Set(['t2@1']));
    // Long heartbeat and poll: nothing but start()'s own flush can deliver during the test.
    const f = new Factory({ factoryId: 'f-1', capabilities: [], slots: 1, client, executor: idle, outbox, heartbeatMs: 600_000, pollMs: 600_000 });
    try {
      await f.start();
      assert.deepEqual(calls, ['patch t1@1', 'patch t2@1', 'release t1@1', 'quarantine t2@1'], "t2's refused patch drops its release; its quarantine goes out in the same pass");
      assert.deepEqual(await outbox.pending(), []);
      const q = await outbox.quarantined();
      assert.deepEqual(q.map((x) => [x.taskId, x.epoch, x.result.outcome]), [['t2', 1, 'done']], 'the finished work is what stays quarantined');
    } finally {
      await f.stop();
      await outbox.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a release refused during the lease's own flush (the lease moved after the executor finished) is quarantined and reported", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gantry-sender-'));
    const outbox = new SqliteOutbox(join(dir, 'outbox.db'));
    // The executor finishes without a report (a run whose coordinator writes came back 409); its release is refused too.
    const { client, calls } = scriptedCoordinator(new Set(['t3@1']), [{ job: job('t3'), leaseEpoch: 1, leaseExpiresAt: Date.now() + 60_000 }]);
    const executor: TaskExecutor = { execute: async () => ({ outcome: 'failed', report: { failureKind: 'fenced', failureMessage: 'lease t3@1 lost' } }) };
    const f = new Factory({ factoryId: 'f-1', capabilities: [], slots: 1, client, executor, outbox, heartbeatMs: 600_000, pollMs: 600_000 });
    try {
      await f.start();
      await until(() => calls.includes('quarantine t3@1'), 'the quarantine reported', 5_000);
      assert.deepEqual(calls, ['release t3@1', 'quarantine t3@1']);
      const q = await outbox.quarantined();
      assert.deepEqual(q.map((x) => [x.taskId, x.epoch, x.result.outcome, (x.result.report as { failureKind?: string }).failureKind]), [['t3', 1, 'failed', 'fenced']]);
      assert.deepEqual(await outbox.pending(), []);
    } finally {
      await f.stop();
      await outbox.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a report queued while the factory is online is delivered by the outbox loop without any lease flushing it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gantry-sender-'));
    const outbox = new SqliteOutbox(join(dir, 'outbox.db'));
    const { client, calls } = scriptedCoordinator(new Set());
    const f = new Factory({ factoryId: 'f-1', capabilities: [], slots: 1, client, executor: idle, outbox, heartbeatMs: 600_000, pollMs: 50 });
    try {
      await f.start();
      await outbox.add({ taskId: 't9', epoch: 3, kind: 'quarantine', body: { factoryId: 'f-1', reason: 'left behind' } });
      await until(() => calls.includes('quarantine t9@3'), 'the backstop delivered it');
      await until(async () => (await outbox.pending()).length === 0, 'outbox empty');
    } finally {
      await f.stop();
      await outbox.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
