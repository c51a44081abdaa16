// The per-session input queue: `gantry reply`, the API and reactions enqueue; delivery hands one
// input at a time to the agent between turns (never into an open permission prompt); the agent's
// next turn starting acknowledges it. The queue row is marked delivered before the hand-off, so a
// crash mid-delivery is retried after the ack timeout rather than lost (at-least-once, bounded).
import { GantryError, notFound } from '../domain/errors.js';
import { decideDelivery } from '../domain/lifecycle-rules/delivery.js';
import { isTerminal, type SessionRecord } from '../domain/session.js';
import type { Clock } from '../ports/clock.js';
import type { InputRecord, InputSink, LifecycleStore, SinkRefusal } from '../ports/lifecycle.js';
import type { LockMap } from './lock-map.js';
import type { ProjectPolicies } from './policies.js';

export const MAX_INPUT_BYTES = 64 * 1024;

/** Thrown by a sink's `deliver` for an input it can never take as it stands: the input fails at once (no retries). */
export class InputRefused extends GantryError {
  constructor(reason: string, hint?: string) {
    super('conflict', reason, hint ? { hint } : {});
  }
}

const isRefusal = (r: boolean | SinkRefusal): r is SinkRefusal => typeof r === 'object' && r !== null;

export class InputQueue {
  private readonly inflight = new Set<Promise<void>>();

  constructor(
    private readonly store: LifecycleStore,
    private readonly locks: LockMap,
    private readonly policies: ProjectPolicies,
    private readonly clock: Clock,
    private sink: InputSink | undefined,
  ) {}

  /** The agent runtime registers itself once it is up; queued input then starts flowing. */
  attachSink(sink: InputSink): void {
    this.sink = sink;
  }

  async enqueue(sessionId: string, text: string, source = 'human'): Promise<InputRecord> {
    if (typeof text !== 'string' || text.trim().length === 0) {
      throw new GantryError('validation', 'input text is empty', { field: 'text', hint: 'say what the agent should do, e.g. gantry reply ID "use the v2 API"' });
    }
    if (Buffer.byteLength(text) > MAX_INPUT_BYTES) {
      throw new GantryError('payload_too_large', `input text is over ${MAX_INPUT_BYTES} bytes`, { field: 'text', hint: 'put long material in a file in the workspace and point the agent to it' });
    }
    // A person learns at once that the sink can never take this (e.g. a choice not among the options the
    // agent offered): 409 with what to send instead, nothing queued. The sink refuses it again at delivery
    // should the wait change in between.
    const before = await this.store.read.sessions.get(sessionId);
    if (before && !isTerminal(before.state) && this.sink?.ready) {
      const r = await this.sink.ready(before, { id: '', text, source });
      if (isRefusal(r)) throw new GantryError('conflict', r.refuse, r.hint ? { hint: r.hint } : {});
    }
    const now = this.clock.now();
    const input = await this.store.write(async (tx) => {
      const s = await tx.sessions.get(sessionId);
      if (!s) throw notFound('session', sessionId, 'list sessions with `gantry sessions`');
      if (isTerminal(s.state)) {
        throw new GantryError('conflict', `session ${sessionId} has ended (${s.state}); it cannot take input`, { hint: 'retry or restart the task to start a new session' });
      }
      const rec = await tx.inputs.enqueue(sessionId, text, source, now);
      tx.emit({ type: 'input.queued', taskId: s.taskId, sessionId, payload: { inputId: rec.id, seq: rec.seq, source } });
      return rec;
    });
    this.kick(sessionId);
    return input;
  }

  list(sessionId: string): Promise<InputRecord[]> {
    return this.store.read.inputs.list(sessionId);
  }

  /** Try delivery soon (after a transition that may have made it possible). */
  kick(sessionId: string): void {
    if (!this.sink) return;
    const p = this.pump(sessionId).then(() => undefined, (e: unknown) => process.emitWarning(`input delivery for ${sessionId} failed: ${String(e)}`));
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }

  /** Resolves when no kicked delivery is in flight (tests and shutdown). */
  async idle(): Promise<void> {
    while (this.inflight.size > 0) await Promise.all([...this.inflight]);
  }

  /**
   * Decide and act for one session: deliver, redeliver, fail, or wait. Returns what happened.
   * Delivery stays in queue order: only the oldest open input is ever offered, and an input the sink
   * is merely not ready for holds those behind it (an interactive agent must get a reaction's message
   * and a person's reply in the order they were sent). An input the sink refuses can never go, so it
   * fails at once and the next one is looked at — that is how a person's reply gets past a reaction's
   * message queued on an engine session (whose one-shot agent takes nothing but its question's answer).
   */
  async pump(sessionId: string, at?: number): Promise<string> {
    // Bounded: each round fails one input (or loses a race to another writer that moved it).
    for (let round = 0; round < 100; round++) {
      const what = await this.pumpOnce(sessionId, at);
      if (what !== 'refused') return what;
    }
    return 'refused';
  }

  private async pumpOnce(sessionId: string, at?: number): Promise<string> {
    const step = await this.locks.run(sessionId, async () => {
      const now = at ?? this.clock.now();
      const s = await this.store.read.sessions.get(sessionId);
      if (!s) return { what: 'missing' as const };
      const open = await this.store.read.inputs.open(sessionId);
      const { policy } = await this.policies.forProject(s.projectId);
      const d = decideDelivery(s, open, now, policy);
      if (d.kind === 'wait') return { what: `wait:${d.why}` };
      if (d.kind === 'fail') {
        await this.store.write(async (tx) => {
          for (const id of d.inputIds) {
            const cur = open.find((i) => i.id === id)!;
            const failed = await tx.inputs.markFailed(id, cur.rev, d.reason, now);
            if (failed) tx.emit({ type: 'input.failed', taskId: s.taskId, sessionId, payload: { inputId: id, reason: d.reason } });
          }
        });
        return { what: 'failed' };
      }
      if (!this.sink) return { what: 'wait:no_sink' };
      const cur = open.find((i) => i.id === d.inputId)!;
      const ready = this.sink.ready ? await this.sink.ready(s, { id: cur.id, text: cur.text, source: cur.source }) : true;
      if (isRefusal(ready)) {
        await this.store.write(async (tx) => {
          const failed = await tx.inputs.markFailed(cur.id, cur.rev, ready.refuse.slice(0, 500), now);
          if (failed) tx.emit({ type: 'input.failed', taskId: s.taskId, sessionId, payload: { inputId: cur.id, reason: 'refused' } });
        });
        // A lost race (the row moved meanwhile) is looked at again too: the loop ends when the head is not refused.
        return { what: 'refused' };
      }
      if (!ready) return { what: 'wait:sink_not_ready' };
      const delivered = await this.store.write(async (tx) => {
        const m = await tx.inputs.markDelivered(cur.id, cur.rev, s.launchGeneration, now);
        if (m) tx.emit({ type: 'input.delivered', taskId: s.taskId, sessionId, payload: { inputId: m.id, attempt: m.attempts, redelivery: d.kind === 'redeliver' } });
        return m;
      });
      return delivered ? { what: 'deliver' as const, session: s, input: delivered } : { what: 'raced' };
    });
    if (!('input' in step) || !step.input || !step.session) return step.what;
    // The hand-off runs outside the session lock: the sink may relaunch the agent, which reports
    // back through the manager (onSpawned) on this same session.
    try {
      await this.sink!.deliver(step.session as SessionRecord, { id: step.input.id, text: step.input.text, source: step.input.source });
      return 'delivered';
    } catch (e) {
      const refused = e instanceof InputRefused;
      await this.deliveryFailed(sessionId, step.input, e instanceof Error ? e.message : String(e), refused);
      return refused ? 'refused' : 'delivery_error';
    }
  }

  /** A failed hand-off is retried up to inputMaxAttempts; a refused one fails at once. */
  private async deliveryFailed(sessionId: string, input: InputRecord, error: string, refused: boolean): Promise<void> {
    await this.locks.run(sessionId, async () => {
      const now = this.clock.now();
      const s = await this.store.read.sessions.get(sessionId);
      const { policy } = await this.policies.forProject(s?.projectId ?? null);
      await this.store.write(async (tx) => {
        const cur = await tx.inputs.get(input.id);
        if (!cur || cur.state !== 'delivered') return;
        const final = refused || cur.attempts >= policy.inputMaxAttempts;
        const m = final ? await tx.inputs.markFailed(cur.id, cur.rev, error.slice(0, 500), now) : await tx.inputs.markPending(cur.id, cur.rev, error.slice(0, 500), now);
        if (m) tx.emit({ type: final ? 'input.failed' : 'input.requeued', taskId: s?.taskId ?? null, sessionId, payload: { inputId: m.id, reason: refused ? 'refused' : 'delivery_error', attempt: m.attempts } });
      });
    });
  }
}
