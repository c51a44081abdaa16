// Activity decider: what the agent is doing (from its protocol, hooks or transcript) in; the
// activity axis and the working/idle/waiting half of the session axis out. Rules 2, 3, 4, 5.
import type { Observation } from '../observation.js';
import type { ActivityAxis, ActivityState, SessionPatch, SessionRecord } from '../session.js';
import { isTerminal } from '../session.js';
import { ignore, patch, type Decision } from './decision.js';

/** The session axis an activity implies. */
export function sessionStateFromActivity(a: Pick<ActivityAxis, 'state'>): Pick<SessionPatch, 'state' | 'reason'> {
  switch (a.state) {
    case 'waiting_input':
      return { state: 'needs_input', reason: 'question' };
    case 'blocked':
      return { state: 'needs_input', reason: 'permission' };
    default:
      return { state: 'working', reason: null };
  }
}

export function decideActivity(rec: SessionRecord, o: Observation<ActivityState>): Decision {
  if (o.launchGeneration !== rec.launchGeneration) return ignore(o.launchGeneration < rec.launchGeneration ? 'stale_generation' : 'unknown_generation');
  if (isTerminal(rec.state)) return ignore('terminal');
  // Only valid evidence is authoritative; stale or unavailable signals never move the session.
  if (o.confidence !== 'valid' || o.value === 'unknown') return ignore('not_authoritative');
  if (rec.activity.at !== null && o.at < rec.activity.at) return ignore('out_of_order');

  const sameState = rec.activity.state === o.value && rec.activity.confidence === 'valid';
  const activity: ActivityAxis = {
    state: o.value,
    confidence: o.confidence,
    source: sameState ? rec.activity.source : o.source,
    // A repeat of the current state keeps the axis as is: no write per tool call, and "since" holds.
    at: sameState ? rec.activity.at : o.at,
    since: sameState ? rec.activity.since : o.at,
  };
  const base: SessionPatch = { activity, detecting: null };
  // An agent that asked a question and then ended its turn is still waiting for the answer: only
  // its next turn (or a person) closes the question. A closed permission prompt does end it.
  if (rec.state === 'needs_input' && rec.reason === 'question' && o.value === 'idle') return patch(base, 'question_open');
  // Idle does not end an idle-stuck session: that is exactly what made it stuck.
  if (rec.state === 'stuck' && rec.reason === 'idle_timeout' && o.value === 'idle') return patch(base, 'still_idle');
  // Rule 4: valid activity is proof of life, so it resolves detecting (and liveness-stuck).
  return patch({ ...base, ...sessionStateFromActivity({ state: o.value }) }, rec.state === 'detecting' ? 'resolves_detecting' : 'activity');
}
