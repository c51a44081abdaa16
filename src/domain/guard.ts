// The guard's decision (DESIGN §8): facts about what changed in a workspace in, violations out.
// Always denied: writes into .git, symlinks that resolve outside the workspace, files over the size
// limit, a workspace over its disk quota. Then per-step allow/deny globs.
import picomatch from 'picomatch';
import { posix } from 'node:path';

export type ChangeStatus = 'added' | 'modified' | 'deleted' | 'type_changed';

export interface ChangedEntry {
  /** Workspace-relative path as git reports it. */
  path: string;
  status: ChangeStatus;
  /** What is on disk now; `gitlink` is a nested repository. */
  kind: 'file' | 'symlink' | 'gitlink' | 'absent';
  /** Bytes on disk (files only). */
  size: number | null;
  /** Whether the canonical location (all symlinks, parents included, resolved) stays in the workspace. */
  resolvesInside: boolean;
  /** Git records the file as executable (mode 100755). */
  executable?: boolean;
}

export interface GuardFacts {
  changes: ChangedEntry[];
  /** Git metadata (worktree .git file, hooks, config, info/) whose content changed. */
  gitMetaChanged: string[];
  /** Refs outside any task branch that moved since Gantry last set them (an agent ran update-ref, branch -f …). */
  refsMoved?: string[];
  /** Workspace size in bytes, or null when not measured. */
  diskBytes: number | null;
  /** Paths provisioning placed on purpose (linked files); never judged. */
  exempt: string[];
  /** Whether HEAD moved since the baseline (commits, resets, another branch checked out). */
  headMoved?: boolean;
}

export interface GuardRules {
  allow: string[];
  /** A step's own allow list; when both are set a path must satisfy both. */
  stepAllow: string[];
  deny: string[];
  maxFileBytes: number;
  quotaBytes: number;
  /** A reviewer's step: any change at all (files, .git, commits) is a violation. */
  reviewOnly?: boolean;
}

export type ViolationKind = 'git_dir' | 'path_escape' | 'symlink_escape' | 'file_too_large' | 'quota' | 'denied' | 'not_allowed' | 'review_only' | 'ref_moved';

export interface GuardViolation {
  kind: ViolationKind;
  paths: string[];
  detail: string;
}

/** Canonical workspace-relative path, or null when it points outside (absolute or climbing out with ..). */
export function canonicalPath(p: string): string | null {
  if (p === '' || p.startsWith('/') || /^[a-zA-Z]:[\\/]/.test(p)) return null;
  const n = posix.normalize(p.replace(/\\/g, '/'));
  if (n === '..' || n.startsWith('../')) return null;
  return n.replace(/^\.\//, '').replace(/\/$/, '');
}

const isGitPath = (p: string): boolean => p.split('/').some((seg) => seg.toLowerCase() === '.git');

const matcher = (globs: string[]): ((p: string) => boolean) =>
  globs.length === 0 ? () => false : picomatch(globs, { dot: true });

/** Every violation of the rules by the facts, one entry per kind with all its offending paths. */
export function decideGuard(facts: GuardFacts, rules: GuardRules): GuardViolation[] {
  const exempt = new Set(facts.exempt);
  const byKind = new Map<ViolationKind, Set<string>>();
  const add = (kind: ViolationKind, path: string) => {
    let s = byKind.get(kind);
    if (!s) byKind.set(kind, (s = new Set()));
    s.add(path);
  };
  const denied = matcher(rules.deny);
  const allowed = matcher(rules.allow);
  const stepAllowed = matcher(rules.stepAllow);

  for (const p of facts.gitMetaChanged) add('git_dir', p);
  for (const r of facts.refsMoved ?? []) add('ref_moved', r);
  for (const c of facts.changes) {
    if (exempt.has(c.path)) continue;
    if (rules.reviewOnly) add('review_only', c.path);
    const path = canonicalPath(c.path);
    if (path === null) {
      add('path_escape', c.path);
      continue;
    }
    if (isGitPath(path) || c.kind === 'gitlink') add('git_dir', path);
    if (c.status !== 'deleted' && !c.resolvesInside) add(c.kind === 'symlink' ? 'symlink_escape' : 'path_escape', path);
    if (c.kind === 'file' && c.size !== null && c.size > rules.maxFileBytes) add('file_too_large', path);
    if (denied(path)) add('denied', path);
    else if ((rules.allow.length > 0 && !allowed(path)) || (rules.stepAllow.length > 0 && !stepAllowed(path))) add('not_allowed', path);
  }

  if (rules.reviewOnly && facts.headMoved) add('review_only', 'HEAD');
  if (rules.reviewOnly) for (const p of facts.gitMetaChanged) add('review_only', p);

  const out: GuardViolation[] = [];
  const detail: Record<ViolationKind, string> = {
    git_dir: 'writes into .git are never allowed',
    path_escape: 'path resolves outside the workspace',
    symlink_escape: 'symlink resolves outside the workspace',
    file_too_large: `file larger than ${rules.maxFileBytes} bytes`,
    quota: `workspace over its disk quota of ${rules.quotaBytes} bytes`,
    denied: 'path matches a deny rule',
    not_allowed: 'path is outside the allowed globs',
    review_only: 'a reviewer only judges: its changes are discarded',
    ref_moved: 'refs outside the task branch are moved only by Gantry; the move was refused and undone',
  };
  for (const [kind, paths] of byKind) out.push({ kind, paths: [...paths].sort(), detail: detail[kind] });
  if (facts.diskBytes !== null && facts.diskBytes > rules.quotaBytes) out.push({ kind: 'quota', paths: [], detail: `${detail.quota} (${facts.diskBytes} bytes)` });
  return out;
}

/** Paths a `revert` response restores: everything path-specific (quota has no path of its own). */
export function revertablePaths(violations: readonly GuardViolation[]): string[] {
  const s = new Set<string>();
  for (const v of violations) if (v.kind !== 'quota' && v.kind !== 'ref_moved') for (const p of v.paths) s.add(p);
  return [...s].sort();
}

/** Files the agent added or made executable: flagged in the guard report for a person to look at (not a violation). */
export function flaggedExecutables(facts: GuardFacts): string[] {
  const exempt = new Set(facts.exempt);
  return facts.changes.filter((c) => c.executable === true && c.status !== 'deleted' && !exempt.has(c.path)).map((c) => c.path).sort();
}
