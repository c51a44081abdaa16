// Task stages (DESIGN §4) and the pure rules about them.
export const STAGES = [
  'queued',
  'assigned',
  'building',
  'review',
  'testing',
  'shipped',
  'blocked',
  'failed',
  'cancelled',
  'dead_letter',
] as const;
export type Stage = (typeof STAGES)[number];

export const TERMINAL_STAGES: ReadonlySet<Stage> = new Set(['shipped', 'failed', 'cancelled', 'dead_letter']);
/** Stages in which a factory holds the lease. */
export const LEASED_STAGES: ReadonlySet<Stage> = new Set(['assigned', 'building', 'review', 'testing']);

export type BlockedReason = 'dependencies' | 'awaiting_human' | 'budget';

export interface CheckpointPointer {
  ref: string;
  sha: string;
  seq?: number;
}

export interface Task {
  id: string;
  projectId: string;
  title: string;
  body: string;
  pipeline: string;
  agent: string | null;
  /** Lightweight provisioning asked for at submit (null = the project's default). */
  lightweight?: boolean | null;
  priority: number;
  capabilities: string[];
  after: string[];
  stage: Stage;
  blockedReason: BlockedReason | null;
  idempotencyKey: string | null;
  attempts: number;
  maxAttempts: number;
  leaseEpoch: number;
  leaseFactoryId: string | null;
  leaseExpiresAt: number | null;
  checkpoint: CheckpointPointer | null;
  affinityFactoryId: string | null;
  currentRunId: string | null;
  failureKind: string | null;
  failureMessage: string | null;
  quarantined: boolean;
  createdAt: number;
  updatedAt: number;
  queuedAt: number;
  rev: number;
}

export const isTerminal = (stage: Stage): boolean => TERMINAL_STAGES.has(stage);

/** Stage a new task starts in: blocked until every dependency shipped. */
export function initialStage(dependencyStages: readonly Stage[]): { stage: Stage; blockedReason: BlockedReason | null } {
  const unmet = dependencyStages.some((s) => s !== 'shipped');
  return unmet ? { stage: 'blocked', blockedReason: 'dependencies' } : { stage: 'queued', blockedReason: null };
}

/** The stage a factory may report via a fenced PATCH while it holds the lease. */
export const FACTORY_REPORTABLE: ReadonlySet<Stage> = new Set(['assigned', 'building', 'review', 'testing']);
