// The SQL port both engines implement. Statements are written once in a portable subset:
//   - `?` placeholders (the PostgreSQL driver renumbers them to $n),
//   - `NOW_MS` for the store clock in epoch milliseconds (decides every expiry, DESIGN §5 inv. 4),
//   - `SKIP_LOCKED` appended to a sub-select's row lock (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite: nothing,
//     because BEGIN IMMEDIATE already serializes writers),
//   - integers for booleans, TEXT holding JSON, BIGINT epoch-ms timestamps.
export type SqlValue = string | number | boolean | null;
/** A PostgreSQL-only parameter: arrays bind as SQL arrays (`text[]`, `bigint[]`). */
export type PgParam = SqlValue | readonly (string | null)[] | readonly number[];
export type Row = Record<string, unknown>;

export interface SqlRunner {
  all<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  get<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined>;
  /** Returns the number of rows changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
}

export type Dialect = 'sqlite' | 'postgres';

export interface SqlDatabase extends SqlRunner {
  readonly dialect: Dialect;
  /** A write transaction: BEGIN IMMEDIATE on SQLite, a pooled BEGIN…COMMIT on PostgreSQL. */
  transaction<T>(fn: (tx: SqlRunner) => Promise<T>): Promise<T>;
  /** Wake other processes sharing this database (PostgreSQL NOTIFY, sent at commit when called inside a tx). */
  notify(tx: SqlRunner, channel: string, payload: string): Promise<void>;
  /** Listen for `notify` from any process (PostgreSQL LISTEN). SQLite only hears its own process. */
  listen(channel: string, onMessage: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}
