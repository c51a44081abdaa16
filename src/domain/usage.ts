// Usage and cost per step, run, task and project, summed from the `session.finished` events the
// engine commits for every agent turn it consumes (every attempt, round and resume, not only the
// last output). Null-safe: a cost no turn reported (nor the price table could compute) stays
// unknown — `costKnown: false` — and is never counted as $0. Pure: no I/O, table-tested.
import type { GantryEvent } from './events.js';

export interface Usage {
  /** Agent turns counted. */
  turns: number;
  tokensIn: number;
  tokensOut: number;
  /** Cached input tokens (part of tokensIn). */
  tokensCached: number;
  /** The sum of the known costs; null when no counted turn had a known cost. */
  costUsd: number | null;
  /** True when every counted turn's cost is known (so costUsd is the whole cost, not a lower bound). */
  costKnown: boolean;
}

export const NO_USAGE: Usage = Object.freeze({ turns: 0, tokensIn: 0, tokensOut: 0, tokensCached: 0, costUsd: null, costKnown: true });

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0);

/**
 * One turn's usage from a `session.finished` payload. Payloads written before usage was split
 * carry only `tokens` (counted as input) and a `costUsd` that was 0 when unknown: a 0 there is unknown.
 */
export function turnUsage(payload: Record<string, unknown>): Usage {
  const split = typeof payload.tokensIn === 'number' || typeof payload.tokensOut === 'number';
  const tokensIn = split ? num(payload.tokensIn) : num(payload.tokens);
  const tokensOut = split ? num(payload.tokensOut) : 0;
  const cost = typeof payload.costUsd === 'number' && Number.isFinite(payload.costUsd) ? payload.costUsd : null;
  const costKnown = cost !== null && (typeof payload.costKnown === 'boolean' ? payload.costKnown : cost > 0);
  return { turns: 1, tokensIn, tokensOut, tokensCached: Math.min(num(payload.tokensCached), tokensIn), costUsd: costKnown ? cost : null, costKnown };
}

const round = (usd: number): number => Math.round(usd * 1e8) / 1e8;

/** The sum of usages: tokens add up; a known cost adds, an unknown one makes the sum a lower bound. */
export function addUsage(a: Usage, b: Usage): Usage {
  const costUsd = a.costUsd === null && b.costUsd === null ? null : round((a.costUsd ?? 0) + (b.costUsd ?? 0));
  return {
    turns: a.turns + b.turns,
    tokensIn: a.tokensIn + b.tokensIn,
    tokensOut: a.tokensOut + b.tokensOut,
    tokensCached: a.tokensCached + b.tokensCached,
    costUsd,
    costKnown: a.costKnown && b.costKnown,
  };
}

export const sumUsage = (us: Iterable<Usage>): Usage => {
  let total = NO_USAGE;
  for (const u of us) total = addUsage(total, u);
  return total;
};

export interface UsageReport {
  total: Usage;
  /** runId → its total and its steps (by step id). */
  runs: Record<string, { total: Usage; steps: Record<string, Usage> }>;
}

/** Usage of a set of events (a task's, or a project's): other event types are ignored. */
export function usageOf(events: Iterable<Pick<GantryEvent, 'type' | 'runId' | 'payload'>>): UsageReport {
  const report: UsageReport = { total: NO_USAGE, runs: {} };
  for (const e of events) {
    if (e.type !== 'session.finished') continue;
    const u = turnUsage(e.payload ?? {});
    report.total = addUsage(report.total, u);
    if (!e.runId) continue;
    const run = (report.runs[e.runId] ??= { total: NO_USAGE, steps: {} });
    run.total = addUsage(run.total, u);
    const step = typeof e.payload?.step === 'string' ? e.payload.step : '?';
    run.steps[step] = addUsage(run.steps[step] ?? NO_USAGE, u);
  }
  return report;
}

/** "12.3k tokens · $0.0421" — a cost that is partly unknown reads "≥ $x", a wholly unknown one "cost unknown". */
export function formatUsage(u: Usage): string {
  if (u.turns === 0) return '';
  const tokens = u.tokensIn + u.tokensOut;
  const t = tokens >= 10_000 ? `${(tokens / 1000).toFixed(1)}k` : String(tokens);
  const cost = u.costUsd === null ? 'cost unknown' : `${u.costKnown ? '' : '≥ '}$${u.costUsd.toFixed(4)}`;
  return `${t} tokens · ${cost}`;
}
