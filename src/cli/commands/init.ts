import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { GantryError } from '../../domain/errors.js';
import { CONFIG_FILE } from '../../config/project-config.js';
import { readDaemon, resolveHome } from '../../app/home.js';
import { repoRoot } from '../../scm/git.js';
import { redactRemote } from '../../lib/remote-url.js';
import type { Project } from '../../ports/store.js';
import { action, client, examples, withCommon, type CommonFlags } from '../common.js';
import { emit } from '../output.js';
import { AGENT_PREFERENCE, chooseAgent, initConfigYaml, type InitChoice } from '../init-config.js';

interface InitFlags extends CommonFlags {
  name?: string;
  force?: boolean;
  database?: string;
  agent?: string;
}

/** Which agent CLIs answer on this machine (the ones `gantry doctor` lists). */
async function detectAgents(): Promise<InitChoice> {
  const { getAgent } = await import('../../agents/registry.js');
  const found = await Promise.all(AGENT_PREFERENCE.map((id) => getAgent(id).detect()));
  return chooseAgent(found);
}

export function registerInit(program: Command): void {
  withCommon(program.command('init [path]'))
    .description('write a commented gantry.yaml (default agent: the first agent CLI found on PATH, else a scripted example) and register the project')
    .option('--name <name>', 'project name (default: the directory name)')
    .option('--agent <id>', `default agent to write (default: the first found of ${AGENT_PREFERENCE.join(', ')}; else scripted)`)
    .option('--force', 'overwrite an existing gantry.yaml')
    .option('--database <url>', 'register directly in this store when no coordinator is running')
    .addHelpText('after', examples(['gantry init', 'gantry init ~/src/app --name app', 'gantry init --agent codex --force']))
    .action(
      action(async (path: string | undefined, f: InitFlags) => {
        const root = await repoRoot(resolve(path ?? '.'));
        if (!root) throw new GantryError('validation', `${resolve(path ?? '.')} is not inside a git repository`, { hint: 'run `git init` first' });
        const file = join(root, CONFIG_FILE);
        const existed = existsSync(file);
        const write = !existed || Boolean(f.force);
        let choice: InitChoice | null = null;
        if (write) {
          if (f.agent) {
            const { getAgent } = await import('../../agents/registry.js');
            getAgent(f.agent); // an unknown id is refused with the choices
            choice = { agent: f.agent, found: [] };
          } else choice = await detectAgents();
          writeFileSync(file, initConfigYaml(choice));
        }
        const project = await register(root, f);
        const agentLine = !choice
          ? null
          : choice.agent === 'scripted'
            ? 'agent   scripted (no agent CLI found on PATH): a scripted example that takes a task through the pipeline with no model; install Claude Code, Codex, Gemini CLI or OpenCode and set defaults.agent'
            : `agent   ${choice.agent}${choice.found.length > 1 ? ` (also found: ${choice.found.slice(1).join(', ')})` : ''}`;
        emit(f, { project, configFile: file, configWritten: write, ...(choice ? { agent: choice.agent, agentsFound: choice.found } : {}) }, () =>
          [
            `${write ? 'wrote' : 'kept'} ${file}`,
            `project ${project.name} (${project.id}) → ${project.path}, base ${project.defaultBranch}`,
            ...(project.remote && project.remote !== project.path ? [`remote  ${redactRemote(project.remote)} (tasks land there by push; see docs/repositories.md)`] : []),
            ...(agentLine ? [agentLine] : []),
            'next: gantry add "what to do"',
          ].join('\n'),
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
  const [{ openStore }, { registerProject }] = await Promise.all([import('../../store/open.js'), import('../../app/projects.js')]);
  const store = await openStore(f.database ?? process.env.GANTRY_DATABASE_URL ?? home.database);
  try {
    return (await registerProject(store, { path: root, name: f.name })).project;
  } finally {
    await store.close();
  }
}
