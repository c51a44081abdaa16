// Input delivery decider: may the oldest queued input go to the agent now? Inputs go between
// turns, one at a time, and never into a session whose permission prompt is open.
import type { SessionRecord } from '../session.js';
import { isTerminal } from '../session.js';
import type { LifecyclePolicy } from './policy.js';

export type InputState = 'pending' | 'delivered' | 'acknowledged' | 'failed';

export interface QueuedInput {
  id: string;
  state: InputState;
  attempts: number;
  deliveredAt: number | null;
}

export type DeliveryDecision =
  | { kind: 'deliver'; inputId: string }
  | { kind: 'redeliver'; inputId: string }
  | { kind: 'fail'; inputIds: string[]; reason: string }
  | { kind: 'wait'; why: string };

/** `open` = the session's pending and delivered inputs, oldest first. */
export function decideDelivery(
  rec: Pick<SessionRecord, 'state' | 'activity'>,
  open: readonly QueuedInput[],
  now: number,
  policy: LifecyclePolicy,
): DeliveryDecision {
  if (open.length === 0) return { kind: 'wait', why: 'empty' };
  if (isTerminal(rec.state)) return { kind: 'fail', inputIds: open.map((i) => i.id), reason: 'session_ended' };
  const inflight = open.find((i) => i.state === 'delivered');
  if (inflight) {
    if (inflight.deliveredAt === null || now - inflight.deliveredAt < policy.inputAckTimeoutMs) return { kind: 'wait', why: 'awaiting_ack' };
    if (inflight.attempts >= policy.inputMaxAttempts) return { kind: 'fail', inputIds: [inflight.id], reason: 'not_acknowledged' };
    return { kind: 'redeliver', inputId: inflight.id };
  }
  const head = open[0]!;
  if (rec.state === 'not_started') return { kind: 'wait', why: 'spawning' };
  const a = rec.activity;
  if (a.state === 'blocked' && a.confidence === 'valid') return { kind: 'wait', why: 'blocked' };
  if (a.state === 'working' && a.confidence === 'valid' && rec.state === 'working') return { kind: 'wait', why: 'mid_turn' };
  return { kind: 'deliver', inputId: head.id };
}
