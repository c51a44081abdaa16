// gantry config check [path]: validate a repository's gantry.yaml exactly as the coordinator will,
// and, when a coordinator is running and the repository is one of its projects, load it there now
// (the coordinator also re-reads the file on every `gantry add`).
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { GantryError } from '../../domain/errors.js';
import { CONFIG_FILE } from '../../config/project-config.js';
import type { Project } from '../../ports/store.js';
import { repoRoot } from '../../scm/git.js';
import { ApiClient, resolveTarget } from '../client.js';
import { action, examples, withCommon, type CommonFlags } from '../common.js';
import { emit } from '../output.js';

export function registerConfig(program: Command): void {
  const config = program
    .command('config')
    .description("check a repository's gantry.yaml")
    .addHelpText('after', examples(['gantry config check', 'gantry config check ~/src/app']));
  withCommon(config.command('check [path]', { isDefault: true }))
    .description("validate gantry.yaml (every error, with its key path) and load it into the running coordinator")
    .addHelpText('after', examples(['gantry config check', 'gantry config check ~/src/app --json']))
    .action(
      action(async (path: string | undefined, f: CommonFlags) => {
        const root = await repoRoot(resolve(path ?? '.'));
        if (!root) throw new GantryError('validation', `${resolve(path ?? '.')} is not inside a git repository`, { hint: 'run it in your repository, or pass its path' });
        const file = join(root, CONFIG_FILE);
        if (!existsSync(file)) throw new GantryError('validation', `${root} has no ${CONFIG_FILE}`, { hint: 'write one with `gantry init`' });
        const { readProjectConfig } = await import('../../app/projects.js');
        const c = await readProjectConfig(root); // throws one validation error naming every bad key
        const reloaded = await reloadInCoordinator(root, f);
        const pipelines = Object.keys(c.pipelines);
        emit(f, { ok: true, file, defaults: c.defaults, checks: c.checks.map((x) => x.name), pipelines, reloaded }, () =>
          [
            `${file} is valid`,
            `  defaults   pipeline ${c.defaults.pipeline}, agent ${c.defaults.agent}, maxAttempts ${c.defaults.maxAttempts}`,
            `  checks     ${c.checks.map((x) => x.name).join(', ') || '(none)'}`,
            ...(pipelines.length ? [`  pipelines  ${pipelines.join(', ')}`] : []),
            reloaded ? `  loaded into the running coordinator as project ${reloaded}` : '  the coordinator reads it on the next `gantry add` (none running for this project now)',
          ].join('\n'),
        );
      }),
    );
}

/** The project name it was loaded as, or null when no coordinator runs or the repository is not one of its projects. */
async function reloadInCoordinator(root: string, f: CommonFlags): Promise<string | null> {
  let api: ApiClient;
  try {
    api = new ApiClient(resolveTarget(f));
  } catch {
    return null; // no coordinator: nothing to load it into
  }
  const { projects } = await api.get<{ projects: Project[] }>('/api/projects').catch(() => ({ projects: [] as Project[] }));
  const p = projects.find((x) => x.path && resolve(x.path) === resolve(root));
  if (!p) return null;
  await api.post(`/api/projects/${encodeURIComponent(p.id)}/reload`);
  return p.name;
}
