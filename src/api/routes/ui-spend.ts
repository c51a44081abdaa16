// A project's spend for the dashboard's project page: the total, spend per UTC day, and each task's
// share — from the `session.finished` events of the project's tasks, read in one query.
import { z } from 'zod';
import { spendByDay } from '../../domain/card-facts.js';
import { notFound } from '../../domain/errors.js';
import { addUsage, NO_USAGE, turnUsage, type Usage } from '../../domain/usage.js';
import type { SqlRunner } from '../../ports/sql.js';
import type { Store } from '../../ports/store.js';
import { defineRoute, type Route } from '../route.js';

export function spendRoute(store: Store & { db: SqlRunner }): Route {
  return defineRoute({
    method: 'GET',
    path: '/api/ui/projects/:id/spend',
    access: 'read',
    tag: 'ui',
    summary: "A project's spend: its total, per day (UTC) and per task, from every agent turn of every run",
    params: z.object({ id: z.string().min(1).max(200) }).strict(),
    query: z.object({}).strict(),
    handler: async ({ params }) => {
      const project = await store.projects.get(params.id);
      if (!project) throw notFound('project', params.id, 'GET /api/projects lists them');
      const rows = await store.db.all<{ task_id: string; title: string; stage: string; payload: string; at: number }>(
        "SELECT e.task_id, t.title, t.stage, e.payload, e.at FROM events e JOIN tasks t ON t.id = e.task_id WHERE t.project_id = ? AND e.type = 'session.finished' AND e.seq IS NOT NULL ORDER BY e.seq",
        [project.id],
      );
      const turns = rows.map((r) => ({ at: Number(r.at), payload: JSON.parse(r.payload) as Record<string, unknown> }));
      let total: Usage = NO_USAGE;
      const tasks = new Map<string, { id: string; title: string; stage: string; usage: Usage }>();
      rows.forEach((r, i) => {
        const u = turnUsage(turns[i]!.payload);
        total = addUsage(total, u);
        const t = tasks.get(r.task_id) ?? { id: r.task_id, title: r.title, stage: r.stage, usage: NO_USAGE };
        t.usage = addUsage(t.usage, u);
        tasks.set(r.task_id, t);
      });
      const byCost = [...tasks.values()].sort((a, b) => (b.usage.costUsd ?? 0) - (a.usage.costUsd ?? 0) || b.usage.tokensIn + b.usage.tokensOut - (a.usage.tokensIn + a.usage.tokensOut));
      return { body: { project: { id: project.id, name: project.name }, total, days: spendByDay(turns), tasks: byCost } };
    },
  });
}
