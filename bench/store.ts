// bench/store: task submit (task row + dependency check + event, one transaction) per second,
// beside a raw single-row INSERT with the same durability, measured in the same run in alternating rounds.
//   node --import tsx bench/store.ts        (PostgreSQL rows need GANTRY_TEST_DATABASE_URL)
import { freshDb } from '../test/support/db.js';
import { openStore } from '../src/store/open.js';
import { pairedOpsPerSec, pgUrl, printTable, ratio } from './lib.js';

const N = Number(process.env.BENCH_N ?? 1500);

async function run(kind: 'sqlite' | 'postgres', concurrency: number): Promise<(string | number)[]> {
  const db = await freshDb(kind);
  const store = await openStore(db.target, { poolSize: Math.max(2, concurrency) });
  try {
    const p = await store.projects.create({ name: 'bench', path: '/tmp/bench', defaultBranch: 'main', config: {} });
    await store.db.run('CREATE TABLE raw_bench (id TEXT PRIMARY KEY, title TEXT NOT NULL, body TEXT NOT NULL, at BIGINT NOT NULL)');
    // Warm both paths (statement caches, pool connections).
    for (let i = 0; i < 50; i++) {
      await store.db.run('INSERT INTO raw_bench (id, title, body, at) VALUES (?, ?, ?, NOW_MS)', [`w${i}`, 't', 'b']);
      await store.tasks.submit({ projectId: p.id, title: 'w', body: 'b', pipeline: 'standard', agent: null, priority: 0, capabilities: [], after: [], idempotencyKey: null, maxAttempts: 3 });
    }
    const [raw, submit] = await pairedOpsPerSec(
      N,
      (i) => store.db.run('INSERT INTO raw_bench (id, title, body, at) VALUES (?, ?, ?, NOW_MS)', [`r${i}`, 'title', 'body']),
      (i) => store.tasks.submit({ projectId: p.id, title: `t${i}`, body: 'body', pipeline: 'standard', agent: null, priority: 0, capabilities: [], after: [], idempotencyKey: null, maxAttempts: 3 }),
      { concurrency },
    );
    return [`${kind} ×${concurrency}`, raw, submit, ratio(submit, raw)];
  } finally {
    await store.close();
    await db.dispose();
  }
}

const rows = [await run('sqlite', 1), await run('sqlite', 4)];
if (pgUrl()) rows.push(await run('postgres', 1), await run('postgres', 8));
else console.log('PostgreSQL rows skipped: set GANTRY_TEST_DATABASE_URL to include them');
printTable(`bench/store — ${N} ops per cell (target ≥ 0.50× raw)`, ['store × clients', 'raw INSERT/s', 'submit+event/s', 'ratio'], rows);
