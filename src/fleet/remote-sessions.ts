// A remote factory's agent sessions, reported to the coordinator (docs/fleet.md "Remote work is
// visible"): this is the session records, evidence sink and change observer the engine host gets on a
// `gantry factory`, in place of the coordinator's lifecycle manager. Each call becomes one entry of the
// task's queue; a follower per lease sends the queue in batches (`POST /api/fleet/jobs/:id/sessions`,
// fenced by that lease) every `everyMs` and once more before the lease is released, so a chatty agent
// costs a request or two a second and a run that parks has reported its question first.
// Reporting never fails a run: a refused batch is logged and dropped; a stale lease drops the rest.
import { isGantryError } from '../domain/errors.js';
import type { Observation } from '../domain/observation.js';
import { coalesce, nextStamp, type RemoteSessionOp } from '../domain/lifecycle-rules/remote.js';
import type { ScmObservation } from '../domain/lifecycle-rules/scm.js';
import type { ActivitySink, AgentActivity, AgentRuntime } from '../ports/agent.js';
import type { ChangeObserver } from '../ports/engine.js';
import type { NewSession } from '../ports/lifecycle.js';
import type { SessionRecords } from '../engine/agent-runner.js';
import type { EngineApi } from './remote-engine.js';
import { CoordinatorUnreachable } from '../ports/fleet.js';

/** Entries per request (the server takes up to 500). */
const BATCH = 200;
/** Reports kept for a coordinator that does not answer; beyond this a failed batch is dropped (with a warning). */
const MAX_QUEUED = 5_000;

type Activity = Extract<RemoteSessionOp, { op: 'activity' }>;

export interface SessionFollow {
  taskId: string;
  epoch: number;
  api: EngineApi;
}

/** How long the last send before a release may take: visibility never holds a lease (or its slot) hostage. */
const FINAL_SEND_MS = 5_000;

interface Queue {
  follow: SessionFollow;
  ops: RemoteSessionOp[];
  /** The last activity sent per session: a repeat is not sent again. */
  sent: Map<string, Activity>;
  sending: Promise<void>;
  fenced: boolean;
}

export class RemoteSessions implements ActivitySink, SessionRecords, ChangeObserver {
  /** The queue of the lease each task is held under now. */
  private readonly queues = new Map<string, Queue>();
  /**
   * Session → the queue of the lease it was launched under (set when its record is created): a late
   * report of a fenced lease's session goes to that lease's queue and is dropped, never sent under a
   * later lease of the same task.
   */
  private readonly queueOf = new Map<string, Queue>();
  /** The last evidence time given per session: every report of a session is strictly later than the one before. */
  private readonly stamps = new Map<string, number>();

  constructor(
    private readonly warn: (msg: string, f?: Record<string, unknown>) => void = () => undefined,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Sends the task's session reports while its lease is held; `stop()` sends what is left. */
  follow(f: SessionFollow, everyMs = 500): { stop(): Promise<void> } {
    const q: Queue = { follow: f, ops: [], sent: new Map(), sending: Promise.resolve(), fenced: false };
    this.queues.set(f.taskId, q);
    const timer = setInterval(() => void this.flush(q), everyMs);
    timer.unref();
    return {
      stop: async () => {
        clearInterval(timer);
        let deadline: NodeJS.Timeout | undefined;
        await Promise.race([this.flush(q), new Promise<void>((r) => (deadline = setTimeout(r, FINAL_SEND_MS)))]);
        clearTimeout(deadline);
        if (this.queues.get(f.taskId) === q) this.queues.delete(f.taskId);
        q.fenced = true; // whatever comes later is after the lease
        for (const [sid, of] of this.queueOf) {
          if (of === q) {
            this.queueOf.delete(sid);
            this.stamps.delete(sid);
          }
        }
      },
    };
  }

  // ── SessionRecords (the agent runner) ──────────────────────────────────────────────────────

  async create(s: NewSession): Promise<unknown> {
    if (!s.id || !s.taskId || !s.runId) return undefined; // the runner always names all three
    const q = this.queues.get(s.taskId);
    if (q) this.queueOf.set(s.id, q);
    this.push(s.id, { op: 'create', sessionId: s.id, runId: s.runId, stepRowId: s.stepRowId ?? null, agent: s.agent, workspace: s.workspace ?? null });
    return undefined;
  }

  async onSpawned(sessionId: string, f: { launchGeneration: number; pid?: number | null }): Promise<unknown> {
    this.push(sessionId, { op: 'spawned', sessionId, launchGeneration: f.launchGeneration, pid: f.pid ?? null, at: this.stamp(sessionId, this.clock()) });
    return undefined;
  }

  async onConversationContinued(_taskId: string, agentSessionId: string, bySessionId: string): Promise<unknown> {
    this.push(bySessionId, { op: 'continued', sessionId: bySessionId, agentSessionId });
    return undefined;
  }

  async onLaunchFailed(sessionId: string): Promise<unknown> {
    this.push(sessionId, { op: 'launch_failed', sessionId });
    return undefined;
  }

  // ── ActivitySink (the agent launcher) ──────────────────────────────────────────────────────

  activity(sessionId: string, obs: Observation<AgentActivity>): void {
    this.push(sessionId, { op: 'activity', sessionId, obs: { ...obs, at: this.stamp(sessionId, obs.at) } });
  }

  runtime(sessionId: string, obs: Observation<AgentRuntime>): void {
    const v = obs.value;
    const value = v.state === 'alive' ? { state: 'alive' as const, pid: v.pid } : { state: 'exited' as const, pid: v.pid, code: v.code, signal: v.signal, reason: v.reason };
    this.push(sessionId, { op: 'runtime', sessionId, obs: { ...obs, value, at: this.stamp(sessionId, obs.at) } });
  }

  agentSession(sessionId: string, agentSessionId: string, launchGeneration: number): void {
    this.push(sessionId, { op: 'agent_session', sessionId, agentSessionId, launchGeneration });
  }

  // ── ChangeObserver (the engine's SCM steps) ────────────────────────────────────────────────

  async observe(o: { taskId: string; runId: string; sessionId: string; observation: ScmObservation }): Promise<void> {
    const q = this.queues.get(o.taskId);
    if (q && !q.fenced) q.ops.push({ op: 'change', sessionId: o.sessionId, at: this.clock(), observation: o.observation });
  }

  private stamp(sessionId: string, at: number): number {
    const t = nextStamp(this.stamps.get(sessionId), at);
    this.stamps.set(sessionId, t);
    return t;
  }

  private push(sessionId: string, op: RemoteSessionOp): void {
    const q = this.queueOf.get(sessionId);
    // A session of no followed lease (evidence after its lease ended) has nobody to tell.
    if (q && !q.fenced) q.ops.push(op);
  }

  /** One sender per task: batches go in order, each after the previous one was answered. */
  private flush(q: Queue): Promise<void> {
    q.sending = q.sending.then(async () => {
      while (q.ops.length > 0 && !q.fenced) {
        const taken = q.ops.splice(0, BATCH);
        const sentBefore = new Map(q.sent);
        const ops = coalesce(taken, q.sent);
        if (ops.length === 0) continue;
        try {
          await q.follow.api.call('POST', `/api/fleet/jobs/${encodeURIComponent(q.follow.taskId)}/sessions`, { leaseEpoch: q.follow.epoch, sentAt: this.clock(), ops });
        } catch (e) {
          if (isGantryError(e) && e.code === 'stale_epoch') {
            // The lease moved: what this factory saw afterwards is not the coordinator's to record.
            q.fenced = true;
            q.ops.length = 0;
            return;
          }
          if (e instanceof CoordinatorUnreachable && q.ops.length + taken.length <= MAX_QUEUED) {
            // Nobody answered (an outage): the batch goes back to the head, as if never sent, for the next flush.
            q.ops.unshift(...taken);
            q.sent.clear();
            for (const [k, v] of sentBefore) q.sent.set(k, v);
            return;
          }
          this.warn('agent session reports not recorded by the coordinator', { taskId: q.follow.taskId, entries: ops.length, err: e instanceof Error ? e.message : String(e) });
        }
      }
    });
    return q.sending;
  }
}
