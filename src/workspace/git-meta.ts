// The parts of git's own directory an agent could abuse to escape review (hooks run on the
// operator's next git command; config can set core.hooksPath or aliases; info/ changes excludes and
// attributes). A copy is kept at provisioning so the guard can detect and revert writes into .git.
import { readdir, readFile, rm, writeFile, mkdir, chmod, stat, lstat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { gitDirsOf } from './git-paths.js';

/** Display path (".git/hooks/pre-commit") → base64 content and mode. */
export type GitMetaSnapshot = Record<string, { data: string; mode: number }>;

const gitDirs = async (worktree: string) => gitDirsOf(worktree);

async function files(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => join(dir, e.name));
}

/** Where each display path lives on disk. */
async function watched(worktree: string): Promise<Map<string, string>> {
  const { common, own } = await gitDirs(worktree);
  const m = new Map<string, string>();
  m.set('.git', join(worktree, '.git'));
  m.set('.git/config', join(common, 'config'));
  m.set('.git/config.worktree', join(own, 'config.worktree'));
  for (const f of await files(join(common, 'hooks'))) m.set(`.git/hooks/${f.slice(join(common, 'hooks').length + 1)}`, f);
  for (const f of await files(join(common, 'info'))) m.set(`.git/info/${f.slice(join(common, 'info').length + 1)}`, f);
  return m;
}

export async function captureGitMeta(worktree: string): Promise<GitMetaSnapshot> {
  const out: GitMetaSnapshot = {};
  for (const [key, abs] of await watched(worktree)) {
    try {
      const [data, st] = await Promise.all([readFile(abs), stat(abs)]);
      out[key] = { data: data.toString('base64'), mode: st.mode & 0o777 };
    } catch {
      // absent: recorded by omission
    }
  }
  return out;
}

/** Display paths whose content, mode or existence differs from the snapshot. */
export async function changedGitMeta(worktree: string, before: GitMetaSnapshot): Promise<string[]> {
  const now = await captureGitMeta(worktree);
  const keys = new Set([...Object.keys(before), ...Object.keys(now)]);
  return [...keys].filter((k) => before[k]?.data !== now[k]?.data || before[k]?.mode !== now[k]?.mode).sort();
}

/** Put the snapshotted files back and delete ones that appeared since. */
export async function restoreGitMeta(worktree: string, before: GitMetaSnapshot, keys: readonly string[]): Promise<void> {
  const paths = await watched(worktree);
  const { common } = await gitDirs(worktree);
  for (const k of keys) {
    const abs = paths.get(k) ?? join(common, k.replace(/^\.git\//, ''));
    const was = before[k];
    if (!was) {
      await rm(abs, { force: true });
      continue;
    }
    await mkdir(dirname(abs), { recursive: true });
    await writeFile(abs, Buffer.from(was.data, 'base64'));
    await chmod(abs, was.mode);
  }
}

/**
 * The worktree's `.git` link file is what every git command (Gantry's own included) follows to find the
 * repository. An agent that rewrote, removed or replaced it (with a directory or a symlink) would make
 * Gantry read the wrong repository: it is put back from the snapshot before anything else looks.
 * Returns whether it had to be repaired.
 */
export async function repairWorktreeLink(worktree: string, before: GitMetaSnapshot): Promise<boolean> {
  const was = before['.git'];
  if (!was) return false; // the main worktree (a .git directory): nothing to compare
  const abs = join(worktree, '.git');
  const st = await lstat(abs).catch(() => undefined);
  if (st?.isFile()) {
    const now = await readFile(abs).catch(() => undefined);
    if (now && now.toString('base64') === was.data && (st.mode & 0o777) === was.mode) return false;
  }
  await rm(abs, { recursive: true, force: true });
  await writeFile(abs, Buffer.from(was.data, 'base64'));
  await chmod(abs, was.mode);
  return true;
}
