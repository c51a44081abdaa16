// PostgreSQL adapter of the SQL port: a pooled `pg` client, `?` renumbered to `$n`,
// BIGINT parsed to numbers (epoch ms and counters stay far below 2^53), LISTEN/NOTIFY for wake-ups.
import { createHash } from 'node:crypto';
import pg from 'pg';
import type { Row, SqlDatabase, SqlRunner, SqlValue } from '../ports/sql.js';

pg.types.setTypeParser(20, (v) => Number(v));
pg.types.setTypeParser(1700, (v) => Number(v));

const NOW_SQL = '(floor(extract(epoch from clock_timestamp()) * 1000))::bigint';

interface Translated {
  text: string;
  /** Server-side prepared statement name, once the text has proven to be a repeated one. */
  name: string | undefined;
  uses: number;
}

const translated = new Map<string, Translated>();
/** Repeated statements are prepared (parsed and planned once per connection); one-off texts are not. */
const PREPARE_AFTER = 2;
/** Texts built per call (IN lists, VALUES rows) must not grow every connection's statement cache forever. */
const MAX_PREPARED = 400;
let prepared = 0;

function translateEntry(sql: string, prepare = false): Translated {
  let t = translated.get(sql);
  if (t === undefined) {
    let n = 0;
    const text = sql
      .replaceAll('NOW_MS', NOW_SQL)
      .replaceAll('SKIP_LOCKED', 'FOR UPDATE SKIP LOCKED')
      .replace(/\?/g, () => `$${++n}`);
    t = { text, name: undefined, uses: 0 };
    if (translated.size < 4 * MAX_PREPARED) translated.set(sql, t);
  }
  if (prepare && t.name === undefined && ++t.uses >= PREPARE_AFTER && prepared < MAX_PREPARED && translated.get(sql) === t && !UNPLANNED.test(sql)) {
    prepared++;
    t.name = `g_${createHash('sha1').update(t.text).digest('hex').slice(0, 20)}`;
  }
  return t;
}

export function translatePg(sql: string): string {
  return translateEntry(sql).text;
}

/** The statement's result type changed under a prepared plan (a schema change by another process). */
const isStalePlan = (e: unknown): boolean => {
  const x = e as { code?: string; message?: string };
  return x.code === '0A000' && /cached plan must not change result type/.test(x.message ?? '');
};

/** Statements with nothing to plan, and whose texts vary per call (savepoint names): never prepared. */
const UNPLANNED = /^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b/i;

async function query(c: pg.Pool | pg.PoolClient, sql: string, params: readonly SqlValue[], prepare: boolean): Promise<pg.QueryResult> {
  const t = translateEntry(sql, prepare);
  if (!prepare || t.name === undefined) return c.query(t.text, params as SqlValue[]);
  try {
    return await c.query({ name: t.name, text: t.text, values: params as SqlValue[] });
  } catch (e) {
    if (!isStalePlan(e)) throw e;
    // Never prepare this text again; the unnamed protocol plans it afresh. Inside a transaction the
    // error has aborted it, so it surfaces (the caller's transaction fails whole, nothing half-done).
    if (t.name !== undefined) prepared--;
    t.name = undefined;
    t.uses = -Infinity;
    if (!(c instanceof pg.Pool)) throw e;
    return c.query(t.text, params as SqlValue[]);
  }
}

class PgRunner implements SqlRunner {
  constructor(
    private readonly c: pg.Pool | pg.PoolClient,
    private readonly prepare: boolean,
  ) {}
  async all<T extends Row = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return (await query(this.c, sql, params, this.prepare)).rows as T[];
  }
  async get<T extends Row = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T | undefined> {
    return (await query(this.c, sql, params, this.prepare)).rows[0] as T | undefined;
  }
  async run(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    return (await query(this.c, sql, params, this.prepare)).rowCount ?? 0;
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
  private readonly prepare: boolean;

  /** `prepare: false` for poolers without session state (PgBouncer in transaction mode). */
  constructor(readonly url: string, opts: { max?: number; prepare?: boolean } = {}) {
    const prepare = opts.prepare ?? true;
    this.pool = new pg.Pool({ connectionString: url, max: opts.max ?? 10 });
    // An idle client dropped by the server must not crash the process.
    this.pool.on('error', () => undefined);
    this.prepare = prepare;
    this.root = new PgRunner(this.pool, prepare);
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
      const out = await fn(new PgRunner(client, this.prepare));
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
