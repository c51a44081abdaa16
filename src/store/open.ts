// Opens the configured store (SQLite file or postgres:// URL) and brings its schema up to date.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { GantryError } from '../domain/errors.js';
import type { SqlDatabase } from '../ports/sql.js';
import { migrate } from './migrate.js';
import { PostgresDatabase } from './postgres-driver.js';
import { SqliteDatabase } from './sqlite-driver.js';
import { SqlStore } from './sql-store.js';

export const isPostgresUrl = (url: string): boolean => /^postgres(ql)?:\/\//.test(url);

/** GANTRY_PG_PREPARE=off: no server-side prepared statements (for poolers that do not keep sessions). */
function prepareSetting(v: string | undefined): boolean {
  if (v === undefined || v === '' || v === 'on') return true;
  if (v === 'off') return false;
  throw new GantryError('validation', `GANTRY_PG_PREPARE must be on or off, not "${v}"`, { field: 'GANTRY_PG_PREPARE', hint: 'unset it, or set it to off behind a transaction-mode pooler' });
}

export function openDatabase(target: string, opts: { poolSize?: number } = {}): SqlDatabase {
  if (isPostgresUrl(target)) return new PostgresDatabase(target, { max: opts.poolSize ?? 10, prepare: prepareSetting(process.env.GANTRY_PG_PREPARE) });
  if (target !== ':memory:') mkdirSync(dirname(target), { recursive: true });
  return new SqliteDatabase(target);
}

export async function openStore(target: string, opts: { poolSize?: number; pollMs?: number } = {}): Promise<SqlStore> {
  const db = openDatabase(target, opts);
  try {
    await migrate(db);
  } catch (e) {
    await db.close();
    throw e;
  }
  const store = new SqlStore(db, opts.pollMs !== undefined ? { pollMs: opts.pollMs } : {});
  try {
    await store.start(opts.pollMs ?? 1000);
  } catch (e) {
    await store.close();
    throw e;
  }
  return store;
}
