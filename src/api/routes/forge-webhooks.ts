// GitHub webhook deliveries. The route reads the raw bytes (the signature covers them exactly), refuses
// anything not signed with a configured secret (401, nothing changes), then acts: check, status, review
// and pull request events wake the forge polls sleeping in this process (polling stays the fallback),
// then the pull request of the task they name is looked at for the change axis; `issues` events feed
// issue intake.
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
  /** After the wake: the tasks' pull requests a change event names are looked at (the change axis), and `issues` events feed intake. */
  events?: {
    change(event: string, payload: unknown): Promise<{ observed: string[] }>;
    issue(payload: unknown): Promise<{ taken: { issue: number; taskId: string; created: boolean }[]; ignored?: string }>;
  };
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
        const event = typeof req.headers['x-github-event'] === 'string' ? req.headers['x-github-event'] : undefined;
        const action = decideWebhook(event);
        // Remembered only once acted on: a delivery refused or failed here can be redelivered (same id).
        const remember = <T,>(answer: T): T => {
          if (delivery) {
            seen.add(delivery);
            if (seen.size > REMEMBERED) seen.delete(seen.values().next().value!);
          }
          return answer;
        };
        if (action.type === 'ping') return remember({ body: { ok: true, event } });
        if (action.type === 'ignore') return remember({ status: 202, body: { ok: true, event: event ?? null, ignored: action.reason } });
        const payload = deps.events ? parsePayload(body, req.headers['content-type']) : null;
        if (action.type === 'issues') {
          if (!deps.events) return remember({ status: 202, body: { ok: true, event, ignored: 'issue intake is not served here' } });
          return remember({ body: { ok: true, event, ...(await deps.events.issue(payload)) } });
        }
        const woke = deps.wake();
        return remember({ body: { ok: true, event, woke, ...(deps.events ? await deps.events.change(event!, payload) : {}) } });
      },
    }),
  ];
}

/** A delivery's payload: GitHub sends JSON, or (content type "application/x-www-form-urlencoded") `payload=<JSON>`. */
function parsePayload(body: Buffer, contentType: string | undefined): unknown {
  const text = body.toString('utf8');
  try {
    if (contentType?.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
      const payload = new URLSearchParams(text).get('payload');
      if (payload === null) throw new Error('no payload field');
      return JSON.parse(payload);
    }
    return JSON.parse(text);
  } catch {
    throw new GantryError('bad_request', 'the delivery carries no JSON payload', { hint: 'set the webhook content type to application/json (application/x-www-form-urlencoded with a payload field also works)' });
  }
}
