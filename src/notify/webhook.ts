// Webhook channel: POSTs the notification as JSON, signed with HMAC-SHA256 over the exact body
// (`X-Gantry-Signature: sha256=<hex>`), so a receiver can verify it came from this Gantry.
import { createHmac } from 'node:crypto';
import type { NotificationChannel, NotificationMessage } from '../ports/lifecycle.js';

export const SIGNATURE_HEADER = 'x-gantry-signature';

export const sign = (secret: string, body: string): string => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

export class WebhookChannel implements NotificationChannel {
  readonly type = 'webhook';

  constructor(readonly name: string, private readonly o: { url: string; secret: string | null; timeoutMs?: number }) {}

  unavailable(): string | null {
    return this.o.secret ? null : `webhook ${this.name} has no signing secret (set secret or secretEnv)`;
  }

  async send(m: NotificationMessage): Promise<void> {
    if (!this.o.secret) return;
    const body = JSON.stringify({ type: `notification.${m.reason}`, notification: m });
    const res = await fetch(this.o.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'gantry-notify',
        'x-gantry-event': `notification.${m.reason}`,
        // Stable per notification and reason: receivers de-duplicate at-least-once retries with it.
        'x-gantry-delivery': `${m.id}:${m.reason}`,
        [SIGNATURE_HEADER]: sign(this.o.secret, body),
      },
      body,
      signal: AbortSignal.timeout(this.o.timeoutMs ?? 10_000),
    });
    await res.arrayBuffer().catch(() => undefined);
    if (!res.ok) throw new Error(`webhook ${this.name}: HTTP ${res.status}`);
  }
}
