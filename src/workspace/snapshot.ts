// Git plumbing for checkpoints: snapshot a whole worktree into a tree through a private index, and
// move a worktree (or some paths of it) from one tree to another. The agent's own index and HEAD are
// never read for writing: the private index is a separate file (GIT_INDEX_FILE).
import { copyFile, lstat, mkdtemp, rm, rmdir, stat, unlink, utimes } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { git, gitOut, splitZ } from './git.js';
import { gitDirsOf } from './git-paths.js';

export interface SnapshotTarget {
  worktree: string;
  /** The private index; reused between snapshots so unchanged files are not re-hashed. */
  indexFile: string;
  /** Paths provisioning placed (copied/linked config, secrets) that are never part of a checkpoint. */
  excludes: readonly string[];
}

const literal = (p: string): string => `:(literal)${p}`;

/**
 * Tree id of the worktree as it is on disk: tracked and untracked files, ignored ones excluded.
 * A missing private index is seeded from the worktree's own index (a copy: valid stat data means only
 * files that differ are hashed), so even the first snapshot costs what `git add -A` costs.
 */
export async function snapshotTree(t: SnapshotTarget): Promise<string> {
  const env = { GIT_INDEX_FILE: t.indexFile };
  if (!existsSync(t.indexFile)) {
    const own = join(gitDirsOf(t.worktree).own, 'index');
    if (existsSync(own)) {
      await copyFile(own, t.indexFile);
      // Keep the index's own mtime: git trusts an entry's stat data only when the file is older than
      // the index ("racy git"). A copy stamped now would make a same-size edit made in the same second
      // as the last checkout look unchanged, and the checkpoint would miss it.
      const st = await stat(own);
      await utimes(t.indexFile, st.atime, st.mtime);
    }
  }
  await git(['add', '-A'], { cwd: t.worktree, env });
  // Placed files (secrets, shared config) never enter a checkpoint. (An exclude pathspec on `add` would
  // make git refuse when the placed file is also ignored, so they are dropped from the index instead.)
  if (t.excludes.length) await git(['rm', '--cached', '-r', '-q', '--ignore-unmatch', '--', ...t.excludes.map(literal)], { cwd: t.worktree, env });
  return gitOut(['write-tree'], { cwd: t.worktree, env });
}

export type TreeChange = { status: 'A' | 'M' | 'D' | 'T'; path: string; newMode: string; oldMode: string };

/** Per-file differences between two tree-ish, optionally limited to paths. */
export async function treeChanges(cwd: string, from: string, to: string, paths?: readonly string[]): Promise<TreeChange[]> {
  const args = ['diff-tree', '-r', '-z', '--no-renames', '--raw', from, to];
  if (paths?.length) args.push('--', ...paths.map(literal));
  const parts = splitZ(await gitOut(args, { cwd }));
  const out: TreeChange[] = [];
  for (let i = 0; i + 1 < parts.length; i += 2) {
    // ":oldmode newmode oldsha newsha STATUS" then the path
    const meta = parts[i]!.split(' ');
    out.push({ status: meta[4]!.charAt(0) as TreeChange['status'], path: parts[i + 1]!, newMode: meta[1]!, oldMode: meta[0]!.replace(/^:/, '') });
  }
  return out;
}

/** Lines added/removed and files touched between two commits or trees. */
export async function numstat(cwd: string, from: string, to: string): Promise<{ files: number; added: number; removed: number }> {
  const parts = splitZ(await gitOut(['diff-tree', '-r', '-z', '--no-renames', '--numstat', from, to], { cwd }));
  let added = 0;
  let removed = 0;
  for (const p of parts) {
    const [a, r] = p.split('\t');
    added += Number(a) || 0; // "-" for binary files
    removed += Number(r) || 0;
  }
  return { files: parts.length, added, removed };
}

async function removePath(worktree: string, rel: string): Promise<void> {
  const abs = join(worktree, rel);
  const st = await lstat(abs).catch(() => undefined);
  if (!st) return;
  if (st.isDirectory()) await rm(abs, { recursive: true, force: true });
  else await unlink(abs);
  // Git does not track empty directories: remove the ones this deletion emptied.
  for (let d = dirname(rel); d !== '.' && d !== ''; d = dirname(d)) {
    try {
      await rmdir(join(worktree, d));
    } catch {
      break;
    }
  }
}

/**
 * Make the worktree's files at the differing paths equal `to`, given that `from` is exactly what is on
 * disk now (a fresh snapshot). Paths only in `from` are deleted; others are written from `to`. Ignored
 * files are never in `from`, so they are never touched unless `to` itself has that path.
 */
export async function applyTree(worktree: string, from: string, to: string, paths?: readonly string[]): Promise<{ written: string[]; deleted: string[] }> {
  const changes = await treeChanges(worktree, from, to, paths);
  const deleted = changes.filter((c) => c.status === 'D').map((c) => c.path);
  const written = changes.filter((c) => c.status !== 'D').map((c) => c.path);
  for (const p of deleted) await removePath(worktree, p);
  // A file that becomes a directory (or the reverse) must go before the new entry is written.
  for (const c of changes) if (c.status === 'T') await removePath(worktree, c.path);
  if (written.length) {
    const dir = await mkdtemp(join(tmpdir(), 'gantry-restore-'));
    try {
      const env = { GIT_INDEX_FILE: join(dir, 'index') };
      await git(['read-tree', to], { cwd: worktree, env });
      await git(['checkout-index', '-f', '-z', '--stdin'], { cwd: worktree, env, input: written.join('\0') });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  return { written, deleted };
}
