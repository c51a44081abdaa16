import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decideGc, type WorkspaceFacts } from '../../src/domain/workspace-gc.js';
import { saveRecord } from '../../src/workspace/state-record.js';
import { withStore } from '../support/db.js';
import { harness, sh } from './support.js';

describe('gc decider (pure)', () => {
  const f = (over: Partial<WorkspaceFacts>): WorkspaceFacts => ({ taskId: 't', status: 'ready', dirExists: true, registered: true, taskTerminal: false, ...over });
  const table: [string, WorkspaceFacts, string][] = [
    ['live task', f({}), 'keep'],
    ['terminal task', f({ taskTerminal: true }), 'teardown'],
    ['unknown task', f({ taskTerminal: null }), 'teardown'],
    ['interrupted provisioning', f({ status: 'provisioning' }), 'clean_interrupted'],
    ['interrupted teardown resumes, checkpoint first', f({ status: 'removing' }), 'teardown'],
    ['record without directory', f({ dirExists: false }), 'forget'],
    ['unrecorded worktree may hold work', f({ status: 'none' }), 'teardown'],
    ['stray directory', f({ status: 'none', registered: false }), 'remove_orphan'],
    ['stale registration', f({ status: 'none', dirExists: false }), 'remove_orphan'],
  ];
  for (const [name, facts, want] of table) it(name, () => assert.equal(decideGc(facts), want));
});

describe('teardown and gc (real git)', () => {
  it('refuses to drop unsaved work, and --force still takes what it can', async () => {
    await withStore('sqlite', async (store) => {
      const h = await harness(store);
      try {
        const id = await h.newTaskId();
        const ws = await h.ws.provision(h.request(id));
        writeFileSync(join(ws.path, 'work.txt'), 'precious\n');
        // Asked to skip its checkpoint, teardown finds work in no checkpoint and refuses.
        await assert.rejects(h.ws.teardown(id, { checkpoint: false }), /refusing to remove .* changes that are in no checkpoint/);
        assert.ok(existsSync(join(ws.path, 'work.txt')));
        assert.ok(await h.ws.get(id), 'still a live workspace');

        // A nested repository without a commit cannot be snapshotted: the final checkpoint fails, refuse again.
        breakSnapshots(ws.path);
        await assert.rejects(h.ws.teardown(id), /refusing to remove .* final checkpoint failed/);
        assert.ok(existsSync(ws.path));
        const evs = await store.events.list({ taskId: id, limit: 500 });
        assert.equal(evs.filter((e) => e.type === 'workspace.teardown_refused').length, 2);

        rmSync(join(ws.path, 'nested'), { recursive: true });
        const t = await h.ws.teardown(id);
        assert.equal(t.removed, true);
        assert.equal(sh(h.mirror, 'show', `${t.finalCheckpoint!.sha}:work.txt`), 'precious');
        assert.equal(existsSync(ws.path), false);
        assert.equal(sh(h.mirror, 'worktree', 'list').split('\n').length, 1);
        assert.equal(await h.ws.get(id), undefined);

        const id2 = await h.newTaskId();
        const ws2 = await h.ws.provision(h.request(id2));
        writeFileSync(join(ws2.path, 'w.txt'), 'w\n');
        breakSnapshots(ws2.path);
        const forced = await h.ws.teardown(id2, { force: true });
        assert.equal(forced.forced, true);
        assert.equal(existsSync(ws2.path), false);
        assert.ok((await store.events.list({ taskId: id2, limit: 500 })).some((e) => e.type === 'workspace.teardown_forced'));
      } finally {
        h.dispose();
      }
    });
  });

  it('gc tears down finished tasks (checkpoint first), repairs interrupted provisioning and removes orphans', async () => {
    await withStore('sqlite', async (store) => {
      const h = await harness(store);
      try {
        const live = await h.newTaskId();
        const done = await h.newTaskId();
        const wsLive = await h.ws.provision(h.request(live));
        const wsDone = await h.ws.provision(h.request(done));
        writeFileSync(join(wsDone.path, 'result.txt'), 'r\n');
        // Task worktrees come from the factory's mirror of the project: checkpoints live there.
        const mirror = sh(wsDone.path, 'rev-parse', '--path-format=absolute', '--git-common-dir');
        const t = (await store.tasks.get(done))!;
        await store.tasks.setStage(done, t.rev, 'cancelled', null, { type: 'task.cancelled', taskId: done });

        // An interrupted provisioning: a record saying so, a worktree and branch half made.
        const half = await h.newTaskId();
        const halfPath = join(h.home, 'workspaces', 'demo', half);
        sh(h.repo, 'worktree', 'add', '-q', '-b', `gantry/${half}`, halfPath, 'main');
        await saveRecord(h.ws.layout, {
          taskId: half, projectId: h.projectId, projectName: 'demo', repoPath: h.repo, path: halfPath, branch: `gantry/${half}`,
          baseSha: '', port: null, status: 'provisioning', createdBranch: true, placed: [], resumedFromSeq: null,
        });
        // A stray directory with no record and no registration.
        mkdirSync(join(h.home, 'workspaces', 'demo', 'stray'), { recursive: true });

        const actions = await h.ws.gc();
        const by = Object.fromEntries(actions.map((a) => [a.taskId, a.action]));
        assert.deepEqual(by, { [done]: 'teardown', [half]: 'clean_interrupted', stray: 'remove_orphan' });
        assert.ok(actions.every((a) => !a.error));
        assert.ok(existsSync(wsLive.path));
        assert.equal(existsSync(wsDone.path), false);
        const cps = await h.ws.listCheckpoints(done);
        assert.equal(sh(mirror, 'show', `${cps.at(-1)!.sha}:result.txt`), 'r');
        assert.equal(existsSync(halfPath), false);
        assert.equal(sh(h.repo, 'branch', '--list', `gantry/${half}`), '');
        assert.equal(existsSync(join(h.home, 'workspaces', 'demo', 'stray')), false);
        assert.equal(sh(h.repo, 'worktree', 'list').split('\n').length, 1, 'the user checkout gains no worktree');
        assert.equal(sh(mirror, 'worktree', 'list').split('\n').length, 2, 'the mirror (bare) and the live task');
        assert.deepEqual(await h.ws.gc(), [], 'a second pass finds nothing to do');
      } finally {
        h.dispose();
      }
    });
  });
});

function breakSnapshots(path: string): void {
  mkdirSync(join(path, 'nested'));
  sh(join(path, 'nested'), 'init', '-q');
  writeFileSync(join(path, 'nested', 'f'), 'x');
}
