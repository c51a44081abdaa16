// Real races: separate OS processes on one SQLite file, pooled connections on PostgreSQL.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { storeCases, freshDb } from '../support/db.js';
import { newTask, project } from '../support/fixtures.js';
import { openStore } from '../../src/store/open.js';

const worker = (name: string) => fileURLToPath(new URL(`./workers/${name}`, import.meta.url));

function runNode(args: string[]): { done: Promise<{ code: number | null; out: string; err: string }>; kill: (s: NodeJS.Signals) => void; onData: (f: (s: string) => void) => void } {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const listeners: Array<(s: string) => void> = [];
  child.stdout.on('data', (d: Buffer) => {
    out += d;
    for (const l of listeners) l(String(d));
  });
  child.stderr.on('data', (d: Buffer) => (err += d));
  return {
    done: new Promise((resolve) => child.on('exit', (code) => resolve({ code, out, err }))),
    kill: (s) => child.kill(s),
    onData: (f) => listeners.push(f),
  };
}

for (const c of storeCases()) {
  describe(`store races: ${c.kind}`, { skip: c.skip }, () => {
    it('concurrent compare-and-set writers in separate processes never lose an update', async () => {
      const db = await freshDb(c.kind);
      try {
        const s = await openStore(db.target);
        const p = await project(s);
        const t = (await s.tasks.submit(newTask(p))).task;
        await s.close();
        const procs = 4;
        const each = 25;
        const results = await Promise.all(Array.from({ length: procs }, () => runNode([worker('cas-worker.ts'), db.target, t.id, String(each)]).done));
        for (const r of results) assert.equal(r.code, 0, r.err);
        const s2 = await openStore(db.target);
        try {
          const final = await s2.tasks.get(t.id);
          assert.equal(final?.priority, procs * each);
          const evs = await s2.db.get<{ n: number }>("SELECT COUNT(*) AS n FROM events WHERE type = 'test.incremented'");
          assert.equal(Number(evs?.n), procs * each, 'exactly one event per successful write');
        } finally {
          await s2.close();
        }
      } finally {
        await db.dispose();
      }
    });

    it('a writer SIGKILLed mid-stream leaves no state without its event and no event without its state', async () => {
      const db = await freshDb(c.kind);
      try {
        const s = await openStore(db.target);
        const p = await project(s);
        await s.close();
        const w = runNode([worker('submit-loop.ts'), db.target, p]);
        // Kill it once it has committed a good number of tasks, i.e. surely inside some transaction.
        await new Promise<void>((resolve) => {
          let dots = 0;
          w.onData((chunk) => {
            dots += chunk.length;
            if (dots >= 40) resolve();
          });
        });
        w.kill('SIGKILL');
        const r = await w.done;
        assert.equal(r.code, null);
        const s2 = await openStore(db.target);
        try {
          const orphanTasks = await s2.db.all(
            "SELECT id FROM tasks t WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.task_id = t.id AND e.type = 'task.submitted')",
          );
          const orphanEvents = await s2.db.all(
            "SELECT seq FROM events e WHERE e.type = 'task.submitted' AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.id = e.task_id)",
          );
          const n = await s2.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM tasks');
          assert.ok(Number(n?.n) >= 40);
          assert.deepEqual(orphanTasks, []);
          assert.deepEqual(orphanEvents, []);
          // The store is still writable after the crash (no stuck lock, WAL recovered).
          await s2.tasks.submit(newTask(p));
        } finally {
          await s2.close();
        }
      } finally {
        await db.dispose();
      }
    });
  });
}
