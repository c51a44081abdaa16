// The fenced run/step API (docs/fleet.md §6): what a remote factory's pipeline engine reads and writes
// on the coordinator — runs and steps, budgets, merge intents, checkpoint rows, workspace events, and
// the task's project. Factory tokens only, acting as their own factory; every write carries the lease
// epoch and is refused with 409 when that factory no longer holds it. Thin over the SQL repositories,
// which check the fence inside the writing statement (runs, merge intents, budget forfeits).
import { existsSync, mkdirSync, openSync, closeSync, statSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { GantryError, notFound } from '../../domain/errors.js';
import type { Fence } from '../../ports/engine.js';
import type { Project, Store, TokenRecord } from '../../ports/store.js';
import {
  checkpointBody,
  leaseQuery,
  logChunkBody,
  mergeMarkBody,
  mergeRecordBody,
  reservationBody,
  reserveBody,
  runChangeBody,
  runStartBody,
  workspaceEventsBody,
} from '../../fleet/engine-protocol.js';
import { withoutCredentials } from '../../lib/remote-url.js';
import { BudgetRepoSql } from '../../store/budget-repo.js';
import { CheckpointRepoSql } from '../../store/checkpoint-repo.js';
import { MergeIntentRepoSql } from '../../store/merge-intent-repo.js';
import { fenceClause, RunRepoSql, staleEpoch } from '../../store/run-repo.js';
import { defineRoute, type Route } from '../route.js';

const Id = z.string().min(1).max(200);
const IdParams = z.object({ id: Id }).strict();
const SubParams = z.object({ id: Id, sub: Id }).strict();

/** The factory a token acts as; the engine API is the factory protocol, so other tokens are refused. */
export function factoryOf(auth: TokenRecord | null): string {
  if (auth?.role === 'factory' && auth.factoryId) return auth.factoryId;
  throw new GantryError('forbidden', 'the run/step API is for factory tokens', { hint: 'enroll a factory (`gantry factories enroll NAME`) and run `gantry factory` with its token' });
}

/**
 * A project as another machine sees it: no local checkout (the coordinator's path means nothing
 * there) and a remote without credentials — the factory host uses its own git credentials.
 */
export const factoryProjectView = (p: Project): Project => ({ ...p, path: '', remote: withoutCredentials(p.remote) });

/** Where a coordinator keeps the logs a remote factory streamed: the same layout as an in-process factory's. */
export const streamedLogsDir = (home: string, factoryId: string, kind: 'sessions' | 'checks'): string => join(home, 'factories', factoryId.replace(/[^\w.-]/g, '_'), 'logs', kind);

/**
 * Appends the bytes of a chunk beyond what the file already holds (pure on sizes): a resent chunk is
 * skipped, an overlapping one contributes its tail, one past the end is refused with the size to resume from.
 */
export function appendPlan(size: number, offset: number, length: number): { skip: number } | { gapFrom: number } {
  if (offset > size) return { gapFrom: size };
  return { skip: Math.min(length, size - offset) };
}

export function fleetEngineRoutes(store: Store, opts: { home?: string } = {}): Route[] {
  const runs = new RunRepoSql(store);
  const budgets = new BudgetRepoSql(store);
  const merges = new MergeIntentRepoSql(store);
  const checkpoints = new CheckpointRepoSql(store);

  const fenceOf = (taskId: string, leaseEpoch: number, auth: TokenRecord | null): Fence => ({ taskId, epoch: leaseEpoch, factoryId: factoryOf(auth) });
  /** For writes whose repository takes no fence: checked just before the write (each is idempotent or one-shot). */
  const holds = async (f: Fence): Promise<void> => {
    const c = fenceClause(f);
    if (!(await store.db.get(`SELECT 1 AS ok WHERE ${c.sql}`, c.params))) throw await staleEpoch(store.db, f);
  };
  /** A row named in the path must belong to the task in the path (a factory holding two tasks cannot cross them). */
  const ownedBy = async (table: 'runs' | 'merge_intents' | 'budget_reservations', id: string, taskId: string): Promise<boolean> => {
    const r = await store.db.get<{ task_id: string }>(`SELECT task_id FROM ${table} WHERE id = ?`, [id]);
    if (r && r.task_id !== taskId) throw new GantryError('forbidden', `${id} does not belong to task ${taskId}`);
    return Boolean(r);
  };

  return [
    defineRoute({
      method: 'GET',
      path: '/api/fleet/projects',
      access: 'fleet',
      tag: 'fleet',
      summary: 'Projects as a factory sees them (remote without credentials, no local path): its workspace upkeep walks them',
      handler: async ({ auth }) => (factoryOf(auth), { body: { projects: (await store.projects.list()).map(factoryProjectView) } }),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/fleet/projects/:id',
      access: 'fleet',
      tag: 'fleet',
      summary: 'A project as a factory sees it: config, default branch, and the remote it clones (without credentials)',
      params: IdParams,
      handler: async ({ params, auth }) => {
        factoryOf(auth);
        const p = await store.projects.get(params.id);
        if (!p) throw notFound('project', params.id);
        return { body: { project: factoryProjectView(p) } };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/api/fleet/jobs/:id/run',
      access: 'fleet',
      tag: 'fleet',
      summary: "The task's current run (or ?runId=) with its steps; only for the lease holder (it carries prompts)",
      params: IdParams,
      query: leaseQuery,
      handler: async ({ params, query, auth }) => {
        await holds(fenceOf(params.id, query.leaseEpoch, auth));
        if (query.runId) {
          if (!(await ownedBy('runs', query.runId, params.id))) return { body: { run: null } };
          return { body: { run: (await runs.load(query.runId)) ?? null } };
        }
        return { body: { run: (await runs.current(params.id)) ?? null } };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/api/fleet/jobs/:id/run/start',
      access: 'fleet',
      tag: 'fleet',
      summary: "Start the task's first run (fenced). A retry after a lost answer gets the run already started",
      params: IdParams,
      body: runStartBody,
      handler: async ({ params, body, auth }) => {
        const fence = fenceOf(params.id, body.leaseEpoch, auth);
        await holds(fence);
        const current = await runs.current(params.id);
        if (current) return { body: { run: current, replayed: true } };
        const run = await runs.create({ taskId: params.id, pipeline: body.pipeline, fence, event: { type: 'run.started' } });
        return { status: 201, body: { run } };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/api/fleet/jobs/:id/run/commit',
      access: 'fleet',
      tag: 'fleet',
      summary: 'One run transition: compare-and-set on the run rev and the lease epoch in one transaction (409 when either moved)',
      params: IdParams,
      body: runChangeBody,
      handler: async ({ params, body, auth }) => {
        const fence = fenceOf(params.id, body.leaseEpoch, auth);
        if (!(await ownedBy('runs', body.change.runId, params.id))) throw notFound('run', body.change.runId);
        return { body: { run: await runs.commit(body.change, fence) } };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/api/fleet/jobs/:id/budget/reserve',
      access: 'fleet',
      tag: 'fleet',
      summary: "Reserve a step's budget against every configured scope (fenced; idempotent on the reservation id)",
      params: IdParams,
      body: reserveBody,
      handler: async ({ params, body, auth }) => {
        await holds(fenceOf(params.id, body.leaseEpoch, auth));
        if (!(await ownedBy('runs', body.request.runId, params.id))) throw notFound('run', body.request.runId);
        const task = await store.tasks.get(params.id);
        if (!task) throw notFound('task', params.id);
        const { task: t, project, global } = body.request.limits;
        const limits = { ...(t ? { task: t } : {}), ...(project ? { project } : {}), ...(global ? { global } : {}) };
        return { body: { result: await budgets.reserve({ ...body.request, limits, taskId: params.id, projectId: task.projectId }) } };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/api/fleet/jobs/:id/budget/:sub',
      access: 'fleet',
      tag: 'fleet',
      summary: 'Settle (with actual usage), release or forfeit a reservation of the task (fenced)',
      params: SubParams,
      body: reservationBody,
      handler: async ({ params, body, auth }) => {
        const fence = fenceOf(params.id, body.leaseEpoch, auth);
        if (body.op === 'forfeit') {
          await ownedBy('budget_reservations', params.sub, params.id);
          return { body: { forfeited: await budgets.forfeitLaunch(params.sub, fence) } };
        }
        await holds(fence);
        await ownedBy('budget_reservations', params.sub, params.id);
        if (body.op === 'settle') {
          if (!body.actual) throw new GantryError('validation', 'settle needs the actual usage', { field: 'actual' });
          await budgets.settle(params.sub, body.actual);
        } else await budgets.release(params.sub);
        return { body: { ok: true } };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/api/fleet/jobs/:id/merges',
      access: 'fleet',
      tag: 'fleet',
      summary: "The task's merge intents (the merge step resumes an interrupted merge from them); lease holder only",
      params: IdParams,
      query: leaseQuery,
      handler: async ({ params, query, auth }) => {
        await holds(fenceOf(params.id, query.leaseEpoch, auth));
        return { body: { intents: await merges.forTask(params.id) } };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/api/fleet/jobs/:id/merges',
      access: 'fleet',
      tag: 'fleet',
      summary: 'Record a merge intent before the irreversible ref update, fenced in the same statement',
      params: IdParams,
      body: mergeRecordBody,
      handler: async ({ params, body, auth }) => {
        const fence = fenceOf(params.id, body.leaseEpoch, auth);
        if (!(await ownedBy('runs', body.intent.runId, params.id))) throw notFound('run', body.intent.runId);
        return { status: 201, body: { intent: await merges.record({ ...body.intent, taskId: params.id }, fence) } };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/api/fleet/jobs/:id/merges/:sub',
      access: 'fleet',
      tag: 'fleet',
      summary: 'Mark a merge intent merged (with the merged SHA) or aborted (with the reason); lease holder only',
      params: SubParams,
      body: mergeMarkBody,
      handler: async ({ params, body, auth }) => {
        await holds(fenceOf(params.id, body.leaseEpoch, auth));
        if (!(await ownedBy('merge_intents', params.sub, params.id))) throw notFound('merge intent', params.sub);
        if (body.state === 'merged') {
          if (!body.mergedSha) throw new GantryError('validation', 'a merged intent needs mergedSha', { field: 'mergedSha' });
          await merges.markMerged(params.sub, body.mergedSha);
        } else await merges.markAborted(params.sub, body.reason ?? 'aborted');
        return { body: { ok: true } };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/api/fleet/jobs/:id/checkpoints',
      access: 'fleet',
      tag: 'fleet',
      summary: "The task's checkpoint rows (a factory resumes from the latest; its upkeep reconciles them)",
      params: IdParams,
      handler: async ({ params, auth }) => (factoryOf(auth), { body: { checkpoints: await checkpoints.list(params.id) } }),
    }),
    defineRoute({
      method: 'POST',
      path: '/api/fleet/jobs/:id/checkpoints',
      access: 'fleet',
      tag: 'fleet',
      summary: 'Record a checkpoint commit the factory made and pushed (lease holder only; one row per sequence number)',
      params: IdParams,
      body: checkpointBody,
      handler: async ({ params, body, auth }) => {
        await holds(fenceOf(params.id, body.leaseEpoch, auth));
        return { status: 201, body: { checkpoint: await checkpoints.insert({ ...body.checkpoint, taskId: params.id }) } };
      },
    }),
    ...(opts.home ? [logRoute(store, opts.home, fenceOf, holds)] : []),
    defineRoute({
      method: 'POST',
      path: '/api/fleet/jobs/:id/workspace-events',
      access: 'fleet',
      tag: 'fleet',
      summary: "What the factory's workspace service saw of the task's workspace (workspace.* and checkpoint.* events only)",
      params: IdParams,
      body: workspaceEventsBody,
      handler: async ({ params, body, auth }) => {
        const factoryId = factoryOf(auth);
        // Informational, typed and tied to the task; fenced when the factory holds the lease, while a
        // factory's start-up repair (which holds none) may still say what it did to its own worktrees.
        if (body.leaseEpoch !== undefined) await holds({ taskId: params.id, epoch: body.leaseEpoch, factoryId });
        if (!(await store.tasks.get(params.id))) throw notFound('task', params.id);
        await store.write(async (tx) => body.events.forEach((e) => tx.emit({ type: e.type, taskId: params.id, payload: { ...(e.payload ?? {}), factoryId } })));
        return { body: { ok: true } };
      },
    }),
  ];
}

/**
 * Agent transcripts and check logs of remote work, streamed to the coordinator in chunks (fenced,
 * resumable by byte offset) into `<home>/factories/<factoryId>/logs/…` — where the transcript and
 * check-log views already read an in-process factory's logs.
 */
function logRoute(store: Store, home: string, fenceOf: (taskId: string, epoch: number, auth: TokenRecord | null) => Fence, holds: (f: Fence) => Promise<void>): Route {
  return defineRoute({
    method: 'POST',
    path: '/api/fleet/jobs/:id/logs',
    access: 'fleet',
    tag: 'fleet',
    summary: "Append a chunk of an agent session's or a check's log at a byte offset (fenced; a resent chunk is skipped; past the end → 409 with the size to resume from)",
    params: IdParams,
    body: logChunkBody,
    handler: async ({ params, body, auth }) => {
      const fence = fenceOf(params.id, body.leaseEpoch, auth);
      await holds(fence);
      const first = body.path.split('/')[0]!;
      // A factory writes only its task's logs: check logs under <task>/, session logs under one of its runs.
      if (body.kind === 'checks' ? first !== params.id : !(await store.db.get('SELECT 1 AS ok FROM runs WHERE task_id = ? AND ? LIKE id || \'%\'', [params.id, first]))) {
        throw new GantryError('forbidden', `${body.kind} log ${body.path} is not task ${params.id}'s`);
      }
      const file = join(streamedLogsDir(home, fence.factoryId, body.kind), body.path);
      const bytes = Buffer.from(body.data, 'base64');
      const size = existsSync(file) ? statSync(file).size : 0;
      const plan = appendPlan(size, body.offset, bytes.length);
      if ('gapFrom' in plan) throw new GantryError('conflict', `log ${body.path} holds ${plan.gapFrom} bytes; resend from there`, { details: { size: plan.gapFrom } });
      if (plan.skip < bytes.length) {
        mkdirSync(dirname(file), { recursive: true });
        const fd = openSync(file, 'a');
        try {
          writeSync(fd, bytes, plan.skip);
        } finally {
          closeSync(fd);
        }
      }
      return { body: { size: size + bytes.length - plan.skip } };
    },
  });
}
