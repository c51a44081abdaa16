// SCM adapters as a registry (DESIGN §9): each entry makes the Scm port for a project on this
// factory. `git-remote` (a compare-and-set push to the project remote) is the default; a forge
// (GitHub, GitLab) is one more file and one more entry here.
import { GantryError } from '../domain/errors.js';
import type { Scm } from '../ports/engine.js';
import type { Project } from '../ports/store.js';
import { projectDirName } from '../workspace/collector.js';
import { Mirror } from '../workspace/mirror.js';
import { GitRemoteScm } from './git-remote.js';
import { GitHubScm, githubSettings, githubToken } from './github.js';

export interface ScmContext {
  /** The factory's home: its mirrors live under <home>/mirrors. */
  home: string;
  project: Project;
}

export interface ScmAdapter {
  id: string;
  describe: string;
  create(ctx: ScmContext): Scm;
}

const ADAPTERS = new Map<string, ScmAdapter>();

export function registerScm(a: ScmAdapter): void {
  ADAPTERS.set(a.id, a);
}

registerScm({
  id: 'git-remote',
  describe: 'land with a compare-and-set push of the base branch to the project remote (URL or local path)',
  create: ({ home, project }) => new GitRemoteScm(Mirror.of(home, { dirName: projectDirName(project), remote: project.remote })),
});

registerScm({
  id: 'github',
  describe: 'pull requests on GitHub (or GitHub Enterprise): push the task branch, open the PR, merge through the API at the expected head',
  create: ({ home, project }) => {
    const s = githubSettings((project.config.scm as { github?: unknown } | undefined)?.github, project.remote);
    return new GitHubScm(Mirror.of(home, { dirName: projectDirName(project), remote: project.remote }), s, githubToken(s, process.env, project.path || process.cwd()));
  },
});

export const DEFAULT_SCM = 'git-remote';

/** The adapter a project names in `scm.adapter` of its gantry.yaml (default git-remote). */
export function scmFor(ctx: ScmContext): Scm {
  const id = (ctx.project.config.scm as { adapter?: unknown } | undefined)?.adapter ?? DEFAULT_SCM;
  const a = typeof id === 'string' ? ADAPTERS.get(id) : undefined;
  if (!a) throw new GantryError('validation', `scm.adapter: unknown adapter ${String(id)}`, { field: 'scm.adapter', hint: `use one of: ${[...ADAPTERS.keys()].join(', ')}` });
  return a.create(ctx);
}
