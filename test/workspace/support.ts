// Real repositories and a real store for workspace tests.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseWorkspaceConfig, type WorkspaceConfigInput } from '../../src/config/workspace.js';
import type { ProvisionRequest } from '../../src/ports/workspace.js';
import { CheckpointRepoSql } from '../../src/store/checkpoint-repo.js';
import type { SqlStore } from '../../src/store/sql-store.js';
import { WorkspaceService, type WorkspaceServiceOptions } from '../../src/workspace/workspace-service.js';
import { newTask } from '../support/fixtures.js';

export const sh = (cwd: string, ...args: string[]): string =>
  execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } }).trim();

/** A repository with a few tracked files, an ignore rule and one commit on main. */
export function makeRepo(root: string, extra: Record<string, string> = {}): string {
  const repo = join(root, 'repo');
  mkdirSync(join(repo, 'src'), { recursive: true });
  sh(repo, 'init', '-q', '-b', 'main');
  writeFileSync(join(repo, 'README.md'), 'hello\n');
  writeFileSync(join(repo, 'src', 'a.ts'), 'export const a = 1;\n');
  writeFileSync(join(repo, 'src', 'b.ts'), 'export const b = 2;\n');
  writeFileSync(join(repo, '.gitignore'), 'build/\n*.log\n.env\n');
  for (const [p, c] of Object.entries(extra)) {
    mkdirSync(join(repo, p, '..'), { recursive: true });
    writeFileSync(join(repo, p), c);
  }
  sh(repo, 'add', '-A');
  sh(repo, 'commit', '-q', '-m', 'init');
  return repo;
}

export interface Harness {
  root: string;
  home: string;
  repo: string;
  /** This factory's bare mirror of the project (task worktrees and checkpoint refs live there). */
  mirror: string;
  ws: WorkspaceService;
  store: SqlStore;
  projectId: string;
  newTaskId(): Promise<string>;
  request(taskId: string, config?: WorkspaceConfigInput, over?: Partial<ProvisionRequest>): ProvisionRequest;
  dispose(): void;
}

export async function harness(store: SqlStore, opts: Partial<WorkspaceServiceOptions> & { repoFiles?: Record<string, string> } = {}): Promise<Harness> {
  const root = mkdtempSync(join(tmpdir(), 'gantry-ws-'));
  const repo = makeRepo(root, opts.repoFiles);
  const home = join(root, 'home');
  const project = await store.projects.create({ name: 'demo', path: repo, defaultBranch: 'main', config: {} });
  let configs = new Map<string, WorkspaceConfigInput>();
  const ws = new WorkspaceService({
    home, store, checkpoints: new CheckpointRepoSql(store), clock: { now: () => Date.now() }, env: { PATH: process.env.PATH ?? '' },
    configOf: async () => parseWorkspaceConfig(configs.get('current') ?? {}),
    ...opts,
  });
  return {
    root, home, repo, mirror: join(home, 'mirrors', 'demo.git'), ws, store, projectId: project.id,
    newTaskId: async () => (await store.tasks.submit(newTask(project.id))).task.id,
    request: (taskId, config = {}, over = {}) => {
      configs = new Map([['current', config]]);
      return { taskId, project: { id: project.id, name: 'demo', path: repo, defaultBranch: 'main' }, config: parseWorkspaceConfig(config), ...over };
    },
    dispose: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** Every entry under dir except .git: type, mode and content hash (or link target). Byte-level identity. */
export function listing(dir: string, skip: (rel: string) => boolean = () => false): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      if (r === '.git' || skip(r)) continue;
      const st = lstatSync(join(dir, r));
      if (st.isSymbolicLink()) out[r] = `link:${readlinkSync(join(dir, r))}`;
      else if (st.isDirectory()) walk(r);
      else out[r] = `file:${(st.mode & 0o111) !== 0 ? 'x' : '-'}:${createHash('sha1').update(readFileSync(join(dir, r))).digest('hex')}`;
    }
  };
  walk('');
  return out;
}
