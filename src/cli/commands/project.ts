import type { Command } from 'commander';
import { readDaemon, resolveHome } from '../../app/home.js';
import { redactRemote } from '../../lib/remote-url.js';
import type { IntakeReport } from '../../app/issue-intake.js';
import type { Project } from '../../ports/store.js';
import { action, client, examples, withCommon, type CommonFlags } from '../common.js';
import { emit } from '../output.js';

interface AddFlags extends CommonFlags {
  name?: string;
  base?: string;
  database?: string;
}

export function registerProjectCommands(program: Command): void {
  const project = program
    .command('project')
    .description('manage projects')
    .addHelpText('after', examples(['gantry project add https://git.example.com/team/app.git', 'gantry project add /srv/git/app.git --name app', 'gantry project sync-issues app']));
  withCommon(project.command('add <remote>'))
    .description("register a project from its git remote URL (or a repository path, treated exactly like a remote) without a clone; gantry.yaml is read from the base branch")
    .option('--name <name>', "project name (default: gantry.yaml's project.name, else the remote's last path segment)")
    .option('--base <branch>', "base branch tasks start from and land on (default: the remote's HEAD)")
    .option('--database <url>', 'register directly in this store when no coordinator is running')
    .addHelpText('after', examples(['gantry project add https://git.example.com/team/app.git --name app --base main', 'gantry project add /srv/git/app.git']))
    .action(
      action(async (remoteArg: string, f: AddFlags) => {
        const { normalizeRemote } = await import('../../app/remote-project.js');
        const remote = normalizeRemote(remoteArg, process.cwd());
        const p = await add(remote, f);
        emit(f, { project: { ...p, remote: redactRemote(p.remote) } }, () =>
          [
            `project ${p.name} (${p.id}) → ${redactRemote(p.remote)}, base ${p.defaultBranch} (no local checkout: factories work from their mirror, tasks land by push)`,
            `next: gantry add "what to do" --project ${p.name}`,
          ].join('\n'),
        );
      }),
    );
  withCommon(project.command('sync-issues <project>'))
    .description("take the project's forge issues carrying scm.github.intake.label in as tasks (once per issue), and echo finished tasks back to their issues")
    .addHelpText('after', examples(['gantry project sync-issues app', 'gantry project sync-issues app --json']))
    .action(
      action(async (name: string, f: CommonFlags) => {
        const r = await client(f).post<IntakeReport>(`/api/projects/${encodeURIComponent(name)}/issues/sync`, {});
        emit(f, r, () =>
          [
            ...r.created.map((c) => `issue #${c.issue} → task ${c.taskId} (new)`),
            ...r.existing.map((c) => `issue #${c.issue} → task ${c.taskId} (already taken in)`),
            ...r.echoed.map((e) => `task ${e.taskId} → issue #${e.issue}: commented, labelled ${e.label}`),
            `${r.created.length} new task(s), ${r.existing.length} already taken in, ${r.echoed.length} outcome(s) echoed`,
          ].join('\n'),
        );
      }),
    );
}

/** Through the running coordinator when there is one; otherwise straight into the home store. */
async function add(remote: string, f: AddFlags): Promise<Project> {
  const home = resolveHome(f.home);
  const input = { remote, ...(f.name ? { name: f.name } : {}), ...(f.base ? { defaultBranch: f.base } : {}) };
  if (f.url || process.env.GANTRY_URL || readDaemon(home)) {
    return (await client(f).post<{ project: Project }>('/api/projects', input)).project;
  }
  const [{ openStore }, { addRemoteProject }] = await Promise.all([import('../../store/open.js'), import('../../app/remote-project.js')]);
  const store = await openStore(f.database ?? process.env.GANTRY_DATABASE_URL ?? home.database);
  try {
    return await addRemoteProject(store, input);
  } finally {
    await store.close();
  }
}
