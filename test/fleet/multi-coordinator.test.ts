// Two coordinators against one PostgreSQL serve one fleet: factories talk HTTP to either, both
// reapers run, and every task ships exactly once.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshDb, pgSkip } from '../support/db.js';
import { newTask, project } from '../support/fixtures.js';
import { until } from './support.js';
import { startCoordinator } from '../../src/app/coordinator.js';
import { localFactoryId, resolveHome } from '../../src/app/home.js';
import { silentLogger } from '../../src/api/logger.js';
import { Factory } from '../../src/fleet/factory.js';
import { HttpCoordinatorClient } from '../../src/fleet/http-client.js';
import { StepsExecutor } from '../../src/fleet/executors.js';
import { SqliteOutbox } from '../../src/store/fleet-outbox.js';

describe('two coordinators, one PostgreSQL', { skip: pgSkip() }, () => {
  it('serve the same fleet: every task shipped exactly once, leases reclaimed by either reaper', async () => {
    const db = await freshDb('postgres');
    const dir = mkdtempSync(join(tmpdir(), 'gantry-multi-'));
    const fleet = { staleMs: 1200, reapIntervalMs: 150, leaseTtlMs: 60_000 };
    const a = await startCoordinator({ home: resolveHome(join(dir, 'a')), port: 0, host: '127.0.0.1', database: db.target, factories: 0, logger: silentLogger, pollMs: 100, fleet });
    const b = await startCoordinator({ home: resolveHome(join(dir, 'b')), port: 0, host: '127.0.0.1', database: db.target, factories: 0, logger: silentLogger, pollMs: 100, fleet });
    const outboxes: SqliteOutbox[] = [];
    const factories: Factory[] = [];
    try {
      const p = await project(a.store);
      const ids: string[] = [];
      for (let i = 0; i < 24; i++) ids.push((await b.store.tasks.submit(newTask(p, { title: `m${i}` }))).task.id);
      // A factory on coordinator A that vanishes while holding work (stops heartbeating, never releases).
      const ghost = await a.fleet.enroll({ name: 'ghost' });
      const ghostClient = new HttpCoordinatorClient({ url: a.url, token: ghost.token });
      await ghostClient.heartbeat({ factoryId: ghost.factoryId, capabilities: [], health: {}, load: {}, slots: 3 });
      const held = [];
      for (let i = 0; i < 3; i++) held.push((await ghostClient.claim(ghost.factoryId, []))!);
      for (const [i, c] of [a, a, b, b].entries()) {
        const { factoryId, token } = await c.fleet.enroll({ name: `w${i}` });
        const outbox = new SqliteOutbox(join(dir, `w${i}.db`));
        outboxes.push(outbox);
        const f = new Factory({ factoryId, capabilities: [], slots: 2, client: new HttpCoordinatorClient({ url: c.url, token }), executor: new StepsExecutor({ stepMs: 5 }), outbox, heartbeatMs: 100, pollMs: 300 });
        factories.push(f);
        await f.start();
      }
      await until(async () => (await a.store.tasks.list({ stages: ['shipped'], limit: 100 })).tasks.length === 24, 'all 24 shipped', 40_000);
      for (const id of ids) {
        const leases = (await b.fleet.runs(id)).leases;
        assert.equal(leases.filter((l) => l.outcome === 'done').length, 1, `${id} shipped once`);
      }
      for (const g of held) {
        const leases = (await a.fleet.runs(g.job.id)).leases;
        assert.deepEqual(leases[0]!.outcome, 'factory_stale', 'the ghost lost its leases to a reaper');
      }
      const granted = new Set((await a.store.events.list({ limit: 1000 })).filter((e) => e.type === 'lease.granted').map((e) => `${e.taskId}@${String(e.payload.epoch)}`));
      const total = Number((await a.store.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM leases'))?.n);
      assert.equal(granted.size, total, 'one grant event per lease, no duplicate epochs');
      const used = new Set((await a.store.db.all<{ factory_id: string }>("SELECT DISTINCT factory_id FROM leases WHERE outcome = 'done'")).map((r) => r.factory_id));
      assert.ok(used.size >= 2, 'factories on both coordinators did work');
    } finally {
      await Promise.all(factories.map((f) => f.stop()));
      for (const o of outboxes) await o.close();
      await a.close();
      await b.close();
      await db.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('several gantry up on one PostgreSQL', { skip: pgSkip() }, () => {
  it('never share in-process factory rows; each keeps its own ids across restarts', async () => {
    const db = await freshDb('postgres');
    const dir = mkdtempSync(join(tmpdir(), 'gantry-multi-up-'));
    const up = (name: string) =>
      startCoordinator({ home: resolveHome(join(dir, name)), port: 0, host: '127.0.0.1', database: db.target, factories: 2, executor: 'steps:5', logger: silentLogger, pollMs: 100, fleet: { heartbeatMs: 100 } });
    let a = await up('a');
    const b = await up('b');
    try {
      const ids = (await a.fleet.factories()).map((f) => f.id).sort();
      assert.equal(ids.length, 4, `four factory rows, not two shared ones: ${ids.join(' ')}`);
      const ofA = [localFactoryId(join(dir, 'a'), 1), localFactoryId(join(dir, 'a'), 2)];
      const ofB = [localFactoryId(join(dir, 'b'), 1), localFactoryId(join(dir, 'b'), 2)];
      assert.deepEqual(ids, [...ofA, ...ofB].sort());
      const p = await project(a.store);
      const tasks: string[] = [];
      for (let i = 0; i < 8; i++) tasks.push((await b.store.tasks.submit(newTask(p, { title: `u${i}` }))).task.id);
      await until(async () => (await a.store.tasks.list({ stages: ['shipped'], limit: 100 })).tasks.length === 8, 'all 8 shipped', 40_000);
      await a.close();
      a = await up('a');
      assert.deepEqual((await a.fleet.factories()).map((f) => f.id).sort(), ids, 'a restart reuses its ids; no new rows');
      for (const id of ofB) assert.ok((await b.fleet.factories()).find((f) => f.id === id)?.live, 'b is unaffected by a restarting');
    } finally {
      await a.close();
      await b.close();
      await db.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
