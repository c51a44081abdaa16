// The `notifications:` section: where people hear about sessions, routed by priority.
//
//   notifications:
//     escalateAfter: 15m              # a raised notification nobody acknowledged escalates once
//     channels:
//       desk:  { type: desktop }
//       ops:   { type: webhook, url: "https://hooks.example/gantry", secretEnv: GANTRY_WEBHOOK_SECRET }
//       pager: { type: command, command: ["/usr/local/bin/page", "--team", "dev"] }
//     routing: { urgent: [desk, ops, pager], high: [desk, ops], normal: [desk], low: [] }
import { z } from 'zod';
import { durationSchema } from './duration.js';

const channel = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('desktop') }),
  z.strictObject({
    type: z.literal('webhook'),
    url: z.url({ protocol: /^https?$/ }),
    /** The signing secret, inline or (better) named by an environment variable. */
    secret: z.string().min(16).optional(),
    secretEnv: z.string().regex(/^[A-Z_][A-Z0-9_]*$/).optional(),
    timeout: durationSchema.optional(),
  }),
  z.strictObject({
    type: z.literal('command'),
    command: z.array(z.string().min(1)).min(1),
    timeout: durationSchema.optional(),
  }),
]);
export type ChannelConfig = z.output<typeof channel>;

const names = z.array(z.string().min(1));
export const notificationsSchema = z
  .strictObject({
    escalateAfter: durationSchema.nullable().optional(),
    channels: z.record(z.string().regex(/^[a-z][a-z0-9_-]*$/, 'channel names are lowercase words'), channel).optional(),
    routing: z.strictObject({ low: names.optional(), normal: names.optional(), high: names.optional(), urgent: names.optional() }).optional(),
  })
  .superRefine((cfg, ctx) => {
    const known = new Set(Object.keys(cfg.channels ?? {}));
    for (const [p, list] of Object.entries(cfg.routing ?? {})) {
      for (const [i, name] of (list ?? []).entries()) {
        if (!known.has(name)) ctx.addIssue({ code: 'custom', path: ['routing', p, i], message: `unknown channel "${name}" (define it under notifications.channels)` });
      }
    }
  });
export type NotificationsConfig = z.output<typeof notificationsSchema>;
