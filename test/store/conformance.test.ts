// One conformance suite, two engines: every test here runs on SQLite and PostgreSQL.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { storeCases, withStore, freshDb } from '../support/db.js';
import { newTask, project } from '../support/fixtures.js';
import { openDatabase, openStore } from '../../src/store/open.js';
import { migrate } from '../../src/store/migrate.js';
import { MIGRATIONS } from '../../src/store/migrations/index.js';
import { unblockDependents } from '../../src/store/task-repo.js';
import { hashToken } from '../../src/store/token-repo.js';
import type { GantryEvent } from '../../src/domain/events.js';

for (const c of storeCases()) {
  describe(`store conformance: ${c.kind}`, { skip: c.skip }, () => {
    it('applies migrations once, records them, and refuses a newer schema', async () => {
      const db = await freshDb(c.kind);
      try {
        const s = await openStore(db.target);
        await s.close();
        const raw = openDatabase(db.target);
        try {
          const again = await migrate(raw);
          assert.deepEqual(again.applied, []);
          const rows = await raw.all('SELECT version FROM gantry_migrations');
          assert.equal(rows.length, MIGRATIONS.length);
          await raw.run('INSERT INTO gantry_migrations (version, name, applied_at) VALUES (999, ?, 0)', ['future']);
          await assert.rejects(migrate(raw), /newer Gantry/);
        } finally {
          await raw.close();
        }
      } finally {
        await db.dispose();
      }
    });

    it('commits a task and its event together, with increasing seq', async () => {
      await withStore(c.kind, async (s) => {
        const p = await project(s);
        const before = await s.events.latestSeq();
        const { task, created } = await s.tasks.submit(newTask(p, { title: 'one' }));
        assert.equal(created, true);
        assert.equal(task.stage, 'queued');
        const evs = await s.events.list({ after: before });
        assert.deepEqual(evs.map((e) => e.type), ['task.submitted']);
        assert.equal(evs[0]!.taskId, task.id);
        assert.ok(!JSON.stringify(evs).includes('do the thing'), 'task body never enters the event log');
      });
    });

    it('rolls back state and events together when the write fails', async () => {
      await withStore(c.kind, async (s) => {
        const p = await project(s);
        const seq = await s.events.latestSeq();
        await assert.rejects(
          s.write(async (tx) => {
            await tx.run("UPDATE projects SET name = 'renamed' WHERE id = ?", [p]);
            tx.emit({ type: 'project.renamed' });
            throw new Error('boom');
          }),
          /boom/,
        );
        assert.equal(await s.events.latestSeq(), seq);
        assert.equal((await s.projects.get(p))?.name, 'demo');
      });
    });

    it('is idempotent on idempotencyKey and refuses a conflicting payload', async () => {
      await withStore(c.kind, async (s) => {
        const p = await project(s);
        const a = await s.tasks.submit(newTask(p, { idempotencyKey: 'k1' }));
        const b = await s.tasks.submit(newTask(p, { idempotencyKey: 'k1' }));
        assert.equal(b.created, false);
        assert.equal(b.task.id, a.task.id);
        await assert.rejects(s.tasks.submit(newTask(p, { idempotencyKey: 'k1', title: 'other' })), /already used/);
        const racers = await Promise.all(Array.from({ length: 8 }, () => s.tasks.submit(newTask(p, { idempotencyKey: 'k2' }))));
        assert.equal(new Set(racers.map((r) => r.task.id)).size, 1);
        assert.equal(racers.filter((r) => r.created).length, 1);
      });
    });

    it('blocks on unmet dependencies, unblocks when they ship, and rejects cycles', async () => {
      await withStore(c.kind, async (s) => {
        const p = await project(s);
        const a = (await s.tasks.submit(newTask(p, { title: 'a' }))).task;
        const b = (await s.tasks.submit(newTask(p, { title: 'b', after: [a.id] }))).task;
        assert.equal(b.stage, 'blocked');
        assert.equal(b.blockedReason, 'dependencies');
        assert.deepEqual(b.after, [a.id]);
        await assert.rejects(s.tasks.submit(newTask(p, { after: ['t-nothere'] })), /unknown task t-nothere/);
        await assert.rejects(s.tasks.addDependencies(a.id, [b.id]), /cycle/);
        await assert.rejects(s.tasks.addDependencies(a.id, [a.id]), /cycle/);
        await s.write(async (tx) => {
          await tx.run("UPDATE tasks SET stage = 'shipped' WHERE id = ?", [a.id]);
          assert.deepEqual(await unblockDependents(tx, a.id), [b.id]);
        });
        assert.equal((await s.tasks.get(b.id))?.stage, 'queued');
      });
    });

    it('compare-and-set on rev: a stale writer gets a conflict and changes nothing', async () => {
      await withStore(c.kind, async (s) => {
        const p = await project(s);
        const t = (await s.tasks.submit(newTask(p))).task;
        const ok = await s.tasks.setStage(t.id, t.rev, 'blocked', 'awaiting_human', { type: 'task.parked' });
        assert.equal(ok.rev, t.rev + 1);
        await assert.rejects(s.tasks.setStage(t.id, t.rev, 'cancelled', null, { type: 'task.cancelled' }), /changed meanwhile/);
        assert.equal((await s.tasks.get(t.id))?.stage, 'blocked');
      });
    });

    it('pages tasks with a stable cursor and filters by stage', async () => {
      await withStore(c.kind, async (s) => {
        const p = await project(s);
        for (let i = 0; i < 7; i++) await s.tasks.submit(newTask(p, { title: `t${i}` }));
        const seen: string[] = [];
        let cursor: string | undefined;
        for (;;) {
          const page = await s.tasks.list({ limit: 3, ...(cursor ? { cursor } : {}) });
          seen.push(...page.tasks.map((t) => t.id));
          if (!page.nextCursor) break;
          cursor = page.nextCursor;
        }
        assert.equal(seen.length, 7);
        assert.equal(new Set(seen).size, 7);
        assert.equal((await s.tasks.list({ stages: ['shipped'] })).tasks.length, 0);
      });
    });

    it('stores only token hashes and verifies presented secrets', async () => {
      await withStore(c.kind, async (s) => {
        const { token, record } = await s.tokens.create({ name: 'ci', role: 'viewer' });
        const rows = await s.db.all('SELECT * FROM tokens');
        assert.ok(!JSON.stringify(rows).includes(token));
        assert.equal(rows[0]!.hash, hashToken(token));
        assert.equal((await s.tokens.verify(token))?.id, record.id);
        assert.equal(await s.tokens.verify(`${token}x`), undefined);
        await s.tokens.revoke(record.id);
        assert.equal(await s.tokens.verify(token), undefined);
      });
    });

    it('follow() replays from a cursor then delivers live events exactly once, in order', async () => {
      await withStore(c.kind, async (s) => {
        const p = await project(s);
        for (let i = 0; i < 5; i++) await s.tasks.submit(newTask(p));
        const got: GantryEvent[] = [];
        const stop = s.events.follow(2, (e) => got.push(e));
        await Promise.all(Array.from({ length: 20 }, () => s.tasks.submit(newTask(p))));
        const last = await s.events.latestSeq();
        for (let i = 0; i < 200 && (got.at(-1)?.seq ?? 0) < last; i++) await new Promise((r) => setTimeout(r, 10));
        stop();
        const seqs = got.map((e) => e.seq);
        assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b));
        assert.equal(new Set(seqs).size, seqs.length);
        assert.equal(seqs[0], 3);
        assert.equal(seqs.at(-1), last);
        assert.equal(seqs.length, last - 2);
      });
    });
  });
}
