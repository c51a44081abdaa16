// Registering a project from a git remote URL (or a local repository path, treated exactly like a
// remote) without a clone: `gantry project add <url>`. The remote is asked for its branches with
// `git ls-remote`, and gantry.yaml is read from the base branch fetched into a throwaway bare
// repository — all through Gantry's hardened git. The project has no local checkout (`path` is '').
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { GantryError, conflict } from '../domain/errors.js';
import { CONFIG_FILE, type ProjectConfig } from '../config/project-config.js';
import type { Project, Store } from '../ports/store.js';
import { git } from '../workspace/git.js';
import { redactRemote } from '../lib/remote-url.js';
import { parseProjectConfigText } from './projects.js';

const isUrl = (s: string): boolean => /^[a-z][a-z0-9+.-]*:\/\//i.test(s) || /^[^/]+@[^/]+:/.test(s);

/** Pure: a URL as given; a path made absolute against `cwd` (a local repository is a remote too). */
export const normalizeRemote = (remote: string, cwd: string): string => (isUrl(remote) || isAbsolute(remote) ? remote : resolve(cwd, remote));

/** Pure: the default project name — the remote's last path segment without `.git`. */
export function nameFromRemote(remote: string): string {
  const last = remote.replace(/[/\\]+$/, '').split(/[/\\:]/).pop() ?? '';
  const name = last.replace(/\.git$/i, '').replace(/[^\w.-]+/g, '-');
  return name || 'project';
}

/** Pure: the remote's default branch and its branches, from `git ls-remote --symref` output. */
export function parseLsRemote(out: string): { head: string | undefined; branches: string[] } {
  let head: string | undefined;
  const branches: string[] = [];
  for (const line of out.split('\n')) {
    const sym = /^ref: refs\/heads\/(\S+)\tHEAD$/.exec(line);
    if (sym) head = sym[1];
    const br = /^[0-9a-f]{40,64}\trefs\/heads\/(\S+)$/.exec(line);
    if (br) branches.push(br[1]!);
  }
  return { head, branches };
}

/** Pure: which base branch to use, or why none can be. */
export function chooseBase(ls: { head: string | undefined; branches: readonly string[] }, wanted: string | undefined): { base: string } | { error: string; hint: string } {
  const list = ls.branches.length ? ls.branches.join(', ') : '(none)';
  if (ls.branches.length === 0) return { error: 'the remote has no branches', hint: 'push a first commit to it (e.g. `git push <url> main`), then retry' };
  const base = wanted ?? ls.head ?? (ls.branches.includes('main') ? 'main' : ls.branches[0]!);
  if (!ls.branches.includes(base)) return { error: `branch ${base} does not exist on the remote`, hint: `pass --base with one of: ${list}` };
  return { base };
}

/** git's last words, with the remote and any other URL's password masked. */
const lastLines = (s: string, remote: string): string =>
  s.trim().split('\n').slice(-2).join(' | ').split(remote).join(redactRemote(remote)).replace(/([a-z][a-z0-9+.-]*:\/\/[^/:@\s]*):[^/@\s]*@/gi, '$1:***@');

/** The remote's branches; an unreachable remote is a clear error (its credentials masked). */
async function lsRemote(remote: string, cwd: string): Promise<{ head: string | undefined; branches: string[] }> {
  const r = await git(['ls-remote', '--symref', remote], { cwd, okCodes: [1, 2, 128] });
  if (r.code !== 0) {
    throw new GantryError('validation', `cannot reach ${redactRemote(remote)}: ${lastLines(r.stderr, remote) || `git ls-remote exited ${r.code}`}`, {
      field: 'remote',
      hint: 'check the URL (`git ls-remote <url>` shows what git sees); credentials come from your git credential helper or the URL',
    });
  }
  return parseLsRemote(r.stdout);
}

/** gantry.yaml as it is on `branch` of the remote ('' when the branch has none). */
async function configTextAt(remote: string, branch: string, tmp: string): Promise<string> {
  const bare = join(tmp, 'probe.git');
  await git(['init', '--quiet', '--bare', bare], { cwd: tmp });
  const f = await git(['fetch', '--quiet', '--no-write-fetch-head', '--no-tags', '--depth', '1', remote, `+refs/heads/${branch}:refs/heads/${branch}`], { cwd: bare, okCodes: [1, 128] });
  if (f.code !== 0) {
    throw new GantryError('validation', `cannot fetch ${branch} from ${redactRemote(remote)}: ${lastLines(f.stderr, remote)}`, {
      field: 'remote',
      hint: 'check that the remote is reachable and the branch exists (`git ls-remote <url>`)',
    });
  }
  const r = await git(['cat-file', 'blob', `refs/heads/${branch}:${CONFIG_FILE}`], { cwd: bare, okCodes: [128] });
  return r.code === 0 ? r.stdout : '';
}

async function withTmp<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'gantry-remote-probe-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The remote's gantry.yaml on `branch`, parsed and checked like a checkout's. */
export async function readRemoteConfig(remote: string, branch: string): Promise<ProjectConfig> {
  return withTmp(async (tmp) => parseProjectConfigText(await configTextAt(remote, branch, tmp), `${redactRemote(remote)}@${branch}:${CONFIG_FILE}`));
}

/**
 * Registers a project from its remote, with no local checkout. Nothing is registered unless the remote
 * answers, the base branch exists there and its gantry.yaml (if any) is valid; a taken name is refused.
 */
export async function addRemoteProject(store: Store, input: { remote: string; name?: string | undefined; defaultBranch?: string | undefined }): Promise<Project> {
  const remote = input.remote.trim();
  if (!remote) throw new GantryError('validation', 'remote: empty', { field: 'remote', hint: 'pass a git URL or the absolute path of a repository' });
  if (!isUrl(remote) && !isAbsolute(remote)) {
    throw new GantryError('validation', `remote: ${remote} is neither a URL nor an absolute path`, { field: 'remote', hint: 'pass a git URL (https://…, ssh://…, user@host:path) or an absolute repository path' });
  }
  const requested = input.name;
  if (requested && (await store.projects.get(requested))) throw conflict(`a project named ${requested} already exists`, 'pick another --name, or use the existing project');
  return withTmp(async (tmp) => {
    const choice = chooseBase(await lsRemote(remote, tmp), input.defaultBranch);
    if ('error' in choice) throw new GantryError('validation', `${redactRemote(remote)}: ${choice.error}`, { field: 'defaultBranch', hint: choice.hint });
    const config = parseProjectConfigText(await configTextAt(remote, choice.base, tmp), `${redactRemote(remote)}@${choice.base}:${CONFIG_FILE}`);
    const name = requested ?? config.project.name ?? nameFromRemote(remote);
    if (!requested && (await store.projects.get(name))) throw conflict(`a project named ${name} already exists`, 'pick another --name, or use the existing project');
    return store.projects.create({ name, path: '', remote, defaultBranch: choice.base, config: config as unknown as Record<string, unknown> });
  });
}
