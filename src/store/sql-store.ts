// The Store, written once over the SQL port; SQLite and PostgreSQL differ only in their drivers.
import type { NewEvent, GantryEvent } from '../domain/events.js';
import type { PgParam, Row, SqlDatabase, SqlValue } from '../ports/sql.js';
import type { EventLog, Store, WriteTx } from '../ports/store.js';
import { EventFeed, type Subscription } from './event-feed.js';
import { appendEvents, eventParams } from './event-append.js';
import { PgSequencer } from './pg-sequencer.js';
import { PostgresDatabase } from './postgres-driver.js';
import { ProjectRepoSql } from './project-repo.js';
import { TaskRepoSql } from './task-repo.js';
import { TokenRepoSql } from './token-repo.js';
import { toEvent } from './rows.js';

class SqlEventLog implements EventLog {
  constructor(
    private readonly db: SqlDatabase,
    private readonly feed: EventFeed,
    private readonly sequencer: PgSequencer | null,
  ) {}

  async list(opts: { after?: number; limit?: number; taskId?: string; type?: string }): Promise<GantryEvent[]> {
    await this.sequencer?.caughtUp();
    const limit = Math.min(Math.max(opts.limit ?? 100, 1), 1000);
    const type = opts.type ? ' AND type = ?' : '';
    const typeArg = opts.type ? [opts.type] : [];
    const rows = opts.taskId
      ? await this.db.all(`SELECT * FROM events WHERE task_id = ? AND seq > ?${type} ORDER BY seq LIMIT ?`, [opts.taskId, opts.after ?? 0, ...typeArg, limit])
      : await this.db.all(`SELECT * FROM events WHERE seq > ?${type} ORDER BY seq LIMIT ?`, [opts.after ?? 0, ...typeArg, limit]);
    return rows.map(toEvent);
  }

  async latestSeq(): Promise<number> {
    await this.sequencer?.caughtUp();
    const r = await this.db.get<{ m: number | null }>('SELECT MAX(seq) AS m FROM events');
    return Number(r?.m ?? 0);
  }

  follow(fromSeq: number, onEvent: (e: GantryEvent) => void): Subscription {
    return this.feed.follow(fromSeq, onEvent);
  }
}

export class SqlStore implements Store {
  readonly projects: ProjectRepoSql;
  readonly tasks: TaskRepoSql;
  readonly tokens: TokenRepoSql;
  readonly events: EventLog;
  private readonly feed: EventFeed;
  private readonly sequencer: PgSequencer | null;
  private readonly commitObservers = new Set<(events: readonly NewEvent[]) => void>();

  constructor(readonly db: SqlDatabase, opts: { pollMs?: number } = {}) {
    this.feed = new EventFeed(db, opts.pollMs ?? 1000);
    this.sequencer = db instanceof PostgresDatabase ? new PgSequencer(db.pool) : null;
    this.events = new SqlEventLog(db, this.feed, this.sequencer);
    this.projects = new ProjectRepoSql(this);
    this.tasks = new TaskRepoSql(this);
    this.tokens = new TokenRepoSql(this);
  }

  /** Starts background work (the PostgreSQL sequencer); called once by openStore. */
  async start(pollMs = 1000): Promise<void> {
    await this.sequencer?.start(pollMs);
  }

  async write<T>(fn: (tx: WriteTx) => Promise<T>): Promise<T> {
    let emitted: NewEvent[] = [];
    const out = await this.db.transaction(async (tx) => {
      const events: NewEvent[] = [];
      const wtx: WriteTx = {
        all: (sql, params) => tx.all(sql, params),
        get: (sql, params) => tx.get(sql, params),
        run: (sql, params) => tx.run(sql, params),
        emit: (e) => void events.push(e),
      };
      const result = await fn(wtx);
      await appendEvents(this.db, tx, events);
      emitted = events;
      return result;
    });
    this.committed(emitted);
    return out;
  }

  /**
   * One statement that returns the rows it changed, with `events` committed only if it returned any.
   * PostgreSQL: a single autocommit round trip — the events ride along in a data-modifying CTE.
   * SQLite: the ordinary transaction (its writers are serial anyway).
   */
  async writeStatement<T extends Row = Row>(sql: string, params: readonly SqlValue[], events: readonly NewEvent[]): Promise<T[]> {
    if (this.db.dialect !== 'postgres' || events.length === 0) {
      return this.write(async (tx) => {
        const rows = await tx.all<T>(sql, params);
        if (rows.length > 0) for (const e of events) tx.emit(e);
        return rows;
      });
    }
    const values = events.map(() => '(?::text, ?::text, ?::text, ?::text, ?::text)').join(', ');
    const rows = await this.db.all<T>(
      `WITH main AS (${sql}),
            ev AS (INSERT INTO events (type, task_id, run_id, session_id, payload, at)
                   SELECT v.type, v.task_id, v.run_id, v.session_id, v.payload, NOW_MS
                   FROM (VALUES ${values}) AS v(type, task_id, run_id, session_id, payload)
                   WHERE EXISTS (SELECT 1 FROM main))
       SELECT * FROM main`,
      [...params, ...events.flatMap(eventParams)],
    );
    if (rows.length > 0) this.committed(events);
    return rows;
  }

  /**
   * PostgreSQL only: one autocommit statement that appends its own events (a data-modifying CTE, or a
   * function such as gantry_claim). `describe` names, from the returned rows, the events it committed,
   * for this process's commit observers; they are then sequenced like any other.
   */
  async writeWithEventRows<T extends Row = Row>(sql: string, params: readonly PgParam[], describe: (rows: T[]) => readonly NewEvent[]): Promise<T[]> {
    if (!this.sequencer) throw new Error('writeWithEventRows needs PostgreSQL');
    // PostgreSQL only, whose driver sends arrays as arrays.
    const rows = await this.db.all<T>(sql, params as readonly SqlValue[]);
    this.committed(describe(rows));
    return rows;
  }

  /**
   * Calls `fn` synchronously after each commit of this process that appended events, before the
   * writer's promise resolves (other processes' events reach followers of `events` instead).
   */
  onCommit(fn: (events: readonly NewEvent[]) => void): () => void {
    this.commitObservers.add(fn);
    return () => void this.commitObservers.delete(fn);
  }

  /** After a commit that appended `events`: tell this process's observers, then sequence or deliver them. */
  private committed(events: readonly NewEvent[]): void {
    if (events.length === 0) return;
    // The events are durable with their state; sequencing (their delivery position) follows in the
    // background, batched across concurrent writers. Log reads wait for it (read-your-writes).
    if (this.sequencer) this.sequencer.soon();
    else this.feed.wake();
    for (const fn of this.commitObservers) {
      try {
        fn(events);
      } catch {
        // An observer's failure is its own; the commit stands and the writer gets its answer.
      }
    }
  }

  async now(): Promise<number> {
    const r = await this.db.get<{ now: number }>('SELECT NOW_MS AS now');
    return Number(r?.now);
  }

  async close(): Promise<void> {
    await this.sequencer?.close();
    await this.feed.close();
    await this.db.close();
  }
}
