// Agent containment, pure parts: which sandbox mode applies on this host and why, and the bubblewrap
// argument vector that gives an agent its worktree read-write, its tools read-only, a private /tmp,
// and nothing of the Gantry home, the user's home (credentials), other workspaces or other tasks' git
// data unless granted. Table-tested; the I/O (probing bwrap, git dirs) lives in src/agents/sandbox.

export type SandboxMode = 'bwrap' | 'none';

export interface SandboxHost {
  platform: string;
  /** Absolute path of a bwrap binary, or null when none was found. */
  bwrap: string | null;
  /** The probe's error when bwrap exists but cannot create namespaces here (e.g. no user namespaces). */
  probeError: string | null;
}

export interface SandboxDecision {
  mode: SandboxMode;
  /** One sentence for `gantry doctor` and the launch event. */
  why: string;
  /** The launch must not happen (required but unavailable). */
  refuse: boolean;
  fix?: string;
}

export const BWRAP_FIX = 'install bubblewrap (apt-get install bubblewrap / dnf install bubblewrap) and allow unprivileged user namespaces, or set GANTRY_BWRAP to a bwrap binary';

export function decideSandbox(host: SandboxHost, configured: 'auto' | 'required' | 'off'): SandboxDecision {
  if (configured === 'off') return { mode: 'none', why: 'the project set sandbox.mode: off', refuse: false };
  let missing: string | null = null;
  if (host.platform !== 'linux') missing = `no process sandbox on ${host.platform} (bubblewrap is Linux-only)`;
  else if (!host.bwrap) missing = 'bubblewrap (bwrap) is not installed';
  else if (host.probeError) missing = `bwrap cannot create a sandbox here: ${host.probeError}`;
  if (!missing) return { mode: 'bwrap', why: `agents run in bubblewrap (${host.bwrap})`, refuse: false };
  if (configured === 'required') return { mode: 'none', why: `${missing}, and the project requires a sandbox`, refuse: true, fix: BWRAP_FIX };
  return { mode: 'none', why: `${missing}: agents run unsandboxed, with your user's rights`, refuse: false, fix: BWRAP_FIX };
}

export interface SandboxLayout {
  worktree: string;
  /** The worktree's own git dir and the shared one (`git rev-parse --git-dir / --git-common-dir`). */
  gitDir: string;
  gitCommonDir: string;
  /** The task branch (its ref and reflog directories are writable, no other ref is). */
  branch: string;
  /** Hidden entirely (an empty tmpfs over each): the Gantry home, the user's home. */
  hide: string[];
  /** Single files hidden (read as empty): token files outside the home. */
  hideFiles: string[];
  /** Tools under a hidden directory, shown again read-only (e.g. ~/.nvm/versions/node/v20). */
  tools: string[];
  /**
   * What the agent's own command needs of Gantry, shown again read-only where masked: Gantry's
   * installation (the scripted agent runs its code) and the files the command names.
   */
  runtime?: string[];
  /** Read-write: the agent's own state (CODEX_HOME, ~/.claude), its session's contract directory. */
  writable: string[];
  /** The project's grants. */
  grants: { path: string; write: boolean }[];
  network: boolean;
  /** The agent may read but not change its worktree (permission mode readonly). */
  readonly?: boolean;
}

const under = (root: string, p: string): boolean => p === root || p.startsWith(root.endsWith('/') ? root : `${root}/`);
const depth = (p: string): number => p.split('/').filter(Boolean).length;

/** The directories git writes when the agent commits on its branch: objects, the branch's ref and reflog, the worktree's own dir. */
export function gitWritable(l: Pick<SandboxLayout, 'gitDir' | 'gitCommonDir' | 'branch'>): string[] {
  const branchDir = l.branch.includes('/') ? l.branch.slice(0, l.branch.lastIndexOf('/')) : '';
  const out = [`${l.gitCommonDir}/objects`, `${l.gitCommonDir}/refs/heads${branchDir ? `/${branchDir}` : ''}`, `${l.gitCommonDir}/logs/refs/heads${branchDir ? `/${branchDir}` : ''}`];
  if (l.gitDir !== l.gitCommonDir) out.push(l.gitDir);
  return out;
}

/**
 * bwrap arguments (before the agent's argv). Order matters: the whole filesystem read-only, then the
 * hidden trees emptied (deepest last so a hidden dir inside another is hidden too), then tools shown
 * again, then the writable worktree, git and state paths, then the worktree's `.git` link read-only.
 */
export function bwrapArgs(l: SandboxLayout): string[] {
  const a = ['--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp'];
  for (const h of [...l.hide].sort((x, y) => depth(x) - depth(y))) a.push('--tmpfs', h);
  for (const f of l.hideFiles) if (!l.hide.some((h) => under(h, f))) a.push('--ro-bind-try', '/dev/null', f);
  // Tools and the runtime under anything masked (a hidden dir, or the private /tmp: a clone or an npm
  // prefix may live there) are shown again; a hidden dir or file inside one of them is hidden again.
  const masked = ['/tmp', ...l.hide];
  const shown = [...(l.runtime ?? []), ...l.tools].filter((t) => masked.some((h) => under(h, t)));
  for (const t of shown) a.push('--ro-bind-try', t, t);
  for (const h of [...l.hide].sort((x, y) => depth(x) - depth(y))) if (shown.some((t) => t !== h && under(t, h))) a.push('--tmpfs', h);
  for (const f of l.hideFiles) if (shown.some((t) => under(t, f))) a.push('--ro-bind-try', '/dev/null', f);
  for (const g of l.grants) a.push(g.write ? '--bind-try' : '--ro-bind-try', g.path, g.path);
  a.push(l.readonly ? '--ro-bind' : '--bind', l.worktree, l.worktree);
  if (l.gitDir === l.gitCommonDir && !l.readonly) {
    // A repository of its own (not a worktree): the agent owns it, except what runs code or moves other refs.
    a.push('--bind', l.gitCommonDir, l.gitCommonDir);
    for (const p of ['config', 'hooks', 'info']) a.push('--ro-bind-try', `${l.gitCommonDir}/${p}`, `${l.gitCommonDir}/${p}`);
  } else {
    // A worktree: the shared git dir stays readable (history); its config, hooks and other refs read-only.
    a.push('--ro-bind', l.gitCommonDir, l.gitCommonDir);
    if (!l.readonly) for (const w of gitWritable(l)) a.push('--bind-try', w, w);
  }
  for (const w of l.writable) a.push('--bind-try', w, w);
  if (l.gitDir !== `${l.worktree}/.git`) a.push('--ro-bind-try', `${l.worktree}/.git`, `${l.worktree}/.git`);
  a.push('--unshare-all');
  if (l.network) a.push('--share-net');
  a.push('--die-with-parent', '--chdir', l.worktree);
  return a;
}
