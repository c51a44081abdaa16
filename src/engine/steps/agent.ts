// `agent`: runs an agent session with a role prompt. Ends with output, a question for a person
// (decision or needs-input, resumed with the answer), or — with `approval: true` — a gate on its output.
import type { KindState } from '../../ports/engine.js';
import { BUILTIN_KINDS } from '../../domain/pipeline/kinds.js';
import { decideEmptyTurn } from '../../domain/pipeline/empty-turn.js';
import { lostWorkOf } from '../../domain/pipeline/lost-work.js';
import type { DispatchSpec } from '../dispatch.js';
import type { StepKind, Transition, StepContext } from '../step-kind.js';
import { agentFailure, agentOf, driveDispatch, earlierOutputs, guardAfterAgent, outputPrompt, parkOnQuestion, stepOutput, taskBrief, modelOf, timeoutMs } from './common.js';

function advance(ctx: StepContext): Transition | Promise<Transition> {
  const ks = ctx.step.kindState;
  const answer = ks.answer as { action: string; text?: string } | undefined;
  if (ks.phase === 'approval') {
    // Only approve resumes here; changes and reject are applied by the human-action service.
    if (answer?.action === 'approve') return { type: 'done', output: ks.result as Record<string, unknown>, kindState: { ...ks, answer: undefined, phase: 'approved' } };
    return approvalPark(ctx, ks);
  }
  const asked = ks.asked as { agentSessionId: string | null; question: string } | undefined;
  const role = ctx.def.role ?? 'implementer';
  const base = { agent: agentOf(ctx), role, attempt: ctx.step.attempts, timeoutMs: timeoutMs(ctx.def), ...modelOf(ctx.def) };
  const answerSpec = (n: number, r: { agentSessionId: string | null; question: string; text: string }): DispatchSpec => ({
    ...base,
    key: `answer-${n}`,
    prompt: `A person answered your question ("${r.question}"): ${r.text}\nContinue the task.${outputPrompt(ctx.def)}`,
    ...(r.agentSessionId ? { resumeAgentSessionId: r.agentSessionId } : {}),
  });
  if (asked && answer?.text !== undefined) {
    // Consume the answer exactly once: the resumed dispatch is launched in the same transition.
    const n = Number(ks.answers ?? 0) + 1;
    const resume = { ...asked, text: answer.text };
    return { type: 'launch', kindState: { ...ks, answers: n, answer: undefined, resume }, dispatch: answerSpec(n, resume) };
  }
  const resume = ks.resume as { agentSessionId: string | null; question: string; text: string } | undefined;
  const feedback = typeof ks.feedback === 'string' ? `\n\n## Feedback on your previous attempt\n${ks.feedback}` : '';
  const spec: DispatchSpec = resume
    ? answerSpec(Number(ks.answers ?? 1), resume)
    : { ...base, key: `main-${Number(ks.reworks ?? 0)}`, prompt: `${taskBrief(ctx)}${earlierOutputs(ctx)}${feedback}${outputPrompt(ctx.def)}` };
  return driveDispatch(ctx, ks, spec, async (o) => {
    // The guard judges what the agent wrote whatever its outcome: nothing outside the rules survives a park or a failure.
    const blocked = await guardAfterAgent(ctx, { ...ks, dispatch: undefined, asked: undefined, answer: undefined, resume: undefined }, role);
    if (blocked) return blocked;
    if (o.status === 'needs_input') return parkOnQuestion(o, ks);
    if (o.status !== 'completed') return agentFailure(ctx, o, ks);
    // Never shipped with nothing in it: a prose question parks; an implementer that leaves nothing to ship fails.
    // A workspace resumed from a checkpoint starts where earlier work stopped, not at the base: whether the
    // branch is ahead is then unknown, and a rework that changes nothing goes on.
    const ws = o.committed === false && o.head ? await ctx.workspace.prepare(ctx.task.id).catch((e: unknown) => (lostWorkOf(e) ? Promise.reject(e) : null)) : null;
    const base = ws && !ws.resumed ? ws.baseSha : undefined;
    const empty = decideEmptyTurn({ role, committed: o.committed, branchAhead: base ? o.head !== base : undefined, text: o.text });
    if (empty.type === 'question') return parkOnQuestion({ ...o, question: { question: empty.question, options: [] } }, ks);
    if (empty.type === 'fail') return { type: 'fail', failure: { kind: 'agent', message: `step ${ctx.def.id}: ${empty.message}` }, kindState: { ...ks, dispatch: undefined } };
    const out = stepOutput(ctx, o, ks);
    if (!out.ok) return out.fail;
    const output = out.output;
    const next: KindState = { ...ks, dispatch: undefined, asked: undefined, answer: undefined, resume: undefined };
    if (ctx.def.approval) return approvalPark(ctx, { ...next, phase: 'approval', result: output });
    return { type: 'done', output, kindState: next };
  });
}

function approvalPark(ctx: StepContext, ks: KindState): Transition {
  return {
    type: 'park',
    waiting: { kind: 'approval', question: `Approve the output of step "${ctx.def.id}"?`, options: ['approve', 'changes', 'reject'], detail: { output: ks.result } },
    kindState: ks,
  };
}

export const agentKind: StepKind = {
  spec: BUILTIN_KINDS.find((k) => k.kind === 'agent')!,
  advance: async (ctx) => advance(ctx),
};
