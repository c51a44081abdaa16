// Ports of the pipeline engine (DESIGN §6, §9): durable runs and steps, budgets, merge intents,
// and the narrow outside world a step kind needs — run an agent role, a workspace, SCM, checks.
import type { NewEvent } from '../domain/events.js';
import type { Amount, BudgetScope, Limits } from '../domain/pipeline/budget.js';
import type { PipelineDef, RunState, StepState, Waiting } from '../domain/pipeline/types.js';
import type { WaitClass } from '../domain/pipeline/wait-notifications.js';
import type { ScmObservation } from '../domain/lifecycle-rules/scm.js';
import type { PullSnapshot, ReviewLook } from '../domain/forge/pr-state.js';
import type { HostedVerdict } from '../domain/forge/verdicts.js';
import type { Ending } from '../domain/workspace-retention.js';
import type { Stage } from '../domain/task.js';
import type { ReviewGate } from '../domain/forge/verdicts.js';
import type { ProjectRepo, TaskRepo } from './store.js';

// ---------------------------------------------------------------- runs and steps

export interface RunRecord {
  id: string;
  taskId: string;
  number: number;
  pipeline: PipelineDef;
  state: RunState;
  currentStep: number;
  waiting: Waiting | null;
  failureKind: string | null;
  failureMessage: string | null;
  startedAt: number | null;
  finishedAt: number | null;
  pausedAt: number | null;
  createdAt: number;
  updatedAt: number;
  rev: number;
}

export type KindState = Record<string, unknown>;

export interface StepRecord {
  id: string;
  runId: string;
  idx: number;
  stepId: string;
  kind: string;
  state: StepState;
  attempts: number;
  output: Record<string, unknown> | null;
  kindState: KindState;
  sessionId: string | null;
  failureKind: string | null;
  failureMessage: string | null;
  startedAt: number | null;
  finishedAt: number | null;
  updatedAt: number;
  rev: number;
}

export interface RunSnapshot {
  run: RunRecord;
  steps: StepRecord[];
}

/** The holder of a task's lease: every engine write while a factory drives is fenced by it. */
export interface Fence {
  taskId: string;
  epoch: number;
  factoryId: string;
}

export interface StepPatch {
  idx: number;
  state?: StepState;
  attempts?: number;
  output?: Record<string, unknown> | null;
  kindState?: KindState;
  sessionId?: string | null;
  failure?: { kind: string; message: string };
  /** Set-once stamps: a replay never moves them. */
  markStarted?: boolean;
  markFinished?: boolean;
  /** A deliberate re-run (rework, restart): clears finished_at and the failure. */
  reopen?: boolean;
}

export interface RunPatch {
  state?: RunState;
  currentStep?: number;
  waiting?: Waiting | null;
  /** First failure wins: ignored when the run already has one. */
  failure?: { kind: string; message: string };
  markStarted?: boolean;
  markFinished?: boolean;
  markPaused?: boolean;
}

export interface NotificationDraft {
  kind: string;
  priority: 'low' | 'normal' | 'high' | 'urgent';
  title: string;
  detail: Record<string, unknown>;
  /** De-duplication key: the same signature is raised once. */
  signature: string;
}

/** What a parked or finished run does to its task when no factory holds the lease (human actions). */
export interface TaskPatch {
  stage: Stage;
  blockedReason?: 'awaiting_human' | 'budget' | null;
  failure?: { kind: string; message: string };
  /** Applied only when the task is in one of these stages (e.g. parked = blocked); otherwise skipped. */
  onlyFrom: Stage[];
}

export interface RunChange {
  runId: string;
  expectedRev: number;
  run?: RunPatch;
  steps?: StepPatch[];
  task?: TaskPatch;
  notifications?: NotificationDraft[];
  /** The waits this transition ends: their open notifications are resolved in the same commit. */
  resolveWaits?: readonly WaitClass[];
  events: NewEvent[];
}

export interface RunRepo {
  /** Starts run n+1 of a task; steps before `keepUntil` copy their finished state and output from `from`. */
  create(opts: {
    taskId: string;
    pipeline: PipelineDef;
    from?: RunSnapshot;
    keepUntil?: number;
    fence: Fence | null;
    event: NewEvent;
    /** Retry/restart: the previous run is closed (cancelled unless already final) in the same transaction. */
    supersede?: string;
    /** Retry/restart: put the task back in the queue; refused (conflict) unless it is in one of these stages. */
    requeueFrom?: Stage[];
  }): Promise<RunSnapshot>;
  load(runId: string): Promise<RunSnapshot | undefined>;
  /** The task's current run (tasks.current_run_id). */
  current(taskId: string): Promise<RunSnapshot | undefined>;
  list(taskId: string): Promise<RunRecord[]>;
  /**
   * Applies one transition atomically: compare-and-set on the run's rev and, when `fence` is given,
   * on the task's lease epoch and holder. Throws `conflict` (rev) or `stale_epoch` (fence) and
   * changes nothing otherwise.
   */
  commit(change: RunChange, fence: Fence | null): Promise<RunSnapshot>;
}

/** What the engine and a factory's executor do with runs: never list them (that is the API's). */
export type EngineRuns = Pick<RunRepo, 'create' | 'load' | 'current' | 'commit'>;

/**
 * What the engine reads besides runs: a task and its project. The Store on a coordinator host; the
 * coordinator's fenced API on a remote factory (src/fleet/remote-engine.ts).
 */
export interface EngineReads {
  tasks: Pick<TaskRepo, 'get'>;
  projects: Pick<ProjectRepo, 'get'>;
}

// ---------------------------------------------------------------- budgets

export interface ReserveRequest {
  /** Idempotency key: one reservation per step attempt, so a replay never double-reserves. */
  id: string;
  taskId: string;
  projectId: string;
  runId: string;
  stepRowId: string;
  amount: Amount;
  limits: Partial<Record<BudgetScope, Limits>>;
}

export type ReserveResult = { ok: true; id: string } | { ok: false; scope: BudgetScope; reason: string };

export interface BudgetRepo {
  /** Checks every configured scope and reserves in one transaction (no overshoot under concurrency). */
  reserve(req: ReserveRequest): Promise<ReserveResult>;
  /** Replaces the reservation by the actual usage (idempotent). */
  settle(id: string, actual: Amount): Promise<void>;
  /** Drops an unused reservation (step never ran). Idempotent. */
  release(id: string): Promise<void>;
  /**
   * A step is launching again because its previous session was lost with its process: that launch's
   * reservation, if still held, is settled at its reserved amount (never under-count) — only by the
   * current lease holder (`fence`), so a fenced factory can never forfeit its successor's reservation.
   */
  forfeitLaunch(id: string, fence: Fence | null): Promise<boolean>;
  /** The same for every held reservation of a run that has ended (cancelled, failed, done). */
  forfeitFinished(): Promise<number>;
  /** Reservations currently held (for tests and the dashboard). */
  held(): Promise<number>;
}

/** What a step does with budgets while it runs (the sweeps and views are the coordinator's). */
export type EngineBudgets = Pick<BudgetRepo, 'reserve' | 'settle' | 'release' | 'forfeitLaunch'>;

// ---------------------------------------------------------------- merge intents

export interface MergeIntent {
  id: string;
  taskId: string;
  runId: string;
  epoch: number;
  baseBranch: string;
  expectedBaseSha: string;
  headSha: string;
  state: 'intent' | 'merged' | 'aborted';
  mergedSha: string | null;
}

export interface MergeIntentRepo {
  /** Recorded before the irreversible update, fenced by the lease in the same statement (stale_epoch otherwise). */
  record(i: Omit<MergeIntent, 'id' | 'state' | 'mergedSha' | 'epoch'>, fence: Fence): Promise<MergeIntent>;
  markMerged(id: string, mergedSha: string): Promise<void>;
  markAborted(id: string, reason: string): Promise<void>;
  forTask(taskId: string): Promise<MergeIntent[]>;
}

// ---------------------------------------------------------------- agents

export interface AgentRequest {
  /** Gantry's session id, chosen by the engine and persisted before the launch. */
  sessionId: string;
  taskId: string;
  runId: string;
  stepRowId: string;
  agent: string;
  role: string;
  prompt: string;
  workspace: string;
  /** 1-based attempt/round (scripted agents pick their script by it). */
  attempt: number;
  /** Continue the agent's own conversation (answers to needs-input). */
  resumeAgentSessionId?: string;
  timeoutMs?: number;
  /** The step's model (overrides the agent's configured model). */
  model?: string;
  /** Called before the runner kills the agent for running past its timeout (a checkpoint, so nothing is lost). */
  beforeStop?(reason: 'timeout'): Promise<unknown>;
  signal: AbortSignal;
}

export interface AgentOutcome {
  status: 'completed' | 'needs_input' | 'failed' | 'lost';
  agentSessionId: string | null;
  /** The final text (plan, summary …). */
  text: string;
  question?: { question: string; options: string[] };
  /** A review the agent reported (raw; the engine normalizes). */
  review?: { score?: unknown; findings?: unknown; summary?: unknown };
  /** Structured output the CLI returned natively (validated against the step's `output:` schema). */
  structured?: unknown;
  /**
   * tokens/costUsd feed the budgets (an unknown cost counts 0 there); the split and `costKnown`
   * (false when a turn reported no cost, or no turn ended) feed the usage views.
   */
  usage: { tokens: number; costUsd: number; inputTokens?: number; outputTokens?: number; cachedInputTokens?: number; costKnown?: boolean };
  error?: string;
  timedOut?: boolean;
  /** The workspace's HEAD moved during the turn; absent when the runner cannot tell. */
  committed?: boolean;
  /** The workspace's HEAD after the turn, when known. */
  head?: string;
}

/** "Run this role with this prompt in this workspace and give me the outcome." */
export interface AgentRunner {
  run(req: AgentRequest): Promise<AgentOutcome>;
}

// ---------------------------------------------------------------- workspace

export interface EngineWorkspace {
  /** The task's workspace on this factory, provisioned (or resumed from its checkpoint) on first use. */
  /** `resumed`: restored from a checkpoint, so `baseSha` is where the earlier work stopped, not the base. */
  prepare(taskId: string): Promise<{ path: string; branch: string; baseSha: string; resumed?: boolean }>;
  /** The run was put back where the restored worktree is (after prepare refused with lost work): prepare serves it again. */
  acknowledgeLoss?(taskId: string, step: string | null): Promise<void>;
  /** Checkpoint at a step boundary; returns the pointer the lease release carries. */
  checkpoint(taskId: string, step: string, reason: string): Promise<{ ref: string; sha: string; seq?: number } | null>;
  /** Unified diff of the task's work against its base (for reviewers). */
  diff(taskId: string): Promise<string>;
  /** Stop using the workspace (cancel): checkpoint then remove. */
  release?(taskId: string): Promise<void>;
  /**
   * After every step that ran an agent: changes outside the step's allow/deny globs (and the project's
   * guard) are blocked (all the step wrote is reverted and the step fails), reverted or warned. A
   * reviewer (`reviewOnly`) changes nothing: what it wrote is discarded (blocked under `reviewerChanges: fail`).
   */
  guard?(taskId: string, step: string, rules: { allow?: string[]; deny?: string[]; reviewOnly?: boolean }): Promise<{ blocked: boolean; violations: string[] }>;
  /** Debounced checkpoints while an agent works: poke on activity; stop() flushes what is pending. */
  activity?(taskId: string, step: string): { poke(): void; stop(): Promise<void> };
  /** The task ended: checkpoint and remove its worktree now if the project's `workspace.retain` says so. */
  retire?(taskId: string, ending: Ending): Promise<'removed' | 'kept'>;
}

// ---------------------------------------------------------------- change observations

/** Where the engine reports what its SCM work saw about a task's change: the owning session's change axis. */
export interface ChangeObserver {
  observe(o: { taskId: string; runId: string; sessionId: string; observation: ScmObservation }): Promise<void>;
}

// ---------------------------------------------------------------- SCM (DESIGN §9)

/** A change: a branch proposed for base. Local git: a branch plus this record; GitHub: a pull request. */
export interface Change {
  taskId: string;
  branch: string;
  base: string;
  /** Adapter reference (PR number/URL); null for local git. */
  ref: string | null;
  /** Where a person sees the change (a pull request's web page); absent for plain git. */
  url?: string;
}

export interface Mergeability {
  clean: boolean;
  conflicts: string[];
  baseSha: string;
  headSha: string;
  /** Human-readable evidence (merge-tree messages) for a resolver and a notification. */
  detail: string;
}

export type ChangeState = 'open' | 'merged' | 'closed';

export interface Scm {
  /**
   * Publish the workspace branch where `merge` can see it (no-op when the workspace shares the repo). A
   * forge refuses to overwrite a commit on the branch that Gantry never had (someone else's push).
   */
  pushBranch(workspace: string, branch: string): Promise<{ headSha: string }>;
  /** `body`: the task's description, for a forge's pull request (local adapters ignore it). */
  openChange(c: { taskId: string; branch: string; base: string; title: string; body?: string }): Promise<Change>;
  changeState(c: Change): Promise<{ state: ChangeState; headSha: string; mergedSha: string | null }>;
  mergeability(c: Change): Promise<Mergeability>;
  /** Merge only if the branch head is `expectedHeadSha` and base is `expectedBaseSha`; never twice. */
  merge(c: Change, opts: { expectedHeadSha: string; expectedBaseSha: string; message: string }): Promise<{ mergedSha: string; alreadyMerged: boolean }>;
  /** Forges only: reopen a change a person closed without merging (their answer "reopen"). */
  reopenChange?(c: Change): Promise<void>;
  /** Forges only: accept that the next push replaces `remoteSha`, someone else's commit on the branch (their answer "overwrite"). */
  adoptRemoteHead?(workspace: string, branch: string, remoteSha: string): Promise<void>;
  /** Forges only: push the head, open/update the change, and wait for its reviews to decide (the `pr-review` step). */
  awaitReview?(w: ReviewWait): Promise<ReviewWaitResult>;
}

export interface ReviewWait {
  workspace: string;
  taskId: string;
  branch: string;
  base: string;
  title: string;
  body?: string;
  /** Approving reviews required. */
  approvals: number;
  /** Each look at the pull request (state, mergeability, head, hosted CI): the step feeds the change axis with it. */
  onPull?: PullListener;
  everyMs: number;
  timeoutMs: number;
  signal?: AbortSignal;
}

export type ReviewWaitResult = (ReviewGate | { type: 'timeout'; reason: string }) & { pull: string | null; headSha: string | null };

// ---------------------------------------------------------------- checks

export interface CheckSpec {
  name: string;
  /** A command run in the workspace (absent for a hosted check). */
  run?: string;
  /** Wait on the forge's CI for the change's head instead (the hosted-checks provider). */
  hosted?: boolean;
  /** Hosted: seconds between polls. */
  pollSeconds?: number;
  /** Seconds. */
  timeout: number;
}

/** The change a check is about: what a hosted provider needs to push the head and find its CI. */
export interface CheckTarget {
  scm: Scm;
  taskId: string;
  branch: string;
  base: string;
  title: string;
  body?: string;
  /** Each look at the pull request while hosted CI is awaited (the step feeds the change axis with it). */
  onPull?: PullListener;
}

/** A forge poll's look at the change: its pull request and, when read, its hosted CI. */
export type PullListener = (pull: PullSnapshot, ci: HostedVerdict | null, review?: ReviewLook | null) => Promise<void>;

export interface CheckResult {
  name: string;
  ok: boolean;
  exitCode: number | null;
  timedOut: boolean;
  durationMs: number;
  logFile: string;
  /** The end of the output, for a fixer's prompt and a notification. */
  tail: string;
  /** Hosted checks: the commit CI ran on (the change axis's occurrence). */
  headSha?: string;
}

export interface Checks {
  run(workspace: string, checks: readonly CheckSpec[], opts: { logDir: string; signal?: AbortSignal; target?: CheckTarget }): Promise<CheckResult[]>;
}
