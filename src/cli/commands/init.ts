import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { GantryError } from '../../domain/errors.js';
import { CONFIG_FILE, DEFAULT_CONFIG_YAML } from '../../config/project-config.js';
import { readDaemon, resolveHome } from '../../app/home.js';
import { registerProject } from '../../app/projects.js';
import { openStore } from '../../store/open.js';
import { repoRoot } from '../../scm/git.js';
import type { Project } from '../../ports/store.js';
import { action, client, examples, withCommon, type CommonFlags } from '../common.js';
import { emit } from '../output.js';

interface InitFlags extends CommonFlags {
  name?: string;
  force?: boolean;
  database?: string;
}

export function registerInit(program: Command): void {
  withCommon(program.command('init [path]'))
    .description('write a commented gantry.yaml in a git repository and register it as a project')
    .option('--name <name>', 'project name (default: the directory name)')
    .option('--force', 'overwrite an existing gantry.yaml')
    .option('--database <url>', 'register directly in this store when no coordinator is running')
    .addHelpText('after', examples(['gantry init', 'gantry init ~/src/app --name app']))
    .action(
      action(async (path: string | undefined, f: InitFlags) => {
        const root = await repoRoot(resolve(path ?? '.'));
        if (!root) throw new GantryError('validation', `${resolve(path ?? '.')} is not inside a git repository`, { hint: 'run `git init` first' });
        const file = join(root, CONFIG_FILE);
        const existed = existsSync(file);
        if (!existed || f.force) writeFileSync(file, DEFAULT_CONFIG_YAML);
        const project = await register(root, f);
        emit(f, { project, configFile: file, configWritten: !existed || Boolean(f.force) }, () =>
          [`${!existed || f.force ? 'wrote' : 'kept'} ${file}`, `project ${project.name} (${project.id}) → ${project.path}, base ${project.defaultBranch}`, 'next: gantry add "what to do"'].join('\n'),
        );
      }),
    );
}

/** Through the running coordinator when there is one; otherwise straight into the home store. */
async function register(root: string, f: InitFlags): Promise<Project> {
  const home = resolveHome(f.home);
  if (f.url || process.env.GANTRY_URL || readDaemon(home)) {
    const r = await client(f).post<{ project: Project }>('/api/projects', { path: root, ...(f.name ? { name: f.name } : {}) });
    return r.project;
  }
  const store = await openStore(f.database ?? process.env.GANTRY_DATABASE_URL ?? home.database);
  try {
    return (await registerProject(store, { path: root, name: f.name })).project;
  } finally {
    await store.close();
  }
}
