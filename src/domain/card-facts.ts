// What a board card shows beyond the task row: the current step and its attempt, elapsed time, the
// lines the task changed, its cost, the merge commit or PR link, and why a queued task waits.
// Pure: the API gathers the rows in a few batched queries (src/api/routes/ui-cards.ts) and this
// shapes them; table-tested in test/web/card-facts.test.ts.
import { addUsage, NO_USAGE, turnUsage, type Usage } from './usage.js';

export interface CardFacts {
  /** The current run's step (id and kind), null when no run or the run ended. */
  step: { id: string; kind: string; attempt: number; state: string } | null;
  runState: string | null;
  /** When the current run started and (if it has) finished: the card's elapsed time. */
  startedAt: number | null;
  finishedAt: number | null;
  /** Lines added and removed over the task's checkpoints (null: no checkpoint yet). */
  lines: { added: number; removed: number } | null;
  /** Every agent turn of every run of the task. */
  usage: Usage;
  mergeSha: string | null;
  /** A change's web address (a pull request), when a step reported one. */
  prUrl: string | null;
  /** Why no factory can take a queued task (null: one can, or not queued). */
  waiting: { kind: string; message: string } | null;
}

export interface RunRow {
  taskId: string;
  state: string;
  currentStep: number;
  startedAt: number | null;
  finishedAt: number | null;
}

export interface StepRow {
  idx: number;
  stepId: string;
  kind: string;
  state: string;
  attempts: number;
  /** Only merge and PR-like steps' outputs are read (a checks step's output holds its logs' tails). */
  output: Record<string, unknown> | null;
}

export interface CardInputs {
  run: RunRow | null;
  steps: readonly StepRow[];
  lines: { added: number; removed: number } | null;
  /** `session.finished` payloads of the task. */
  turns: readonly Record<string, unknown>[];
  waiting: { kind: string; message: string } | null;
}

const ENDED = new Set(['done', 'failed', 'cancelled']);

const httpUrl = (v: unknown): string | null => (typeof v === 'string' && /^https?:\/\/\S+$/.test(v) ? v : null);

export function cardFacts(i: CardInputs): CardFacts {
  const run = i.run;
  const cur = run && !ENDED.has(run.state) ? i.steps.find((s) => s.idx === run.currentStep) : undefined;
  let usage: Usage = NO_USAGE;
  for (const t of i.turns) usage = addUsage(usage, turnUsage(t));
  let mergeSha: string | null = null;
  let prUrl: string | null = null;
  for (const s of i.steps) {
    const o = s.output;
    if (!o) continue;
    if (typeof o.mergedSha === 'string' && /^[0-9a-f]{7,64}$/.test(o.mergedSha)) mergeSha = o.mergedSha;
    prUrl = httpUrl(o.prUrl) ?? httpUrl(o.url) ?? prUrl;
  }
  return {
    step: cur ? { id: cur.stepId, kind: cur.kind, attempt: Math.max(1, cur.attempts), state: cur.state } : null,
    runState: run?.state ?? null,
    startedAt: run?.startedAt ?? null,
    finishedAt: run?.finishedAt ?? null,
    lines: i.lines,
    usage,
    mergeSha,
    prUrl,
    waiting: i.waiting,
  };
}

/** One day's spend (UTC day start, epoch ms). */
export interface SpendDay {
  day: number;
  usage: Usage;
}

const DAY = 86_400_000;

/**
 * Spend over time: `session.finished` turns bucketed by UTC day, oldest first, with the empty days
 * between them filled in (a chart with gaps would read as "no data", not "no spend").
 */
export function spendByDay(turns: Iterable<{ at: number; payload: Record<string, unknown> }>): SpendDay[] {
  const byDay = new Map<number, Usage>();
  for (const t of turns) {
    const day = Math.floor(t.at / DAY) * DAY;
    byDay.set(day, addUsage(byDay.get(day) ?? NO_USAGE, turnUsage(t.payload)));
  }
  if (byDay.size === 0) return [];
  const days = [...byDay.keys()].sort((a, b) => a - b);
  const out: SpendDay[] = [];
  for (let d = days[0]!; d <= days[days.length - 1]!; d += DAY) out.push({ day: d, usage: byDay.get(d) ?? NO_USAGE });
  return out;
}
