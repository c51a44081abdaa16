// Gives committed PostgreSQL events their global seq, in batches, one sequencer at a time across
// every coordinator (advisory transaction lock). Each process sequences its own writes a few ms
// after they commit (batching concurrent writers into one pass); a slow poll picks up events left
// by a process that died before sequencing them. A pass is one call of gantry_sequence() (migration
// 012: lock, number, notify in one round trip) and rewrites every event
// it sequences, so under a steady stream of commits passes are spaced `intervalMs` apart: at ×16
// claims, one pass per ~3 ms cost a fifth of a claim's CPU on this 2-core host, one per 15 ms
// about a twentieth. A commit after a quiet spell is sequenced `delayMs` later (never more than
// `intervalMs`), and read-your-writes (caughtUp) waits for neither.
import type pg from 'pg';
import { EVENTS_CHANNEL } from './event-append.js';

const SEQUENCER_LOCK = 7_460_001;
const BATCH = 5000;

/** How long after a commit to sequence it: `delayMs` when idle, never sooner than `intervalMs` after the last pass began. */
export function passDelay(now: number, lastPassAt: number, delayMs: number, intervalMs: number): number {
  return Math.max(delayMs, lastPassAt + intervalMs - now);
}

interface Waiter {
  gen: number;
  resolve: () => void;
  reject: (e: unknown) => void;
}

export class PgSequencer {
  private requested = 0;
  private completed = 0;
  private looping = false;
  private waiters: Waiter[] = [];
  private timer: NodeJS.Timeout | null = null;
  private debounce: NodeJS.Timeout | null = null;
  private closed = false;
  /** When the last pass began (ms, monotonic). */
  private lastPassAt = -Infinity;

  constructor(
    private readonly pool: pg.Pool,
    private readonly delayMs = 3,
    private readonly intervalMs = 15,
  ) {}

  async start(pollMs: number): Promise<void> {
    this.timer = setInterval(() => void this.flush().catch(() => undefined), pollMs);
    this.timer.unref();
    await this.flush();
  }

  /** After a local commit: sequence soon, batched with other writers committing meanwhile. */
  soon(): void {
    if (this.closed || this.debounce) return;
    this.debounce = setTimeout(
      () => {
        this.debounce = null;
        void this.flush().catch(() => undefined);
      },
      passDelay(performance.now(), this.lastPassAt, this.delayMs, this.intervalMs),
    );
  }

  /** Resolves after a sequencing pass that began after this call has finished. */
  flush(): Promise<void> {
    if (this.closed) return Promise.resolve();
    const gen = ++this.requested;
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ gen, resolve, reject }));
    if (!this.looping) void this.loop();
    return done;
  }

  /** Read-your-writes: resolves once everything this process committed so far is sequenced. */
  caughtUp(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.debounce) {
      clearTimeout(this.debounce);
      this.debounce = null;
      return this.flush();
    }
    if (this.completed >= this.requested) return Promise.resolve();
    const gen = this.requested;
    return new Promise<void>((resolve, reject) => this.waiters.push({ gen, resolve, reject }));
  }

  private async loop(): Promise<void> {
    this.looping = true;
    try {
      while (this.completed < this.requested && !this.closed) {
        const target = this.requested;
        let error: unknown = null;
        try {
          while ((await this.pass()) === BATCH);
        } catch (e) {
          error = e;
        }
        this.completed = target;
        this.settle(target, error);
      }
    } finally {
      this.looping = false;
      this.settle(Infinity, null);
    }
  }

  private settle(upTo: number, error: unknown): void {
    const keep: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.gen > upTo) keep.push(w);
      else if (error) w.reject(error);
      else w.resolve();
    }
    this.waiters = keep;
  }

  /** One call of gantry_sequence() (migration 012), in autocommit: lock, number, notify, commit. */
  private async pass(): Promise<number> {
    this.lastPassAt = performance.now();
    const r = await this.pool.query<{ n: number }>({ name: 'gantry_sequence', text: 'SELECT gantry_sequence($1, $2, $3) AS n', values: [SEQUENCER_LOCK, BATCH, EVENTS_CHANNEL] });
    return Number(r.rows[0]?.n ?? 0);
  }

  async close(): Promise<void> {
    if (this.debounce) {
      clearTimeout(this.debounce);
      this.debounce = null;
      // Sequence what this process wrote before going away.
      await this.flush().catch(() => undefined);
    }
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.settle(Infinity, null);
  }
}
