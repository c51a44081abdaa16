// PostgreSQL adapter of the SQL port: a pooled `pg` client, `?` renumbered to `$n`,
// BIGINT parsed to numbers (epoch ms and counters stay far below 2^53), LISTEN/NOTIFY for wake-ups.
import pg from 'pg';
import type { Row, SqlDatabase, SqlRunner, SqlValue } from '../ports/sql.js';

pg.types.setTypeParser(20, (v) => Number(v));
pg.types.setTypeParser(1700, (v) => Number(v));

const NOW_SQL = '(floor(extract(epoch from clock_timestamp()) * 1000))::bigint';
const translated = new Map<string, string>();

export function translatePg(sql: string): string {
  let out = translated.get(sql);
  if (out !== undefined) return out;
  let n = 0;
  out = sql
    .replaceAll('NOW_MS', NOW_SQL)
    .replaceAll('SKIP_LOCKED', 'FOR UPDATE SKIP LOCKED')
    .replace(/\?/g, () => `$${++n}`);
  translated.set(sql, out);
  return out;
}

class PgRunner implements SqlRunner {
  constructor(private readonly c: pg.Pool | pg.PoolClient) {}
  async all<T extends Row = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return (await this.c.query(translatePg(sql), params as SqlValue[])).rows as T[];
  }
  async get<T extends Row = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T | undefined> {
    return (await this.c.query(translatePg(sql), params as SqlValue[])).rows[0] as T | undefined;
  }
  async run(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    return (await this.c.query(translatePg(sql), params as SqlValue[])).rowCount ?? 0;
  }
}

export class PostgresDatabase implements SqlDatabase {
  readonly dialect = 'postgres' as const;
  readonly pool: pg.Pool;
  private readonly root: PgRunner;
  private listener: pg.Client | null = null;
  private listenerReady: Promise<pg.Client> | null = null;
  private readonly handlers = new Map<string, Set<(payload: string) => void>>();
  private closed = false;

  constructor(readonly url: string, opts: { max?: number } = {}) {
    this.pool = new pg.Pool({ connectionString: url, max: opts.max ?? 10 });
    // An idle client dropped by the server must not crash the process.
    this.pool.on('error', () => undefined);
    this.root = new PgRunner(this.pool);
  }

  all<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    return this.root.all<T>(sql, params);
  }
  get<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined> {
    return this.root.get<T>(sql, params);
  }
  run(sql: string, params?: readonly SqlValue[]): Promise<number> {
    return this.root.run(sql, params);
  }

  async execScript(sql: string): Promise<void> {
    await this.pool.query(sql);
  }

  async transaction<T>(fn: (tx: SqlRunner) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const out = await fn(new PgRunner(client));
      await client.query('COMMIT');
      return out;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }

  async notify(tx: SqlRunner, channel: string, payload: string): Promise<void> {
    await tx.run('SELECT pg_notify(?, ?)', [channel, payload]);
  }

  private connectListener(): Promise<pg.Client> {
    if (!this.listenerReady) {
      this.listenerReady = (async () => {
        const c = new pg.Client({ connectionString: this.url });
        c.on('error', () => {
          // Drop and reconnect lazily; followers keep polling as a backstop meanwhile.
          this.listener = null;
          this.listenerReady = null;
          if (!this.closed) setTimeout(() => void this.relisten(), 500).unref();
        });
        c.on('notification', (m) => {
          for (const h of this.handlers.get(m.channel) ?? []) h(m.payload ?? '');
        });
        await c.connect();
        this.listener = c;
        return c;
      })();
    }
    return this.listenerReady;
  }

  private async relisten(): Promise<void> {
    if (this.closed || this.handlers.size === 0) return;
    try {
      const c = await this.connectListener();
      for (const ch of this.handlers.keys()) await c.query(`LISTEN "${ch}"`);
    } catch {
      this.listenerReady = null;
      if (!this.closed) setTimeout(() => void this.relisten(), 1000).unref();
    }
  }

  async listen(channel: string, onMessage: (payload: string) => void): Promise<() => Promise<void>> {
    if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`invalid channel name ${channel}`);
    let set = this.handlers.get(channel);
    if (!set) {
      this.handlers.set(channel, (set = new Set()));
      const c = await this.connectListener();
      await c.query(`LISTEN "${channel}"`);
    }
    set.add(onMessage);
    return async () => {
      set.delete(onMessage);
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    const l = this.listener;
    this.listener = null;
    if (l) await l.end().catch(() => undefined);
    await this.pool.end();
  }
}
