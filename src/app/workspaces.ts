// Builds the workspace service for this process: workspaces under <home>/workspaces, checkpoint rows in
// the store, each project's `workspace:` config read from its registered gantry.yaml; and the sweep
// that retires finished tasks' worktrees on the project's `workspace.retain` policy.
import { parseWorkspaceConfig, type WorkspaceConfig } from '../config/workspace.js';
import { DEFAULT_RETAIN } from '../domain/workspace-retention.js';
import { retainedBy, sweepRetention, type RetentionDeps } from '../engine/workspace-retention.js';
import type { EngineReads } from '../ports/engine.js';
import type { Project, Store } from '../ports/store.js';
import type { CheckpointRepo, WorkspacePort, WorkspaceStore } from '../ports/workspace.js';
import { CheckpointRepoSql } from '../store/checkpoint-repo.js';
import { WorkspaceService } from '../workspace/workspace-service.js';
import { projectCommandEnv } from '../lib/command-env.js';

const configOf = (p: Project | undefined): WorkspaceConfig | undefined => {
  try {
    return parseWorkspaceConfig(p?.config.workspace ?? {});
  } catch {
    return undefined; // a bad section was rejected at `gantry init`; fall back to defaults here
  }
};

function retentionFacts(store: EngineReads): Omit<RetentionDeps, 'workspaces'> {
  return {
    task: (id) => store.tasks.get(id),
    project: (id) => store.projects.get(id),
    retainOf: (p) => configOf(p)?.retain ?? DEFAULT_RETAIN,
    now: () => Date.now(),
  };
}

/** Over the Store on a coordinator host whose in-process factories are `holders` (see CheckpointRepoOptions). */
export function workspaceService(home: string, store: Store, holders: readonly string[]): WorkspaceService {
  return workspaceServiceOver(home, store, new CheckpointRepoSql(store, { holders }));
}

/** Over any state: a remote factory passes the coordinator's fenced API for both. */
export function workspaceServiceOver(home: string, store: WorkspaceStore, checkpoints: CheckpointRepo): WorkspaceService {
  const env = projectCommandEnv(process.env);
  return new WorkspaceService({
    home,
    store,
    checkpoints,
    clock: { now: () => Date.now() },
    env,
    configOf: async (projectId) => configOf(await store.projects.get(projectId)),
    retained: retainedBy(retentionFacts(store)),
  });
}

/**
 * Factory start: repair what a crash left (interrupted provisioning or teardown) and collect finished
 * work the retention policy no longer keeps; then retire worktrees on the policy every `everyMs`.
 */
export async function startWorkspaceUpkeep(
  store: EngineReads,
  workspaces: WorkspacePort,
  log: { info(msg: string, f?: Record<string, unknown>): void; warn(msg: string, f?: Record<string, unknown>): void },
  everyMs = 60_000,
): Promise<{ stop(): Promise<void> }> {
  const gc = await workspaces.gc().catch((e: unknown) => (log.warn('workspace gc at start failed', { err: String(e) }), []));
  if (gc.length) log.info('workspace gc at start', { actions: gc.length });
  const deps: RetentionDeps = { ...retentionFacts(store), workspaces };
  let running: Promise<unknown> | null = null;
  const timer = setInterval(() => {
    if (running) return;
    running = sweepRetention(deps)
      .then((r) => {
        if (r.removed.length) log.info('workspaces retired', { removed: r.removed.length });
        for (const e of r.errors) log.warn('workspace not retired', e);
      })
      .catch((e: unknown) => log.warn('retention sweep failed', { err: String(e) }))
      .finally(() => (running = null));
  }, everyMs);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      if (running) await running;
    },
  };
}
