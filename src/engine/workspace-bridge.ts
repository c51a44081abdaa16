// EngineWorkspace over the workspace port: provision (or resume from the latest checkpoint) on first
// use, checkpoint at step boundaries, and the diff a reviewer reads.
import type { WorkspaceConfig } from '../config/workspace.js';
import { notFound } from '../domain/errors.js';
import { decideRetention, type Ending } from '../domain/workspace-retention.js';
import type { EngineReads, EngineWorkspace } from '../ports/engine.js';
import type { Workspace, WorkspacePort } from '../ports/workspace.js';
import { workspaceLostError, type CheckpointMark, type LostWork } from '../domain/pipeline/lost-work.js';

/** Checkpoint reasons of a step's own session (the debouncer's, and the one before a timeout kill). */
const MID_SESSION = ['debounce', 'timeout'];

export class WorkspaceBridge implements EngineWorkspace {
  constructor(
    private readonly ws: WorkspacePort,
    private readonly store: EngineReads,
    private readonly configOf: (projectConfig: Record<string, unknown>) => WorkspaceConfig,
    private readonly opts: { lightweight?: boolean } = {},
  ) {}

  async prepare(taskId: string): Promise<{ path: string; branch: string; baseSha: string; resumed: boolean }> {
    const ws = await this.provisioned(taskId);
    // Until the engine has put the run back (acknowledgeLoss), no step works on a worktree missing work it counts on.
    if (ws.lostCheckpoints) throw workspaceLostError(taskId, await this.lostWork(taskId, ws.lostCheckpoints));
    return { ...ws, resumed: ws.resumedFrom !== null || (ws.resumedFromSeq ?? null) !== null };
  }

  async acknowledgeLoss(taskId: string, step: string | null): Promise<void> {
    await this.ws.acknowledgeLoss(taskId, step);
  }

  private async lostWork(taskId: string, l: { restoredSeq: number | null; seqs: number[] }): Promise<LostWork> {
    const rows = await this.ws.listCheckpoints(taskId);
    const mark = (c: { seq: number; step: string | null; reason: string }) => ({ seq: c.seq, step: c.step, reason: c.reason });
    // What the worktree holds is the restored checkpoint and its ancestors (by parent), not every lower
    // number: an earlier dead factory's unpushed checkpoints are lower too, and not in it.
    const bySha = new Map(rows.map((c) => [c.sha, c]));
    const restored: CheckpointMark[] = [];
    for (let c = rows.find((x) => x.seq === l.restoredSeq); c; c = c.parentSha ? bySha.get(c.parentSha) : undefined) restored.push(mark(c));
    return { restored, lost: rows.filter((c) => l.seqs.includes(c.seq)).sort((a, b) => b.seq - a.seq).map(mark) };
  }

  private async provisioned(taskId: string): Promise<Workspace> {
    // Not merely the live one: a worktree left here by an earlier lease, since moved on by another factory, is stale.
    const live = await this.ws.current(taskId);
    if (live) return live;
    const task = await this.store.tasks.get(taskId);
    if (!task) throw notFound('task', taskId);
    const p = await this.store.projects.get(task.projectId);
    if (!p) throw notFound('project', task.projectId);
    const config = this.configOf(p.config);
    // The task's own choice wins, then the project's; the factory may force it on (tests, benchmarks).
    const lightweight = this.opts.lightweight === true || (task.lightweight ?? config.lightweight);
    return this.ws.provision({
      taskId,
      project: { id: p.id, name: p.name, path: p.path, remote: p.remote, defaultBranch: p.defaultBranch },
      config,
      resume: true,
      ...(lightweight ? { lightweight: true } : {}),
    });
  }

  async checkpoint(taskId: string, step: string, reason: string): Promise<{ ref: string; sha: string; seq?: number } | null> {
    if (!(await this.ws.get(taskId))) return null;
    const r = await this.ws.checkpoint(taskId, { step, reason });
    return { ref: r.checkpoint.ref, sha: r.checkpoint.sha, seq: r.checkpoint.seq };
  }

  async diff(taskId: string): Promise<string> {
    await this.prepare(taskId);
    await this.ws.checkpoint(taskId, { step: null, reason: 'review' });
    return (await this.ws.diff(taskId, 'base', 'latest')).patch;
  }

  async release(taskId: string): Promise<void> {
    if (await this.ws.get(taskId)) await this.ws.teardown(taskId, { checkpoint: true });
  }

  /**
   * What the step's changes are judged against: the latest checkpoint from before its agent worked.
   * Checkpoints taken while it worked (debounced, before a timeout kill) already hold its changes.
   */
  private async guardBaseline(taskId: string, step: string): Promise<number | 'base'> {
    const all = await this.ws.listCheckpoints(taskId);
    for (let i = all.length - 1; i >= 0; i--) {
      const c = all[i]!;
      if (!(c.step === step && MID_SESSION.includes(c.reason))) return c.seq;
    }
    return 'base';
  }

  activity(taskId: string, step: string): { poke(): void; stop(): Promise<void> } {
    return this.ws.activity(taskId, step);
  }

  /** Checkpoint and remove the worktree now when the project keeps none for this ending (the retention sweep does the rest). */
  async retire(taskId: string, ending: Ending): Promise<'removed' | 'kept'> {
    if (!(await this.ws.get(taskId))) return 'kept';
    const task = await this.store.tasks.get(taskId);
    const p = task ? await this.store.projects.get(task.projectId) : undefined;
    if (!p) return 'kept';
    // Judged at the moment it ended: only an ending kept for 0 is removed now.
    const d = decideRetention({ stage: ending, endedAt: 0, now: 0, policy: this.configOf(p.config).retain });
    if (d.action === 'keep') return 'kept';
    await this.ws.teardown(taskId, { checkpoint: true });
    return 'removed';
  }

  async guard(taskId: string, step: string, rules: { allow?: string[]; deny?: string[]; reviewOnly?: boolean }): Promise<{ blocked: boolean; violations: string[] }> {
    if (!(await this.ws.get(taskId))) return { blocked: false, violations: [] };
    const r = await this.ws.guard(taskId, { step, since: await this.guardBaseline(taskId, step), ...rules });
    return { blocked: r.applied === 'blocked', violations: r.violations.map((v) => `${v.kind} ${v.paths.join(', ')}: ${v.detail}`) };
  }
}
