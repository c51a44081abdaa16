// Runs of a task and what people do to them (DESIGN §6, §10): read the pipeline timeline; approve,
// request changes, reject, answer, reply, resolve a review cap, merge review; retry, restart, cancel.
// A run not waiting for that action answers 409 with the reason.
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { GantryError, notFound } from '../../domain/errors.js';
import { HUMAN_ACTIONS } from '../../domain/pipeline/human-action.js';
import { changesFeedback } from '../../domain/pipeline/line-comments.js';
import { remedyOf } from '../../domain/pipeline/failure.js';
import { NO_USAGE, type UsageReport } from '../../domain/usage.js';
import { taskUsage } from '../../app/usage.js';
import type { HumanActions } from '../../engine/human-actions.js';
import type { RunRepo, RunSnapshot } from '../../ports/engine.js';
import type { Store } from '../../ports/store.js';
import { defineRoute, type Route } from '../route.js';

const IdParams = z.object({ id: z.string().min(1) }).strict();
export const RUN_ACTIONS = [...HUMAN_ACTIONS, 'retry', 'restart', 'cancel'] as const;

/** A check log is at most this big when served; beyond it the start is cut (the end says why it failed). */
export const CHECK_LOG_CAP = 2 * 1024 * 1024;

/** A comment on one line of the task's diff, sent with `changes` (the dashboard's diff viewer). */
const LineCommentBody = z
  .object({
    path: z.string().min(1).max(4096),
    line: z.number().int().min(1).max(100_000_000),
    side: z.enum(['new', 'old']).default('new'),
    body: z.string().trim().min(1, 'a line comment needs text').max(10_000),
  })
  .strict();

function readLogText(file: string): string | null {
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    return null;
  }
  if (size <= CHECK_LOG_CAP) return readFileSync(file, 'utf8');
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(CHECK_LOG_CAP);
    readSync(fd, buf, 0, CHECK_LOG_CAP, size - CHECK_LOG_CAP);
    return `[… the first ${size - CHECK_LOG_CAP} bytes are cut]\n${buf.toString('utf8')}`;
  } finally {
    closeSync(fd);
  }
}

/**
 * The run as the API shows it: steps in order, the wait, and a remedy for a failure; with `usage`
 * (from taskUsage), the run's tokens and cost in total and per step (null: no agent turn).
 */
export function runView(s: RunSnapshot, usage?: UsageReport): Record<string, unknown> {
  const { run } = s;
  const runUsage = usage ? (usage.runs[run.id] ?? { total: NO_USAGE, steps: {} }) : undefined;
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
      // A checks step's rounds (each check's command, exit code, duration, log tail), live while it runs.
      ...(Array.isArray(st.kindState?.rounds) ? { rounds: st.kindState.rounds } : {}),
      ...(runUsage ? { usage: runUsage.steps[st.stepId] ?? null } : {}),
    })),
    ...(runUsage ? { usage: runUsage.total } : {}),
  };
}

/**
 * `checkLogDirs`: where logs streamed by remote factories are kept (`<home>/factories/<id>/logs/checks`);
 * a recorded path that is not on this host is looked up there by its part under `logs/checks/`.
 */
export function runRoutes(store: Store, runs: RunRepo, actions: HumanActions, opts: { checkLogDirs?: () => string[] } = {}): Route[] {
  return [
    defineRoute({
      method: 'GET',
      path: '/api/tasks/:id/runs',
      access: 'read',
      tag: 'runs',
      summary: "A task's runs, the current one with its steps, and tokens and cost per step, run and task",
      params: IdParams,
      handler: async ({ params }) => {
        if (!(await store.tasks.get(params.id))) throw notFound('task', params.id);
        const current = await runs.current(params.id);
        const usage = await taskUsage(store, params.id);
        const list = await runs.list(params.id);
        return {
          body: {
            runs: list.map((r) => ({ id: r.id, number: r.number, state: r.state, startedAt: r.startedAt, finishedAt: r.finishedAt, usage: usage.runs[r.id]?.total ?? NO_USAGE })),
            current: current ? runView(current, usage) : null,
            // Every run, every attempt of the task.
            usage: usage.total,
          },
        };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/api/tasks/:id/run/steps/:step/log',
      access: 'read',
      tag: 'runs',
      summary: "The full log of one check in one round of the current run's checks step, as text (the dashboard's log view and download)",
      params: z.object({ id: z.string().min(1), step: z.string().min(1).max(200) }).strict(),
      query: z.object({ round: z.coerce.number().int().min(0), check: z.string().min(1).max(200) }).strict(),
      handler: async ({ params, query }) => {
        const current = await runs.current(params.id);
        if (!current) throw notFound('run of task', params.id);
        const st = current.steps.find((x) => x.stepId === params.step);
        if (!st) throw notFound('step', params.step);
        const rounds = Array.isArray(st.kindState?.rounds) ? (st.kindState.rounds as Array<{ round?: unknown; results?: Array<{ name?: unknown; logFile?: unknown }> }>) : [];
        const r = rounds.find((x) => x.round === query.round)?.results?.find((x) => x.name === query.check);
        if (!r || typeof r.logFile !== 'string') throw notFound('check log', `${params.step} round ${query.round} ${query.check}`);
        // Only a path the engine recorded for this step is read, never one from the request.
        const under = r.logFile.split('/logs/checks/').at(-1)!;
        let text = readLogText(r.logFile);
        for (const dir of text === null && under !== r.logFile ? (opts.checkLogDirs?.() ?? []) : []) if ((text = readLogText(join(dir, under))) !== null) break;
        if (text === null) throw notFound('check log', r.logFile, 'the log lives on the factory that ran the checks; `gantry up` serves the logs of its own factories');
        return { text, headers: { 'Content-Type': 'text/plain; charset=utf-8' } };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/api/tasks/:id/run/:action',
      access: 'act',
      tag: 'runs',
      summary: `Act on the current run: ${RUN_ACTIONS.join(' · ')} (409 when the run is not waiting for it)`,
      params: z.object({ id: z.string().min(1), action: z.enum(RUN_ACTIONS) }).strict(),
      body: z.object({ text: z.string().max(20_000).optional(), from: z.string().min(1).optional(), comments: z.array(LineCommentBody).min(1).max(200).optional() }).strict(),
      handler: async ({ params, body }) => {
        if (body.comments && params.action !== 'changes') {
          throw new GantryError('validation', `line comments go with changes, not ${params.action}`, { field: 'comments', hint: 'send them with POST /api/tasks/:id/run/changes, or put them in text' });
        }
        let snap: RunSnapshot;
        if (params.action === 'retry') snap = await actions.retry(params.id);
        else if (params.action === 'restart') {
          if (!body.from) throw new GantryError('validation', 'restart needs from: the step id to restart from', { field: 'from', hint: 'gantry restart <task> --from <step>' });
          snap = await actions.restart(params.id, body.from);
        } else if (params.action === 'cancel') snap = await actions.cancel(params.id, body.text ?? 'cancelled by a person');
        else if (body.comments) snap = await actions.act(params.id, { action: 'changes', text: changesFeedback(body.text, body.comments) });
        else snap = await actions.act(params.id, { action: params.action, ...(body.text !== undefined ? { text: body.text } : {}) });
        await actions.reconcile();
        return { body: { run: runView(snap), task: await store.tasks.get(params.id) } };
      },
    }),
  ];
}
