// Per-session hook tokens: an HMAC of (session, launch generation) under a coordinator secret.
// Nothing to store per session; a token names its own generation, so hooks from an older launch
// are recognized (and ignored by the lifecycle) rather than rejected as forgeries.
import { createHmac, timingSafeEqual } from 'node:crypto';

export class HookTokens {
  constructor(private readonly secret: string) {
    if (secret.length < 16) throw new Error('hook token secret too short');
  }

  private mac(sessionId: string, generation: number): string {
    return createHmac('sha256', this.secret).update(`${sessionId}\n${generation}`).digest('base64url');
  }

  issue(sessionId: string, generation: number): string {
    return `${generation}.${this.mac(sessionId, generation)}`;
  }

  /** The launch generation the token was issued for, or null when it is not valid for the session. */
  verify(sessionId: string, token: string | undefined): number | null {
    const m = /^(\d{1,9})\.([A-Za-z0-9_-]+)$/.exec(token ?? '');
    if (!m?.[1] || !m[2]) return null;
    const generation = Number(m[1]);
    const want = Buffer.from(this.mac(sessionId, generation));
    const got = Buffer.from(m[2]);
    return got.length === want.length && timingSafeEqual(got, want) ? generation : null;
  }
}
