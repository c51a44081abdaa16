// The three defects of issue #13, end to end through a factory, the pipeline engine, the scripted
// agent as a real child process and real git, on SQLite and PostgreSQL:
//  1. a user with uncommitted edits in their checkout of main has a task ship: `git status` there
//     shows only the user's edits (before: the shipped file showed as a staged deletion);
//  2. an agent runs `git update-ref refs/heads/main HEAD`: nothing lands through it and a guard event
//     is recorded (before: its commit landed on main with no merge step);
//  3. an agent plants a hook and core.fsmonitor in its repository: Gantry's git runs neither.
// Plus: a project whose remote is served over smart HTTP with auth lands by a compare-and-set push.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../../src/store/open.js';
import type { SqlStore } from '../../../src/store/sql-store.js';
import { freshDb, storeCases } from '../../support/db.js';
import { git, makeRepo } from '../../support/git.js';
import { gitAsync, startGitHttp, type GitHttpServer } from '../../support/git-http.js';
import { newTask } from '../../support/fixtures.js';
import { engineParts, fleet, startFactory, until, startRig, type Rig } from './rig.js';

// Gantry's own sandbox off: these cases prove the git-level defences (hardened git, refs checked after
// every step) that hold on hosts without a sandbox; with it, the same writes are refused outright
// (test/agents/sandbox.test.ts, containment.e2e.test.ts).
const yaml = (marker: string) => `
version: 1
sandbox: { mode: off }
pipelines:
  plain:
    steps: [ { id: implement, kind: agent, role: plain }, { id: merge, kind: merge } ]
  sneaky:
    steps: [ { id: implement, kind: agent, role: sneaky }, { id: merge, kind: merge } ]
  planter:
    steps: [ { id: implement, kind: agent, role: planter }, { id: merge, kind: merge } ]
agents:
  scripted:
    roles:
      plain: [ { write: { path: shipped.txt, content: "shipped\\n" } }, { commit: "ship a file" } ]
      sneaky:
        - { write: { path: sneaky.txt, content: "sneaky\\n" } }
        - { commit: "unreviewed" }
        - { run: "git update-ref refs/heads/main HEAD" }
      planter:
        - { run: "d=$(git rev-parse --git-common-dir); mkdir -p $d/hooks; for h in post-checkout reference-transaction post-index-change pre-commit post-merge; do printf '#!/bin/sh\\\\necho hook:%s >> ${marker}\\\\n' $h > $d/hooks/$h; chmod +x $d/hooks/$h; done" }
        - { run: "printf '#!/bin/sh\\\\necho fsmonitor >> ${marker}\\\\n' > /tmp/gantry-fsmon-$$; chmod +x /tmp/gantry-fsmon-$$; git config core.fsmonitor /tmp/gantry-fsmon-$$" }
        - { write: { path: planted.txt, content: "p\\n" } }
        - { commit: "plant" }
`;

for (const sc of storeCases()) {
  describe(`code lives in a remote (${sc.kind})`, { skip: sc.skip }, () => {
    let store: SqlStore;
    let root: string;
    let repo: string;
    let projectId: string;
    let marker: string;

    let rig: Rig;
    before(async () => {
      root = mkdtempSync(join(tmpdir(), 'gantry-remote-e2e-'));
      marker = join(root, 'planted-ran.log');
      rig = await startRig({ kind: sc.kind, home: root, files: { 'README.md': '# sample\n', 'notes.md': 'notes\n' }, yaml: yaml(marker), slots: 1 });
      ({ store, repo, projectId } = rig);
    });
    after(() => rig.stop());

    const finish = (id: string) => until(async () => {
      const s = (await store.tasks.get(id))!.stage;
      return ['shipped', 'failed', 'dead_letter'].includes(s) ? s : undefined;
    }, `task ${id} finishes`, 120_000);

    it('defect 1: the user\'s uncommitted edits on main survive a task shipping, and git status shows only them', async () => {
      writeFileSync(join(repo, 'notes.md'), 'my own edit, not committed\n');
      writeFileSync(join(repo, 'scratch.txt'), 'untracked\n');
      const before = git(repo, 'rev-parse', 'main');
      const t = (await store.tasks.submit(newTask(projectId, { title: 'ship', pipeline: 'plain', agent: 'scripted' }))).task;
      assert.equal(await finish(t.id), 'shipped');
      assert.notEqual(git(repo, 'rev-parse', 'main'), before);
      assert.equal(git(repo, 'show', 'main:shipped.txt'), 'shipped');
      assert.equal(readFileSync(join(repo, 'shipped.txt'), 'utf8'), 'shipped\n', 'the checkout has the shipped file');
      assert.equal(git(repo, 'diff', '--cached', '--name-only'), '', 'nothing staged: the index follows main');
      assert.equal(git(repo, 'diff', '--name-only'), 'notes.md', 'the only change is the user\'s edit');
      assert.equal(git(repo, 'ls-files', '--others', '--exclude-standard'), 'scratch.txt');
      assert.equal(readFileSync(join(repo, 'notes.md'), 'utf8'), 'my own edit, not committed\n');
      assert.equal(git(repo, 'worktree', 'list').split('\n').length, 1, 'no task worktree in the user\'s repository');
      git(repo, 'checkout', '-q', '--', 'notes.md');
      rmSync(join(repo, 'scratch.txt'));
    });

    it('defect 2: an agent moving refs/heads/main lands nothing; the guard records it', async () => {
      const before = git(repo, 'rev-parse', 'main');
      const t = (await store.tasks.submit(newTask(projectId, { title: 'sneaky', pipeline: 'sneaky', agent: 'scripted' }))).task;
      const end = await finish(t.id);
      const events = await store.events.list({ taskId: t.id, limit: 1000 });
      const guard = events.filter((e) => e.type === 'workspace.guard_violation' && e.payload.kind === 'ref_moved');
      assert.equal(guard.length >= 1, true, `a ref_moved guard event (${events.map((e) => e.type).join(',')})`);
      assert.deepEqual(guard[0]!.payload.paths, ['refs/heads/main']);
      assert.equal(end, 'failed', 'the step is blocked: the task does not ship');
      assert.equal(git(repo, 'rev-parse', 'main'), before, 'main did not move');
      assert.throws(() => git(repo, 'cat-file', '-e', 'main:sneaky.txt'));
    });

    it('defect 3: a hook and core.fsmonitor planted by an agent are never run by Gantry\'s git', async () => {
      const t = (await store.tasks.submit(newTask(projectId, { title: 'planter', pipeline: 'planter', agent: 'scripted' }))).task;
      await finish(t.id);
      // The agent's own git commands (after planting) may run them: only what ran after the agent ended counts.
      const ranByAgent = existsSync(marker) ? readFileSync(marker, 'utf8') : '';
      const events = await store.events.list({ taskId: t.id, limit: 1000 });
      assert.ok(events.some((e) => e.type === 'workspace.guard_violation' && e.payload.kind === 'git_dir'), 'writes into .git are a guard violation');
      // Gantry's own git runs in the same repository next (a new task provisions from the mirror, checkpoints, lands).
      writeFileSync(marker, '');
      const t2 = (await store.tasks.submit(newTask(projectId, { title: 'after planting', pipeline: 'plain', agent: 'scripted' }))).task;
      await finish(t2.id);
      assert.equal(existsSync(marker) ? readFileSync(marker, 'utf8') : '', '', `nothing planted ran for Gantry's git (the agent's own runs: ${JSON.stringify(ranByAgent)})`);
    });
  });
}

describe('a project remote over smart HTTP with auth', () => {
  let srv: GitHttpServer;
  let root: string;
  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'gantry-http-e2e-'));
    const seed = makeRepo({ 'README.md': '# sample\n' });
    await gitAsync(root, 'clone', '-q', '--bare', seed, join(root, 'app.git'));
    rmSync(seed, { recursive: true, force: true });
    srv = await startGitHttp(root);
  });
  after(async () => {
    await srv.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('provisions from the mirror and lands with a compare-and-set push over HTTP', async () => {
    const db = await freshDb('sqlite');
    const store = await openStore(db.target, { pollMs: 100 });
    const c = fleet(store, { leaseTtlMs: 30_000, reapIntervalMs: 500 });
    c.start();
    const parts = engineParts(store, join(root, 'f1'), 'f1');
    const factory = startFactory(c, parts, join(root, 'f1'), 'f1', 1);
    await factory.start();
    try {
      const p = await store.projects.create({ name: 'web', path: '', remote: srv.url('app.git'), defaultBranch: 'main', config: (await import('yaml')).parse(yaml(join(root, 'm.log'))) as Record<string, unknown> });
      const t = (await store.tasks.submit(newTask(p.id, { title: 'ship over http', pipeline: 'plain', agent: 'scripted' }))).task;
      await until(async () => ['shipped', 'failed'].includes((await store.tasks.get(t.id))!.stage), 'ships', 120_000);
      assert.equal((await store.tasks.get(t.id))!.stage, 'shipped');
      assert.equal(await gitAsync(join(root, 'app.git'), 'show', 'main:shipped.txt'), 'shipped');
      assert.ok(srv.requests.some((r) => r.path.endsWith('git-receive-pack') && r.status === 200), 'landed by a push over HTTP');
      const events = JSON.stringify(await store.events.list({ limit: 1000 }));
      assert.ok(!events.includes('s3cret'), 'the remote\'s password is in no event');
    } finally {
      await factory.drain();
      await c.stop();
      await store.close();
      await db.dispose();
    }
  });
});
