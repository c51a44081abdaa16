// `approval`: a standalone human gate on the nearest earlier producer's output.
// approve → done; request changes → the producer re-runs with the feedback; reject → the run fails.
// (changes and reject are applied by the human-action service; this kind parks and resumes.)
import { BUILTIN_KINDS } from '../../domain/pipeline/kinds.js';
import { producerOf } from '../../domain/pipeline/validate.js';
import type { StepContext, StepKind, Transition } from '../step-kind.js';

async function advance(ctx: StepContext): Promise<Transition> {
  const ks = ctx.step.kindState;
  const answer = ks.answer as { action: string } | undefined;
  const p = producerOf(ctx.pipeline.steps, ctx.step.idx, ctx.kinds);
  const producer = p === null ? undefined : ctx.steps[p];
  if (answer?.action === 'approve') return { type: 'done', output: { approved: true, of: producer?.stepId ?? null }, kindState: { ...ks, answer: undefined } };
  return {
    type: 'park',
    waiting: { kind: 'approval', question: `Approve the output of step "${producer?.stepId ?? '?'}"?`, options: ['approve', 'changes', 'reject'], detail: { output: producer?.output ?? null } },
    kindState: ks,
  };
}

export const approvalKind: StepKind = { spec: BUILTIN_KINDS.find((k) => k.kind === 'approval')!, advance };
