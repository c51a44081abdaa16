// Change decider: the state of the session's change (PR/branch) in; the change axis out, and a
// merged or closed change parks the session (rule 6). A failed fetch is never "no change" (rule 1).
import type { Observation } from '../observation.js';
import type { ChangeState, SessionRecord } from '../session.js';
import { isTerminal } from '../session.js';
import { ignore, patch, type Decision } from './decision.js';

export interface ChangeFact {
  state: ChangeState;
  /** The branch no longer merges cleanly into its base. */
  conflict?: boolean;
  headSha?: string | null;
  /** Failing check output or review comments, handed to the agent by reactions. */
  detail?: string | null;
  /** The pipeline repairs this itself (its fixer or resolver is the reaction): reactions record it and send nothing. */
  handledBy?: 'pipeline';
}

export function decideChange(rec: SessionRecord, o: Observation<ChangeFact>): Decision {
  // Change evidence is about the branch, not the process, so launch generations do not apply.
  if (o.confidence !== 'valid') return ignore('fetch_failed');
  const change = o.value.state;
  if (isTerminal(rec.state) || (change !== 'merged' && change !== 'closed')) return patch({ change }, 'change');
  // A merge is a milestone: it parks the session even over an open question from the agent.
  return patch({ change, state: 'done', reason: change === 'merged' ? 'change_merged' : 'change_closed', detecting: null }, 'change_parks');
}
