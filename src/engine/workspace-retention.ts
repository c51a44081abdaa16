// Workspace retention on this host: worktrees of finished tasks are checkpointed and removed once the
// project's `workspace.retain` period for how they ended has passed (the factory removes a shipped
// task's worktree as it finishes; this sweep catches the rest — tasks kept a while, tasks cancelled
// while parked, work finished before a restart). The decision is the pure `decideRetention`.
import { decideRetention, type RetainPolicy, type RetentionDecision } from '../domain/workspace-retention.js';
import type { Task } from '../domain/task.js';
import type { Project } from '../ports/store.js';
import type { WorkspacePort } from '../ports/workspace.js';

export interface RetentionDeps {
  task(id: string): Promise<Task | undefined>;
  project(id: string): Promise<Project | undefined>;
  workspaces: Pick<WorkspacePort, 'list' | 'teardown'>;
  /** The project's `workspace.retain` (validated config; defaults when absent). */
  retainOf(project: Project): RetainPolicy;
  now(): number;
}

/** What the policy says about one task's worktree now; null when the task or project is unknown here. */
export async function retentionOf(d: Omit<RetentionDeps, 'workspaces'>, taskId: string): Promise<RetentionDecision | null> {
  const t = await d.task(taskId);
  const p = t ? await d.project(t.projectId) : undefined;
  if (!t || !p) return null;
  // A terminal task is no longer written to, so its last update is when it ended.
  return decideRetention({ stage: t.stage, endedAt: t.updatedAt, now: d.now(), policy: d.retainOf(p) });
}

/** For gc: a finished task whose worktree the policy still keeps. */
export const retainedBy = (d: Omit<RetentionDeps, 'workspaces'>) => async (taskId: string): Promise<boolean> => {
  const r = await retentionOf(d, taskId);
  return r?.action === 'keep';
};

export interface SweepResult {
  removed: string[];
  errors: { taskId: string; error: string }[];
}

export async function sweepRetention(d: RetentionDeps): Promise<SweepResult> {
  const out: SweepResult = { removed: [], errors: [] };
  for (const ws of await d.workspaces.list()) {
    const r = await retentionOf(d, ws.taskId);
    if (r?.action !== 'remove') continue;
    try {
      // Teardown checkpoints first and refuses when the state cannot be saved: then it stays, and is retried next sweep.
      await d.workspaces.teardown(ws.taskId, { checkpoint: true });
      out.removed.push(ws.taskId);
    } catch (e) {
      out.errors.push({ taskId: ws.taskId, error: e instanceof Error ? e.message : String(e) });
    }
  }
  return out;
}
