// GitHub's X-Hub-Signature-256: HMAC-SHA256 of the exact request bytes with the webhook secret,
// compared in constant time so a forger learns nothing from how long a refusal takes.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { parseSignatureHeader } from '../domain/forge/webhook.js';

export function signBody(secret: string, raw: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(raw).digest('hex')}`;
}

export function verifySignature(secret: string, raw: Buffer, header: string | undefined): boolean {
  const got = parseSignatureHeader(header);
  if (!got || !secret) return false;
  const want = createHmac('sha256', secret).update(raw).digest();
  return timingSafeEqual(want, Buffer.from(got, 'hex'));
}
