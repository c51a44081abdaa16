// Remote work is visible (docs/fleet.md): a factory reports the agent sessions it runs — each launch,
// then the activity and runtime evidence its agents produce — in batches fenced by the task's lease.
// The coordinator checks the batch against what it holds (`planBatch`, pure) and feeds it to its
// lifecycle manager as the in-process sink would, so `gantry sessions`, the dashboard's live state,
// reactions and notifications work for remote sessions too. Factory tokens only; 409 when stale.
import { z } from 'zod';
import { GantryError } from '../../domain/errors.js';
import { planBatch, type RemoteSessionOp } from '../../domain/lifecycle-rules/remote.js';
import { sessionBatchBody } from '../../fleet/engine-protocol.js';
import { applyRemoteCalls } from '../../lifecycle/remote-evidence.js';
import type { LifecycleManager } from '../../lifecycle/manager.js';
import type { Store } from '../../ports/store.js';
import { fenceClause, staleEpoch } from '../../store/run-repo.js';
import { defineRoute, type Route } from '../route.js';
import { factoryOf } from './fleet-engine.js';

const IdParams = z.object({ id: z.string().min(1).max(200) }).strict();

const marks = (n: number): string => Array.from({ length: n }, () => '?').join(',');

export function fleetSessionRoutes(store: Store, lifecycle: LifecycleManager): Route[] {
  return [
    defineRoute({
      method: 'POST',
      path: '/api/fleet/jobs/:id/sessions',
      access: 'fleet',
      tag: 'fleet',
      summary: "Report the task's agent sessions on this factory — launches, activity, runtime, SCM observations — in order (fenced; a resent batch changes nothing)",
      params: IdParams,
      body: sessionBatchBody,
      handler: async ({ params, body, auth }) => {
        const fence = { taskId: params.id, epoch: body.leaseEpoch, factoryId: factoryOf(auth) };
        const c = fenceClause(fence);
        // Checked before anything is recorded (a stale holder's reports are refused whole), and again
        // before each further entry: a lease taken back meanwhile stops the batch there.
        const held = async (): Promise<void> => {
          if (!(await store.db.get(`SELECT 1 AS ok WHERE ${c.sql}`, c.params))) throw await staleEpoch(store.db, fence);
        };
        await held();
        const ops = body.ops as RemoteSessionOp[];
        const ids = [...new Set(ops.map((o) => o.sessionId))];
        const runIds = [...new Set(ops.flatMap((o) => (o.op === 'create' ? [o.runId] : [])))];
        const rows = await store.db.all<{ id: string; task_id: string | null; factory_id: string | null }>(`SELECT id, task_id, factory_id FROM sessions WHERE id IN (${marks(ids.length)})`, ids);
        const runs = runIds.length ? await store.db.all<{ id: string }>(`SELECT id FROM runs WHERE task_id = ? AND id IN (${marks(runIds.length)})`, [params.id, ...runIds]) : [];
        const plan = planBatch(ops, {
          taskId: params.id,
          factoryId: fence.factoryId,
          sentAt: body.sentAt,
          now: Date.now(),
          sessions: new Map(rows.map((r) => [r.id, { taskId: r.task_id, factoryId: r.factory_id }])),
          runsOfTask: new Set(runs.map((r) => r.id)),
        });
        if (!plan.ok) throw new GantryError('forbidden', plan.why, { hint: 'a factory reports only the sessions it runs for the task it holds' });
        return { body: await applyRemoteCalls(lifecycle, plan.calls, held) };
      },
    }),
  ];
}
