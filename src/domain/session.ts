// A session's lifecycle record: independent axes, each owned by one kind of evidence (DESIGN §7).
// The display status is derived here on read and never stored, so no two writers fight over it.
import type { Confidence, ObservationSource } from './observation.js';

export const RUNTIME_STATES = ['unknown', 'alive', 'exited', 'missing', 'probe_failed'] as const;
export type RuntimeState = (typeof RUNTIME_STATES)[number];

export const ACTIVITY_STATES = ['working', 'idle', 'waiting_input', 'blocked', 'unknown'] as const;
export type ActivityState = (typeof ACTIVITY_STATES)[number];

export const SESSION_STATES = ['not_started', 'working', 'needs_input', 'stuck', 'detecting', 'done', 'terminated'] as const;
export type SessionState = (typeof SESSION_STATES)[number];

export const CHANGE_STATES = ['none', 'open', 'checks_failing', 'changes_requested', 'approved', 'mergeable', 'merged', 'closed'] as const;
export type ChangeState = (typeof CHANGE_STATES)[number];

export interface RuntimeAxis {
  state: RuntimeState;
  pid: number | null;
  handle: string | null;
  exitCode: number | null;
  signal: string | null;
  /** When the evidence was produced (epoch ms). */
  at: number | null;
}

export interface ActivityAxis {
  state: ActivityState;
  confidence: Confidence;
  source: ObservationSource | null;
  /** Time of the evidence that set this state. */
  at: number | null;
  /** When the current state began: "idle since" drives the no-progress rule. */
  since: number | null;
}

/** Memory for ambiguous liveness: how often and since when the process looked gone. */
export interface DetectingMemory {
  attempts: number;
  since: number;
  /** Identity of the last counted evidence, so a replayed probe is not counted twice. */
  evidenceHash: string;
}

export interface SessionRecord {
  id: string;
  taskId: string | null;
  runId: string | null;
  /** The task's project (joined on read), whose gantry.yaml configures reactions. */
  projectId: string | null;
  agent: string;
  agentSessionId: string | null;
  factoryId: string | null;
  workspace: string | null;
  runtime: RuntimeAxis;
  activity: ActivityAxis;
  state: SessionState;
  reason: string | null;
  change: ChangeState;
  detecting: DetectingMemory | null;
  launchGeneration: number;
  createdAt: number;
  updatedAt: number;
  rev: number;
}

/** The fields a decider may change. Absent key = untouched; the manager drops keys equal to the record. */
export type SessionPatch = Partial<
  Pick<SessionRecord, 'runtime' | 'activity' | 'state' | 'reason' | 'change' | 'detecting' | 'launchGeneration' | 'agentSessionId'>
>;

export const TERMINAL_STATES: readonly SessionState[] = ['done', 'terminated'];
export const isTerminal = (s: SessionState): boolean => s === 'done' || s === 'terminated';

/** Reasons that liveness (not activity) wrote: only these may a healthy probe undo (rule 3). */
export const LIVENESS_REASONS: readonly string[] = ['runtime_missing', 'runtime_ambiguous'];
export const isLivenessOwned = (r: Pick<SessionRecord, 'state' | 'reason'>): boolean =>
  r.state === 'detecting' || (r.state === 'stuck' && r.reason !== null && LIVENESS_REASONS.includes(r.reason));

export const emptyRuntime = (): RuntimeAxis => ({ state: 'unknown', pid: null, handle: null, exitCode: null, signal: null, at: null });
export const emptyActivity = (): ActivityAxis => ({ state: 'unknown', confidence: 'unavailable', source: null, at: null, since: null });

export const DISPLAY_STATUSES = [
  'spawning',
  'working',
  'idle',
  'needs_input',
  'blocked',
  'detecting',
  'stuck',
  'pr_open',
  'checks_failing',
  'changes_requested',
  'approved',
  'mergeable',
  'merged',
  'closed',
  'done',
  'exited',
  'killed',
] as const;
export type DisplayStatus = (typeof DISPLAY_STATUSES)[number];

const KILL_REASONS = ['killed', 'cleanup', 'cancelled'];

const changeDisplay: Record<Exclude<ChangeState, 'none'>, DisplayStatus> = {
  open: 'pr_open',
  checks_failing: 'checks_failing',
  changes_requested: 'changes_requested',
  approved: 'approved',
  mergeable: 'mergeable',
  merged: 'merged',
  closed: 'closed',
};

/** What a person sees. Derived from the axes on every read. */
export function displayStatus(r: Pick<SessionRecord, 'state' | 'reason' | 'activity' | 'change'>): DisplayStatus {
  switch (r.state) {
    case 'terminated':
      return r.reason !== null && KILL_REASONS.includes(r.reason) ? 'killed' : 'exited';
    case 'done':
      return r.change === 'merged' || r.change === 'closed' ? changeDisplay[r.change] : 'done';
    case 'not_started':
      return 'spawning';
    case 'detecting':
      return 'detecting';
    case 'stuck':
      return 'stuck';
    case 'needs_input':
      return r.activity.state === 'blocked' ? 'blocked' : 'needs_input';
    case 'working':
      // An agent mid-turn is "working" whatever its change says; between turns the change is the news.
      if (r.activity.state === 'working') return 'working';
      return r.change === 'none' ? 'idle' : changeDisplay[r.change];
  }
}
