import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { withStore } from '../support/db.js';
import { harness, sh } from './support.js';
import type { StepDef } from '../../src/lib/step-runner.js';
import type { ProvisionState } from '../../src/workspace/provision-plan.js';
import { isStaleLock, lockNamedBy, STALE_REF_LOCK_MS } from '../../src/workspace/worktree-ops.js';

describe('workspace provisioning (real git, SQLite store)', () => {
  it('creates the worktree on gantry/<task>, places files, allocates a port, writes agent files, logs step events', async () => {
    await withStore('sqlite', async (store) => {
      const h = await harness(store);
      try {
        writeFileSync(join(h.repo, '.env'), 'SECRET=1\n');
        writeFileSync(join(h.repo, 'shared.json'), '{}\n');
        const id = await h.newTaskId();
        const before = await store.events.latestSeq();
        const ws = await h.ws.provision(h.request(id, {
          files: ['.env', { path: 'shared.json', mode: 'link' }, 'missing.txt'],
          ports: { from: 5100, to: 5199 },
        }, { agentFiles: [{ path: 'settings.json', content: '{"hooks":{}}' }] }));
        assert.equal(ws.path, join(h.home, 'workspaces', 'demo', id));
        assert.equal(ws.branch, `gantry/${id}`);
        assert.equal(sh(ws.path, 'rev-parse', '--abbrev-ref', 'HEAD'), `gantry/${id}`);
        assert.equal(ws.baseSha, sh(h.repo, 'rev-parse', 'main'));
        assert.equal(readFileSync(join(ws.path, '.env'), 'utf8'), 'SECRET=1\n');
        assert.ok(lstatSync(join(ws.path, 'shared.json')).isSymbolicLink());
        assert.ok(ws.port! >= 5100 && ws.port! <= 5199);
        assert.equal(readFileSync(join(ws.agentDir, 'settings.json'), 'utf8'), '{"hooks":{}}');
        assert.ok(!ws.agentDir.startsWith(ws.path), 'agent files live outside the worktree');

        const events = await store.events.list({ after: before, taskId: id });
        const types = events.map((e) => `${e.type}:${String(e.payload.step ?? '')}`);
        assert.ok(types.includes('workspace.step_started:worktree'));
        assert.ok(types.includes('workspace.step_completed:worktree'));
        assert.ok(types.includes('workspace.step_skipped:setup'));
        assert.equal(events.at(-1)!.type, 'workspace.provisioned');
        const files = events.find((e) => e.type === 'workspace.step_completed' && e.payload.step === 'files');
        assert.match(JSON.stringify(files?.payload), /optional file missing\.txt is missing/);
        assert.equal(typeof events.find((e) => e.type === 'workspace.step_completed')!.payload.durationMs, 'number');

        const again = await h.ws.provision(h.request(id));
        assert.equal(again.path, ws.path, 'provision is idempotent for a live workspace');
      } finally {
        h.dispose();
      }
    });
  });

  it('starts from a given base (branch, sha), and rejects a base that names no commit', async () => {
    await withStore('sqlite', async (store) => {
      const h = await harness(store);
      try {
        const first = sh(h.repo, 'rev-parse', 'HEAD');
        writeFileSync(join(h.repo, 'later.txt'), 'later\n');
        sh(h.repo, 'add', 'later.txt');
        sh(h.repo, 'commit', '-q', '-m', 'later');
        sh(h.repo, 'pack-refs', '--all'); // the branch is now only in packed-refs
        const onMain = await h.ws.provision(h.request(await h.newTaskId()));
        assert.equal(onMain.baseSha, sh(h.repo, 'rev-parse', 'main'));
        const onSha = await h.ws.provision(h.request(await h.newTaskId(), {}, { base: first }));
        assert.equal(onSha.baseSha, first);
        assert.equal(existsSync(join(onSha.path, 'later.txt')), false);
        const id = await h.newTaskId();
        await assert.rejects(h.ws.provision(h.request(id, {}, { base: 'no-such-branch' })), /base no-such-branch does not name a commit/);
        assert.equal(existsSync(join(h.home, 'workspace-state', 'demo', id)), false);
      } finally {
        h.dispose();
      }
    });
  });

  it('a missing required file fails provisioning and leaves nothing behind', async () => {
    await withStore('sqlite', async (store) => {
      const h = await harness(store);
      try {
        const id = await h.newTaskId();
        await assert.rejects(h.ws.provision(h.request(id, { files: [{ path: 'nope.env', optional: false }] })), /required file nope\.env is missing/);
        assert.equal(existsSync(join(h.home, 'workspaces', 'demo', id)), false);
        assert.equal(sh(h.mirror, 'branch', '--list', `gantry/${id}`), '');
      } finally {
        h.dispose();
      }
    });
  });

  it('a project with no local checkout (added from its remote) provisions from the mirror; a required workspace file fails with the remedy, an optional one is skipped', async () => {
    await withStore('sqlite', async (store) => {
      const h = await harness(store);
      try {
        const noCheckout = (id: string, files: Array<{ path: string; optional: boolean }>) =>
          h.request(id, { files }, { project: { id: h.request(id).project.id, name: 'demo', path: '', remote: h.repo, defaultBranch: 'main' } });
        const a = await h.newTaskId();
        await assert.rejects(h.ws.provision(noCheckout(a, [{ path: '.env', optional: false }])), /required file \.env: project demo has no local checkout to copy it from/);
        assert.equal(existsSync(join(h.home, 'workspaces', 'demo', a)), false);
        const b = await h.newTaskId();
        const ws = await h.ws.provision(noCheckout(b, [{ path: '.env', optional: true }]));
        assert.equal(existsSync(join(ws.path, 'README.md')), true, 'the worktree is made from the mirror of the remote');
        assert.equal(existsSync(join(ws.path, '.env')), false);
      } finally {
        h.dispose();
      }
    });
  });

  it("clears a stale lock on the task's own branch left by a killed git, and never a fresh one", async () => {
    await withStore('sqlite', async (store) => {
      const h = await harness(store);
      try {
        const id = await h.newTaskId();
        const lock = join(h.mirror, 'refs', 'heads', 'gantry', `${id}.lock`);
        mkdirSync(dirname(lock), { recursive: true });
        // Fresh: as if another git process were updating the branch right now. Left alone; provisioning fails loudly.
        writeFileSync(lock, '');
        await assert.rejects(h.ws.provision(h.request(id)), /cannot lock ref|File exists/);
        assert.ok(existsSync(lock), 'a fresh lock is not touched');
        assert.equal(existsSync(join(h.home, 'workspaces', 'demo', id)), false);

        // Stale: a git process killed mid-update a minute ago.
        const past = new Date(Date.now() - 60_000);
        utimesSync(lock, past, past);
        const before = await store.events.latestSeq();
        const ws = await h.ws.provision(h.request(id));
        assert.equal(sh(ws.path, 'rev-parse', '--abbrev-ref', 'HEAD'), `gantry/${id}`);
        assert.equal(existsSync(lock), false);
        const done = (await store.events.list({ after: before, taskId: id })).find((e) => e.type === 'workspace.step_completed' && e.payload.step === 'worktree');
        assert.match(JSON.stringify(done?.payload), /clearedStaleLock/, 'the repair is on record');
      } finally {
        h.dispose();
      }
    });
  });

  it("lockNamedBy / isStaleLock: the lock git could not create, and whether it is old enough to be a dead git's", () => {
    const lock = '/r/.git/refs/heads/gantry/t.lock';
    const named: [string, string, string | null][] = [
      ['ref lock', `fatal: cannot lock ref 'refs/heads/gantry/t': Unable to create '${lock}': File exists.\n\nAnother git process seems to be running`, lock],
      ['index lock', "fatal: Unable to create '/w/.git/index.lock': File exists.", '/w/.git/index.lock'],
      ['another failure', 'fatal: invalid reference: main', null],
    ];
    for (const [name, stderr, want] of named) assert.equal(lockNamedBy(stderr), want, name);
    const ages: [number | null, boolean][] = [[STALE_REF_LOCK_MS, true], [60_000, true], [STALE_REF_LOCK_MS - 1, false], [0, false], [null, false]];
    for (const [age, want] of ages) assert.equal(isStaleLock(age), want, `age ${age}`);
  });

  it('a fatal failure injected after each step unwinds everything: no worktree, branch, record, port or registration', async () => {
    await withStore('sqlite', async (store) => {
      let failAfter = '';
      const decorate = (plan: StepDef<ProvisionState>[]) =>
        plan.map((s) => ({ ...s, fatal: s.name === failAfter ? true : s.fatal, run: async (ctx: Parameters<typeof s.run>[0]) => {
          const out = await s.run(ctx);
          if (s.name === failAfter) throw new Error(`injected after ${s.name}`);
          return out;
        } }));
      const h = await harness(store, { planDecorator: decorate });
      try {
        writeFileSync(join(h.repo, '.env'), 'X=1\n');
        const config = {
          files: ['.env'],
          setup: { commands: ['mkdir -p deps && echo ok > deps/x'], cache: { lockfiles: ['README.md'], paths: ['deps'] } },
        };
        const steps = ['record', 'mirror', 'resolve-base', 'worktree', 'restore-checkpoint', 'files', 'cache-restore', 'setup', 'cache-save', 'port', 'agent-files', 'ready'];
        for (const step of steps) {
          failAfter = step;
          const id = await h.newTaskId();
          await assert.rejects(h.ws.provision(h.request(id, config, { agentFiles: [{ path: 'a.json', content: '{}' }] })), new RegExp(`injected after ${step}`));
          assert.equal(existsSync(join(h.home, 'workspaces', 'demo', id)), false, `${step}: worktree dir removed`);
          if (existsSync(h.mirror)) assert.equal(sh(h.mirror, 'branch', '--list', `gantry/${id}`), '', `${step}: branch removed`);
          assert.equal(existsSync(join(h.home, 'workspace-state', 'demo', id)), false, `${step}: record removed`);
          if (existsSync(h.mirror)) assert.equal(sh(h.mirror, 'worktree', 'list').split('\n').length, 1, `${step}: git has no stray registration`);
          const evs = await store.events.list({ taskId: id, limit: 1000 });
          assert.ok(evs.some((e) => e.type === 'workspace.step_failed' && e.payload.step === step));
          assert.equal(evs.at(-1)!.type, 'workspace.provision_failed');
        }
        failAfter = '';
        const ok = await h.ws.provision(h.request(await h.newTaskId(), config));
        assert.ok(existsSync(join(ok.path, 'deps', 'x')));
      } finally {
        h.dispose();
      }
    });
  });

  it('provisions 8 workspaces of one repository concurrently without git lock races, with distinct ports', async () => {
    await withStore('sqlite', async (store) => {
      const h = await harness(store);
      try {
        const ids = await Promise.all(Array.from({ length: 8 }, () => h.newTaskId()));
        const wss = await Promise.all(ids.map((id) => h.ws.provision(h.request(id, { ports: { from: 5200, to: 5299 } }))));
        assert.equal(new Set(wss.map((w) => w.port)).size, 8);
        assert.equal(sh(h.mirror, 'worktree', 'list').split('\n').length, 9);
        for (const w of wss) assert.equal(sh(w.path, 'status', '--porcelain'), '');
      } finally {
        h.dispose();
      }
    });
  });

  it('setup runs with a dependency cache: the second workspace restores it (cache hit) and lightweight mode skips setup', async () => {
    await withStore('sqlite', async (store) => {
      const h = await harness(store, { repoFiles: { 'deps.lock': 'left-pad@1\n' } });
      try {
        // The "install" counts how often it really ran; with the cache restored it finds deps/ and does nothing.
        const counter = join(h.root, 'installs');
        writeFileSync(counter, '');
        const config = {
          setup: {
            commands: [`test -f deps/installed || { mkdir -p deps && echo 1 > deps/installed && echo x >> "${counter}"; }`],
            cache: { lockfiles: ['deps.lock'], paths: ['deps'] },
          },
        };
        const a = await h.ws.provision(h.request(await h.newTaskId(), config));
        const id2 = await h.newTaskId();
        const b = await h.ws.provision(h.request(id2, config));
        assert.ok(existsSync(join(a.path, 'deps', 'installed')) && existsSync(join(b.path, 'deps', 'installed')));
        assert.equal(readFileSync(counter, 'utf8'), 'x\n', 'installed once; the second workspace came from the cache');
        const restore = (await store.events.list({ taskId: id2, limit: 100 })).find((e) => e.type === 'workspace.step_completed' && e.payload.step === 'cache-restore');
        assert.equal((restore?.payload.detail as { hit: boolean }).hit, true);

        const c = await h.ws.provision(h.request(await h.newTaskId(), config, { lightweight: true }));
        assert.equal(existsSync(join(c.path, 'deps')), false, 'lightweight mode skipped setup');
        assert.deepEqual(readdirSync(join(h.home, 'cache', 'demo')).length, 1);
      } finally {
        h.dispose();
      }
    });
  });
});
