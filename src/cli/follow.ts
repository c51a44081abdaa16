// Following the event stream from the CLI: reconnect with backoff after any disconnect and resume
// with Last-Event-ID, so no event is lost or delivered twice. Ends on SIGINT/SIGTERM or when the
// caller's onEvent returns 'stop'.
import { GantryError } from '../domain/errors.js';
import type { GantryEvent } from '../domain/events.js';
import { connectSse } from '../lib/sse-client.js';
import type { ApiClient } from './client.js';

export interface FollowOptions {
  task?: string;
  fromSeq: number;
  onEvent(e: GantryEvent): void | 'stop' | Promise<void | 'stop'>;
  /** Connection news for a progress line: lost, reconnecting, resumed. */
  onStatus?(message: string): void;
  signal?: AbortSignal;
}

const MAX_BACKOFF_MS = 5000;

/** Resolves with the last seq delivered. */
export async function followEvents(api: ApiClient, o: FollowOptions): Promise<number> {
  const ac = new AbortController();
  const stop = () => ac.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  o.signal?.addEventListener('abort', stop, { once: true });
  let last = o.fromSeq;
  let backoff = 250;
  let attempt = 0;
  try {
    while (!ac.signal.aborted) {
      try {
        const q = new URLSearchParams(o.task ? { task: o.task } : {});
        const stream = await connectSse({ url: `${api.target.url}/api/events/stream?${q}`, token: api.target.token, lastEventId: String(last), signal: ac.signal });
        if (attempt > 0) o.onStatus?.(`reconnected; resumed after #${last}`);
        attempt = 0;
        backoff = 250;
        for await (const m of stream) {
          const e = JSON.parse(m.data) as GantryEvent;
          if (e.seq <= last) continue; // never deliver an event twice
          last = e.seq;
          if ((await o.onEvent(e)) === 'stop') return last;
        }
        if (ac.signal.aborted) break;
      } catch (e) {
        if (ac.signal.aborted) break;
        if (e instanceof Error && /HTTP 40[13]/.test(e.message)) throw new GantryError('unauthorized', 'the event stream refused the token', { hint: 'check --token / GANTRY_TOKEN' });
        if (e instanceof GantryError) throw e;
      }
      attempt++;
      o.onStatus?.(`connection lost; reconnecting (attempt ${attempt}), will resume after #${last}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, backoff);
        ac.signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
      });
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    }
    return last;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
