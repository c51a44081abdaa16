// The factory's durable outbox: a small SQLite file in the factory's home (WAL, synchronous=FULL),
// so reports written before a SIGKILL or during a coordinator outage are still there to send.
import Database from 'better-sqlite3';
import type { Database as Db } from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { FactoryOutbox, OutboxEntry, OutboxKind, QuarantinedResult } from '../ports/fleet.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  task_id TEXT NOT NULL,
  epoch INTEGER NOT NULL,
  kind TEXT NOT NULL,
  body TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS quarantined (
  task_id TEXT NOT NULL,
  epoch INTEGER NOT NULL,
  reason TEXT NOT NULL,
  result TEXT NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (task_id, epoch)
);`;

export class SqliteOutbox implements FactoryOutbox {
  private readonly db: Db;

  constructor(readonly path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path, { timeout: 10_000 });
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.exec(SCHEMA);
  }

  async add(e: { taskId: string; epoch: number; kind: OutboxKind; body: Record<string, unknown> }): Promise<number> {
    const r = this.db
      .prepare('INSERT INTO outbox (task_id, epoch, kind, body, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(e.taskId, e.epoch, e.kind, JSON.stringify(e.body), Date.now());
    return Number(r.lastInsertRowid);
  }

  async pending(): Promise<OutboxEntry[]> {
    const rows = this.db.prepare('SELECT * FROM outbox ORDER BY id').all() as Array<Record<string, unknown>>;
    return rows.map((r) => ({
      id: Number(r.id),
      taskId: String(r.task_id),
      epoch: Number(r.epoch),
      kind: String(r.kind) as OutboxKind,
      body: JSON.parse(String(r.body)) as Record<string, unknown>,
      attempts: Number(r.attempts),
      createdAt: Number(r.created_at),
    }));
  }

  async done(id: number): Promise<void> {
    this.db.prepare('DELETE FROM outbox WHERE id = ?').run(id);
  }

  async bump(id: number): Promise<void> {
    this.db.prepare('UPDATE outbox SET attempts = attempts + 1 WHERE id = ?').run(id);
  }

  async dropLease(taskId: string, epoch: number): Promise<void> {
    this.db.prepare("DELETE FROM outbox WHERE task_id = ? AND epoch = ? AND kind <> 'quarantine'").run(taskId, epoch);
  }

  async quarantine(r: Omit<QuarantinedResult, 'at'>): Promise<void> {
    this.db
      .prepare('INSERT INTO quarantined (task_id, epoch, reason, result, at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (task_id, epoch) DO NOTHING')
      .run(r.taskId, r.epoch, r.reason, JSON.stringify(r.result), Date.now());
  }

  async quarantined(): Promise<QuarantinedResult[]> {
    const rows = this.db.prepare('SELECT * FROM quarantined ORDER BY at').all() as Array<Record<string, unknown>>;
    return rows.map((r) => ({
      taskId: String(r.task_id),
      epoch: Number(r.epoch),
      reason: String(r.reason),
      result: JSON.parse(String(r.result)) as Record<string, unknown>,
      at: Number(r.at),
    }));
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
