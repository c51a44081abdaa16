// Where a person's reply to a session goes (`gantry reply SESSION`, `POST /api/sessions/:id/input`).
// The pipeline engine's agents are one-shot: an agent that asks ends its turn, its run parks on the
// question and the lease is released, so no process — local or on a remote factory — is left to take
// input. The reply therefore answers the parked run, on the coordinator: the task is queued again and
// whichever factory claims it (the same one first, by workspace affinity; one that was offline once it
// is back) resumes the agent's conversation with the text, exactly as `gantry answer` does. The run
// holds the answer until a fenced run commit consumes it in the resumed launch, so it is delivered
// once, whatever factory restarts or outages come in between.
import type { Waiting } from '../pipeline/types.js';
import type { HumanActionName } from '../pipeline/human-action.js';

export interface ReplySession {
  id: string;
  runId: string | null;
}

export interface ReplyRun {
  id: string;
  state: string;
  waiting: Waiting | null;
}

export interface ReplyStep {
  /** The session that ran the step's last dispatch, in the lifecycle's id form. */
  sessionId: string | null;
}

export type ReplyTarget =
  /** Answer the run with this action (the wait's kind decides which). */
  | { kind: 'answer'; action: Extract<HumanActionName, 'reply' | 'answer'> }
  /** Not now: the reply stays queued (the agent has not asked yet, or its answer is already on its way). */
  | { kind: 'wait'; why: string }
  /** Never deliverable as it stands; the reason goes to the person. */
  | { kind: 'refuse'; reason: string; hint?: string };

/**
 * `run` is the task's current run and `step` its waiting step (both absent when the task has none).
 * Pure: the caller reads, this decides.
 */
export function decideReplyTarget(session: ReplySession, run: ReplyRun | null, step: ReplyStep | null, input: { text: string; source: string }): ReplyTarget {
  if (!session.runId) return { kind: 'wait', why: 'no_run' };
  // Only a person answers a person's question: a reaction's text (failing checks …) is no answer, and a
  // one-shot engine agent takes nothing else between turns, so it can never be delivered. Refused (the
  // input fails with this reason) rather than held: held, it would block the person's reply behind it.
  // The reaction itself goes on (it escalates to a person once the session has ended).
  if (input.source !== 'human') {
    return { kind: 'refuse', reason: `${input.source}: a message from a reaction cannot reach this agent — the pipeline engine's agent takes only a person's answer to its own question`, hint: 'the pipeline\'s own steps or a person handle it' };
  }
  const text = input.text;
  if (!run || run.id !== session.runId) return { kind: 'wait', why: 'not_current_run' };
  if (run.state !== 'parked' || !run.waiting) return { kind: 'wait', why: 'run_not_waiting' };
  const w = run.waiting;
  if (w.kind !== 'needs_input' && w.kind !== 'decision') return { kind: 'wait', why: `waits_for_${w.kind}` };
  // The wait must be this session's own question: the step parked on what this launch asked. A later
  // launch of the same conversation (resumed with an earlier answer) is another session, so a reply
  // already given to the first launch can never answer the next question too.
  if (step?.sessionId !== session.id) return { kind: 'wait', why: 'another_session_asked' };
  if (w.kind === 'needs_input') return { kind: 'answer', action: 'reply' };
  const choice = text.trim();
  if (w.options.length > 0 && !w.options.includes(choice)) {
    return { kind: 'refuse', reason: `the agent asked to choose one of: ${w.options.join(', ')}; "${choice.slice(0, 80)}" is not one of them`, hint: `reply with one of the options exactly: ${w.options.join(' | ')}` };
  }
  return { kind: 'answer', action: 'answer' };
}
