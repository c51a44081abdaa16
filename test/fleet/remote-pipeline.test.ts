// Remote factories run the real pipeline (issue #14 item 1). A coordinator (the API server, no
// in-process factories) on SQLite and on PostgreSQL; the project lives in a git remote served over
// smart HTTP with basic auth; `gantry factory` runs as a separate process in its own home holding
// only a factory token — no database credentials — and the remote's credentials come from its host's
// own git configuration (a credential helper), never from the coordinator. Tasks go through the
// `quick` pipeline with the scripted agent and ship exactly once; a commit with a stale epoch, raced
// against the operator action that moves the epoch, gets 409 and changes nothing; a factory SIGKILLed
// mid-run and restarted resumes the task and ships it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { storeCases } from '../support/db.js';
import { gitAsync } from '../support/git-http.js';
import { until } from './support.js';
import { api, enroll, factory, mergedIntents, SECRET, setupRemote, shipped, stop, submit, type Proc, type RemoteEnv } from './remote-rig.js';

/** The project's gantry.yaml as the coordinator registered it; the first implementer launch of a task marked `slow` sleeps (to be killed). */
const config = (markers: string, sandboxed: boolean) => ({
  version: 1,
  defaults: { pipeline: 'quick', agent: 'scripted' },
  // The kill tests' agents touch a marker outside their worktree; the others run in the default sandbox.
  ...(sandboxed ? {} : { sandbox: { mode: 'off' } }),
  checks: [{ name: 'probe', run: 'echo checked-on-the-factory-host' }],
  agents: {
    scripted: {
      roles: {
        implementer: [
          { say: 'working on it' },
          // Unique content per launch, so no task ships "empty" and no two tasks touch the same file.
          { run: `f=out-$(cat /proc/sys/kernel/random/uuid).txt; echo ok > "$f"; if [ -f ${markers}/slow ] && [ ! -f ${markers}/slept ]; then touch ${markers}/slept; sleep 60; fi` },
          { commit: 'do the work' },
        ],
      },
    },
  },
});

type Env = RemoteEnv;

const setup = (kind: 'sqlite' | 'postgres', o: { sandboxed?: boolean } = {}): Promise<Env> => setupRemote(kind, (markers) => config(markers, o.sandboxed ?? false));

for (const sc of storeCases()) {
  describe(`remote factories run the pipeline: ${sc.kind}`, { skip: sc.skip }, () => {
    it('a factory with only a token ships quick-pipeline tasks exactly once, landing on the HTTP remote', { timeout: 240_000 }, async (t) => {
      const e = await setup(sc.kind, { sandboxed: true });
      let f: Proc | undefined;
      try {
        const { factoryId, token, tokenFile } = await enroll(e, 'remote-1');
        const before = await gitAsync(e.bare, 'rev-parse', 'main');
        const ids = [await submit(e, 'first'), await submit(e, 'second'), await submit(e, 'third')];
        f = factory(e.c.url, tokenFile, 'remote-1', join(e.dir, 'factory-home'));
        for (const id of ids) await shipped(e, id, f);
        for (const id of ids) {
          const ev = await e.c.store.events.list({ taskId: id, limit: 500 });
          const at = (type: string) => ev.find((x) => x.type === type)?.at ?? 0;
          t.diagnostic(`${id}: granted → released ${at('lease.released') - at('lease.granted')} ms (${ev.length} events)`);
          assert.equal(await mergedIntents(e, id), 1, `${id} merged exactly once`);
          const runs = await e.c.store.db.all<{ state: string }>('SELECT state FROM runs WHERE task_id = ?', [id]);
          assert.deepEqual(runs.map((r) => r.state), ['done'], 'one run, driven to done on the remote factory');
          const leases = (await e.c.fleet.runs(id)).leases;
          assert.deepEqual(leases.map((l) => [l.factoryId, l.outcome]), [[factoryId, 'done']]);
        }
        // Three merges landed on the remote, over HTTP, one file per task.
        const files = (await gitAsync(e.bare, 'ls-tree', '--name-only', 'main')).split('\n').filter((x) => x.startsWith('out-'));
        assert.equal(files.length, 3, files.join(' '));
        assert.notEqual(await gitAsync(e.bare, 'rev-parse', 'main'), before);
        assert.ok(e.git.requests.some((q) => q.method === 'POST' && q.path.endsWith('/git-receive-pack') && q.status === 200), 'landed by a push over HTTP');
        // The coordinator never handed out the remote's password: the factory's git asked its own host.
        const project = await api(e, token, 'GET', `/api/fleet/projects/${e.projectId}`);
        assert.equal(project.status, 200);
        assert.ok(!JSON.stringify(project.body).includes(SECRET), 'no credentials in the factory view of the project');
        assert.equal((project.body.project as { path: string }).path, '');
        assert.ok(!f.out().includes(SECRET) && !f.out().includes(token), 'the factory logs neither the remote password nor its token');
        // Remote work is visible on the coordinator: the agent's transcript and the check's log were streamed there.
        const dispatched = (await e.c.store.events.list({ taskId: ids[0], limit: 500 })).find((x) => x.type === 'session.dispatched');
        assert.ok(dispatched?.sessionId);
        const transcript = await api(e, e.c.adminToken, 'GET', `/api/ui/sessions/${encodeURIComponent(dispatched.sessionId)}/transcript`);
        assert.equal(transcript.status, 200, JSON.stringify(transcript.body));
        assert.match(JSON.stringify(transcript.body.transcript), /working on it/, 'the scripted agent said it; the transcript shows it');
        const checkLog = await fetch(`${e.c.url.replace(/\/$/, '')}/api/tasks/${ids[0]}/run/steps/checks/log?round=0&check=probe`, { headers: { Authorization: `Bearer ${e.c.adminToken}` } });
        assert.equal(checkLog.status, 200, await checkLog.clone().text());
        assert.match(await checkLog.text(), /checked-on-the-factory-host/);
        // The run/step API is the factory protocol: other tokens are refused.
        const admin = await api(e, e.c.adminToken, 'GET', `/api/fleet/jobs/${ids[0]}/run?leaseEpoch=1`);
        assert.equal(admin.status, 403);
      } finally {
        if (f) await stop(f);
        await e.dispose();
      }
    });

    it('a stale epoch is refused with 409 on every fenced write, raced against the operator action that moved it', { timeout: 60_000 }, async () => {
      const e = await setup(sc.kind);
      try {
        const { factoryId, token } = await enroll(e, 'racer');
        const id = await submit(e, 'raced');
        assert.equal((await api(e, token, 'POST', '/api/fleet/factories/heartbeat', { factoryId, capabilities: [], health: 'ok', load: 0 })).status, 200);
        const claim = await api(e, token, 'POST', '/api/fleet/claim', { factoryId, capabilities: [] });
        assert.equal(claim.status, 200, JSON.stringify(claim.body));
        const epoch = claim.body.leaseEpoch as number;
        const pipeline = { name: 'quick', steps: [{ id: 'implement', kind: 'agent', role: 'implementer' }, { id: 'merge', kind: 'merge' }] };
        const started = await api(e, token, 'POST', `/api/fleet/jobs/${id}/run/start`, { leaseEpoch: epoch, pipeline });
        assert.equal(started.status, 201, JSON.stringify(started.body));
        const run = (started.body.run as { run: { id: string; rev: number } }).run;
        // Log chunks while the lease is held: appended once, a resend is skipped, a gap says where to resume.
        const chunk = (offset: number, text: string, path = `${id}/${run.id}/checks/round-0/probe.log`, leaseEpoch = epoch) =>
          api(e, token, 'POST', `/api/fleet/jobs/${id}/logs`, { leaseEpoch, kind: 'checks', path, offset, data: Buffer.from(text).toString('base64') });
        assert.deepEqual((await chunk(0, 'hello ')).body, { size: 6 });
        assert.deepEqual((await chunk(0, 'hello ')).body, { size: 6 }, 'a resent chunk is skipped');
        assert.deepEqual((await chunk(3, 'lo world')).body, { size: 11 }, 'an overlapping chunk adds only its tail');
        const gap = await chunk(20, 'lost');
        assert.equal(gap.status, 409);
        assert.equal((gap.body.error as { details: { size: number } }).details.size, 11, 'resume from the size the coordinator holds');
        assert.equal((await chunk(0, 'x', 't-someoneelse/log.txt')).status, 403, "another task's log path is refused");
        assert.equal((await chunk(11, 'x', '../escape.log')).status, 400, 'only plain path segments');
        const commit = (rev: number) =>
          api(e, token, 'POST', `/api/fleet/jobs/${id}/run/commit`, {
            leaseEpoch: epoch,
            change: { runId: run.id, expectedRev: rev, run: { currentStep: 0, markStarted: true }, steps: [{ idx: 0, state: 'working', attempts: 1, markStarted: true }], events: [{ type: 'step.started', payload: { step: 'implement', idx: 0 } }] },
          });
        // The operator requeues while the factory commits: whichever lands first, the other sees it.
        const [raced, requeued] = await Promise.all([commit(run.rev), api(e, e.c.adminToken, 'POST', `/api/fleet/jobs/${id}/actions/requeue`, { reason: 'race' })]);
        assert.equal(requeued.status, 200, JSON.stringify(requeued.body));
        assert.ok(raced.status === 200 || raced.status === 409, `commit ${raced.status}: ${JSON.stringify(raced.body)}`);
        const revAfterRace = Number((await e.c.store.db.get<{ rev: number }>('SELECT rev FROM runs WHERE id = ?', [run.id]))!.rev);
        // From now on every write with the old epoch is 409 and changes nothing.
        const stale = await commit(revAfterRace);
        assert.equal(stale.status, 409, JSON.stringify(stale.body));
        assert.equal((stale.body.error as { code: string }).code, 'stale_epoch');
        const sha = 'a'.repeat(40);
        const writes = await Promise.all([
          api(e, token, 'POST', `/api/fleet/jobs/${id}/merges`, { leaseEpoch: epoch, intent: { runId: run.id, baseBranch: 'main', expectedBaseSha: sha, headSha: sha } }),
          api(e, token, 'POST', `/api/fleet/jobs/${id}/checkpoints`, { leaseEpoch: epoch, checkpoint: { seq: 1, ref: 'refs/gantry/x', sha, parentSha: null, step: null, reason: 'test', filesChanged: 0, linesAdded: 0, linesRemoved: 0 } }),
          api(e, token, 'POST', `/api/fleet/jobs/${id}/run/start`, { leaseEpoch: epoch, pipeline }),
          api(e, token, 'GET', `/api/fleet/jobs/${id}/run?leaseEpoch=${epoch}`),
        ]);
        assert.deepEqual(writes.map((w) => w.status), [409, 409, 409, 409], JSON.stringify(writes.map((w) => w.body)));
        const staleLog = await chunk(11, ' after');
        assert.equal(staleLog.status, 409);
        assert.equal((staleLog.body.error as { code: string }).code, 'stale_epoch');
        assert.equal(Number((await e.c.store.db.get<{ rev: number }>('SELECT rev FROM runs WHERE id = ?', [run.id]))!.rev), revAfterRace, 'the run did not move');
        assert.equal(Number((await e.c.store.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM merge_intents WHERE task_id = ?', [id]))!.n), 0);
        assert.equal(Number((await e.c.store.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM checkpoints WHERE task_id = ?', [id]))!.n), 0);
        // Bad input is refused with what is wrong, and changes nothing.
        const bad = await api(e, token, 'POST', `/api/fleet/jobs/${id}/run/commit`, { leaseEpoch: 'one', change: {} });
        assert.equal(bad.status, 400);
      } finally {
        await e.dispose();
      }
    });

    it('a factory SIGKILLed mid-run and restarted resumes the task; it ships once', { timeout: 240_000 }, async () => {
      const e = await setup(sc.kind);
      let second: Proc | undefined;
      try {
        const { factoryId, tokenFile } = await enroll(e, 'phoenix');
        writeFileSync(join(e.markers, 'slow'), '');
        const id = await submit(e, 'survive');
        const home = join(e.dir, 'phoenix-home');
        const first = factory(e.c.url, tokenFile, 'phoenix', home);
        // The agent is in its long sleep: the run is on the coordinator, dispatched by the remote engine.
        await until(async () => {
          const s = await e.c.store.db.get<{ n: number }>("SELECT COUNT(*) AS n FROM events WHERE task_id = ? AND type = 'session.dispatched'", [id]);
          return Number(s?.n ?? 0) > 0 && existsSync(join(e.markers, 'slept'));
        }, `agent running\n${first.out()}`, 120_000);
        first.child.kill('SIGKILL');
        await first.exited;
        second = factory(e.c.url, tokenFile, 'phoenix', home);
        await shipped(e, id, second);
        assert.equal(await mergedIntents(e, id), 1);
        const leases = (await e.c.fleet.runs(id)).leases;
        assert.deepEqual(leases.map((l) => l.factoryId), [factoryId, factoryId]);
        assert.equal(leases[0]!.outcome, 'factory_restarted', 'the restarted factory reclaimed its previous process lease at once');
        assert.equal(leases[1]!.outcome, 'done');
        const runs = await e.c.store.db.all<{ state: string }>('SELECT state FROM runs WHERE task_id = ?', [id]);
        assert.deepEqual(runs.map((r) => r.state), ['done'], 'the same run resumed, not a new one');
      } finally {
        if (second) await stop(second);
        await e.dispose();
      }
    });
    it('three factories, all SIGKILLed mid-run and restarted: every task ships exactly once', { timeout: 900_000 }, async (t) => {
      const e = await setup(sc.kind);
      const running: Proc[] = [];
      try {
        const names = ['a', 'b', 'c'];
        const tokens = await Promise.all(names.map((n) => enroll(e, `chaos-${n}`)));
        writeFileSync(join(e.markers, 'slow'), '');
        const ids: string[] = [];
        for (let i = 0; i < 6; i++) ids.push(await submit(e, `chaos ${i}`));
        const start = () => names.map((n, i) => factory(e.c.url, tokens[i]!.tokenFile, `chaos-${n}`, join(e.dir, `chaos-${n}`)));
        running.push(...start());
        // One agent sleeps; the others are at work or done: kill every factory at once.
        await until(() => (existsSync(join(e.markers, 'slept')) ? true : undefined), 'an agent in its long sleep', 180_000);
        const held = (await Promise.all(ids.map((id) => e.c.store.tasks.get(id)))).filter((x) => x?.leaseFactoryId).length;
        for (const p of running) p.child.kill('SIGKILL');
        await Promise.all(running.map((p) => p.exited));
        const killedAt = Date.now();
        running.push(...start());
        // Six merges race for one base branch on a shared 2-core host: generous waits, no timing claims.
        for (const id of ids) await shipped(e, id, running.at(-1)!, 300_000);
        t.diagnostic(`${held} task(s) held at the kill; all 6 shipped ${Math.round((Date.now() - killedAt) / 1000)} s after the restart`);
        for (const id of ids) {
          assert.equal(await mergedIntents(e, id), 1, `${id} merged exactly once`);
          const merged = (await e.c.store.events.list({ taskId: id, limit: 1000 })).filter((x) => x.type === 'merge.merged');
          assert.equal(merged.length, 1, `${id}: one merge`);
          const runs = await e.c.store.db.all<{ state: string }>('SELECT state FROM runs WHERE task_id = ?', [id]);
          assert.deepEqual(runs.map((r) => r.state), ['done']);
        }
        const reclaimed = await e.c.store.db.get<{ n: number }>("SELECT COUNT(*) AS n FROM events WHERE type = 'lease.reclaimed'");
        assert.ok(Number(reclaimed?.n ?? 0) >= 1, 'the restarted factories reclaimed what their previous processes held');
      } finally {
        for (const p of running) await stop(p);
        await e.dispose();
      }
    });
  });
}
