// bench/fleet: fleet claims/s and full lease cycles/s (claim → fenced PATCH → fenced release) for 1, 4
// and 16 concurrent factories, beside the raw operations beneath them measured in the same run:
// a single-statement SKIP LOCKED claim, and a raw cycle (that claim + two fenced UPDATEs). The raw
// table's index matches the raw claim's ORDER BY (until 2026-11-21 it did not, and every raw claim sorted
// the queue: the ratios printed before then flattered Gantry several times over). Raw and Gantry run
// in alternating rounds (claims against claims, cycles against cycles), so a ratio compares like with like
// on a host whose load drifts.
//   node --import tsx bench/fleet.ts        (PostgreSQL rows need GANTRY_TEST_DATABASE_URL;
//   BENCH_STORES=postgres or =sqlite runs one store only, BENCH_LEVELS=16 one factory count, BENCH_N
//   the operations per cell)
import { randomBytes } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { freshDb } from '../test/support/db.js';
import { openStore } from '../src/store/open.js';
import type { SqlStore } from '../src/store/sql-store.js';
import { FleetStoreSql } from '../src/store/fleet-repo.js';
import { FleetCoordinator } from '../src/fleet/coordinator.js';
import { pgUrl, printTable, ratio } from './lib.js';

const N = Number(process.env.BENCH_N ?? 800);
// A lone factory holds every task of its claim cell, and a factory has at most 1000 seats: more would spin forever on "no seat".
if (!Number.isInteger(N) || N < 1 || N > 1000) throw new Error(`BENCH_N must be an integer from 1 to 1000 (a factory's seat limit), got ${process.env.BENCH_N}`);
// BENCH_LEVELS=16 (comma-separated) measures only those factory counts: a run on a busy host takes long.
const LEVELS = (process.env.BENCH_LEVELS ?? '1,4,16').split(',').map(Number);
if (LEVELS.some((l) => !Number.isInteger(l) || l < 1 || l > 64)) throw new Error(`BENCH_LEVELS must list factory counts from 1 to 64, got ${process.env.BENCH_LEVELS}`);

async function seed(store: SqlStore, projectId: string, n: number): Promise<void> {
  await store.db.transaction(async (tx) => {
    for (let i = 0; i < n; i++) {
      await tx.run(
        `INSERT INTO tasks (id, project_id, title, body, pipeline, priority, capabilities, stage, payload_hash, created_at, updated_at, queued_at)
         VALUES (?, ?, 'bench', 'body', 'standard', ?, '[]', 'queued', 'x', NOW_MS, NOW_MS, NOW_MS)`,
        [`t-${randomBytes(6).toString('hex')}`, projectId, i % 3],
      );
      await tx.run("INSERT INTO raw_jobs (id, state, priority, queued_at, lease_epoch) VALUES (?, 'queued', ?, NOW_MS, 0)", [`r-${randomBytes(6).toString('hex')}`, i % 3]);
    }
  });
  // Planner statistics as autovacuum would leave them: both tables, so neither side is planned blind after the bulk load.
  await store.db.run('ANALYZE');
}

/** Runs `c` workers until `n` operations succeeded in total; elapsed ms. */
async function drive(n: number, c: number, op: (worker: number) => Promise<boolean>): Promise<number> {
  let done = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: c }, async (_, w) => {
      while (done < n) if (await op(w)) done++;
    }),
  );
  return performance.now() - t0;
}

const ROUNDS = 4;

/**
 * Raw and Gantry in alternating rounds (n/ROUNDS each), so both see the same machine: on a shared,
 * noisy host, back-to-back phases drift apart. One unmeasured round of each first: steady state is
 * what is compared, not which side's code the JIT compiles first (a cell is a few hundred ms, and
 * Gantry's path is far more code than the driver's). Returns ops/s for each.
 */
async function paired(
  n: number,
  c: number,
  a: (worker: number) => Promise<boolean>,
  b: (worker: number) => Promise<boolean>,
  afterWarmUp: () => Promise<unknown> = async () => undefined,
): Promise<[number, number]> {
  const per = Math.ceil(n / ROUNDS);
  await drive(per, c, a);
  await drive(per, c, b);
  await afterWarmUp();
  let ta = 0;
  let tb = 0;
  for (let r = 0; r < ROUNDS; r++) {
    ta += await drive(per, c, a);
    tb += await drive(per, c, b);
  }
  return [((per * ROUNDS) / ta) * 1000, ((per * ROUNDS) / tb) * 1000];
}

// The same raw claim over Gantry's own tasks table (its row width and indexes): what is left between
// this and Gantry's claim is the claim's own work (ranking, seats, lease history, event).
const RAW_TASK_CLAIM = `UPDATE tasks SET stage = 'assigned', lease_factory_id = ?, lease_epoch = lease_epoch + 1, lease_expires_at = NOW_MS + 600000
  WHERE id = (SELECT id FROM tasks WHERE stage = 'queued' ORDER BY priority DESC, queued_at LIMIT 1 SKIP_LOCKED) RETURNING id, lease_epoch`;

const RAW_CLAIM = `UPDATE raw_jobs SET state = 'leased', owner = ?, lease_epoch = lease_epoch + 1, expires_at = NOW_MS + 600000
  WHERE id = (SELECT id FROM raw_jobs WHERE state = 'queued' ORDER BY priority DESC, queued_at LIMIT 1 SKIP_LOCKED) RETURNING id, lease_epoch`;

async function run(kind: 'sqlite' | 'postgres'): Promise<(string | number)[][]> {
  const db = await freshDb(kind);
  const store = await openStore(db.target, { poolSize: 17 });
  const rows: (string | number)[][] = [];
  try {
    await store.db.run(`CREATE TABLE raw_jobs (id TEXT PRIMARY KEY, state TEXT NOT NULL, owner TEXT, priority INTEGER NOT NULL,
      queued_at BIGINT NOT NULL, lease_epoch BIGINT NOT NULL, expires_at BIGINT)`);
    // The index matches the claim's ORDER BY, so the raw claim reads one index entry (as tasks_queue_idx serves Gantry's window).
    await store.db.run('CREATE INDEX raw_jobs_state_idx ON raw_jobs (state, priority DESC, queued_at)');
    const p = await store.projects.create({ name: 'bench', path: '/tmp/bench', defaultBranch: 'main', config: {} });
    const fleet = new FleetCoordinator({ fleet: new FleetStoreSql(store), tasks: store.tasks, projects: store.projects, tokens: store.tokens, events: store.events, config: { leaseTtlMs: 600_000 } });
    // One statement, autocommit on PostgreSQL; SQLite writes go through the writer connection (BEGIN IMMEDIATE).
    const rawGet = <T extends Record<string, unknown>>(sql: string, params: (string | number)[]) =>
      kind === 'postgres' ? store.db.get<T>(sql, params) : store.db.transaction((tx) => tx.get<T>(sql, params));
    let cell = 0;
    for (const c of LEVELS) {
      const ids = Array.from({ length: c }, (_, w) => `f-${cell}-${w}`);
      cell++;
      for (const f of ids) await fleet.heartbeat({ factoryId: f, capabilities: [], health: {}, load: {}, slots: 1000 }, { factoryId: f });
      // Each drive may finish up to c - 1 operations past its count: room for those too, and for the warm-up rounds.
      await seed(store, p.id, Math.ceil(N / ROUNDS) * (ROUNDS * 3 + 2) + (3 * ROUNDS + 2) * c + 50);

      // The raw claim on Gantry's tasks table first, on its own (its rows would count as held seats), then shipped out of the way.
      const per = Math.ceil(N / ROUNDS) * ROUNDS;
      const rawTaskClaim = (per / (await drive(per, c, async (w) => (await rawGet(RAW_TASK_CLAIM, [ids[w]!])) !== undefined))) * 1000;
      await store.db.run("UPDATE tasks SET stage = 'shipped', lease_factory_id = NULL WHERE stage = 'assigned'");
      const [rawClaim, claims] = await paired(
        N,
        c,
        async (w) => (await rawGet(RAW_CLAIM, [ids[w]!])) !== undefined,
        async (w) => (await fleet.claim({ factoryId: ids[w]!, capabilities: [] }, { factoryId: ids[w]! })) !== null,
        // The warm-up's grants are held: shipped out of the way, so the measured rounds start with every seat free.
        () => store.db.run("UPDATE tasks SET stage = 'shipped', lease_factory_id = NULL WHERE stage = 'assigned'"),
      );

      // Full cycles on fresh work: the claimed-but-held tasks of the claim cell are shipped out of the way first.
      await store.db.run("UPDATE tasks SET stage = 'shipped', lease_factory_id = NULL WHERE stage = 'assigned'");
      await store.db.run("UPDATE raw_jobs SET state = 'done' WHERE state = 'leased'");
      const [rawCycle, cycles] = await paired(
        N,
        c,
        async (w) => {
          const r = await rawGet<{ id: string; lease_epoch: number }>(RAW_CLAIM, [ids[w]!]);
          if (!r) return false;
          await store.db.run("UPDATE raw_jobs SET state = 'building' WHERE id = ? AND lease_epoch = ? AND owner = ? AND expires_at > NOW_MS", [r.id, r.lease_epoch, ids[w]!]);
          await store.db.run("UPDATE raw_jobs SET state = 'done', owner = NULL WHERE id = ? AND lease_epoch = ? AND owner = ? AND expires_at > NOW_MS", [r.id, r.lease_epoch, ids[w]!]);
          return true;
        },
        async (w) => {
          const caller = { factoryId: ids[w]! };
          const g = await fleet.claim({ factoryId: ids[w]!, capabilities: [] }, caller);
          if (!g) return false;
          await fleet.patch(g.task.id, { leaseEpoch: g.leaseEpoch, stage: 'building' }, caller);
          await fleet.release(g.task.id, { leaseEpoch: g.leaseEpoch, outcome: 'done', report: { summary: 'ok' } }, caller);
          return true;
        },
      );
      await store.db.run("UPDATE tasks SET stage = 'shipped', lease_factory_id = NULL WHERE stage <> 'shipped'");
      await store.db.run("UPDATE raw_jobs SET state = 'done' WHERE state <> 'done'");
      rows.push([`${kind} ×${c}`, rawClaim, rawTaskClaim, claims, ratio(claims, rawClaim), ratio(claims, rawTaskClaim), rawCycle, cycles, ratio(cycles, rawCycle)]);
    }
  } finally {
    await store.close();
    await db.dispose();
  }
  return rows;
}

const stores = (process.env.BENCH_STORES ?? 'sqlite,postgres').split(',').map((x) => x.trim());
const unknownStore = stores.filter((x) => x !== 'sqlite' && x !== 'postgres');
if (unknownStore.length) throw new Error(`BENCH_STORES lists ${unknownStore.join(', ')}; use sqlite, postgres or both (comma-separated)`);
const loadBefore = loadavg()[0]!;
const rows: (string | number)[][] = [];
if (stores.includes('sqlite')) rows.push(...(await run('sqlite')));
if (!stores.includes('postgres')) console.log('PostgreSQL rows skipped (BENCH_STORES)');
else if (pgUrl()) rows.push(...(await run('postgres')));
else console.log('PostgreSQL rows skipped: set GANTRY_TEST_DATABASE_URL to include them');
printTable(
  `bench/fleet — ${N} per cell; raw = one SKIP LOCKED UPDATE on a jobs table (raw/tasks: on Gantry's tasks table; cycle: + two fenced UPDATEs), fleet = scheduler + seats + lease history + events (target claim ratio ≥ 0.70× of raw at 16)`,
  ['store × factories', 'raw claim/s', 'raw/tasks claim/s', 'claim/s', 'ratio', 'ratio vs tasks', 'raw cycle/s', 'cycle/s', 'ratio'],
  rows,
);
// Throughput ratios depend on what saturates: on an idle host commits (fsync) dominate and group commit
// pays; on a CPU-saturated host each statement costs CPU and the raw one-statement claim wins by its count.
console.log(`host: ${cpus().length} CPU(s), load average ${loadBefore.toFixed(1)} before → ${loadavg()[0]!.toFixed(1)} after`);
