// GitHub webhook deliveries. The route reads the raw bytes (the signature covers them exactly) and, before
// trusting anything in them, only which repository the delivery is about: the secrets that may sign it
// are that repository's project's (or the process-wide one). Anything else is refused (401, nothing
// changes) — one project's secret never vouches for another project's repository. Then it acts: check,
// status, review and pull request events wake the forge polls sleeping in this process that the delivery
// concerns (polling stays the fallback), then the pull request of the task they name is looked at for
// the change axis; `issues` events feed issue intake.
// A delivery id seen before is acknowledged and not acted on again.
import { randomBytes } from 'node:crypto';
import { GantryError } from '../../domain/errors.js';
import { decideWebhook, deliveryRepository, parseDelivery, wakeTarget, type WakeTarget } from '../../domain/forge/webhook.js';
import { verifySignature } from '../../scm/webhook-signature.js';
import { defineRoute, type Route } from '../route.js';

export interface ForgeWebhookDeps {
  /** The secrets a delivery about `repo` (its `repository.full_name`, or null) may be signed with, and whether any is configured at all. */
  secrets(repo: string | null): Promise<{ secrets: string[]; configured: boolean }>;
  /** Checks X-Hub-Signature-256 (default: HMAC-SHA256, constant-time compare); a seam for tests. */
  verify?(secret: string, body: Buffer, header: string | undefined): boolean;
  /** Wakes the sleeping forge polls the delivery concerns; returns how many woke. */
  wake(target: WakeTarget): number;
  /** After the wake: the tasks' pull requests a change event names are looked at (the change axis), and `issues` events feed intake. */
  events?: {
    change(event: string, payload: unknown): Promise<{ observed: string[] }>;
    issue(payload: unknown): Promise<{ taken: { issue: number; taskId: string; created: boolean }[]; ignored?: string }>;
  };
}

const REMEMBERED = 1000;

/**
 * Verified against when a delivery has no candidate secret (a repository no project serves): every
 * refusal then costs one HMAC over the body, as a wrong signature for a served repository does, so the
 * time a refusal takes does not tell which repositories are served. Random per process: it never matches.
 */
export const DUMMY_WEBHOOK_KEY = randomBytes(32).toString('hex');

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
        const body = raw ?? Buffer.alloc(0);
        const contentType = req.headers['content-type'];
        // Untrusted until verified: only the repository is read from it, to know whose secret may sign it.
        const parsed = parseDelivery(body.toString('utf8'), contentType);
        const repo = parsed.ok ? deliveryRepository(parsed.payload) : null;
        const { secrets, configured } = await deps.secrets(repo);
        // Every candidate is checked (no early exit), each in constant time.
        const verify = deps.verify ?? verifySignature;
        const sig = typeof header === 'string' ? header : undefined;
        let verified = false;
        for (const s of secrets) verified = verify(s, body, sig) || verified;
        if (secrets.length === 0) verify(DUMMY_WEBHOOK_KEY, body, sig); // the same work as a served repository's refusal; the result is ignored
        if (!verified) {
          // The same answer whether the repository is unknown or the signature wrong: a refusal does not say which repositories are served.
          throw new GantryError('unauthorized', configured ? 'webhook signature does not match' : 'no webhook secret is configured', {
            hint: "set the same secret in the GitHub webhook and in GANTRY_GITHUB_WEBHOOK_SECRET, or in scm.github.webhookSecretFile of the project whose repository (scm.github.repo, else its remote) sends it: a project's secret signs deliveries about its own repository only",
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
        if (!parsed.ok) {
          throw new GantryError('bad_request', 'the delivery carries no JSON payload', { hint: 'set the webhook content type to application/json (application/x-www-form-urlencoded with a payload field also works)' });
        }
        const payload = parsed.payload;
        if (action.type === 'issues') {
          if (!deps.events) return remember({ status: 202, body: { ok: true, event, ignored: 'issue intake is not served here' } });
          return remember({ body: { ok: true, event, ...(await deps.events.issue(payload)) } });
        }
        const woke = deps.wake(wakeTarget(event!, payload));
        return remember({ body: { ok: true, event, woke, ...(deps.events ? await deps.events.change(event!, payload) : {}) } });
      },
    }),
  ];
}
