// The Store port: what the engine and surfaces may ask of durable state.
// Every mutating call commits its events in the same transaction before it resolves.
import type { GantryEvent, NewEvent } from '../domain/events.js';
import type { Stage, Task, BlockedReason } from '../domain/task.js';
import type { Role } from '../domain/auth.js';
import type { SqlDatabase, SqlRunner } from './sql.js';

export interface Project {
  id: string;
  name: string;
  path: string;
  /** The git remote the project lives in: a URL, or a local path treated exactly like one (DESIGN §9). */
  remote: string;
  defaultBranch: string;
  config: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
  rev: number;
}

export interface NewProject {
  name: string;
  path: string;
  /** Default: `path`. */
  remote?: string;
  defaultBranch: string;
  config: Record<string, unknown>;
}

export interface NewTask {
  projectId: string;
  title: string;
  body: string;
  pipeline: string;
  agent: string | null;
  priority: number;
  capabilities: string[];
  after: string[];
  idempotencyKey: string | null;
  maxAttempts: number;
  /** Skip setup steps when provisioning; null/absent = the project's `workspace.lightweight`. */
  lightweight?: boolean | null;
}

export interface TaskFilter {
  projectId?: string;
  stages?: Stage[];
  limit?: number;
  /** Keyset paging: tasks created strictly before this cursor (from `nextCursor`). */
  cursor?: string;
}

export interface TaskPage {
  tasks: Task[];
  nextCursor: string | null;
}

export interface SubmitResult {
  task: Task;
  created: boolean;
}

export interface TokenRecord {
  id: string;
  name: string;
  role: Role;
  factoryId: string | null;
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

/** A write unit: SQL on the transaction, plus events committed with it. */
export interface WriteTx extends SqlRunner {
  emit(event: NewEvent): void;
}

export interface EventLog {
  /** Events with seq > after, ascending. */
  /** `type`: only events of that type (callers still check: a test double may ignore it). */
  list(opts: { after?: number; limit?: number; taskId?: string; type?: string }): Promise<GantryEvent[]>;
  latestSeq(): Promise<number>;
  /**
   * Deliver every event with seq > fromSeq exactly once, in order, then follow live.
   * Returns unsubscribe; its `ready` resolves once the replay is done and live delivery has begun.
   */
  follow(fromSeq: number, onEvent: (e: GantryEvent) => void): (() => void) & { ready: Promise<void> };
}

export interface ProjectRepo {
  create(p: NewProject): Promise<Project>;
  get(idOrName: string): Promise<Project | undefined>;
  list(): Promise<Project[]>;
  updateConfig(id: string, config: Record<string, unknown>, expectedRev: number): Promise<Project>;
}

export interface TaskRepo {
  submit(t: NewTask): Promise<SubmitResult>;
  get(id: string): Promise<Task | undefined>;
  /** The task submitted with this idempotency key, if any. */
  byIdempotencyKey(key: string): Promise<Task | undefined>;
  list(filter: TaskFilter): Promise<TaskPage>;
  /** Compare-and-set on `rev`; throws conflict when someone else changed the row first. */
  setStage(id: string, expectedRev: number, stage: Stage, blockedReason: BlockedReason | null, event: NewEvent): Promise<Task>;
  dependencies(id: string): Promise<string[]>;
  dependents(id: string): Promise<string[]>;
}

export interface TokenRepo {
  create(opts: { name: string; role: Role; factoryId?: string | null }): Promise<{ token: string; record: TokenRecord }>;
  /** Looks up a presented secret by its hash. Revoked tokens resolve to undefined. */
  verify(secret: string): Promise<TokenRecord | undefined>;
  list(): Promise<TokenRecord[]>;
  revoke(id: string): Promise<void>;
  /** Registers a secret that already exists (e.g. admin.token on disk) if its hash is unknown. */
  ensure(secret: string, opts: { name: string; role: Role }): Promise<TokenRecord>;
}

export interface Store {
  readonly db: SqlDatabase;
  readonly projects: ProjectRepo;
  readonly tasks: TaskRepo;
  readonly tokens: TokenRepo;
  readonly events: EventLog;
  /** Run SQL and emit events in one transaction; events are visible to followers only after commit. */
  write<T>(fn: (tx: WriteTx) => Promise<T>): Promise<T>;
  /** Store clock (epoch ms) — use for anything that decides expiry. */
  now(): Promise<number>;
  close(): Promise<void>;
}
