// The Store, written once over the SQL port; SQLite and PostgreSQL differ only in their drivers.
import type { NewEvent, GantryEvent } from '../domain/events.js';
import type { SqlDatabase } from '../ports/sql.js';
import type { EventLog, Store, WriteTx } from '../ports/store.js';
import { EventFeed, type Subscription } from './event-feed.js';
import { appendEvents } from './event-append.js';
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

  async list(opts: { after?: number; limit?: number; taskId?: string }): Promise<GantryEvent[]> {
    await this.sequencer?.caughtUp();
    const limit = Math.min(Math.max(opts.limit ?? 100, 1), 1000);
    const rows = opts.taskId
      ? await this.db.all('SELECT * FROM events WHERE task_id = ? AND seq > ? ORDER BY seq LIMIT ?', [opts.taskId, opts.after ?? 0, limit])
      : await this.db.all('SELECT * FROM events WHERE seq > ? ORDER BY seq LIMIT ?', [opts.after ?? 0, limit]);
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
    let emitted = 0;
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
      emitted = events.length;
      return result;
    });
    if (emitted > 0) {
      // The events are durable with their state; sequencing (their delivery position) follows in the
      // background, batched across concurrent writers. Log reads below wait for it (read-your-writes).
      if (this.sequencer) this.sequencer.soon();
      else this.feed.wake();
    }
    return out;
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
