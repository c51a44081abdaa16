// notifications (the in-app list) and notification_deliveries (the outbox of channel sends).
import { randomBytes } from 'node:crypto';
import { encodeId } from '../domain/ids.js';
import type { NotificationState } from '../domain/lifecycle-rules/notification.js';
import type { Priority } from '../domain/lifecycle-rules/reactions.js';
import type { Row, SqlRunner, SqlValue } from '../ports/sql.js';
import type { DeliveryRecord, DeliveryState, NewNotification, NotificationFilter, NotificationRecord, NotificationRepo } from '../ports/lifecycle.js';
import { json } from './rows.js';

const n = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const s = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

export function toNotification(r: Row): NotificationRecord {
  return {
    id: String(r.id),
    projectId: s(r.project_id),
    taskId: s(r.task_id),
    runId: s(r.run_id),
    sessionId: s(r.session_id),
    kind: String(r.kind),
    priority: String(r.priority) as Priority,
    state: String(r.state) as NotificationState,
    title: String(r.title),
    detail: json<Record<string, unknown>>(r.detail, {}),
    signature: s(r.signature),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    acknowledgedAt: n(r.acknowledged_at),
    resolvedAt: n(r.resolved_at),
    escalatedAt: n(r.escalated_at),
    rev: Number(r.rev),
  };
}

const toDelivery = (r: Row): DeliveryRecord => ({
  id: String(r.id),
  notificationId: String(r.notification_id),
  channel: String(r.channel),
  reason: String(r.reason) as DeliveryRecord['reason'],
  state: String(r.state) as DeliveryState,
  attempts: Number(r.attempts),
  nextAt: Number(r.next_at),
  lastError: s(r.last_error),
  rev: Number(r.rev),
});

const STAMP: Partial<Record<NotificationState, string>> = {
  acknowledged: 'acknowledged_at',
  resolved: 'resolved_at',
  escalated: 'escalated_at',
};

export class NotificationRepoSql implements NotificationRepo {
  constructor(private readonly db: SqlRunner) {}

  async raise(x: NewNotification, channels: readonly string[], now: number): Promise<NotificationRecord | undefined> {
    const r = await this.db.get(
      `INSERT INTO notifications (id, project_id, task_id, run_id, session_id, kind, priority, state, title, detail, signature, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, 'raised', ?, ?, ?, ?, ?) ON CONFLICT (signature) DO NOTHING RETURNING *`,
      [encodeId('n', randomBytes(6)), x.projectId, x.taskId, x.runId, x.sessionId, x.kind, x.priority, x.title, JSON.stringify(x.detail), x.signature, now, now],
    );
    if (!r) return undefined;
    const rec = toNotification(r);
    await this.queueDeliveries(rec.id, channels, 'raised', now);
    return rec;
  }

  async get(id: string): Promise<NotificationRecord | undefined> {
    const r = await this.db.get('SELECT * FROM notifications WHERE id = ?', [id]);
    return r ? toNotification(r) : undefined;
  }

  async list(f: NotificationFilter): Promise<NotificationRecord[]> {
    const where: string[] = [];
    const params: SqlValue[] = [];
    if (f.states && f.states.length > 0) {
      where.push(`state IN (${f.states.map(() => '?').join(',')})`);
      params.push(...f.states);
    }
    if (f.sessionId) {
      where.push('session_id = ?');
      params.push(f.sessionId);
    }
    const limit = Math.min(Math.max(f.limit ?? 100, 1), 1000);
    const rows = await this.db.all(`SELECT * FROM notifications ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id LIMIT ?`, [...params, limit]);
    return rows.map(toNotification);
  }

  async move(id: string, expectedRev: number, to: NotificationState, now: number): Promise<NotificationRecord | undefined> {
    const stamp = STAMP[to];
    const r = await this.db.get(
      `UPDATE notifications SET state = ?, ${stamp ? `${stamp} = ?, ` : ''}updated_at = ?, rev = rev + 1 WHERE id = ? AND rev = ? RETURNING *`,
      stamp ? [to, now, now, id, expectedRev] : [to, now, id, expectedRev],
    );
    return r ? toNotification(r) : undefined;
  }

  async openFor(sessionId: string, kind: string): Promise<NotificationRecord[]> {
    const rows = await this.db.all(
      "SELECT * FROM notifications WHERE session_id = ? AND kind = ? AND state IN ('raised', 'escalated', 'acknowledged') ORDER BY created_at",
      [sessionId, kind],
    );
    return rows.map(toNotification);
  }

  async unrouted(limit: number): Promise<NotificationRecord[]> {
    const rows = await this.db.all('SELECT * FROM notifications WHERE routed = 0 ORDER BY created_at, id LIMIT ?', [limit]);
    return rows.map(toNotification);
  }

  async markRouted(id: string): Promise<boolean> {
    return (await this.db.run('UPDATE notifications SET routed = 1 WHERE id = ? AND routed = 0', [id])) === 1;
  }

  async queueDeliveries(notificationId: string, channels: readonly string[], reason: 'raised' | 'escalated', now: number): Promise<number> {
    let queued = 0;
    for (const channel of channels) {
      queued += await this.db.run(
        `INSERT INTO notification_deliveries (id, notification_id, channel, reason, state, next_at, created_at, updated_at)
         VALUES (?, ?, ?, ?, 'pending', ?, ?, ?) ON CONFLICT (notification_id, channel, reason) DO NOTHING`,
        [encodeId('nd', randomBytes(6)), notificationId, channel, reason, now, now, now],
      );
    }
    return queued;
  }

  async dueDeliveries(now: number, limit: number): Promise<DeliveryRecord[]> {
    const rows = await this.db.all("SELECT * FROM notification_deliveries WHERE state = 'pending' AND next_at <= ? ORDER BY next_at LIMIT ?", [now, limit]);
    return rows.map(toDelivery);
  }

  async setDelivery(id: string, expectedRev: number, p: { state: DeliveryState; attempts?: number; nextAt?: number; lastError?: string | null }, now: number): Promise<boolean> {
    const changed = await this.db.run(
      `UPDATE notification_deliveries SET state = ?, attempts = COALESCE(?, attempts), next_at = COALESCE(?, next_at),
         last_error = ?, updated_at = ?, rev = rev + 1 WHERE id = ? AND rev = ?`,
      [p.state, p.attempts ?? null, p.nextAt ?? null, p.lastError ?? null, now, id, expectedRev],
    );
    return changed === 1;
  }

  requeueStaleSending(olderThan: number, now: number): Promise<number> {
    return this.db.run("UPDATE notification_deliveries SET state = 'pending', updated_at = ?, rev = rev + 1 WHERE state = 'sending' AND updated_at < ?", [now, olderThan]);
  }
}
