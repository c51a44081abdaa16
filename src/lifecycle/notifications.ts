// The notification service: the in-app list (raised → acknowledged → resolved, escalating once when
// nobody acknowledges in time) and the outbox that sends each notification to its routed channels
// with retries. Rows and their outbox entries are written in the transaction that raised them, so a
// restart neither loses nor repeats a notification; channel sends are at-least-once per channel.
import { GantryError, notFound } from '../domain/errors.js';
import { canMove, route, shouldEscalate, type NotificationState, type Routing } from '../domain/lifecycle-rules/notification.js';
import type { Priority } from '../domain/lifecycle-rules/reactions.js';
import type { Clock } from '../ports/clock.js';
import type {
  ChannelDirectory, ChannelSet, DeliveryRecord, LifecycleStore, LifecycleTx, NewNotification, NotificationChannel, NotificationFilter, NotificationRecord,
} from '../ports/lifecycle.js';

export interface NotificationOptions {
  store: LifecycleStore;
  clock: Clock;
  /** The coordinator's channels, used for projects that configure none (and without a directory). */
  channels?: readonly NotificationChannel[];
  routing?: Routing;
  /** A raised notification nobody acknowledged within this escalates (once). null = never. */
  escalateAfterMs?: number | null;
  /** Per-project channel sets (each project's gantry.yaml `notifications:`). */
  directory?: ChannelDirectory;
  maxAttempts?: number;
  /** Delay before retry n (1-based). */
  backoffMs?: (attempt: number) => number;
  /** A send that has not finished after this is presumed lost with its process and retried. */
  sendTimeoutMs?: number;
}

const DEFAULT_ROUTING: Routing = { low: [], normal: [], high: [], urgent: [] };

interface Resolved {
  channels: Map<string, NotificationChannel>;
  routing: Routing;
  escalateAfterMs: number | null;
}

const resolved = (s: ChannelSet): Resolved => ({ channels: new Map(s.channels.map((c) => [c.name, c])), routing: s.routing, escalateAfterMs: s.escalateAfterMs });

export class NotificationService {
  private readonly fallback: Resolved;
  private readonly maxAttempts: number;
  private readonly backoffMs: (attempt: number) => number;
  private readonly sendTimeoutMs: number;
  private dispatching: Promise<void> | null = null;
  private again = false;

  constructor(private readonly o: NotificationOptions) {
    this.fallback = resolved({ channels: o.channels ?? [], routing: o.routing ?? DEFAULT_ROUTING, escalateAfterMs: o.escalateAfterMs === undefined ? 15 * 60_000 : o.escalateAfterMs });
    this.maxAttempts = o.maxAttempts ?? 5;
    this.backoffMs = o.backoffMs ?? ((n) => Math.min(1000 * 2 ** (n - 1), 5 * 60_000));
    this.sendTimeoutMs = o.sendTimeoutMs ?? 2 * 60_000;
  }

  private async setFor(projectId: string | null): Promise<Resolved> {
    if (!this.o.directory) return this.fallback;
    return resolved(await this.o.directory.forProject(projectId));
  }

  /** Channel names a notification of this project and priority goes to. */
  async channelsFor(projectId: string | null, priority: Priority, escalation: boolean): Promise<string[]> {
    const set = await this.setFor(projectId);
    return route(priority, escalation, set.routing, new Set(set.channels.keys()));
  }

  /** Raise inside a caller's transaction; undefined when the signature was already raised. */
  async raiseIn(tx: LifecycleTx, n: NewNotification, now: number): Promise<NotificationRecord | undefined> {
    const rec = await tx.notifications.raise(n, await this.channelsFor(n.projectId, n.priority, false), now);
    if (rec) tx.emit({ type: 'notification.raised', taskId: rec.taskId, sessionId: rec.sessionId, payload: { notificationId: rec.id, kind: rec.kind, priority: rec.priority } });
    return rec;
  }

  /** Resolve inside a caller's transaction every open notification of a session and kind. */
  async resolveIn(tx: LifecycleTx, sessionId: string, kind: string, now: number): Promise<number> {
    let resolved = 0;
    for (const n of await tx.notifications.openFor(sessionId, kind)) {
      const moved = await tx.notifications.move(n.id, n.rev, 'resolved', now);
      if (moved) {
        resolved++;
        tx.emit({ type: 'notification.resolved', taskId: moved.taskId, sessionId: moved.sessionId, payload: { notificationId: moved.id, kind: moved.kind, by: 'lifecycle' } });
      }
    }
    return resolved;
  }

  async raise(n: NewNotification): Promise<NotificationRecord | undefined> {
    const now = this.o.clock.now();
    const rec = await this.o.store.write((tx) => this.raiseIn(tx, n, now));
    if (rec) this.kick();
    return rec;
  }

  list(f: NotificationFilter = {}): Promise<NotificationRecord[]> {
    return this.o.store.read.notifications.list(f);
  }

  async get(id: string): Promise<NotificationRecord> {
    const n = await this.o.store.read.notifications.get(id);
    if (!n) throw notFound('notification', id, 'list them with `gantry notifications`');
    return n;
  }

  acknowledge(id: string): Promise<NotificationRecord> {
    return this.move(id, 'acknowledged');
  }

  resolve(id: string): Promise<NotificationRecord> {
    return this.move(id, 'resolved');
  }

  private async move(id: string, to: NotificationState): Promise<NotificationRecord> {
    for (;;) {
      const cur = await this.get(id);
      if (cur.state === to) return cur;
      if (!canMove(cur.state, to)) {
        throw new GantryError('conflict', `notification ${id} is ${cur.state}; it cannot become ${to}`, {
          hint: cur.state === 'resolved' ? 'it is already resolved: nothing to do' : 'resolve it instead',
        });
      }
      const now = this.o.clock.now();
      const moved = await this.o.store.write(async (tx) => {
        const m = await tx.notifications.move(id, cur.rev, to, now);
        if (m) tx.emit({ type: `notification.${to}`, taskId: m.taskId, sessionId: m.sessionId, payload: { notificationId: m.id, kind: m.kind, by: 'person' } });
        return m;
      });
      if (moved) return moved;
    }
  }

  /** Route notifications raised elsewhere, escalate stale ones, recover sends lost in a crash, and send what is due. */
  async tick(now: number): Promise<{ escalated: number; routed: number }> {
    const routed = await this.routePending(now);
    let escalated = 0;
    for (const n of await this.o.store.read.notifications.list({ states: ['raised'], limit: 500 })) {
      const set = await this.setFor(n.projectId);
      if (!shouldEscalate(n, now, set.escalateAfterMs)) continue;
      const channels = await this.channelsFor(n.projectId, n.priority, true);
      const ok = await this.o.store.write(async (tx) => {
        const m = await tx.notifications.move(n.id, n.rev, 'escalated', now);
        if (!m) return false;
        await tx.notifications.queueDeliveries(m.id, channels, 'escalated', now);
        tx.emit({ type: 'notification.escalated', taskId: m.taskId, sessionId: m.sessionId, payload: { notificationId: m.id, kind: m.kind, priority: m.priority } });
        return true;
      });
      if (ok) escalated++;
    }
    await this.o.store.write((tx) => tx.notifications.requeueStaleSending(now - this.sendTimeoutMs, now));
    await this.dispatch(now);
    return { escalated, routed };
  }

  /**
   * The pipeline engine raises notifications in its run transaction, where channels are unknown:
   * queue their deliveries now (exactly once, whichever coordinator gets there first).
   */
  private async routePending(now: number): Promise<number> {
    let routed = 0;
    // All of them before escalation looks at any (an escalation must not precede its own raise),
    // in pages; bounded so one tick cannot spin.
    for (let page = 0; page < 50; page++) {
      const pending = await this.o.store.read.notifications.unrouted(100);
      for (const n of pending) {
        // Acknowledged or resolved before it was routed: nothing left to tell anyone.
        const channels = n.state === 'raised' ? await this.channelsFor(n.projectId, n.priority, false) : [];
        const ok = await this.o.store.write(async (tx) => {
          if (!(await tx.notifications.markRouted(n.id))) return false;
          await tx.notifications.queueDeliveries(n.id, channels, 'raised', now);
          return true;
        });
        if (ok) routed++;
      }
      if (pending.length < 100) break;
    }
    return routed;
  }

  /** Send due deliveries soon, without waiting for the next tick. */
  kick(): void {
    void this.dispatch(this.o.clock.now()).catch((e: unknown) => process.emitWarning(`notification dispatch failed: ${String(e)}`));
  }

  /** One dispatcher at a time per process; a request during a run schedules one more pass. */
  dispatch(now: number): Promise<void> {
    if (this.dispatching) {
      this.again = true;
      return this.dispatching;
    }
    this.dispatching = (async () => {
      try {
        let t = now;
        do {
          this.again = false;
          await this.dispatchOnce(t);
          t = Math.max(t, this.o.clock.now());
        } while (this.again);
      } finally {
        this.dispatching = null;
      }
    })();
    return this.dispatching;
  }

  /** Resolves when the outbox has nothing due (tests and shutdown). */
  async idle(): Promise<void> {
    while (this.dispatching) await this.dispatching;
  }

  private async dispatchOnce(now: number): Promise<void> {
    const due = await this.o.store.read.notifications.dueDeliveries(now, 100);
    await Promise.all(due.map((d) => this.deliver(d, now)));
  }

  private async deliver(d: DeliveryRecord, now: number): Promise<void> {
    const store = this.o.store;
    // Claim first: another coordinator (or a concurrent pass) that claimed it wins.
    const claimed = await store.write((tx) => tx.notifications.setDelivery(d.id, d.rev, { state: 'sending', lastError: d.lastError }, now));
    if (!claimed) return;
    const rev = d.rev + 1;
    const attempts = d.attempts + 1;
    const n = await store.read.notifications.get(d.notificationId);
    const channel = (await this.setFor(n?.projectId ?? null)).channels.get(d.channel);
    let error: string | null = null;
    // Settled before it went out (the person already answered): nobody is paged for it.
    const settled = n?.state === 'resolved' ? 'resolved before it was sent' : null;
    if (!channel) error = `channel ${d.channel} is not configured`;
    else if (!n) error = 'notification vanished';
    else if (settled === null && channel.unavailable() === null) {
      try {
        await channel.send({
          id: n.id, kind: n.kind, priority: n.priority, state: n.state, title: n.title, sessionId: n.sessionId, taskId: n.taskId,
          reason: d.reason, createdAt: n.createdAt, detail: n.detail,
        });
      } catch (e) {
        error = e instanceof Error ? e.message : String(e);
      }
    }
    const at = this.o.clock.now();
    await store.write(async (tx) => {
      const skipped = !error && (settled ?? channel?.unavailable());
      if (!error) {
        const moved = await tx.notifications.setDelivery(d.id, rev, skipped ? { state: 'skipped', attempts, lastError: skipped } : { state: 'sent', attempts, lastError: null }, at);
        if (moved) tx.emit({ type: 'notification.delivered', taskId: n?.taskId ?? null, sessionId: n?.sessionId ?? null, payload: { notificationId: d.notificationId, channel: d.channel, state: skipped ? 'skipped' : 'sent', attempts } });
        return;
      }
      const final = attempts >= this.maxAttempts || !channel;
      await tx.notifications.setDelivery(d.id, rev, final
        ? { state: 'failed', attempts, lastError: error }
        : { state: 'pending', attempts, nextAt: at + this.backoffMs(attempts), lastError: error }, at);
      if (final) tx.emit({ type: 'notification.delivery_failed', taskId: n?.taskId ?? null, sessionId: n?.sessionId ?? null, payload: { notificationId: d.notificationId, channel: d.channel, attempts, error: error.slice(0, 300) } });
    });
  }
}
