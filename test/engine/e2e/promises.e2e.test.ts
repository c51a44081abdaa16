// What README.md and docs/ promise about the engine, the lifecycle and workspaces, end to end through
// a real `gantry up` (coordinator, lifecycle, one in-process factory running the pipeline engine),
// real git and real agent processes, on SQLite and PostgreSQL. Issue 17, items 1–9.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { git } from '../../support/git.js';
import { gantry } from '../../support/cli.js';
import { freshDb, storeCases } from '../../support/db.js';
import { startGantry, until, type Gantry } from './gantry.js';

const scripted = (roles: string): string => `agents:\n  scripted:\n    roles:\n${roles}`;

/** A command agent (any executable): writes a file and commits it, proving which agent ran. */
const COMMAND_AGENT = `
import { writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
writeFileSync('by-command.txt', 'written by the command agent\\n');
const env = { ...process.env, GIT_AUTHOR_NAME: 'cmd', GIT_AUTHOR_EMAIL: 'cmd@x', GIT_COMMITTER_NAME: 'cmd', GIT_COMMITTER_EMAIL: 'cmd@x' };
execFileSync('git', ['add', '-A'], { env });
execFileSync('git', ['commit', '-qm', 'command agent'], { env });
console.log(JSON.stringify({ type: 'message', text: 'done by the command agent' }));
`;

const notesOf = async (g: Gantry, taskId: string): Promise<{ id: string; kind: string; state: string }[]> =>
  g.coordinator.store.db.all<{ id: string; kind: string; state: string }>('SELECT id, kind, state FROM notifications WHERE task_id = ? ORDER BY created_at, id', [taskId]);

const parked = (g: Gantry, id: string) => until(async () => (await g.run(id))?.run.state === 'parked' && (await g.task(id)).stage === 'blocked', `task ${id} parks`);

for (const c of storeCases()) {
  describe(`pipeline promises (${c.kind})`, { skip: c.skip, timeout: 600_000 }, () => {
    let g: Gantry;
    before(async () => {
      g = await startGantry(c.kind, { workspaceSweepMs: 300 });
    });
    after(async () => {
      await g?.close();
    });

    it('1. defaults.agent is the agent of a task submitted without one', async () => {
      const p = await g.project(
        `version: 1
defaults: { pipeline: solo, agent: command }
pipelines:
  solo: { steps: [ { id: implement, kind: agent }, { id: merge, kind: merge } ] }
agents:
  command: { argv: ["node", "agent.mjs"] }
  scripted: { roles: { implementer: [ { write: { path: by-scripted.txt, content: "s\\n" } }, { commit: "scripted" } ] } }
`,
        { 'agent.mjs': COMMAND_AGENT },
      );
      const t = await g.submit({ title: 'by default agent', project: p.id });
      assert.equal(t.agent, null, 'submitted without --agent');
      const done = await g.settle(t.id);
      assert.equal(done.stage, 'shipped', JSON.stringify((await g.run(t.id))?.run));
      assert.equal(git(p.repo, 'show', 'main:by-command.txt'), 'written by the command agent');
      const dispatched = (await g.coordinator.store.events.list({ taskId: t.id, limit: 100 })).filter((e) => e.type === 'session.dispatched');
      assert.deepEqual(dispatched.map((e) => e.payload.agent), ['command']);
      // The task's own agent overrides the default.
      const own = await g.submit({ title: 'by its own agent', project: p.id, agent: 'scripted' });
      assert.equal((await g.settle(own.id)).stage, 'shipped');
      assert.equal(git(p.repo, 'show', 'main:by-scripted.txt'), 's');
    });

    it("2. a wait's notification is resolved in the commit that ends the wait; nothing escalates afterwards", async () => {
      const p = await g.project(`version: 1
pipelines:
  gated: { steps: [ { id: plan, kind: agent, role: planner, approval: true }, { id: merge, kind: merge } ] }
  asks: { steps: [ { id: implement, kind: agent, role: asker }, { id: merge, kind: merge } ] }
${scripted(`      planner: [ { say: "Plan: nothing risky." } ]
      asker:
        attempts: [ [ { ask: { question: "Which store?", options: [ postgres, sqlite ] } } ] ]
        resumed: [ { write: { path: answer.txt, content: "ok\\n" } }, { commit: "answered" } ]`)}`);
      // Approve.
      const a = await g.submit({ title: 'gated', project: p.id, pipeline: 'gated' });
      await parked(g, a.id);
      const raised = await until(async () => (await notesOf(g, a.id)).find((n) => n.kind === 'awaiting_approval'), 'the approval notification');
      assert.equal(raised.state, 'raised');
      const r = await g.req('POST', `/api/tasks/${a.id}/run/approve`, {});
      assert.equal(r.status, 200, JSON.stringify(r.body));
      // Already resolved when the answer is acknowledged: the same commit ended the wait.
      assert.deepEqual((await notesOf(g, a.id)).map((n) => [n.kind, n.state]), [['awaiting_approval', 'resolved']]);
      assert.equal((await g.settle(a.id)).stage, 'shipped');
      // Answer a decision.
      const b = await g.submit({ title: 'asks', project: p.id, pipeline: 'asks' });
      await parked(g, b.id);
      await until(async () => (await notesOf(g, b.id)).some((n) => n.kind === 'awaiting_decision'), 'the decision notification');
      assert.equal((await g.req('POST', `/api/tasks/${b.id}/run/answer`, { text: 'sqlite' })).status, 200);
      assert.deepEqual((await notesOf(g, b.id)).map((n) => n.state), ['resolved']);
      // Cancel a parked run.
      const d = await g.submit({ title: 'gated, then cancelled', project: p.id, pipeline: 'gated' });
      await parked(g, d.id);
      await until(async () => (await notesOf(g, d.id)).length > 0, 'the approval notification');
      assert.equal((await g.req('POST', `/api/tasks/${d.id}/run/cancel`, {})).status, 200);
      assert.deepEqual((await notesOf(g, d.id)).map((n) => n.state), ['resolved']);
      // Long after, a tick escalates nothing of these (it would page people for settled decisions).
      await g.coordinator.lifecycle.manager.tick(Date.now() + 60 * 60_000);
      for (const id of [a.id, b.id, d.id]) {
        assert.ok(!(await g.eventTypes(id)).includes('notification.escalated'), `no escalation for ${id}`);
        assert.ok((await g.eventTypes(id)).includes('notification.resolved'));
      }
      assert.equal((await g.settle(b.id)).stage, 'shipped');
      assert.equal((await g.task(d.id)).stage, 'cancelled');
    });

    it('3. when: reads the fields of an agent step\'s structured output; a missing or invalid block fails with a remedy', async () => {
      const schema = '{ type: object, properties: { risky: { type: boolean }, area: { type: string, enum: [docs, code] } }, required: [risky, area] }';
      const block = (json: string) => `{ say: "Plan below.\\n\`\`\`gantry-output\\n${json.replaceAll('"', '\\"')}\\n\`\`\`" }`;
      const p = await g.project(`version: 1
pipelines:
${['risky', 'safe', 'broken', 'silent'].map((r) => `  ${r}:
    steps:
      - { id: plan, kind: agent, role: plan_${r}, output: ${schema} }
      - { id: careful, kind: script, run: "true", when: "plan.risky" }
      - { id: docs, kind: script, run: "true", when: "plan.area == 'docs'" }
      - { id: implement, kind: agent, role: implementer }
      - { id: merge, kind: merge }`).join('\n')}
${scripted(`      plan_risky: [ ${block('{"risky": true, "area": "code"}')} ]
      plan_safe: [ ${block('{"risky": false, "area": "docs"}')} ]
      plan_broken: [ ${block('{"risky": "very", "area": "code"}')} ]
      plan_silent: [ { say: "I forgot the block." } ]
      implementer: [ { run: "grep -q '\\"area\\":' \\"$GANTRY_PROMPT_FILE\\"" }, { run: "echo $GANTRY_SESSION_ID > impl.txt" }, { commit: "impl" } ]`)}`);
      const states = async (id: string) => Object.fromEntries((await g.run(id))!.steps.map((s) => [s.stepId, s.state]));
      const risky = await g.submit({ title: 'risky', project: p.id, pipeline: 'risky' });
      const safe = await g.submit({ title: 'safe', project: p.id, pipeline: 'safe' });
      assert.equal((await g.settle(risky.id)).stage, 'shipped', JSON.stringify((await g.run(risky.id))?.run));
      assert.equal((await g.settle(safe.id)).stage, 'shipped', JSON.stringify((await g.run(safe.id))?.run));
      assert.deepEqual(await states(risky.id), { plan: 'done', careful: 'done', docs: 'skipped', implement: 'done', merge: 'done' });
      assert.deepEqual(await states(safe.id), { plan: 'done', careful: 'skipped', docs: 'done', implement: 'done', merge: 'done' });
      const plan = (await g.run(risky.id))!.steps[0]!.output!;
      assert.equal(plan.risky, true);
      assert.equal(plan.area, 'code');
      assert.match(String(plan.text), /Plan below/);
      for (const [pipeline, why] of [['broken', /risky: .*boolean/i], ['silent', /no fenced gantry-output block/]] as const) {
        const t = await g.submit({ title: pipeline, project: p.id, pipeline });
        assert.equal((await g.settle(t.id)).stage, 'failed');
        const run = await g.req('GET', `/api/tasks/${t.id}/runs`);
        const failure = (run.body.current as { failure: { kind: string; message: string; remedy: string } }).failure;
        assert.equal(failure.kind, 'output');
        assert.match(failure.message, why);
        assert.match(failure.message, /^step plan: /);
        assert.match(failure.remedy, /output:` schema/);
      }
    });

    it('4. approving with an edited proposal: later steps work from the edit; text an answer cannot use is refused', async () => {
      const p = await g.project(`version: 1
pipelines:
  own: { steps: [ { id: plan, kind: agent, role: planner, approval: true }, { id: implement, kind: agent, role: implementer }, { id: merge, kind: merge } ] }
  gate: { steps: [ { id: plan, kind: agent, role: planner }, { id: gate, kind: approval }, { id: implement, kind: agent, role: implementer }, { id: merge, kind: merge } ] }
  manual: { steps: [ { id: implement, kind: agent, role: plain }, { id: merge, kind: merge, policy: manual } ] }
${scripted(`      planner: [ { say: "Plan: rewrite everything." } ]
      plain: [ { write: { path: plain.txt, content: "p\\n" } }, { commit: "plain" } ]
      implementer: [ { run: "grep -q 'EDITED: touch one file' \\"$GANTRY_PROMPT_FILE\\" && ! grep -q 'rewrite everything' \\"$GANTRY_PROMPT_FILE\\"" }, { run: "echo $GANTRY_SESSION_ID > one.txt" }, { commit: "one" } ]`)}`);
      for (const pipeline of ['own', 'gate']) {
        const t = await g.submit({ title: `edit ${pipeline}`, project: p.id, pipeline });
        await parked(g, t.id);
        if (pipeline === 'own') {
          const approve = await g.req('POST', `/api/tasks/${t.id}/run/approve`, { text: 'EDITED: touch one file' });
          assert.equal(approve.status, 200, JSON.stringify(approve.body));
        } else {
          // The CLI: `gantry approve TASK --edit FILE` (- reads stdin).
          const cli = await gantry(['approve', t.id, '--edit', '-', '--url', g.coordinator.url, '--token', g.coordinator.adminToken], { input: 'EDITED: touch one file' });
          assert.equal(cli.code, 0, cli.stderr);
        }
        assert.equal((await g.settle(t.id)).stage, 'shipped', `${pipeline}: ${JSON.stringify((await g.run(t.id))?.run)}`);
        const plan = (await g.run(t.id))!.steps[0]!.output!;
        assert.equal(plan.text, 'EDITED: touch one file');
        assert.equal(plan.edited, true);
        assert.match(String(plan.originalText), /rewrite everything/);
        const answered = (await g.coordinator.store.events.list({ taskId: t.id, limit: 500 })).find((e) => e.type === 'run.answered');
        assert.equal(answered?.payload.edited, true);
      }
      // Without the edit the implementer sees the original plan (its own check fails): the edit really was the input.
      const unedited = await g.submit({ title: 'unedited', project: p.id, pipeline: 'gate' });
      await parked(g, unedited.id);
      assert.equal((await g.req('POST', `/api/tasks/${unedited.id}/run/approve`, {})).status, 200);
      assert.equal((await g.settle(unedited.id)).stage, 'failed');
      // An answer that takes no text refuses it (409) and changes nothing.
      const m = await g.submit({ title: 'merge review', project: p.id, pipeline: 'manual' });
      await parked(g, m.id);
      const rev = (await g.run(m.id))!.run.rev;
      const held = await g.req('POST', `/api/tasks/${m.id}/run/hold`, { text: 'wait for friday' });
      assert.equal(held.status, 409, JSON.stringify(held.body));
      assert.match(String((held.body.error as { message: string }).message), /hold takes no text/);
      assert.equal((await g.run(m.id))!.run.rev, rev);
      assert.equal((await g.req('POST', `/api/tasks/${m.id}/run/merge`, {})).status, 200);
      assert.equal((await g.settle(m.id)).stage, 'shipped');
    });

    it("5. SCM observations feed the owning session's change axis: checks failing, conflicts, merged", async () => {
      const p = await g.project(
        `version: 1
checks:
  - { name: clean, run: "test ! -f broken.txt", timeout: 30 }
pipelines:
  scm:
    steps:
      - { id: implement, kind: agent, role: implementer }
      - { id: checks, kind: checks, maxFixes: 2 }
      - { id: conflicts, kind: conflicts }
      - { id: merge, kind: merge }
${scripted(`      implementer: [ { write: { path: feature.txt, content: "f\\n" } }, { write: { path: broken.txt, content: "x\\n" } }, { commit: "feature" } ]
      fixer: [ { run: "git rm -q broken.txt" }, { commit: "fix" } ]`)}`,
      );
      const t = await g.submit({ title: 'scm', project: p.id, pipeline: 'scm' });
      assert.equal((await g.settle(t.id)).stage, 'shipped', JSON.stringify((await g.run(t.id))?.run));
      const sessions = (await g.req('GET', `/api/sessions?task=${t.id}`)).body.sessions as { id: string; change: string; display: string; stepRowId?: string }[];
      const implementStep = (await g.run(t.id))!.steps[0]!;
      const owner = sessions.find((s) => implementStep.sessionId && s.id === implementStep.sessionId.replace(/[^\w.-]/g, '_'));
      assert.ok(owner, `the implementer's session is listed: ${JSON.stringify(sessions)}`);
      assert.equal(owner.change, 'merged');
      assert.equal(owner.display, 'merged');
      const events = await g.coordinator.store.events.list({ taskId: t.id, limit: 5000 });
      const changes = events.filter((e) => e.type === 'session.updated' && e.sessionId === owner.id).map((e) => e.payload.change);
      assert.deepEqual([...new Set(changes)].filter((x) => x !== 'none'), ['checks_failing', 'open', 'mergeable', 'merged']);
      const reactions = events.filter((e) => e.type.startsWith('reaction.') && e.sessionId === owner.id).map((e) => `${e.type}:${String(e.payload.reaction)}:${String(e.payload.via ?? '')}`);
      assert.deepEqual(reactions, ['reaction.sent:checks-failed:pipeline', 'reaction.resolved:checks-failed:']);
      // The fixer repaired it; nobody was asked to.
      assert.deepEqual((await notesOf(g, t.id)).filter((n) => n.kind === 'checks-failed'), []);
    });

    it('6. a launch that throws before spawning ends its session instead of leaving it "spawning"', async () => {
      // A script file is read at launch (submit cannot vet it), so the missing role surfaces there.
      const file = join(mkdtempSync(join(tmpdir(), 'gantry-script-')), 'script.yaml');
      writeFileSync(file, 'roles:\n  someone: [ { say: "hi" } ]\n');
      const p = await g.project(`version: 1
pipelines:
  noscript: { steps: [ { id: implement, kind: agent, role: nobody }, { id: merge, kind: merge } ] }
agents:
  scripted:
    scriptFile: ${JSON.stringify(file)}`);
      const t = await g.submit({ title: 'no script', project: p.id, pipeline: 'noscript' });
      assert.equal((await g.settle(t.id)).stage, 'failed');
      const run = (await g.run(t.id))!.run;
      assert.match(run.failureMessage ?? '', /no script for role nobody/);
      const sessions = (await g.req('GET', `/api/sessions?task=${t.id}`)).body.sessions as { state: string; reason: string; display: string }[];
      assert.ok(sessions.length >= 1);
      for (const s of sessions) assert.deepEqual([s.state, s.reason, s.display], ['terminated', 'launch_failed', 'exited']);
    });

    it('7. finished tasks\' worktrees are checkpointed and removed on workspace.retain (defaults: shipped and cancelled at once, failed kept 7 days)', async () => {
      const p = await g.project(`version: 1
checks:
  - { name: never, run: "false", timeout: 30 }
pipelines:
  ok: { steps: [ { id: implement, kind: agent, role: implementer }, { id: merge, kind: merge } ] }
  red: { steps: [ { id: implement, kind: agent, role: implementer }, { id: checks, kind: checks, maxFixes: 0 }, { id: merge, kind: merge } ] }
  gated: { steps: [ { id: plan, kind: agent, role: implementer, approval: true }, { id: merge, kind: merge } ] }
${scripted('      implementer: [ { run: "echo $GANTRY_SESSION_ID > w.txt" }, { commit: "w" } ]')}`);
      // Each task writes its own content: a task whose change is already on main fails as empty (#16).
      const worktreeOf = async (id: string) => {
        const ev = await until(async () => (await g.coordinator.store.events.list({ taskId: id, limit: 500 })).find((e) => e.type === 'workspace.provisioned'), `task ${id} provisioned`);
        return String(ev.payload.path);
      };
      const ok = await g.submit({ title: 'ships', project: p.id, pipeline: 'ok' });
      const red = await g.submit({ title: 'fails', project: p.id, pipeline: 'red' });
      const gated = await g.submit({ title: 'cancelled while parked', project: p.id, pipeline: 'gated' });
      assert.equal((await g.settle(ok.id)).stage, 'shipped');
      assert.equal((await g.settle(red.id)).stage, 'failed');
      await parked(g, gated.id);
      const okPath = await worktreeOf(ok.id);
      await until(() => !existsSync(okPath), 'the shipped worktree is removed');
      // Removed only once its final state was in a checkpoint (teardown refuses otherwise).
      const cps = (await g.req('GET', `/api/tasks/${ok.id}/checkpoints`)).body.checkpoints as { seq: number }[];
      const removedEv = await until(async () => (await g.coordinator.store.events.list({ taskId: ok.id, limit: 500 })).find((e) => e.type === 'workspace.removed'), 'workspace.removed');
      assert.deepEqual([removedEv.payload.forced, removedEv.payload.finalSeq], [false, cps.at(-1)?.seq]);
      // Cancelled while parked (no factory holds it): the sweep retires it.
      const gatedPath = await worktreeOf(gated.id);
      assert.ok(existsSync(gatedPath));
      assert.equal((await g.req('POST', `/api/tasks/${gated.id}/run/cancel`, {})).status, 200);
      await until(() => !existsSync(gatedPath), 'the cancelled worktree is removed by the sweep');
      // Failed work stays for 7 days to inspect.
      await new Promise((r) => setTimeout(r, 1000));
      assert.ok(existsSync(await worktreeOf(red.id)), 'the failed worktree is kept');
      const removed = (await g.coordinator.store.events.list({ taskId: ok.id, limit: 500 })).filter((e) => e.type === 'workspace.removed');
      assert.equal(removed.length, 1);
    });

    it('7b. gantry up collects, as its factories start, finished worktrees whose retention ran out while it was down', async () => {
      const kind = c.kind;
      const db = await freshDb(kind);
      const home = mkdtempSync(join(tmpdir(), 'gantry-restart-'));
      let a: Gantry | undefined = await startGantry(kind, { db, home, workspaceSweepMs: 3_600_000 });
      let repo = '';
      try {
        const p = await a.project(`version: 1
checks:
  - { name: never, run: "false", timeout: 30 }
workspace:
  retain: { failed: 1s }
pipelines:
  red: { steps: [ { id: implement, kind: agent, role: implementer }, { id: checks, kind: checks, maxFixes: 0 }, { id: merge, kind: merge } ] }
${scripted('      implementer: [ { write: { path: w.txt, content: "w\\n" } }, { commit: "w" } ]')}`);
        repo = p.repo;
        const t = await a.submit({ title: 'fails', project: p.id, pipeline: 'red' });
        assert.equal((await a.settle(t.id)).stage, 'failed');
        const path = String((await a.coordinator.store.events.list({ taskId: t.id, limit: 500 })).find((e) => e.type === 'workspace.provisioned')!.payload.path);
        assert.ok(existsSync(path), 'kept while its retention runs');
        await a.coordinator.close();
        a = undefined;
        await new Promise((r) => setTimeout(r, 1200));
        const b = await startGantry(kind, { db, home, workspaceSweepMs: 3_600_000 });
        try {
          // No sweep runs within the hour: only the gc at factory start can have removed it.
          assert.equal(existsSync(path), false, 'collected as the factories started');
          const gc = (await b.coordinator.store.events.list({ limit: 5000 })).filter((e) => e.type === 'workspace.gc').map((e) => e.payload.actions);
          assert.deepEqual(gc.flat(), [{ taskId: t.id, action: 'teardown', error: null }]);
        } finally {
          await b.close();
        }
      } finally {
        await a?.coordinator.close();
        await db.dispose();
        rmSync(home, { recursive: true, force: true });
        if (repo) rmSync(repo, { recursive: true, force: true });
      }
    });

    it('8. checkpoints are taken while an agent works, before a timeout kill, and when a step fails', async () => {
      const p = await g.project(`version: 1
workspace:
  checkpoints: { debounceMs: 200 }
pipelines:
  slow: { steps: [ { id: work, kind: agent, role: slow }, { id: merge, kind: merge } ] }
${scripted('      slow: [ { write: { path: draft.txt, content: "draft\\n" } }, { run: "sleep 2" }, { commit: "draft" } ]')}`);
      // A quiet period no test outlasts: only the kill and the failure can checkpoint these.
      const q = await g.project(`version: 1
workspace:
  checkpoints: { debounceMs: 3600000 }
pipelines:
  late: { steps: [ { id: work, kind: agent, role: late, timeout: 8 }, { id: merge, kind: merge } ] }
  dies: { steps: [ { id: work, kind: agent, role: dies }, { id: merge, kind: merge } ] }
${scripted(`      late: [ { write: { path: partial.txt, content: "partial\\n" } }, { run: "sleep 60" } ]
      dies: [ { write: { path: half.txt, content: "half\\n" } }, { fail: "gave up" } ]`)}`);
      const cps = async (id: string) => (await g.req('GET', `/api/tasks/${id}/checkpoints`)).body.checkpoints as { reason: string; step: string | null; sha: string }[];
      const has = (repo: string, sha: string, file: string) => git(repo, 'ls-tree', '--name-only', sha).split('\n').includes(file);
      const slow = await g.submit({ title: 'slow', project: p.id, pipeline: 'slow' });
      assert.equal((await g.settle(slow.id)).stage, 'shipped');
      const slowCps = await cps(slow.id);
      // A checkpoint of the draft taken while the agent still worked: the agent had not committed it yet.
      const mid = slowCps.find((c) => c.reason === 'debounce' && c.step === 'work' && has(p.repo, c.sha, 'draft.txt'));
      assert.ok(mid, `a debounced checkpoint while the agent worked: ${JSON.stringify(slowCps.map((c) => c.reason))}`);
      const agentHead = /Gantry-Head: *([0-9a-f]+)/.exec(git(p.repo, 'show', '-s', '--format=%B', mid.sha))?.[1] ?? '';
      assert.ok(!has(p.repo, agentHead, 'draft.txt'), 'taken before the agent committed');
      assert.equal(git(p.repo, 'show', `${mid.sha}:draft.txt`), 'draft');

      const late = await g.submit({ title: 'late', project: q.id, pipeline: 'late' });
      assert.equal((await g.settle(late.id)).stage, 'failed');
      assert.equal((await g.run(late.id))!.run.failureKind, 'timeout');
      const lateCps = await cps(late.id);
      const beforeKill = lateCps.find((c) => c.reason === 'timeout');
      assert.ok(beforeKill, `a checkpoint before the timeout kill: ${JSON.stringify(lateCps.map((c) => c.reason))}`);
      assert.equal(git(q.repo, 'show', `${beforeKill.sha}:partial.txt`), 'partial');

      const dies = await g.submit({ title: 'dies', project: q.id, pipeline: 'dies' });
      assert.equal((await g.settle(dies.id)).stage, 'failed');
      const diesCps = await cps(dies.id);
      assert.ok(diesCps.some((c) => has(q.repo, c.sha, 'half.txt')), `the failed step's work is in a checkpoint: ${JSON.stringify(diesCps.map((c) => c.reason))}`);
    });

    it('9. lightweight provisioning: gantry.yaml turns it on for a project, a task asks for it at submit', async () => {
      const yaml = (lightweight: boolean) => `version: 1
workspace:
  lightweight: ${lightweight}
  setup: { commands: ["touch .setup-ran"] }
pipelines:
  probe: { steps: [ { id: implement, kind: agent, role: probe }, { id: merge, kind: merge } ] }
${scripted('      probe: [ { write: { path: p.txt, content: "p\\n" } }, { commit: "p" } ]')}`;
      const heavy = await g.project(yaml(false));
      const light = await g.project(yaml(true));
      const setupOf = async (taskId: string) =>
        (await g.coordinator.store.events.list({ taskId, limit: 500 })).filter((e) => e.type.startsWith('workspace.step_') && e.payload.step === 'setup').map((e) => e.type);
      const a = await g.submit({ title: 'default', project: heavy.id, pipeline: 'probe' });
      // The CLI: `gantry add … --lightweight`.
      const added = await gantry(['add', 'task asks', '--project', heavy.id, '--pipeline', 'probe', '--lightweight', '--json', '--url', g.coordinator.url, '--token', g.coordinator.adminToken]);
      assert.equal(added.code, 0, added.stderr);
      const b = (JSON.parse(added.stdout) as { task: { id: string; lightweight: boolean } }).task;
      const c2 = await g.submit({ title: 'project says', project: light.id, pipeline: 'probe' });
      for (const t of [a, b, c2]) assert.equal((await g.settle(t.id)).stage, 'shipped');
      assert.deepEqual(await setupOf(a.id), ['workspace.step_started', 'workspace.step_completed']);
      assert.deepEqual(await setupOf(b.id), ['workspace.step_skipped']);
      assert.deepEqual(await setupOf(c2.id), ['workspace.step_skipped']);
      assert.equal(b.lightweight, true);
      const bad = await g.req('POST', '/api/tasks', { title: 'x', project: heavy.id, lightweight: 'yes' });
      assert.equal(bad.status, 400);
      assert.match(String((bad.body.error as { field?: string }).field), /lightweight/);
    });
  });
}
