// Registering a project: a local git repository plus its parsed gantry.yaml.
import { readFile } from 'node:fs/promises';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { GantryError } from '../domain/errors.js';
import { CONFIG_FILE, parseConfig, type ProjectConfig } from '../config/project-config.js';
import type { Project, Store } from '../ports/store.js';
import { currentBranch, git, repoRoot } from '../scm/git.js';
import { agentSettings } from '../agents/config.js';
import { getAgent } from '../agents/registry.js';

export async function readProjectConfig(root: string): Promise<ProjectConfig> {
  const file = join(root, CONFIG_FILE);
  let text = '';
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  return parseProjectConfigText(text, file);
}

/** gantry.yaml text (from a checkout or a remote's branch) parsed, with its agent sections checked; `file` names it in errors. */
export function parseProjectConfigText(text: string, file: string): ProjectConfig {
  const config = parseConfig(text, file);
  for (const [id, section] of Object.entries(config.agents)) {
    try {
      getAgent(id);
      agentSettings(config.agents, id);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      throw new GantryError('validation', `${file}: agents.${id}: ${msg}`, { hint: `fix ${file} (see docs/agents.md), then retry`, details: { section } });
    }
  }
  return config;
}

/** The remote a clone lives in: its `origin` URL, else the clone's own path (treated exactly like a remote). */
export async function remoteOf(root: string): Promise<string> {
  const url = await git(root, ['remote', 'get-url', 'origin']).catch(() => '');
  if (!url) return root;
  // A relative path remote (`git clone ../x`) is resolved against the clone, as git does.
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(url) || /^[^/]+@[^/]+:/.test(url) || isAbsolute(url) ? url : resolve(root, url);
}

export async function registerProject(store: Store, input: { path: string; name?: string | undefined; defaultBranch?: string | undefined }): Promise<{ project: Project; created: boolean }> {
  if (!isAbsolute(input.path)) {
    throw new GantryError('validation', `path: ${input.path} is not absolute`, { field: 'path', hint: 'pass the absolute path of the repository' });
  }
  const root = await repoRoot(input.path);
  if (!root) {
    throw new GantryError('validation', `path: ${input.path} is not inside a git repository`, { field: 'path', hint: 'run `git init` there first, or pass a repository path' });
  }
  const existing = (await store.projects.list()).find((p) => p.path === root);
  if (existing) return { project: existing, created: false };
  const config = await readProjectConfig(root);
  const name = input.name ?? config.project.name ?? basename(root);
  const defaultBranch = input.defaultBranch ?? config.project.defaultBranch ?? (await currentBranch(root)) ?? 'main';
  const project = await store.projects.create({ name, path: root, remote: await remoteOf(root), defaultBranch, config: config as unknown as Record<string, unknown> });
  return { project, created: true };
}

/** Re-reads gantry.yaml (a project without a checkout: from its remote's base branch); a broken file is an error and leaves the stored config untouched. */
export async function reloadProjectConfig(store: Store, project: Project): Promise<Project> {
  const config = project.path ? await readProjectConfig(project.path) : await (await import('./remote-project.js')).readRemoteConfig(project.remote, project.defaultBranch);
  return store.projects.updateConfig(project.id, config as unknown as Record<string, unknown>, project.rev);
}
