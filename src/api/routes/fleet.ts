// The fleet protocol over HTTP (DESIGN §5): every route under /api/fleet, thin over FleetCoordinator.
// Bodies are validated here (server) and again in the coordinator (in-process calls take the same path).
// Unknown body keys are dropped rather than refused, so factory clients of the older contract still work.
import { z } from 'zod';
import { mayReadTaskBody } from '../../domain/auth.js';
import type { Task } from '../../domain/task.js';
import type { Store, TokenRecord } from '../../ports/store.js';
import type { FleetCoordinator, Caller } from '../../fleet/coordinator.js';
import {
  actionBody,
  claimBody,
  enrollBody,
  heartbeatBody,
  patchBody,
  quarantineBody,
  releaseBody,
  renewBody,
} from '../../fleet/protocol.js';
import { SubmitBody, submitTask } from '../../app/submit.js';
import { defineRoute, type Route } from '../route.js';
import { resumePoint, streamEvents } from '../sse.js';

const IdParams = z.object({ id: z.string().min(1).max(200) }).strict();
const ActionParams = z.object({ id: z.string().min(1).max(200), action: z.string().min(1).max(40) }).strict();

/** A factory token acts as its factory; admin tokens act by lease epoch alone. */
const callerOf = (auth: TokenRecord | null): Caller => ({ factoryId: auth?.role === 'factory' ? auth.factoryId : null });

/** The job as factories see it; `bodyMd` keeps older factory clients working. */
/** A job as the caller may see it: a factory reads a body only while it holds the task's lease. */
const jobView = (t: Task, auth: TokenRecord | null = null) =>
  mayReadTaskBody(t, auth, Date.now()) ? { ...t, bodyMd: t.body } : { ...t, body: null, bodyMd: null, bodyHidden: 'a factory reads a task body only while it holds the lease' };

export function fleetRoutes(fleet: FleetCoordinator, store: Store, opts: { keepAliveMs: number }): Route[] {
  return [
    defineRoute({
      method: 'POST',
      path: '/api/fleet/factories/enroll',
      access: 'admin',
      tag: 'fleet',
      summary: 'Enroll a factory: returns {factoryId, token}; the token is shown once and stored hashed',
      body: enrollBody,
      handler: async ({ body }) => {
        const r = await fleet.enroll(body);
        return { status: 201, body: { factoryId: r.factoryId, token: r.token, factory: r.factory } };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/api/fleet/factories/heartbeat',
      access: 'fleet',
      tag: 'fleet',
      summary: 'Heartbeat (the first one registers the factory); returns server time and the drain flag',
      body: heartbeatBody,
      handler: async ({ body, auth }) => ({ body: await fleet.heartbeat(body, callerOf(auth)) }),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/fleet/factories/self',
      access: 'fleet',
      tag: 'fleet',
      summary: 'The factory id a factory token belongs to (null for admin tokens)',
      handler: async ({ auth }) => ({ body: { factoryId: callerOf(auth).factoryId } }),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/fleet/factories',
      access: 'read',
      tag: 'fleet',
      summary: 'Factories with health, load and current leases, plus recently quarantined results',
      handler: async () => ({ body: { factories: await fleet.factories(), quarantined: await fleet.quarantines(50), staleMs: fleet.config.staleMs } }),
    }),
    defineRoute({
      method: 'POST',
      path: '/api/fleet/factories/:id/drain',
      access: 'admin',
      tag: 'fleet',
      summary: 'Ask a factory to stop claiming (drain: true) or resume (drain: false); it learns at its next heartbeat',
      params: IdParams,
      body: z.object({ drain: z.boolean().default(true) }).strict(),
      handler: async ({ params, body }) => ({ body: { factory: await fleet.setDrain(params.id, body.drain) } }),
    }),
    defineRoute({
      method: 'POST',
      path: '/api/fleet/claim',
      access: 'fleet',
      tag: 'fleet',
      summary: 'Claim the best queued task this factory can take: 200 {job, leaseEpoch, leaseExpiresAt}, or 204',
      body: claimBody,
      handler: async ({ body, auth }) => {
        const g = await fleet.claim(body, callerOf(auth));
        if (!g) return { status: 204 };
        // The grant is the lease: the claimant reads the body it now holds.
        return { body: { job: jobView(g.task), leaseEpoch: g.leaseEpoch, leaseExpiresAt: g.leaseExpiresAt } };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/api/fleet/jobs',
      access: 'act',
      tag: 'fleet',
      summary: 'Submit a job (same as POST /api/tasks; idempotent on idempotencyKey)',
      body: SubmitBody,
      handler: async ({ body }) => {
        const r = await submitTask(store, body);
        return { status: r.created ? 201 : 200, body: { job: jobView(r.task), task: r.task, created: r.created } };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/api/fleet/jobs/:id',
      access: 'fleet',
      tag: 'fleet',
      summary: 'One job',
      params: IdParams,
      handler: async ({ params, auth }) => ({ body: { job: jobView(await fleet.job(params.id), auth) } }),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/fleet/jobs/:id/waiting',
      access: 'read',
      tag: 'fleet',
      summary: 'Why a queued job waits: a capability or agent no live factory offers (null when some factory can take it)',
      params: IdParams,
      handler: async ({ params }) => ({ body: { waiting: await fleet.waiting(params.id) } }),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/fleet/jobs/:id/runs',
      access: 'fleet',
      tag: 'fleet',
      summary: "A job's runs and its lease history (epoch, holder, outcome, report)",
      params: IdParams,
      handler: async ({ params }) => ({ body: await fleet.runs(params.id) }),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/fleet/jobs/:id/events',
      access: 'fleet',
      tag: 'fleet',
      summary: "A job's events, oldest first",
      params: IdParams,
      query: z.object({ after: z.coerce.number().int().min(0).default(0), limit: z.coerce.number().int().min(1).max(1000).default(200) }).strict(),
      handler: async ({ params, query }) => ({ body: { events: await fleet.events(params.id, query.after, query.limit) } }),
    }),
    defineRoute({
      method: 'PATCH',
      path: '/api/fleet/jobs/:id',
      access: 'fleet',
      tag: 'fleet',
      summary: 'Fenced stage transition {stage, checkpoint?, leaseEpoch}; 409 when the epoch is stale',
      params: IdParams,
      body: patchBody,
      handler: async ({ params, body, auth }) => ({ body: { job: jobView(await fleet.patch(params.id, body, callerOf(auth)), auth) } }),
    }),
    defineRoute({
      method: 'POST',
      path: '/api/fleet/jobs/:id/lease/renew',
      access: 'fleet',
      tag: 'fleet',
      summary: 'Fenced lease renewal; returns the new expiry (store clock)',
      params: IdParams,
      body: renewBody,
      handler: async ({ params, body, auth }) => ({ body: await fleet.renew(params.id, body, callerOf(auth)) }),
    }),
    defineRoute({
      method: 'POST',
      path: '/api/fleet/jobs/:id/lease/release',
      access: 'fleet',
      tag: 'fleet',
      summary: 'Fenced release with outcome done · parked · failed · abandoned, a report and a checkpoint; retries are idempotent',
      params: IdParams,
      body: releaseBody,
      handler: async ({ params, body, auth }) => {
        const r = await fleet.release(params.id, body, callerOf(auth));
        return { body: { job: jobView(r.task, auth), outcome: r.outcome, replayed: r.replayed } };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/api/fleet/jobs/:id/quarantine',
      access: 'fleet',
      tag: 'fleet',
      summary: 'A fenced factory reports the result it quarantined (accepted only for a lease it held and lost)',
      params: IdParams,
      body: quarantineBody,
      handler: async ({ params, body, auth }) => ({ body: await fleet.quarantine(params.id, body, callerOf(auth)) }),
    }),
    defineRoute({
      method: 'POST',
      path: '/api/fleet/jobs/:id/actions/:action',
      access: 'act',
      tag: 'fleet',
      summary: 'Operator action requeue · reject · cancel · ship; bumps the epoch so the current holder is fenced',
      params: ActionParams,
      body: actionBody,
      handler: async ({ params, body }) => ({ body: { job: jobView(await fleet.act(params.id, params.action, body)) } }),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/fleet/events/stream',
      access: 'fleet',
      tag: 'fleet',
      summary: 'Server-sent events of the whole fleet, resumable with Last-Event-ID (payloads never carry bodies or tokens)',
      query: z.object({ after: z.coerce.number().int().min(0).optional() }).strict(),
      handler: async ({ req, res, query, signal }) => {
        const from = resumePoint(req.headers['last-event-id'], query.after, await store.events.latestSeq());
        streamEvents(store.events, res, { from, keepAliveMs: opts.keepAliveMs, signal });
        return 'streaming';
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/api/fleet/metrics',
      access: 'read',
      tag: 'fleet',
      summary: 'Queue depth, stage histogram, oldest queued age, factory health, seats and alerts',
      handler: async () => ({ body: await fleet.metrics() }),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/fleet/queue-state',
      access: 'fleet',
      tag: 'fleet',
      summary: 'Cheap queue version; with ?since=V&wait=MS it long-polls until the version moves past V',
      query: z.object({ since: z.coerce.number().int().min(0).optional(), wait: z.coerce.number().int().min(0).max(60_000).optional() }).strict(),
      handler: async ({ query, signal }) => {
        if (query.since !== undefined && query.wait) return { body: { version: await fleet.waitForWork(query.since, query.wait, signal) } };
        return { body: await fleet.queueState() };
      },
    }),
  ];
}
