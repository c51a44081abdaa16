// Invariants 1–5 under real concurrency: separate processes on one SQLite file, separate
// connections on PostgreSQL.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { storeCases, withStore } from '../support/db.js';
import { newTask, project } from '../support/fixtures.js';
import { openStore } from '../../src/store/open.js';
import type { SqlStore } from '../../src/store/sql-store.js';
import { coordinator, register, seedTasks } from './support.js';
import { run, type Claim, type Command } from './workers/race-worker.js';

const WORKER = fileURLToPath(new URL('./workers/race-worker.ts', import.meta.url));

function child(target: string, cmd: Command): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', WORKER, target, JSON.stringify(cmd)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d));
    p.stderr.on('data', (d: Buffer) => (err += d));
    p.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`worker exited ${code}: ${err}`))));
  });
}

/** Runs each command concurrently: child processes for SQLite, own connections for PostgreSQL. */
async function race(kind: 'sqlite' | 'postgres', target: string, cmds: Command[]): Promise<unknown[]> {
  if (kind === 'sqlite') return Promise.all(cmds.map((c) => child(target, c)));
  const stores: SqlStore[] = await Promise.all(cmds.map(() => openStore(target, { poolSize: 2 })));
  try {
    return await Promise.all(cmds.map((c, i) => run(stores[i]!, c)));
  } finally {
    await Promise.all(stores.map((s) => s.close()));
  }
}

for (const sc of storeCases()) {
  describe(`fleet races: ${sc.kind}`, { skip: sc.skip }, () => {
    it('16 claimers over 500 tasks: every task claimed exactly once per epoch, none lost', async () => {
      await withStore(sc.kind, async (s, db) => {
        const p = await project(s);
        await seedTasks(s, p, 500, { maxAttempts: 100 });
        const cmds: Command[] = Array.from({ length: 16 }, (_, i) => ({ op: 'claimLoop', factoryId: `f-${i}`, abandonEvery: 4 }));
        const claims = (await race(sc.kind, db.target, cmds)).flat() as Claim[];
        const seen = new Set<string>();
        for (const c of claims) {
          const key = `${c.taskId}@${c.epoch}`;
          assert.ok(!seen.has(key), `double grant ${key}`);
          seen.add(key);
        }
        const byTask = new Map<string, number[]>();
        for (const c of claims) byTask.set(c.taskId, [...(byTask.get(c.taskId) ?? []), c.epoch]);
        assert.equal(byTask.size, 500, 'every task was claimed');
        const rows = await s.db.all<{ id: string; stage: string; lease_epoch: number }>('SELECT id, stage, lease_epoch FROM tasks');
        for (const r of rows) {
          assert.equal(r.stage, 'shipped', `${r.id} ends shipped`);
          const epochs = byTask.get(r.id)!.sort((a, b) => a - b);
          assert.deepEqual(epochs, Array.from({ length: Number(r.lease_epoch) }, (_, i) => i + 1), `${r.id}: one grant per epoch, no gaps`);
        }
        const leases = await s.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM leases');
        assert.equal(Number(leases?.n), claims.length, 'lease history matches the grants');
        assert.ok(claims.length > 500, 'abandoned tasks were claimed again');
      });
    });

    it('20 concurrent renewals of one lease: fresh epochs all succeed, stale ones all fail, one consistent expiry', async () => {
      await withStore(sc.kind, async (s, db) => {
        const c = coordinator(s, { leaseTtlMs: 60_000 });
        const p = await project(s);
        const t = (await s.tasks.submit(newTask(p))).task;
        await register(c, 'f-r');
        const g1 = (await c.claim({ factoryId: 'f-r' }, { factoryId: 'f-r' }))!;
        await c.act(t.id, 'requeue', {});
        const g = (await c.claim({ factoryId: 'f-r' }, { factoryId: 'f-r' }))!;
        const startAt = Date.now() + (sc.kind === 'sqlite' ? 1500 : 50);
        const calls = (epoch: number) => Array.from({ length: 5 }, () => ({ taskId: t.id, epoch }));
        const cmds: Command[] = [
          { op: 'renew', factoryId: 'f-r', calls: calls(g.leaseEpoch), startAt },
          { op: 'renew', factoryId: 'f-r', calls: calls(g1.leaseEpoch), startAt },
          { op: 'renew', factoryId: 'f-r', calls: calls(g.leaseEpoch), startAt },
          { op: 'renew', factoryId: 'f-r', calls: calls(g1.leaseEpoch), startAt },
        ];
        const results = (await race(sc.kind, db.target, cmds)).flat() as Array<{ epoch: number; ok: boolean; expiresAt?: number }>;
        assert.equal(results.length, 20);
        for (const r of results) assert.equal(r.ok, r.epoch === g.leaseEpoch, 'fenced exactly when stale');
        const row = (await s.tasks.get(t.id))!;
        assert.equal(row.leaseEpoch, g.leaseEpoch, 'renewals never change the epoch');
        assert.equal(row.leaseFactoryId, 'f-r');
        assert.equal(row.leaseExpiresAt, Math.max(...results.filter((r) => r.ok).map((r) => r.expiresAt!)), 'the row holds the latest renewal');
        const lease = (await c.runs(t.id)).leases.find((l) => l.epoch === g.leaseEpoch)!;
        assert.equal(lease.expiresAt, row.leaseExpiresAt, 'history agrees with the row');
      });
    });

    it('reaper racing late renewals: for each lease exactly one of them wins', async () => {
      await withStore(sc.kind, async (s, db) => {
        const short = coordinator(s, { leaseTtlMs: sc.kind === 'sqlite' ? 2500 : 400 });
        const p = await project(s);
        for (let i = 0; i < 30; i++) await s.tasks.submit(newTask(p, { title: `r${i}` }));
        await register(short, 'f-late', { slots: 100 });
        const grants = [];
        for (let i = 0; i < 30; i++) grants.push((await short.claim({ factoryId: 'f-late' }, { factoryId: 'f-late' }))!);
        // Start both sides right around the moment the leases expire (store clock ≈ local clock here).
        const expiry = grants[grants.length - 1]!.leaseExpiresAt;
        const startAt = expiry - (await s.now()) + Date.now() - 5;
        const calls = grants.map((g) => ({ taskId: g.task.id, epoch: g.leaseEpoch }));
        const [renewed, reaped] = (await race(sc.kind, db.target, [
          { op: 'renew', factoryId: 'f-late', calls, startAt },
          { op: 'reap', passes: 3, startAt },
        ])) as [Array<{ taskId: string; ok: boolean }>, Array<{ taskId: string }>];
        const finalPass = await short.reapOnce();
        const reclaimed = new Set([...reaped, ...finalPass].map((r) => r.taskId));
        for (const r of renewed) {
          const t = (await s.tasks.get(r.taskId))!;
          assert.notEqual(r.ok, reclaimed.has(r.taskId), `${r.taskId}: renew ${r.ok ? 'won' : 'lost'}, reaper ${reclaimed.has(r.taskId) ? 'won' : 'lost'}`);
          if (r.ok) assert.equal(t.stage, 'assigned');
          else assert.equal(t.stage, 'queued');
        }
      });
    });
  });
}
