// What a person can do about a parked run, per kind of wait, with the words the dashboard uses.
// Mirrors the engine's accept table (a run refuses anything else with a 409 and the reason).
import type { RunAction, RunView, Waiting, WaitingKind } from '../api/types.js';

export interface ActionChoice {
  action: RunAction;
  label: string;
  explain: string;
  danger?: boolean;
  /** The text the action sends: required feedback/reply, an optional reason, or a fixed option. */
  text?: { kind: 'required' | 'optional'; label: string; multiline?: boolean } | { kind: 'fixed'; value: string };
}

export const WAIT_TITLE: Record<WaitingKind, string> = {
  approval: 'waits for your approval',
  decision: 'asks you a question',
  needs_input: 'needs your input',
  review_cap: 'reached its review cap',
  merge_review: 'waits for a merge review',
};

export function choicesFor(kind: WaitingKind, options: readonly string[]): ActionChoice[] {
  const reject: ActionChoice = { action: 'reject', label: 'Reject', danger: true, explain: 'The run fails as rejected. You can retry it later.', text: { kind: 'optional', label: 'Reason' } };
  switch (kind) {
    case 'approval':
      return [
        {
          action: 'approve',
          label: 'Approve',
          explain: 'The pipeline continues with the next step. Edit the proposal first to approve your version: later steps work from it.',
          text: { kind: 'optional', label: 'The proposal (edit it to approve with changes)', multiline: true },
        },
        { action: 'changes', label: 'Request changes', explain: 'The step that produced this output runs again with your feedback.', text: { kind: 'required', label: 'Feedback for the agent', multiline: true } },
        reject,
      ];
    case 'decision':
      return [
        ...(options.length
          ? options.map((o): ActionChoice => ({ action: 'answer', label: o, explain: `The agent continues with “${o}”.`, text: { kind: 'fixed', value: o } }))
          : [{ action: 'answer', label: 'Answer', explain: 'The agent continues with your answer.', text: { kind: 'required', label: 'Your answer', multiline: true } } satisfies ActionChoice]),
        reject,
      ];
    case 'needs_input':
      return [{ action: 'reply', label: 'Reply', explain: 'Your reply is sent to the agent and the run resumes.', text: { kind: 'required', label: 'Reply', multiline: true } }, reject];
    case 'review_cap':
      return [
        { action: 'more_round', label: 'One more round', explain: 'The producer runs once more with the reviewer’s findings.', text: { kind: 'optional', label: 'A note for the producer (optional)', multiline: true } },
        { action: 'proceed', label: 'Proceed', explain: 'Accept the work as it is and continue the pipeline.' },
        { action: 'stop', label: 'Stop and reset', danger: true, explain: 'The run fails and the producer’s work is reset.' },
      ];
    case 'merge_review':
      return [
        { action: 'merge', label: 'Merge', explain: 'The change is merged into the base branch (with the expected head SHA).' },
        { action: 'hold', label: 'Hold', explain: 'Nothing happens; the run keeps waiting.' },
        reject,
      ];
  }
}

/** The text of the output an approval waits on, to edit before approving (null when there is none). */
export function proposalOf(w: Pick<Waiting, 'kind' | 'detail'> | null): string | null {
  if (w?.kind !== 'approval') return null;
  const text = (w.detail?.output as { text?: unknown } | null | undefined)?.text;
  return typeof text === 'string' && text !== '' ? text : null;
}

/** Run-level controls available in a run's state. */
export function runControls(run: RunView | null): Array<'retry' | 'restart' | 'cancel'> {
  if (!run) return [];
  const out: Array<'retry' | 'restart' | 'cancel'> = [];
  if (run.state === 'failed' || run.state === 'cancelled') out.push('retry');
  if (run.steps.length > 0) out.push('restart');
  if (run.state === 'running' || run.state === 'parked' || run.state === 'paused') out.push('cancel');
  return out;
}

/** How long a step has taken (finished) or has been taking (still working), in ms. */
export function stepDuration(s: { startedAt: number | null; finishedAt: number | null }, now: number): number | null {
  if (s.startedAt === null) return null;
  return (s.finishedAt ?? now) - s.startedAt;
}
