// `pr-review`: the forge's pull request reviews as a gate. Approvals (`approvals:`, default 1) pass it;
// CHANGES_REQUESTED on the current head, with its line comments as path:line, sends the producer back
// with that feedback (a `changes` request, like a person's); a request on an earlier head waits for the
// reviewer to look again. No verdict within `timeout` seconds parks it as an approval a person answers.
import { BUILTIN_KINDS } from '../../domain/pipeline/kinds.js';
import { producerOf } from '../../domain/pipeline/validate.js';
import type { ReviewWaitResult } from '../../ports/engine.js';
import type { StepContext, StepKind, Transition } from '../step-kind.js';
import { pullObserver } from './common.js';

const DEFAULT_WAIT_S = 3600;

async function advance(ctx: StepContext): Promise<Transition> {
  const ks = ctx.step.kindState;
  const producerIdx = producerOf(ctx.pipeline.steps, ctx.step.idx, ctx.kinds);
  if (producerIdx === null) return { type: 'fail', failure: { kind: 'unknown', message: `step ${ctx.def.id}: nothing to review` } };
  const answer = ks.answer as { action: string } | undefined;
  if (answer?.action === 'approve') return { type: 'done', output: { approvedBy: 'person', pull: ks.pull ?? null }, kindState: { ...ks, answer: undefined } };
  if (ks.unsupported) return { type: 'fail', failure: { kind: 'unknown', message: `step ${ctx.def.id}: pr-review needs a forge SCM adapter (scm.adapter: github); this project's adapter has no reviews` }, kindState: ks };
  const r = ks.result as ReviewWaitResult | undefined;
  if (!r) {
    return {
      type: 'work',
      work: async () => {
        const ws = await ctx.workspace.prepare(ctx.task.id);
        if (!ctx.scm.awaitReview) return { ...ks, unsupported: true };
        const result = await ctx.scm.awaitReview({
          workspace: ws.path, taskId: ctx.task.id, branch: ws.branch, base: ctx.project.defaultBranch, title: ctx.task.title, body: ctx.task.body,
          approvals: ctx.def.approvals ?? 1, onPull: pullObserver(ctx), everyMs: (ctx.def.pollSeconds ?? 15) * 1000, timeoutMs: (ctx.def.timeout ?? DEFAULT_WAIT_S) * 1000, signal: ctx.signal,
        });
        // The change axis heard the verdict from the wait's own looks (CI, mergeability and reviews together).
        return { ...ks, result, pull: result.pull };
      },
    };
  }
  const rounds = Number(ks.rounds ?? 0);
  switch (r.type) {
    case 'pass':
      return { type: 'done', output: { approvals: r.approvals, pull: r.pull, headSha: r.headSha }, kindState: ks };
    case 'rework':
      return { type: 'rework', producerIdx, feedback: `## Changes requested on pull request #${String(r.pull)}\n${r.feedback}`, kindState: { ...ks, result: undefined, rounds: rounds + 1 } };
    case 'timeout':
      return {
        type: 'park',
        waiting: { kind: 'approval', question: `No review verdict on pull request #${String(r.pull)} yet (${r.reason}). Approve here to go on, request changes, or reject?`, options: ['approve', 'changes', 'reject'] },
        kindState: { ...ks, result: undefined },
      };
  }
  return { type: 'fail', failure: { kind: 'unknown', message: `step ${ctx.def.id}: unknown review result` }, kindState: { ...ks, result: undefined } };
}

export const prReviewKind: StepKind = { spec: BUILTIN_KINDS.find((k) => k.kind === 'pr-review')!, advance };
