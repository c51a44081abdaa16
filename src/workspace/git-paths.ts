// Git's per-worktree and shared directories, read from the files git itself writes (`.git` in a
// worktree, `commondir` in its gitdir) instead of spawning `git rev-parse` on hot paths.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, unlink, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { linkNew } from '../lib/link-new.js';

export interface GitDirs {
  /** This worktree's own gitdir (index, HEAD). */
  own: string;
  /** The repository's shared dir (objects, refs, hooks, config). */
  common: string;
}

export function gitDirsOf(worktree: string): GitDirs {
  const dotGit = join(worktree, '.git');
  let own = dotGit;
  try {
    const m = /^gitdir: (.*)$/m.exec(readFileSync(dotGit, 'utf8'));
    if (m) own = isAbsolute(m[1]!) ? m[1]! : resolve(worktree, m[1]!);
  } catch {
    // `.git` is a directory: the main worktree
  }
  let common = own;
  try {
    const rel = readFileSync(join(own, 'commondir'), 'utf8').trim();
    common = isAbsolute(rel) ? rel : resolve(own, rel);
  } catch {
    // no commondir: own is the common dir
  }
  return { own, common };
}

/** Whether a local branch exists, from the loose ref or packed-refs. */
export function branchExistsFs(common: string, branch: string): boolean {
  if (existsSync(join(common, 'refs', 'heads', branch))) return true;
  try {
    return readFileSync(join(common, 'packed-refs'), 'utf8').includes(` refs/heads/${branch}\n`);
  } catch {
    return false;
  }
}

/** The sha a full ref name holds (loose file, else packed-refs); undefined when not readable that way. */
export function refShaFs(common: string, ref: string): string | undefined {
  try {
    const sha = readFileSync(join(common, ref), 'utf8').trim();
    return /^[0-9a-f]{40}$/.test(sha) ? sha : undefined;
  } catch {
    // not loose
  }
  try {
    const line = readFileSync(join(common, 'packed-refs'), 'utf8').split('\n').find((l) => l.endsWith(` ${ref}`));
    return line && /^[0-9a-f]{40} /.test(line) ? line.slice(0, 40) : undefined;
  } catch {
    return undefined;
  }
}

/** The commit HEAD points at, read from git's files; undefined when it cannot be read that way. */
export function headCommitFs(dirs: GitDirs): string | undefined {
  try {
    const head = readFileSync(join(dirs.own, 'HEAD'), 'utf8').trim();
    if (/^[0-9a-f]{40}$/.test(head)) return head;
    const m = /^ref: (refs\/.+)$/.exec(head);
    return m ? refShaFs(dirs.common, m[1]!) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Create a loose ref only if it does not exist, atomically: the ref file is written aside and hard-linked
 * into place (link fails if the name exists), which is git's own loose-ref format without spawning
 * `git update-ref`. Returns false when the ref exists or the repository does not store refs as files.
 */
export async function createLooseRef(common: string, ref: string, sha: string): Promise<boolean> {
  if (existsSync(join(common, 'reftable'))) return false;
  const path = join(common, ref);
  await mkdir(dirname(path), { recursive: true });
  // Aside = outside refs/, so a crash never leaves something git would read as a ref.
  const tmp = join(common, `gantry-ref-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  await writeFile(tmp, `${sha}\n`);
  try {
    return await linkNew(tmp, path);
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}
