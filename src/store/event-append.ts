// Appending events inside a writer's transaction, without serializing writers.
//
// SQLite writers are already serial (BEGIN IMMEDIATE), so seq is assigned inline.
// PostgreSQL writers insert with seq NULL and no lock; the sequencer (pg-sequencer.ts) later gives
// committed events their global seq in one locked batch. A follower reading `seq > cursor` therefore
// never sees seq N+1 while N is still in flight, and concurrent commits still group on disk.
import type { NewEvent } from '../domain/events.js';
import type { SqlDatabase, SqlRunner, SqlValue } from '../ports/sql.js';

export const EVENTS_CHANNEL = 'gantry_events';

export async function appendEvents(db: SqlDatabase, tx: SqlRunner, events: readonly NewEvent[]): Promise<void> {
  if (events.length === 0) return;
  if (db.dialect === 'sqlite') {
    for (const e of events) {
      await tx.run(
        `INSERT INTO events (seq, type, task_id, run_id, session_id, payload, at)
         VALUES ((SELECT COALESCE(MAX(seq), 0) + 1 FROM events), ?, ?, ?, ?, ?, NOW_MS)`,
        eventParams(e),
      );
    }
    await db.notify(tx, EVENTS_CHANNEL, '');
    return;
  }
  // One round trip, rows in emission order (ids follow VALUES order). No NOTIFY here: it would take
  // PostgreSQL's global notify lock at every commit; this process's sequencer runs right after.
  const values = events.map(() => '(?, ?, ?, ?, ?, NOW_MS)').join(', ');
  await tx.run(`INSERT INTO events (type, task_id, run_id, session_id, payload, at) VALUES ${values}`, events.flatMap(eventParams));
}

export const eventParams = (e: NewEvent): SqlValue[] => [e.type, e.taskId ?? null, e.runId ?? null, e.sessionId ?? null, JSON.stringify(e.payload ?? {})];
