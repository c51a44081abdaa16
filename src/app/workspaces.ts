// Builds the workspace service for this process: workspaces under <home>/workspaces, checkpoint rows in
// the store, each project's `workspace:` config read from its registered gantry.yaml.
import { parseWorkspaceConfig, type WorkspaceConfig } from '../config/workspace.js';
import type { Store } from '../ports/store.js';
import { CheckpointRepoSql } from '../store/checkpoint-repo.js';
import { WorkspaceService } from '../workspace/workspace-service.js';
import { projectCommandEnv } from '../lib/command-env.js';

export function workspaceService(home: string, store: Store): WorkspaceService {
  const env = projectCommandEnv(process.env);
  return new WorkspaceService({
    home,
    store,
    checkpoints: new CheckpointRepoSql(store),
    clock: { now: () => Date.now() },
    env,
    configOf: async (projectId): Promise<WorkspaceConfig | undefined> => {
      const p = await store.projects.get(projectId);
      const section = p?.config.workspace;
      try {
        return parseWorkspaceConfig(section ?? {});
      } catch {
        return undefined; // a bad section was rejected at `gantry init`; fall back to defaults here
      }
    },
  });
}
