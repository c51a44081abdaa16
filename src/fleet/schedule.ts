// The scheduler's decision, pure: which queued tasks a factory may take, and in what order.
// Hard filters first (capabilities, budget), then a weighted score. Dependencies are already
// encoded in the stage (a task with unshipped dependencies is `blocked`, not `queued`) and are
// re-checked by the claim statement itself.
import type { Candidate } from '../ports/fleet.js';

export interface ScheduleWeights {
  /** Per minute waited since the task was queued (a task taken back from a dead factory keeps its place). */
  age: number;
  /** Per priority point (higher priority = more urgent). */
  priority: number;
  /**
   * When a factory worked on the task before: work in progress finishes before new work starts, so a
   * crash costs the task seconds, not a wait behind the whole backlog.
   */
  started: number;
  /** Per prior attempt: among tasks in progress, the one that lost fewer factories goes first. */
  attempts: number;
  /** Per required capability the factory matches (specialised work goes to specialised factories). */
  capabilities: number;
  /** When the factory holds the task's workspace (it parked or abandoned it there). */
  affinity: number;
}

export const DEFAULT_WEIGHTS: Readonly<ScheduleWeights> = Object.freeze({
  age: 1,
  priority: 10,
  started: 60,
  attempts: -2,
  capabilities: 5,
  affinity: 20,
});

export interface ScheduleFacts {
  now: number;
  factoryId: string;
  capabilities: ReadonlySet<string>;
  /** Projects whose budget is exhausted: their tasks wait. */
  exhaustedProjects: ReadonlySet<string>;
}

export function eligible(c: Candidate, f: ScheduleFacts): boolean {
  if (f.exhaustedProjects.has(c.projectId)) return false;
  return c.capabilities.every((cap) => f.capabilities.has(cap));
}

export function score(c: Candidate, f: ScheduleFacts, w: ScheduleWeights = DEFAULT_WEIGHTS): number {
  const ageMin = Math.max(0, f.now - c.queuedAt) / 60_000;
  return (
    w.age * ageMin +
    w.priority * c.priority +
    (c.started ? w.started : 0) +
    w.attempts * c.attempts +
    w.capabilities * c.capabilities.length +
    (c.affinityFactoryId !== null && c.affinityFactoryId === f.factoryId ? w.affinity : 0)
  );
}

/** Eligible candidate ids, best first; ties go to the longest-waiting task, then the smaller id. */
export function rank(candidates: readonly Candidate[], f: ScheduleFacts, w: ScheduleWeights = DEFAULT_WEIGHTS): string[] {
  return candidates
    .filter((c) => eligible(c, f))
    .map((c) => ({ c, s: score(c, f, w) }))
    .sort((a, b) => b.s - a.s || a.c.queuedAt - b.c.queuedAt || (a.c.id < b.c.id ? -1 : a.c.id > b.c.id ? 1 : 0))
    .map((x) => x.c.id);
}

/** Merges a partial override onto defaults, rejecting non-finite numbers. */
export function weights(over: Partial<Record<keyof ScheduleWeights, unknown>> = {}): ScheduleWeights {
  const out: ScheduleWeights = { ...DEFAULT_WEIGHTS };
  for (const k of Object.keys(DEFAULT_WEIGHTS) as Array<keyof ScheduleWeights>) {
    const v = over[k];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new RangeError(`scheduler weight ${k} must be a finite number`);
    out[k] = v;
  }
  return out;
}
