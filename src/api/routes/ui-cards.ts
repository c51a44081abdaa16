// The board's card facts (current step and attempt, elapsed, ±lines, cost, merge SHA / PR link, why a
// queued task waits) for many tasks in a handful of batched queries — never one query per task — so
// the board payload and the live refresh stay as cheap with 200 cards as with 2.
import { z } from 'zod';
import { cardFacts, type CardFacts, type RunRow, type StepRow } from '../../domain/card-facts.js';
import type { Task } from '../../domain/task.js';
import type { SqlRunner } from '../../ports/sql.js';
import type { Store } from '../../ports/store.js';
import { defineRoute, type Route } from '../route.js';

/** Why queued tasks wait, for many tasks at once (the fleet's serving factories are read once). */
export type WaitingOf = (tasks: readonly Task[]) => Promise<ReadonlyMap<string, { kind: string; message: string }>>;

const CHUNK = 400;

async function inChunks<T extends Record<string, unknown>>(db: SqlRunner, ids: readonly string[], sql: (marks: string) => string): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < ids.length; i += CHUNK) {
    const part = ids.slice(i, i + CHUNK);
    out.push(...(await db.all<T>(sql(part.map(() => '?').join(',')), part)));
  }
  return out;
}

const n = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

const parse = (v: unknown): Record<string, unknown> | null => {
  if (typeof v !== 'string' || !v) return null;
  try {
    const o = JSON.parse(v) as unknown;
    return o && typeof o === 'object' ? (o as Record<string, unknown>) : null;
  } catch {
    return null;
  }
};

export async function loadCardFacts(db: SqlRunner, tasks: readonly Task[], waitingOf?: WaitingOf): Promise<Record<string, CardFacts>> {
  if (tasks.length === 0) return {};
  const taskIds = tasks.map((t) => t.id);
  const runIds = tasks.map((t) => t.currentRunId).filter((r): r is string => !!r);
  const runs = new Map<string, RunRow>();
  for (const r of await inChunks(db, runIds, (m) => `SELECT id, task_id, state, current_step, started_at, finished_at FROM runs WHERE id IN (${m})`)) {
    runs.set(String(r.id), { taskId: String(r.task_id), state: String(r.state), currentStep: Number(r.current_step), startedAt: n(r.started_at), finishedAt: n(r.finished_at) });
  }
  const steps = new Map<string, StepRow[]>();
  // Only merge and script outputs are read: a checks step's output carries its logs' tails.
  const stepSql = (m: string) => `SELECT run_id, idx, step_id, kind, state, attempts, CASE WHEN kind IN ('merge', 'script') THEN output ELSE NULL END AS output FROM steps WHERE run_id IN (${m})`;
  for (const s of await inChunks(db, runIds, stepSql)) {
    const list = steps.get(String(s.run_id)) ?? [];
    list.push({ idx: Number(s.idx), stepId: String(s.step_id), kind: String(s.kind), state: String(s.state), attempts: Number(s.attempts), output: parse(s.output) });
    steps.set(String(s.run_id), list);
  }
  const lines = new Map<string, { added: number; removed: number }>();
  const lineSql = (m: string) => `SELECT task_id, SUM(lines_added) AS a, SUM(lines_removed) AS r FROM checkpoints WHERE task_id IN (${m}) GROUP BY task_id`;
  for (const r of await inChunks(db, taskIds, lineSql)) lines.set(String(r.task_id), { added: Number(r.a ?? 0), removed: Number(r.r ?? 0) });
  const turns = new Map<string, Record<string, unknown>[]>();
  const turnSql = (m: string) => `SELECT task_id, payload FROM events WHERE task_id IN (${m}) AND type = 'session.finished' AND seq IS NOT NULL`;
  for (const r of await inChunks(db, taskIds, turnSql)) {
    const p = parse(r.payload);
    if (p) turns.set(String(r.task_id), [...(turns.get(String(r.task_id)) ?? []), p]);
  }
  const queued = tasks.filter((t) => t.stage === 'queued');
  const waiting = waitingOf && queued.length ? await waitingOf(queued) : new Map<string, { kind: string; message: string }>();
  const out: Record<string, CardFacts> = {};
  for (const t of tasks) {
    const run = t.currentRunId ? (runs.get(t.currentRunId) ?? null) : null;
    out[t.id] = cardFacts({
      run,
      steps: t.currentRunId ? (steps.get(t.currentRunId) ?? []) : [],
      lines: lines.get(t.id) ?? null,
      turns: turns.get(t.id) ?? [],
      waiting: waitingFact(waiting.get(t.id)),
    });
  }
  return out;
}

const waitingFact = (w: { kind: string; message: string } | undefined): { kind: string; message: string } | null => (w ? { kind: w.kind, message: w.message } : null);

/** Up to this many ids per refresh: the dashboard reloads the whole board beyond it. */
export const CARDS_MAX_IDS = 100;

/**
 * `GET /api/ui/cards?ids=a,b`: the dashboard's live refresh — the tasks an event touched and their
 * card facts, in one request (ids not returned no longer exist).
 */
export function cardsRoute(store: Store & { db: SqlRunner }, waitingOf?: WaitingOf): Route {
  return defineRoute({
    method: 'GET',
    path: '/api/ui/cards',
    access: 'read',
    tag: 'ui',
    summary: 'Tasks and their board card facts (current step, attempt, elapsed, lines, cost, merge SHA, why waiting), for the live board',
    query: z
      .object({
        ids: z
          .string()
          .min(1, 'ids: give one or more task ids, comma-separated')
          .transform((s) => [...new Set(s.split(',').map((x) => x.trim()).filter(Boolean))])
          .refine((a) => a.length > 0 && a.length <= CARDS_MAX_IDS, `ids: give 1 to ${CARDS_MAX_IDS} task ids, comma-separated`),
      })
      .strict(),
    handler: async ({ query }) => {
      const tasks = (await Promise.all(query.ids.map((id) => store.tasks.get(id)))).filter((t): t is Task => !!t);
      return { body: { tasks, facts: await loadCardFacts(store.db, tasks, waitingOf) } };
    },
  });
}
