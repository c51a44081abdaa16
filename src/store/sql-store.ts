// The Store, written once over the SQL port; SQLite and PostgreSQL differ only in their drivers.
import type { NewEvent, GantryEvent } from '../domain/events.js';
import type { SqlDatabase, SqlRunner } from '../ports/sql.js';
import type { EventLog, Store, WriteTx } from '../ports/store.js';
import { EventFeed, EVENTS_CHANNEL, type Subscription } from './event-feed.js';
import { ProjectRepoSql } from './project-repo.js';
import { TaskRepoSql } from './task-repo.js';
import { TokenRepoSql } from './token-repo.js';
import { toEvent } from './rows.js';

export async function appendEvents(db: SqlDatabase, tx: SqlRunner, events: readonly NewEvent[]): Promise<number> {
  if (events.length === 0) return 0;
  await db.lockEventOrder(tx);
  let seq = 0;
  for (const e of events) {
    const row = await tx.get<{ seq: number }>(
      'INSERT INTO events (type, task_id, run_id, session_id, payload, at) VALUES (?, ?, ?, ?, ?, NOW_MS) RETURNING seq',
      [e.type, e.taskId ?? null, e.runId ?? null, e.sessionId ?? null, JSON.stringify(e.payload ?? {})],
    );
    seq = Number(row?.seq ?? 0);
  }
  await db.notify(tx, EVENTS_CHANNEL, String(seq));
  return seq;
}

class SqlEventLog implements EventLog {
  constructor(
    private readonly db: SqlDatabase,
    private readonly feed: EventFeed,
  ) {}

  async list(opts: { after?: number; limit?: number; taskId?: string }): Promise<GantryEvent[]> {
    const limit = Math.min(Math.max(opts.limit ?? 100, 1), 1000);
    const rows = opts.taskId
      ? await this.db.all('SELECT * FROM events WHERE task_id = ? AND seq > ? ORDER BY seq LIMIT ?', [opts.taskId, opts.after ?? 0, limit])
      : await this.db.all('SELECT * FROM events WHERE seq > ? ORDER BY seq LIMIT ?', [opts.after ?? 0, limit]);
    return rows.map(toEvent);
  }

  async latestSeq(): Promise<number> {
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

  constructor(readonly db: SqlDatabase, opts: { pollMs?: number } = {}) {
    this.feed = new EventFeed(db, opts.pollMs ?? 1000);
    this.events = new SqlEventLog(db, this.feed);
    this.projects = new ProjectRepoSql(this);
    this.tasks = new TaskRepoSql(this);
    this.tokens = new TokenRepoSql(this);
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
    if (emitted > 0) this.feed.wake();
    return out;
  }

  async now(): Promise<number> {
    const r = await this.db.get<{ now: number }>('SELECT NOW_MS AS now');
    return Number(r?.now);
  }

  async close(): Promise<void> {
    await this.feed.close();
    await this.db.close();
  }
}
