// PostgreSQL driver: repeated statements run as server-side prepared statements, and a prepared plan
// whose result shape changed under it (another process altered the table) falls back instead of failing.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { freshDb, pgSkip } from '../support/db.js';
import { PostgresDatabase } from '../../src/store/postgres-driver.js';

describe('postgres driver statements', { skip: pgSkip() }, () => {
  it('prepares a repeated statement once per connection and survives a schema change under it', async () => {
    const db = await freshDb('postgres');
    const pg = new PostgresDatabase(db.target, { max: 1 });
    try {
      await pg.run('CREATE TABLE drv_t (a INTEGER)');
      await pg.run('INSERT INTO drv_t (a) VALUES (?)', [1]);
      const sql = 'SELECT * FROM drv_t WHERE a >= ? ORDER BY a';
      for (let i = 0; i < 3; i++) assert.deepEqual(await pg.all(sql, [0]), [{ a: 1 }]);
      const prepared = await pg.all<{ statement: string }>('SELECT statement FROM pg_prepared_statements');
      assert.ok(
        prepared.some((p) => p.statement.includes('FROM drv_t WHERE a >= $1')),
        'the repeated text is a server-side prepared statement on the one connection',
      );
      // What another coordinator's migration would do: the prepared plan's row type no longer matches.
      const other = new PostgresDatabase(db.target, { max: 1 });
      await other.run('ALTER TABLE drv_t ADD COLUMN b TEXT');
      await other.close();
      assert.deepEqual(await pg.all(sql, [0]), [{ a: 1, b: null }]);
      assert.deepEqual(await pg.all(sql, [0]), [{ a: 1, b: null }], 'and again, unprepared from now on');
    } finally {
      await pg.close();
      await db.dispose();
    }
  });

  it('prepares nothing when told not to (poolers without sessions)', async () => {
    const db = await freshDb('postgres');
    const pg = new PostgresDatabase(db.target, { max: 1, prepare: false });
    try {
      for (let i = 0; i < 3; i++) await pg.all('SELECT 1 AS one WHERE 1 = ?', [1]);
      const prepared = await pg.all('SELECT name FROM pg_prepared_statements');
      assert.deepEqual(prepared, []);
    } finally {
      await pg.close();
      await db.dispose();
    }
  });
});
