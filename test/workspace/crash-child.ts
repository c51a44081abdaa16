// Child process for the multi-process tests: provisions (racing other processes, or until killed) or checkpoints until killed.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseWorkspaceConfig } from '../../src/config/workspace.js';
import { CheckpointRepoSql } from '../../src/store/checkpoint-repo.js';
import { openStore } from '../../src/store/open.js';
import { WorkspaceService } from '../../src/workspace/workspace-service.js';

const [mode, db, home, repo, projectId, taskId, marker] = process.argv.slice(2) as [string, string, string, string, string, string, string];
const store = await openStore(db);
const ws = new WorkspaceService({ home, store, checkpoints: new CheckpointRepoSql(store), clock: { now: () => Date.now() }, env: { PATH: process.env.PATH ?? '' } });
const project = { id: projectId, name: 'demo', path: repo, defaultBranch: 'main' };

if (mode === 'provision-many') {
  // Several tasks at once from this process, racing other processes on the same repository.
  const ws2 = await Promise.all(taskId.split(',').map((id) => ws.provision({ taskId: id, project, config: parseWorkspaceConfig({ ports: { from: 5300, to: 5399 } }) })));
  process.stdout.write(JSON.stringify(ws2.map((w) => w.port)));
  await store.close();
} else if (mode === 'provision') {
  // The setup command reports that provisioning is under way, then hangs until the parent kills us.
  const config = parseWorkspaceConfig({ setup: { commands: [`echo $$ > "${marker}"; exec sleep 60`] } });
  await ws.provision({ taskId, project, config });
} else {
  const w = await ws.provision({ taskId, project, config: parseWorkspaceConfig({}) });
  for (let i = 0; ; i++) {
    writeFileSync(join(w.path, `f${i % 7}.txt`), `round ${i}\n`);
    const { checkpoint } = await ws.checkpoint(taskId, { reason: 'loop' });
    process.stdout.write(`${checkpoint.seq}\n`);
  }
}
