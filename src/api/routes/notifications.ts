// The in-app notification list and what a person does with an item: acknowledge, resolve.
import { z } from 'zod';
import type { NotificationService } from '../../lifecycle/notifications.js';
import { defineRoute, type Route } from '../route.js';

const IdParams = z.object({ id: z.string().min(1) }).strict();
const STATES = ['raised', 'escalated', 'acknowledged', 'resolved'] as const;
const csv = z.union([z.string(), z.array(z.string())]).transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter(Boolean));

export function notificationRoutes(notifications: NotificationService): Route[] {
  return [
    defineRoute({
      method: 'GET',
      path: '/api/notifications',
      access: 'read',
      tag: 'notifications',
      summary: 'Notifications, newest first (default: open ones — raised, escalated, acknowledged)',
      query: z.object({ state: csv.pipe(z.array(z.enum(STATES))).optional(), session: z.string().min(1).optional(), limit: z.coerce.number().int().min(1).max(1000).default(100) }).strict(),
      handler: async ({ query }) => ({
        body: {
          notifications: await notifications.list({ states: query.state ?? ['raised', 'escalated', 'acknowledged'], limit: query.limit, ...(query.session ? { sessionId: query.session } : {}) }),
        },
      }),
    }),
    defineRoute({
      method: 'POST',
      path: '/api/notifications/:id/ack',
      access: 'act',
      tag: 'notifications',
      summary: 'Acknowledge a notification (stops its escalation)',
      params: IdParams,
      handler: async ({ params }) => ({ body: { notification: await notifications.acknowledge(params.id) } }),
    }),
    defineRoute({
      method: 'POST',
      path: '/api/notifications/:id/resolve',
      access: 'act',
      tag: 'notifications',
      summary: 'Resolve a notification',
      params: IdParams,
      handler: async ({ params }) => ({ body: { notification: await notifications.resolve(params.id) } }),
    }),
  ];
}
