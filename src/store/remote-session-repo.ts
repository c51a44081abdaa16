// Remote sessions whose lease is gone: recorded by a factory (factory_id set — in-process sessions
// carry none), still live on the coordinator, and either their factory no longer holds the task, or it
// holds it again under a lease granted after the session was created (it restarted and claimed the
// task back). Ordered by event sequence, not clocks: the session's `session.created` against the
// task's latest `lease.granted`. An event not sequenced yet counts as "not ended" (checked next time).
import type { SqlRunner } from '../ports/sql.js';

export async function remoteSessionsWithoutLease(db: SqlRunner, limit = 500): Promise<string[]> {
  const rows = await db.all<{ id: string }>(
    `SELECT s.id FROM sessions s JOIN tasks t ON t.id = s.task_id
      WHERE s.factory_id IS NOT NULL
        AND s.session_state IN ('not_started', 'working', 'detecting', 'stuck')
        AND (t.lease_factory_id IS NULL OR t.lease_factory_id <> s.factory_id
          OR (SELECT MIN(c.seq) FROM events c WHERE c.task_id = s.task_id AND c.session_id = s.id AND c.type = 'session.created')
           < (SELECT MAX(g.seq) FROM events g WHERE g.task_id = s.task_id AND g.type = 'lease.granted'))
      ORDER BY s.id LIMIT ?`,
    [limit],
  );
  return rows.map((r) => r.id);
}
