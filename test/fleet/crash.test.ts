// Crash and outage behaviour with real processes: SIGKILL a factory mid-lease, SIGKILL a
// coordinator mid-claim, and a coordinator outage while a factory keeps working.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freshDb, storeCases, type TestDb } from '../support/db.js';
import { newTask, project } from '../support/fixtures.js';
import { GANTRY_BIN } from '../support/cli.js';
import { coordinator as fleetOver, register, seedTasks, until } from './support.js';
import { startCoordinator, type Coordinator } from '../../src/app/coordinator.js';
import { resolveHome } from '../../src/app/home.js';
import { jsonLogger } from '../../src/api/logger.js';
import { openStore } from '../../src/store/open.js';
import { Factory } from '../../src/fleet/factory.js';
import { LocalClient } from '../../src/fleet/local-client.js';
import { StepsExecutor } from '../../src/fleet/executors.js';
import { SqliteOutbox } from '../../src/store/fleet-outbox.js';
import type { FleetConfig } from '../../src/fleet/coordinator.js';

const WORKER = fileURLToPath(new URL('./workers/race-worker.ts', import.meta.url));
const SENTINEL = 'SENTINEL-c0ffee the secret plan is in this line';

interface Env {
  db: TestDb;
  dir: string;
  logs: string[];
  target: string;
  start(port?: number): Promise<Coordinator>;
  dispose(): Promise<void>;
}

async function env(kind: 'sqlite' | 'postgres', fleet: Partial<FleetConfig>): Promise<Env> {
  const db = await freshDb(kind);
  const dir = mkdtempSync(join(tmpdir(), 'gantry-crash-'));
  const target = kind === 'postgres' ? db.target : join(dir, 'gantry.db');
  const logs: string[] = [];
  return {
    db,
    dir,
    logs,
    target,
    start: (port = 0) =>
      startCoordinator({ home: resolveHome(join(dir, 'home')), port, host: '127.0.0.1', database: target, factories: 0, logger: jsonLogger((l) => logs.push(l)), pollMs: 100, fleet }),
    dispose: async () => {
      await db.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

interface FactoryProc {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** Every factory process a test started: one a failed test left running would keep this file from ever ending. */
const spawned = new Set<ChildProcess>();
after(() => {
  for (const c of spawned) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

function spawnFactory(url: string, token: string, name: string, home: string, executor: string, slots = 1): FactoryProc {
  const child = spawn(process.execPath, [GANTRY_BIN, 'factory', '--url', url, '--token', token, '--name', name, '--home', home, '--executor', executor, '--slots', String(slots), '--drain-grace', '100'], {
    env: { ...process.env, GANTRY_HEARTBEAT_MS: '150', GANTRY_RENEW_MS: '300', GANTRY_POLL_MS: '400', GANTRY_URL: '', GANTRY_TOKEN: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  spawned.add(child);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d));
  child.stdout!.resume();
  return { child, stderr: () => err, exited: new Promise((r) => child.on('exit', (code) => r(code))) };
}

for (const sc of storeCases()) {
  describe(`fleet crashes: ${sc.kind}`, { skip: sc.skip }, () => {
    it('SIGKILL a factory mid-lease: reclaimed within the stale window, another factory finishes it', async () => {
      const e = await env(sc.kind, { staleMs: 1500, reapIntervalMs: 150, leaseTtlMs: 120_000 });
      const c = await e.start();
      try {
        const p = await project(c.store);
        const t = (await c.store.tasks.submit(newTask(p, { body: SENTINEL }))).task;
        const { factoryId, token } = await c.fleet.enroll({ name: 'doomed' });
        const doomed = spawnFactory(c.url, token, 'doomed', join(e.dir, 'doomed'), 'steps:60000');
        await until(async () => {
          const x = await c.store.tasks.get(t.id);
          return x?.stage === 'building' && x.leaseFactoryId === factoryId;
        }, 'doomed factory building', 60_000);
        doomed.child.kill('SIGKILL');
        await doomed.exited;
        const outbox = new SqliteOutbox(join(e.dir, 'rescuer.db'));
        const rescuer = new Factory({ factoryId: 'f-rescuer', capabilities: [], slots: 1, client: new LocalClient(c.fleet, 'f-rescuer'), executor: new StepsExecutor({ stepMs: 5 }), outbox, heartbeatMs: 100, pollMs: 200 });
        await rescuer.start();
        await until(async () => (await c.store.tasks.get(t.id))?.stage === 'shipped', 'rescued and shipped', 30_000);
        await rescuer.drain();
        await outbox.close();
        const leases = (await c.fleet.runs(t.id)).leases;
        assert.deepEqual(leases.map((l) => [l.factoryId, l.outcome]), [[factoryId, 'factory_stale'], ['f-rescuer', 'done']], 'reclaimed for staleness long before the 120 s TTL');
        assert.ok(!doomed.stderr().includes('SENTINEL-c0ffee') && !doomed.stderr().includes(token), 'factory logs carry no body or token');
      } finally {
        await c.close();
        await e.dispose();
      }
    });

    it('SIGKILL the coordinator mid-claim: after restart no lease is granted twice and history agrees with the rows', async () => {
      const e = await env(sc.kind, {});
      const c0 = await openStore(e.target);
      const p = await project(c0);
      await seedTasks(c0, p, 150);
      await c0.close();
      const child = spawn(process.execPath, ['--import', 'tsx', WORKER, e.target, JSON.stringify({ op: 'hold', factoryIds: ['f-k1', 'f-k2', 'f-k3', 'f-k4'] })], { stdio: ['ignore', 'pipe', 'pipe'] });
      const printed: Array<{ taskId: string; epoch: number; factoryId: string }> = [];
      let buf = '';
      const exited = new Promise((r) => child.on('exit', r));
      child.stdout!.on('data', (d: Buffer) => {
        buf += d;
        const lines = buf.split('\n');
        buf = lines.pop()!;
        for (const l of lines) if (l.trim()) printed.push(JSON.parse(l) as (typeof printed)[number]);
      });
      await until(() => printed.length >= 40, 'claims under way');
      child.kill('SIGKILL');
      await exited;
      const s = await openStore(e.target);
      try {
        const c = fleetOver(s, { leaseTtlMs: 600_000, staleMs: 600_000 });
        await register(c, 'f-after');
        const after: typeof printed = [];
        for (;;) {
          const g = await c.claim({ factoryId: 'f-after' }, { factoryId: 'f-after' });
          if (!g) break;
          after.push({ taskId: g.task.id, epoch: g.leaseEpoch, factoryId: 'f-after' });
        }
        const held = new Set(printed.map((x) => x.taskId));
        for (const a of after) assert.ok(!held.has(a.taskId), `${a.taskId} was granted again after the crash`);
        for (const x of printed) {
          const t = (await s.tasks.get(x.taskId))!;
          assert.equal(t.leaseEpoch, x.epoch);
          assert.equal(t.leaseFactoryId, x.factoryId);
        }
        const rows = await s.db.all<{ id: string; lease_epoch: number; lease_factory_id: string | null; stage: string }>('SELECT id, lease_epoch, lease_factory_id, stage FROM tasks');
        const open = await s.db.all<{ task_id: string; epoch: number; factory_id: string }>('SELECT task_id, epoch, factory_id FROM leases WHERE released_at IS NULL');
        const openBy = new Map(open.map((l) => [l.task_id, l]));
        assert.equal(open.length, new Set(open.map((l) => l.task_id)).size, 'at most one open lease per task');
        for (const r of rows) {
          assert.equal(r.stage, 'assigned', 'every task ended up held exactly once');
          const l = openBy.get(r.id);
          assert.ok(l, `${r.id} has its open lease row`);
          assert.equal(Number(l.epoch), Number(r.lease_epoch));
          assert.equal(l.factory_id, r.lease_factory_id);
          assert.equal(Number(r.lease_epoch), 1, 'one grant each: nothing was lost or granted twice');
        }
      } finally {
        await s.close();
        await e.dispose();
      }
    });

    it('a factory SIGKILLed while offline delivers its durable outbox when it restarts', async () => {
      // The stale window has to outlast the whole outage (the coordinator's close, the outbox write, the
      // kill, the coordinator's restart and the factory's start, on a busy 2-core host); it never delays the test.
      const e = await env(sc.kind, { staleMs: 60_000, reapIntervalMs: 200, leaseTtlMs: 120_000 });
      let c = await e.start();
      const port = Number(new URL(c.url).port);
      const p = await project(c.store);
      const t = (await c.store.tasks.submit(newTask(p))).task;
      const { factoryId, token } = await c.fleet.enroll({ name: 'phoenix' });
      const fhome = join(e.dir, 'phoenix');
      const first = spawnFactory(c.url, token, 'phoenix', fhome, 'steps:300');
      let second: FactoryProc | null = null;
      try {
        // Process starts (tsx loading the CLI) are slow on a busy shared host: generous waits, no timing claims.
        await until(async () => (await c.store.tasks.get(t.id))?.stage === 'building', 'phoenix building', 60_000);
        await c.close();
        const outboxPath = join(fhome, 'factories', 'phoenix', 'outbox.db');
        await until(async () => {
          const ob = new SqliteOutbox(outboxPath);
          try {
            return (await ob.pending()).some((x) => x.kind === 'release');
          } finally {
            await ob.close();
          }
        }, 'release kept in the outbox', 30_000);
        first.child.kill('SIGKILL');
        await first.exited;
        c = await e.start(port);
        second = spawnFactory(c.url, token, 'phoenix', fhome, 'steps:300');
        await until(async () => (await c.store.tasks.get(t.id))?.stage === 'shipped', 'shipped from the outbox after the restart', 60_000);
        const leases = (await c.fleet.runs(t.id)).leases;
        assert.deepEqual(leases.map((l) => [l.epoch, l.factoryId, l.outcome]), [[1, factoryId, 'done']], 'the original lease, released once');
        second.child.kill('SIGTERM');
        assert.equal(await second.exited, 0);
      } finally {
        first.child.kill('SIGKILL');
        second?.child.kill('SIGKILL');
        await c.close().catch(() => undefined);
        await e.dispose();
      }
    });

    it('coordinator down while a factory works: it finishes, its outbox drains after restart, a task reclaimed meanwhile is quarantined and shipped once', async () => {
      const e = await env(sc.kind, { staleMs: 4000, reapIntervalMs: 200, leaseTtlMs: 120_000 });
      let c = await e.start();
      const port = Number(new URL(c.url).port);
      const p = await project(c.store);
      const t1 = (await c.store.tasks.submit(newTask(p, { title: 'keeps', body: SENTINEL }))).task;
      const t2 = (await c.store.tasks.submit(newTask(p, { title: 'taken', body: SENTINEL }))).task;
      const { factoryId, token } = await c.fleet.enroll({ name: 'islander' });
      const fhome = join(e.dir, 'islander');
      const island = spawnFactory(c.url, token, 'islander', fhome, 'steps:700', 2);
      try {
        await until(async () => {
          const a = await c.store.tasks.get(t1.id);
          const b = await c.store.tasks.get(t2.id);
          return a?.stage === 'building' && b?.stage === 'building' && a.leaseFactoryId === factoryId && b.leaseFactoryId === factoryId;
        }, 'islander holds both', 60_000);
        await c.close(); // the coordinator goes away

        // Meanwhile (another coordinator on the same store) an operator takes t2 back and another factory ships it.
        const s = await openStore(e.target);
        const other = fleetOver(s, { leaseTtlMs: 120_000 });
        await other.act(t2.id, 'requeue', { reason: 'taking it back' });
        await register(other, 'f-other');
        const g = (await other.claim({ factoryId: 'f-other' }, { factoryId: 'f-other' }))!;
        assert.equal(g.task.id, t2.id);
        await other.release(t2.id, { leaseEpoch: g.leaseEpoch, outcome: 'done', report: { summary: 'shipped by f-other' } }, { factoryId: 'f-other' });
        await s.close();

        // The islander finishes its work offline: both releases wait in its durable outbox.
        const outboxPath = join(fhome, 'factories', 'islander', 'outbox.db');
        await until(async () => {
          const ob = new SqliteOutbox(outboxPath);
          try {
            return (await ob.pending()).filter((x) => x.kind === 'release').length === 2;
          } finally {
            await ob.close();
          }
        }, 'both releases kept in the outbox', 30_000);

        c = await e.start(port); // back, on the same address
        await until(async () => (await c.store.tasks.get(t1.id))?.stage === 'shipped', 't1 shipped from the outbox', 30_000);
        // The refused release and the quarantine report go out in the same outbox pass as t1's release.
        await until(async () => (await c.fleet.quarantines()).some((q) => q.taskId === t2.id && q.factoryId === factoryId), 't2 quarantine reported', 10_000);
        island.child.kill('SIGTERM');
        assert.equal(await island.exited, 0, 'SIGTERM drains and exits cleanly');

        const l2 = (await c.fleet.runs(t2.id)).leases;
        assert.deepEqual(l2.map((l) => [l.factoryId, l.outcome]), [[factoryId, 'revoked'], ['f-other', 'done']], 't2 shipped once, by f-other');
        assert.equal((await c.store.tasks.get(t2.id))?.quarantined, true);
        const l1 = (await c.fleet.runs(t1.id)).leases;
        assert.deepEqual(l1.map((l) => [l.factoryId, l.outcome]), [[factoryId, 'done']]);
        const ob = new SqliteOutbox(outboxPath);
        const q = await ob.quarantined();
        assert.deepEqual(q.map((x) => [x.taskId, x.epoch]), [[t2.id, 1]], 'the stale result stays quarantined on the factory');
        assert.equal(q[0]!.result.outcome, 'done', 'what is kept is the finished work, not a stage report');
        assert.deepEqual(await ob.pending(), []);
        await ob.close();
        const events = await c.store.events.list({ limit: 1000 });
        const everything = JSON.stringify({ events, logs: e.logs, factory: island.stderr(), l1, l2, q });
        assert.ok(!everything.includes('SENTINEL-c0ffee'), 'no task body in events, reports or logs');
        assert.ok(!everything.includes(token), 'no token in events, reports or logs');
      } finally {
        island.child.kill('SIGKILL');
        await c.close().catch(() => undefined);
        await e.dispose();
      }
    });
  });
}
