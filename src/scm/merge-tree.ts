// What `git merge-tree --write-tree --name-only <base> <head>` answered, as a Mergeability. Pure:
// shared by every SCM adapter that tests conflicts without touching a worktree.
import { GantryError } from '../domain/errors.js';
import type { Mergeability } from '../ports/engine.js';

export const MERGE_TREE_ARGS = (baseSha: string, headSha: string): string[] => ['merge-tree', '--write-tree', '--name-only', baseSha, headSha];

export function mergeTreeVerdict(r: { code: number; out: string; err: string }, baseSha: string, headSha: string): Mergeability {
  if (r.code === 0) return { clean: true, conflicts: [], baseSha, headSha, detail: '' };
  if (r.code !== 1) throw new GantryError('internal', `git merge-tree failed: ${r.err}`, { hint: 'Gantry needs git 2.38 or newer' });
  // Output: tree OID, conflicted paths, a blank line, then messages.
  const [, ...rest] = r.out.split('\n');
  const blank = rest.indexOf('');
  const files = [...new Set((blank >= 0 ? rest.slice(0, blank) : rest).filter(Boolean))];
  return { clean: false, conflicts: files, baseSha, headSha, detail: blank >= 0 ? rest.slice(blank + 1).join('\n') : '' };
}
