// Shared pieces of the step kinds: prompts and how an agent's outcome becomes a transition.
import type { StepDef } from '../../domain/pipeline/types.js';
import { STEP_DEFAULTS } from '../../domain/pipeline/builtins.js';
import { outputInstructions, readStructuredOutput } from '../../domain/pipeline/structured-output.js';
import type { KindState, PullListener } from '../../ports/engine.js';
import { pipelineAhead, pullObservation } from '../../domain/forge/pr-state.js';
import type { DispatchSpec, DispatchState } from '../dispatch.js';
import type { AgentOutcome, StepContext, Transition } from '../step-kind.js';

/** The task's agent (it overrides every step), else the step's, else the project's `defaults.agent`. */
export const agentOf = (ctx: StepContext, def: StepDef = ctx.def): string => ctx.task.agent ?? def.agent ?? ctx.defaultAgent;
/** The step's `model:` for its dispatches (absent: the agent's configured model). */
export const modelOf = (def: StepDef): { model?: string } => (def.model ? { model: def.model } : {});

/** An agent step's time limit: its `timeout:` (seconds), else the default (STEP_DEFAULTS.agentTimeoutS, one hour). */
export const timeoutMs = (def: StepDef): number => (def.timeout ?? STEP_DEFAULTS.agentTimeoutS) * 1000;

export function taskBrief(ctx: StepContext): string {
  const extra = ctx.def.prompt ? `\n\n${ctx.def.prompt}` : '';
  return `# Task: ${ctx.task.title}\n\n${ctx.task.body}${extra}`;
}

/** Earlier steps' text outputs the agent should see (a plan before implementing). */
export function earlierOutputs(ctx: StepContext): string {
  const parts = ctx.steps
    .filter((s) => s.idx < ctx.step.idx && s.state === 'done' && s.output && ((typeof s.output.text === 'string' && s.output.text !== '') || structuredFields(ctx, s.idx, s.output)))
    .map((s) => {
      const text = typeof s.output!.text === 'string' ? s.output!.text : '';
      const fields = structuredFields(ctx, s.idx, s.output!);
      return `## Output of step ${s.stepId}\n${text}${fields ? `\n\nIts structured output:\n\`\`\`json\n${JSON.stringify(fields)}\n\`\`\`` : ''}`;
    });
  return parts.length ? `\n\n${parts.join('\n\n')}` : '';
}

/** The declared structured fields of an earlier step's output, if it has a schema. */
function structuredFields(ctx: StepContext, idx: number, output: Record<string, unknown>): Record<string, unknown> | null {
  const schema = ctx.pipeline.steps[idx]?.output;
  if (!schema) return null;
  const picked = Object.fromEntries(Object.keys(schema.properties).filter((k) => k in output).map((k) => [k, output[k]]));
  return Object.keys(picked).length ? picked : null;
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
      ? { kind: 'timeout', message: `step ${ctx.def.id}: ${o.error ?? 'the agent ran past its timeout'}` }
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

/** What the agent is asked to end its reply with, when the step declares an output schema. */
export const outputPrompt = (def: StepDef): string => (def.output ? `\n\n${outputInstructions(def.output)}` : '');

/** The step's output: the agent's text plus its validated structured fields; a missing or invalid block fails the step. */
export function stepOutput(ctx: StepContext, o: AgentOutcome, ks: KindState): { ok: true; output: Record<string, unknown> } | { ok: false; fail: Transition } {
  const base = outcomeOutput(o);
  if (!ctx.def.output) return { ok: true, output: base };
  const r = readStructuredOutput(o.text, ctx.def.output, o.structured);
  if (r.ok) return { ok: true, output: { ...base, ...r.value } };
  return { ok: false, fail: { type: 'fail', failure: { kind: 'output', message: `step ${ctx.def.id}: ${r.message}` }, kindState: { ...ks, dispatch: undefined } } };
}

/**
 * The guard after a step's agent ran (implementer, fixer, resolver, planner: the step's globs; a
 * reviewer: review-only). A failing transition when it blocked, else null.
 */
export async function guardAfterAgent(ctx: StepContext, ks: KindState, who: string, opts: { reviewOnly?: boolean } = {}): Promise<Transition | null> {
  const rules = opts.reviewOnly ? { reviewOnly: true } : { ...(ctx.def.allow ? { allow: ctx.def.allow } : {}), ...(ctx.def.deny ? { deny: ctx.def.deny } : {}) };
  const g = await ctx.workspace.guard?.(ctx.task.id, ctx.def.id, rules);
  if (!g?.blocked) return null;
  const what = opts.reviewOnly ? `the ${who} changed the workspace, and reviewers only judge (its changes were discarded)` : `the ${who} wrote outside what the step may touch (all it wrote was reverted)`;
  return { type: 'fail', failure: { kind: 'agent', message: `step ${ctx.def.id}: ${what}: ${g.violations.slice(0, 5).join('; ')}` }, kindState: { ...ks, dispatch: undefined } };
}

/** A forge poll's look at the pull request → the change axis; what the pipeline still repairs (steps from this one on) is handled by it. */
export const pullObserver = (ctx: StepContext): PullListener => (pull, ci, review) =>
  ctx.observeScm(pullObservation(pull, ci, pipelineAhead(ctx.pipeline.steps.map((s) => s.kind), ctx.step.idx, false), review ?? null));
