// Test stores: the same suite runs against SQLite (a temp file) and PostgreSQL (a fresh database
// per call, created from GANTRY_TEST_DATABASE_URL and dropped afterwards).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openStore } from '../../src/store/open.js';
import type { SqlStore } from '../../src/store/sql-store.js';

export const PG_URL = process.env.GANTRY_TEST_DATABASE_URL ?? '';
const inCI = process.env.CI === 'true' || process.env.CI === '1';

let warned = false;
/** Why PostgreSQL suites are skipped, or false when they run. In CI a missing PostgreSQL is a failure, not a skip. */
export function pgSkip(): string | false {
  if (PG_URL) return false;
  if (inCI) throw new Error('CI=true but GANTRY_TEST_DATABASE_URL is not set: PostgreSQL suites are mandatory in CI');
  const msg = 'PostgreSQL suites skipped: set GANTRY_TEST_DATABASE_URL=postgres://user@127.0.0.1:5432/postgres to run them';
  if (!warned) {
    warned = true;
    process.stderr.write(`${msg}\n`);
  }
  return msg;
}

export interface TestDb {
  kind: 'sqlite' | 'postgres';
  /** What `openStore` takes: a file path or a postgres URL. */
  target: string;
  dispose(): Promise<void>;
}

export async function freshDb(kind: 'sqlite' | 'postgres'): Promise<TestDb> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'gantry-db-'));
    return { kind, target: join(dir, 'gantry.db'), dispose: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const name = `gantry_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const u = new URL(PG_URL);
  u.pathname = `/${name}`;
  return {
    kind,
    target: u.toString(),
    dispose: async () => {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

export interface StoreCase {
  kind: 'sqlite' | 'postgres';
  skip: string | false;
}

/** Both engines, for `for (const c of storeCases()) describe(c.kind, { skip: c.skip }, …)`. */
export function storeCases(): StoreCase[] {
  return [
    { kind: 'sqlite', skip: false },
    { kind: 'postgres', skip: pgSkip() },
  ];
}

export async function withStore<T>(kind: 'sqlite' | 'postgres', fn: (s: SqlStore, db: TestDb) => Promise<T>, opts: { pollMs?: number } = {}): Promise<T> {
  const db = await freshDb(kind);
  const store = await openStore(db.target, { pollMs: opts.pollMs ?? 200 });
  try {
    return await fn(store, db);
  } finally {
    await store.close();
    await db.dispose();
  }
}
