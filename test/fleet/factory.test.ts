// The factory runtime in-process against a real coordinator and store (both engines).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { storeCases, withStore } from '../support/db.js';
import { newTask, project } from '../support/fixtures.js';
import { coordinator, until } from './support.js';
import { Factory } from '../../src/fleet/factory.js';
import { LocalClient } from '../../src/fleet/local-client.js';
import { StepsExecutor, type StepsOptions } from '../../src/fleet/executors.js';
import { SqliteOutbox } from '../../src/store/fleet-outbox.js';
import type { FleetCoordinator } from '../../src/fleet/coordinator.js';

const SENTINEL = 'SENTINEL-7f3a9 do-not-leak this secret prompt line';

function makeFactory(c: FleetCoordinator, dir: string, id: string, exec: StepsOptions, logs: string[], over: { slots?: number; secrets?: string[] } = {}) {
  const outbox = new SqliteOutbox(join(dir, `${id}.outbox.db`));
  const f = new Factory({
    factoryId: id,
    capabilities: [],
    slots: over.slots ?? 2,
    client: new LocalClient(c, id),
    executor: new StepsExecutor(exec),
    outbox,
    heartbeatMs: 50,
    pollMs: 300,
    renewEveryMs: 100,
    drainGraceMs: 5_000,
    secrets: over.secrets ?? [],
    log: (m) => logs.push(`${id}: ${m}`),
  });
  return { f, outbox };
}

for (const sc of storeCases()) {
  describe(`factory runtime: ${sc.kind}`, { skip: sc.skip }, () => {
    it('two factories ship every task; nothing secret reaches events, reports, outbox or logs', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'gantry-factory-'));
      await withStore(sc.kind, async (s) => {
        const c = coordinator(s, { leaseTtlMs: 3_000, reapIntervalMs: 200 });
        c.start();
        const p = await project(s);
        const token = (await s.tokens.create({ name: 'x', role: 'factory' })).token;
        const ids = [];
        for (let i = 0; i < 8; i++) ids.push((await s.tasks.submit(newTask(p, { title: `t${i}`, body: `line one\n${SENTINEL}\nand ${token}` }))).task.id);
        const logs: string[] = [];
        const a = makeFactory(c, dir, 'f-a', { stepMs: 20, echoBody: true }, logs, { secrets: [token] });
        const b = makeFactory(c, dir, 'f-b', { stepMs: 20, echoBody: true }, logs, { secrets: [token] });
        await Promise.all([a.f.start(), b.f.start()]);
        await until(async () => (await s.tasks.list({ stages: ['shipped'] })).tasks.length === 8, 'all shipped');
        await Promise.all([a.f.drain(), b.f.drain()]);
        await c.stop();
        const events = await s.events.list({ limit: 1000 });
        const types = new Set(events.map((e) => e.type));
        for (const t of ['factory.registered', 'lease.granted', 'task.stage_changed', 'lease.released']) assert.ok(types.has(t), `event ${t}`);
        const leases = (await Promise.all(ids.map((id) => c.runs(id)))).flatMap((r) => r.leases);
        assert.ok(leases.every((l) => l.outcome === 'done'));
        assert.ok(leases.some((l) => String(l.report?.summary).includes('[redacted]')), 'the echoed body was redacted');
        const everything = JSON.stringify({ events, leases, logs, a: await a.outbox.pending(), b: await b.outbox.pending() });
        assert.ok(!everything.includes('SENTINEL-7f3a9'), 'task body never leaves');
        assert.ok(!everything.includes(token), 'token never leaves');
        assert.ok(new Set(leases.map((l) => l.factoryId)).size === 2, 'both factories worked');
        await a.outbox.close();
        await b.outbox.close();
      });
      rmSync(dir, { recursive: true, force: true });
    });

    it('an operator action mid-run fences the holder: it stops, quarantines, and never ships', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'gantry-factory-'));
      await withStore(sc.kind, async (s) => {
        const c = coordinator(s, { leaseTtlMs: 3_000 });
        const p = await project(s);
        const t = (await s.tasks.submit(newTask(p))).task;
        const logs: string[] = [];
        let cancelled = false;
        const a = makeFactory(c, dir, 'f-q', {
          stepMs: 10,
          onStep: async (task, _stage, i) => {
            if (i === 1 && !cancelled) {
              cancelled = true;
              await c.act(task.id, 'cancel', { reason: 'operator changed their mind' });
            }
          },
        }, logs);
        await a.f.start();
        await until(async () => (await a.outbox.quarantined()).length === 1 && (await a.outbox.pending()).length === 0, 'quarantined and reported');
        await a.f.drain();
        const q = await a.outbox.quarantined();
        assert.equal(q[0]!.taskId, t.id);
        assert.equal(q[0]!.epoch, 1);
        const task = (await s.tasks.get(t.id))!;
        assert.equal(task.stage, 'cancelled');
        assert.equal(task.quarantined, true, 'surfaced to operators');
        const leases = (await c.runs(t.id)).leases;
        assert.deepEqual(leases.map((l) => l.outcome), ['revoked'], 'the fenced holder never released it as done');
        assert.deepEqual((await c.quarantines()).map((x) => [x.taskId, x.factoryId, x.epoch]), [[t.id, 'f-q', 1]]);
        await a.outbox.close();
      });
      rmSync(dir, { recursive: true, force: true });
    });

    it('drain past the grace gives in-flight work back; another factory finishes it', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'gantry-factory-'));
      await withStore(sc.kind, async (s) => {
        const c = coordinator(s, { leaseTtlMs: 3_000 });
        const p = await project(s);
        const t = (await s.tasks.submit(newTask(p, { maxAttempts: 5 }))).task;
        const logs: string[] = [];
        const slow = makeFactory(c, dir, 'f-slow', { stepMs: 60_000 }, logs);
        await slow.f.start();
        await until(async () => (await s.tasks.get(t.id))?.stage === 'building', 'slow factory building');
        await slow.f.drain(50);
        const back = (await s.tasks.get(t.id))!;
        assert.equal(back.stage, 'queued');
        assert.equal(back.affinityFactoryId, 'f-slow');
        assert.equal((await c.runs(t.id)).leases[0]!.outcome, 'abandoned');
        const fast = makeFactory(c, dir, 'f-fast', { stepMs: 5 }, logs);
        await fast.f.start();
        await until(async () => (await s.tasks.get(t.id))?.stage === 'shipped', 'shipped by the other factory');
        await fast.f.drain();
        await slow.outbox.close();
        await fast.outbox.close();
      });
      rmSync(dir, { recursive: true, force: true });
    });
  });
}
