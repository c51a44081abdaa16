// A fleet claim: the scheduler ranks a window of queued tasks (kept between claims, claim-window.ts),
// then one conditional UPDATE takes the best-ranked task of a group that is still queued — the
// arbiter of invariant 1. On PostgreSQL, claims that arrive together are served by one call of
// gantry_claim() (migration 007), in one statement with concurrent PATCHes and releases
// (fleet-pg-batch.ts): one round trip and one commit for the batch, each request deciding in its own
// statements exactly as a lone claim would. On SQLite the same decisions are a few
// statements in one group-committed transaction.
import { GantryError } from '../domain/errors.js';
import { addsQueuedWork } from '../domain/events.js';
import type { PgParam, Row } from '../ports/sql.js';
import type { Candidate, ClaimRequest, Grant } from '../ports/fleet.js';
import type { Store } from '../ports/store.js';
import type { NewEvent } from '../domain/events.js';
import { json, toTask } from './rows.js';
import { LEASED_SQL, UNMET_DEPS_SQL } from './fleet-rows.js';
import { depsOf } from './task-repo.js';
import { CandidateWindow, type WindowRead, type WindowView } from './claim-window.js';
import type { WriteCombiner } from './fleet-batch.js';
import type { FleetPgBatch } from './fleet-pg-batch.js';

/** What the claimer needs of the SQL store beyond the port. */
export interface ClaimStore extends Store {
  writeWithEventRows<T extends Row = Row>(sql: string, params: readonly PgParam[], describe: (rows: T[]) => readonly NewEvent[]): Promise<T[]>;
  onCommit(fn: (events: readonly NewEvent[]) => void): () => void;
}

export interface ClaimOptions {
  /** The kept window is read again at least this often (ms), events or not. Default 2 s. */
  windowMaxAgeMs?: number;
}

/** The kept window: the top of the queue in index order, plus queued tasks with a workspace affinity. */
const WINDOW = 64;
const AFFINE = 32;
/** Ranked candidates offered to one claim statement. */
const GROUP = 16;
/** Statements one claim may spend before answering "nothing for you now" under heavy contention. */
const MAX_STATEMENTS = 12;

/** A claim's UPDATE (SQLite), before its WHERE: factory id, then TTL. */
const CLAIM_SET_SQL = `UPDATE tasks SET stage = 'assigned', blocked_reason = NULL, lease_epoch = lease_epoch + 1, lease_factory_id = ?,
  lease_expires_at = NOW_MS + ?, updated_at = NOW_MS, rev = rev + 1`;

const CANDIDATE_COLS = 'id, project_id, priority, queued_at, attempts, capabilities, affinity_factory_id, lease_epoch';

const toCandidate = (r: Row): Candidate => ({
  id: String(r.id),
  projectId: String(r.project_id),
  priority: Number(r.priority),
  queuedAt: Number(r.queued_at),
  attempts: Number(r.attempts),
  capabilities: json<string[]>(r.capabilities, []),
  affinityFactoryId: r.affinity_factory_id === null ? null : String(r.affinity_factory_id),
  started: Number(r.lease_epoch) > 0,
});

type Attempt =
  | { kind: 'granted'; row: Row; deps: string[] }
  /** Drained, stale, or every seat taken: nothing for this factory now. */
  | { kind: 'idle' }
  /** Nothing in the group could be taken (claimed meanwhile, locked by a concurrent claim, or blocked). */
  | { kind: 'missed' };

const notRegistered = (factoryId: string): GantryError =>
  new GantryError('conflict', `factory ${factoryId} has not registered`, {
    hint: 'send POST /api/fleet/factories/heartbeat first: registration is the first heartbeat',
  });

export class FleetClaimer {
  private readonly window: CandidateWindow;
  private following: Promise<void> | null = null;

  constructor(
    private readonly store: ClaimStore,
    private readonly combiner: WriteCombiner,
    /** PostgreSQL: the batch that serves claims with concurrent PATCHes and releases (null on SQLite). */
    private readonly pg: FleetPgBatch | null,
    opts: ClaimOptions = {},
  ) {
    this.window = new CandidateWindow(() => this.readWindow(), opts.windowMaxAgeMs);
    store.onCommit((events) => {
      if (events.some(addsQueuedWork)) this.window.invalidate();
    });
  }

  async claim(req: ClaimRequest): Promise<Grant | null> {
    // In the background: claims never wait on the event feed (until it follows, the window's age bounds staleness).
    this.followOthers();
    let statements = 0;
    let view = await this.window.get();
    for (;;) {
      const ranked = this.window.spread(req.rank(await this.withOwnAffine(view, req.factoryId), view.now));
      if (ranked.length === 0) {
        if (!view.fresh) {
          view = await this.window.get(true);
          continue;
        }
        // The window held nothing this factory can take; look past it so capability-bound work cannot starve others.
        if (view.full) return this.deepSearch(req, statements);
        await this.touch(req.factoryId);
        return null;
      }
      for (let i = 0; i < ranked.length && statements < MAX_STATEMENTS; ) {
        const group = ranked.slice(i, i + GROUP);
        statements++;
        const done = this.window.try(group[0]!);
        const r = await this.attempt(req, group).finally(done);
        if (r.kind === 'granted') {
          this.window.drop([String(r.row.id)]);
          return this.grant(r.row, r.deps);
        }
        if (r.kind === 'idle') return null;
        this.window.drop(group);
        i += GROUP;
      }
      if (statements >= MAX_STATEMENTS) return null;
      // Every candidate of a kept window was gone: read again; of a fresh one: all taken meanwhile, read again too.
      view = await this.window.get(true);
    }
  }

  private async deepSearch(req: ClaimRequest, spent: number): Promise<Grant | null> {
    let statements = spent;
    for (const sql of [
      `SELECT ${CANDIDATE_COLS} FROM tasks WHERE stage = 'queued' AND capabilities = '[]' ORDER BY priority DESC, queued_at, id LIMIT ${WINDOW}`,
      `SELECT ${CANDIDATE_COLS} FROM tasks WHERE stage = 'queued' AND capabilities <> '[]' ORDER BY priority DESC, queued_at, id LIMIT ${WINDOW * 8}`,
    ]) {
      const rows = await this.store.db.all(sql);
      const ranked = req.rank(rows.map(toCandidate), await this.store.now());
      for (let i = 0; i < ranked.length && statements < MAX_STATEMENTS; i += GROUP) {
        statements++;
        const r = await this.attempt(req, ranked.slice(i, i + GROUP));
        if (r.kind === 'granted') return this.grant(r.row, r.deps);
        if (r.kind === 'idle') return null;
      }
    }
    await this.touch(req.factoryId);
    return null;
  }

  /**
   * More affine tasks are queued than the window holds: add this factory's own, so a factory still
   * gets back the task whose workspace it kept (one indexed read, only in that case).
   */
  private async withOwnAffine(view: WindowView, factoryId: string): Promise<Candidate[]> {
    if (view.affineComplete) return view.candidates;
    const own = await this.store.db.all(`SELECT ${CANDIDATE_COLS} FROM tasks WHERE stage = 'queued' AND affinity_factory_id = ? LIMIT 8`, [factoryId]);
    const seen = new Set(view.candidates.map((c) => c.id));
    return [...view.candidates, ...own.map(toCandidate).filter((c) => !seen.has(c.id))];
  }

  /** An empty-handed claim still proves registration and records when the factory last asked. */
  private async touch(factoryId: string): Promise<void> {
    const n = await this.store.db.run('UPDATE factories SET last_claim_at = NOW_MS WHERE id = ? AND last_heartbeat_at IS NOT NULL', [factoryId]);
    if (n === 0) throw notRegistered(factoryId);
  }

  private grant(row: Row, deps: string[]): Grant {
    const task = toTask(row, deps);
    return { task, leaseEpoch: task.leaseEpoch, leaseExpiresAt: task.leaseExpiresAt ?? 0 };
  }

  private async readWindow(): Promise<WindowRead> {
    const rows = await this.store.db.all(
      `SELECT * FROM (SELECT ${CANDIDATE_COLS}, 0 AS affine, NOW_MS AS now FROM tasks WHERE stage = 'queued' ORDER BY priority DESC, queued_at, id LIMIT ${WINDOW}) w
       UNION ALL
       SELECT * FROM (SELECT ${CANDIDATE_COLS}, 1 AS affine, NOW_MS AS now FROM tasks WHERE stage = 'queued' AND affinity_factory_id IS NOT NULL LIMIT ${AFFINE + 1}) a`,
    );
    const affine = rows.filter((r) => Number(r.affine) === 1);
    const byId = new Map(rows.map((r) => [String(r.id), toCandidate(r)]));
    return {
      candidates: [...byId.values()],
      now: rows.length > 0 ? Number(rows[0]!.now) : Date.now(),
      full: rows.length - affine.length === WINDOW,
      affineComplete: affine.length <= AFFINE,
    };
  }

  /** Other coordinators' submissions and requeues drop the window too (this process's drop it at commit). */
  private followOthers(): void {
    if (this.following) return;
    this.following = (async () => {
      const from = await this.store.events.latestSeq();
      const sub = this.store.events.follow(from, (e) => {
        if (addsQueuedWork(e)) this.window.invalidate();
      });
      await sub.ready;
      // Whatever was added before the follow began is in a window read from now on.
      this.window.invalidate();
    })().catch(() => {
      this.following = null; // the next claim tries again
    });
  }

  private attempt(req: ClaimRequest, group: string[]): Promise<Attempt> {
    return this.pg ? this.attemptPg(this.pg, req, group) : this.attemptSerial(req, group);
  }

  private async attemptPg(pg: FleetPgBatch, req: ClaimRequest, group: string[]): Promise<Attempt> {
    const r = await pg.claim({ factoryId: req.factoryId, group, ttlMs: req.ttlMs, staleMs: req.staleMs });
    if (r.outcome === 'unregistered') throw notRegistered(req.factoryId);
    if (r.outcome === 'granted') return { kind: 'granted', row: r.row, deps: r.deps };
    return { kind: r.outcome === 'idle' ? 'idle' : 'missed' };
  }

  /** SQLite: one writer at a time, so the seat check after the factory row update is exact. */
  private async attemptSerial(req: ClaimRequest, group: string[]): Promise<Attempt> {
    return this.combiner.run(
      async (tx) => {
        const f = await tx.get(
          `UPDATE factories SET last_claim_at = NOW_MS WHERE id = ? AND last_heartbeat_at IS NOT NULL
           RETURNING slots, drain, last_heartbeat_at, NOW_MS AS now`,
          [req.factoryId],
        );
        if (!f) throw notRegistered(req.factoryId);
        if (Number(f.drain) === 1 || Number(f.last_heartbeat_at) < Number(f.now) - req.staleMs) return { kind: 'idle' } as const;
        // A statement of its own: as a sub-select of RETURNING, SQLite took twice as long.
        const held = await tx.get(`SELECT COUNT(*) AS n FROM tasks WHERE lease_factory_id = ? AND stage IN ${LEASED_SQL}`, [req.factoryId]);
        if (Number(held?.n ?? 0) >= Number(f.slots)) return { kind: 'idle' } as const;
        // The head first, by primary key: the kept window and this process's single writer make it
        // almost always still free; only if it is gone are the rest of the group looked up and ordered.
        let row = await tx.get(`${CLAIM_SET_SQL} WHERE id = ? AND stage = 'queued' AND NOT ${UNMET_DEPS_SQL} RETURNING *`, [req.factoryId, req.ttlMs, group[0]!]);
        const rest = group.slice(1);
        if (!row && rest.length > 0) {
          const marks = rest.map(() => '?').join(', ');
          const order = `CASE id ${rest.map((_, k) => `WHEN ? THEN ${k}`).join(' ')} END`;
          // `+stage`: look the group up by primary key, never by scanning every queued task (SQLite plans without statistics).
          row = await tx.get(
            `${CLAIM_SET_SQL} WHERE id = (SELECT id FROM tasks WHERE id IN (${marks}) AND +stage = 'queued' AND NOT ${UNMET_DEPS_SQL} ORDER BY ${order} LIMIT 1)
             RETURNING *`,
            [req.factoryId, req.ttlMs, ...rest, ...rest],
          );
        }
        if (!row) return { kind: 'missed' } as const;
        const epoch = Number(row.lease_epoch);
        const expiresAt = Number(row.lease_expires_at);
        await tx.run('INSERT INTO leases (task_id, epoch, factory_id, granted_at, expires_at) VALUES (?, ?, ?, NOW_MS, ?)', [String(row.id), epoch, req.factoryId, expiresAt]);
        tx.emit({
          type: 'lease.granted',
          taskId: String(row.id),
          payload: { factoryId: req.factoryId, epoch, expiresAt, stage: 'assigned', attempts: Number(row.attempts) },
        });
        return { kind: 'granted', row, deps: (await depsOf(tx, [String(row.id)])).get(String(row.id)) ?? [] } as const;
      },
      { atomicOnThrow: true },
    );
  }
}
