// Opens the configured store (SQLite file or postgres:// URL) and brings its schema up to date.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { SqlDatabase } from '../ports/sql.js';
import { migrate } from './migrate.js';
import { PostgresDatabase } from './postgres-driver.js';
import { SqliteDatabase } from './sqlite-driver.js';
import { SqlStore } from './sql-store.js';

export const isPostgresUrl = (url: string): boolean => /^postgres(ql)?:\/\//.test(url);

export function openDatabase(target: string, opts: { poolSize?: number } = {}): SqlDatabase {
  if (isPostgresUrl(target)) return new PostgresDatabase(target, { max: opts.poolSize ?? 10 });
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
