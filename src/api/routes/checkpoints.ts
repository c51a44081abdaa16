// Checkpoints, diff and rollback of a task's workspace (DESIGN §8). Reads work from the store and the
// repository; rollback needs the live workspace, so it answers 404 on a host that does not hold it.
import { z } from 'zod';
import { GantryError } from '../../domain/errors.js';
import type { Task } from '../../domain/task.js';
import type { WorkspacePort } from '../../ports/workspace.js';
import { defineRoute, type Route } from '../route.js';

const IdParams = z.object({ id: z.string().min(1) }).strict();
const selector = z
  .string()
  .min(1)
  .max(64)
  .regex(/^(\d{1,9}|base|latest|[0-9a-f]{7,40})$/, 'a checkpoint number, base, latest or a commit sha')
  .transform((s) => (/^\d+$/.test(s) ? Number(s) : s));

/** Rolling back the workspace of a shipped task would leave its merged change on the base branch. */
export function refuseShippedRollback(task: Pick<Task, 'id' | 'stage'> | null | undefined): void {
  if (task?.stage !== 'shipped') return;
  throw new GantryError('conflict', `task ${task.id} has shipped: its change is merged, and rolling back its workspace would not undo that`, {
    hint: 'undo it on the base branch instead (git revert the merge commit), or submit a task that reverts it',
  });
}

export function checkpointRoutes(ws: WorkspacePort, tasks?: { get(id: string): Promise<Task | null | undefined> }): Route[] {
  return [
    defineRoute({
      method: 'GET',
      path: '/api/tasks/:id/checkpoints',
      access: 'read',
      tag: 'workspaces',
      summary: "A task's checkpoints, oldest first (step, files changed, lines added and removed)",
      params: IdParams,
      handler: async ({ params }) => ({ body: { checkpoints: await ws.listCheckpoints(params.id) } }),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/tasks/:id/diff',
      access: 'read',
      tag: 'workspaces',
      summary: 'Diff between two checkpoints (default: base → latest checkpoint)',
      params: IdParams,
      query: z.object({ from: selector.optional(), to: selector.optional() }).strict(),
      handler: async ({ params, query }) => ({ body: { diff: await ws.diff(params.id, query.from ?? 'base', query.to) } }),
    }),
    defineRoute({
      method: 'POST',
      path: '/api/tasks/:id/rollback',
      access: 'act',
      tag: 'workspaces',
      summary: 'Roll the workspace back to a checkpoint (all files, or only `paths`), after a safety checkpoint',
      params: IdParams,
      body: z.object({ to: selector, paths: z.array(z.string().min(1).max(4096)).min(1).max(1000).optional() }).strict(),
      handler: async ({ params, body }) => {
        refuseShippedRollback(await tasks?.get(params.id));
        return { body: { rollback: await ws.rollback(params.id, body.to, body.paths ? { paths: body.paths } : {}) } };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/api/workspaces/gc',
      access: 'admin',
      tag: 'workspaces',
      summary: 'Repair and collect workspaces on this host: undo interrupted provisioning, tear down finished tasks (checkpoint first), remove orphans',
      body: z.object({}).strict().optional(),
      handler: async () => ({ body: { actions: await ws.gc() } }),
    }),
  ];
}
