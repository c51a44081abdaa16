// SQLite adapter of the SQL port: WAL, synchronous=FULL, BEGIN IMMEDIATE for every write.
// better-sqlite3 is synchronous, so one async mutex keeps a transaction's statements from
// interleaving with other callers on the writer connection; reads use a second connection
// that only ever sees committed data.
import Database from 'better-sqlite3';
import type { Database as Db } from 'better-sqlite3';
import type { Row, SqlDatabase, SqlRunner, SqlValue } from '../ports/sql.js';
import { Mutex } from '../lib/mutex.js';

const NOW_SQL = "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)";

function translate(sql: string): string {
  return sql.replaceAll('NOW_MS', NOW_SQL).replaceAll('SKIP_LOCKED', '');
}

const bind = (params: readonly SqlValue[]): unknown[] => params.map((p) => (typeof p === 'boolean' ? (p ? 1 : 0) : p));

function open(path: string): Db {
  const db = new Database(path, { timeout: 30_000 });
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  return db;
}

class Runner implements SqlRunner {
  private readonly cache = new Map<string, Database.Statement>();
  constructor(private readonly db: Db) {}

  private stmt(sql: string): Database.Statement {
    let s = this.cache.get(sql);
    if (!s) {
      s = this.db.prepare(translate(sql));
      this.cache.set(sql, s);
    }
    return s;
  }

  async all<T extends Row = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return this.stmt(sql).all(...bind(params)) as T[];
  }
  async get<T extends Row = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T | undefined> {
    return this.stmt(sql).get(...bind(params)) as T | undefined;
  }
  async run(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    const s = this.stmt(sql);
    if (!s.reader) return s.run(...bind(params)).changes;
    s.all(...bind(params));
    return 0;
  }
  exec(sql: string): void {
    this.db.exec(translate(sql));
  }
}

export class SqliteDatabase implements SqlDatabase {
  readonly dialect = 'sqlite' as const;
  private readonly writer: Db;
  private readonly reader: Db;
  private readonly w: Runner;
  private readonly r: Runner;
  private readonly lock = new Mutex();
  private readonly listeners = new Map<string, Set<(payload: string) => void>>();
  private pendingNotifies: Array<[string, string]> | null = null;

  constructor(readonly path: string) {
    this.writer = open(path);
    this.reader = path === ':memory:' ? this.writer : open(path);
    if (this.reader !== this.writer) this.reader.pragma('query_only = ON');
    this.w = new Runner(this.writer);
    this.r = path === ':memory:' ? this.w : new Runner(this.reader);
  }

  all<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    return this.r === this.w ? this.lock.run(() => this.r.all<T>(sql, params)) : this.r.all<T>(sql, params);
  }
  get<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined> {
    return this.r === this.w ? this.lock.run(() => this.r.get<T>(sql, params)) : this.r.get<T>(sql, params);
  }
  run(sql: string, params?: readonly SqlValue[]): Promise<number> {
    return this.lock.run(() => this.w.run(sql, params));
  }

  /** Executes a multi-statement script (migrations). */
  execScript(sql: string): Promise<void> {
    return this.lock.run(async () => this.w.exec(sql));
  }

  transaction<T>(fn: (tx: SqlRunner) => Promise<T>): Promise<T> {
    return this.lock.run(async () => {
      this.writer.exec('BEGIN IMMEDIATE');
      this.pendingNotifies = [];
      try {
        const out = await fn(this.w);
        this.writer.exec('COMMIT');
        const notes = this.pendingNotifies;
        this.pendingNotifies = null;
        for (const [ch, payload] of notes) this.deliver(ch, payload);
        return out;
      } catch (e) {
        this.pendingNotifies = null;
        if (this.writer.inTransaction) this.writer.exec('ROLLBACK');
        throw e;
      }
    });
  }

  async notify(_tx: SqlRunner, channel: string, payload: string): Promise<void> {
    if (this.pendingNotifies) this.pendingNotifies.push([channel, payload]);
    else this.deliver(channel, payload);
  }

  private deliver(channel: string, payload: string): void {
    for (const l of this.listeners.get(channel) ?? []) l(payload);
  }

  async listen(channel: string, onMessage: (payload: string) => void): Promise<() => Promise<void>> {
    let set = this.listeners.get(channel);
    if (!set) this.listeners.set(channel, (set = new Set()));
    set.add(onMessage);
    return async () => {
      set.delete(onMessage);
    };
  }

  async close(): Promise<void> {
    await this.lock.run(async () => {
      if (this.reader !== this.writer) this.reader.close();
      this.writer.close();
    });
  }
}
