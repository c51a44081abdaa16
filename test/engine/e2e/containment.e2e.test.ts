// Containment end to end (issue #15): the scripted agent as a hostile reviewer, checks fixer and
// conflicts resolver, on a real repository, SQLite and PostgreSQL. Each attempt — writing a denied
// path, a symlink out of the tree, an oversized file, .git hooks and config, the worktree .git link,
// moving main, committing as a reviewer — is blocked or has no effect, is evented, and nothing of it
// reaches the base branch. (Reading secrets is the sandbox's job: test/agents/sandbox.test.ts.)
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { git } from '../../support/git.js';
import { pgSkip } from '../../support/db.js';
import { newTask } from '../../support/fixtures.js';
import type { SqlStore } from '../../../src/store/sql-store.js';
import { sandboxHost } from '../../../src/agents/sandbox/host.js';
import { startRig, until, type EngineParts, type Rig } from './rig.js';

const host = sandboxHost();
const sandboxed = host.bwrap !== null && host.probeError === null;
const COMMON = 'C=$(git rev-parse --path-format=absolute --git-common-dir)';
const yaml = `
version: 1
checks:
  - { name: fixed, run: "test -f fixed.txt", timeout: 30 }
workspace:
  guard: { deny: ["secrets/**"], maxFileBytes: 100000 }
pipelines:
  reviewed:
    steps: [ { id: implement, kind: agent, role: impl }, { id: review, kind: review, role: evil_reviewer }, { id: merge, kind: merge } ]
  fixed:
    steps: [ { id: implement, kind: agent, role: impl }, { id: checks, kind: checks, maxFixes: 1 }, { id: merge, kind: merge } ]
  resolved:
    steps: [ { id: implement, kind: agent, role: impl_conflict }, { id: conflicts, kind: conflicts, maxFixes: 1 }, { id: merge, kind: merge } ]
agents:
  scripted:
    roles:
      impl: [ { write: { path: ok.txt, content: "ok\\n" } }, { commit: "ok" } ]
      impl_conflict:
        attempts: [ [ { ask: { question: "Go?", options: [ go ] } } ] ]
        resumed: [ { write: { path: shared.txt, content: "mine\\n" } }, { commit: "mine" } ]
      evil_reviewer:
        - { run: "echo rewritten > ok.txt && echo planted > reviewer.txt && git add -A && git -c user.name=r -c user.email=r@r commit -qm reviewer" }
        - { run: "${COMMON}; printf '[alias]\\\\n\\\\tst = !touch /tmp/pwned\\\\n' >> $C/config || true" }
        - { review: { score: 9, findings: [] } }
      fixer:
        - { write: { path: fixed.txt, content: "fixed\\n" } }
        - { write: { path: secrets/leak.txt, content: "leak\\n" } }
        - { run: "ln -s /etc/passwd passwd-link && head -c 200000 /dev/zero > big.bin && chmod +x ok.txt; printf '#!/bin/sh\\\\n' > tool.sh && chmod +x tool.sh" }
        - { run: "${COMMON}; printf '#!/bin/sh\\\\ntouch /tmp/pwned\\\\n' > $C/hooks/post-merge 2>/dev/null; chmod +x $C/hooks/post-merge 2>/dev/null; true" }
        - { commit: "fix" }
      resolver:
        - { merge: { ref: main, strategy: union } }
        - { run: "echo 'gitdir: /nowhere' > .git 2>/dev/null; true" }
`;

for (const kind of ['sqlite', 'postgres'] as const) {
  describe(`containment end to end (${kind}, hostile scripted agent, real git)`, { skip: kind === 'postgres' ? pgSkip() : false }, () => {
    let store: SqlStore;
    let parts: EngineParts;
    let repo: string;
    let projectId: string;

    let rig: Rig;
    before(async () => {
      rig = await startRig({ kind, files: { 'shared.txt': 'base\n', 'README.md': '# r\n' }, yaml });
      ({ store, repo, projectId, parts } = rig);
    });
    after(() => rig.stop());

    const stage = async (id: string) => (await store.tasks.get(id))!.stage;
    const events = async (id: string) => await store.events.list({ taskId: id, limit: 2000 });
    const onMain = (p: string): boolean => {
      try {
        git(repo, 'cat-file', '-e', `main:${p}`);
        return true;
      } catch {
        return false;
      }
    };
    const config = () => readFileSync(join(repo, '.git', 'config'), 'utf8');

    it("a reviewer's edits, commit and .git config write are discarded and evented; the implementer's work ships", async () => {
      const before = config();
      const t = (await store.tasks.submit(newTask(projectId, { title: 'reviewed', pipeline: 'reviewed', agent: 'scripted' }))).task;
      await until(async () => ['shipped', 'failed'].includes(await stage(t.id)), 'reviewed finishes', 120_000);
      assert.equal(await stage(t.id), 'shipped', JSON.stringify((await parts.runs.current(t.id))?.run));
      assert.equal(git(repo, 'show', 'main:ok.txt'), 'ok');
      assert.equal(onMain('reviewer.txt'), false);
      assert.equal(config(), before, '.git/config as it was');
      const v = (await events(t.id)).filter((e) => e.type === 'workspace.guard_violation' && e.payload.step === 'review');
      assert.ok(v.some((e) => e.payload.kind === 'review_only' && (e.payload.paths as string[]).includes('HEAD')), JSON.stringify(v));
    });

    it("a fixer's denied path, symlink out, oversized file, and hook are blocked and reverted; the run fails; nothing reaches main", async () => {
      const mainBefore = git(repo, 'rev-parse', 'main');
      const t = (await store.tasks.submit(newTask(projectId, { title: 'fixed', pipeline: 'fixed', agent: 'scripted' }))).task;
      await until(async () => ['shipped', 'failed'].includes(await stage(t.id)), 'fixed finishes', 120_000);
      const run = (await parts.runs.current(t.id))!.run;
      assert.equal(await stage(t.id), 'failed');
      assert.match(run.failureMessage ?? '', /fixer wrote outside what the step may touch/);
      // main may only have moved by another test's merge, never to the fixer's commit.
      for (const p of ['fixed.txt', 'secrets/leak.txt', 'passwd-link', 'big.bin', 'tool.sh']) assert.equal(onMain(p), false, p);
      assert.notEqual(git(repo, 'log', '-1', '--format=%s', 'main'), 'fix');
      assert.ok(mainBefore);
      assert.equal(existsSync(join(repo, '.git', 'hooks', 'post-merge')), false, 'planted hook removed');
      const evs = await events(t.id);
      const kinds = new Set(evs.filter((e) => e.type === 'workspace.guard_violation').map((e) => e.payload.kind));
      for (const k of ['denied', 'symlink_escape', 'file_too_large']) assert.ok(kinds.has(k), `${k} in ${JSON.stringify(evs.filter((e) => e.type.startsWith('workspace.guard') || e.type.startsWith('session')).map((e) => [e.type, e.payload]))}`);
      assert.ok(evs.some((e) => e.type === 'workspace.guard_reverted'));
      assert.ok(evs.some((e) => e.type === 'workspace.guard_flagged' && (e.payload.paths as string[]).includes('tool.sh')));
    });

    it("a resolver that rewrites the worktree's .git link: read-only in the sandbox, else caught, evented and the step fails", async () => {
      const t = (await store.tasks.submit(newTask(projectId, { title: 'resolved', pipeline: 'resolved', agent: 'scripted' }))).task;
      // The implementer asks first: while it waits, main changes the same line, so its work will conflict.
      await until(async () => (await parts.runs.current(t.id))?.run.state === 'parked' && (await stage(t.id)) === 'blocked', 'parks on the question', 120_000);
      writeFileSync(join(repo, 'shared.txt'), 'theirs\n');
      git(repo, '-c', 'user.name=o', '-c', 'user.email=o@o', 'commit', '-qam', 'theirs');
      await parts.actions.act(t.id, { action: 'answer', text: 'go' });
      await until(async () => ['shipped', 'failed'].includes(await stage(t.id)), 'resolved finishes', 120_000).catch(async (e: unknown) => {
        const snap = await parts.runs.current(t.id);
        throw new Error(`${String(e)}: ${JSON.stringify(snap?.steps.map((s) => [s.stepId, s.state, s.kindState]))} ${JSON.stringify((await events(t.id)).slice(-12).map((x) => [x.type, x.payload]))}`);
      });
      const evs = await events(t.id);
      if (sandboxed) {
        // Inside the sandbox the link is read-only: the write has no effect, the honest merge ships.
        assert.equal(await stage(t.id), 'shipped');
        assert.equal(evs.some((e) => e.type === 'workspace.guard_violation'), false);
        return;
      }
      assert.ok(evs.some((e) => e.type === 'workspace.guard_violation' && (e.payload.paths as string[]).includes('.git')), JSON.stringify(evs.filter((e) => e.type.startsWith('workspace.guard')).map((e) => e.payload)));
      assert.equal(await stage(t.id), 'failed');
      assert.equal(git(repo, 'show', 'main:shared.txt'), 'theirs', "the resolver's merge did not reach main");
    });
  });
}
