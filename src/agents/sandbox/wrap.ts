// Wraps an agent's argv in bubblewrap for one launch: the worktree and its git dirs found with git
// itself (`rev-parse --git-dir / --git-common-dir`, whatever layout the workspace uses), the agent
// user's home and the Gantry home hidden, tools on PATH under them shown read-only, the agent's own
// state directories and its session's contract directory writable.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bwrapArgs, gitWritable, type SandboxLayout } from '../../domain/sandbox.js';
import type { SandboxSpec } from '../../ports/agent.js';

/** The worktree's git dirs and branch from git's own files (what `rev-parse --git-dir / --git-common-dir` reads); git itself only when they are not plain. */
function gitDirs(worktree: string): { gitDir: string; gitCommonDir: string; branch: string } | null {
  try {
    const dotGit = join(worktree, '.git');
    let gitDir = dotGit;
    if (statSync(dotGit).isFile()) {
      const m = /^gitdir: (.*)$/m.exec(readFileSync(dotGit, 'utf8'));
      if (!m) throw new Error('not a gitdir link');
      gitDir = resolve(worktree, m[1]!.trim());
    }
    let gitCommonDir = gitDir;
    if (existsSync(join(gitDir, 'commondir'))) gitCommonDir = resolve(gitDir, readFileSync(join(gitDir, 'commondir'), 'utf8').trim());
    const head = /^ref: refs\/heads\/(.+)$/m.exec(readFileSync(join(gitDir, 'HEAD'), 'utf8'));
    return { gitDir, gitCommonDir, branch: head?.[1]?.trim() ?? 'HEAD' };
  } catch {
    try {
      const out = execFileSync('git', ['rev-parse', '--path-format=absolute', '--git-dir', '--git-common-dir', '--abbrev-ref', 'HEAD'], { cwd: worktree, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n');
      return { gitDir: out[0]!, gitCommonDir: out[1]!, branch: out[2] ?? 'HEAD' };
    } catch {
      return null;
    }
  }
}

/** The user's git configuration (identity, aliases) stays readable: commits need it. Credential stores stay hidden. */
const HOME_CONFIG = ['.gitconfig', '.config/git'];

const expand = (p: string, home: string | undefined): string => (p === '~' ? (home ?? '/') : p.startsWith('~/') ? join(home ?? '/', p.slice(2)) : p);

/**
 * Tools under a hidden directory: each PATH entry, a `…/bin`'s sibling `…/lib` (where npm and pip put
 * packages), and a `node_modules/.bin`'s `node_modules` (its entries are links into the packages).
 */
export function toolsOf(env: Record<string, string>): string[] {
  return (env.PATH ?? '')
    .split(delimiter)
    .filter((d) => isAbsolute(d))
    .flatMap((d) => (d.endsWith('/bin') ? [d, join(dirname(d), 'lib')] : d.endsWith('/node_modules/.bin') ? [dirname(d)] : [d]));
}

/** Gantry's own installation (the clone or the installed package: src/ and dist/ sit at the same depth). */
const GANTRY_ROOT = fileURLToPath(new URL('../../../', import.meta.url)).replace(/\/$/, '');

/** Files the command names by absolute path (e.g. `node /tmp/agent.mjs`): each file alone, never its directory. */
const namedFiles = (argv: string[]): string[] => argv.filter((x) => isAbsolute(x) && existsSync(x) && statSync(x).isFile());

export function sandboxLayout(s: SandboxSpec, worktree: string, env: Record<string, string>, statePaths: string[], argv: string[] = []): SandboxLayout {
  const home = env.HOME;
  const git = gitDirs(worktree) ?? { gitDir: join(worktree, '.git'), gitCommonDir: join(worktree, '.git'), branch: 'HEAD' };
  const layout: SandboxLayout = {
    worktree: resolve(worktree),
    ...git,
    hide: [...new Set([...(home && home !== '/' ? [home] : []), ...s.hide])],
    hideFiles: s.hideFiles,
    tools: [...toolsOf(env), ...(home ? HOME_CONFIG.map((p) => join(home, p)) : [])],
    runtime: [GANTRY_ROOT, ...namedFiles(argv)],
    writable: [...s.writable, ...statePaths.map((p) => expand(p, home))],
    grants: s.grants.map((g) => ({ path: expand(g.path, home), write: g.write })),
    network: s.network,
    ...(s.readonly ? { readonly: true } : {}),
  };
  // bwrap binds only what exists: the task branch's ref and reflog directories may not yet.
  for (const d of [...gitWritable(layout), ...s.writable]) mkdirSync(d, { recursive: true });
  return layout;
}

/** The argv that runs `argv` inside the sandbox. */
export function sandboxed(s: SandboxSpec, argv: string[], worktree: string, env: Record<string, string>, statePaths: string[]): string[] {
  return [s.bwrap, ...bwrapArgs(sandboxLayout(s, worktree, env, statePaths, argv)), '--', ...argv];
}
