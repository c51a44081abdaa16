// `review`: a reviewer agent grades the producer's diff and output (score 0–1, findings). Below the
// threshold or any blocker → the producer re-runs with the feedback; at maxRounds → a person decides.
import { BUILTIN_KINDS } from '../../domain/pipeline/kinds.js';
import { STEP_DEFAULTS } from '../../domain/pipeline/builtins.js';
import { normalizeReview, reviewFeedback, reviewVerdict } from '../../domain/pipeline/review-verdict.js';
import type { ReviewResult } from '../../domain/pipeline/types.js';
import { producerOf } from '../../domain/pipeline/validate.js';
import type { StepContext, StepKind, Transition } from '../step-kind.js';
import { agentFailure, agentOf, dispatchOf, driveDispatch, guardAfterAgent, taskBrief, modelOf, timeoutMs } from './common.js';

export const REVIEW_CONVENTION =
  'Grade the change. End your reply with a fenced code block tagged gantry-review containing JSON ' +
  '{"score": <0..1>, "findings": [{"severity": "blocker|major|minor", "message": "...", "file": "..."}], "summary": "..."}.';

async function advance(ctx: StepContext): Promise<Transition> {
  const ks = ctx.step.kindState;
  const producerIdx = producerOf(ctx.pipeline.steps, ctx.step.idx, ctx.kinds);
  if (producerIdx === null) return { type: 'fail', failure: { kind: 'unknown', message: `step ${ctx.def.id}: nothing to review` } };
  const round = Number(ks.round ?? 0);
  const extra = Number(ks.extraRounds ?? 0);
  const maxRounds = (ctx.def.maxRounds ?? STEP_DEFAULTS.maxRounds) + extra;
  const last = ks.last as { result: ReviewResult; reason: string } | undefined;
  const answer = ks.answer as { action: string; text?: string } | undefined;
  if (answer && last) {
    if (answer.action === 'proceed') return { type: 'done', output: { ...last.result, proceededBy: 'person' }, kindState: { ...ks, answer: undefined } };
    if (answer.action === 'more_round') {
      const note = answer.text ? `\n\n## A person adds\n${answer.text}` : '';
      return { type: 'rework', producerIdx, feedback: reviewFeedback(last.result, last.reason) + note, kindState: { ...ks, answer: undefined, extraRounds: extra + 1 } };
    }
  }
  if (ctx.step.state === 'working' && last && round >= maxRounds && !ks.dispatch) {
    return capPark(ctx, ks, last, round, maxRounds);
  }
  const producer = ctx.steps[producerIdx]!;
  const key = `round-${round + 1}`;
  // The diff (and its checkpoint) only before launching: taken after the reviewer ran, it would make
  // the reviewer's own changes the baseline its review-only guard judges against.
  const diff = dispatchOf(ks)?.key === key ? '' : await ctx.workspace.diff(ctx.task.id);
  const spec = {
    key,
    agent: agentOf(ctx),
    role: ctx.def.role ?? 'reviewer',
    attempt: round + 1,
    prompt: `${taskBrief(ctx)}\n\n## Output of ${producer.stepId}\n${String(producer.output?.text ?? '')}\n\n## Diff\n\`\`\`diff\n${diff}\n\`\`\`\n\n${REVIEW_CONVENTION}`,
    timeoutMs: timeoutMs(ctx.def), ...modelOf(ctx.def),
  };
  return driveDispatch(ctx, ks, spec, async (o) => {
    // Reviewers only judge: whatever a reviewer wrote is discarded (or fails the step), whatever its outcome.
    const blocked = await guardAfterAgent(ctx, ks, spec.role, { reviewOnly: true });
    if (blocked) return blocked;
    if (o.status !== 'completed') return agentFailure(ctx, o, ks);
    const result = o.review ? normalizeReview(o.review) : null;
    if (!result) return { type: 'fail', failure: { kind: 'agent', message: `step ${ctx.def.id}: the reviewer reported no score` }, kindState: { ...ks, dispatch: undefined } };
    const r = round + 1;
    const verdict = reviewVerdict(result, ctx.def.threshold ?? STEP_DEFAULTS.threshold, r, maxRounds);
    const history = [...((ks.history as unknown[]) ?? []), { round: r, score: result.score, findings: result.findings.length }];
    const next = { ...ks, dispatch: undefined, round: r, history };
    if (verdict.type === 'pass') return { type: 'done', output: { ...result, rounds: r }, kindState: next };
    const lastNow = { result, reason: verdict.reason };
    if (verdict.type === 'rework') return { type: 'rework', producerIdx, feedback: reviewFeedback(result, verdict.reason), kindState: { ...next, last: lastNow } };
    return capPark(ctx, { ...next, last: lastNow }, lastNow, r, maxRounds);
  });
}

function capPark(ctx: StepContext, ks: Record<string, unknown>, last: { result: ReviewResult; reason: string }, round: number, maxRounds: number): Transition {
  return {
    type: 'park',
    waiting: {
      kind: 'review_cap',
      question: `Review "${ctx.def.id}" is still not passing after ${round} of ${maxRounds} round(s): ${last.reason}. One more round, proceed anyway, or stop and reset?`,
      options: ['more_round', 'proceed', 'stop'],
      detail: { score: last.result.score, findings: last.result.findings, round },
    },
    kindState: { ...ks, last, answer: undefined },
  };
}

export const reviewKind: StepKind = { spec: BUILTIN_KINDS.find((k) => k.kind === 'review')!, advance };
