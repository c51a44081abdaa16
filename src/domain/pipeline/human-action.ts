// What a person's answer does to a parked run — or why it is refused (409 with the reason).
import { readStructuredOutput, OUTPUT_TAG, type OutputSchema } from './structured-output.js';
import type { RunState, Waiting, WaitingKind } from './types.js';

export const HUMAN_ACTIONS = ['approve', 'changes', 'reject', 'answer', 'reply', 'more_round', 'proceed', 'stop', 'merge', 'hold'] as const;
export type HumanActionName = (typeof HUMAN_ACTIONS)[number];

export interface HumanAction {
  action: HumanActionName;
  /** Feedback (changes), the chosen option or free text (answer/reply), a reason (reject). */
  text?: string;
}

/** The answers each kind of wait accepts. */
export const ACCEPTS: Readonly<Record<WaitingKind, readonly HumanActionName[]>> = {
  approval: ['approve', 'changes', 'reject'],
  decision: ['answer', 'reject'],
  needs_input: ['reply', 'reject'],
  review_cap: ['more_round', 'proceed', 'stop'],
  merge_review: ['merge', 'hold', 'reject'],
};

export type HumanEffect =
  /** The waiting step resumes with the answer recorded on it. */
  | { type: 'resume'; answer: HumanAction }
  /** The producer re-runs with this feedback; steps from it onward go back to pending. */
  | { type: 'rework'; feedback: string }
  /** The run fails (first failure wins). */
  | { type: 'fail'; kind: 'rejected'; message: string; resetProducer: boolean }
  /** Nothing changes but a note; the run stays parked. */
  | { type: 'hold' };

export type HumanDecision = { ok: true; effect: HumanEffect } | { ok: false; reason: string };

export function decideHumanAction(run: { state: RunState; waiting: Waiting | null }, a: HumanAction): HumanDecision {
  if (run.state !== 'parked' || !run.waiting) {
    return { ok: false, reason: `the run is ${run.state}, not waiting for a person` };
  }
  const w = run.waiting;
  if (!ACCEPTS[w.kind].includes(a.action)) {
    return { ok: false, reason: `step "${w.stepId}" waits for ${describe(w.kind)} (${ACCEPTS[w.kind].join(' · ')}), not ${a.action}` };
  }
  const text = a.text?.trim() ?? '';
  if (text && TAKES_NO_TEXT.includes(a.action)) {
    // Never accept words that would be silently dropped.
    return { ok: false, reason: `${a.action} takes no text (a note, feedback or an edited proposal goes with approve, changes, reject, answer, reply or more_round)` };
  }
  switch (a.action) {
    case 'changes':
      if (!text) return { ok: false, reason: 'request changes needs feedback for the producer' };
      return { ok: true, effect: { type: 'rework', feedback: text } };
    case 'answer':
      if (!text) return { ok: false, reason: `answer needs one of: ${w.options.join(', ') || '(free text)'}` };
      if (w.options.length > 0 && !w.options.includes(text)) return { ok: false, reason: `"${text}" is not one of the options: ${w.options.join(', ')}` };
      return { ok: true, effect: { type: 'resume', answer: { action: 'answer', text } } };
    case 'reply':
      if (!text) return { ok: false, reason: 'reply needs the text to send to the agent' };
      return { ok: true, effect: { type: 'resume', answer: { action: 'reply', text } } };
    case 'reject':
      return { ok: true, effect: { type: 'fail', kind: 'rejected', message: text ? `rejected at ${w.stepId}: ${text}` : `rejected at ${w.stepId}`, resetProducer: false } };
    case 'stop':
      return { ok: true, effect: { type: 'fail', kind: 'rejected', message: `stopped at the review cap of ${w.stepId}`, resetProducer: true } };
    case 'hold':
      return { ok: true, effect: { type: 'hold' } };
    default:
      return { ok: true, effect: { type: 'resume', answer: { action: a.action, ...(text ? { text } : {}) } } };
  }
}

/** Answers that carry nothing but the choice itself. */
const TAKES_NO_TEXT: readonly HumanActionName[] = ['proceed', 'stop', 'merge', 'hold'];

export type EditResult = { ok: true; output: Record<string, unknown> } | { ok: false; reason: string };

/**
 * Approve with an edited proposal: the approved output becomes the person's text (the agent's is kept
 * as `originalText`). When the step declares an output schema, a `gantry-output` block in the edit
 * replaces the structured fields (validated); without one the agent's fields stand.
 */
export function editedProposal(output: Record<string, unknown> | null, edit: string, schema?: OutputSchema): EditResult {
  const base = output ?? {};
  let fields: Record<string, unknown> = {};
  if (schema && edit.includes('```' + OUTPUT_TAG)) {
    const r = readStructuredOutput(edit, schema);
    if (!r.ok) return { ok: false, reason: `the edited proposal's ${OUTPUT_TAG} block is refused: ${r.message}` };
    fields = r.value;
  }
  return { ok: true, output: { ...base, ...fields, text: edit, edited: true, originalText: typeof base.text === 'string' ? base.text : null } };
}

function describe(k: WaitingKind): string {
  return { approval: 'an approval', decision: 'a decision', needs_input: 'a reply', review_cap: 'a review-cap resolution', merge_review: 'a merge review' }[k];
}
