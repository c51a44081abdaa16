// What the dashboard reads from the API. Task and event shapes come from the domain itself so the
// two never drift; the rest are the fields the pages use from routes other areas own.
export type { Stage, Task, BlockedReason } from '../../../src/domain/task.js';
export { STAGES, TERMINAL_STAGES } from '../../../src/domain/task.js';
export type { GantryEvent } from '../../../src/domain/events.js';
import type { Task } from '../../../src/domain/task.js';

export interface Project {
  id: string;
  name: string;
  path: string;
  defaultBranch: string;
  config: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
  rev: number;
}

export interface TaskPage {
  tasks: Task[];
  nextCursor: string | null;
}

export interface BoardSnapshot {
  /** Every task not in a terminal stage, plus the most recent terminal ones. */
  tasks: Task[];
  /** The last event seq committed before the tasks were read: follow the stream from here. */
  seq: number;
  truncated: boolean;
}

export interface WhoAmI {
  id?: string;
  name?: string;
  role?: string;
}

export interface FactoryLease {
  taskId: string;
  epoch: number;
  stage: string;
  expiresAt: number;
}

export interface Factory {
  id: string;
  name: string;
  capabilities: string[];
  health: Record<string, unknown>;
  load: Record<string, unknown>;
  slots: number;
  drain: boolean;
  state: string;
  live: boolean;
  lastHeartbeatAt: number | null;
  lastClaimAt: number | null;
  createdAt: number;
  leases: FactoryLease[];
}

export interface Quarantine {
  taskId: string;
  epoch: number;
  factoryId: string;
  reason: string;
  at?: number;
}

export interface FleetMetrics {
  at: number;
  version: number;
  queueDepth: number;
  stages: Partial<Record<string, number>>;
  oldestQueuedAgeMs: number | null;
  factories: { total: number; live: number; stale: number; draining: number };
  seats: { total: number; used: number };
  alerts: Array<{ kind: string; message: string }>;
}

export interface Notification {
  id: string;
  taskId: string | null;
  runId: string | null;
  sessionId: string | null;
  kind: string;
  priority: string;
  state: 'raised' | 'escalated' | 'acknowledged' | 'resolved';
  title: string;
  detail: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
}

export interface Session {
  id: string;
  taskId: string | null;
  runId?: string | null;
  agent?: string;
  display?: string;
  status?: string;
  createdAt: number;
  updatedAt?: number;
  [k: string]: unknown;
}

export type OperatorAction = 'requeue' | 'reject' | 'cancel' | 'ship';
