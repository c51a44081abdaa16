import { z } from 'zod';
import { notFound } from '../../domain/errors.js';
import { STAGES } from '../../domain/task.js';
import type { Store } from '../../ports/store.js';
import type { TaskRepoSql } from '../../store/task-repo.js';
import { SubmitBody, submitTask } from '../../app/submit.js';
import type { SubmitGuards } from '../../app/submit-guards.js';
import { defineRoute, type Route } from '../route.js';
import { projectOr404 } from './projects.js';

const IdParams = z.object({ id: z.string().min(1) }).strict();
const csv = z.union([z.string(), z.array(z.string())]).transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter(Boolean));

export function taskRoutes(store: Store & { tasks: TaskRepoSql }, guards: SubmitGuards = {}): Route[] {
  return [
    defineRoute({
      method: 'POST',
      path: '/api/tasks',
      access: 'act',
      tag: 'tasks',
      summary: 'Submit a task (idempotent on idempotencyKey; 201 when created, 200 when it already existed)',
      body: SubmitBody,
      handler: async ({ body }) => {
        const r = await submitTask(store, body, guards);
        return { status: r.created ? 201 : 200, body: { task: r.task, created: r.created } };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/api/tasks',
      access: 'read',
      tag: 'tasks',
      summary: 'List tasks, newest first, with keyset paging',
      query: z
        .object({
          project: z.string().min(1).optional(),
          stage: csv.pipe(z.array(z.enum(STAGES))).optional(),
          limit: z.coerce.number().int().min(1).max(500).default(50),
          cursor: z.string().min(1).optional(),
        })
        .strict(),
      handler: async ({ query }) => {
        const projectId = query.project ? (await projectOr404(store, query.project)).id : undefined;
        const page = await store.tasks.list({
          limit: query.limit,
          ...(projectId ? { projectId } : {}),
          ...(query.stage ? { stages: query.stage } : {}),
          ...(query.cursor ? { cursor: query.cursor } : {}),
        });
        return { body: page };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/api/tasks/:id',
      access: 'read',
      tag: 'tasks',
      summary: 'One task',
      params: IdParams,
      handler: async ({ params }) => {
        const t = await store.tasks.get(params.id);
        if (!t) throw notFound('task', params.id);
        return { body: { task: t } };
      },
    }),
    defineRoute({
      method: 'PATCH',
      path: '/api/tasks/:id',
      access: 'act',
      tag: 'tasks',
      summary: 'Add dependencies to a task (cycles are rejected)',
      params: IdParams,
      body: z.object({ after: z.array(z.string().min(1)).min(1).max(100) }).strict(),
      handler: async ({ params, body }) => ({ body: { task: await store.tasks.addDependencies(params.id, body.after) } }),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/tasks/:id/events',
      access: 'read',
      tag: 'tasks',
      summary: "A task's events, oldest first",
      params: IdParams,
      query: z.object({ after: z.coerce.number().int().min(0).default(0), limit: z.coerce.number().int().min(1).max(1000).default(200) }).strict(),
      handler: async ({ params, query }) => {
        if (!(await store.tasks.get(params.id))) throw notFound('task', params.id);
        return { body: { events: await store.events.list({ taskId: params.id, after: query.after, limit: query.limit }) } };
      },
    }),
  ];
}
