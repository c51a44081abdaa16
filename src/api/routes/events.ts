import { z } from 'zod';
import type { Store } from '../../ports/store.js';
import { defineRoute, type Route } from '../route.js';
import { resumePoint, streamEvents } from '../sse.js';

export function eventRoutes(store: Store, opts: { keepAliveMs: number }): Route[] {
  return [
    defineRoute({
      method: 'GET',
      path: '/api/events',
      access: 'read',
      tag: 'events',
      summary: 'Events after a sequence number, oldest first',
      query: z.object({ after: z.coerce.number().int().min(0).default(0), limit: z.coerce.number().int().min(1).max(1000).default(200), task: z.string().optional() }).strict(),
      handler: async ({ query }) => ({
        body: { events: await store.events.list({ after: query.after, limit: query.limit, ...(query.task ? { taskId: query.task } : {}) }), latest: await store.events.latestSeq() },
      }),
    }),
    defineRoute({
      method: 'GET',
      path: '/api/events/stream',
      access: 'read',
      tag: 'events',
      summary: 'Server-sent events: replays from Last-Event-ID (or ?after=) then follows live',
      query: z.object({ after: z.coerce.number().int().min(0).optional(), task: z.string().min(1).optional() }).strict(),
      handler: async ({ req, res, query, signal }) => {
        const from = resumePoint(req.headers['last-event-id'], query.after, await store.events.latestSeq());
        const task = query.task;
        streamEvents(store.events, res, { from, keepAliveMs: opts.keepAliveMs, signal, ...(task ? { filter: (e) => e.taskId === task } : {}) });
        return 'streaming';
      },
    }),
  ];
}
