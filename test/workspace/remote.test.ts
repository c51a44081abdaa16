// Checkpoints travel through the project remote: one factory pushes them, another resumes from them.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseWorkspaceConfig } from '../../src/config/workspace.js';
import type { SqlStore } from '../../src/store/sql-store.js';
import { CheckpointRepoSql } from '../../src/store/checkpoint-repo.js';
import { WorkspaceService } from '../../src/workspace/workspace-service.js';
import { checkpointLocked, withTaskLock } from '../../src/workspace/checkpointer.js';
import { Layout, loadRecord } from '../../src/workspace/state-record.js';
import { withStore } from '../support/db.js';
import { newTask } from '../support/fixtures.js';
import { listing, makeRepo, sh } from './support.js';

async function twoFactories(store: SqlStore, root: string) {
  const origin = join(root, 'origin.git');
  sh(root, 'clone', '-q', '--bare', makeRepo(root), origin);
  const clones = { a: join(root, 'a'), b: join(root, 'b') };
  sh(root, 'clone', '-q', origin, clones.a);
  sh(root, 'clone', '-q', origin, clones.b);
  const project = await store.projects.create({ name: 'demo', path: clones.a, defaultBranch: 'main', config: {} });
  const config = parseWorkspaceConfig({ checkpoints: { pushTo: 'origin' } });
  /** A factory's workspaces over its own home; called again, the same factory restarted (a new process). */
  const factory = (name: 'a' | 'b') => {
    const ws = new WorkspaceService({ home: join(root, `home-${name}`), store, checkpoints: new CheckpointRepoSql(store), clock: { now: () => Date.now() }, configOf: async () => config });
    const req = (taskId: string) => ({ taskId, project: { id: project.id, name: 'demo', path: clones[name], defaultBranch: 'main' }, config });
    return { ws, req };
  };
  const newTaskId = async () => (await store.tasks.submit(newTask(project.id))).task.id;
  const a = factory('a');
  /** A new task that factory A provisioned, wrote a file in and checkpointed. */
  const begunOnA = async (reason: string) => {
    const id = await newTaskId();
    const wa = await a.ws.provision(a.req(id));
    writeFileSync(join(wa.path, 'a.txt'), 'A was here\n');
    const cp = (await a.ws.checkpoint(id, { step: 'implement', reason })).checkpoint;
    return { id, wa, cp };
  };
  return { origin, clones, a, b: factory('b'), newTaskId, begunOnA, restart: factory };
}

/** A store, a scratch directory and two factories over one remote, for one test. */
async function withTwoFactories(fn: (h: { f: Awaited<ReturnType<typeof twoFactories>>; store: SqlStore; root: string }) => Promise<void>): Promise<void> {
  await withStore('sqlite', async (store) => {
    const root = mkdtempSync(join(tmpdir(), 'gantry-remote-'));
    try {
      await fn({ f: await twoFactories(store, root), store, root });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
}

describe('checkpoints through the project remote', () => {
  it('factory A pushes its checkpoints; factory B, with its own clone, resumes the task from them', async () => {
    await withTwoFactories(async ({ f }) => {
      const id = await f.newTaskId();
      const wa = await f.a.ws.provision(f.a.req(id));
      writeFileSync(join(wa.path, 'progress.txt'), 'half done\n');
      const cp1 = (await f.a.ws.checkpoint(id, { step: 'implement', reason: 'step_end' })).checkpoint;
      assert.equal(sh(f.origin, 'rev-parse', cp1.ref), cp1.sha, 'pushed after the checkpoint');
      writeFileSync(join(wa.path, 'more.txt'), 'more\n');
      const state = listing(wa.path);
      const t = await f.a.ws.teardown(id);
      assert.equal(sh(f.origin, 'rev-parse', t.finalCheckpoint!.ref), t.finalCheckpoint!.sha);
      assert.equal(sh(f.clones.b, 'for-each-ref', 'refs/gantry/'), '', 'B starts without the checkpoints');

      const wb = await f.b.ws.provision(f.b.req(id));
      assert.equal(wb.resumedFrom?.seq, t.finalCheckpoint!.seq);
      assert.deepEqual(listing(wb.path), state);
    });
  });

  it('a checkpoint its factory died before pushing: another factory resumes from the newest one that reached the remote', async () => {
    await withTwoFactories(async ({ f }) => {
      const id = await f.newTaskId();
      const wa = await f.a.ws.provision(f.a.req(id));
      writeFileSync(join(wa.path, 'progress.txt'), 'half done\n');
      const cp1 = (await f.a.ws.checkpoint(id, { step: 'implement', reason: 'step_end' })).checkpoint;
      const state = listing(wa.path);
      writeFileSync(join(wa.path, 'more.txt'), 'more\n');
      const cp2 = (await f.a.ws.checkpoint(id, { step: 'implement', reason: 'debounce' })).checkpoint;
      // What a SIGKILL between recording checkpoint 2 and pushing it leaves: its row, not its ref.
      sh(f.origin, 'update-ref', '-d', cp2.ref);

      const wb = await f.b.ws.provision(f.b.req(id));
      assert.equal(wb.resumedFrom?.seq, cp1.seq, 'resumed from the newest checkpoint B can reach');
      assert.deepEqual(listing(wb.path), state);

      assert.deepEqual(wb.lostCheckpoints, { restoredSeq: cp1.seq, seqs: [cp2.seq] }, 'the loss is recorded for the engine');

      // Nothing is saved until the run was put back: a checkpoint now would pass the restored state off as the newest work.
      await assert.rejects(f.b.ws.checkpoint(id, { step: 'implement', reason: 'debounce' }), /not checkpointed/);
      // Put back: the restored state becomes the newest checkpoint — numbered after every recorded one, built on the one B restored, pushed.
      await f.b.ws.acknowledgeLoss(id, 'implement');
      const cp3 = (await f.b.ws.listCheckpoints(id)).at(-1)!;
      assert.deepEqual([cp3.seq, cp3.parentSha, cp3.reason, cp3.step], [cp2.seq + 1, cp1.sha, 'rewound', 'implement']);
      assert.equal(sh(f.origin, 'rev-parse', cp3.ref), cp3.sha, 'and it reaches the remote');
      assert.equal((await f.b.ws.get(id))!.lostCheckpoints, null);
      // B's own work checkpoints on from there.
      writeFileSync(join(wb.path, 'redone.txt'), 'redone\n');
      const cp4 = (await f.b.ws.checkpoint(id, { step: 'implement', reason: 'step_done' })).checkpoint;
      assert.deepEqual([cp4.seq, cp4.parentSha], [cp3.seq + 1, cp3.sha]);
    });
  });

  it('a factory that gets a task back after another moved it on resumes from the newer checkpoint, not its own stale worktree', async () => {
    await withTwoFactories(async ({ f, store }) => {
      const { id, wa } = await f.begunOnA('debounce');
      writeFileSync(join(wa.path, 'unsaved.txt'), 'A died before saving this\n');
      assert.ok(await f.a.ws.current(id), 'its own worktree is current while no one else moved the task on');
      // A dies (its worktree stays on its disk); B takes the task over from A's checkpoint and goes on.
      const wb = await f.b.ws.provision(f.b.req(id));
      writeFileSync(join(wb.path, 'b.txt'), 'B finished it\n');
      const cpB = (await f.b.ws.checkpoint(id, { step: 'implement', reason: 'step_done' })).checkpoint;
      const state = listing(wb.path);

      // A, restarted (a new process: a new service over the same home), is given the task back.
      const a2 = f.restart('a').ws;
      assert.equal(await a2.current(id), undefined, 'the stale worktree is not served');
      const kept = (await store.events.list({ taskId: id, limit: 100 })).find((e) => e.type === 'workspace.superseded');
      assert.ok(kept, 'the stale worktree is set aside with an event');
      assert.equal(kept.payload.latestSeq, cpB.seq);
      const again = await a2.provision(f.a.req(id));
      assert.match(sh(again.path, 'show', `${String(kept.payload.keptRef)}:unsaved.txt`), /A died/, 'its unsaved state is kept in a ref, not destroyed');
      assert.equal(again.resumedFrom?.seq, cpB.seq);
      assert.deepEqual(listing(again.path), state, "B's work is there; A's stale files are not");
      assert.ok(await a2.current(id), 'and that worktree is current');
    });
  });

  it('a worktree whose own newest checkpoint was recorded without its record saying so (killed in between, retried, adopted by gc) is kept', async () => {
    await withTwoFactories(async ({ f, store, root }) => {
      const { id, wa, cp } = await f.begunOnA('step_done');
      writeFileSync(join(wa.path, 'after.txt'), 'A goes on\n');
      // What a SIGKILL between recording the row and updating the record leaves: the record one behind.
      const recFile = join(root, 'home-a', 'workspace-state', 'demo', id, 'workspace.json');
      writeFileSync(recFile, JSON.stringify({ ...JSON.parse(readFileSync(recFile, 'utf8')), syncedSeq: null }));
      const a2 = f.restart('a').ws;
      const live = await a2.current(id);
      assert.equal(live?.path, wa.path, 'the newest checkpoint is this worktree\'s own: it is not stale');
      assert.ok(!(await store.events.list({ taskId: id, limit: 100 })).some((e) => e.type === 'workspace.superseded'));
      assert.equal(readFileSync(join(wa.path, 'after.txt'), 'utf8'), 'A goes on\n', 'nothing set aside');
      assert.equal(JSON.parse(readFileSync(recFile, 'utf8')).syncedSeq, cp.seq, 'and the record catches up');
    });
  });

  it('a stale worktree is never checkpointed over the newer work, and its teardown sets it aside', async () => {
    await withTwoFactories(async ({ f, store }) => {
      const { id, wa } = await f.begunOnA('debounce');
      const wb = await f.b.ws.provision(f.b.req(id));
      writeFileSync(join(wb.path, 'b.txt'), 'B finished it\n');
      const cpB = (await f.b.ws.checkpoint(id, { step: 'implement', reason: 'step_done' })).checkpoint;
      // A never learned it lost the task: its flush and its teardown come later.
      writeFileSync(join(wa.path, 'late.txt'), 'A, late\n');
      await assert.rejects(f.a.ws.checkpoint(id, { step: 'implement', reason: 'debounce' }), /moved on/);
      assert.equal((await new CheckpointRepoSql(store).latest(id))?.sha, cpB.sha, 'nothing recorded over B\'s work');
      const t = await f.a.ws.teardown(id, { checkpoint: true });
      assert.deepEqual([t.removed, t.finalCheckpoint], [true, null]);
      assert.equal((await new CheckpointRepoSql(store).latest(id))?.sha, cpB.sha);
      const kept = (await store.events.list({ taskId: id, limit: 100 })).find((e) => e.type === 'workspace.superseded');
      const again = await f.a.ws.provision(f.a.req(id));
      assert.equal(again.resumedFrom?.seq, cpB.seq, 'given the task again, A resumes from B\'s work');
      assert.match(sh(again.path, 'show', `${String(kept?.payload.keptRef)}:late.txt`), /A, late/, 'its stale state is kept in a ref');
    });
  });

  it('a checkpoint that waited while its worktree was set aside and provisioned again records nothing', async () => {
    await withTwoFactories(async ({ f, store, root }) => {
      const { id, wa, cp: cp1 } = await f.begunOnA('debounce');
      const layout = new Layout(join(root, 'home-a'));
      const before = (await loadRecord(layout, 'demo', id))!; // read before the task lock, as checkpoint() does
      await f.a.ws.quarantine(id, 'test');
      const again = await f.a.ws.provision(f.a.req(id));
      assert.equal(again.path, wa.path, 'the same path, another worktree');
      writeFileSync(join(again.path, 'half.txt'), 'provisioning not finished\n');
      const ctx = { layout, repo: new CheckpointRepoSql(store) };
      await assert.rejects(withTaskLock(id, () => checkpointLocked(ctx, before, { step: 'implement', reason: 'debounce' })), /replaced/);
      assert.equal((await new CheckpointRepoSql(store).latest(id))?.seq, cp1.seq, 'nothing recorded');
    });
  });

  it('teardown accepts a state that is pushed even without a checkpoint, and refuses when it is not', async () => {
    await withTwoFactories(async ({ f }) => {
      const id = await f.newTaskId();
      const w = await f.a.ws.provision(f.a.req(id));
      writeFileSync(join(w.path, 'feature.txt'), 'f\n');
      sh(w.path, 'add', 'feature.txt');
      sh(w.path, 'commit', '-q', '-m', 'feature');
      writeFileSync(join(w.path, 'scratch.txt'), 'not pushed\n');
      await assert.rejects(f.a.ws.teardown(id, { checkpoint: false }), /not pushed/);
      rmSync(join(w.path, 'scratch.txt'));
      await assert.rejects(f.a.ws.teardown(id, { checkpoint: false }), /not pushed/, 'committed but not pushed');
      sh(w.path, 'push', '-q', 'origin', `gantry/${id}`);
      const t = await f.a.ws.teardown(id, { checkpoint: false });
      assert.equal(t.removed, true);
      assert.equal(t.finalCheckpoint, null);
    });
  });
});
