// Guard I/O: gathers the facts the pure decider judges — what changed since a commit (with each
// path's kind, size and canonical location), writes into git's own directory, the workspace's size.
import { execFile } from 'node:child_process';
import { lstat, readlink, realpath } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { promisify } from 'node:util';
import type { ChangedEntry, ChangeStatus, GuardFacts } from '../domain/guard.js';
import { changedGitMeta, type GitMetaSnapshot } from './git-meta.js';
import { treeChanges } from './snapshot.js';

const run = promisify(execFile);

const STATUS: Record<string, ChangeStatus> = { A: 'added', M: 'modified', D: 'deleted', T: 'type_changed' };

const inside = (root: string, p: string): boolean => p === root || p.startsWith(root + sep);

/** Where a path really lands: every symlink resolved, parents included; dangling links resolved by hand. */
async function landsInside(root: string, rel: string): Promise<boolean> {
  const abs = join(root, rel);
  try {
    return inside(root, await realpath(abs));
  } catch {
    // Dangling: resolve the parent for real, then follow link text until it stops resolving.
    try {
      let cur = join(await realpath(dirname(abs)), rel.split('/').pop()!);
      for (let hops = 0; hops < 40; hops++) {
        const st = await lstat(cur).catch(() => undefined);
        if (!st?.isSymbolicLink()) break;
        const target = await readlink(cur);
        const next = isAbsolute(target) ? target : resolve(dirname(cur), target);
        cur = await realpath(next).catch(async () => join(await realpath(dirname(next)).catch(() => dirname(next)), basename(next)));
      }
      return inside(root, cur);
    } catch {
      return false;
    }
  }
}

async function diskBytes(path: string): Promise<number> {
  const { stdout } = await run('du', ['-s', '-B1', '--', path]);
  return Number(stdout.split('\t')[0]);
}

export async function gatherGuardFacts(opts: {
  worktree: string;
  since: string;
  now: string;
  gitMeta: GitMetaSnapshot;
  exempt: string[];
  measureDisk: boolean;
  headMoved?: boolean;
  /** Already compared (the caller repaired or restored some of it first). */
  gitMetaChanged?: string[];
}): Promise<GuardFacts> {
  const root = await realpath(opts.worktree);
  const changes: ChangedEntry[] = [];
  for (const c of await treeChanges(opts.worktree, opts.since, opts.now)) {
    const st = c.status === 'D' ? undefined : await lstat(join(root, c.path)).catch(() => undefined);
    const kind: ChangedEntry['kind'] =
      c.newMode === '160000' ? 'gitlink' : c.newMode === '120000' ? 'symlink' : st ? 'file' : 'absent';
    changes.push({
      path: c.path,
      status: STATUS[c.status] ?? 'modified',
      kind,
      size: kind === 'file' && st ? st.size : null,
      resolvesInside: c.status === 'D' ? true : await landsInside(root, c.path),
      executable: c.newMode === '100755' && c.oldMode !== '100755',
    });
  }
  return {
    changes,
    gitMetaChanged: opts.gitMetaChanged ?? (await changedGitMeta(opts.worktree, opts.gitMeta)),
    diskBytes: opts.measureDisk ? await diskBytes(root) : null,
    exempt: opts.exempt,
    headMoved: opts.headMoved ?? false,
  };
}
