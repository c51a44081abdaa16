// Shared pieces of the step kinds: prompts and how an agent's outcome becomes a transition.
import type { StepDef } from '../../domain/pipeline/types.js';
import type { KindState } from '../../ports/engine.js';
import type { DispatchSpec, DispatchState } from '../dispatch.js';
import type { AgentOutcome, StepContext, Transition } from '../step-kind.js';

export const agentOf = (ctx: StepContext, def: StepDef = ctx.def): string => ctx.task.agent ?? def.agent ?? 'scripted';
export const timeoutMs = (def: StepDef): number | undefined => (def.timeout ? def.timeout * 1000 : undefined);

export function taskBrief(ctx: StepContext): string {
  const extra = ctx.def.prompt ? `\n\n${ctx.def.prompt}` : '';
  return `# Task: ${ctx.task.title}\n\n${ctx.task.body}${extra}`;
}

/** Earlier steps' text outputs the agent should see (a plan before implementing). */
export function earlierOutputs(ctx: StepContext): string {
  const parts = ctx.steps
    .filter((s) => s.idx < ctx.step.idx && s.state === 'done' && typeof s.output?.text === 'string' && s.output.text !== '')
    .map((s) => `## Output of step ${s.stepId}\n${String(s.output!.text)}`);
  return parts.length ? `\n\n${parts.join('\n\n')}` : '';
}

export const dispatchOf = (ks: KindState): DispatchState | undefined => ks.dispatch as DispatchState | undefined;

/** Launch, wait, or hand the outcome to `onResult`; a repeatedly lost session fails the step. */
export function driveDispatch(ctx: StepContext, ks: KindState, spec: DispatchSpec, onResult: (o: AgentOutcome) => Transition | Promise<Transition>): Transition | Promise<Transition> {
  const current = dispatchOf(ks);
  const d = current && current.key === spec.key ? current : spec;
  const poll = ctx.pollDispatch(d);
  switch (poll.type) {
    case 'launch':
      return { type: 'launch', kindState: ks, dispatch: d };
    case 'running':
      return { type: 'wait', wait: poll.wait };
    case 'lost':
      return { type: 'fail', failure: { kind: 'session_lost', message: `step ${ctx.def.id}: the ${d.role} session was lost ${poll.launches} time(s)` }, kindState: ks };
    case 'result':
      return onResult(poll.outcome);
  }
}

export function agentFailure(ctx: StepContext, o: AgentOutcome, ks: KindState): Transition {
  return {
    type: 'fail',
    failure: o.timedOut
      ? { kind: 'timeout', message: `step ${ctx.def.id}: the agent ran past its timeout` }
      : { kind: 'agent', message: `step ${ctx.def.id}: ${o.error ?? 'the agent failed'}` },
    kindState: { ...ks, dispatch: undefined },
  };
}

/** An agent asked a person something: park until the answer, keeping its conversation id to resume. */
export function parkOnQuestion(o: AgentOutcome, ks: KindState): Transition {
  const q = o.question ?? { question: o.text || 'The agent needs input.', options: [] };
  return {
    type: 'park',
    waiting: { kind: q.options.length > 0 ? 'decision' : 'needs_input', question: q.question, options: q.options },
    kindState: { ...ks, dispatch: undefined, resume: undefined, asked: { agentSessionId: o.agentSessionId, question: q.question }, answer: undefined, answers: Number(ks.answers ?? 0) },
  };
}

export const outcomeOutput = (o: AgentOutcome): Record<string, unknown> => ({ text: o.text, agentSessionId: o.agentSessionId, usage: o.usage });
