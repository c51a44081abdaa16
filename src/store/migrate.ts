// Applies the migration lineage once per database, recorded in gantry_migrations.
// Refuses a database that a newer Gantry migrated: its schema may mean things we don't know.
import { GantryError } from '../domain/errors.js';
import type { Dialect, SqlRunner } from '../ports/sql.js';
import { MIGRATIONS, type Migration } from './migrations/index.js';

export interface MigratableDb {
  readonly dialect: Dialect;
  transaction<T>(fn: (tx: SqlRunner) => Promise<T>): Promise<T>;
}

const MIGRATION_LOCK = 7_460_000;

export function dialectSql(sql: string, dialect: Dialect): string {
  return sql.replaceAll('SERIAL_PK', dialect === 'postgres' ? 'BIGSERIAL PRIMARY KEY' : 'INTEGER PRIMARY KEY AUTOINCREMENT');
}

/** Split a script into statements (our migrations contain no semicolons inside literals or comments). */
const statements = (sql: string): string[] =>
  sql
    .replace(/--[^\n]*/g, '')
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);

export async function migrate(db: MigratableDb, lineage: readonly Migration[] = MIGRATIONS): Promise<{ applied: number[]; version: number }> {
  const known = lineage.reduce((m, x) => Math.max(m, x.version), 0);
  return db.transaction(async (tx) => {
    if (db.dialect === 'postgres') await tx.run('SELECT pg_advisory_xact_lock(?)', [MIGRATION_LOCK]);
    await tx.run('CREATE TABLE IF NOT EXISTS gantry_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)');
    const rows = await tx.all<{ version: number }>('SELECT version FROM gantry_migrations ORDER BY version');
    const have = new Set(rows.map((r) => Number(r.version)));
    const newest = rows.reduce((m, r) => Math.max(m, Number(r.version)), 0);
    if (newest > known) {
      throw new GantryError('conflict', `this database was migrated by a newer Gantry (schema v${newest}, this build knows v${known})`, {
        hint: 'upgrade Gantry, or point it at another database with --database / --home',
      });
    }
    const applied: number[] = [];
    for (const m of lineage) {
      if (have.has(m.version)) continue;
      for (const s of statements(dialectSql(m.sql, db.dialect))) await tx.run(s);
      if (db.dialect === 'postgres') for (const s of m.postgres ?? []) await tx.run(s);
      await tx.run('INSERT INTO gantry_migrations (version, name, applied_at) VALUES (?, ?, NOW_MS)', [m.version, m.name]);
      applied.push(m.version);
    }
    return { applied, version: Math.max(newest, known) };
  });
}
