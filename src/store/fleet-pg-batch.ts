// PostgreSQL: the fleet's hot writes — claims, fenced PATCHes and releases — that arrive together are
// served by ONE statement: `gantry_release(…) UNION ALL gantry_patch(…) UNION ALL gantry_claim(…)`
// (the functions of migration 012), one round trip and one commit for the whole batch. Each
// request still runs the statements a lone call would, with its event in the same transaction; a
// claim that finds nothing, or a fenced call whose fence matches nothing (stale epoch, or a replayed
// release), comes back without a row and the caller explains it.
//
// Gathering: a batch runs on the server while the next one fills, and a lane that finds itself idle
// waits out the current turn of the event loop first, so the callers one batch resumed go together in
// the next instead of the first of them alone. Measured with bench/fleet at ×16 factories (PostgreSQL,
// 2 cores): two lanes per kind and no gathering cost about 0.7 ms of server CPU per lease cycle, one
// lane for all three kinds about 0.42 ms; gathering then took claims from ~0.45× to ~0.6× of the raw
// SKIP LOCKED claim. Fewer, larger transactions: each commit, call and round trip is paid once per
// batch, not once per request.
// Lanes: claims alone use one. A second lane runs beside it only for a batch with a PATCH or a release
// in it: a lone lane is one backend, idle during its commit's flush and while this process handles the
// answers, and on a busy host it waits for a core about as long as it runs (schedstat). Fenced calls
// take the second lane at once (full cycles at ×16: 0.43× → 0.49× of raw, median of 9 interleaved
// pairs, no pair worse), unless one is about a task of the running batch: that one waits for the
// batch, so calls about one task still land in the order they came. Claims on two lanes were worse
// (0.65× → 0.51×, 4 pairs): their callers come back together, and a free lane then split them into
// batches of ~6, each paying a commit and the claim's fixed costs.
// Deadlocks: a batch holds task rows from its releases and PATCHes when its claims lock factory rows,
// while the stale-factory reaper locks a factory and then its tasks; PostgreSQL aborts one of such a
// pair and the batch's requests are retried one by one (`serveOne`), holding up their lane meanwhile.
import type { NewEvent } from '../domain/events.js';
import type { Stage } from '../domain/task.js';
import type { LeaseRef, ReleaseOutcome } from '../ports/fleet.js';
import type { PgParam, Row } from '../ports/sql.js';
import { Batcher } from '../lib/batcher.js';
import { json } from './rows.js';

/** What the batch needs of the SQL store. */
export interface PgBatchStore {
  writeWithEventRows<T extends Row = Row>(sql: string, params: readonly PgParam[], describe: (rows: T[]) => readonly NewEvent[]): Promise<T[]>;
}

export interface FencedRow {
  row: Row;
  deps: string[];
  /** Dependents a `done` release put back in the queue. */
  unblocked: string[];
}

export interface ClaimReq {
  factoryId: string;
  /** Candidate task ids, best first. */
  group: string[];
  ttlMs: number;
  staleMs: number;
}

export type ClaimOutcome =
  | { outcome: 'granted'; row: Row; deps: string[] }
  | { outcome: 'idle' | 'missed' | 'unregistered' };

export interface PatchReq {
  ref: LeaseRef;
  stage: Stage;
  checkpoint: string | null;
  /** The event payload, before the holder is added. */
  payload: string;
}

export interface ReleaseReq {
  ref: LeaseRef;
  outcome: ReleaseOutcome;
  checkpoint: string | null;
  failure: { kind: string; message: string | null } | null;
  report: string;
}

type Req = { kind: 'claim'; req: ClaimReq } | { kind: 'patch'; req: PatchReq } | { kind: 'release'; req: ReleaseReq };
type Answer = ClaimOutcome | FencedRow | undefined;
type Outcome = { ok: true; value: Answer } | { ok: false; error: unknown };

/** PostgreSQL deadlock_detected / serialization_failure: nothing committed, a retry may pass. */
const transient = (e: unknown): boolean => ['40P01', '40001'].includes(String((e as { code?: unknown }).code));

/**
 * What a failed batch call means for its requests. An error the server reported for the statement
 * (a SQLSTATE with a severity) rolled the whole call back: each request is retried alone, so one
 * request's trouble (a deadlock, a value the server refuses) is its own answer only. A lost connection
 * (no server verdict, or SQLSTATE class 08 / 57 — did it commit?) is every request's answer, as it
 * would be for a lone call. Pure.
 */
export function afterBatchError(e: unknown): 'each-alone' | 'all-fail' {
  const { code, severity } = (e ?? {}) as { code?: unknown; severity?: unknown };
  if (typeof severity !== 'string' || typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return 'all-fail';
  return code.startsWith('08') || code.startsWith('57') ? 'all-fail' : 'each-alone';
}

/** One result row of the batch statement: which function (k), which of its requests (req). */
type OutRow = { k: number; req: number; outcome: string | null; task_id: string | null; task: string | null; deps: string | null; unblocked: string | null };

const KIND = { release: 0, patch: 1, claim: 2 } as const;

// Releases first: a seat they free is free for a claim of the same batch. Every part names its
// columns: whichever comes first names the result's.
const PARTS = {
  release: (p: string[]) => `SELECT 0 AS k, req, NULL::text AS outcome, NULL::text AS task_id, task, deps, unblocked FROM gantry_release(${p.join(', ')})`,
  patch: (p: string[]) => `SELECT 1 AS k, req, NULL::text AS outcome, NULL::text AS task_id, task, deps, NULL::text AS unblocked FROM gantry_patch(${p.join(', ')})`,
  claim: (p: string[]) => `SELECT 2 AS k, req, outcome, task_id, task, deps, NULL::text AS unblocked FROM gantry_claim(${p.join(', ')})`,
};
const ARITY = { release: 8, patch: 6, claim: 4 } as const;

/** The batch statement for the kinds present (at most seven texts, each prepared once per connection). */
function batchSql(kinds: { claim: boolean; patch: boolean; release: boolean }): string {
  const parts: string[] = [];
  for (const k of ['release', 'patch', 'claim'] as const) if (kinds[k]) parts.push(PARTS[k](Array.from({ length: ARITY[k] }, () => '?')));
  return parts.join(' UNION ALL ');
}

export class FleetPgBatch {
  private readonly batcher: Batcher<Req, Outcome>;
  /** Tasks of the PATCHes and releases in the batches running now (count per id). */
  private readonly inFlight = new Map<string, number>();

  constructor(private readonly store: PgBatchStore) {
    // A second lane only for a batch with a PATCH or a release in it, none about a task in the other (see the header).
    this.batcher = new Batcher((reqs) => this.serve(reqs), 2, 64, true, (queued) => secondLane(queued, this.inFlight));
  }

  async claim(req: ClaimReq): Promise<ClaimOutcome> {
    return unwrap(await this.batcher.run({ kind: 'claim', req })) as ClaimOutcome;
  }

  async patch(req: PatchReq): Promise<FencedRow | undefined> {
    return unwrap(await this.batcher.run({ kind: 'patch', req })) as FencedRow | undefined;
  }

  async release(req: ReleaseReq): Promise<FencedRow | undefined> {
    return unwrap(await this.batcher.run({ kind: 'release', req })) as FencedRow | undefined;
  }

  /**
   * One statement for the batch. A statement error the server reported committed nothing: each request
   * is then retried alone (once more if transient again), so one request's trouble does not fail the
   * others. A lost connection (did it commit?) is every request's answer, as for a lone call.
   */
  private async serve(reqs: Req[]): Promise<Outcome[]> {
    const tasks = reqs.flatMap((r) => (r.kind === 'claim' ? [] : [r.req.ref.taskId]));
    for (const t of tasks) this.inFlight.set(t, (this.inFlight.get(t) ?? 0) + 1);
    try {
      const out: Outcome[] = [];
      for (const part of inArrivalOrder(reqs)) out.push(...(await this.serveOne(part)));
      return out;
    } finally {
      for (const t of tasks) {
        const n = this.inFlight.get(t)! - 1;
        if (n === 0) this.inFlight.delete(t);
        else this.inFlight.set(t, n);
      }
    }
  }

  private async serveOne(reqs: Req[]): Promise<Outcome[]> {
    try {
      return (await this.once(reqs)).map((value) => ({ ok: true, value }));
    } catch (error) {
      if (reqs.length === 1 && !transient(error)) return [{ ok: false, error }];
      if (afterBatchError(error) === 'all-fail') return reqs.map(() => ({ ok: false, error }));
    }
    const out: Outcome[] = [];
    for (const r of reqs) {
      try {
        const [value] = await this.once([r]).catch((e: unknown) => (transient(e) ? this.once([r]) : Promise.reject(e)));
        out.push({ ok: true, value });
      } catch (error) {
        out.push({ ok: false, error });
      }
    }
    return out;
  }

  private async once(reqs: Req[]): Promise<Answer[]> {
    // Each kind's requests, with their place in `reqs`.
    const claims: Array<[number, ClaimReq]> = [];
    const patches: Array<[number, PatchReq]> = [];
    const releases: Array<[number, ReleaseReq]> = [];
    reqs.forEach((r, i) => {
      if (r.kind === 'claim') claims.push([i, r.req]);
      else if (r.kind === 'patch') patches.push([i, r.req]);
      else releases.push([i, r.req]);
    });
    const params: PgParam[] = [];
    if (releases.length) {
      const rs = releases.map(([, r]) => r);
      params.push(
        rs.map((r) => r.ref.taskId),
        rs.map((r) => r.ref.epoch),
        rs.map((r) => r.ref.factoryId),
        rs.map((r) => r.outcome),
        rs.map((r) => r.checkpoint),
        rs.map((r) => r.failure?.kind ?? null),
        rs.map((r) => r.failure?.message ?? null),
        rs.map((r) => r.report),
      );
    }
    if (patches.length) {
      const ps = patches.map(([, r]) => r);
      params.push(
        ps.map((r) => r.ref.taskId),
        ps.map((r) => r.ref.epoch),
        ps.map((r) => r.ref.factoryId),
        ps.map((r) => r.stage),
        ps.map((r) => r.checkpoint),
        ps.map((r) => r.payload),
      );
    }
    if (claims.length) {
      const cs = claims.map(([, r]) => r);
      // Arrays, not a JSON document: parsing JSON per call was a tenth of gantry_claim()'s time.
      params.push(
        cs.map((r) => r.factoryId),
        cs.map((r) => r.group.join(' ')),
        cs.map((r) => r.ttlMs),
        cs.map((r) => r.staleMs),
      );
    }
    const parsed = new Map<OutRow, Row>();
    const rowOf = (x: OutRow): Row => {
      let row = parsed.get(x);
      if (!row) parsed.set(x, (row = JSON.parse(x.task!) as Row));
      return row;
    };
    const rows = await this.store.writeWithEventRows<OutRow>(
      batchSql({ claim: claims.length > 0, patch: patches.length > 0, release: releases.length > 0 }),
      params,
      // What the functions appended, for this process's commit observers (the log has the full events).
      (rs) =>
        rs.flatMap((x): NewEvent[] => {
          const k = Number(x.k);
          if (k === KIND.claim) return x.outcome === 'granted' ? [{ type: 'lease.granted', taskId: x.task_id, payload: { stage: 'assigned' } }] : [];
          if (k === KIND.patch) {
            const p = patches[Number(x.req)]![1];
            return [{ type: 'task.stage_changed', taskId: p.ref.taskId, payload: { stage: p.stage } }];
          }
          const r = releases[Number(x.req)]![1];
          return [
            { type: 'lease.released', taskId: r.ref.taskId, payload: { outcome: r.outcome, stage: String(rowOf(x).stage) } },
            ...json<string[]>(x.unblocked, []).map((id) => ({ type: 'task.unblocked', taskId: id, payload: { stage: 'queued', after: r.ref.taskId } })),
          ];
        }),
    );
    const out: Answer[] = reqs.map((r) => (r.kind === 'claim' ? { outcome: 'missed' } : undefined));
    for (const x of rows) {
      const k = Number(x.k);
      const req = Number(x.req);
      if (k === KIND.claim) {
        const at = claims[req]![0];
        out[at] =
          x.outcome === 'granted'
            ? { outcome: 'granted', row: rowOf(x), deps: json<string[]>(x.deps, []) }
            : { outcome: x.outcome === 'idle' || x.outcome === 'unregistered' ? x.outcome : 'missed' };
      } else {
        const at = (k === KIND.patch ? patches : releases)[req]![0];
        out[at] = { row: rowOf(x), deps: json<string[]>(x.deps, []), unblocked: json<string[]>(x.unblocked, []) };
      }
    }
    return out;
  }
}

/**
 * The statement runs releases, then PATCHes, then claims. Two calls about one task in one batch (a PATCH
 * resent while its release is in flight) must still land in the order they came: the batch is cut before
 * the second, and the parts run one after another. Pure.
 */
export function inArrivalOrder<R extends { kind: string; req: unknown }>(reqs: readonly R[]): R[][] {
  const parts: R[][] = [];
  let part: R[] = [];
  let tasks = new Set<string>();
  for (const r of reqs) {
    const task = r.kind === 'claim' ? null : (r.req as { ref: LeaseRef }).ref.taskId;
    if (task !== null && tasks.has(task)) {
      parts.push(part);
      part = [];
      tasks = new Set();
    }
    part.push(r);
    if (task !== null) tasks.add(task);
  }
  if (part.length > 0) parts.push(part);
  return parts;
}

/**
 * Whether queued requests may run in a second lane beside a running batch: only with a PATCH or a
 * release among them (claims keep one lane, see the header), and none about a task of a running batch
 * (calls about one task keep their order: they wait for that batch). Pure.
 */
export function secondLane<R extends { kind: string; req: unknown }>(queued: readonly R[], inFlight: { has(taskId: string): boolean }): boolean {
  let fenced = false;
  for (const r of queued) {
    if (r.kind === 'claim') continue;
    if (inFlight.has((r.req as { ref: LeaseRef }).ref.taskId)) return false;
    fenced = true;
  }
  return fenced;
}

function unwrap(o: Outcome): Answer {
  if (!o.ok) throw o.error;
  return o.value;
}
