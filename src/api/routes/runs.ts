// Runs of a task and what people do to them (DESIGN §6, §10): read the pipeline timeline; approve,
// request changes, reject, answer, reply, resolve a review cap, merge review; retry, restart, cancel.
// A run not waiting for that action answers 409 with the reason.
import { z } from 'zod';
import { GantryError, notFound } from '../../domain/errors.js';
import { HUMAN_ACTIONS } from '../../domain/pipeline/human-action.js';
import { remedyOf } from '../../domain/pipeline/failure.js';
import type { HumanActions } from '../../engine/human-actions.js';
import type { RunRepo, RunSnapshot } from '../../ports/engine.js';
import type { Store } from '../../ports/store.js';
import { defineRoute, type Route } from '../route.js';

const IdParams = z.object({ id: z.string().min(1) }).strict();
export const RUN_ACTIONS = [...HUMAN_ACTIONS, 'retry', 'restart', 'cancel'] as const;

/** The run as the API shows it: steps in order, the wait, and a remedy for a failure. */
export function runView(s: RunSnapshot): Record<string, unknown> {
  const { run } = s;
  return {
    id: run.id,
    number: run.number,
    pipeline: run.pipeline.name,
    state: run.state,
    currentStep: run.pipeline.steps[run.currentStep]?.id ?? null,
    waiting: run.waiting,
    failure: run.failureKind ? { kind: run.failureKind, message: run.failureMessage, remedy: remedyOf(run.failureKind) } : null,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    pausedAt: run.pausedAt,
    steps: s.steps.map((st) => ({
      id: st.stepId, kind: st.kind, state: st.state, attempts: st.attempts, output: st.output,
      failure: st.failureKind ? { kind: st.failureKind, message: st.failureMessage } : null,
      startedAt: st.startedAt, finishedAt: st.finishedAt,
    })),
  };
}

export function runRoutes(store: Store, runs: RunRepo, actions: HumanActions): Route[] {
  return [
    defineRoute({
      method: 'GET',
      path: '/api/tasks/:id/runs',
      access: 'read',
      tag: 'runs',
      summary: "A task's runs, the current one with its steps",
      params: IdParams,
      handler: async ({ params }) => {
        if (!(await store.tasks.get(params.id))) throw notFound('task', params.id);
        const current = await runs.current(params.id);
        return { body: { runs: await runs.list(params.id).then((rs) => rs.map((r) => ({ id: r.id, number: r.number, state: r.state, startedAt: r.startedAt, finishedAt: r.finishedAt }))), current: current ? runView(current) : null } };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/api/tasks/:id/run/:action',
      access: 'act',
      tag: 'runs',
      summary: `Act on the current run: ${RUN_ACTIONS.join(' · ')} (409 when the run is not waiting for it)`,
      params: z.object({ id: z.string().min(1), action: z.enum(RUN_ACTIONS) }).strict(),
      body: z.object({ text: z.string().max(20_000).optional(), from: z.string().min(1).optional() }).strict(),
      handler: async ({ params, body }) => {
        let snap: RunSnapshot;
        if (params.action === 'retry') snap = await actions.retry(params.id);
        else if (params.action === 'restart') {
          if (!body.from) throw new GantryError('validation', 'restart needs from: the step id to restart from', { field: 'from', hint: 'gantry restart <task> --from <step>' });
          snap = await actions.restart(params.id, body.from);
        } else if (params.action === 'cancel') snap = await actions.cancel(params.id, body.text ?? 'cancelled by a person');
        else snap = await actions.act(params.id, { action: params.action, ...(body.text !== undefined ? { text: body.text } : {}) });
        await actions.reconcile();
        return { body: { run: runView(snap), task: await store.tasks.get(params.id) } };
      },
    }),
  ];
}
