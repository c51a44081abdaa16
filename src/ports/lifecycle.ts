// Ports of the lifecycle manager: durable state (sessions, inputs, reaction memory, notifications)
// behind one transactional unit of work, and the outside world it acts on (agent input, probes,
// notification channels).
import type { NewEvent } from '../domain/events.js';
import type { Observation } from '../domain/observation.js';
import type { SessionPatch, SessionRecord } from '../domain/session.js';
import type { InputState } from '../domain/lifecycle-rules/delivery.js';
import type { NotificationState, Routing } from '../domain/lifecycle-rules/notification.js';
import type { Priority, ReactionKey, ReactionMemory } from '../domain/lifecycle-rules/reactions.js';
import type { RuntimeFact } from '../domain/lifecycle-rules/runtime.js';

export interface NewSession {
  id?: string;
  taskId?: string | null;
  runId?: string | null;
  stepRowId?: string | null;
  agent: string;
  factoryId?: string | null;
  workspace?: string | null;
}

export interface SessionFilter {
  states?: readonly SessionRecord['state'][];
  taskId?: string;
  limit?: number;
}

export interface SessionRepo {
  insert(s: NewSession, now: number): Promise<SessionRecord>;
  get(id: string): Promise<SessionRecord | undefined>;
  list(f: SessionFilter): Promise<SessionRecord[]>;
  /** Compare-and-set on rev; the new rev, or undefined when the row moved (or vanished) meanwhile. */
  update(id: string, expectedRev: number, patch: SessionPatch, now: number): Promise<number | undefined>;
  /** Takes the session row's write lock for this transaction; false when it does not exist. */
  lock(id: string): Promise<boolean>;
  /** The raw `reactions:` section of the session's project config (undefined = defaults). */
  projectReactions(projectId: string | null): Promise<unknown>;
}

export interface InputRecord {
  id: string;
  sessionId: string;
  seq: number;
  text: string;
  /** `human` (gantry reply / API) or `reaction:<key>`. */
  source: string;
  state: InputState;
  attempts: number;
  lastError: string | null;
  deliveredAt: number | null;
  deliveredGeneration: number | null;
  acknowledgedAt: number | null;
  failedAt: number | null;
  createdAt: number;
  updatedAt: number;
  rev: number;
}

export interface InputRepo {
  enqueue(sessionId: string, text: string, source: string, now: number): Promise<InputRecord>;
  get(id: string): Promise<InputRecord | undefined>;
  /** Pending and delivered inputs of a session, oldest first. */
  open(sessionId: string): Promise<InputRecord[]>;
  list(sessionId: string, limit?: number): Promise<InputRecord[]>;
  /** Sessions with at least one pending or delivered input. */
  sessionsWithOpenInputs(limit: number): Promise<string[]>;
  markDelivered(id: string, expectedRev: number, generation: number, now: number): Promise<InputRecord | undefined>;
  markPending(id: string, expectedRev: number, error: string | null, now: number): Promise<InputRecord | undefined>;
  markFailed(id: string, expectedRev: number, error: string, now: number): Promise<InputRecord | undefined>;
  /**
   * The agent started a new turn: what was delivered to it is acknowledged. Delivery happens only
   * between turns, so no timestamp comparison is needed (and none that factory clock skew could break).
   */
  acknowledge(sessionId: string, now: number): Promise<InputRecord[]>;
}

export interface ReactionRow extends ReactionMemory {
  sessionId: string;
  key: ReactionKey;
  escalatedAt: number | null;
}

export interface ReactionRepo {
  forSession(sessionId: string): Promise<Map<ReactionKey, ReactionMemory>>;
  save(sessionId: string, key: ReactionKey, mem: ReactionMemory, now: number): Promise<void>;
  /** Active reactions (candidates for time escalation). */
  active(limit: number): Promise<ReactionRow[]>;
}

export interface NotificationRecord {
  id: string;
  /** Whose gantry.yaml routes it (null = the coordinator's channels). */
  projectId: string | null;
  taskId: string | null;
  runId: string | null;
  sessionId: string | null;
  /** What raised it: a reaction key such as `needs-input`. */
  kind: string;
  priority: Priority;
  state: NotificationState;
  title: string;
  detail: Record<string, unknown>;
  signature: string | null;
  createdAt: number;
  updatedAt: number;
  acknowledgedAt: number | null;
  resolvedAt: number | null;
  escalatedAt: number | null;
  rev: number;
}

export interface NewNotification {
  projectId: string | null;
  taskId: string | null;
  runId: string | null;
  sessionId: string | null;
  kind: string;
  priority: Priority;
  title: string;
  detail: Record<string, unknown>;
  /** De-duplication identity: a second raise with the same signature is a no-op. */
  signature: string;
}

/** `skipped`: the channel cannot deliver on this machine (e.g. no notify-send); the reason is kept. */
export type DeliveryState = 'pending' | 'sending' | 'sent' | 'skipped' | 'failed';
export interface DeliveryRecord {
  id: string;
  notificationId: string;
  channel: string;
  reason: 'raised' | 'escalated';
  state: DeliveryState;
  attempts: number;
  nextAt: number;
  lastError: string | null;
  rev: number;
}

export interface NotificationFilter {
  states?: readonly NotificationState[];
  sessionId?: string;
  limit?: number;
}

export interface NotificationRepo {
  /** Inserts unless the signature exists; undefined = duplicate. Queues one delivery per channel. */
  raise(n: NewNotification, channels: readonly string[], now: number): Promise<NotificationRecord | undefined>;
  get(id: string): Promise<NotificationRecord | undefined>;
  list(f: NotificationFilter): Promise<NotificationRecord[]>;
  /** Compare-and-set move to a new state, stamping the matching timestamp. */
  move(id: string, expectedRev: number, to: NotificationState, now: number): Promise<NotificationRecord | undefined>;
  /** Open (raised/escalated/acknowledged) notifications of a session and kind. */
  openFor(sessionId: string, kind: string): Promise<NotificationRecord[]>;
  queueDeliveries(notificationId: string, channels: readonly string[], reason: 'raised' | 'escalated', now: number): Promise<number>;
  dueDeliveries(now: number, limit: number): Promise<DeliveryRecord[]>;
  /** Compare-and-set delivery state change. */
  setDelivery(id: string, expectedRev: number, patch: { state: DeliveryState; attempts?: number; nextAt?: number; lastError?: string | null }, now: number): Promise<boolean>;
  /** Deliveries stuck in `sending` since before `olderThan` (a crash mid-send) go back to pending. */
  requeueStaleSending(olderThan: number, now: number): Promise<number>;
  /** Notifications raised without their deliveries (the pipeline engine's), oldest first. */
  unrouted(limit: number): Promise<NotificationRecord[]>;
  /** Compare-and-set: true for the one caller that marks it routed. */
  markRouted(id: string): Promise<boolean>;
}

export interface LifecycleRepos {
  sessions: SessionRepo;
  inputs: InputRepo;
  reactions: ReactionRepo;
  notifications: NotificationRepo;
}

export interface LifecycleTx extends LifecycleRepos {
  emit(e: NewEvent): void;
}

export interface LifecycleStore {
  /** Reads outside a transaction. */
  readonly read: LifecycleRepos;
  /** One transaction: every repo call and emitted event commits together or not at all. */
  write<T>(fn: (tx: LifecycleTx) => Promise<T>): Promise<T>;
}

/** An input as a sink sees it; `source` is `human` or `reaction:<key>`. */
export interface SinkInput {
  id: string;
  text: string;
  source: string;
}

/**
 * An input the sink can never take as it stands (a reaction's text to a one-shot agent, a choice that is
 * not among the offered options): it fails at once with `refuse` as its reason, never retried; `hint`
 * says what to send instead (a refusal at queue time is a 409 with it, nothing queued).
 */
export interface SinkRefusal {
  refuse: string;
  hint?: string;
}

/** Hands queued input to a running agent (e.g. resumes a one-shot agent session with it). */
export interface InputSink {
  /**
   * May this input be handed over now? False keeps it queued without spending an attempt (checked again
   * on later kicks and ticks); a refusal fails it at once. Also asked when a person queues input, so a
   * refusal is answered to them (409) instead of queued.
   */
  ready?(session: SessionRecord, input: SinkInput): Promise<boolean | SinkRefusal>;
  deliver(session: SessionRecord, input: SinkInput): Promise<void>;
}

/** Looks at a session's process. Used at boot and while detecting. */
export interface RuntimeProber {
  probe(session: SessionRecord): Promise<Observation<RuntimeFact>>;
}

/** What channels receive: no prompts or task bodies, only what a person needs to act. */
export interface NotificationMessage {
  id: string;
  kind: string;
  priority: Priority;
  state: NotificationState;
  title: string;
  sessionId: string | null;
  taskId: string | null;
  reason: 'raised' | 'escalated';
  createdAt: number;
  detail: Record<string, unknown>;
}

export interface NotificationChannel {
  readonly name: string;
  readonly type: string;
  /** Why the channel cannot deliver on this machine (e.g. no notify-send), or null when it can. */
  unavailable(): string | null;
  send(m: NotificationMessage): Promise<void>;
}

/** The channels, routing and escalation delay that apply to one project's notifications. */
export interface ChannelSet {
  channels: readonly NotificationChannel[];
  routing: Routing;
  /** A raised notification nobody acknowledged within this escalates (once). null = never. */
  escalateAfterMs: number | null;
}

/** Finds a project's channel set (its gantry.yaml `notifications:`, or the coordinator's default). */
export interface ChannelDirectory {
  forProject(projectId: string | null): Promise<ChannelSet>;
}
