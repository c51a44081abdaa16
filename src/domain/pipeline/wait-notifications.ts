// A run's notifications live exactly as long as the wait that raised them: one notification per
// wait, resolved in the same commit that ends the wait — so nobody is paged for a settled decision.
import type { RunState } from './types.js';

/** park: a person must answer (`awaiting_<kind>`); budget: over budget; failure: the run failed (checks/conflicts exhausted, a script). */
export type WaitClass = 'park' | 'budget' | 'failure';
export const WAIT_CLASSES: readonly WaitClass[] = ['park', 'budget', 'failure'];

export const waitClassOf = (kind: string): WaitClass => (kind.startsWith('awaiting_') ? 'park' : kind === 'budget' ? 'budget' : 'failure');

export type RunTransition =
  /** A person answered a parked run (resume, rework, reject); `hold` keeps it waiting. */
  | { type: 'answered'; hold: boolean }
  /** A budget reservation succeeded: the step launches. */
  | { type: 'launched' }
  /** The run finished, or a person cancelled it. */
  | { type: 'ended'; state: RunState }
  /** Retry/restart: a new run replaces this one. */
  | { type: 'superseded' }
  /** A paused run is put back in the queue (retry, or the budget sweep): it waits until a launch succeeds. */
  | { type: 'resumed' };

/** Which of a run's open waits a transition ends. */
export function endedWaits(t: RunTransition): WaitClass[] {
  switch (t.type) {
    case 'answered':
      return t.hold ? [] : ['park'];
    case 'launched':
      return ['budget'];
    case 'ended':
      // A failed run keeps its failure notification until a person retries, restarts or cancels it.
      return t.state === 'failed' ? ['park', 'budget'] : [...WAIT_CLASSES];
    case 'superseded':
      return [...WAIT_CLASSES];
    case 'resumed':
      return [];
  }
}
