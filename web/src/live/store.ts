// The live model behind every page: the board's tasks, open notifications and the connection state,
// kept current by the event stream. Events carry ids, never titles or bodies, so a task event marks
// the task dirty and a coalescing flush refetches dirty tasks (one request each, or the whole board
// when many changed at once). The stream resumes from the last seen seq after any disconnect.
import { ApiError, type Api } from '../api/client.js';
import type { CardFacts, GantryEvent, Notification, Task } from '../api/types.js';

export type Conn = 'connecting' | 'live' | 'reconnecting';

export interface LiveState {
  tasks: ReadonlyMap<string, Task>;
  /** Each card's facts (step, attempt, elapsed, lines, cost, merge SHA, why waiting), by task id. */
  facts: ReadonlyMap<string, CardFacts>;
  loaded: boolean;
  error: string | null;
  conn: Conn;
  /** Last event seq applied. */
  seq: number;
  /** Why each parked run waits (from the engine's park events), by task id. */
  parks: ReadonlyMap<string, string>;
  notifications: readonly Notification[];
  /** Bumped by fleet events (factories, leases); the fleet page refetches on change. */
  fleetTick: number;
}

/** Above this many dirty tasks in one flush, reloading the board is cheaper than one GET each. */
const BULK_THRESHOLD = 40;
const PARALLEL = 4;

export class LiveStore {
  private state: LiveState = { tasks: new Map(), facts: new Map(), loaded: false, error: null, conn: 'connecting', seq: 0, parks: new Map(), notifications: [], fleetTick: 0 };
  private readonly listeners = new Set<() => void>();
  private readonly eventListeners = new Set<(e: GantryEvent) => void>();
  private readonly dirty = new Set<string>();
  private flushing = false;
  private flushQueued = false;
  private notifQueued = false;
  private es: EventSource | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private retryMs = 500;
  private stopped = false;

  constructor(
    private readonly api: Api,
    private readonly features: ReadonlySet<string>,
  ) {}

  has(feature: string): boolean {
    return this.features.has(feature);
  }

  subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  getState = (): LiveState => this.state;

  /** Every event as it arrives (task pages append to their timelines without refetching). */
  onEvent(fn: (e: GantryEvent) => void): () => void {
    this.eventListeners.add(fn);
    return () => this.eventListeners.delete(fn);
  }

  async start(): Promise<void> {
    try {
      await this.reload();
      if (this.has('GET /api/notifications')) await this.loadNotifications();
    } catch (e) {
      this.set({ error: e instanceof Error ? e.message : String(e) });
    }
    this.open();
  }

  stop(): void {
    this.stopped = true;
    this.es?.close();
    if (this.retryTimer) clearTimeout(this.retryTimer);
  }

  /** Refetch one task now (after an action on it), without waiting for its event. */
  refreshTask(id: string): void {
    this.markDirty(id);
  }

  private set(patch: Partial<LiveState>): void {
    this.state = { ...this.state, ...patch };
    for (const l of this.listeners) l();
  }

  private async reload(): Promise<void> {
    const snap = await this.api.board();
    const tasks = new Map(snap.tasks.map((t) => [t.id, t]));
    const parks = new Map(this.state.parks);
    for (const [id, p] of Object.entries(snap.parks ?? {})) parks.set(id, p.waiting);
    const facts = new Map(Object.entries(snap.facts ?? {}));
    this.set({ tasks, facts, parks, loaded: true, error: null, seq: Math.max(this.state.seq, snap.seq) });
  }

  private open(): void {
    if (this.stopped) return;
    const es = new EventSource(this.api.streamUrl(this.state.seq));
    this.es = es;
    es.onopen = () => {
      this.retryMs = 500;
      this.set({ conn: 'live' });
    };
    es.onmessage = (m: MessageEvent<string>) => {
      let e: GantryEvent;
      try {
        e = JSON.parse(m.data) as GantryEvent;
      } catch {
        return;
      }
      this.apply(e);
    };
    es.onerror = () => {
      if (this.stopped) return;
      this.set({ conn: 'reconnecting' });
      // CONNECTING: the browser retries by itself, sending Last-Event-ID. CLOSED: it gave up
      // (e.g. a non-stream response) — check the token, then reopen from the last seq we applied.
      if (es.readyState !== EventSource.CLOSED) return;
      es.close();
      this.retryTimer = setTimeout(() => {
        this.api.whoami().then(
          () => this.open(),
          (err: unknown) => {
            if (!(err instanceof ApiError && err.status === 401)) this.open();
          },
        );
      }, this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 10_000);
    };
  }

  private apply(e: GantryEvent): void {
    if (e.seq <= this.state.seq) return; // already in the snapshot, or replayed after a reconnect
    const patch: Partial<LiveState> = { seq: Math.max(e.seq, this.state.seq) };
    if (e.taskId) {
      this.markDirty(e.taskId);
      if (e.type.endsWith('.parked')) {
        const reason = e.payload.waiting ?? e.payload.reason ?? e.payload.kind;
        if (typeof reason === 'string') patch.parks = new Map(this.state.parks).set(e.taskId, reason);
      }
    }
    if (/^(factory|lease|fleet)\./.test(e.type) || e.type === 'task.action') patch.fleetTick = this.state.fleetTick + 1;
    if (e.type.startsWith('notification.') && this.has('GET /api/notifications')) this.queueNotifications();
    this.set(patch);
    for (const l of this.eventListeners) l(e);
  }

  private markDirty(id: string): void {
    this.dirty.add(id);
    if (this.flushQueued || this.flushing) return;
    this.flushQueued = true;
    setTimeout(() => void this.flush(), 0);
  }

  private async flush(): Promise<void> {
    this.flushQueued = false;
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.dirty.size) {
        const ids = [...this.dirty];
        this.dirty.clear();
        if (ids.length > BULK_THRESHOLD) {
          await this.reload();
          continue;
        }
        if (this.has('GET /api/ui/cards')) {
          await this.refreshCards(ids);
          continue;
        }
        const got = new Map<string, Task | null>();
        for (let i = 0; i < ids.length; i += PARALLEL) {
          await Promise.all(
            ids.slice(i, i + PARALLEL).map((id) =>
              this.api.task(id).then(
                (t) => void got.set(id, t),
                (err: unknown) => {
                  if (err instanceof ApiError && err.status === 404) got.set(id, null);
                  else this.dirty.add(id); // transient: try again on the next pass
                },
              ),
            ),
          );
        }
        const tasks = new Map(this.state.tasks);
        for (const [id, t] of got) {
          if (t) tasks.set(id, t);
          else tasks.delete(id);
        }
        this.set({ tasks });
        if (this.dirty.size && [...this.dirty].every((id) => !got.has(id))) await new Promise((r) => setTimeout(r, 1000));
      }
    } catch (e) {
      this.set({ error: e instanceof Error ? e.message : String(e) });
    } finally {
      this.flushing = false;
    }
  }

  /** One request for every dirty task and its card facts; a task not returned no longer exists. */
  private async refreshCards(ids: string[]): Promise<void> {
    let r;
    try {
      r = await this.api.cards(ids);
    } catch (err) {
      for (const id of ids) this.dirty.add(id); // transient: try again after a pause
      if (!(err instanceof ApiError && err.status < 500)) await new Promise((res) => setTimeout(res, 1000));
      else throw err;
      return;
    }
    const tasks = new Map(this.state.tasks);
    const facts = new Map(this.state.facts);
    const seen = new Set(r.tasks.map((t) => t.id));
    for (const t of r.tasks) tasks.set(t.id, t);
    for (const [id, f] of Object.entries(r.facts)) facts.set(id, f);
    for (const id of ids) {
      if (seen.has(id)) continue;
      tasks.delete(id);
      facts.delete(id);
    }
    this.set({ tasks, facts });
  }

  private queueNotifications(): void {
    if (this.notifQueued) return;
    this.notifQueued = true;
    setTimeout(() => {
      this.notifQueued = false;
      void this.loadNotifications();
    }, 50);
  }

  async loadNotifications(): Promise<void> {
    try {
      this.set({ notifications: await this.api.notifications() });
    } catch {
      /* the panel shows what it had; the next notification event retries */
    }
  }
}
