// Fleet ports (DESIGN §5). Three seams:
//   FleetStore        — what the coordinator asks of durable state; every ownership decision is
//                       one conditional statement inside the implementation.
//   CoordinatorClient — how a factory talks to a coordinator (in-process calls or HTTP).
//   TaskExecutor      — what a factory runs for a claimed task (the pipeline engine plugs in here).
//   FactoryOutbox     — the factory's durable local queue of reports while the coordinator is away.
import type { CheckpointPointer, Stage, Task } from '../domain/task.js';
import type { GantryEvent } from '../domain/events.js';

export const RELEASE_OUTCOMES = ['done', 'parked', 'failed', 'abandoned'] as const;
export type ReleaseOutcome = (typeof RELEASE_OUTCOMES)[number];

export const OPERATOR_ACTIONS = ['requeue', 'reject', 'cancel', 'ship'] as const;
export type OperatorAction = (typeof OPERATOR_ACTIONS)[number];

export type FactoryState = 'enrolled' | 'live' | 'stale';

/** A free-form, size-limited, redacted report (summary, branch, prUrl, failureKind, usage …). */
export type Report = Record<string, unknown>;

export interface FactoryRecord {
  id: string;
  name: string;
  capabilities: string[];
  health: Record<string, unknown>;
  load: Record<string, unknown>;
  slots: number;
  drain: boolean;
  state: FactoryState;
  lastHeartbeatAt: number | null;
  lastClaimAt: number | null;
  createdAt: number;
}

/** A factory with what the coordinator knows about it right now. */
export interface FactoryView extends FactoryRecord {
  /** Derived from the store clock and the stale window, never stored. */
  live: boolean;
  leases: Array<{ taskId: string; epoch: number; stage: Stage; expiresAt: number }>;
}

export interface Grant {
  task: Task;
  leaseEpoch: number;
  leaseExpiresAt: number;
}

/** The identity a fenced call presents. `factoryId` null = an admin acting with the epoch alone. */
export interface LeaseRef {
  taskId: string;
  epoch: number;
  factoryId: string | null;
}

/** The facts the scheduler ranks; read inside the claim transaction. */
export interface Candidate {
  id: string;
  projectId: string;
  priority: number;
  queuedAt: number;
  attempts: number;
  capabilities: string[];
  affinityFactoryId: string | null;
  /** A factory held it before (taken back from a dead or draining factory, or queued again after a person answered). */
  started: boolean;
}

export interface ClaimRequest {
  factoryId: string;
  capabilities: string[];
  ttlMs: number;
  /** A factory whose last heartbeat is older than this gets no new work. */
  staleMs: number;
  /** Pure policy from the engine: candidates + store time → ids to try, best first. */
  rank(candidates: readonly Candidate[], now: number): string[];
}

export interface HeartbeatFacts {
  factoryId: string;
  name?: string;
  capabilities: string[];
  health: Record<string, unknown>;
  load: Record<string, unknown>;
  slots?: number;
  /**
   * Names this start of the factory process (a random id per start). When it differs from the one
   * recorded, the previous process is gone: its leases are reclaimed in the same transaction.
   */
  incarnation?: string;
}

export interface HeartbeatResult {
  factory: FactoryRecord;
  registered: boolean;
  serverTime: number;
  /** Leases of the factory's previous incarnation, reclaimed by this heartbeat. */
  reclaimed: Reclaimed[];
}

export interface ReleaseRequest {
  outcome: ReleaseOutcome | undefined;
  report: Report;
  checkpoint: CheckpointPointer | null;
  /** Strips the task's secrets from the report before it is stored or emitted (invariant 9). */
  scrub(report: Report, task: Task): Report;
}

export interface ReleaseResult {
  task: Task;
  outcome: ReleaseOutcome;
  /** True when this exact release had already been applied (a retried request). */
  replayed: boolean;
}

export interface Reclaimed {
  taskId: string;
  factoryId: string | null;
  previousEpoch: number;
  epoch: number;
  stage: Stage;
  attempts: number;
  reason: 'expired' | 'factory_stale' | 'factory_restarted';
}

export interface LeaseRecord {
  taskId: string;
  epoch: number;
  factoryId: string;
  grantedAt: number;
  expiresAt: number;
  releasedAt: number | null;
  outcome: string | null;
  report: Report | null;
}

export interface QuarantineRecord {
  taskId: string;
  epoch: number;
  factoryId: string;
  reason: string;
  reportedAt: number;
}

export interface RunRecord {
  id: string;
  number: number;
  state: string;
  startedAt: number | null;
  finishedAt: number | null;
}

/** Raw facts for metrics; the pure `fleetMetrics` decider turns them into numbers and alerts. */
export interface FleetSnapshot {
  now: number;
  stages: Partial<Record<Stage, number>>;
  oldestQueuedAt: number | null;
  factories: FactoryView[];
  version: number;
  /** The oldest queued tasks (at most 100): what they need, to say why any of them waits. */
  queued: Array<{ id: string; capabilities: string[]; agent: string | null }>;
}

export interface FleetStore {
  /** Creates the factory row (state `enrolled`); registration proper is its first heartbeat. */
  enroll(name: string, capabilities: string[]): Promise<FactoryRecord>;
  heartbeat(hb: HeartbeatFacts): Promise<HeartbeatResult>;
  setDrain(factoryId: string, drain: boolean): Promise<FactoryRecord>;
  /** One conditional UPDATE per candidate decides; null when nothing fits (or seats are full, or draining). */
  claim(req: ClaimRequest): Promise<Grant | null>;
  patch(ref: LeaseRef, change: { stage: Stage; checkpoint: CheckpointPointer | null }): Promise<Task>;
  renew(ref: LeaseRef, ttlMs: number): Promise<{ leaseEpoch: number; leaseExpiresAt: number }>;
  release(ref: LeaseRef, req: ReleaseRequest): Promise<ReleaseResult>;
  /** A fenced factory reports the result it quarantined (accepted only for an epoch it really held and lost). */
  quarantine(ref: LeaseRef & { factoryId: string }, reason: string): Promise<{ recorded: boolean; currentEpoch: number }>;
  act(taskId: string, action: OperatorAction, reason: string | null): Promise<Task>;
  reapExpired(): Promise<Reclaimed[]>;
  reapStaleFactories(staleMs: number): Promise<Reclaimed[]>;
  job(taskId: string): Promise<Task | undefined>;
  factories(staleMs: number): Promise<FactoryView[]>;
  leases(taskId: string): Promise<LeaseRecord[]>;
  quarantines(limit: number): Promise<QuarantineRecord[]>;
  runs(taskId: string): Promise<RunRecord[]>;
  snapshot(staleMs: number): Promise<FleetSnapshot>;
  /** Cheap: changes whenever anything a claimer cares about may have changed. */
  queueVersion(): Promise<number>;
  now(): Promise<number>;
}

// ---- factory side -------------------------------------------------------------------------------

/** A transient failure (network, 5xx, coordinator restarting): retry later, keep working. */
export class CoordinatorUnreachable extends Error {
  constructor(message: string, override readonly cause?: unknown) {
    super(message);
    this.name = 'CoordinatorUnreachable';
  }
}

export interface ClaimResponse {
  job: Task;
  leaseEpoch: number;
  leaseExpiresAt: number;
}

/**
 * The coordinator as a factory sees it. Fenced calls reject with GantryError('stale_epoch') on 409,
 * with CoordinatorUnreachable on transient trouble, and with other GantryErrors for bad requests.
 */
export interface CoordinatorClient {
  heartbeat(hb: HeartbeatFacts): Promise<{ serverTime: number; drain: boolean }>;
  claim(factoryId: string, capabilities: string[]): Promise<ClaimResponse | null>;
  patch(taskId: string, body: { leaseEpoch: number; stage: Stage; checkpoint?: CheckpointPointer | null }): Promise<void>;
  renew(taskId: string, leaseEpoch: number): Promise<{ leaseExpiresAt: number }>;
  release(taskId: string, body: { leaseEpoch: number; outcome: ReleaseOutcome; report: Report; checkpoint?: CheckpointPointer | null }): Promise<void>;
  quarantine(taskId: string, body: { factoryId: string; leaseEpoch: number; reason: string }): Promise<void>;
  /** Resolves when the queue version moves past `since`, or after `timeoutMs` (the polling backstop). */
  waitForWork(since: number, timeoutMs: number, signal: AbortSignal): Promise<number>;
}

/** What an executor may do with the lease it runs under. Every call is fenced by the coordinator. */
export interface LeaseHandle {
  readonly taskId: string;
  readonly epoch: number;
  /** Report the task's stage (and optionally a checkpoint pointer) — a fenced PATCH. Buffered when offline. */
  report(stage: Stage, checkpoint?: CheckpointPointer | null): Promise<void>;
  /** Aborted when the lease is lost (fenced), the task is cancelled, or the factory is force-stopped. */
  readonly signal: AbortSignal;
}

export interface ExecutionResult {
  outcome: 'done' | 'parked' | 'failed';
  report: Report;
  checkpoint?: CheckpointPointer | null;
}

/** The seam the pipeline engine implements. Must stop promptly when `lease.signal` aborts. */
export interface TaskExecutor {
  execute(job: Task, lease: LeaseHandle): Promise<ExecutionResult>;
}

export type OutboxKind = 'patch' | 'release' | 'quarantine';

export interface OutboxEntry {
  id: number;
  taskId: string;
  epoch: number;
  kind: OutboxKind;
  body: Record<string, unknown>;
  attempts: number;
  createdAt: number;
}

export interface QuarantinedResult {
  taskId: string;
  epoch: number;
  reason: string;
  result: Record<string, unknown>;
  at: number;
}

/** Durable (fsync'd) on the factory host; survives SIGKILL. */
export interface FactoryOutbox {
  add(entry: { taskId: string; epoch: number; kind: OutboxKind; body: Record<string, unknown> }): Promise<number>;
  pending(): Promise<OutboxEntry[]>;
  done(id: number): Promise<void>;
  bump(id: number): Promise<void>;
  /** Drops every pending entry of a lease (after it was fenced). */
  dropLease(taskId: string, epoch: number): Promise<void>;
  quarantine(r: Omit<QuarantinedResult, 'at'>): Promise<void>;
  quarantined(): Promise<QuarantinedResult[]>;
  close(): Promise<void>;
}

/** Re-exported for executors that want to surface the event stream. */
export type { GantryEvent };
