// session_inputs: the per-session delivery queue (pending → delivered → acknowledged · failed).
import { randomBytes } from 'node:crypto';
import { encodeId } from '../domain/ids.js';
import { notFound } from '../domain/errors.js';
import type { InputState } from '../domain/lifecycle-rules/delivery.js';
import type { Row, SqlRunner } from '../ports/sql.js';
import type { InputRecord, InputRepo } from '../ports/lifecycle.js';

const n = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

export function toInput(r: Row): InputRecord {
  return {
    id: String(r.id),
    sessionId: String(r.session_id),
    seq: Number(r.seq),
    text: String(r.text),
    source: String(r.source),
    state: String(r.state) as InputState,
    attempts: Number(r.attempts),
    lastError: r.last_error === null || r.last_error === undefined ? null : String(r.last_error),
    deliveredAt: n(r.delivered_at),
    deliveredGeneration: n(r.delivered_generation),
    acknowledgedAt: n(r.acknowledged_at),
    failedAt: n(r.failed_at),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    rev: Number(r.rev),
  };
}

export class InputRepoSql implements InputRepo {
  constructor(private readonly db: SqlRunner) {}

  async enqueue(sessionId: string, text: string, source: string, now: number): Promise<InputRecord> {
    // Touching the session row takes its row lock, so concurrent enqueues number their seq in turn.
    const touched = await this.db.run('UPDATE sessions SET updated_at = updated_at WHERE id = ?', [sessionId]);
    if (touched === 0) throw notFound('session', sessionId, 'list sessions with `gantry sessions` or the API');
    const next = await this.db.get<{ s: number | null }>('SELECT MAX(seq) AS s FROM session_inputs WHERE session_id = ?', [sessionId]);
    const row = await this.db.get(
      `INSERT INTO session_inputs (id, session_id, seq, text, source, state, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, 'pending', ?, ?) RETURNING *`,
      [encodeId('in', randomBytes(6)), sessionId, Number(next?.s ?? 0) + 1, text, source, now, now],
    );
    return toInput(row!);
  }

  async get(id: string): Promise<InputRecord | undefined> {
    const r = await this.db.get('SELECT * FROM session_inputs WHERE id = ?', [id]);
    return r ? toInput(r) : undefined;
  }

  async open(sessionId: string): Promise<InputRecord[]> {
    const rows = await this.db.all("SELECT * FROM session_inputs WHERE session_id = ? AND state IN ('pending', 'delivered') ORDER BY seq", [sessionId]);
    return rows.map(toInput);
  }

  async list(sessionId: string, limit = 100): Promise<InputRecord[]> {
    const rows = await this.db.all('SELECT * FROM session_inputs WHERE session_id = ? ORDER BY seq DESC LIMIT ?', [sessionId, limit]);
    return rows.map(toInput).reverse();
  }

  async sessionsWithOpenInputs(limit: number): Promise<string[]> {
    const rows = await this.db.all<{ session_id: string }>(
      "SELECT DISTINCT session_id FROM session_inputs WHERE state IN ('pending', 'delivered') LIMIT ?", [limit]);
    return rows.map((r) => String(r.session_id));
  }

  private async cas(id: string, expectedRev: number, set: string, params: (string | number | null)[]): Promise<InputRecord | undefined> {
    const r = await this.db.get(`UPDATE session_inputs SET ${set}, rev = rev + 1 WHERE id = ? AND rev = ? RETURNING *`, [...params, id, expectedRev]);
    return r ? toInput(r) : undefined;
  }

  markDelivered(id: string, expectedRev: number, generation: number, now: number): Promise<InputRecord | undefined> {
    return this.cas(id, expectedRev, "state = 'delivered', attempts = attempts + 1, delivered_at = ?, delivered_generation = ?, updated_at = ?", [now, generation, now]);
  }

  markPending(id: string, expectedRev: number, error: string | null, now: number): Promise<InputRecord | undefined> {
    return this.cas(id, expectedRev, "state = 'pending', last_error = ?, updated_at = ?", [error, now]);
  }

  markFailed(id: string, expectedRev: number, error: string, now: number): Promise<InputRecord | undefined> {
    return this.cas(id, expectedRev, "state = 'failed', last_error = ?, failed_at = ?, updated_at = ?", [error, now, now]);
  }

  async acknowledge(sessionId: string, now: number): Promise<InputRecord[]> {
    const rows = await this.db.all(
      `UPDATE session_inputs SET state = 'acknowledged', acknowledged_at = ?, updated_at = ?, rev = rev + 1
       WHERE session_id = ? AND state = 'delivered' RETURNING *`,
      [now, now, sessionId],
    );
    return rows.map(toInput);
  }
}
