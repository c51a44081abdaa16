// When `gantry wait` stops, and with which exit code. Pure: a task in, a decision out.
import type { Task } from '../domain/task.js';

export type WaitUntil = 'done' | 'shipped' | 'started';

export type WaitOutcome =
  | { stop: false }
  | { stop: true; code: 0 | 1 | 3; why: 'shipped' | 'failed' | 'cancelled' | 'needs_you' | 'started' };

/** Exit codes: 0 reached the goal, 1 failed/cancelled, 3 waits for a person (see `gantry wait --help`). */
export function waitOutcome(t: Pick<Task, 'stage' | 'blockedReason' | 'quarantined'>, until: WaitUntil): WaitOutcome {
  if (t.stage === 'shipped') return { stop: true, code: 0, why: 'shipped' };
  if (t.stage === 'failed' || t.stage === 'dead_letter') return { stop: true, code: 1, why: 'failed' };
  if (t.stage === 'cancelled') return { stop: true, code: 1, why: 'cancelled' };
  if (until === 'started' && ['assigned', 'building', 'review', 'testing'].includes(t.stage)) return { stop: true, code: 0, why: 'started' };
  if (until !== 'shipped' && t.stage === 'blocked' && (t.blockedReason === 'awaiting_human' || t.blockedReason === 'budget')) {
    return { stop: true, code: 3, why: 'needs_you' };
  }
  return { stop: false };
}
