// Sessions: their lifecycle records (display status derived on read), the evidence agents and
// factories report, input for the agent (`gantry reply`), and kill requests.
import { z } from 'zod';
import { ACTIVITY_STATES, CHANGE_STATES, SESSION_STATES } from '../../domain/session.js';
import { mayReportOnSession } from '../../domain/auth.js';
import { GantryError } from '../../domain/errors.js';
import type { LifecycleManager } from '../../lifecycle/manager.js';
import type { TaskRepo } from '../../ports/store.js';
import { defineRoute, type Route } from '../route.js';

const IdParams = z.object({ id: z.string().min(1) }).strict();
const csv = z.union([z.string(), z.array(z.string())]).transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter(Boolean));

const evidence = {
  confidence: z.enum(['valid', 'stale', 'unavailable']).default('valid'),
  source: z.enum(['protocol', 'hook', 'transcript', 'process', 'terminal', 'scm']),
  at: z.number().int().nonnegative().optional(),
  launchGeneration: z.number().int().nonnegative(),
};

export const ObservationBody = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('activity'), value: z.enum(ACTIVITY_STATES), ...evidence }),
  z.strictObject({
    kind: z.literal('runtime'),
    value: z.strictObject({
      state: z.enum(['alive', 'exited', 'missing', 'unknown']),
      pid: z.number().int().positive().nullable().optional(),
      handle: z.string().max(500).nullable().optional(),
      exitCode: z.number().int().nullable().optional(),
      signal: z.string().max(40).nullable().optional(),
    }),
    ...evidence,
  }),
  z.strictObject({
    kind: z.literal('change'),
    value: z.strictObject({
      state: z.enum(CHANGE_STATES),
      conflict: z.boolean().optional(),
      headSha: z.string().max(100).nullable().optional(),
      detail: z.string().max(64 * 1024).nullable().optional(),
    }),
    ...evidence,
  }),
]);

export function sessionRoutes(lifecycle: LifecycleManager, tasks: Pick<TaskRepo, 'get'>): Route[] {
  return [
    defineRoute({
      method: 'GET',
      path: '/api/sessions',
      access: 'read',
      tag: 'sessions',
      summary: 'List sessions, newest first, with their derived display status',
      query: z.object({ state: csv.pipe(z.array(z.enum(SESSION_STATES))).optional(), task: z.string().min(1).optional(), limit: z.coerce.number().int().min(1).max(1000).default(100) }).strict(),
      handler: async ({ query }) => ({
        body: { sessions: await lifecycle.list({ limit: query.limit, ...(query.state ? { states: query.state } : {}), ...(query.task ? { taskId: query.task } : {}) }) },
      }),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/sessions/:id',
      access: 'read',
      tag: 'sessions',
      summary: 'One session with its axes, display status and input queue',
      params: IdParams,
      handler: async ({ params }) => ({ body: { session: await lifecycle.get(params.id), inputs: await lifecycle.inputs.list(params.id) } }),
    }),
    defineRoute({
      method: 'POST',
      path: '/api/sessions/:id/input',
      access: 'act',
      tag: 'sessions',
      summary: "Queue input for the session's agent; delivered between turns, acknowledged when its next turn starts. To a session whose run is parked on its question (local or remote), it answers that run; a choice that is not one of the offered options is refused (409, the options in the hint) and nothing is queued",
      params: IdParams,
      body: z.object({ text: z.string().min(1).max(64 * 1024) }).strict(),
      handler: async ({ params, body }) => ({ status: 202, body: { input: await lifecycle.reply(params.id, body.text) } }),
    }),
    defineRoute({
      method: 'POST',
      path: '/api/sessions/:id/observations',
      access: 'fleet',
      tag: 'sessions',
      summary: 'Report evidence about a session (agent hooks, protocol readers, process probes, change observers)',
      params: IdParams,
      body: ObservationBody,
      handler: async ({ params, body, auth }) => {
        if (auth?.role === 'factory') {
          // A factory token speaks only for its own sessions of work it holds now.
          const s = await lifecycle.get(params.id);
          const task = s.taskId ? ((await tasks.get(s.taskId)) ?? null) : null;
          if (!mayReportOnSession(s, task, auth, Date.now())) {
            throw new GantryError('forbidden', `session ${params.id} is not one this factory runs under a lease it holds`, { hint: 'a factory reports on its own sessions while it holds their task (remote factories use POST /api/fleet/jobs/:id/sessions)' });
          }
        }
        const o = { confidence: body.confidence, source: body.source, at: body.at ?? Date.now(), launchGeneration: body.launchGeneration };
        const r = body.kind === 'activity'
          ? await lifecycle.applyActivity(params.id, { ...o, value: body.value })
          : body.kind === 'runtime'
            ? await lifecycle.applyRuntime(params.id, { ...o, value: body.value })
            : await lifecycle.applyChange(params.id, { ...o, value: body.value });
        return { body: r };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/api/sessions/:id/kill',
      access: 'act',
      tag: 'sessions',
      summary: 'Mark a session terminated (the runtime owner stops its process)',
      params: IdParams,
      body: z.object({ reason: z.enum(['killed', 'cleanup', 'cancelled']).default('killed') }).strict(),
      handler: async ({ params, body }) => ({ body: await lifecycle.onKillRequested(params.id, body.reason) }),
    }),
  ];
}
