// The lifecycle manager (DESIGN §7). Every entry point runs one pipeline under the session's lock:
// load → pure decider → sparse patch → compare-and-set persist (with its event, reactions and input
// bookkeeping in the same transaction). The lock keeps one process orderly; the compare-and-set keeps
// several coordinators sharing a database correct (a lost race reloads and decides again).
import { conflict, GantryError, notFound } from '../domain/errors.js';
import type { Observation } from '../domain/observation.js';
import { decideActivity } from '../domain/lifecycle-rules/activity.js';
import { decideChange, type ChangeFact } from '../domain/lifecycle-rules/change.js';
import { isEmpty, sparse, type Decision } from '../domain/lifecycle-rules/decision.js';
import type { LifecyclePolicy } from '../domain/lifecycle-rules/policy.js';
import { decideRuntime, type RuntimeFact } from '../domain/lifecycle-rules/runtime.js';
import { decideAgentSession, decideContinued, decideKill, decideLaunchFailed, decideSpawned, type SpawnFact } from '../domain/lifecycle-rules/spawn.js';
import { decideTick } from '../domain/lifecycle-rules/tick.js';
import { decideLeaseEnded } from '../domain/lifecycle-rules/remote.js';
import { decideReaction, decideReactionTimeout, detectTriggers } from '../domain/lifecycle-rules/reactions.js';
import { displayStatus, isTerminal, type ActivityState, type DisplayStatus, type SessionRecord, type SessionState } from '../domain/session.js';
import type { ResolvedReactions } from '../config/reactions.js';
import type { Clock } from '../ports/clock.js';
import type { InputRecord, InputSink, LifecycleStore, LifecycleTx, NewSession, RuntimeProber, SessionFilter } from '../ports/lifecycle.js';
import { InputQueue } from './input-queue.js';
import { LockMap } from './lock-map.js';
import { NotificationService } from './notifications.js';
import { ProjectPolicies } from './policies.js';
import { Reactor } from './reactions.js';

export interface LifecycleManagerOptions {
  store: LifecycleStore;
  clock?: Clock;
  notifications?: NotificationService;
  sink?: InputSink;
  prober?: RuntimeProber;
  /** Replaces project config lookup (tests, or a coordinator-wide policy). */
  policyFor?: (projectId: string | null) => ResolvedReactions | undefined;
  /** Compare-and-set retries before a write gives up with a conflict. */
  maxRetries?: number;
}

export interface SessionView extends SessionRecord {
  display: DisplayStatus;
}

export interface Applied {
  changed: boolean;
  why: string;
  session: SessionView;
}

type Decide = (rec: SessionRecord, ctx: { policy: LifecyclePolicy; hasPendingInput: boolean; now: number }) =>
  Decision | { kind: 'reject'; why: string };

const view = (s: SessionRecord): SessionView => ({ ...s, display: displayStatus(s) });

export class LifecycleManager {
  readonly locks = new LockMap();
  readonly inputs: InputQueue;
  readonly notifications: NotificationService;
  private readonly store: LifecycleStore;
  private readonly clock: Clock;
  private readonly policies: ProjectPolicies;
  private readonly reactor: Reactor;
  private readonly maxRetries: number;

  constructor(private readonly o: LifecycleManagerOptions) {
    this.store = o.store;
    this.clock = o.clock ?? { now: () => Date.now() };
    this.policies = new ProjectPolicies(o.store.read.sessions, () => this.clock.now(), o.policyFor);
    this.notifications = o.notifications ?? new NotificationService({ store: o.store, clock: this.clock });
    this.reactor = new Reactor(this.notifications);
    this.inputs = new InputQueue(o.store, this.locks, this.policies, this.clock, o.sink);
    this.maxRetries = o.maxRetries ?? 50;
  }

  // ── reads ────────────────────────────────────────────────────────────────────────────────────

  async get(id: string): Promise<SessionView> {
    const s = await this.store.read.sessions.get(id);
    if (!s) throw notFound('session', id, 'list sessions with `gantry sessions`');
    return view(s);
  }

  async list(f: SessionFilter = {}): Promise<SessionView[]> {
    return (await this.store.read.sessions.list(f)).map(view);
  }

  // ── entry points ─────────────────────────────────────────────────────────────────────────────

  /** Seeds the record of a session about to be launched (state not_started, display "spawning"). */
  async create(s: NewSession): Promise<SessionView> {
    if (!s.agent || typeof s.agent !== 'string') throw new GantryError('validation', 'a session needs an agent', { field: 'agent', hint: 'pass the agent name, e.g. claude-code' });
    const now = this.clock.now();
    return view(await this.store.write(async (tx) => {
      const rec = await tx.sessions.insert(s, now);
      tx.emit({ type: 'session.created', taskId: rec.taskId, runId: rec.runId, sessionId: rec.id, payload: { agent: rec.agent, state: rec.state, display: displayStatus(rec) } });
      return rec;
    }));
  }

  /** The runtime launched (or relaunched) the agent process for this generation. */
  onSpawned(sessionId: string, f: Omit<SpawnFact, 'at'> & { at?: number }): Promise<Applied> {
    return this.apply(sessionId, 'spawned', (rec, c) => decideSpawned(rec, { ...f, at: f.at ?? c.now }));
  }

  /** The agent reported its own session id (the key to resume it). */
  onAgentSession(sessionId: string, agentSessionId: string, launchGeneration: number): Promise<Applied> {
    return this.apply(sessionId, 'agent_session', (rec) => decideAgentSession(rec, agentSessionId, launchGeneration));
  }

  applyRuntime(sessionId: string, o: Observation<RuntimeFact>): Promise<Applied> {
    return this.apply(sessionId, 'runtime', (rec, c) => decideRuntime(rec, o, { policy: c.policy, hasPendingInput: c.hasPendingInput }), {
      needsPendingInput: o.value.state === 'exited' && o.value.exitCode === 0,
    });
  }

  applyActivity(sessionId: string, o: Observation<ActivityState>): Promise<Applied> {
    return this.apply(sessionId, 'activity', (rec) => decideActivity(rec, o));
  }

  applyChange(sessionId: string, o: Observation<ChangeFact>): Promise<Applied> {
    return this.apply(sessionId, 'change', (rec) => decideChange(rec, o), { fact: o.confidence === 'valid' ? o.value : null });
  }

  /** The launch threw before any process ran: the record ends instead of staying "spawning". */
  onLaunchFailed(sessionId: string): Promise<Applied> {
    return this.apply(sessionId, 'launch_failed', (rec) => decideLaunchFailed(rec));
  }

  /** The explicit terminal write: someone asked for this session to be stopped. */
  onKillRequested(sessionId: string, reason = 'killed'): Promise<Applied> {
    return this.apply(sessionId, 'kill', (rec) => decideKill(rec, reason));
  }

  /** A remote session's lease ended before it reported its end (`decideLeaseEnded`). */
  onLeaseEnded(sessionId: string): Promise<Applied> {
    return this.apply(sessionId, 'lease_ended', (rec) => decideLeaseEnded(rec));
  }

  /**
   * A new launch (`bySessionId`) resumed the agent conversation `agentSessionId` of this task: every
   * earlier, still-open record of that conversation is done.
   */
  async onConversationContinued(taskId: string, agentSessionId: string, bySessionId: string): Promise<number> {
    const open = (await this.store.read.sessions.list({ taskId, limit: 1000 })).filter(
      (r) => r.agentSessionId === agentSessionId && r.id !== bySessionId && !isTerminal(r.state),
    );
    for (const r of open) await this.apply(r.id, 'continued', (rec) => decideContinued(rec, bySessionId));
    return open.length;
  }

  /** Where delivered input goes (the agent runtime, once it is up); pending input is retried now. */
  async attachSink(sink: InputSink): Promise<void> {
    this.inputs.attachSink(sink);
    for (const id of await this.store.read.inputs.sessionsWithOpenInputs(1000)) this.inputs.kick(id);
  }

  /** Queue input for the agent (`gantry reply`, the API). */
  reply(sessionId: string, text: string, source = 'human'): Promise<InputRecord> {
    return this.inputs.enqueue(sessionId, text, source);
  }

  /**
   * Everything time drives: detecting and idle timeouts, re-probing ambiguous sessions, input
   * acknowledgement timeouts and retries, reaction escalation, notification escalation and sends.
   */
  async tick(now: number = this.clock.now()): Promise<{ transitions: number; escalations: number }> {
    let transitions = 0;
    let escalations = 0;
    for (const s of await this.store.read.sessions.list({ states: ['detecting', 'working'], limit: 5000 })) {
      const { policy } = await this.policies.forProject(s.projectId);
      if (decideTick(s, now, policy).kind === 'ignore') continue;
      const r = await this.apply(s.id, 'tick', (rec) => decideTick(rec, now, policy), { now });
      if (r.changed) transitions++;
    }
    if (this.o.prober) {
      for (const s of await this.store.read.sessions.list({ states: ['detecting'], limit: 5000 })) {
        if ((await this.probe(s)).changed) transitions++;
      }
    }
    for (const row of await this.store.read.reactions.active(1000)) {
      const s = await this.store.read.sessions.get(row.sessionId);
      if (!s) continue;
      const cfg = await this.policies.forProject(s.projectId);
      if (!decideReactionTimeout(cfg.rules[row.key], row, now)) continue;
      const done = await this.store.write((tx) => this.reactor.onTimeout(tx, s, row, cfg, now));
      if (done) escalations++;
    }
    for (const id of await this.store.read.inputs.sessionsWithOpenInputs(1000)) await this.inputs.pump(id, now);
    const n = await this.notifications.tick(now);
    return { transitions, escalations: escalations + n.escalated };
  }

  /**
   * At boot: probe every session recorded as live. A vanished process makes the session `detecting`
   * (never silently "working", never killed on one probe); later ticks re-probe until the evidence
   * resolves it — alive again, an activity signal, or stuck after the configured attempts/time.
   */
  async reconcile(): Promise<{ probed: number; detecting: number }> {
    let probed = 0;
    let detecting = 0;
    const live: SessionState[] = ['not_started', 'working', 'needs_input', 'stuck', 'detecting'];
    for (const s of await this.store.read.sessions.list({ states: live, limit: 5000 })) {
      if (!this.o.prober || s.launchGeneration === 0) continue;
      probed++;
      const r = await this.probe(s);
      if (r.session.state === 'detecting') detecting++;
    }
    await this.tick();
    return { probed, detecting };
  }

  /** Waits for deliveries and notification sends kicked by earlier calls (tests, shutdown). */
  async idle(): Promise<void> {
    await this.inputs.idle();
    await this.notifications.idle();
  }

  private async probe(s: SessionRecord): Promise<Applied> {
    let o: Observation<RuntimeFact>;
    try {
      o = await this.o.prober!.probe(s);
    } catch {
      // A probe that throws is a failed probe: no evidence either way (rule 1).
      return { changed: false, why: 'probe_failed', session: view(s) };
    }
    return this.applyRuntime(s.id, o);
  }

  // ── the pipeline ─────────────────────────────────────────────────────────────────────────────

  private async apply(sessionId: string, cause: string, decide: Decide, opts: { fact?: ChangeFact | null; needsPendingInput?: boolean; now?: number } = {}): Promise<Applied> {
    const result = await this.locks.run(sessionId, async () => {
      for (let attempt = 0; attempt <= this.maxRetries; attempt++) {
        const rec = await this.store.read.sessions.get(sessionId);
        if (!rec) throw notFound('session', sessionId, 'list sessions with `gantry sessions`');
        const cfg = await this.policies.forProject(rec.projectId);
        const now = opts.now ?? this.clock.now();
        const hasPendingInput = opts.needsPendingInput ? (await this.store.read.inputs.open(sessionId)).length > 0 : false;
        const d = decide(rec, { policy: cfg.policy, hasPendingInput, now });
        if (d.kind === 'reject') {
          throw new GantryError('conflict', `session ${sessionId} is ${rec.state}: a terminal session never reopens`, { hint: 'start a new session for the task instead' });
        }
        if (d.kind === 'ignore') return { changed: false, why: d.why, session: view(rec), kicks: null };
        const patch = sparse(rec, d.patch);
        if (isEmpty(patch)) {
          // The axes did not move, but a change fact may still be news (a new failing head).
          const kicks = opts.fact ? await this.reactToFact(rec, opts.fact, cfg, now) : null;
          return { changed: false, why: 'no_change', session: view(rec), kicks };
        }
        const committed = await this.store.write(async (tx) => {
          const rev = await tx.sessions.update(sessionId, rec.rev, patch, now);
          if (rev === undefined) return undefined;
          const after: SessionRecord = { ...rec, ...patch, rev, updatedAt: now };
          const kicks = await this.afterTransition(tx, rec, after, cause, d.why, opts.fact ?? null, cfg, now);
          return { after, kicks };
        });
        if (committed) return { changed: true, why: d.why, session: view(committed.after), kicks: committed.kicks };
        // Another coordinator moved the row between our read and write: decide again on fresh state.
      }
      throw conflict(`session ${sessionId} kept changing under ${cause}; gave up after ${this.maxRetries} retries`, 'retry the request');
    });
    if (result.kicks?.input) this.inputs.kick(sessionId);
    if (result.kicks?.notify) this.notifications.kick();
    return { changed: result.changed, why: result.why, session: result.session };
  }

  private async reactToFact(rec: SessionRecord, fact: ChangeFact, cfg: ResolvedReactions, now: number): Promise<{ input: boolean; notify: boolean } | null> {
    const t = detectTriggers(rec, rec, fact);
    if (t.fired.length === 0 && t.resolved.length === 0) return null;
    // Most repeats of a fact (a poller seeing the same red head) are duplicates: check before writing.
    const memory = await this.store.read.reactions.forSession(rec.id);
    const news = t.resolved.some((k) => memory.get(k) && memory.get(k)!.state !== 'resolved') ||
      t.fired.some((f) => decideReaction(f, cfg.rules[f.key], memory.get(f.key), rec, now).kind !== 'skip');
    if (!news) return null;
    return this.store.write(async (tx) => {
      // The row lock orders this against another coordinator reacting to the same fact.
      if (!(await tx.sessions.lock(rec.id))) return null;
      const r = await this.reactor.onTransition(tx, rec, rec, fact, cfg, now);
      return { input: r.queuedInput, notify: r.raised };
    });
  }

  private async afterTransition(tx: LifecycleTx, before: SessionRecord, after: SessionRecord, cause: string, why: string, fact: ChangeFact | null, cfg: ResolvedReactions, now: number): Promise<{ input: boolean; notify: boolean }> {
    const display = displayStatus(after);
    tx.emit({
      type: 'session.updated',
      taskId: after.taskId,
      runId: after.runId,
      sessionId: after.id,
      payload: {
        cause, why, state: after.state, reason: after.reason, display, previous: displayStatus(before),
        runtime: after.runtime.state, activity: after.activity.state, change: after.change, launchGeneration: after.launchGeneration, rev: after.rev,
      },
    });
    // The agent's next turn starting acknowledges what was delivered before it; so does a new launch
    // continuing its conversation (a reply that answered a parked run resumes the agent that way).
    if ((after.activity.state === 'working' && before.activity.state !== 'working') || cause === 'continued') {
      for (const i of await tx.inputs.acknowledge(after.id, now)) {
        tx.emit({ type: 'input.acknowledged', taskId: after.taskId, sessionId: after.id, payload: { inputId: i.id } });
      }
    }
    const reactions = await this.reactor.onTransition(tx, before, after, fact, cfg, now);
    if (isTerminal(after.state) && !isTerminal(before.state)) {
      for (const i of await tx.inputs.open(after.id)) {
        if (await tx.inputs.markFailed(i.id, i.rev, 'session_ended', now)) {
          tx.emit({ type: 'input.failed', taskId: after.taskId, sessionId: after.id, payload: { inputId: i.id, reason: 'session_ended' } });
        }
      }
    }
    const deliverable = !isTerminal(after.state) && (after.state !== before.state || after.activity.state !== before.activity.state || after.launchGeneration !== before.launchGeneration);
    return { input: reactions.queuedInput || deliverable, notify: reactions.raised };
  }
}
