// PostgreSQL: fenced PATCHes and releases that arrive together are served by one call of
// gantry_patch() / gantry_release() (migration 011) — one round trip and one commit for the batch, as
// gantry_claim() serves claims. Each request runs the same fenced UPDATE a lone call would, with its
// event, in task-id order; a request whose fence matches nothing comes back undefined and the caller
// explains it (stale epoch, or a replayed release).
import type { NewEvent } from '../domain/events.js';
import type { Stage } from '../domain/task.js';
import type { LeaseRef, ReleaseOutcome } from '../ports/fleet.js';
import type { Row } from '../ports/sql.js';
import { Batcher } from '../lib/batcher.js';
import { json } from './rows.js';
import type { ClaimStore } from './fleet-claim.js';

export interface FencedRow {
  row: Row;
  deps: string[];
  /** Dependents a `done` release put back in the queue. */
  unblocked: string[];
}

interface PatchReq {
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

type Outcome = { ok: true; value: FencedRow | undefined } | { ok: false; error: unknown };

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

type OutRow = { req: number; task: string; deps: string; unblocked?: string };

export class FencedPg {
  private readonly patches: Batcher<PatchReq, Outcome>;
  private readonly releases: Batcher<ReleaseReq, Outcome>;

  constructor(private readonly store: ClaimStore) {
    // Two lanes each: one batch runs on the server while the next one fills.
    this.patches = new Batcher((reqs) => this.serve(reqs, (b) => this.patchOnce(b)), 2, 32);
    this.releases = new Batcher((reqs) => this.serve(reqs, (b) => this.releaseOnce(b)), 2, 32);
  }

  async patch(req: PatchReq): Promise<FencedRow | undefined> {
    return unwrap(await this.patches.run(req));
  }

  async release(req: ReleaseReq): Promise<FencedRow | undefined> {
    return unwrap(await this.releases.run(req));
  }

  /**
   * One call for the batch. A statement error the server reported committed nothing: each request is
   * then retried alone (once more if transient again), so one request's trouble does not fail the others.
   * A lost connection (did it commit?) is every request's answer, as for a lone call (`afterBatchError`).
   */
  private async serve<T>(reqs: T[], once: (batch: T[]) => Promise<Array<FencedRow | undefined>>): Promise<Outcome[]> {
    try {
      return (await once(reqs)).map((value) => ({ ok: true, value }));
    } catch (error) {
      if (reqs.length === 1 && !transient(error)) return [{ ok: false, error }];
      if (afterBatchError(error) === 'all-fail') return reqs.map(() => ({ ok: false, error }));
    }
    const out: Outcome[] = [];
    for (const r of reqs) {
      try {
        const [value] = await once([r]).catch((e: unknown) => (transient(e) ? once([r]) : Promise.reject(e)));
        out.push({ ok: true, value });
      } catch (error) {
        out.push({ ok: false, error });
      }
    }
    return out;
  }

  private async patchOnce(reqs: PatchReq[]): Promise<Array<FencedRow | undefined>> {
    const rows = await this.store.writeWithEventRows<OutRow>(
      'SELECT req, task, deps FROM gantry_patch(?, ?, ?, ?, ?, ?)',
      [
        reqs.map((r) => r.ref.taskId),
        reqs.map((r) => r.ref.epoch),
        reqs.map((r) => r.ref.factoryId),
        reqs.map((r) => r.stage),
        reqs.map((r) => r.checkpoint),
        reqs.map((r) => r.payload),
      ],
      (rs) => rs.map((x) => ({ type: 'task.stage_changed', taskId: reqs[Number(x.req)]!.ref.taskId, payload: { stage: reqs[Number(x.req)]!.stage } })),
    );
    return byRequest(reqs.length, rows);
  }

  private async releaseOnce(reqs: ReleaseReq[]): Promise<Array<FencedRow | undefined>> {
    const parsed = new Map<OutRow, Row>();
    const rows = await this.store.writeWithEventRows<OutRow>(
      'SELECT req, task, deps, unblocked FROM gantry_release(?, ?, ?, ?, ?, ?, ?, ?)',
      [
        reqs.map((r) => r.ref.taskId),
        reqs.map((r) => r.ref.epoch),
        reqs.map((r) => r.ref.factoryId),
        reqs.map((r) => r.outcome),
        reqs.map((r) => r.checkpoint),
        reqs.map((r) => r.failure?.kind ?? null),
        reqs.map((r) => r.failure?.message ?? null),
        reqs.map((r) => r.report),
      ],
      (rs) =>
        rs.flatMap((x): NewEvent[] => {
          const r = reqs[Number(x.req)]!;
          const row = JSON.parse(x.task) as Row;
          parsed.set(x, row);
          const stage = String(row.stage);
          return [
            { type: 'lease.released', taskId: r.ref.taskId, payload: { outcome: r.outcome, stage } },
            ...json<string[]>(x.unblocked, []).map((id) => ({ type: 'task.unblocked', taskId: id, payload: { stage: 'queued', after: r.ref.taskId } })),
          ];
        }),
    );
    return byRequest(reqs.length, rows, parsed);
  }
}

function byRequest(n: number, rows: OutRow[], parsed?: Map<OutRow, Row>): Array<FencedRow | undefined> {
  const out: Array<FencedRow | undefined> = new Array(n).fill(undefined);
  for (const x of rows) {
    out[Number(x.req)] = { row: parsed?.get(x) ?? (JSON.parse(x.task) as Row), deps: json<string[]>(x.deps, []), unblocked: json<string[]>(x.unblocked, []) };
  }
  return out;
}

function unwrap(o: Outcome): FencedRow | undefined {
  if (!o.ok) throw o.error;
  return o.value;
}
