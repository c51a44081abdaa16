// session_reactions: each session's memory per reaction (dedup signature, attempts, escalation),
// so a restart neither repeats a reaction nor forgets how many times it already tried.
import type { ReactionKey, ReactionMemory } from '../domain/lifecycle-rules/reactions.js';
import type { Row, SqlRunner } from '../ports/sql.js';
import type { ReactionRepo, ReactionRow } from '../ports/lifecycle.js';

const n = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

const toMemory = (r: Row): ReactionMemory => ({
  state: String(r.state) as ReactionMemory['state'],
  attempts: Number(r.attempts),
  lastSignature: r.last_signature === null || r.last_signature === undefined ? null : String(r.last_signature),
  firstAt: n(r.first_at),
});

export class ReactionRepoSql implements ReactionRepo {
  constructor(private readonly db: SqlRunner) {}

  async forSession(sessionId: string): Promise<Map<ReactionKey, ReactionMemory>> {
    const rows = await this.db.all('SELECT * FROM session_reactions WHERE session_id = ?', [sessionId]);
    return new Map(rows.map((r) => [String(r.reaction) as ReactionKey, toMemory(r)]));
  }

  async save(sessionId: string, key: ReactionKey, m: ReactionMemory, now: number): Promise<void> {
    const escalatedAt = m.state === 'escalated' ? now : null;
    await this.db.run(
      `INSERT INTO session_reactions (session_id, reaction, state, attempts, last_signature, first_at, last_at, escalated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (session_id, reaction) DO UPDATE SET state = excluded.state, attempts = excluded.attempts,
         last_signature = excluded.last_signature, first_at = excluded.first_at, last_at = excluded.last_at,
         escalated_at = COALESCE(session_reactions.escalated_at, excluded.escalated_at), rev = session_reactions.rev + 1`,
      [sessionId, key, m.state, m.attempts, m.lastSignature, m.firstAt, now, escalatedAt],
    );
  }

  async active(limit: number): Promise<ReactionRow[]> {
    const rows = await this.db.all("SELECT * FROM session_reactions WHERE state = 'active' ORDER BY first_at LIMIT ?", [limit]);
    return rows.map((r) => ({ ...toMemory(r), sessionId: String(r.session_id), key: String(r.reaction) as ReactionKey, escalatedAt: n(r.escalated_at) }));
  }
}
