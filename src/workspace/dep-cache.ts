// A per-project cache of what setup commands produce (node_modules …), keyed by a hash of the
// lockfiles and the commands, so a second workspace of the same project restores instead of installing.
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export async function cacheKey(worktree: string, lockfiles: readonly string[], commands: readonly string[]): Promise<string> {
  const h = createHash('sha256');
  for (const f of lockfiles) {
    h.update(`${f}\0`);
    h.update(await readFile(join(worktree, f)).catch(() => Buffer.from('\0missing\0')));
  }
  h.update(JSON.stringify(commands));
  return h.digest('hex').slice(0, 32);
}

/** `cp -a` keeps modes, symlinks and times; reflinks make it nearly free on filesystems that support them. */
async function copyTree(src: string, dst: string): Promise<void> {
  await mkdir(dirname(dst), { recursive: true });
  await run('cp', ['-a', '--reflink=auto', '--', src, dst]);
}

/** Restores every cached path into the worktree; false when the key is not cached. */
export async function restoreCache(entry: string, worktree: string, paths: readonly string[]): Promise<boolean> {
  if (!existsSync(join(entry, '.complete'))) return false;
  for (const p of paths) {
    if (!existsSync(join(entry, 'data', p))) continue;
    await rm(join(worktree, p), { recursive: true, force: true });
    await copyTree(join(entry, 'data', p), join(worktree, p));
  }
  return true;
}

/** Saves the produced paths under the key; written aside and renamed so readers never see half an entry. */
export async function saveCache(entry: string, worktree: string, paths: readonly string[]): Promise<boolean> {
  if (existsSync(join(entry, '.complete'))) return false;
  const tmp = `${entry}.${process.pid}.${Date.now()}.tmp`;
  try {
    for (const p of paths) if (existsSync(join(worktree, p))) await copyTree(join(worktree, p), join(tmp, 'data', p));
    await mkdir(tmp, { recursive: true });
    await run('touch', [join(tmp, '.complete')]);
    await rename(tmp, entry).catch(async (e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOTEMPTY' && e.code !== 'EEXIST') throw e; // another workspace saved it first
    });
    return true;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
