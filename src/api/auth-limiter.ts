// Failed authentications are rate limited per client address (rate-limiter-flexible, in memory):
// past `failures` invalid tokens within `windowSec`, the address is refused with 429 for `blockSec`
// without a store lookup. Tokens that verified before on this coordinator still pass, so one
// misconfigured script cannot lock the dashboard or a factory out of a shared address (a proxy, a
// laptop's loopback). A request with no token at all is a plain 401 and is not counted.
import { createHash } from 'node:crypto';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';

export interface AuthLimits {
  failures: number;
  windowSec: number;
  blockSec: number;
}

export const DEFAULT_AUTH_LIMITS: Readonly<AuthLimits> = Object.freeze({ failures: 30, windowSec: 60, blockSec: 60 });

const KNOWN_GOOD_MAX = 1000;

export class AuthLimiter {
  private readonly limiter: RateLimiterMemory;
  private readonly knownGood = new Set<string>();

  constructor(readonly limits: AuthLimits = DEFAULT_AUTH_LIMITS) {
    this.limiter = new RateLimiterMemory({ points: limits.failures, duration: limits.windowSec, blockDuration: limits.blockSec });
  }

  /** What the limiter remembers of a secret (a digest, never the secret). */
  keyOf(secret: string): string {
    return createHash('sha256').update(secret).digest('base64url');
  }

  /** Milliseconds until `client` may try again, or 0 when this request (its secret's `key`) may be checked. */
  async retryAfterMs(client: string, key: string): Promise<number> {
    if (this.knownGood.has(key)) return 0;
    const r = await this.limiter.get(client);
    return r && r.consumedPoints > this.limits.failures ? Math.max(1, r.msBeforeNext) : 0;
  }

  async failed(client: string): Promise<void> {
    await this.limiter.consume(client).catch((e: unknown) => {
      if (!(e instanceof RateLimiterRes)) throw e; // over the limit: now blocked
    });
  }

  succeeded(key: string): void {
    if (this.knownGood.has(key)) return;
    if (this.knownGood.size >= KNOWN_GOOD_MAX) this.knownGood.delete(this.knownGood.values().next().value as string);
    this.knownGood.add(key);
  }
}
