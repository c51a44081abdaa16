// How long a finished task's worktree stays on its factory (gantry.yaml `workspace.retain`). It is
// always checkpointed before removal, so removing loses nothing: the checkpoint refs keep every
// state, and a retry provisions again from the latest one. Failed work is kept a while to inspect.
import type { Stage } from './task.js';

export type Ending = 'shipped' | 'failed' | 'cancelled';

/** Milliseconds to keep a worktree after its task ended that way (0 = remove at once). */
export type RetainPolicy = Readonly<Record<Ending, number>>;

export const DAY_MS = 86_400_000;
export const DEFAULT_RETAIN: RetainPolicy = { shipped: 0, failed: 7 * DAY_MS, cancelled: 0 };

/** A dead-lettered task failed for good; every other non-terminal stage has not ended. */
export function endingOf(stage: Stage): Ending | null {
  switch (stage) {
    case 'shipped':
      return 'shipped';
    case 'failed':
    case 'dead_letter':
      return 'failed';
    case 'cancelled':
      return 'cancelled';
    default:
      return null;
  }
}

export type RetentionDecision = { action: 'keep'; until: number | null } | { action: 'remove'; ending: Ending };

export function decideRetention(f: { stage: Stage; endedAt: number; now: number; policy: RetainPolicy }): RetentionDecision {
  const ending = endingOf(f.stage);
  if (ending === null) return { action: 'keep', until: null };
  const until = f.endedAt + f.policy[ending];
  return f.now >= until ? { action: 'remove', ending } : { action: 'keep', until };
}
