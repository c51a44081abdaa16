// Pure deciders for GitHub webhook deliveries: is the signature header well formed, and what does an
// event mean to Gantry. The HMAC itself is computed in src/scm/webhook-signature.ts (node:crypto).

/** The events after which a waiting checks or pr-review step may have something new to see. */
export const WAKING_EVENTS = ['check_run', 'check_suite', 'status', 'pull_request_review', 'pull_request'] as const;

export type WebhookAction = { type: 'wake' } | { type: 'issues' } | { type: 'ping' } | { type: 'ignore'; reason: string };

export function decideWebhook(event: string | undefined): WebhookAction {
  if (!event) return { type: 'ignore', reason: 'no X-GitHub-Event header' };
  if (event === 'ping') return { type: 'ping' };
  // Issue intake: an issue opened, labelled or reopened with the intake label is taken in at once.
  if (event === 'issues') return { type: 'issues' };
  if ((WAKING_EVENTS as readonly string[]).includes(event)) return { type: 'wake' };
  return { type: 'ignore', reason: `event ${event} is not one Gantry acts on` };
}

/** The hex digest of `sha256=<64 hex>`, or null when the header is absent or malformed. */
export function parseSignatureHeader(header: string | undefined): string | null {
  const m = /^sha256=([0-9a-f]{64})$/i.exec(header?.trim() ?? '');
  return m ? m[1]!.toLowerCase() : null;
}
