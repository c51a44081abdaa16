// WorkspacePort over real git: provisioning through the step runner, checkpoints, diff, rollback,
// guard, teardown that never loses work, and garbage collection that repairs what crashes leave.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { conflict, GantryError, notFound } from '../domain/errors.js';
import type { NewEvent } from '../domain/events.js';
import { canonicalPath, decideGuard, flaggedExecutables, revertablePaths } from '../domain/guard.js';
import { runSteps, type StepDef, type StepEvent } from '../lib/step-runner.js';
import { Debouncer } from '../lib/debounce.js';
import type { Clock } from '../ports/clock.js';
import type {
  ActivityCheckpoints, CheckpointRecord, CheckpointRepo, GcEntry, CheckpointResult, CheckpointSelector, FileDiff, GuardReport, GuardRequest,
  ProvisionRequest, RollbackResult, TeardownResult, Workspace, WorkspaceDiff, WorkspacePort, WorkspaceStore,
} from '../ports/workspace.js';
import type { WorkspaceConfig } from '../config/workspace.js';
import { adoptIfOwn, behind, checkpointLocked, forgetTask, resolveSelector, snapshotRepairing, snapshotTarget, withTaskLock, type CheckpointContext } from './checkpointer.js';
import { git, gitOut, splitZ } from './git.js';
import { changedGitMeta, repairWorktreeLink, restoreGitMeta, type GitMetaSnapshot } from './git-meta.js';
import { commitRevert, currentHead, headOfBaseline, restoreBranch } from './branch-restore.js';
import { gatherGuardFacts } from './guard-check.js';
import { provisionPlan, type ProvisionState } from './provision-plan.js';
import { applyTree, treeChanges } from './snapshot.js';
import { allRecords, Layout, loadRecord, safeName, saveRecord, type WorkspaceRecord } from './state-record.js';
import { removeWorktree, withRepoLock } from './worktree-ops.js';
import { collectGarbage, projectDirName } from './collector.js';
import { decideGc } from '../domain/workspace-gc.js';
import { Mirror, mirrorPath } from './mirror.js';
import { RefPusher } from './ref-pusher.js';

export interface WorkspaceServiceOptions {
  /** The gantry home: workspaces live in <home>/workspaces/<project>/<task>. */
  home: string;
  store: WorkspaceStore;
  checkpoints: CheckpointRepo;
  clock: Clock;
  /** Environment for setup commands (the composition root passes process.env). */
  env?: Record<string, string>;
  /** Project config lookup for operations that need it after provisioning (push remote, guard limits). */
  configOf?: (projectId: string) => Promise<WorkspaceConfig | undefined>;
  /** A finished task whose worktree `workspace.retain` still keeps: gc leaves it (the composition root decides). */
  retained?: (taskId: string) => Promise<boolean>;
  /** Provisioning reuses a mirror fetched this recently by this process (default 10 s); landing always fetches. */
  mirrorMaxAgeMs?: number;
  /** Seam to extend or instrument the provisioning plan (tests inject failures at every step with it). */
  planDecorator?: (plan: StepDef<ProvisionState>[]) => StepDef<ProvisionState>[];
}

const PATCH_LIMIT = 512 * 1024;
const STATUS: Record<string, FileDiff['status']> = { A: 'added', M: 'modified', D: 'deleted', T: 'type_changed' };

export { projectDirName };

export class WorkspaceService implements WorkspacePort {
  readonly layout: Layout;
  private readonly ctx: CheckpointContext;

  constructor(private readonly opts: WorkspaceServiceOptions) {
    this.layout = new Layout(opts.home);
    this.ctx = { layout: this.layout, repo: opts.checkpoints, pushRemote: (rec) => this.checkpointPushRemote(rec), push: (rec, ref, remote) => this.pushRef(rec, ref, remote) };
  }

  private async emit(events: NewEvent[]): Promise<void> {
    if (events.length) await this.opts.store.write(async (tx) => events.forEach((e) => tx.emit(e)));
  }

  private toWorkspace(r: WorkspaceRecord, resumedFrom: CheckpointRecord | null): Workspace {
    return {
      taskId: r.taskId, projectId: r.projectId, path: r.path, branch: r.branch, baseSha: r.baseSha, port: r.port,
      agentDir: this.layout.agentDir(r.projectName, r.taskId), resumedFrom, resumedFromSeq: r.resumedFromSeq, lostCheckpoints: r.lostCheckpoints ?? null,
    };
  }

  /** Task → project directory of its record, so hot paths (checkpoints) read one file instead of scanning. */
  private readonly located = new Map<string, string>();

  private async record(taskId: string): Promise<WorkspaceRecord | undefined> {
    safeName('task', taskId);
    const known = this.located.get(taskId);
    const hit = known ? await loadRecord(this.layout, known, taskId) : undefined;
    if (hit) return hit;
    const found = (await allRecords(this.layout)).find((r) => r.taskId === taskId);
    if (found) this.located.set(taskId, found.projectName);
    else this.located.delete(taskId);
    return found;
  }

  private async liveRecord(taskId: string): Promise<WorkspaceRecord> {
    const r = await this.record(taskId);
    if (!r || r.status !== 'ready' || !existsSync(r.path)) {
      throw notFound('workspace of task', taskId, 'the task has no live workspace on this host; it is provisioned when a factory runs the task');
    }
    return r;
  }

  // ---- provisioning -------------------------------------------------------------------------

  async provision(req: ProvisionRequest): Promise<Workspace> {
    const projectName = projectDirName(req.project);
    const path = this.layout.worktree(projectName, req.taskId);
    let existing = await loadRecord(this.layout, projectName, req.taskId);
    if (existing?.status === 'ready' && existsSync(existing.path)) {
      const live = await this.current(req.taskId); // idempotent, unless another factory moved the task on
      if (live) return live;
      existing = await loadRecord(this.layout, projectName, req.taskId); // set aside: gone
    }
    if (existing) {
      if (this.inFlight.has(req.taskId)) {
        throw conflict(`workspace of task ${req.taskId} is being ${existing.status === 'removing' ? 'removed' : 'provisioned'} right now`, 'wait for it to finish, then retry');
      }
      await this.repairInterrupted(existing);
    }
    this.inFlight.add(req.taskId);
    try {
      return await this.provisionFresh(req, projectName, path);
    } finally {
      this.inFlight.delete(req.taskId);
    }
  }

  /**
   * A record no provisioning or teardown of this process is working on was left by a process that
   * died mid-way (the next claim of the task lands here): undo an interrupted provisioning the way
   * `gc` does, finish an interrupted teardown (checkpoint first), or forget a worktree that is gone.
   */
  private async repairInterrupted(r: WorkspaceRecord): Promise<void> {
    const action = decideGc({ taskId: r.taskId, status: r.status, dirExists: existsSync(r.path), registered: true, taskTerminal: false });
    if (action === 'teardown') {
      await this.teardownRecord(r, {});
    } else {
      await removeWorktree(r.repoPath, r.path, action === 'clean_interrupted' && r.createdBranch ? { deleteBranch: r.branch } : {});
      await rm(this.layout.stateDir(r.projectName, r.taskId), { recursive: true, force: true });
      forgetTask(r.taskId);
    }
    await this.emit([{ type: 'workspace.repaired', taskId: r.taskId, payload: { was: r.status, action } }]);
  }

  private readonly inFlight = new Set<string>();

  private async provisionFresh(req: ProvisionRequest, projectName: string, path: string): Promise<Workspace> {
    const latest = (await this.opts.checkpoints.latest(req.taskId)) ?? null;
    const resume = req.resume === false ? null : latest;
    const state: ProvisionState = {
      req,
      layout: this.layout,
      resume,
      start: '',
      env: this.opts.env ?? {},
      fetchCheckpoints: (taskId) => this.fetchCheckpoints(state.record.repoPath, req.project.path, req.config, taskId),
      checkpoints: (taskId) => this.opts.checkpoints.list(taskId),
      mirrorMaxAgeMs: this.opts.mirrorMaxAgeMs ?? 10_000,
      record: {
        taskId: req.taskId, projectId: req.project.id, projectName, repoPath: req.project.path, path,
        branch: `gantry/${req.taskId}`, baseSha: '', port: null, status: 'provisioning', provisionId: randomBytes(8).toString('hex'), createdBranch: false, placed: [], resumedFromSeq: null,
        syncedSeq: latest?.seq ?? null,
      },
    };
    const events: NewEvent[] = [];
    const sink = (e: StepEvent) => {
      const { type, ...rest } = e;
      const name = { StepStarted: 'step_started', StepCompleted: 'step_completed', StepSkipped: 'step_skipped', StepFailed: 'step_failed', CleanupFailed: 'cleanup_failed' }[type];
      events.push({ type: `workspace.${name}`, taskId: req.taskId, payload: { ...rest } });
    };
    const result = await runSteps((this.opts.planDecorator ?? ((p) => p))(provisionPlan()), state, { clock: this.opts.clock, sink, lightweight: req.lightweight ?? false });
    if (!result.ok) {
      events.push({ type: 'workspace.provision_failed', taskId: req.taskId, payload: { step: result.failedStep, cleanupErrors: result.cleanupErrors } });
      await this.emit(events);
      throw result.error instanceof GantryError
        ? result.error
        : new GantryError('internal', `provisioning failed at ${result.failedStep}: ${result.error instanceof Error ? result.error.message : String(result.error)}`, {
            hint: 'see the workspace.step_failed event for details',
          });
    }
    const r = state.record;
    events.push({ type: 'workspace.provisioned', taskId: req.taskId, payload: { path: r.path, branch: r.branch, baseSha: r.baseSha, port: r.port, resumedFromSeq: r.resumedFromSeq, ...(r.lostCheckpoints ? { lostCheckpoints: r.lostCheckpoints.seqs } : {}) } });
    await this.emit(events);
    return this.toWorkspace(r, state.resume);
  }

  async get(taskId: string): Promise<Workspace | undefined> {
    const r = await this.record(taskId);
    return r && r.status === 'ready' ? this.toWorkspace(r, null) : undefined;
  }

  async current(taskId: string): Promise<Workspace | undefined> {
    const r = await this.record(taskId);
    if (!r || r.status !== 'ready') return undefined;
    if (r.syncedSeq === undefined || !existsSync(r.path)) return this.toWorkspace(r, null);
    if (!behind(r, await this.opts.checkpoints.latest(taskId))) return this.toWorkspace(r, null);
    // Checked again under the task lock: a checkpoint of this worktree may have been recorded meanwhile.
    const setAside = await withTaskLock(taskId, async () => {
      const rec = await this.record(taskId);
      return rec?.status === 'ready' ? this.setAsideIfStaleLocked(rec) : false;
    });
    return setAside ? undefined : this.current(taskId);
  }

  /**
   * Caller holds the task lock. A worktree another factory has moved the task on from is set aside (its
   * state kept in a local ref): resuming it, checkpointing it or shipping it would lose the newer work.
   */
  private async setAsideIfStaleLocked(rec: WorkspaceRecord): Promise<boolean> {
    const latest = await this.opts.checkpoints.latest(rec.taskId);
    if (!behind(rec, latest) || (await adoptIfOwn(this.ctx, rec, latest))) return false;
    const kept = await this.setAsideLocked(rec, `superseded-${latest.seq}`);
    await this.emit([{ type: 'workspace.superseded', taskId: rec.taskId, payload: { syncedSeq: rec.syncedSeq ?? null, latestSeq: latest.seq, keptRef: kept?.ref ?? null } }]);
    return true;
  }

  async list(): Promise<Workspace[]> {
    return (await allRecords(this.layout)).filter((r) => r.status === 'ready').map((r) => this.toWorkspace(r, null));
  }

  // ---- checkpoints ----------------------------------------------------------------------------

  async checkpoint(taskId: string, opts: { step?: string | null; reason: string }): Promise<CheckpointResult> {
    const rec = await this.liveRecord(taskId);
    return withTaskLock(taskId, () => checkpointLocked(this.ctx, rec, opts));
  }

  activity(taskId: string, step: string | null): ActivityCheckpoints {
    const opts = {
      quietMs: 30_000,
      maxWaitMs: 300_000,
      onError: (e: unknown) =>
        void this.emit([{ type: 'checkpoint.failed', taskId, payload: { reason: 'debounce', error: e instanceof Error ? e.message : String(e) } }]).catch(() => undefined),
    };
    // The debouncer reads these live: the project's quiet period applies as soon as it is known.
    void this.record(taskId)
      .then(async (r) => (r ? await this.opts.configOf?.(r.projectId) : undefined))
      .then((c) => {
        if (c) Object.assign(opts, { quietMs: c.checkpoints.debounceMs, maxWaitMs: c.checkpoints.debounceMs * 10 });
      })
      .catch(() => undefined);
    return new Debouncer(() => this.checkpoint(taskId, { step, reason: 'debounce' }), opts);
  }

  listCheckpoints(taskId: string): Promise<CheckpointRecord[]> {
    return this.opts.checkpoints.list(taskId);
  }

  async acknowledgeLoss(taskId: string, step: string | null): Promise<void> {
    await withTaskLock(taskId, async () => {
      const rec = await this.record(taskId);
      if (!rec?.lostCheckpoints) return;
      // The restored state becomes the newest checkpoint (pushed like any): the next factory resumes from
      // it without meeting the loss again, and "latest" names a commit this host has.
      await checkpointLocked(this.ctx, rec, { step, reason: 'rewound', force: true });
      delete rec.lostCheckpoints;
      await saveRecord(this.layout, rec);
    });
  }

  private async repoPathOf(taskId: string): Promise<{ repoPath: string; rec: WorkspaceRecord | undefined }> {
    const rec = await this.record(taskId);
    if (rec) return { repoPath: rec.repoPath, rec };
    const task = await this.opts.store.tasks.get(taskId);
    if (!task) throw notFound('task', taskId);
    const project = await this.opts.store.projects.get(task.projectId);
    if (!project) throw notFound('project', task.projectId);
    const mirror = mirrorPath(this.opts.home, projectDirName(project));
    return { repoPath: existsSync(mirror) ? mirror : project.path, rec: undefined };
  }

  /**
   * `checkpoints.pushTo` as a URL: a remote named in the project's local checkout (its `origin` …),
   * else the name as the mirror knows it (`origin` is the project remote), else a URL or path as given.
   */
  private async pushTarget(checkout: string | undefined, pushTo: string): Promise<string> {
    if (checkout && /^[A-Za-z0-9._-]+$/.test(pushTo) && existsSync(checkout)) {
      const r = await git(['remote', 'get-url', pushTo], { cwd: checkout, okCodes: [1, 2, 128] });
      if (r.code === 0 && r.stdout.trim()) return r.stdout.trim();
    }
    return pushTo;
  }

  private async checkoutOf(projectId: string): Promise<string | undefined> {
    return (await this.opts.store.projects.get(projectId))?.path;
  }

  private isMirror(repo: string): boolean {
    return repo.startsWith(`${this.opts.home}/mirrors/`) || repo.startsWith(join(this.opts.home, 'mirrors') + sep);
  }

  /**
   * Where checkpoints go so another factory can resume: `checkpoints.pushTo`, else, for a task worked
   * in this factory's mirror, the project remote itself (the mirror's `origin`): a factory's disk is
   * not where a checkpoint may live alone.
   */
  private checkpointRemote(pushTo: string | undefined, repoPath: string): string | undefined {
    return pushTo ?? (this.isMirror(repoPath) ? 'origin' : undefined);
  }

  /**
   * Where a new checkpoint of `rec` is pushed. The default, the mirror's own `origin` (the project
   * remote it was made from), needs no lookup; a configured `pushTo` is resolved as `pushTarget` says.
   */
  private async checkpointPushRemote(rec: WorkspaceRecord): Promise<string | undefined> {
    const configured = (await this.opts.configOf?.(rec.projectId))?.checkpoints.pushTo;
    const pushTo = this.checkpointRemote(configured, rec.repoPath);
    if (!pushTo || configured === undefined) return pushTo;
    return this.pushTarget(await this.checkoutOf(rec.projectId), pushTo);
  }

  /** Concurrent checkpoints of one repository (several tasks of a project) share one push. */
  private readonly pusher = new RefPusher();

  private async pushRef(rec: WorkspaceRecord, ref: string, remote: string): Promise<void> {
    const error = await this.pusher.push(rec.repoPath, remote, ref);
    if (error !== null) await this.emit([{ type: 'checkpoint.push_failed', taskId: rec.taskId, payload: { ref, remote, error: error.slice(0, 500) } }]);
  }

  private async fetchCheckpoints(repoPath: string, checkout: string, config: WorkspaceConfig, taskId: string): Promise<void> {
    const pushTo = this.checkpointRemote(config.checkpoints.pushTo, repoPath);
    if (!pushTo) throw new GantryError('not_found', `checkpoint commits of task ${taskId} are not in ${repoPath}`, { hint: 'set workspace.checkpoints.pushTo so factories share checkpoints' });
    // The same remote checkpoints are pushed to (checkpointPushRemote): by default the mirror's `origin`.
    const remote = config.checkpoints.pushTo === undefined ? pushTo : await this.pushTarget(checkout, pushTo);
    const spec = `refs/gantry/checkpoints/${taskId}/*`;
    await withRepoLock(repoPath, () => git(['fetch', '--quiet', '--no-write-fetch-head', remote, `+${spec}:${spec}`], { cwd: repoPath }));
  }

  /** Push every checkpoint ref of a task to a remote (so another factory can resume it). */
  async pushCheckpoints(taskId: string, remote: string): Promise<void> {
    const { repoPath } = await this.repoPathOf(taskId);
    const spec = `refs/gantry/checkpoints/${taskId}/*`;
    await git(['push', '--quiet', remote, `${spec}:${spec}`], { cwd: repoPath });
  }

  // ---- diff and rollback -----------------------------------------------------------------------

  async diff(taskId: string, from: CheckpointSelector = 'base', to?: CheckpointSelector): Promise<WorkspaceDiff> {
    const { repoPath, rec } = await this.repoPathOf(taskId);
    const base = rec?.baseSha ?? null;
    const a = await resolveSelector(repoPath, this.opts.checkpoints, taskId, from, base, { ownedOnly: true });
    const toSel = to ?? ((await this.opts.checkpoints.latest(taskId)) ? 'latest' : 'base');
    const b = await resolveSelector(repoPath, this.opts.checkpoints, taskId, toSel, base, { ownedOnly: true });
    const counts = new Map<string, [number | null, number | null]>();
    for (const line of splitZ(await gitOut(['diff-tree', '-r', '-z', '--no-renames', '--numstat', a.sha, b.sha], { cwd: repoPath }))) {
      const [x, y, p] = line.split('\t');
      counts.set(p!, [x === '-' ? null : Number(x), y === '-' ? null : Number(y)]);
    }
    const files = (await treeChanges(repoPath, a.sha, b.sha)).map((c) => ({
      path: c.path, status: STATUS[c.status] ?? 'modified', added: counts.get(c.path)?.[0] ?? null, removed: counts.get(c.path)?.[1] ?? null,
    }));
    const patch = await gitOut(['diff', '--no-color', '--no-renames', '--no-ext-diff', a.sha, b.sha], { cwd: repoPath });
    return { from: a.label, to: b.label, files, patch: patch.slice(0, PATCH_LIMIT), truncated: patch.length > PATCH_LIMIT };
  }

  async rollback(taskId: string, to: CheckpointSelector, opts: { paths?: string[] } = {}): Promise<RollbackResult> {
    const rec = await this.liveRecord(taskId);
    const paths = opts.paths?.map((p) => {
      const c = canonicalPath(p);
      if (c === null || c === '.') throw new GantryError('validation', `path ${p} is not inside the workspace`, { field: 'paths', hint: 'give paths relative to the workspace root' });
      return c;
    });
    const target = await resolveSelector(rec.repoPath, this.opts.checkpoints, taskId, to, rec.baseSha);
    return withTaskLock(taskId, async () => {
      // The current state is saved first, so a rollback can itself be rolled back.
      const safety = (await checkpointLocked(this.ctx, rec, { step: null, reason: 'before_rollback' })).checkpoint;
      const r = await applyTree(rec.path, safety.sha, target.sha, paths);
      await this.emit([{
        type: 'workspace.rolled_back', taskId,
        payload: { to: target.label, sha: target.sha, safetySeq: safety.seq, paths: paths ?? null, written: r.written.length, deleted: r.deleted.length },
      }]);
      return { safety, restoredTo: target.checkpoint ?? { sha: target.sha }, ...r };
    });
  }

  // ---- guard ---------------------------------------------------------------------------------

  async guard(taskId: string, req: GuardRequest): Promise<GuardReport> {
    const rec = await this.liveRecord(taskId);
    const config = (await this.opts.configOf?.(rec.projectId))?.guard;
    const reviewOnly = req.reviewOnly === true;
    const rules = {
      allow: config?.allow ?? [], stepAllow: req.allow ?? [], deny: [...(config?.deny ?? []), ...(req.deny ?? [])],
      maxFileBytes: config?.maxFileBytes ?? 50 * 1024 * 1024, quotaBytes: config?.quotaBytes ?? 5 * 1024 ** 3, reviewOnly,
    };
    // A reviewer's changes are always discarded whole; `reviewerChanges: fail` also fails its step.
    const response = reviewOnly ? 'block' : (req.response ?? config?.response ?? 'block');
    const gitMeta = JSON.parse(await readFile(this.layout.gitMeta(rec.projectName, rec.taskId), 'utf8').catch(() => '{}')) as GitMetaSnapshot;
    return withTaskLock(taskId, async () => {
      // Before any git command runs here: the worktree link back in place (git follows it), and under
      // block/revert the repository's hooks and config too (a planted fsmonitor or hook must not run).
      const linkRepaired = await repairWorktreeLink(rec.path, gitMeta);
      const metaChanged = [...new Set([...(linkRepaired ? ['.git'] : []), ...(await changedGitMeta(rec.path, gitMeta))])].sort();
      // A mirror's config and hooks are shared by every task's worktree: what an agent planted there is
      // undone whatever the response, so it never reaches another task's agent.
      const mirror = this.isMirror(rec.repoPath) ? new Mirror(rec.repoPath, '') : null;
      if ((response !== 'warn' || mirror) && metaChanged.length) await restoreGitMeta(rec.path, gitMeta, metaChanged.filter((k) => k !== '.git'));
      const since = await resolveSelector(rec.repoPath, this.opts.checkpoints, taskId, req.since ?? ((await this.opts.checkpoints.latest(taskId)) ? 'latest' : 'base'), rec.baseSha);
      const baseHead = await headOfBaseline(rec.path, since.sha);
      const head = await currentHead(rec.path, rec.branch);
      const headMoved = head !== baseHead;
      const now = await snapshotRepairing(snapshotTarget(this.layout, rec));
      const facts = await gatherGuardFacts({ worktree: rec.path, since: since.sha, now, gitMeta, gitMetaChanged: metaChanged, exempt: rec.placed, measureDisk: true, headMoved });
      // Refs outside the task branch: an agent cannot move them. Whatever the response, the move is undone
      // in the mirror (Gantry's own repository), so nothing provisions from or lands through it.
      const moved = mirror ? await mirror.moved() : [];
      if (moved.length) {
        facts.refsMoved = moved.map((m) => m.ref);
        await mirror!.restore(moved);
      }
      const violations = decideGuard(facts, rules);
      const executables = flaggedExecutables(facts);
      if (executables.length) {
        await this.emit([{ type: 'workspace.guard_flagged', taskId, payload: { flag: 'executable', paths: executables.slice(0, 200), pathCount: executables.length, step: req.step ?? null } }]);
      }
      if (violations.length === 0) return { violations, response, applied: 'none', reverted: [], executables };
      let applied: GuardReport['applied'] = response === 'warn' ? 'warned' : 'blocked';
      let reverted: string[] = [];
      if (response === 'revert') {
        const paths = revertablePaths(violations);
        const files = paths.filter((p) => !metaChanged.includes(p));
        if (files.length) {
          await applyTree(rec.path, now, since.sha, files);
          // A reverted path the agent committed would still ship with its branch: commit the revert.
          if (headMoved) await commitRevert(rec.path, baseHead, files);
        }
        reverted = paths;
        // A quota overrun cannot be reverted path by path: it still blocks.
        applied = violations.some((v) => v.kind === 'quota') ? 'blocked' : 'reverted';
      } else if (response === 'block') {
        // Nothing the agent wrote in this step survives: files, commits and the branch go back to the baseline.
        await restoreBranch(rec.path, rec.branch, baseHead);
        const r = await applyTree(rec.path, now, since.sha);
        reverted = [...new Set([...metaChanged, ...r.written, ...r.deleted, ...(headMoved ? ['HEAD'] : [])])].sort();
        const cp = await checkpointLocked(this.ctx, rec, { step: req.step ?? null, reason: 'guard_reverted' });
        await this.emit([{ type: 'workspace.guard_reverted', taskId, payload: { step: req.step ?? null, to: since.label, checkpointSeq: cp.checkpoint.seq, paths: reverted.slice(0, 200), pathCount: reverted.length } }]);
        if (reviewOnly && config?.reviewerChanges !== 'fail') applied = 'reverted';
      }
      await this.emit(violations.map((v) => ({
        type: 'workspace.guard_violation', taskId,
        payload: { kind: v.kind, paths: v.paths.slice(0, 200), pathCount: v.paths.length, detail: v.detail, step: req.step ?? null, response, applied },
      })));
      return { violations, response, applied, reverted, executables };
    });
  }

  // ---- teardown and gc -------------------------------------------------------------------------

  async teardown(taskId: string, opts: { force?: boolean; checkpoint?: boolean } = {}): Promise<TeardownResult> {
    const rec = await this.record(taskId);
    if (!rec) throw notFound('workspace of task', taskId, 'nothing to tear down on this host');
    return this.teardownRecord(rec, opts);
  }

  async quarantine(taskId: string, label: string): Promise<{ ref: string; sha: string } | null> {
    const rec = await this.record(taskId);
    if (!rec) return null;
    return withTaskLock(taskId, () => this.setAsideLocked(rec, label));
  }

  /** Caller holds the task lock. The worktree's state kept in a local quarantine ref; worktree, branch and record removed. */
  private async setAsideLocked(rec: WorkspaceRecord, label: string): Promise<{ ref: string; sha: string } | null> {
    const taskId = rec.taskId;
    let kept: { ref: string; sha: string } | null = null;
    if (existsSync(rec.path)) {
      const tree = await snapshotRepairing(snapshotTarget(this.layout, rec));
      const head = await gitOut(['rev-parse', 'HEAD'], { cwd: rec.path });
      const sha = await gitOut(['commit-tree', tree, '-p', head, '-F', '-'], { cwd: rec.path, input: `gantry quarantine ${taskId} ${label}\n\nGantry-Head: ${head}\n` });
      const ref = `refs/gantry/quarantine/${taskId}/${safeName('quarantine label', label)}`;
      await git(['update-ref', ref, sha], { cwd: rec.path });
      kept = { ref, sha };
    }
    // The branch carries the lost lease's commits (kept in the ref): the next lease starts it afresh.
    await removeWorktree(rec.repoPath, rec.path, { deleteBranch: rec.branch });
    await rm(this.layout.stateDir(rec.projectName, rec.taskId), { recursive: true, force: true });
    forgetTask(rec.taskId);
    return kept;
  }

  private async teardownRecord(given: WorkspaceRecord, opts: { force?: boolean; checkpoint?: boolean }): Promise<TeardownResult> {
    const force = opts.force ?? false;
    return withTaskLock(given.taskId, async () => {
      // The caller's copy may be older than the lock: what is saved below starts from the record on disk.
      const rec = (await loadRecord(this.layout, given.projectName, given.taskId)) ?? given;
      if (rec.status !== 'provisioning' && existsSync(rec.path) && (await this.setAsideIfStaleLocked(rec))) {
        await this.emit([{ type: 'workspace.removed', taskId: rec.taskId, payload: { path: rec.path, forced: force, finalSeq: null, stale: true } }]);
        return { removed: true, finalCheckpoint: null, forced: force };
      }
      let final: CheckpointRecord | null = null;
      if (existsSync(rec.path)) {
        const previous = rec.status;
        rec.status = 'removing';
        await saveRecord(this.layout, rec);
        let failure: string | null = null;
        // Restored without some checkpoints and not yet put back: nothing was done here (prepare refuses
        // until then), so there is nothing to save — and a checkpoint now would hide the loss.
        if (!rec.lostCheckpoints) {
          try {
            if (opts.checkpoint !== false || force) final = (await checkpointLocked(this.ctx, rec, { step: null, reason: 'teardown' })).checkpoint;
            // Saved means: what is on disk now is exactly the latest checkpoint.
            const latest = final ?? (await this.opts.checkpoints.latest(rec.taskId)) ?? null;
            const now = await snapshotRepairing(snapshotTarget(this.layout, rec));
            const saved = (latest ? (await gitOut(['rev-parse', `${latest.sha}^{tree}`], { cwd: rec.path })) === now : false) || (await this.pushed(rec, now));
            if (!saved) failure = 'the workspace has changes that are in no checkpoint and not pushed';
          } catch (e) {
            failure = `the final checkpoint failed: ${e instanceof Error ? e.message : String(e)}`;
          }
        }
        if (failure && !force) {
          rec.status = previous === 'removing' ? 'ready' : previous;
          await saveRecord(this.layout, rec);
          await this.emit([{ type: 'workspace.teardown_refused', taskId: rec.taskId, payload: { reason: failure } }]);
          throw conflict(`refusing to remove the workspace of ${rec.taskId}: ${failure}`, `fix the cause and retry, or pass --force to remove it anyway (work since checkpoint ${final?.seq ?? 'none'} is lost)`);
        }
        if (failure) await this.emit([{ type: 'workspace.teardown_forced', taskId: rec.taskId, payload: { reason: failure } }]);
      }
      await removeWorktree(rec.repoPath, rec.path);
      await rm(this.layout.stateDir(rec.projectName, rec.taskId), { recursive: true, force: true });
      forgetTask(rec.taskId);
      await this.emit([{ type: 'workspace.removed', taskId: rec.taskId, payload: { path: rec.path, forced: force, finalSeq: final?.seq ?? null } }]);
      return { removed: true, finalCheckpoint: final, forced: force };
    });
  }

  /** The disk equals HEAD and HEAD is on a remote-tracking branch: the state is pushed. */
  private async pushed(rec: WorkspaceRecord, tree: string): Promise<boolean> {
    if ((await gitOut(['rev-parse', 'HEAD^{tree}'], { cwd: rec.path })) !== tree) return false;
    if ((await gitOut(['for-each-ref', '--count=1', '--contains', 'HEAD', '--format=%(refname)', 'refs/remotes/'], { cwd: rec.path })) !== '') return true;
    // In a mirror, non-task branches are the remote's own (fetched, or landed by Gantry's push).
    if (!this.isMirror(rec.repoPath)) return false;
    const heads = await gitOut(['for-each-ref', '--contains', 'HEAD', '--format=%(refname)', 'refs/heads/'], { cwd: rec.path });
    return heads.split('\n').some((r) => r !== '' && !r.startsWith('refs/heads/gantry/'));
  }

  /**
   * Repair and collect: undo provisioning a crash interrupted, finish interrupted teardowns, tear down
   * workspaces of finished tasks (checkpoint first), remove orphans, reconcile checkpoint refs and rows.
   */
  gc(): Promise<GcEntry[]> {
    return collectGarbage({
      layout: this.layout,
      store: this.opts.store,
      checkpoints: this.opts.checkpoints,
      teardown: (rec, opts) => this.teardownRecord(rec, opts),
      emit: (events) => this.emit(events),
      ...(this.opts.retained ? { retained: this.opts.retained } : {}),
    });
  }
}
