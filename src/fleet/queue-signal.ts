// Wakes claimers when work may have become claimable. Follows the event log (woken by LISTEN/NOTIFY
// on PostgreSQL, by the committing process on SQLite, by a slow poll as the backstop) and remembers
// the seq of the last event that put a task in `queued`.
import { addsQueuedWork, type GantryEvent } from '../domain/events.js';
import type { EventLog } from '../ports/store.js';

/** True for events after which a claim may succeed where it failed before. */
export function makesWork(e: GantryEvent): boolean {
  if (addsQueuedWork(e)) return true;
  // A freed seat or a factory back from drain lets its own claim loop take more.
  return e.type === 'lease.released' || e.type === 'factory.drain';
}

export class QueueSignal {
  private current = -1;
  private unfollow: (() => void) | null = null;
  private starting: Promise<void> | null = null;
  private readonly waiters = new Set<{ check: () => void; done: () => void }>();

  constructor(private readonly events: EventLog) {}

  start(): Promise<void> {
    if (!this.starting) {
      this.starting = (async () => {
        const seq = await this.events.latestSeq();
        if (this.current < seq) this.current = seq;
        this.unfollow = this.events.follow(seq, (e) => {
          if (!makesWork(e)) return;
          if (e.seq > this.current) this.current = e.seq;
          for (const w of [...this.waiters]) w.check();
        });
      })();
    }
    return this.starting;
  }

  async version(): Promise<number> {
    await this.start();
    return this.current;
  }

  async wait(since: number, timeoutMs: number, signal?: AbortSignal): Promise<number> {
    await this.start();
    if (this.current > since || signal?.aborted) return this.current;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(w);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const check = (): void => {
        if (this.current > since) done();
      };
      const timer = setTimeout(done, timeoutMs);
      const w = { check, done };
      this.waiters.add(w);
      signal?.addEventListener('abort', done);
    });
    return this.current;
  }

  stop(): void {
    this.unfollow?.();
    this.unfollow = null;
    this.starting = null;
    for (const w of [...this.waiters]) w.done();
  }
}
