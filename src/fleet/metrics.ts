// Fleet metrics and alerts from a snapshot of facts. Pure, so thresholds are table-tested.
import type { Stage } from '../domain/task.js';
import type { FleetSnapshot } from '../ports/fleet.js';
import { whyWaiting, type WaitReason } from './capabilities.js';

export type AlertKind = 'no_live_capacity' | 'all_factories_down' | 'queue_starvation' | 'saturated' | 'stale_factories' | 'unmatched_work';

export interface Alert {
  kind: AlertKind;
  message: string;
}

export interface FleetMetrics {
  at: number;
  version: number;
  queueDepth: number;
  stages: Partial<Record<Stage, number>>;
  oldestQueuedAgeMs: number | null;
  factories: { total: number; live: number; stale: number; draining: number };
  seats: { total: number; used: number };
  health: Array<{ id: string; name: string; live: boolean; drain: boolean; slots: number; leases: number; lastHeartbeatAgeMs: number | null }>;
  /** Queued tasks (of the oldest 100) that no live factory can take, and why. */
  waiting: Array<{ taskId: string } & WaitReason>;
  alerts: Alert[];
}

export interface MetricThresholds {
  /** Oldest queued task waiting longer than this while capacity exists → starvation. */
  starvationMs: number;
}

export function fleetMetrics(s: FleetSnapshot, t: MetricThresholds): FleetMetrics {
  const queueDepth = s.stages.queued ?? 0;
  const oldestQueuedAgeMs = s.oldestQueuedAt === null ? null : Math.max(0, s.now - s.oldestQueuedAt);
  const serving = s.factories.filter((f) => f.live && !f.drain);
  const stale = s.factories.filter((f) => !f.live && f.state !== 'enrolled');
  const seats = { total: serving.reduce((n, f) => n + f.slots, 0), used: serving.reduce((n, f) => n + f.leases.length, 0) };
  const alerts: Alert[] = [];
  if (s.factories.length > 0 && s.factories.every((f) => !f.live)) {
    alerts.push({ kind: 'all_factories_down', message: 'no factory has sent a heartbeat within the stale window' });
  }
  if (queueDepth > 0 && serving.length === 0) {
    alerts.push({ kind: 'no_live_capacity', message: `${queueDepth} task(s) queued and no live, non-draining factory to take them` });
  }
  if (queueDepth > 0 && serving.length > 0 && seats.used >= seats.total) {
    alerts.push({ kind: 'saturated', message: `every seat is busy (${seats.used}/${seats.total}) with ${queueDepth} task(s) queued` });
  }
  if (oldestQueuedAgeMs !== null && oldestQueuedAgeMs > t.starvationMs && seats.used < seats.total) {
    alerts.push({
      kind: 'queue_starvation',
      message: `a task has waited ${Math.round(oldestQueuedAgeMs / 1000)} s although seats are free: check its required capabilities and budget`,
    });
  }
  // Work nobody serving can take (a capability or agent no live factory offers). With no factory at
  // all, no_live_capacity already says so.
  const waiting = serving.length === 0 ? [] : (s.queued ?? []).flatMap((q) => {
    const why = whyWaiting(q, serving);
    return why ? [{ taskId: q.id, ...why }] : [];
  });
  if (waiting.length > 0) {
    const words = [...new Set(waiting.flatMap((w) => w.missing))];
    alerts.push({ kind: 'unmatched_work', message: `${waiting.length} queued task(s) need what no live factory offers: ${words.join(', ')}` });
  }
  if (stale.length > 0) alerts.push({ kind: 'stale_factories', message: `stale: ${stale.map((f) => f.name).join(', ')}` });
  return {
    at: s.now,
    version: s.version,
    queueDepth,
    stages: s.stages,
    oldestQueuedAgeMs,
    factories: { total: s.factories.length, live: s.factories.filter((f) => f.live).length, stale: stale.length, draining: s.factories.filter((f) => f.drain).length },
    seats,
    health: s.factories.map((f) => ({
      id: f.id,
      name: f.name,
      live: f.live,
      drain: f.drain,
      slots: f.slots,
      leases: f.leases.length,
      lastHeartbeatAgeMs: f.lastHeartbeatAt === null ? null : Math.max(0, s.now - f.lastHeartbeatAt),
    })),
    waiting,
    alerts,
  };
}
