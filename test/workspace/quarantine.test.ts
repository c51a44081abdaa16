// A lost lease's work (WorkspacePort.quarantine): kept as a local ref, never a checkpoint; the
// worktree and the task branch go, so the next provisioning starts from the latest recorded checkpoint.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withStore } from '../support/db.js';
import { harness, sh } from './support.js';

describe('workspace quarantine (real git)', () => {
  it("keeps the lost lease's work as refs/gantry/quarantine/<task>/<label>; the next provisioning resumes from the last checkpoint without it", async () => {
    await withStore('sqlite', async (store) => {
      const h = await harness(store);
      try {
        const id = await h.newTaskId();
        const ws = await h.ws.provision(h.request(id));
        writeFileSync(join(ws.path, 'kept.txt'), 'checkpointed\n');
        const cp = (await h.ws.checkpoint(id, { step: 'implement', reason: 'step_done' })).checkpoint;
        // Work of the lease that was then lost: a commit on the task branch and an uncommitted file.
        writeFileSync(join(ws.path, 'stale.txt'), 'lost lease\n');
        sh(ws.path, 'add', 'stale.txt');
        sh(ws.path, '-c', 'user.name=t', '-c', 'user.email=t@x', 'commit', '-q', '-m', 'stale');
        writeFileSync(join(ws.path, 'loose.txt'), 'uncommitted\n');

        const kept = await h.ws.quarantine(id, 'epoch-1');
        assert.equal(kept?.ref, `refs/gantry/quarantine/${id}/epoch-1`);
        assert.equal(sh(h.mirror, 'rev-parse', kept!.ref), kept!.sha);
        assert.deepEqual(sh(h.mirror, 'ls-tree', '--name-only', kept!.ref).split('\n').filter((x) => x.endsWith('.txt')).sort(), ['kept.txt', 'loose.txt', 'stale.txt']);
        assert.equal(existsSync(ws.path), false, 'the worktree is gone');
        assert.equal(await h.ws.get(id), undefined);
        assert.equal(sh(h.mirror, 'branch', '--list', `gantry/${id}`), '', 'the task branch is gone');
        assert.deepEqual((await h.ws.listCheckpoints(id)).map((c) => c.seq), [cp.seq], 'no checkpoint row for the quarantined work');

        const again = await h.ws.provision({ ...h.request(id), resume: true });
        assert.equal(readFileSync(join(again.path, 'kept.txt'), 'utf8'), 'checkpointed\n', 'resumed from the last checkpoint');
        assert.equal(existsSync(join(again.path, 'stale.txt')), false, "the lost lease's commit is not in the new worktree");
        assert.equal(existsSync(join(again.path, 'loose.txt')), false);
        assert.equal(await h.ws.quarantine('t-nothere', 'epoch-1'), null, 'no workspace here: nothing to keep');

        // No checkpoint at all: the next lease starts from the base, not from the lost lease's branch.
        const id2 = await h.newTaskId();
        const ws2 = await h.ws.provision(h.request(id2));
        writeFileSync(join(ws2.path, 'stale.txt'), 'lost lease\n');
        sh(ws2.path, 'add', 'stale.txt');
        sh(ws2.path, '-c', 'user.name=t', '-c', 'user.email=t@x', 'commit', '-q', '-m', 'stale');
        assert.ok(await h.ws.quarantine(id2, 'epoch-1'));
        const fresh = await h.ws.provision({ ...h.request(id2), resume: true });
        assert.equal(existsSync(join(fresh.path, 'stale.txt')), false, 'started afresh from the base');
      } finally {
        h.dispose();
      }
    });
  });
});
