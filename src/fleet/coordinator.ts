// The fleet coordinator service (DESIGN §5): validates each request, applies the scheduler's policy
// and delegates every ownership decision to the FleetStore's conditional statements. Stateless apart
// from the store and an in-memory wake-up signal, so several coordinators can share one PostgreSQL.
import { GantryError, notFound } from '../domain/errors.js';
import { FACTORY_REPORTABLE, type Stage, type Task } from '../domain/task.js';
import type { GantryEvent } from '../domain/events.js';
import type { EventLog, ProjectRepo, TaskRepo, TokenRepo, SubmitResult } from '../ports/store.js';
import type {
  FactoryRecord,
  FactoryView,
  FleetStore,
  Grant,
  LeaseRecord,
  LeaseRef,
  OperatorAction,
  QuarantineRecord,
  Reclaimed,
  ReleaseOutcome,
  ReleaseResult,
  Report,
  RunRecord,
} from '../ports/fleet.js';
import { rank, weights as mergeWeights, type ScheduleWeights } from './schedule.js';
import { fleetMetrics, type FleetMetrics } from './metrics.js';
import { redact, secretsOf } from './redact.js';
import {
  actionBody,
  claimBody,
  enrollBody,
  heartbeatBody,
  limitReport,
  parse,
  patchBody,
  quarantineBody,
  releaseBody,
  renewBody,
  submitBody,
} from './protocol.js';
import { QueueSignal } from './queue-signal.js';
import { whyWaiting, type WaitReason } from './capabilities.js';

export interface FleetConfig {
  leaseTtlMs: number;
  staleMs: number;
  heartbeatMs: number;
  reapIntervalMs: number;
  starvationMs: number;
  weights: ScheduleWeights;
}

export const DEFAULT_FLEET_CONFIG: Readonly<FleetConfig> = Object.freeze({
  leaseTtlMs: 15 * 60_000,
  staleMs: 45_000,
  heartbeatMs: 10_000,
  reapIntervalMs: 5_000,
  starvationMs: 10 * 60_000,
  weights: mergeWeights(),
});

/** Projects whose budget is exhausted; the pipeline engine's budget ledger plugs in here. */
export interface BudgetGate {
  exhaustedProjects(): Promise<ReadonlySet<string>>;
}

export interface CoordinatorDeps {
  fleet: FleetStore;
  tasks: TaskRepo;
  projects: ProjectRepo;
  tokens: TokenRepo;
  events: EventLog;
  budget?: BudgetGate;
  config?: Partial<FleetConfig>;
  /** Operational log line; ids go in `fields`, never in the message (never bodies or tokens). */
  log?: (msg: string, fields?: Record<string, unknown>) => void;
  /** Observes each claim once decided (metrics: claims asked vs granted). */
  onClaim?: (granted: boolean) => void;
}

/** Who is calling: a factory token pins the factory id; admin/operator tokens act by epoch alone. */
export interface Caller {
  factoryId: string | null;
}

const noBudget: BudgetGate = { exhaustedProjects: async () => new Set() };

export class FleetCoordinator {
  readonly config: FleetConfig;
  private readonly signal: QueueSignal;
  private reaper: NodeJS.Timeout | null = null;
  private reaping: Promise<unknown> | null = null;
  private startedAt: number | null = null;

  constructor(private readonly d: CoordinatorDeps) {
    this.config = { ...DEFAULT_FLEET_CONFIG, ...d.config, weights: mergeWeights(d.config?.weights ?? {}) };
    this.signal = new QueueSignal(d.events);
  }

  // ---- factories --------------------------------------------------------------------------------

  async enroll(input: unknown): Promise<{ factoryId: string; token: string; factory: FactoryRecord }> {
    const b = parse(enrollBody, input, 'enroll');
    const factory = await this.d.fleet.enroll(b.name, b.capabilities);
    const { token } = await this.d.tokens.create({ name: `factory ${b.name}`, role: 'factory', factoryId: factory.id });
    return { factoryId: factory.id, token, factory };
  }

  async heartbeat(input: unknown, caller: Caller): Promise<{ factoryId: string; serverTime: number; drain: boolean; registered: boolean; heartbeatMs: number; staleMs: number; leaseTtlMs: number }> {
    const b = parse(heartbeatBody, input, 'heartbeat');
    this.assertSelf(caller, b.factoryId);
    const r = await this.d.fleet.heartbeat({
      factoryId: b.factoryId,
      capabilities: b.capabilities,
      health: b.health,
      load: b.load,
      ...(b.name !== undefined ? { name: b.name } : {}),
      ...(b.slots !== undefined ? { slots: b.slots } : {}),
      ...(b.incarnation !== undefined ? { incarnation: b.incarnation } : {}),
    });
    if (r.registered) this.log('factory registered', { factoryId: r.factory.id, slots: r.factory.slots });
    for (const x of r.reclaimed) this.log('lease reclaimed', { taskId: x.taskId, factoryId: x.factoryId, reason: x.reason, epoch: x.epoch, stage: x.stage });
    return {
      factoryId: r.factory.id,
      serverTime: r.serverTime,
      drain: r.factory.drain,
      registered: r.registered,
      heartbeatMs: this.config.heartbeatMs,
      staleMs: this.config.staleMs,
      leaseTtlMs: this.config.leaseTtlMs,
    };
  }

  setDrain(factoryId: string, drain: boolean): Promise<FactoryRecord> {
    return this.d.fleet.setDrain(factoryId, drain);
  }

  factories(): Promise<FactoryView[]> {
    return this.d.fleet.factories(this.config.staleMs);
  }

  // ---- leases -----------------------------------------------------------------------------------

  async claim(input: unknown, caller: Caller): Promise<Grant | null> {
    const b = parse(claimBody, input, 'claim');
    this.assertSelf(caller, b.factoryId);
    const caps = new Set(b.capabilities ?? (await this.registeredCaps(b.factoryId)));
    const exhausted = await (this.d.budget ?? noBudget).exhaustedProjects();
    const grant = await this.d.fleet.claim({
      factoryId: b.factoryId,
      capabilities: [...caps],
      ttlMs: this.config.leaseTtlMs,
      staleMs: this.config.staleMs,
      rank: (cands, now) => rank(cands, { now, factoryId: b.factoryId, capabilities: caps, exhaustedProjects: exhausted }, this.config.weights),
    });
    this.d.onClaim?.(grant !== null);
    return grant;
  }

  async patch(taskId: string, input: unknown, caller: Caller): Promise<Task> {
    const b = parse(patchBody, input, 'patch');
    const ref = this.ref(taskId, b.leaseEpoch, caller, b.factoryId);
    // A terminal stage through PATCH (older factory clients) is a release with that outcome.
    if (b.stage === 'shipped' || b.stage === 'failed') {
      const r = await this.release(taskId, { leaseEpoch: b.leaseEpoch, outcome: b.stage === 'shipped' ? 'done' : 'failed', checkpoint: b.checkpoint ?? null, ...(b.factoryId ? { factoryId: b.factoryId } : {}) }, caller);
      return r.task;
    }
    if (!FACTORY_REPORTABLE.has(b.stage as Stage)) throw new GantryError('validation', `stage ${b.stage} cannot be reported by a factory`, { field: 'stage' });
    return this.d.fleet.patch(ref, { stage: b.stage as Stage, checkpoint: b.checkpoint ?? null });
  }

  async renew(taskId: string, input: unknown, caller: Caller): Promise<{ leaseEpoch: number; leaseExpiresAt: number }> {
    const b = parse(renewBody, input, 'renew');
    return this.d.fleet.renew(this.ref(taskId, b.leaseEpoch, caller, b.factoryId), this.config.leaseTtlMs);
  }

  async release(taskId: string, input: unknown, caller: Caller): Promise<ReleaseResult> {
    const b = parse(releaseBody, input, 'release');
    const report = limitReport(b.report);
    const r = await this.d.fleet.release(this.ref(taskId, b.leaseEpoch, caller, b.factoryId), {
      outcome: b.outcome as ReleaseOutcome | undefined,
      report,
      checkpoint: b.checkpoint ?? null,
      scrub: (rep: Report, task: Task) => redact(rep, secretsOf(task.body)),
    });
    if (!r.replayed) this.log('lease released', { taskId, epoch: b.leaseEpoch, outcome: r.outcome, stage: r.task.stage });
    return r;
  }

  async quarantine(taskId: string, input: unknown, caller: Caller): Promise<{ recorded: boolean; currentEpoch: number }> {
    const b = parse(quarantineBody, input, 'quarantine');
    this.assertSelf(caller, b.factoryId);
    const task = await this.d.fleet.job(taskId);
    const reason = redact(b.reason, task ? secretsOf(task.body) : []);
    const r = await this.d.fleet.quarantine({ taskId, epoch: b.leaseEpoch, factoryId: b.factoryId }, reason);
    if (r.recorded) this.log('result quarantined', { taskId, factoryId: b.factoryId, epoch: b.leaseEpoch });
    return r;
  }

  async act(taskId: string, action: string, input: unknown): Promise<Task> {
    const a = action as OperatorAction;
    if (!['requeue', 'reject', 'cancel', 'ship'].includes(a)) {
      throw new GantryError('validation', `unknown action ${action}`, { field: 'action', hint: 'one of requeue, reject, cancel, ship' });
    }
    const b = parse(actionBody, input ?? {}, 'action');
    const t = await this.d.fleet.act(taskId, a, b.reason ?? null);
    this.log('operator action', { taskId, action: a, stage: t.stage, epoch: t.leaseEpoch });
    return t;
  }

  // ---- jobs -------------------------------------------------------------------------------------

  async submit(input: unknown): Promise<SubmitResult> {
    const b = parse(submitBody, input, 'submit');
    const project = await this.d.projects.get(b.project);
    if (!project) throw notFound('project', b.project, 'register it with `gantry init` in the repository');
    return this.d.tasks.submit({
      projectId: project.id,
      title: b.title,
      body: b.body,
      pipeline: b.pipeline,
      agent: b.agent ?? null,
      priority: b.priority,
      capabilities: b.capabilities,
      after: b.after,
      idempotencyKey: b.idempotencyKey ?? null,
      maxAttempts: b.maxAttempts,
    });
  }

  async job(taskId: string): Promise<Task> {
    const t = await this.d.fleet.job(taskId);
    if (!t) throw notFound('task', taskId);
    return t;
  }

  async runs(taskId: string): Promise<{ runs: RunRecord[]; leases: LeaseRecord[] }> {
    await this.job(taskId);
    return { runs: await this.d.fleet.runs(taskId), leases: await this.d.fleet.leases(taskId) };
  }

  async events(taskId: string, after: number, limit: number): Promise<GantryEvent[]> {
    await this.job(taskId);
    return this.d.events.list({ taskId, after, limit });
  }

  /** Why a queued task no live factory can take is waiting; null when it is not queued or some factory can take it. */
  async waiting(taskId: string): Promise<WaitReason | null> {
    const t = await this.job(taskId);
    if (t.stage !== 'queued') return null;
    const serving = (await this.d.fleet.factories(this.config.staleMs)).filter((f) => f.live && !f.drain);
    return whyWaiting({ capabilities: t.capabilities, agent: t.agent }, serving);
  }

  /** Why each of these queued tasks waits (those a factory can take are left out); the factories are read once. */
  async waitingMany(tasks: ReadonlyArray<Pick<Task, 'id' | 'stage' | 'capabilities' | 'agent'>>): Promise<Map<string, WaitReason>> {
    const out = new Map<string, WaitReason>();
    const queued = tasks.filter((t) => t.stage === 'queued');
    if (queued.length === 0) return out;
    const serving = (await this.d.fleet.factories(this.config.staleMs)).filter((f) => f.live && !f.drain);
    for (const t of queued) {
      const w = whyWaiting({ capabilities: t.capabilities, agent: t.agent }, serving);
      if (w) out.set(t.id, w);
    }
    return out;
  }

  quarantines(limit = 100): Promise<QuarantineRecord[]> {
    return this.d.fleet.quarantines(limit);
  }

  async metrics(): Promise<FleetMetrics> {
    return fleetMetrics(await this.d.fleet.snapshot(this.config.staleMs), { starvationMs: this.config.starvationMs });
  }

  /** Cheap: the seq of the last event that may have made work claimable. */
  async queueState(): Promise<{ version: number }> {
    return { version: await this.signal.version() };
  }

  /** Long-poll helper: resolves with the queue version once it passes `since`, or after `timeoutMs`. */
  waitForWork(since: number, timeoutMs: number, signal?: AbortSignal): Promise<number> {
    return this.signal.wait(since, timeoutMs, signal);
  }

  // ---- reaper -----------------------------------------------------------------------------------

  /** Reclaims expired leases and every lease of a stale factory. Safe on every coordinator at once. */
  async reapOnce(): Promise<Reclaimed[]> {
    const expired = await this.d.fleet.reapExpired();
    // Just after this coordinator started (perhaps after an outage), factories have had no chance to
    // heartbeat: give them one stale window before calling them stale. Waiting never makes a reclaim unsafe.
    const settling = this.startedAt !== null && Date.now() - this.startedAt < this.config.staleMs;
    const stale = settling ? [] : await this.d.fleet.reapStaleFactories(this.config.staleMs);
    for (const r of [...expired, ...stale]) {
      this.log('lease reclaimed', { taskId: r.taskId, factoryId: r.factoryId, reason: r.reason, epoch: r.epoch, stage: r.stage });
    }
    return [...expired, ...stale];
  }

  start(): void {
    this.signal.start();
    if (this.reaper) return;
    this.startedAt = Date.now();
    const tick = (): void => {
      if (this.reaping) return;
      this.reaping = this.reapOnce()
        .catch((e: unknown) => this.log('reaper pass failed', { err: e instanceof Error ? e.message : String(e) }))
        .finally(() => (this.reaping = null));
    };
    tick();
    this.reaper = setInterval(tick, this.config.reapIntervalMs);
    this.reaper.unref();
  }

  async stop(): Promise<void> {
    if (this.reaper) clearInterval(this.reaper);
    this.reaper = null;
    this.signal.stop();
    await this.reaping;
  }

  // ---- helpers ----------------------------------------------------------------------------------

  private ref(taskId: string, epoch: number, caller: Caller, bodyFactory: string | undefined): LeaseRef {
    if (caller.factoryId && bodyFactory && bodyFactory !== caller.factoryId) {
      throw new GantryError('forbidden', `this token belongs to factory ${caller.factoryId}, not ${bodyFactory}`, { hint: 'use the token issued to that factory' });
    }
    return { taskId, epoch, factoryId: caller.factoryId ?? bodyFactory ?? null };
  }

  private assertSelf(caller: Caller, factoryId: string): void {
    if (caller.factoryId && caller.factoryId !== factoryId) {
      throw new GantryError('forbidden', `this token belongs to factory ${caller.factoryId}, not ${factoryId}`, { hint: 'use the token issued to that factory' });
    }
  }

  private async registeredCaps(factoryId: string): Promise<string[]> {
    const f = (await this.d.fleet.factories(this.config.staleMs)).find((x) => x.id === factoryId);
    return f?.capabilities ?? [];
  }

  private log(msg: string, fields?: Record<string, unknown>): void {
    this.d.log?.(msg, fields);
  }
}
