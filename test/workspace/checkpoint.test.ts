import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { storeCases, withStore } from '../support/db.js';
import { harness, listing, sh } from './support.js';
import { CheckpointRepoSql } from '../../src/store/checkpoint-repo.js';
import { newTask, project } from '../support/fixtures.js';
import { coordinator, register } from '../fleet/support.js';

const hashFile = (p: string) => createHash('sha1').update(readFileSync(p)).digest('hex');
/** Everything except ignored files and directories. */
const notIgnored = (r: string) => r === 'build' || r.startsWith('build/') || r.endsWith('.log') || r === '.env';

for (const c of storeCases()) {
  describe(`checkpoint rows: ${c.kind}`, { skip: c.skip }, () => {
    it('inserts with its event, lists in order, refuses a duplicate seq', async () => {
      await withStore(c.kind, async (s) => {
        const repo = new CheckpointRepoSql(s);
        const t = (await s.tasks.submit(newTask(await project(s)))).task.id;
        const base = { taskId: t, ref: 'r', parentSha: null, step: 'implement', reason: 'step_end', filesChanged: 2, linesAdded: 3, linesRemoved: 1 };
        await repo.insert({ ...base, seq: 1, sha: 'a'.repeat(40) });
        await repo.insert({ ...base, seq: 2, sha: 'b'.repeat(40), parentSha: 'a'.repeat(40) });
        await assert.rejects(repo.insert({ ...base, seq: 2, sha: 'c'.repeat(40) }), /already exists/);
        // The same checkpoint again (a retry whose first answer was lost) gets the row it recorded, no second event.
        const again = await repo.insert({ ...base, seq: 2, sha: 'b'.repeat(40), parentSha: 'a'.repeat(40) });
        assert.deepEqual([again.seq, again.sha], [2, 'b'.repeat(40)]);
        assert.deepEqual((await repo.list(t)).map((x) => x.seq), [1, 2]);
        assert.equal((await repo.latest(t))?.sha, 'b'.repeat(40));
        const evs = await s.events.list({ taskId: t });
        assert.equal(evs.filter((e) => e.type === 'checkpoint.created').length, 2);
      });
    });
  });
}

for (const c of storeCases()) {
  describe(`checkpoint rows of a host: ${c.kind}`, { skip: c.skip }, () => {
    it('a host records a checkpoint of a task only while no factory holds it or one of its own does', async () => {
      await withStore(c.kind, async (s) => {
        const fleet = coordinator(s, { leaseTtlMs: 60_000, staleMs: 90_000 });
        const t = (await s.tasks.submit(newTask(await project(s)))).task.id;
        const here = new CheckpointRepoSql(s, { holders: ['f-here'] });
        const row = (seq: number) => ({ taskId: t, seq, ref: `r${seq}`, sha: String(seq).repeat(40), parentSha: null, step: null, reason: 'debounce', filesChanged: 0, linesAdded: 0, linesRemoved: 0 });
        await here.insert(row(1)); // queued: nobody holds it
        await register(fleet, 'f-remote');
        await register(fleet, 'f-here');
        const g = (await fleet.claim({ factoryId: 'f-remote' }, { factoryId: 'f-remote' }))!;
        // A late flush of this host's worktree while a factory elsewhere holds the task is not the task's work.
        await assert.rejects(here.insert(row(2)), (e: unknown) => (e as { code?: string }).code === 'stale_epoch');
        assert.equal((await here.latest(t))?.seq, 1);
        await fleet.release(t, { leaseEpoch: g.leaseEpoch, outcome: 'abandoned' }, { factoryId: 'f-remote' });
        const mine = (await fleet.claim({ factoryId: 'f-here' }, { factoryId: 'f-here' }))!;
        assert.equal(mine.task.id, t);
        assert.equal((await here.insert(row(2))).seq, 2, 'held here: recorded');
        assert.equal((await new CheckpointRepoSql(s).insert(row(3))).seq, 3, 'a repository with no holders given (the fenced engine API) records as before');
      });
    });
  });
}

describe('checkpoints, diff and rollback (real git)', () => {
  it('sees a same-size edit made in the same clock tick as the checkout (racy git)', async () => {
    await withStore('sqlite', async (store) => {
      const h = await harness(store);
      try {
        const id = await h.newTaskId();
        const ws = await h.ws.provision(h.request(id));
        const file = join(ws.path, 'README.md');
        const index = resolve(ws.path, sh(ws.path, 'rev-parse', '--git-path', 'index'));
        // An edit git can only catch through its racy-entry check: same size, the same mtime the index
        // recorded, and the index itself written in that same clock tick (as when an agent edits right
        // after the checkout). ctime is left out of the comparison, as it can fall in the same tick too.
        sh(ws.path, 'config', 'core.trustctime', 'false');
        const tick = `@${Math.floor(Date.now() / 1000) - 100}`;
        execFileSync('touch', ['-d', tick, file]);
        sh(ws.path, 'update-index', '--refresh');
        writeFileSync(file, 'HELLO\n');
        execFileSync('touch', ['-d', tick, file]);
        execFileSync('touch', ['-d', tick, index]);
        const { checkpoint } = await h.ws.checkpoint(id, { step: 'implement', reason: 'step_end' });
        assert.equal(sh(h.mirror, 'show', `${checkpoint.sha}:README.md`), 'HELLO');
      } finally {
        h.dispose();
      }
    });
  });

  it('snapshots tracked + untracked, excludes ignored and placed files, chains refs, and never touches the agent index or HEAD', async () => {
    await withStore('sqlite', async (store) => {
      const h = await harness(store);
      try {
        writeFileSync(join(h.repo, '.env'), 'SECRET=1\n');
        const id = await h.newTaskId();
        const ws = await h.ws.provision(h.request(id, { files: ['.env'] }));
        writeFileSync(join(ws.path, 'src', 'a.ts'), 'export const a = 42;\nexport const x = 0;\n');
        writeFileSync(join(ws.path, 'new.txt'), 'untracked\n');
        sh(ws.path, 'add', 'src/a.ts'); // the agent staged something: that must survive as it is
        writeFileSync(join(ws.path, 'debug.log'), 'ignored\n');
        unlinkSync(join(ws.path, 'src', 'b.ts'));
        const indexFile = sh(ws.path, 'rev-parse', '--path-format=absolute', '--git-path', 'index');
        const before = { index: hashFile(indexFile), head: sh(ws.path, 'rev-parse', 'HEAD'), status: sh(ws.path, 'status', '--porcelain') };

        const r1 = await h.ws.checkpoint(id, { step: 'implement', reason: 'step_end' });
        assert.equal(r1.created, true);
        const cp = r1.checkpoint;
        assert.equal(cp.seq, 1);
        assert.equal(cp.ref, `refs/gantry/checkpoints/${id}/1`);
        assert.equal(sh(h.mirror, 'rev-parse', cp.ref), cp.sha);
        assert.equal(cp.parentSha, ws.baseSha);
        assert.deepEqual([cp.filesChanged, cp.linesAdded, cp.linesRemoved], [3, 3, 2]);
        const files = sh(h.mirror, 'ls-tree', '-r', '--name-only', cp.sha).split('\n');
        assert.ok(files.includes('new.txt') && files.includes('src/a.ts'));
        assert.ok(!files.includes('src/b.ts') && !files.includes('debug.log') && !files.includes('.env'));

        assert.deepEqual({ index: hashFile(indexFile), head: sh(ws.path, 'rev-parse', 'HEAD'), status: sh(ws.path, 'status', '--porcelain') }, before);

        const same = await h.ws.checkpoint(id, { step: 'implement', reason: 'debounce' });
        assert.equal(same.created, false, 'an unchanged worktree is not checkpointed twice');
        writeFileSync(join(ws.path, 'new.txt'), 'changed\n');
        const cp2 = (await h.ws.checkpoint(id, { step: 'review', reason: 'step_end' })).checkpoint;
        assert.equal(cp2.seq, 2);
        assert.equal(cp2.parentSha, cp.sha);
        assert.equal(sh(h.mirror, 'rev-parse', `${cp2.sha}^1`), cp.sha);
        assert.deepEqual([cp2.filesChanged, cp2.linesAdded, cp2.linesRemoved], [1, 1, 1]);

        const d = await h.ws.diff(id, 1, 2);
        assert.deepEqual(d.files, [{ path: 'new.txt', status: 'modified', added: 1, removed: 1 }]);
        assert.match(d.patch, /-untracked\n\+changed/);
        const fromBase = await h.ws.diff(id);
        assert.deepEqual(fromBase.files.map((f) => `${f.status}:${f.path}`).sort(), ['added:new.txt', 'deleted:src/b.ts', 'modified:src/a.ts']);
        await assert.rejects(h.ws.diff(id, 9), /checkpoint 9 .* not found/);
        await assert.rejects(h.ws.diff(id, 'no such thing!'), /is not a checkpoint/);
        // A sha names one of this task's checkpoints (or its base), never any other commit the repository holds.
        assert.deepEqual((await h.ws.diff(id, cp.sha.slice(0, 12), cp2.sha)).files, d.files);
        assert.deepEqual((await h.ws.diff(id, cp.parentSha!, cp.sha)).files, (await h.ws.diff(id, 'base', 1)).files);
        const foreign = sh(h.mirror, 'commit-tree', '-m', 'not this task’s', `${cp2.sha}^{tree}`);
        await assert.rejects(h.ws.diff(id, foreign, 2), /commit [0-9a-f]{12}\S* is not a checkpoint of task/);
        await assert.rejects(h.ws.diff(id, 1, foreign.slice(0, 9)), /is not a checkpoint of task/);

        // While an agent works: a burst of activity becomes one debounced checkpoint.
        const act = h.ws.activity(id, 'implement');
        writeFileSync(join(ws.path, 'burst.txt'), '1');
        act.poke();
        act.poke();
        await act.stop();
        const last = (await h.ws.listCheckpoints(id)).at(-1)!;
        assert.deepEqual([last.seq, last.reason, last.step], [3, 'debounce', 'implement']);
      } finally {
        h.dispose();
      }
    });
  });

  it('rollback restores a byte-identical tree (untracked files, deletions, modes, symlinks) and never touches ignored files', async () => {
    await withStore('sqlite', async (store) => {
      const h = await harness(store);
      try {
        const id = await h.newTaskId();
        const ws = await h.ws.provision(h.request(id));
        // State A: modified, untracked, deleted, executable, symlink, nested dirs.
        writeFileSync(join(ws.path, 'src', 'a.ts'), 'A-version\n');
        mkdirSync(join(ws.path, 'deep', 'er'), { recursive: true });
        writeFileSync(join(ws.path, 'deep', 'er', 'u.txt'), 'untracked in A\n');
        writeFileSync(join(ws.path, 'run.sh'), '#!/bin/sh\n');
        chmodSync(join(ws.path, 'run.sh'), 0o755);
        symlinkSync('src/a.ts', join(ws.path, 'link'));
        unlinkSync(join(ws.path, 'README.md'));
        const stateA = listing(ws.path, notIgnored);
        const cpA = (await h.ws.checkpoint(id, { reason: 'test' })).checkpoint;

        // State B: everything different, plus ignored files that must survive a rollback untouched.
        writeFileSync(join(ws.path, 'src', 'a.ts'), 'B-version\n');
        rmSync(join(ws.path, 'deep'), { recursive: true });
        writeFileSync(join(ws.path, 'README.md'), 'back\n');
        writeFileSync(join(ws.path, 'b-only.txt'), 'new in B\n');
        chmodSync(join(ws.path, 'run.sh'), 0o644);
        unlinkSync(join(ws.path, 'link'));
        writeFileSync(join(ws.path, 'link'), 'now a file\n');
        mkdirSync(join(ws.path, 'build'));
        writeFileSync(join(ws.path, 'build', 'out.js'), 'artifact\n');
        writeFileSync(join(ws.path, 'trace.log'), 'log\n');
        const stateB = listing(ws.path, notIgnored);
        const ignoredBefore = listing(ws.path, (r) => !notIgnored(r) && !['build'].includes(r) && r.split('/')[0] !== 'build');

        const r = await h.ws.rollback(id, cpA.seq);
        assert.deepEqual(listing(ws.path, notIgnored), stateA, 'byte-identical to checkpoint A');
        assert.deepEqual(listing(ws.path, (r2) => !notIgnored(r2) && r2.split('/')[0] !== 'build'), ignoredBefore, 'ignored files untouched');
        assert.equal(readFileSync(join(ws.path, 'build', 'out.js'), 'utf8'), 'artifact\n');
        assert.equal(r.safety.reason, 'before_rollback');

        // The safety checkpoint makes the rollback itself reversible.
        await h.ws.rollback(id, r.safety.seq);
        assert.deepEqual(listing(ws.path, notIgnored), stateB);

        // Paths-only: just src/a.ts goes back to A.
        await h.ws.rollback(id, cpA.seq, { paths: ['src/a.ts'] });
        assert.equal(readFileSync(join(ws.path, 'src', 'a.ts'), 'utf8'), 'A-version\n');
        assert.equal(readFileSync(join(ws.path, 'b-only.txt'), 'utf8'), 'new in B\n');
        await assert.rejects(h.ws.rollback(id, cpA.seq, { paths: ['../etc/passwd'] }), /not inside the workspace/);

        // Full rollback to base removes everything the task did.
        await h.ws.rollback(id, 'base');
        assert.equal(sh(ws.path, 'status', '--porcelain', '--untracked-files=all'), '');
        const evs = await store.events.list({ taskId: id, limit: 500 });
        assert.equal(evs.filter((e) => e.type === 'workspace.rolled_back').length, 4);
      } finally {
        h.dispose();
      }
    });
  });

  it('resumes a torn-down task from its latest checkpoint: files and the agent HEAD come back', async () => {
    await withStore('sqlite', async (store) => {
      const h = await harness(store);
      try {
        const id = await h.newTaskId();
        const ws = await h.ws.provision(h.request(id));
        writeFileSync(join(ws.path, 'committed.txt'), 'c\n');
        sh(ws.path, 'add', 'committed.txt');
        sh(ws.path, '-c', 'user.name=a', '-c', 'user.email=a@a', 'commit', '-q', '-m', 'agent commit');
        const head = sh(ws.path, 'rev-parse', 'HEAD');
        writeFileSync(join(ws.path, 'wip.txt'), 'work in progress\n');
        unlinkSync(join(ws.path, 'src', 'b.ts'));
        const state = listing(ws.path, notIgnored);
        const t = await h.ws.teardown(id);
        assert.equal(t.removed, true);
        assert.equal(t.finalCheckpoint?.reason, 'teardown');

        const again = await h.ws.provision(h.request(id));
        assert.equal(again.resumedFrom?.seq, t.finalCheckpoint!.seq);
        assert.equal(sh(again.path, 'rev-parse', 'HEAD'), head);
        assert.deepEqual(listing(again.path, notIgnored), state);
      } finally {
        h.dispose();
      }
    });
  });
});
