// One follower per store instance: wakes on local commits, on NOTIFY from other coordinators,
// and on a slow poll as a backstop; fans events out to subscribers, each exactly once, in order.
import type { GantryEvent } from '../domain/events.js';
import type { SqlDatabase } from '../ports/sql.js';
import { toEvent } from './rows.js';
import { EVENTS_CHANNEL } from './event-append.js';


/** Call to stop; `ready` resolves once the replay is done and live delivery has begun. */
export type Subscription = (() => void) & { ready: Promise<void> };

interface Sub {
  cursor: number;
  catchingUp: boolean;
  buffer: GantryEvent[];
  onEvent: (e: GantryEvent) => void;
}

export class EventFeed {
  private readonly subs = new Set<Sub>();
  private cursor = -1;
  private fetching: Promise<void> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private unlisten: (() => Promise<void>) | null = null;
  private started: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly db: SqlDatabase,
    private readonly pollMs: number,
  ) {}

  private start(): Promise<void> {
    if (!this.started) {
      this.started = (async () => {
        const row = await this.db.get<{ m: number | null }>('SELECT MAX(seq) AS m FROM events');
        if (this.cursor < 0) this.cursor = Number(row?.m ?? 0);
        this.unlisten = await this.db.listen(EVENTS_CHANNEL, () => this.wake());
        this.timer = setInterval(() => this.wake(), this.pollMs);
        this.timer.unref();
      })();
    }
    return this.started;
  }

  /** Called after a local commit, on NOTIFY, and by the poll timer. Coalesces concurrent wakes. */
  wake(): void {
    if (this.closed || this.subs.size === 0) return;
    if (this.fetching) {
      this.again = true;
      return;
    }
    this.fetching = (async () => {
      try {
        await this.start();
        do {
          this.again = false;
          for (;;) {
            const rows = await this.db.all('SELECT * FROM events WHERE seq > ? ORDER BY seq LIMIT 500', [this.cursor]);
            for (const r of rows) {
              const e = toEvent(r);
              this.cursor = e.seq;
              this.dispatch(e);
            }
            if (rows.length < 500) break;
          }
        } while (this.again && !this.closed);
      } catch {
        // Transient read failure: the next wake or poll retries from the same cursor.
      } finally {
        this.fetching = null;
      }
    })();
  }

  private dispatch(e: GantryEvent): void {
    for (const s of this.subs) {
      if (s.catchingUp) s.buffer.push(e);
      else if (e.seq > s.cursor) {
        s.cursor = e.seq;
        safeCall(s.onEvent, e);
      }
    }
  }

  follow(fromSeq: number, onEvent: (e: GantryEvent) => void): Subscription {
    const sub: Sub = { cursor: fromSeq, catchingUp: true, buffer: [], onEvent };
    this.subs.add(sub);
    const ready = (async () => {
      try {
        await this.start();
        for (;;) {
          if (!this.subs.has(sub)) return;
          const rows = await this.db.all('SELECT * FROM events WHERE seq > ? ORDER BY seq LIMIT 500', [sub.cursor]);
          for (const r of rows) {
            const e = toEvent(r);
            sub.cursor = e.seq;
            safeCall(onEvent, e);
          }
          if (rows.length < 500) break;
        }
      } catch {
        // fall through: the live feed continues from sub.cursor
      }
      sub.catchingUp = false;
      const buffered = sub.buffer;
      sub.buffer = [];
      for (const e of buffered) {
        if (e.seq > sub.cursor) {
          sub.cursor = e.seq;
          safeCall(onEvent, e);
        }
      }
      this.wake();
    })();
    return Object.assign(() => void this.subs.delete(sub), { ready });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.subs.clear();
    if (this.timer) clearInterval(this.timer);
    if (this.started) await this.started.catch(() => undefined);
    if (this.unlisten) await this.unlisten();
    if (this.fetching) await this.fetching;
  }
}

function safeCall(fn: (e: GantryEvent) => void, e: GantryEvent): void {
  try {
    fn(e);
  } catch {
    // A subscriber's failure must not stop the feed for others.
  }
}
