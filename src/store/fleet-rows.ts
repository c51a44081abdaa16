// Row mapping and shared SQL fragments of the fleet repositories.
import type { Row } from '../ports/sql.js';
import type { FactoryRecord, FactoryState, LeaseRecord, QuarantineRecord, Report, RunRecord } from '../ports/fleet.js';
import { json } from './rows.js';

/** Stages in which a factory holds the lease (domain LEASED_STAGES, as SQL). */
export const LEASED_SQL = "('assigned', 'building', 'review', 'testing')";

/** True when `tasks` (the row being read or updated) has a dependency that has not shipped. */
export const UNMET_DEPS_SQL =
  "EXISTS (SELECT 1 FROM task_deps d JOIN tasks dt ON dt.id = d.depends_on WHERE d.task_id = tasks.id AND dt.stage <> 'shipped')";

/**
 * Back to the queue after a lost lease: dead letter past maxAttempts, blocked if a dependency regressed.
 * The task keeps its place in the queue (queued_at): its factory died, the task did nothing wrong.
 */
export const RECLAIM_SET_SQL = `
  stage = CASE WHEN attempts + 1 >= max_attempts THEN 'dead_letter' WHEN ${UNMET_DEPS_SQL} THEN 'blocked' ELSE 'queued' END,
  blocked_reason = CASE WHEN attempts + 1 >= max_attempts THEN NULL WHEN ${UNMET_DEPS_SQL} THEN 'dependencies' ELSE NULL END,
  attempts = attempts + 1,
  lease_factory_id = NULL, lease_expires_at = NULL,
  updated_at = NOW_MS, rev = rev + 1`;

/** Back to the queue after a given-back lease (gantry_release() does the same on PostgreSQL): queued anew. */
export const REQUEUE_SET_SQL = `${RECLAIM_SET_SQL}, queued_at = NOW_MS`;

const num = (v: unknown): number => Number(v);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

export function toFactory(r: Row): FactoryRecord {
  return {
    id: String(r.id),
    name: String(r.name),
    capabilities: json<string[]>(r.capabilities, []),
    health: json<Record<string, unknown>>(r.health, {}),
    load: json<Record<string, unknown>>(r.load, {}),
    slots: num(r.slots),
    drain: num(r.drain) === 1,
    state: String(r.state) as FactoryState,
    lastHeartbeatAt: numOrNull(r.last_heartbeat_at),
    lastClaimAt: numOrNull(r.last_claim_at),
    createdAt: num(r.created_at),
  };
}

export function toLease(r: Row): LeaseRecord {
  return {
    taskId: String(r.task_id),
    epoch: num(r.epoch),
    factoryId: String(r.factory_id),
    grantedAt: num(r.granted_at),
    expiresAt: num(r.expires_at),
    releasedAt: numOrNull(r.released_at),
    outcome: r.outcome === null || r.outcome === undefined ? null : String(r.outcome),
    report: json<Report | null>(r.report, null),
  };
}

export function toQuarantine(r: Row): QuarantineRecord {
  return {
    taskId: String(r.task_id),
    epoch: num(r.epoch),
    factoryId: String(r.factory_id),
    reason: String(r.reason),
    reportedAt: num(r.reported_at),
  };
}

export function toRun(r: Row): RunRecord {
  return {
    id: String(r.id),
    number: num(r.number),
    state: String(r.state),
    startedAt: numOrNull(r.started_at),
    finishedAt: numOrNull(r.finished_at),
  };
}
