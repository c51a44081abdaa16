// The workspace port: what the pipeline engine, the factory and the API ask of a task's isolated
// worktree (DESIGN §8). One implementation over real git lives in src/workspace.
import type { WorkspaceConfig, GuardResponse } from '../config/workspace.js';
import type { GuardViolation } from '../domain/guard.js';
import type { NewEvent } from '../domain/events.js';
import type { ProjectRepo, TaskRepo } from './store.js';

export interface Workspace {
  taskId: string;
  projectId: string;
  /** Absolute worktree path: <home>/workspaces/<project>/<task>. */
  path: string;
  /** gantry/<task>. */
  branch: string;
  /** The commit the workspace started from (base branch tip, or the resumed checkpoint's head). */
  baseSha: string;
  port: number | null;
  /** Directory outside the worktree holding agent settings/hook files written at provisioning. */
  agentDir: string;
  /** The checkpoint the worktree was restored from, when resuming (on the provisioning call only). */
  resumedFrom: CheckpointRecord | null;
  /** Its sequence number, kept for the workspace's life: the branch started at earlier work, not the base. */
  resumedFromSeq?: number | null;
  /**
   * Recorded checkpoints the worktree could not be restored from (never pushed by a factory that died),
   * until acknowledged: steps recorded done since the restored one must run again.
   */
  lostCheckpoints?: { restoredSeq: number | null; seqs: number[] } | null;
}

export interface ProvisionRequest {
  taskId: string;
  /** `remote` (default `path`) is what the factory mirrors; `path`, when a local checkout, is where workspace files are copied from. */
  project: { id: string; name: string; path: string; remote?: string; defaultBranch: string };
  config: WorkspaceConfig;
  /** Branch, tag or sha to start from; default the project's default branch. */
  base?: string;
  /** Restore the task's latest checkpoint when one exists (default true). */
  resume?: boolean;
  /** Skip setup steps (setup commands and their cache). */
  lightweight?: boolean;
  /** Files (relative to agentDir) the agent adapter needs: settings, hook scripts. */
  agentFiles?: { path: string; content: string; mode?: number }[];
}

export interface CheckpointRecord {
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

export interface CheckpointResult {
  checkpoint: CheckpointRecord;
  /** false when the worktree equalled the latest checkpoint, which is returned instead of a duplicate. */
  created: boolean;
}

/** A checkpoint seq, `base`, `latest`, or a commit sha. */
export type CheckpointSelector = number | 'base' | 'latest' | string;

export interface FileDiff {
  path: string;
  status: 'added' | 'modified' | 'deleted' | 'type_changed';
  added: number | null;
  removed: number | null;
}

export interface WorkspaceDiff {
  from: string;
  to: string;
  files: FileDiff[];
  patch: string;
  truncated: boolean;
}

export interface RollbackResult {
  /** The checkpoint of the state before rolling back (so the rollback itself can be undone). */
  safety: CheckpointRecord;
  restoredTo: CheckpointRecord | { sha: string };
  written: string[];
  deleted: string[];
}

export interface GuardRequest {
  /** Changes are judged relative to this checkpoint (default: latest, else base). */
  since?: CheckpointSelector;
  step?: string;
  /** The step's own globs, on top of the project's guard config. */
  allow?: string[];
  deny?: string[];
  response?: GuardResponse;
  /** A reviewer's step: every change is a violation and is discarded (the step fails when `guard.reviewerChanges: fail`). */
  reviewOnly?: boolean;
}

export interface GuardReport {
  violations: GuardViolation[];
  response: GuardResponse;
  /**
   * What was done: nothing (clean), warned, blocked (the caller fails the step; everything the step
   * wrote, commits included, was reverted to the baseline), or reverted paths.
   */
  applied: 'none' | 'warned' | 'blocked' | 'reverted';
  reverted: string[];
  /** Files the step added or made executable (flagged, not a violation). */
  executables: string[];
}

export interface TeardownResult {
  removed: boolean;
  finalCheckpoint: CheckpointRecord | null;
  forced: boolean;
}

export interface WorkspacePort {
  provision(req: ProvisionRequest): Promise<Workspace>;
  /** The live workspace of a task on this host. */
  get(taskId: string): Promise<Workspace | undefined>;
  /**
   * The live workspace, if it still holds the task's newest recorded checkpoint. One that another factory
   * has moved on from since (a newer checkpoint was recorded) is stale: it is set aside like a lost lease's
   * work (`quarantine`, event `workspace.superseded`) and undefined is returned, so the next provisioning
   * resumes from that newer checkpoint.
   */
  current(taskId: string): Promise<Workspace | undefined>;
  /** Every live workspace on this host (the retention sweep walks them). */
  list(): Promise<Workspace[]>;
  checkpoint(taskId: string, opts: { step?: string | null; reason: string }): Promise<CheckpointResult>;
  listCheckpoints(taskId: string): Promise<CheckpointRecord[]>;
  /**
   * The run was put back where the restored state is: checkpoint that state (reason `rewound`, made even
   * when unchanged, taken by `step`) and forget `lostCheckpoints`. Until then no checkpoint is taken.
   */
  acknowledgeLoss(taskId: string, step: string | null): Promise<void>;
  diff(taskId: string, from?: CheckpointSelector, to?: CheckpointSelector): Promise<WorkspaceDiff>;
  rollback(taskId: string, to: CheckpointSelector, opts?: { paths?: string[] }): Promise<RollbackResult>;
  guard(taskId: string, req: GuardRequest): Promise<GuardReport>;
  /**
   * Debounced checkpoints while an agent works: call poke() on activity (file writes, turn ends);
   * a checkpoint with reason `debounce` follows once activity is quiet for workspace.checkpoints.debounceMs.
   */
  activity(taskId: string, step: string | null): ActivityCheckpoints;
  /** Checkpoint, then remove. Refuses (conflict) when the state cannot be saved, unless `force`. */
  teardown(taskId: string, opts?: { force?: boolean; checkpoint?: boolean }): Promise<TeardownResult>;
  /**
   * Work of a lost lease: kept as the local ref `refs/gantry/quarantine/<task>/<label>` (no checkpoint
   * row, never pushed), then the worktree and the task's branch are removed, so the task's next lease
   * here provisions from its latest recorded checkpoint. Null when this host has no workspace of the task.
   */
  quarantine(taskId: string, label: string): Promise<{ ref: string; sha: string } | null>;
  /**
   * Repair what crashes left and collect what is finished (call at factory start and periodically):
   * interrupted provisioning undone, interrupted teardowns finished, finished tasks torn down, orphans removed.
   */
  gc(): Promise<GcEntry[]>;
}

export interface GcEntry {
  taskId: string;
  action: 'keep' | 'clean_interrupted' | 'teardown' | 'remove_orphan' | 'forget';
  error?: string;
}

export interface ActivityCheckpoints {
  poke(): void;
  /** Checkpoint now if activity is pending (at a step boundary). */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

/** Durable checkpoint rows (store adapter). Insert commits the row and its event in one transaction. */
/**
 * What the workspace service reads and writes of durable state: tasks, projects and its own events.
 * The Store on a coordinator host; the coordinator's fenced API on a remote factory.
 */
export interface WorkspaceStore {
  tasks: Pick<TaskRepo, 'get'>;
  projects: Pick<ProjectRepo, 'get' | 'list'>;
  write<T>(fn: (tx: { emit(event: NewEvent): void }) => Promise<T>): Promise<T>;
}

export interface CheckpointRepo {
  insert(c: Omit<CheckpointRecord, 'id' | 'createdAt'>): Promise<CheckpointRecord>;
  list(taskId: string): Promise<CheckpointRecord[]>;
  latest(taskId: string): Promise<CheckpointRecord | undefined>;
  get(taskId: string, seq: number): Promise<CheckpointRecord | undefined>;
}
