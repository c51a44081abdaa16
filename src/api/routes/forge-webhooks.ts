// GitHub webhook deliveries. The route reads the raw bytes (the signature covers them exactly), refuses
// anything not signed with a configured secret (401, nothing changes), then acts: check, status, review
// and pull request events wake the forge polls sleeping in this process (polling stays the fallback).
// A delivery id seen before is acknowledged and not acted on again.
import { GantryError } from '../../domain/errors.js';
import { decideWebhook } from '../../domain/forge/webhook.js';
import { verifySignature } from '../../scm/webhook-signature.js';
import { defineRoute, type Route } from '../route.js';

export interface ForgeWebhookDeps {
  /** The secrets a delivery may be signed with; none configured refuses every delivery. */
  secrets(): Promise<string[]>;
  /** Wakes the sleeping forge polls; returns how many woke. */
  wake(): number;
}

const REMEMBERED = 1000;

export function forgeWebhookRoutes(deps: ForgeWebhookDeps): Route[] {
  const seen = new Set<string>(); // recent delivery ids, oldest first (a Set keeps insertion order)
  return [
    defineRoute({
      method: 'POST',
      path: '/api/forge/github/webhook',
      access: 'none',
      tag: 'forge',
      summary: 'GitHub webhook deliveries, authenticated by X-Hub-Signature-256',
      rawBody: true,
      handler: async ({ req, raw }) => {
        const header = req.headers['x-hub-signature-256'];
        const secrets = await deps.secrets();
        const body = raw ?? Buffer.alloc(0);
        if (!secrets.some((s) => verifySignature(s, body, typeof header === 'string' ? header : undefined))) {
          throw new GantryError('unauthorized', secrets.length ? 'webhook signature does not match' : 'no webhook secret is configured', {
            hint: 'set the same secret in the GitHub webhook and in GANTRY_GITHUB_WEBHOOK_SECRET (or scm.github.webhookSecretFile)',
          });
        }
        const delivery = typeof req.headers['x-github-delivery'] === 'string' ? req.headers['x-github-delivery'] : undefined;
        if (delivery && seen.has(delivery)) return { body: { ok: true, duplicate: true } };
        if (delivery) {
          seen.add(delivery);
          if (seen.size > REMEMBERED) seen.delete(seen.values().next().value!);
        }
        const event = typeof req.headers['x-github-event'] === 'string' ? req.headers['x-github-event'] : undefined;
        const action = decideWebhook(event);
        if (action.type === 'wake') return { body: { ok: true, event, woke: deps.wake() } };
        if (action.type === 'ping') return { body: { ok: true, event } };
        return { status: 202, body: { ok: true, event: event ?? null, ignored: action.reason } };
      },
    }),
  ];
}
