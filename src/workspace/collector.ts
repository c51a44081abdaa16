// Garbage collection and crash repair for workspaces on this host. Each workspace found on disk (by
// record, directory or git registration) gets the action the pure `decideGc` chooses; checkpoint refs
// and rows are reconciled after a process died between writing one and the other.
import { mirrorPath } from './mirror.js';
import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { NewEvent } from '../domain/events.js';
import { isTerminal } from '../domain/task.js';
import { decideGc, type GcAction } from '../domain/workspace-gc.js';
import type { CheckpointRepo, GcEntry, TeardownResult, WorkspaceStore } from '../ports/workspace.js';
import { withTaskLock } from './checkpointer.js';
import { pidAlive } from './file-lock.js';
import { git, gitOut } from './git.js';
import { gitDirsOf } from './git-paths.js';
import { numstat } from './snapshot.js';
import { allRecords, type Layout, saveRecord, type WorkspaceRecord } from './state-record.js';
import { listWorktrees, removeWorktree } from './worktree-ops.js';

/** Project directory name: its name when filesystem-safe, else its id. */
export const projectDirName = (p: { id: string; name: string }): string => (/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(p.name) ? p.name : p.id);

export interface CollectorDeps {
  layout: Layout;
  store: WorkspaceStore;
  checkpoints: CheckpointRepo;
  teardown(rec: WorkspaceRecord, opts: { force?: boolean }): Promise<TeardownResult>;
  emit(events: NewEvent[]): Promise<void>;
  /** A finished task whose worktree the project's retention policy still keeps. */
  retained?(taskId: string): Promise<boolean>;
}

/**
 * Repair and collect: undo provisioning a crash interrupted, finish interrupted teardowns, tear down
 * workspaces of finished tasks (checkpoint first), remove orphans, drop stale checkpoint refs.
 */
export async function collectGarbage(d: CollectorDeps): Promise<GcEntry[]> {
  const out: GcEntry[] = [];
  const records = await allRecords(d.layout);
  const known = new Set(records.map((r) => r.path));
  const repos = new Map<string, string>(); // project dir → repo path
  for (const r of records) repos.set(r.projectName, r.repoPath);
  for (const p of await d.store.projects.list()) {
    const mirror = mirrorPath(d.layout.home, projectDirName(p));
    const repo = existsSync(mirror) ? mirror : p.path; // '' : a project with no checkout, not mirrored here yet
    if (!repos.has(projectDirName(p)) && repo) repos.set(projectDirName(p), repo);
  }

  const registered = new Set<string>();
  for (const repo of new Set(repos.values())) {
    if (!existsSync(repo)) continue;
    for (const w of await listWorktrees(repo).catch(() => [])) registered.add(w);
  }
  const stageOf = async (taskId: string): Promise<boolean | null> => {
    const t = await d.store.tasks.get(taskId).catch(() => undefined);
    return t ? isTerminal(t.stage) : null;
  };
  const act = async (taskId: string, action: GcAction, fn: () => Promise<unknown>) => {
    try {
      await fn();
      out.push({ taskId, action });
    } catch (e) {
      out.push({ taskId, action, error: e instanceof Error ? e.message : String(e) });
    }
  };

  for (const r of records) {
    const taskTerminal = await stageOf(r.taskId);
    const retained = taskTerminal === true && (await d.retained?.(r.taskId).catch(() => false)) === true;
    const action = decideGc({ taskId: r.taskId, status: r.status, dirExists: existsSync(r.path), registered: registered.has(r.path), taskTerminal, retained });
    if (action === 'keep') continue;
    await act(r.taskId, action, async () => {
      if (action === 'clean_interrupted') {
        await removeWorktree(r.repoPath, r.path, r.createdBranch ? { deleteBranch: r.branch } : {});
        await rm(d.layout.stateDir(r.projectName, r.taskId), { recursive: true, force: true });
      } else if (action === 'teardown') await d.teardown(r, {});
      else if (action === 'forget') {
        await removeWorktree(r.repoPath, r.path);
        await rm(d.layout.stateDir(r.projectName, r.taskId), { recursive: true, force: true });
      }
    });
  }
  // Directories and registrations under our workspaces root that no record explains.
  const root = join(d.layout.home, 'workspaces');
  for (const [projectName, repo] of repos) {
    const dirs = (await readdir(join(root, projectName)).catch(() => [])).map((t) => join(root, projectName, t));
    const regs = [...registered].filter((w) => w.startsWith(join(root, projectName) + '/'));
    for (const path of new Set([...dirs, ...regs])) {
      if (known.has(path)) continue;
      const taskId = path.slice(join(root, projectName).length + 1);
      const action = decideGc({ taskId, status: 'none', dirExists: existsSync(path), registered: registered.has(path), taskTerminal: await stageOf(taskId) });
      if (action === 'keep') continue;
      await act(taskId, action, async () => {
        if (action === 'teardown') {
          // Adopt the unrecorded worktree long enough to save it, then remove it.
          const base = await gitOut(['rev-parse', 'HEAD'], { cwd: path });
          // In step with nothing recorded: if the task has checkpoints, this unexplained worktree is set
          // aside (kept in a ref) rather than saved as the newest work.
          const rec: WorkspaceRecord = {
            taskId, projectId: '', projectName, repoPath: repo, path, branch: `gantry/${taskId}`, baseSha: base,
            port: null, status: 'ready', createdBranch: false, placed: [], resumedFromSeq: null, syncedSeq: null,
          };
          await saveRecord(d.layout, rec);
          await d.teardown(rec, { force: (await stageOf(taskId)) === null });
        } else await removeWorktree(repo, path);
      });
    }
  }
  await reconcileRefs(d, repos, new Map(records.map((r) => [r.taskId, r.ownSha])));
  if (out.length) await d.emit([{ type: 'workspace.gc', payload: { actions: out.map((a) => ({ taskId: a.taskId, action: a.action, error: a.error ?? null })) } }]);
  return out;
}

/**
 * A checkpoint ref without a row was written by a process killed between ref and row. If it is a
 * worktree's own (its record saved the commit before the ref) and extends the task's chain it is adopted
 * (nothing is lost); anything else is dropped. A row the store refuses (another host holds the task)
 * leaves the ref for a later pass.
 */
async function reconcileRefs(d: CollectorDeps, repos: Map<string, string>, own: Map<string, string | undefined>): Promise<void> {
  for (const repo of new Set(repos.values())) {
    if (!existsSync(repo)) continue;
    // Ref files written aside by a process killed before linking them in.
    const common = gitDirsOf(repo).common;
    for (const f of await readdir(common).catch(() => [])) {
      const pid = /^gantry-ref-(\d+)-[0-9a-f]+\.tmp$/.exec(f)?.[1];
      if (pid && Number(pid) !== process.pid && !pidAlive(Number(pid))) await rm(join(common, f), { force: true });
    }
    const refs = (await gitOut(['for-each-ref', '--format=%(refname)', 'refs/gantry/checkpoints/'], { cwd: repo }).catch(() => '')).split('\n').filter(Boolean);
    for (const ref of refs) {
      const m = /^refs\/gantry\/checkpoints\/([^/]+)\/(\d+)$/.exec(ref);
      if (!m) continue;
      const [taskId, seq] = [m[1]!, Number(m[2])];
      await withTaskLock(taskId, async () => {
        if (await d.checkpoints.get(taskId, seq)) return;
        const latest = await d.checkpoints.latest(taskId);
        const [parents, ...body] = (await gitOut(['log', '-1', '--format=%P%n%B', ref], { cwd: repo })).split('\n');
        const parent = parents!.split(' ')[0]!;
        const sha = await gitOut(['rev-parse', ref], { cwd: repo });
        const extends_ = own.get(taskId) === sha && seq === (latest?.seq ?? 0) + 1 && (!latest || latest.sha === parent) && (await d.store.tasks.get(taskId));
        if (!extends_) {
          await git(['update-ref', '-d', ref], { cwd: repo });
          return;
        }
        const stat = await numstat(repo, parent, ref);
        const step = /^step: (.*)$/m.exec(body.join('\n'))?.[1];
        await d.checkpoints.insert({
          taskId, seq, ref, sha, parentSha: parent, step: step && step !== '-' ? step : null, reason: 'recovered',
          filesChanged: stat.files, linesAdded: stat.added, linesRemoved: stat.removed,
        });
      }).catch(() => undefined); // e.g. the store refuses the row (another factory holds the task): the ref waits
    }
  }
}
