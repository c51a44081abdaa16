// What the dashboard reads from the API. Task and event shapes come from the domain itself so the
// two never drift; the rest are the fields the pages use from routes other areas own.
export type { Stage, Task, BlockedReason } from '../../../src/domain/task.js';
export { STAGES, TERMINAL_STAGES } from '../../../src/domain/task.js';
export type { GantryEvent } from '../../../src/domain/events.js';
import type { Task } from '../../../src/domain/task.js';
// Shapes the server's ports already define: re-exported, never restated.
export type { Project } from '../../../src/ports/store.js';
export type { FactoryView as Factory, OperatorAction } from '../../../src/ports/fleet.js';
export type { Waiting, WaitingKind } from '../../../src/domain/pipeline/types.js';
import type { FactoryView } from '../../../src/ports/fleet.js';
import type { Waiting } from '../../../src/domain/pipeline/types.js';
export type FactoryLease = FactoryView['leases'][number];
export type { CardFacts, SpendDay } from '../../../src/domain/card-facts.js';
export type { Attempt, AttemptItem, LogRef } from '../../../src/domain/step-attempts.js';
export type { Usage } from '../../../src/domain/usage.js';
import type { CardFacts, SpendDay } from '../../../src/domain/card-facts.js';
import type { Attempt } from '../../../src/domain/step-attempts.js';
import type { Usage } from '../../../src/domain/usage.js';

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
  /** Why each parked run waits, by task id (from its latest run.parked event). */
  parks?: Record<string, { waiting: string; step: string | null; options: string[] }>;
  /** Each card's facts (current step, attempt, elapsed, lines, cost, merge SHA, why waiting), by task id. */
  facts?: Record<string, CardFacts>;
}

/** GET /api/ui/cards: the tasks an event touched and their card facts. */
export interface CardsResponse {
  tasks: Task[];
  facts: Record<string, CardFacts>;
}

export interface StepAttempts {
  step: { id: string; kind: string; state: string };
  run: { id: string; number: number };
  attempts: Attempt[];
}

export interface LogChunk {
  text: string;
  next: number;
  done: boolean;
}

export interface ProjectSpend {
  project: { id: string; name: string };
  total: Usage;
  days: SpendDay[];
  tasks: Array<{ id: string; title: string; stage: string; usage: Usage }>;
}

export interface WhoAmI {
  id?: string;
  name?: string;
  role?: string;
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
  runId: string | null;
  agent: string;
  factoryId: string | null;
  /** not_started · working · needs_input · stuck · detecting · done · terminated */
  state: string;
  reason: string | null;
  /** Derived on read: spawning · working · idle · needs_input · blocked · stuck · detecting · done · exited · killed … */
  display: string;
  launchGeneration: number;
  createdAt: number;
  updatedAt: number;
}


// ---- pipeline runs (engine) ---------------------------------------------------------------------

export interface StepView {
  id: string;
  kind: string;
  state: 'pending' | 'working' | 'waiting' | 'done' | 'skipped' | 'failed';
  attempts: number;
  output: Record<string, unknown> | null;
  failure: { kind: string; message: string | null } | null;
  startedAt: number | null;
  finishedAt: number | null;
  /** A checks step's rounds, oldest first: a red round that a fixer repaired stays listed. */
  rounds?: CheckRound[];
  /** Tokens and cost of the step's agent turns (null: none ran). */
  usage?: Usage | null;
}

export interface CheckRun {
  name: string;
  command: string | null;
  ok: boolean;
  exitCode: number | null;
  timedOut: boolean;
  durationMs: number;
  /** The end of the log, kept with the result. */
  tail: string;
}

export interface CheckRound {
  round: number;
  ok: boolean;
  /** How the fixer that ran before this round ended (null for the first round). */
  fixer: string | null;
  results: CheckRun[];
}

export interface RunView {
  id: string;
  number: number;
  pipeline: string;
  state: 'running' | 'parked' | 'paused' | 'done' | 'failed' | 'cancelled';
  currentStep: string | null;
  waiting: Waiting | null;
  failure: { kind: string; message: string | null; remedy: string } | null;
  startedAt: number | null;
  finishedAt: number | null;
  pausedAt: number | null;
  steps: StepView[];
}

export interface RunsResponse {
  runs: Array<{ id: string; number: number; state: string; startedAt: number | null; finishedAt: number | null }>;
  current: RunView | null;
  /** Every run, every attempt of the task. */
  usage?: Usage;
}

export type RunAction = 'approve' | 'changes' | 'reject' | 'answer' | 'reply' | 'more_round' | 'proceed' | 'stop' | 'merge' | 'hold' | 'retry' | 'restart' | 'cancel';

// ---- workspaces ---------------------------------------------------------------------------------
// Mirrors CheckpointRecord (src/ports/workspace.ts), whose module graph reaches node:path and so
// cannot be type-imported into the browser build.
export interface Checkpoint {
  id: string;
  taskId: string;
  seq: number;
  ref: string;
  sha: string;
  parentSha: string | null;
  step: string | null;
  reason: string;
  filesChanged: number;
  linesAdded: number;
  linesRemoved: number;
  createdAt: number;
}

export interface WorkspaceDiff {
  from: string;
  to: string;
  files: Array<{ path: string; status: string; added: number | null; removed: number | null }>;
  patch: string;
  truncated: boolean;
}

export interface RollbackResult {
  safety: Checkpoint;
  restoredTo: Checkpoint | { sha: string };
  written: string[];
  deleted: string[];
}

export interface TranscriptEntry {
  kind: 'tool' | 'message' | 'question' | 'turn' | 'error' | 'output';
  text: string;
}

export interface Transcript {
  generation: number;
  entries: TranscriptEntry[];
  size: number;
  truncated: boolean;
}

// ---- new task -----------------------------------------------------------------------------------

export interface NewTaskOptions {
  projects: Array<{ id: string; name: string; pipelines: string[]; defaultPipeline: string; defaultAgent: string }>;
  agents: string[];
}

/** The body of POST /api/tasks the form sends; the API validates it (the form shows its messages). */
export interface NewTaskInput {
  title: string;
  body: string;
  project: string;
  pipeline?: string;
  agent?: string;
  priority?: number;
  after?: string[];
  capabilities?: string[];
}
