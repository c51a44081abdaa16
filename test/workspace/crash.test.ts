// SIGKILL during provisioning or checkpointing leaves a state the next start repairs.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withStore } from '../support/db.js';
import { harness, sh } from './support.js';

const here = new URL('.', import.meta.url).pathname;

function child(args: string[]) {
  return spawn(process.execPath, ['--import', 'tsx', join(here, 'crash-child.ts'), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 3000; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('separate processes', () => {
  it('three processes provisioning three workspaces each on one repository never race on git locks or ports', async () => {
    await withStore('sqlite', async (store, db) => {
      const h = await harness(store);
      try {
        const groups = await Promise.all([0, 1, 2].map(async () => (await Promise.all([0, 1, 2].map(() => h.newTaskId()))).join(',')));
        const results = await Promise.all(
          groups.map(
            (ids) =>
              new Promise<number[]>((resolve, reject) => {
                const p = child(['provision-many', db.target, h.home, h.repo, h.projectId, ids, '-']);
                let out = '';
                p.stdout.on('data', (b: Buffer) => (out += b.toString()));
                p.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as number[]) : reject(new Error(`child exited ${code}`))));
              }),
          ),
        );
        const ports = results.flat();
        assert.equal(ports.length, 9);
        assert.equal(new Set(ports).size, 9, 'ports unique across processes');
        assert.equal(sh(h.mirror, 'worktree', 'list').split('\n').length, 10);
      } finally {
        h.dispose();
      }
    });
  });
});

describe('crash recovery (SIGKILL)', () => {
  it('a factory killed mid-provisioning leaves a workspace that gc cleans and provisioning can redo', async () => {
    await withStore('sqlite', async (store, db) => {
      const h = await harness(store);
      try {
        const id = await h.newTaskId();
        const marker = join(h.root, 'setup-running');
        const p = child(['provision', db.target, h.home, h.repo, h.projectId, id, marker]);
        const exited = new Promise((r) => p.on('exit', r));
        await until(() => existsSync(marker) && readFileSync(marker, 'utf8').trim() !== '', 'setup to start');
        p.kill('SIGKILL');
        process.kill(Number(readFileSync(marker, 'utf8').trim()), 'SIGKILL'); // the setup command's own process group
        await exited;

        const actions = await h.ws.gc();
        assert.deepEqual(actions.map((a) => [a.taskId, a.action, a.error ?? null]), [[id, 'clean_interrupted', null]]);
        assert.equal(sh(h.mirror, 'worktree', 'list').split('\n').length, 1);
        assert.equal(sh(h.mirror, 'branch', '--list', `gantry/${id}`), '');
        const ws = await h.ws.provision(h.request(id));
        assert.equal(sh(ws.path, 'status', '--porcelain'), '');
      } finally {
        h.dispose();
      }
    });
  });

  it('a factory killed mid-provisioning: the next provisioning of that task (its next claim) repairs and redoes it', async () => {
    await withStore('sqlite', async (store, db) => {
      const h = await harness(store);
      try {
        const id = await h.newTaskId();
        const marker = join(h.root, 'setup-running');
        const p = child(['provision', db.target, h.home, h.repo, h.projectId, id, marker]);
        const exited = new Promise((r) => p.on('exit', r));
        await until(() => existsSync(marker) && readFileSync(marker, 'utf8').trim() !== '', 'setup to start');
        p.kill('SIGKILL');
        process.kill(Number(readFileSync(marker, 'utf8').trim()), 'SIGKILL'); // the setup command's own process group
        await exited;
        assert.equal(sh(h.mirror, 'worktree', 'list').split('\n').length, 2, 'the killed provisioning left its worktree behind (in the mirror: the bare repo and it)');

        // No gc in between: the task is simply provisioned again, as its next claim does.
        const ws = await h.ws.provision(h.request(id));
        assert.equal(sh(ws.path, 'status', '--porcelain'), '');
        assert.equal(sh(h.mirror, 'worktree', 'list').split('\n').length, 2, 'one worktree: the new one');
        const repaired = (await store.events.list({ taskId: id, limit: 100 })).filter((e) => e.type === 'workspace.repaired');
        assert.deepEqual(repaired.map((e) => [e.payload.was, e.payload.action]), [['provisioning', 'clean_interrupted']]);
        assert.deepEqual(await h.ws.gc(), [], 'nothing left for gc');
        // A second provisioning of a ready workspace stays idempotent.
        assert.equal((await h.ws.provision(h.request(id))).path, ws.path);
      } finally {
        h.dispose();
      }
    });
  });

  it('a process killed while checkpointing leaves refs and rows that the next start reconciles', async () => {
    await withStore('sqlite', async (store, db) => {
      const h = await harness(store);
      try {
        const id = await h.newTaskId();
        for (const after of [3, 9, 15]) {
          const p = child(['checkpoint', db.target, h.home, h.repo, h.projectId, id, '-']);
          let lines = 0;
          p.stdout.on('data', (b: Buffer) => (lines += b.toString().split('\n').length - 1));
          const exited = new Promise((r) => p.on('exit', r));
          await until(() => lines >= after, `${after} checkpoints`);
          await new Promise((r) => setTimeout(r, (after * 7) % 13)); // land somewhere inside the next checkpoint
          p.kill('SIGKILL');
          await exited;

          await h.ws.gc();
          const rows = await h.ws.listCheckpoints(id);
          const refs = sh(h.mirror, 'for-each-ref', '--format=%(refname) %(objectname)', `refs/gantry/checkpoints/${id}/`).split('\n').filter(Boolean);
          assert.deepEqual(refs.map((r) => r.split(' ')[0]).sort(), rows.map((r) => r.ref).sort(), 'every ref has its row and every row its ref');
          for (const r of rows) assert.ok(refs.includes(`${r.ref} ${r.sha}`));
          rows.forEach((r, i) => assert.equal(r.seq, i + 1, 'seqs stay dense'));
          for (let i = 1; i < rows.length; i++) assert.equal(rows[i]!.parentSha, rows[i - 1]!.sha, 'the chain is intact');
          // And the next checkpoint works (a stale private-index lock, if any, is repaired).
          const ws = (await h.ws.get(id))!;
          writeFileSync(join(ws.path, `after-${after}.txt`), 'x');
          const next = await h.ws.checkpoint(id, { reason: 'after crash' });
          assert.equal(next.checkpoint.seq, rows.length + 1);
          assert.ok(readdirSync(ws.path).includes(`after-${after}.txt`));
        }
      } finally {
        h.dispose();
      }
    });
  });

  it('repairs each leftover a kill can leave, deterministically: a private-index lock, a ref without its row', async () => {
    await withStore('sqlite', async (store) => {
      const h = await harness(store);
      try {
        const id = await h.newTaskId();
        const ws = await h.ws.provision(h.request(id));
        await h.ws.checkpoint(id, { reason: 'one' });
        // Killed inside `git add`: git's lock on the private index stays behind.
        writeFileSync(join(h.ws.layout.privateIndex('demo', id) + '.lock'), '');
        writeFileSync(join(ws.path, 'x.txt'), 'x');
        assert.equal((await h.ws.checkpoint(id, { reason: 'two' })).checkpoint.seq, 2);
        // Killed between update-ref and the row: a ref #3 chained on #2 with no row. gc adopts it.
        writeFileSync(join(ws.path, 'y.txt'), 'y');
        const two = (await h.ws.listCheckpoints(id)).at(-1)!;
        const tree = sh(h.mirror, 'rev-parse', `${two.sha}^{tree}`);
        const orphan = sh(h.mirror, 'commit-tree', tree, '-p', two.sha, '-m', 'gantry checkpoint\n\nstep: build\nreason: loop');
        // (A checkpoint saves its commit as the worktree's own in the record before it writes the ref.)
        const recFile = h.ws.layout.record('demo', id);
        writeFileSync(recFile, JSON.stringify({ ...JSON.parse(readFileSync(recFile, 'utf8')), ownSha: orphan }));
        sh(h.mirror, 'update-ref', `refs/gantry/checkpoints/${id}/3`, orphan);
        // And a ref that does not extend the chain is dropped.
        sh(h.mirror, 'update-ref', `refs/gantry/checkpoints/${id}/7`, orphan);
        await h.ws.gc();
        const rows = await h.ws.listCheckpoints(id);
        assert.deepEqual(rows.map((r) => [r.seq, r.reason]), [[1, 'one'], [2, 'two'], [3, 'recovered']]);
        assert.equal(rows[2]!.sha, orphan);
        assert.equal(sh(h.mirror, 'for-each-ref', `refs/gantry/checkpoints/${id}/7`), '');
        assert.equal((await h.ws.checkpoint(id, { reason: 'four' })).checkpoint.seq, 4);
      } finally {
        h.dispose();
      }
    });
  });
});
