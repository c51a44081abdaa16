// Row ⇄ record mapping shared by the repositories.
import type { Task, Stage, BlockedReason, CheckpointPointer } from '../domain/task.js';
import type { GantryEvent } from '../domain/events.js';
import type { Project, TokenRecord } from '../ports/store.js';
import type { Role } from '../domain/auth.js';
import type { Row } from '../ports/sql.js';

export const json = <T>(v: unknown, fallback: T): T => {
  if (v === null || v === undefined || v === '') return fallback;
  try {
    return JSON.parse(String(v)) as T;
  } catch {
    return fallback;
  }
};
const num = (v: unknown): number => Number(v);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

export function toTask(r: Row, after: string[] = []): Task {
  return {
    id: String(r.id),
    projectId: String(r.project_id),
    title: String(r.title),
    body: String(r.body),
    pipeline: String(r.pipeline),
    agent: strOrNull(r.agent),
    lightweight: r.lightweight === null || r.lightweight === undefined ? null : num(r.lightweight) === 1,
    priority: num(r.priority),
    capabilities: json<string[]>(r.capabilities, []),
    after,
    stage: String(r.stage) as Stage,
    blockedReason: strOrNull(r.blocked_reason) as BlockedReason | null,
    idempotencyKey: strOrNull(r.idempotency_key),
    attempts: num(r.attempts),
    maxAttempts: num(r.max_attempts),
    leaseEpoch: num(r.lease_epoch),
    leaseFactoryId: strOrNull(r.lease_factory_id),
    leaseExpiresAt: numOrNull(r.lease_expires_at),
    checkpoint: json<CheckpointPointer | null>(r.checkpoint, null),
    affinityFactoryId: strOrNull(r.affinity_factory_id),
    currentRunId: strOrNull(r.current_run_id),
    failureKind: strOrNull(r.failure_kind),
    failureMessage: strOrNull(r.failure_message),
    quarantined: num(r.quarantined) === 1,
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
    queuedAt: num(r.queued_at),
    rev: num(r.rev),
  };
}

export function toProject(r: Row): Project {
  return {
    id: String(r.id),
    name: String(r.name),
    path: String(r.path),
    remote: r.remote === null || r.remote === undefined || r.remote === '' ? String(r.path) : String(r.remote),
    defaultBranch: String(r.default_branch),
    config: json<Record<string, unknown>>(r.config, {}),
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
    rev: num(r.rev),
  };
}

export function toEvent(r: Row): GantryEvent {
  return {
    seq: num(r.seq),
    type: String(r.type),
    taskId: strOrNull(r.task_id),
    runId: strOrNull(r.run_id),
    sessionId: strOrNull(r.session_id),
    payload: json<Record<string, unknown>>(r.payload, {}),
    at: num(r.at),
  };
}

export function toToken(r: Row): TokenRecord {
  return {
    id: String(r.id),
    name: String(r.name),
    role: String(r.role) as Role,
    factoryId: strOrNull(r.factory_id),
    createdAt: num(r.created_at),
    lastUsedAt: numOrNull(r.last_used_at),
    revokedAt: numOrNull(r.revoked_at),
  };
}
