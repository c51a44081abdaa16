// Checkpoints, diff and rollback through the real coordinator: HTTP routes and the CLI as users run it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCoordinator, type Coordinator } from '../../src/app/coordinator.js';
import { resolveHome } from '../../src/app/home.js';
import { silentLogger } from '../../src/api/logger.js';
import { workspaceService } from '../../src/app/workspaces.js';
import { parseWorkspaceConfig } from '../../src/config/workspace.js';
import { gantry } from '../support/cli.js';
import { makeRepo } from '../support/git.js';
import { newTask } from '../support/fixtures.js';

describe('workspace surfaces: API and CLI', () => {
  let homeDir: string;
  let coord: Coordinator;
  let env: Record<string, string>;
  let taskId: string;
  let wsPath: string;

  before(async () => {
    homeDir = mkdtempSync(join(tmpdir(), 'gantry-ws-cli-'));
    coord = await startCoordinator({ home: resolveHome(homeDir), port: 0, host: '127.0.0.1', factories: 0, logger: silentLogger });
    env = { GANTRY_HOME: homeDir };
    const repo = makeRepo({ 'README.md': 'one\n' });
    const project = await coord.store.projects.create({ name: 'demo', path: repo, defaultBranch: 'main', config: {} });
    taskId = (await coord.store.tasks.submit(newTask(project.id))).task.id;
    // A factory in this process provisions and checkpoints; the coordinator serves what it recorded.
    const ws = workspaceService(homeDir, coord.store, []);
    const w = await ws.provision({ taskId, project: { id: project.id, name: project.name, path: repo, defaultBranch: 'main' }, config: parseWorkspaceConfig({}) });
    wsPath = w.path;
    writeFileSync(join(wsPath, 'README.md'), 'two\n');
    await ws.checkpoint(taskId, { step: 'implement', reason: 'step_end' });
    writeFileSync(join(wsPath, 'README.md'), 'three\n');
    writeFileSync(join(wsPath, 'extra.txt'), 'x\n');
    await ws.checkpoint(taskId, { step: 'review', reason: 'step_end' });
  });
  after(async () => {
    await coord?.close();
    rmSync(homeDir, { recursive: true, force: true });
  });

  it('gantry checkpoints / diff / rollback, --json documents and human output', async () => {
    const list = await gantry(['checkpoints', taskId, '--json'], { env });
    assert.equal(list.code, 0, list.stderr);
    const cps = (JSON.parse(list.stdout) as { checkpoints: { seq: number; step: string }[] }).checkpoints;
    assert.deepEqual(cps.map((c) => [c.seq, c.step]), [[1, 'implement'], [2, 'review']]);
    const human = await gantry(['checkpoints', taskId], { env });
    assert.match(human.stdout, /REASON/);

    const diff = await gantry(['diff', taskId, '1', '2', '--json'], { env });
    assert.equal(diff.code, 0, diff.stderr);
    const d = (JSON.parse(diff.stdout) as { diff: { files: { path: string }[] } }).diff;
    assert.deepEqual(d.files.map((f) => f.path).sort(), ['README.md', 'extra.txt']);
    const stat = await gantry(['diff', taskId, '--stat'], { env });
    assert.match(stat.stdout, /base → #2: 2 file/);

    const rb = await gantry(['rollback', taskId, '1', '--paths', 'README.md'], { env });
    assert.equal(rb.code, 0, rb.stderr);
    assert.match(rb.stdout, /rolled .* back to #1: 1 written, 0 deleted \(undo with: gantry rollback .* 2\)/);
    assert.equal(readFileSync(join(wsPath, 'README.md'), 'utf8'), 'two\n');
    assert.equal(readFileSync(join(wsPath, 'extra.txt'), 'utf8'), 'x\n');
  });

  it('bad selectors and unknown tasks get a clear error and change nothing', async () => {
    const before = await coord.store.events.latestSeq();
    const bad = await gantry(['diff', taskId, 'yesterday'], { env });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /from/);
    const missing = await gantry(['rollback', taskId, '99'], { env });
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /checkpoint 99 .* not found/);
    const nobody = await gantry(['checkpoints', 't-nope', '--json'], { env });
    assert.equal(nobody.code, 0);
    assert.deepEqual(JSON.parse(nobody.stdout), { checkpoints: [] });
    assert.equal(await coord.store.events.latestSeq(), before);
  });

  it('gantry gc keeps the live workspace and tears down a finished one', async () => {
    const live = await gantry(['gc', '--json'], { env });
    assert.equal(live.code, 0, live.stderr);
    assert.deepEqual(JSON.parse(live.stdout), { actions: [] });
    const t = (await coord.store.tasks.get(taskId))!;
    await coord.store.tasks.setStage(taskId, t.rev, 'cancelled', null, { type: 'task.cancelled', taskId });
    const done = await gantry(['gc'], { env });
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stdout, new RegExp(`${taskId}\\s+teardown\\s+ok`));
    assert.equal(existsSync(wsPath), false);
  });
});
