// Checkpoints (DESIGN §8): a commit of the full worktree built through the private index, at
// refs/gantry/checkpoints/<task>/<seq>, parent = the previous checkpoint (or the base), with the agent's
// HEAD as a second parent and trailer so resuming restores both. Git objects and the ref are written
// before the row: a crash in between leaves an unrecorded ref that the next checkpoint replaces.
import { existsSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { conflict, GantryError } from '../domain/errors.js';
import type { CheckpointRecord, CheckpointRepo, CheckpointResult, CheckpointSelector } from '../ports/workspace.js';
import { git, GitError, gitOut } from './git.js';
import { withKeyLock } from './file-lock.js';
import { createLooseRef, gitDirsOf, headCommitFs } from './git-paths.js';
import { numstat, snapshotTree, type SnapshotTarget } from './snapshot.js';
import { loadRecord, saveRecord, type Layout, type WorkspaceRecord } from './state-record.js';

export const checkpointRef = (taskId: string, seq: number): string => `refs/gantry/checkpoints/${taskId}/${seq}`;
/** Tree of each task's latest checkpoint in one worktree, so the unchanged-worktree test needs no git call. */
const lastTree = new Map<string, { path: string; sha: string; tree: string }>();

/** A commit's tree, or null when this host does not have the commit. */
async function treeOf(cwd: string, sha: string): Promise<string | null> {
  const r = await git(['rev-parse', '--verify', '-q', `${sha}^{tree}`], { cwd, okCodes: [1, 128] });
  return r.code === 0 ? r.stdout.trim() : null;
}

/**
 * What the next checkpoint builds on: the latest recorded one, or — when its factory died before pushing
 * it, so this host never had it — the newest earlier one this host has (the one provisioning resumed
 * from), else the base. The chain goes on from the state the worktree really came from.
 */
async function chainParent(ctx: CheckpointContext, rec: WorkspaceRecord, latest: CheckpointRecord | undefined): Promise<{ prev: CheckpointRecord | undefined; tree: string | null }> {
  if (!latest) return { prev: undefined, tree: null };
  const cached = lastTree.get(rec.taskId);
  if (cached?.sha === latest.sha && cached.path === rec.path) return { prev: latest, tree: cached.tree };
  const tree = await treeOf(rec.path, latest.sha);
  if (tree !== null) return { prev: latest, tree };
  const older = (await ctx.repo.list(rec.taskId)).filter((c) => c.seq < latest.seq).sort((a, b) => b.seq - a.seq);
  for (const c of older) {
    const t = await treeOf(rec.path, c.sha);
    if (t !== null) return { prev: c, tree: t };
  }
  return { prev: undefined, tree: null };
}

export function snapshotTarget(layout: Layout, rec: WorkspaceRecord): SnapshotTarget {
  return { worktree: rec.path, indexFile: layout.privateIndex(rec.projectName, rec.taskId), excludes: rec.placed };
}

/** Snapshot, repairing a private-index lock left by a process killed mid-snapshot. */
export async function snapshotRepairing(t: SnapshotTarget): Promise<string> {
  try {
    return await snapshotTree(t);
  } catch (e) {
    const lock = `${t.indexFile}.lock`;
    if (!(e instanceof GitError) || !existsSync(lock)) throw e;
    // Every snapshot of this task runs under its in-process key lock, so an existing lock file is stale.
    await unlink(lock).catch(() => undefined);
    return snapshotTree(t);
  }
}

export interface CheckpointContext {
  layout: Layout;
  repo: CheckpointRepo;
  /** Where new checkpoint refs are pushed (undefined: nowhere). Asked before the snapshot, so its lookups overlap it. */
  pushRemote?: (rec: WorkspaceRecord) => Promise<string | undefined>;
  /** Push of a new checkpoint ref to that remote; failures are reported, never fatal. */
  push?: (rec: WorkspaceRecord, ref: string, remote: string) => Promise<void>;
}

/** Drop per-task caches when its workspace goes away. */
export const forgetTask = (taskId: string): void => void lastTree.delete(taskId);

export const withTaskLock = <T>(taskId: string, fn: () => Promise<T>): Promise<T> => withKeyLock(`workspace:${taskId}`, fn);

/** The record on disk is still the one `rec` was read from (not removed, nor replaced by a new provisioning). */
const sameWorkspace = (onDisk: WorkspaceRecord | undefined, rec: WorkspaceRecord): onDisk is WorkspaceRecord =>
  onDisk !== undefined && onDisk.path === rec.path && onDisk.provisionId === rec.provisionId;

/**
 * Change the record on disk, not the caller's copy: callers may hold one read before the task lock, and a
 * record removed or replaced meanwhile stays as it is.
 */
async function updateRecord(ctx: CheckpointContext, rec: WorkspaceRecord, change: (r: WorkspaceRecord) => void): Promise<void> {
  const onDisk = await loadRecord(ctx.layout, rec.projectName, rec.taskId);
  if (!sameWorkspace(onDisk, rec)) return;
  change(onDisk);
  change(rec);
  await saveRecord(ctx.layout, onDisk);
}

/** This worktree is in step with recorded checkpoint `seq` (see WorkspaceRecord.syncedSeq). */
async function synced(ctx: CheckpointContext, rec: WorkspaceRecord, seq: number): Promise<void> {
  if (rec.syncedSeq === seq) return;
  await updateRecord(ctx, rec, (r) => void (r.syncedSeq = Math.max(r.syncedSeq ?? 0, seq)));
}

/**
 * Whether a worktree is behind the task's newest recorded checkpoint: another factory moved the task on.
 * Records of versions before `syncedSeq` are not judged.
 */
export const behind = (rec: WorkspaceRecord, latest: CheckpointRecord | undefined): latest is CheckpointRecord =>
  rec.syncedSeq !== undefined && latest !== undefined && latest.seq > (rec.syncedSeq ?? 0);

/**
 * Caller holds the task lock. A newer recorded checkpoint than the record knows of may still be this
 * worktree's own — its process was killed between the row and the record, an insert retried after its
 * answer was lost, a ref `gc` adopted: then the worktree is in step, the record catches up, and the ref
 * is pushed (it may never have been). Any other commit is another factory's work.
 */
export async function adoptIfOwn(ctx: CheckpointContext, rec: WorkspaceRecord, latest: CheckpointRecord): Promise<boolean> {
  if (rec.ownSha !== latest.sha) return false;
  await synced(ctx, rec, latest.seq);
  const to = await ctx.pushRemote?.(rec);
  if (ctx.push && to) await ctx.push(rec, latest.ref, to);
  return true;
}

/** Caller holds the task lock. */
export async function checkpointLocked(ctx: CheckpointContext, rec: WorkspaceRecord, opts: { step?: string | null; reason: string; force?: boolean }): Promise<CheckpointResult> {
  // A worktree restored without some recorded checkpoints is saved only once the run was put back
  // (acknowledgeLoss, forced): a checkpoint before that would make the restored state look like the
  // newest work, and the next factory would go on from it without the lost work.
  if (rec.lostCheckpoints && !opts.force) {
    throw conflict(`not checkpointed: the workspace of ${rec.taskId} was restored without checkpoint(s) ${rec.lostCheckpoints.seqs.join(', ')}`, 'the engine puts the run back first; nothing was done in this worktree yet');
  }
  // The store read and the push target's lookups run while git snapshots: none depends on the others.
  const remote = ctx.pushRemote?.(rec);
  remote?.catch(() => undefined); // awaited (and its failure raised) only if a checkpoint is made
  const [onDisk, latest, tree] = await Promise.all([
    loadRecord(ctx.layout, rec.projectName, rec.taskId),
    ctx.repo.latest(rec.taskId),
    snapshotRepairing(snapshotTarget(ctx.layout, rec)),
  ]);
  // A caller's copy read before the lock may name a worktree since set aside and provisioned again at
  // the same path: what is on disk now is not the work it meant to save.
  if (!sameWorkspace(onDisk, rec) || onDisk.status === 'provisioning') {
    throw conflict(`not checkpointed: the workspace of ${rec.taskId} was replaced while this checkpoint waited`, 'nothing was recorded; the new workspace checkpoints its own work', { stale: true });
  }
  // Recording this worktree after another factory's newer checkpoint would pass stale work off as the newest.
  if (behind(onDisk, latest) && !(await adoptIfOwn(ctx, onDisk, latest))) {
    throw conflict(
      `not checkpointed: task ${rec.taskId} moved on to checkpoint ${latest.seq} on another factory since this worktree was in step (${onDisk.syncedSeq ?? 'base'})`,
      'this worktree is stale; the task resumes from the newest checkpoint wherever it runs next',
      { stale: true, latestSeq: latest.seq },
    );
  }
  rec.syncedSeq = onDisk.syncedSeq; // the caller's copy may be older
  // HEAD and the previous tree come from git's files and a per-task cache when possible: a checkpoint
  // should cost little more than the snapshot itself.
  const dirs = gitDirsOf(rec.path);
  const head = headCommitFs(dirs) ?? (await gitOut(['rev-parse', 'HEAD'], { cwd: rec.path }));
  const { prev, tree: prevTree } = await chainParent(ctx, rec, latest);
  if (prev && prevTree === tree && !opts.force) {
    if (prev === latest) await synced(ctx, rec, prev.seq);
    return { checkpoint: prev, created: false };
  }

  const parent = prev?.sha ?? rec.baseSha;
  // Numbered after every recorded checkpoint, reachable or not: (task, seq) is unique in the store.
  const seq = (latest?.seq ?? 0) + 1;
  const ref = checkpointRef(rec.taskId, seq);
  const parents = ['-p', parent];
  if (head !== parent && head !== rec.baseSha) parents.push('-p', head);
  const message = `gantry checkpoint ${rec.taskId}#${seq}\n\nstep: ${opts.step ?? '-'}\nreason: ${opts.reason}\nGantry-Head: ${head}\n`;
  const [sha, stat] = await Promise.all([
    gitOut(['commit-tree', tree, ...parents, '-F', '-'], { cwd: rec.path, input: message }),
    numstat(rec.path, parent, tree),
  ]);
  // Known as this worktree's own before anything records it (see adoptIfOwn).
  await updateRecord(ctx, rec, (r) => void (r.ownSha = sha));
  // Create-only. If the ref exists without a row, an earlier process died between ref and row: the new
  // checkpoint supersedes it (git itself checks and writes that case).
  if (!(await createLooseRef(dirs.common, ref, sha))) await git(['update-ref', ref, sha], { cwd: rec.path });
  const checkpoint = await ctx.repo.insert({
    taskId: rec.taskId,
    seq,
    ref,
    sha,
    parentSha: parent,
    step: opts.step ?? null,
    reason: opts.reason,
    filesChanged: stat.files,
    linesAdded: stat.added,
    linesRemoved: stat.removed,
  });
  lastTree.set(rec.taskId, { path: rec.path, sha, tree });
  await synced(ctx, rec, seq);
  // After the row: the store's unique (task, seq) decides which checkpoint N exists before any remote sees it.
  const to = await remote;
  if (ctx.push && to) await ctx.push(rec, ref, to);
  return { checkpoint, created: true };
}

export function takeCheckpoint(ctx: CheckpointContext, rec: WorkspaceRecord, opts: { step?: string | null; reason: string }): Promise<CheckpointResult> {
  return withTaskLock(rec.taskId, () => checkpointLocked(ctx, rec, opts));
}

export interface Resolved {
  sha: string;
  label: string;
  checkpoint: CheckpointRecord | null;
}

/**
 * A selector to a commit: checkpoint seq, `latest`, `base`, or a sha present in the repository. With `ownedOnly` (reads served to people: the diff), a sha must name one of
 * the task's own checkpoints or its base: the repository (a shared mirror) holds every task's commits
 * and the project's whole history, none of which a task's diff may be taken against.
 */
export async function resolveSelector(repoPath: string, repo: CheckpointRepo, taskId: string, sel: CheckpointSelector, baseSha: string | null, opts: { ownedOnly?: boolean } = {}): Promise<Resolved> {
  const hint = `list them with \`gantry checkpoints ${taskId}\``;
  if (sel === 'latest') {
    const c = await repo.latest(taskId);
    if (!c) throw new GantryError('not_found', `task ${taskId} has no checkpoints yet`, { hint: 'checkpoints are taken at step boundaries; wait for one' });
    return { sha: c.sha, label: `#${c.seq}`, checkpoint: c };
  }
  if (sel === 'base') {
    const first = await repo.get(taskId, 1);
    const sha = first?.parentSha ?? baseSha;
    if (!sha) throw new GantryError('not_found', `the base of task ${taskId} is unknown`, { hint });
    return { sha, label: 'base', checkpoint: null };
  }
  if (typeof sel === 'number' || /^\d{1,9}$/.test(sel)) {
    const c = await repo.get(taskId, Number(sel));
    if (!c) throw new GantryError('not_found', `checkpoint ${sel} of task ${taskId} not found`, { hint });
    return { sha: c.sha, label: `#${c.seq}`, checkpoint: c };
  }
  if (/^[0-9a-f]{7,40}$/.test(sel)) {
    const r = await git(['rev-parse', '--verify', '-q', `${sel}^{commit}`], { cwd: repoPath, okCodes: [1, 128] });
    if (r.code !== 0) throw new GantryError('not_found', `commit ${sel} not found`, { hint });
    const sha = r.stdout.trim();
    if (opts.ownedOnly) {
      const own = await repo.list(taskId);
      const base = own[0]?.parentSha ?? baseSha;
      const cp = own.find((c) => c.sha === sha);
      if (cp) return { sha, label: `#${cp.seq}`, checkpoint: cp };
      if (sha !== base) throw new GantryError('not_found', `commit ${sel} is not a checkpoint of task ${taskId}`, { hint: `use one of its checkpoints (a number or its sha) or base; ${hint}` });
      return { sha, label: 'base', checkpoint: null };
    }
    return { sha, label: sel.slice(0, 12), checkpoint: null };
  }
  throw new GantryError('validation', `${JSON.stringify(sel)} is not a checkpoint`, { hint: `use a checkpoint number, \`latest\`, \`base\` or a commit sha; ${hint}` });
}
