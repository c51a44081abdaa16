// Lease protocol on both stores: claim, fenced PATCH/renew/release, operator actions, reaper.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { pgSkip, storeCases, withStore } from '../support/db.js';
import { newTask, project } from '../support/fixtures.js';
import { admin, coordinator, register, seedTasks, until } from './support.js';
import type { SqlStore } from '../../src/store/sql-store.js';
import type { Grant } from '../../src/ports/fleet.js';
import { openStore } from '../../src/store/open.js';
import { FleetStoreSql } from '../../src/store/fleet-repo.js';
import { FleetCoordinator } from '../../src/fleet/coordinator.js';

const F1 = { factoryId: 'f-one' };
const F2 = { factoryId: 'f-two' };

async function setup(s: SqlStore, n = 1, over: Parameters<typeof newTask>[1] = {}) {
  const c = coordinator(s, { leaseTtlMs: 60_000, staleMs: 90_000 });
  const p = await project(s);
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await s.tasks.submit(newTask(p, { title: `t${i}`, ...over }))).task.id);
  await register(c, F1.factoryId);
  await register(c, F2.factoryId);
  return { c, p, ids };
}

for (const sc of storeCases()) {
  describe(`fleet leases: ${sc.kind}`, { skip: sc.skip }, () => {
    it('claims once, reports stages under the epoch, renews, releases done → shipped', async () => {
      await withStore(sc.kind, async (s) => {
        const { c, ids } = await setup(s);
        const g = await c.claim({ factoryId: F1.factoryId, capabilities: [] }, F1);
        assert.ok(g);
        assert.equal(g.task.id, ids[0]);
        assert.equal(g.leaseEpoch, 1);
        assert.equal(g.task.stage, 'assigned');
        assert.equal(await c.claim({ factoryId: F2.factoryId }, F2), null, 'nothing left for the second factory');
        const t = await c.patch(ids[0]!, { leaseEpoch: 1, stage: 'building', checkpoint: { ref: 'refs/gantry/checkpoints/x/1', sha: 'abcdef1' } }, F1);
        assert.equal(t.stage, 'building');
        assert.deepEqual(t.checkpoint, { ref: 'refs/gantry/checkpoints/x/1', sha: 'abcdef1' });
        const r = await c.renew(ids[0]!, { leaseEpoch: 1 }, F1);
        assert.ok(r.leaseExpiresAt >= g.leaseExpiresAt);
        const rel = await c.release(ids[0]!, { leaseEpoch: 1, outcome: 'done', report: { summary: 'ok' } }, F1);
        assert.equal(rel.task.stage, 'shipped');
        assert.equal(rel.task.leaseFactoryId, null);
        const again = await c.release(ids[0]!, { leaseEpoch: 1, outcome: 'done', report: {} }, F1);
        assert.equal(again.replayed, true, 'a retried release is idempotent');
        const leases = (await c.runs(ids[0]!)).leases;
        assert.deepEqual(leases.map((l) => [l.epoch, l.factoryId, l.outcome]), [[1, 'f-one', 'done']]);
      });
    });

    it('concurrent PATCHes and releases (one batched call on PostgreSQL) each get their own answer: fenced ones 409, the rest applied with their events', async () => {
      await withStore(sc.kind, async (s) => {
        const { c, p, ids } = await setup(s, 6);
        const dep = (await s.tasks.submit(newTask(p, { title: 'after t0', after: [ids[0]!] }))).task.id;
        const fs = ids.map((_, i) => ({ factoryId: `f-b${i}` }));
        for (const f of fs) await register(c, f.factoryId, { slots: 1 });
        const grants = await Promise.all(fs.map((f) => c.claim({ factoryId: f.factoryId }, f)));
        const byTask = new Map(grants.map((g, i) => [g!.task.id, { g: g!, f: fs[i]! }]));
        const [a, b, d, e, h, k] = ids.map((id) => byTask.get(id)!);
        // Together: four current PATCHes, one with a stale epoch, one from a factory that does not hold the task.
        const patched = await Promise.allSettled([
          ...[a, b, d, e].map((x) => c.patch(x.g.task.id, { leaseEpoch: x.g.leaseEpoch, stage: 'building' }, x.f)),
          c.patch(h.g.task.id, { leaseEpoch: h.g.leaseEpoch + 1, stage: 'building' }, h.f),
          c.patch(k.g.task.id, { leaseEpoch: k.g.leaseEpoch, stage: 'building' }, a.f),
        ]);
        assert.deepEqual(patched.map((r) => r.status), ['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'rejected']);
        for (const r of patched.slice(4)) assert.match(String((r as PromiseRejectedResult).reason), /stale lease/);
        assert.equal((await s.tasks.get(h.g.task.id))?.stage, 'assigned', 'a fenced PATCH changes nothing');
        assert.equal((await s.tasks.get(k.g.task.id))?.stage, 'assigned');
        // Together: one release of each outcome, and a stale one.
        const released = await Promise.allSettled([
          c.release(a.g.task.id, { leaseEpoch: a.g.leaseEpoch, outcome: 'done', report: { summary: 'ok' } }, a.f),
          c.release(b.g.task.id, { leaseEpoch: b.g.leaseEpoch, outcome: 'parked', report: {} }, b.f),
          c.release(d.g.task.id, { leaseEpoch: d.g.leaseEpoch, outcome: 'failed', report: { failureKind: 'checks', failureMessage: 'red' } }, d.f),
          c.release(e.g.task.id, { leaseEpoch: e.g.leaseEpoch, outcome: 'abandoned', report: {} }, e.f),
          c.release(h.g.task.id, { leaseEpoch: h.g.leaseEpoch - 1, outcome: 'done', report: {} }, h.f),
        ]);
        assert.deepEqual(released.map((r) => r.status), ['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'rejected']);
        const stages = await Promise.all([a, b, d, e, h].map(async (x) => (await s.tasks.get(x.g.task.id))!));
        assert.deepEqual(stages.map((t) => t.stage), ['shipped', 'blocked', 'failed', 'queued', 'assigned']);
        assert.equal(stages[1]!.affinityFactoryId, b.f.factoryId, 'parked keeps the workspace affinity');
        assert.deepEqual([stages[2]!.failureKind, stages[2]!.failureMessage], ['checks', 'red']);
        assert.equal(stages[3]!.attempts, 1);
        assert.equal((await s.tasks.get(dep))?.stage, 'queued', 'the ship unblocked its dependent');
        for (const [x, outcome] of [[a, 'done'], [b, 'parked'], [d, 'failed'], [e, 'abandoned']] as const) {
          const evs = await s.events.list({ taskId: x.g.task.id, type: 'lease.released' });
          assert.deepEqual(evs.map((ev) => ev.payload.outcome), [outcome], 'one event per release, with its state');
          assert.deepEqual((await c.runs(x.g.task.id)).leases.map((l) => l.outcome), [outcome]);
        }
        assert.equal((await s.events.list({ taskId: dep, type: 'task.unblocked' })).length, 1);
        assert.equal((await s.events.list({ taskId: h.g.task.id, type: 'task.stage_changed' })).length, 0);
        const again = await c.release(a.g.task.id, { leaseEpoch: a.g.leaseEpoch, outcome: 'done', report: {} }, a.f);
        assert.equal(again.replayed, true, 'a retried release still replays');
      });
    });

    it("a PATCH the server refuses is that PATCH's answer only: the others batched with it land; a NUL in a report is stored, not refused", async () => {
      await withStore(sc.kind, async (s) => {
        const { c, ids } = await setup(s, 6);
        const fs = ids.map((_, i) => ({ factoryId: `f-p${i}` }));
        for (const f of fs) await register(c, f.factoryId, { slots: 1 });
        const grants = (await Promise.all(fs.map((f) => c.claim({ factoryId: f.factoryId }, f)))).map((g, i) => ({ g: g!, f: fs[i]! }));
        // One lane: the first goes alone, the rest in one batch with the poisoned one (a NUL no text column takes).
        const POISON = 4;
        const patched = await Promise.allSettled(
          grants.map((x, i) => c.patch(x.g.task.id, { leaseEpoch: x.g.leaseEpoch, stage: 'building', checkpoint: { ref: `refs/gantry/checkpoints/${i === POISON ? 'a\u0000b' : 'ok'}/1`, sha: 'abc1234' } }, x.f)),
        );
        for (const [i, r] of patched.entries()) if (i !== POISON || sc.kind === 'sqlite') assert.equal(r.status, 'fulfilled', `${i}: ${String((r as PromiseRejectedResult).reason)}`);
        if (sc.kind === 'postgres') assert.equal(patched[POISON]!.status, 'rejected', 'PostgreSQL takes no NUL in text');
        for (const [i, x] of grants.entries()) if (i !== POISON || sc.kind === 'sqlite') assert.equal((await s.tasks.get(x.g.task.id))?.stage, 'building');
        // Agent output in a report may carry a NUL or a lone surrogate: stored (as U+FFFD), so the release is never refused for it.
        const released = await Promise.allSettled(grants.map((x) => c.release(x.g.task.id, { leaseEpoch: x.g.leaseEpoch, outcome: 'failed', report: { failureKind: 'agent', failureMessage: 'agent said a\u0000b, cut inside an emoji \ud83d' } }, x.f)));
        for (const [i, r] of released.entries()) assert.equal(r.status, 'fulfilled', `${i}: ${String((r as PromiseRejectedResult).reason)}`);
        assert.equal((await s.tasks.get(grants[0]!.g.task.id))?.failureMessage, 'agent said a\uFFFDb, cut inside an emoji \uFFFD');
      });
    });

    it('older clients: PATCH to shipped is a done release, and their bare release afterwards replays', async () => {
      await withStore(sc.kind, async (s) => {
        const { c, ids } = await setup(s);
        const g = (await c.claim({ factoryId: F1.factoryId }, F1))!;
        const t = await c.patch(ids[0]!, { leaseEpoch: g.leaseEpoch, stage: 'shipped' }, F1);
        assert.equal(t.stage, 'shipped');
        const again = await c.release(ids[0]!, { leaseEpoch: g.leaseEpoch }, F1);
        assert.equal(again.replayed, true);
        assert.equal(again.outcome, 'done');
        await assert.rejects(c.release(ids[0]!, { leaseEpoch: g.leaseEpoch, outcome: 'failed' }, F1), /stale lease/, 'a different outcome is not a replay');
      });
    });

    it('fences stale epochs and other holders: 409 and no change', async () => {
      await withStore(sc.kind, async (s) => {
        const { c, ids } = await setup(s);
        const id = ids[0]!;
        await c.claim({ factoryId: F1.factoryId }, F1);
        await c.act(id, 'requeue', {});
        const g2 = await c.claim({ factoryId: F2.factoryId }, F2);
        assert.equal(g2?.leaseEpoch, 3, 'claim 1, requeue 2, claim 3');
        const before = await s.tasks.get(id);
        const stale = [
          () => c.patch(id, { leaseEpoch: 1, stage: 'review' }, F1),
          () => c.renew(id, { leaseEpoch: 1 }, F1),
          () => c.release(id, { leaseEpoch: 1, outcome: 'done' }, F1),
          () => c.patch(id, { leaseEpoch: 3, stage: 'review' }, F1),
          () => c.release(id, { leaseEpoch: 3, outcome: 'done', factoryId: 'f-one' }, admin),
        ];
        for (const p of stale) await assert.rejects(p(), (e: { code?: string; status?: number }) => e.code === 'stale_epoch' && e.status === 409);
        const after = await s.tasks.get(id);
        assert.equal(after?.rev, before?.rev, 'no write happened');
        assert.equal(after?.stage, 'assigned');
        await assert.rejects(c.patch(id, { leaseEpoch: 3, stage: 'shipping' }, F2), /stage/);
      });
    });

    it('parks on a human (blocked, affinity kept), failed records the kind, abandoned requeues with attempts+1', async () => {
      await withStore(sc.kind, async (s) => {
        const { c, ids } = await setup(s, 3, { maxAttempts: 2 });
        const grants = [];
        for (let i = 0; i < 3; i++) grants.push((await c.claim({ factoryId: F1.factoryId }, F1))!);
        const [a, b, d] = grants;
        const parked = await c.release(a!.task.id, { leaseEpoch: a!.leaseEpoch, outcome: 'parked', report: {} }, F1);
        assert.equal(parked.task.stage, 'blocked');
        assert.equal(parked.task.blockedReason, 'awaiting_human');
        assert.equal(parked.task.affinityFactoryId, 'f-one');
        const failed = await c.release(b!.task.id, { leaseEpoch: b!.leaseEpoch, outcome: 'failed', report: { failureKind: 'checks_exhausted', failureMessage: 'red' } }, F1);
        assert.equal(failed.task.stage, 'failed');
        assert.equal(failed.task.failureKind, 'checks_exhausted');
        const ab = await c.release(d!.task.id, { leaseEpoch: d!.leaseEpoch, outcome: 'abandoned', report: {} }, F1);
        assert.equal(ab.task.stage, 'queued');
        assert.equal(ab.task.attempts, 1);
        const g = await c.claim({ factoryId: F1.factoryId }, F1);
        const ab2 = await c.release(g!.task.id, { leaseEpoch: g!.leaseEpoch, outcome: 'abandoned', report: {} }, F1);
        assert.equal(ab2.task.stage, 'dead_letter', 'past maxAttempts');
        assert.ok(ids.length === 3);
      });
    });

    it('a release report is scrubbed of the task body whether this coordinator granted the lease or another did', async () => {
      await withStore(sc.kind, async (s) => {
        const secret = 'use the password hunter2hunter2 here';
        const { c, ids } = await setup(s, 2, { body: `Implement the feature\n${secret}\nthanks` });
        const other = coordinator(s, { leaseTtlMs: 60_000, staleMs: 90_000 });
        for (const [i, releaser] of [c, other].entries()) {
          const g = await c.claim({ factoryId: F1.factoryId }, F1);
          // Tasks submitted in one millisecond with one priority come in either order.
          assert.ok(g && ids.includes(g.task.id), 'one of the submitted tasks');
          await c.patch(g.task.id, { leaseEpoch: g.leaseEpoch, stage: 'building' }, F1);
          const r = await releaser.release(g!.task.id, { leaseEpoch: g!.leaseEpoch, outcome: 'done', report: { summary: `did: ${secret}` } }, F1);
          assert.equal(r.task.stage, 'shipped');
          const lease = await s.db.get<{ report: string }>('SELECT report FROM leases WHERE task_id = ? AND epoch = ?', [g!.task.id, g!.leaseEpoch]);
          assert.ok(lease && !lease.report.includes('hunter2') && lease.report.includes('[redacted]'), `stored report scrubbed (released by ${i === 0 ? 'the granting' : 'another'} coordinator)`);
        }
        const evs = await s.events.list({ limit: 1000 });
        assert.ok(evs.some((e) => e.type === 'lease.released'));
        assert.ok(!JSON.stringify(evs).includes('hunter2'), 'no event carries the secret');
      });
    });

    it('operator actions bump the epoch and fence the holder', async () => {
      await withStore(sc.kind, async (s) => {
        const { c, ids } = await setup(s, 4);
        const gs: Grant[] = [];
        for (let i = 0; i < 4; i++) gs.push((await c.claim({ factoryId: F1.factoryId }, F1))!);
        const results = [];
        for (const [i, action] of (['requeue', 'reject', 'cancel', 'ship'] as const).entries()) {
          const g = gs[i]!;
          const t = await c.act(g.task.id, action, { reason: 'operator says so' });
          assert.equal(t.leaseEpoch, g.leaseEpoch + 1);
          assert.equal(t.leaseFactoryId, null);
          await assert.rejects(c.patch(g.task.id, { leaseEpoch: g.leaseEpoch, stage: 'building' }, F1), /stale lease/);
          results.push(t.stage);
        }
        assert.deepEqual(results, ['queued', 'dead_letter', 'cancelled', 'shipped']);
        await assert.rejects(c.act(gs[3]!.task.id, 'cancel', {}), /cannot cancel/);
        await assert.rejects(c.act('t-nope', 'ship', {}), /not found/);
        await assert.rejects(c.act(ids[0]!, 'explode', {}), /unknown action/);
      });
    });

    it('ships unblock dependents; claims respect dependencies, capabilities and seats', async () => {
      await withStore(sc.kind, async (s) => {
        const c = coordinator(s);
        const p = await project(s);
        const first = (await s.tasks.submit(newTask(p, { title: 'first' }))).task;
        const second = (await s.tasks.submit(newTask(p, { title: 'second', after: [first.id] }))).task;
        const gpu = (await s.tasks.submit(newTask(p, { title: 'gpu', capabilities: ['gpu'] }))).task;
        assert.equal(second.stage, 'blocked');
        await register(c, 'f-small', { slots: 1 });
        await register(c, 'f-gpu', { slots: 5, capabilities: ['gpu'] });
        const g1 = await c.claim({ factoryId: 'f-small', capabilities: [] }, admin);
        assert.equal(g1?.task.id, first.id, 'the gpu task needs a capability f-small lacks');
        assert.equal(await c.claim({ factoryId: 'f-small', capabilities: [] }, admin), null, 'one seat');
        const g2 = await c.claim({ factoryId: 'f-gpu', capabilities: ['gpu'] }, admin);
        assert.equal(g2?.task.id, gpu.id, 'capability match scores higher');
        assert.equal(await c.claim({ factoryId: 'f-gpu', capabilities: ['gpu'] }, admin), null, 'second is blocked');
        await c.release(first.id, { leaseEpoch: g1!.leaseEpoch, outcome: 'done' }, { factoryId: 'f-small' });
        assert.equal((await s.tasks.get(second.id))?.stage, 'queued');
        const g3 = await c.claim({ factoryId: 'f-gpu', capabilities: ['gpu'] }, admin);
        assert.equal(g3?.task.id, second.id);
        await c.setDrain('f-gpu', true);
        await c.act(second.id, 'requeue', {});
        assert.equal(await c.claim({ factoryId: 'f-gpu', capabilities: ['gpu'] }, admin), null, 'a draining factory gets no work');
        await assert.rejects(c.claim({ factoryId: 'f-unknown' }, admin), /has not registered/);
      });
    });

    it('reaper reclaims expired leases and stale factories in one pass, keeping the checkpoint', async () => {
      await withStore(sc.kind, async (s) => {
        const c = coordinator(s, { leaseTtlMs: 60_000, staleMs: 90_000 });
        const p = await project(s);
        const a = (await s.tasks.submit(newTask(p, { title: 'a', priority: 2 }))).task;
        const b = (await s.tasks.submit(newTask(p, { title: 'b', maxAttempts: 1 }))).task;
        await register(c, 'f-a');
        await register(c, 'f-b');
        const ga = (await c.claim({ factoryId: 'f-a' }, admin))!;
        const gb = (await c.claim({ factoryId: 'f-b' }, admin))!;
        await c.patch(ga.task.id, { leaseEpoch: ga.leaseEpoch, stage: 'building', checkpoint: { ref: 'refs/gantry/checkpoints/a/1', sha: 'abc1234' } }, { factoryId: 'f-a' });
        assert.deepEqual(await c.reapOnce(), [], 'nothing expired yet');
        // Age the world on the store clock: a's lease expires, b's factory goes silent.
        await s.db.run('UPDATE tasks SET lease_expires_at = NOW_MS - 1 WHERE id = ?', [ga.task.id]);
        await s.db.run("UPDATE factories SET last_heartbeat_at = NOW_MS - 100000 WHERE id = 'f-b'");
        const reclaimed = await c.reapOnce();
        assert.deepEqual(reclaimed.map((r) => [r.taskId, r.reason, r.epoch, r.stage]).sort(), [
          [a.id, 'expired', ga.leaseEpoch + 1, 'queued'],
          [b.id, 'factory_stale', gb.leaseEpoch + 1, 'dead_letter'],
        ].sort());
        const ta = (await s.tasks.get(a.id))!;
        assert.deepEqual(ta.checkpoint, { ref: 'refs/gantry/checkpoints/a/1', sha: 'abc1234' });
        assert.equal(ta.attempts, 1);
        assert.deepEqual(await c.reapOnce(), [], 'idempotent');
        await assert.rejects(c.renew(a.id, { leaseEpoch: ga.leaseEpoch }, { factoryId: 'f-a' }), /stale lease/);
        const fs = await c.factories();
        assert.equal(fs.find((f) => f.id === 'f-b')?.state, 'stale');
        const m = await c.metrics();
        assert.equal(m.queueDepth, 1);
        assert.ok(m.alerts.some((x) => x.kind === 'stale_factories'));
        // The fenced factory reports its quarantined result; accepted once, only for a lease it lost.
        assert.deepEqual(await c.quarantine(a.id, { factoryId: 'f-a', leaseEpoch: ga.leaseEpoch, reason: 'fenced' }, { factoryId: 'f-a' }), { recorded: true, currentEpoch: ga.leaseEpoch + 1 });
        assert.equal((await c.quarantine(a.id, { factoryId: 'f-b', leaseEpoch: ga.leaseEpoch, reason: 'x' }, { factoryId: 'f-b' })).recorded, false);
        assert.equal((await s.tasks.get(a.id))?.quarantined, true);
      });
    });

    it('a factory that announces a new incarnation gets its previous process\'s leases reclaimed at once', async () => {
      await withStore(sc.kind, async (s) => {
        const c = coordinator(s, { leaseTtlMs: 60_000, staleMs: 90_000 });
        const p = await project(s);
        const a = (await s.tasks.submit(newTask(p, { title: 'a' }))).task;
        const b = (await s.tasks.submit(newTask(p, { title: 'b' }))).task;
        const hb = (factoryId: string, incarnation?: string) =>
          c.heartbeat({ factoryId, capabilities: [], slots: 10, health: {}, load: {}, ...(incarnation ? { incarnation } : {}) }, { factoryId });
        await hb('f-r', 'boot-1');
        await hb('f-seed');
        const ga = (await c.claim({ factoryId: 'f-r' }, admin))!;
        const gb = (await c.claim({ factoryId: 'f-seed' }, admin))!;
        // Submitted in one millisecond at one priority: either may be claimed first.
        assert.deepEqual([ga.task.id, gb.task.id].sort(), [a.id, b.id].sort());
        await c.patch(ga.task.id, { leaseEpoch: ga.leaseEpoch, stage: 'building', checkpoint: { ref: 'refs/gantry/checkpoints/a/1', sha: 'abc1234' } }, { factoryId: 'f-r' });
        // The same process heartbeating again, and a client that sends no incarnation: nothing moves.
        await hb('f-r', 'boot-1');
        await hb('f-seed');
        await hb('f-seed');
        assert.equal((await s.tasks.get(ga.task.id))?.leaseFactoryId, 'f-r');
        assert.equal((await s.tasks.get(gb.task.id))?.leaseFactoryId, 'f-seed');
        // f-r restarts: its first heartbeat names a new incarnation.
        await hb('f-r', 'boot-2');
        const ta = (await s.tasks.get(ga.task.id))!;
        assert.equal(ta.stage, 'queued');
        assert.equal(ta.leaseEpoch, ga.leaseEpoch + 1);
        assert.equal(ta.attempts, 1);
        assert.deepEqual(ta.checkpoint, { ref: 'refs/gantry/checkpoints/a/1', sha: 'abc1234' }, 'the checkpoint pointer stays');
        assert.equal(ta.affinityFactoryId, 'f-r', 'the restarted factory keeps its workspace, so it gets the task back first');
        assert.deepEqual((await c.runs(ga.task.id)).leases.map((l) => [l.epoch, l.outcome]), [[ga.leaseEpoch, 'factory_restarted']]);
        const types = (await s.events.list({ taskId: ga.task.id, limit: 100 })).map((e) => e.type);
        assert.ok(types.includes('lease.reclaimed'));
        assert.ok((await s.events.list({ limit: 1000 })).some((e) => e.type === 'factory.restarted' && e.payload.factoryId === 'f-r'));
        await assert.rejects(c.release(ga.task.id, { leaseEpoch: ga.leaseEpoch, outcome: 'done' }, { factoryId: 'f-r' }), /stale lease/, 'the dead process\'s epoch is fenced');
        assert.equal((await s.tasks.get(gb.task.id))?.leaseFactoryId, 'f-seed', 'other factories are untouched');
        const again = (await c.claim({ factoryId: 'f-r' }, admin))!;
        assert.equal(again.task.id, ga.task.id);
        assert.equal(again.leaseEpoch, ga.leaseEpoch + 2);
        await hb('f-r', 'boot-2');
        assert.equal((await s.tasks.get(ga.task.id))?.leaseFactoryId, 'f-r', 'the new incarnation keeps what it claimed');
      });
    });

    it('a task taken back from its dead factory resumes before new work, however often that happened and however long the backlog', async () => {
      await withStore(sc.kind, async (s) => {
        const c = coordinator(s, { leaseTtlMs: 60_000, staleMs: 90_000 });
        const p = await project(s);
        const w = (await s.tasks.submit(newTask(p, { title: 'in progress', maxAttempts: 100 }))).task;
        // More new work than the claim window holds, all queued after it.
        for (let i = 0; i < 70; i++) await s.tasks.submit(newTask(p, { title: `new ${i}` }));
        const hb = (factoryId: string, incarnation?: string) =>
          c.heartbeat({ factoryId, capabilities: [], slots: 1, health: {}, load: {}, ...(incarnation ? { incarnation } : {}) }, { factoryId });
        // Its factory dies eight times while it holds the task; each restart takes it back.
        for (let boot = 1; boot <= 8; boot++) {
          await hb('f-crashy', `boot-${boot}`);
          const g = (await c.claim({ factoryId: 'f-crashy' }, admin))!;
          assert.equal(g.task.id, w.id, `restart ${boot}: the restarted factory takes back the task it held`);
        }
        await hb('f-crashy', 'boot-9');
        assert.equal((await s.tasks.get(w.id))?.attempts, 8);
        // Another factory, with no workspace of it, still takes it before any of the new work.
        await hb('f-other');
        const g = (await c.claim({ factoryId: 'f-other' }, admin))!;
        assert.equal(g.task.title, 'in progress');
      });
    });
  });
}

for (const sc of storeCases()) {
  describe(`fleet group commit: ${sc.kind}`, { skip: sc.skip }, () => {
    it('concurrent units share a transaction yet fail alone: a fenced unit changes nothing and emits nothing', async () => {
      await withStore(sc.kind, async (s) => {
        const { c, ids } = await setup(s, 12);
        const grants = await Promise.all(ids.slice(0, 8).map(() => c.claim({ factoryId: F1.factoryId }, F1)));
        assert.equal(new Set(grants.map((g) => g!.task.id)).size, 8, 'eight distinct grants');
        const before = await s.events.latestSeq();
        const results = await Promise.allSettled([
          ...grants.map((g) => c.patch(g!.task.id, { leaseEpoch: g!.leaseEpoch, stage: 'building' }, F1)),
          ...grants.slice(0, 4).map((g) => c.renew(g!.task.id, { leaseEpoch: g!.leaseEpoch + 7 }, F1)),
          ...grants.slice(4).map((g) => c.patch(g!.task.id, { leaseEpoch: g!.leaseEpoch, stage: 'testing' }, F2)),
        ]);
        assert.deepEqual(results.map((r) => r.status), [...Array(8).fill('fulfilled'), ...Array(8).fill('rejected')]);
        const evs = await s.events.list({ after: before });
        assert.equal(evs.length, 8, 'only the successful units wrote events');
        assert.ok(evs.every((e) => e.type === 'task.stage_changed' && e.payload.stage === 'building'));
        for (const g of grants) assert.equal((await s.tasks.get(g!.task.id))?.stage, 'building');
      });
    });

    it('PostgreSQL: a claim locks its factory row without writing a new version of it, unless last_claim_at is a second old', async () => {
      await withStore(sc.kind, async (s) => {
        if (s.db.dialect !== 'postgres') return;
        const { c } = await setup(s, 4);
        const row = () => s.db.get<{ v: string; at: number }>("SELECT xmin::text AS v, last_claim_at AS at FROM factories WHERE id = 'f-one'");
        await s.db.run("UPDATE factories SET last_claim_at = NOW_MS + 3600000 WHERE id = 'f-one'");
        const before = await row();
        assert.ok(await c.claim({ factoryId: F1.factoryId }, F1));
        assert.ok(await c.claim({ factoryId: F1.factoryId }, F1));
        assert.deepEqual(await row(), before, 'two grants, no new row version: last_claim_at is recent');
        await s.db.run("UPDATE factories SET last_claim_at = 0 WHERE id = 'f-one'");
        assert.ok(await c.claim({ factoryId: F1.factoryId }, F1));
        const after = await row();
        assert.ok(after!.at > 0 && after!.at <= (await s.now()), 'a claim refreshes a stale last_claim_at');
      });
    });

    it('concurrent claims by one factory never take more than its seats', async () => {
      await withStore(sc.kind, async (s) => {
        const c = coordinator(s);
        const p = await project(s);
        for (let i = 0; i < 10; i++) await s.tasks.submit(newTask(p, { title: `t${i}` }));
        await register(c, 'f-three', { slots: 3 });
        const grants = await Promise.all(Array.from({ length: 12 }, () => c.claim({ factoryId: 'f-three', capabilities: [] }, admin)));
        const won = grants.filter((g) => g !== null);
        assert.equal(won.length, 3, 'three seats, three grants');
        assert.equal(new Set(won.map((g) => g.task.id)).size, 3);
        const held = await s.db.get<{ n: number }>("SELECT COUNT(*) AS n FROM tasks WHERE lease_factory_id = 'f-three'");
        assert.equal(Number(held?.n), 3);
        const granted = await s.db.get<{ n: number }>("SELECT COUNT(*) AS n FROM events WHERE type = 'lease.granted'");
        assert.equal(Number(granted?.n), 3, 'one event per grant, none for the refused claims');
        if (s.db.dialect === 'postgres') {
          // Two coordinators (own pools, own claim batches) race for one factory's last free seats.
          await s.db.run("UPDATE factories SET slots = 6 WHERE id = 'f-three'");
          const other = await openStore((s.db as unknown as { url: string }).url);
          try {
            const c2 = coordinator(other);
            const more = await Promise.all(Array.from({ length: 16 }, (_, i) => (i % 2 ? c : c2).claim({ factoryId: 'f-three', capabilities: [] }, admin)));
            assert.equal(more.filter((g) => g !== null).length, 3, 'three more seats, three more grants, across coordinators');
          } finally {
            await other.close();
          }
        }
      });
    });

    it('ranks work submitted after the candidate window was read, here and on another coordinator', async () => {
      await withStore(sc.kind, async (s) => {
        // The window never ages out here: only the invalidations under test can refresh it.
        const c = new FleetCoordinator({ fleet: new FleetStoreSql(s, { windowMaxAgeMs: 3_600_000 }), tasks: s.tasks, projects: s.projects, tokens: s.tokens, events: s.events });
        const p = await project(s);
        const a = (await s.tasks.submit(newTask(p, { title: 'a', priority: 1 }))).task;
        await s.tasks.submit(newTask(p, { title: 'b' }));
        await register(c, F1.factoryId);
        assert.equal((await c.claim({ factoryId: F1.factoryId }, F1))?.task.id, a.id);
        // The window now holds b; an urgent task committed by this process is ranked on the very next claim.
        const urgent = (await s.tasks.submit(newTask(p, { title: 'urgent', priority: 9 }))).task;
        assert.equal((await c.claim({ factoryId: F1.factoryId }, F1))?.task.id, urgent.id);
        if (s.db.dialect !== 'postgres') return;
        // Another coordinator (its own store and pool) commits a more urgent task: the event log tells this one.
        const other = await openStore((s.db as unknown as { url: string }).url);
        const seen = new Set<string>();
        const stop = s.events.follow(await s.events.latestSeq(), (e) => void (e.taskId && seen.add(e.taskId)));
        await stop.ready;
        try {
          const far = (await other.tasks.submit(newTask(p, { title: 'far', priority: 7 }))).task;
          // Live delivery reaches subscribers in order; the claimer's (older) subscription has seen it once this one has.
          await until(() => seen.has(far.id), "the other coordinator's event");
          assert.equal((await c.claim({ factoryId: F1.factoryId }, F1))?.task.id, far.id);
        } finally {
          stop();
          await other.close();
        }
      });
    });

    it('a head taken behind the kept window\'s back: the claim takes the next-ranked task, not the next group', async () => {
      await withStore(sc.kind, async (s) => {
        const kept = new FleetCoordinator({ fleet: new FleetStoreSql(s, { windowMaxAgeMs: 3_600_000 }), tasks: s.tasks, projects: s.projects, tokens: s.tokens, events: s.events });
        const other = coordinator(s);
        const p = await project(s);
        // 40 tasks, strictly ranked by priority: more than one group of candidates.
        const byRank: string[] = [];
        for (let i = 40; i > 0; i--) byRank.push((await s.tasks.submit(newTask(p, { title: `p${i}`, priority: i }))).task.id);
        await register(kept, F1.factoryId);
        await register(other, F2.factoryId);
        assert.equal((await kept.claim({ factoryId: F1.factoryId }, F1))?.task.id, byRank[0]);
        // The first claim starts following the event log, which drops the window once when it is ready; after
        // that the window is read once more and then kept.
        await new Promise((r) => setTimeout(r, 300));
        assert.equal((await kept.claim({ factoryId: F1.factoryId }, F1))?.task.id, byRank[1]);
        // The other coordinator (its own window) takes the head of this one's window: no event drops a window for a grant.
        assert.equal((await other.claim({ factoryId: F2.factoryId }, F2))?.task.id, byRank[2]);
        assert.equal((await kept.claim({ factoryId: F1.factoryId }, F1))?.task.id, byRank[3], 'the best task still queued');
      });
    });

    it('gives each factory back the task whose workspace it kept, however many such tasks are queued', async () => {
      await withStore(sc.kind, async (s) => {
        const c = coordinator(s);
        const p = await project(s);
        await seedTasks(s, p, 100);
        const factories = Array.from({ length: 40 }, (_, i) => `f-aff${String(i).padStart(2, '0')}`);
        for (const f of factories) await register(c, f);
        // Newer than the 100 above, each kept by one factory (as an abandoned or parked task is).
        const kept = new Map<string, string>();
        for (const f of factories) {
          const { task } = await s.tasks.submit(newTask(p, { title: `kept by ${f}` }));
          await s.db.run('UPDATE tasks SET affinity_factory_id = ? WHERE id = ?', [f, task.id]);
          kept.set(f, task.id);
        }
        for (const f of factories) assert.equal((await c.claim({ factoryId: f }, admin))?.task.id, kept.get(f), f);
      });
    });
  });
}

describe('batched claims on PostgreSQL', { skip: pgSkip() }, () => {
  it('claims, PATCHes and releases in flight together share one statement, and each gets its own answer', async () => {
    await withStore('postgres', async (s, db) => {
      const c = coordinator(s, { leaseTtlMs: 60_000, staleMs: 90_000 });
      const p = await project(s);
      await seedTasks(s, p, 12);
      const fs = Array.from({ length: 8 }, (_, i) => ({ factoryId: `f-m${i}` }));
      for (const f of fs) await register(c, f.factoryId, { slots: 2 });
      const held = (await Promise.all(fs.slice(0, 4).map((f) => c.claim({ factoryId: f.factoryId }, f)))).map((g, i) => ({ g: g!, f: fs[i]! }));
      // Watch what reaches the server from now on.
      const statements: string[] = [];
      const write = s.writeWithEventRows.bind(s);
      s.writeWithEventRows = ((sql: string, ...rest: [never, never]) => (statements.push(sql), write(sql, ...rest))) as typeof s.writeWithEventRows;
      // Both lanes' batches in flight wait on rows another writer holds, so everything sent meanwhile queues up behind them.
      const blocker = new pg.Client({ connectionString: db.target });
      await blocker.connect();
      try {
        await blocker.query('BEGIN');
        await blocker.query('SELECT 1 FROM tasks WHERE id = ANY($1) FOR UPDATE', [[held[0]!.g.task.id, held[3]!.g.task.id]]);
        const waiting = async () => Number((await blocker.query('SELECT COUNT(*) AS n FROM pg_locks WHERE NOT granted')).rows[0].n);
        const first = c.patch(held[0]!.g.task.id, { leaseEpoch: held[0]!.g.leaseEpoch, stage: 'testing' }, held[0]!.f);
        await until(async () => (await waiting()) >= 1, 'the first batch to wait');
        const second = c.patch(held[3]!.g.task.id, { leaseEpoch: held[3]!.g.leaseEpoch, stage: 'testing' }, held[3]!.f);
        await until(async () => (await waiting()) >= 2, 'the second lane to wait');
        const rest = Promise.all([
          c.release(held[1]!.g.task.id, { leaseEpoch: held[1]!.g.leaseEpoch, outcome: 'done', report: { summary: 'ok' } }, held[1]!.f),
          c.patch(held[2]!.g.task.id, { leaseEpoch: held[2]!.g.leaseEpoch + 1, stage: 'testing' }, held[2]!.f).then(
            () => 'applied',
            (e: Error) => e.message,
          ),
          Promise.all(fs.slice(4).map((f) => c.claim({ factoryId: f.factoryId }, f))),
        ]);
        await new Promise((r) => setTimeout(r, 300));
        await blocker.query('COMMIT');
        const patched = await first;
        assert.equal((await second).stage, 'testing');
        const [released, stale, claimed] = await rest;
        assert.ok(
          statements.some((q) => q.includes('gantry_release(') && q.includes('gantry_patch(') && q.includes('gantry_claim(')),
          `one statement carried all three kinds:\n${statements.join('\n')}`,
        );
        assert.equal(patched.stage, 'testing');
        assert.equal(released.task.stage, 'shipped');
        assert.match(stale, /stale lease/, 'a fenced PATCH in the batch is its own 409');
        assert.equal((await s.tasks.get(held[2]!.g.task.id))?.stage, 'assigned', 'and changed nothing');
        assert.ok(claimed.every((g) => g !== null));
        assert.equal(new Set([...held.map((h) => h.g.task.id), ...claimed.map((g) => g!.task.id)]).size, 8, 'eight different tasks granted');
        const types = (await s.events.list({ limit: 500 })).map((e) => e.type);
        assert.equal(types.filter((t) => t === 'lease.granted').length, 8, 'one lease.granted per grant');
        assert.equal(types.filter((t) => t === 'lease.released').length, 1);
        assert.equal(types.filter((t) => t === 'task.stage_changed').length, 2, 'the fenced PATCH left no event');
      } finally {
        await blocker.end();
      }
    });
  });

  it('a PATCH and a release of one task in one batch still land in the order they came', async () => {
    await withStore('postgres', async (s, db) => {
      const c = coordinator(s, { leaseTtlMs: 60_000, staleMs: 90_000 });
      const p = await project(s);
      await seedTasks(s, p, 2);
      await register(c, 'f-o1');
      await register(c, 'f-o2');
      const [a, b] = [(await c.claim({ factoryId: 'f-o1' }, admin))!, (await c.claim({ factoryId: 'f-o2' }, admin))!];
      const blocker = new pg.Client({ connectionString: db.target });
      await blocker.connect();
      try {
        // The batch in flight waits on a row another writer holds; the PATCH and the release queue up behind it, together.
        await blocker.query('BEGIN');
        await blocker.query('SELECT 1 FROM tasks WHERE id = $1 FOR UPDATE', [a.task.id]);
        const first = c.patch(a.task.id, { leaseEpoch: a.leaseEpoch, stage: 'building' }, { factoryId: 'f-o1' });
        await until(async () => Number((await blocker.query('SELECT COUNT(*) AS n FROM pg_locks WHERE NOT granted')).rows[0].n) >= 1, 'the first batch to wait');
        const both = Promise.allSettled([
          c.patch(b.task.id, { leaseEpoch: b.leaseEpoch, stage: 'testing' }, { factoryId: 'f-o2' }),
          c.release(b.task.id, { leaseEpoch: b.leaseEpoch, outcome: 'done', report: { summary: 'ok' } }, { factoryId: 'f-o2' }),
        ]);
        await new Promise((r) => setTimeout(r, 300));
        await blocker.query('COMMIT');
        await first;
        const [patched, released] = await both;
        assert.equal(patched.status, 'fulfilled', `the PATCH sent first is applied: ${String((patched as PromiseRejectedResult).reason)}`);
        assert.equal(released.status, 'fulfilled');
        const types = (await s.events.list({ taskId: b.task.id, limit: 50 })).map((e) => e.type);
        assert.deepEqual(types.slice(-2), ['task.stage_changed', 'lease.released']);
      } finally {
        await blocker.end();
      }
    });
  });

  it('a batch that deadlocks with another writer is not lost: each claim is served alone', async () => {
    await withStore('postgres', async (s, db) => {
      const c = coordinator(s);
      const p = await project(s);
      await seedTasks(s, p, 8);
      for (const f of ['f-a', 'f-b', 'f-x', 'f-y']) await register(c, f);
      const client = async () => {
        const k = new pg.Client({ connectionString: db.target });
        await k.connect();
        return k;
      };
      const [blocker, other, probe] = await Promise.all([client(), client(), client()]);
      const waiting = async (): Promise<number> => Number((await probe.query('SELECT COUNT(*) AS n FROM pg_locks WHERE NOT granted')).rows[0].n);
      const deadlocks = async (): Promise<number> => {
        await probe.query('SELECT pg_stat_clear_snapshot()');
        return Number((await probe.query('SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()')).rows[0].deadlocks);
      };
      try {
        const before = await deadlocks();
        // The batch in flight waits on factories another writer holds, so the next claims queue up as one batch.
        await blocker.query('BEGIN');
        await blocker.query("UPDATE factories SET rev = rev + 1 WHERE id IN ('f-x', 'f-y')");
        await other.query('BEGIN');
        await other.query("UPDATE factories SET rev = rev + 1 WHERE id = 'f-b'");
        const fx = c.claim({ factoryId: 'f-x' }, admin);
        await until(async () => (await waiting()) >= 1, 'the batch in flight to wait');
        const batch = Promise.all([c.claim({ factoryId: 'f-y' }, admin), c.claim({ factoryId: 'f-a' }, admin), c.claim({ factoryId: 'f-b' }, admin)]);
        await new Promise((r) => setTimeout(r, 500)); // the claims reach the batcher (their window is warm)
        await blocker.query('COMMIT');
        const first = await fx;
        // The batch takes f-a, then waits on f-b; the other writer now asks for f-a: a lock cycle.
        await until(async () => (await waiting()) >= 1, 'the batch to wait on f-b');
        const cycle = await other.query("UPDATE factories SET rev = rev + 1 WHERE id = 'f-a'").then(() => 'ok', (e: { code?: string }) => String(e.code));
        await other.query(cycle === 'ok' ? 'COMMIT' : 'ROLLBACK');
        const grants = [first, ...(await batch)];
        assert.ok(grants.every((g) => g !== null), 'every claim got a task');
        assert.equal(new Set(grants.map((g) => g!.task.id)).size, 4);
        assert.equal(cycle, 'ok', 'PostgreSQL broke the cycle by aborting the batch');
        assert.ok((await deadlocks()) > before, 'a deadlock really happened');
      } finally {
        await Promise.all([blocker.end(), other.end(), probe.end()]);
      }
    });
  });
});
