// SCM observations → the change axis. The merge, checks and conflicts steps (and, later, a forge
// adapter's PR states and reviews) report what they saw about a task's change as one observation;
// this decider turns it into the lifecycle's change fact. Pure and table-tested.
import type { ChangeFact } from './change.js';

export interface ScmObservation {
  /** The change as the SCM sees it: local git has no PR, so an unmerged branch is `open`. */
  state: 'open' | 'merged' | 'closed';
  /** Checks (local or CI) on the change's head, when this observation ran them. */
  checks?: 'passing' | 'failing';
  /** Whether the head merges cleanly into base, when this observation tested it. */
  conflict?: boolean;
  /** A forge review verdict (forge adapters). */
  review?: 'approved' | 'changes_requested';
  headSha?: string | null;
  /** Failing check output, review comments or conflict evidence. */
  detail?: string | null;
  /** The pipeline repairs this itself (a fixer, a resolver, or its own failure notification). */
  handledBy?: 'pipeline';
}

export function changeFactOf(o: ScmObservation): ChangeFact {
  const base = {
    headSha: o.headSha ?? null,
    detail: o.detail ?? null,
    ...(o.conflict !== undefined ? { conflict: o.conflict } : {}),
    ...(o.handledBy ? { handledBy: o.handledBy } : {}),
  };
  if (o.state !== 'open') return { ...base, state: o.state };
  if (o.checks === 'failing') return { ...base, state: 'checks_failing' };
  if (o.review === 'changes_requested') return { ...base, state: 'changes_requested' };
  if (o.conflict === false) return { ...base, state: 'mergeable' };
  if (o.review === 'approved') return { ...base, state: 'approved' };
  return { ...base, state: 'open' };
}
