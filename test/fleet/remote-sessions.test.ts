// Remote work is visible (issue #14 item 2): the agent sessions a `gantry factory` runs are
// first-class on the coordinator. Real processes on SQLite and PostgreSQL: a coordinator (no in-process
// factories), the project in a git remote over HTTP, `gantry factory` with only a token file, and the
// scripted agent. A task whose agent asks a question shows its session working → needs input on the
// coordinator (`GET /api/sessions`, `gantry sessions`); the answer continues the conversation in a new
// session, which goes working → done, and the merge lands on its change axis. Reports with a stale
// epoch are refused with 409 and record nothing; a resent batch changes nothing.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { storeCases } from '../support/db.js';
import { gantry } from '../support/cli.js';
import { newTask } from '../support/fixtures.js';
import { until } from './support.js';
import { api, enroll, factory, SECRET, setupRemote, USER, type RemoteEnv } from './remote-rig.js';
import type { SessionView } from '../../src/lifecycle/manager.js';
import { endLostRemoteSessions } from '../../src/lifecycle/remote-evidence.js';
import { remoteSessionsWithoutLease } from '../../src/store/remote-session-repo.js';

/** In the task's brief (the agent's prompt): it must never reach a session record or event. */
const BRIEF = 'brief-marker-7f3a: pick a database and write the file';

const CHATTER = 40;

/** The implementer asks first; resumed with the answer, it does the work. */
const config = {
  version: 1,
  defaults: { pipeline: 'quick', agent: 'scripted' },
  sandbox: { mode: 'off' },
  checks: [{ name: 'probe', run: 'echo ok' }],
  agents: {
    scripted: {
      roles: {
        implementer: {
          // Chatty: every line is a protocol event, i.e. a "working" observation on the factory.
          attempts: [[...Array.from({ length: CHATTER }, (_, i) => ({ say: `looking around ${i}` })), { ask: { question: 'Which database?', options: ['sqlite', 'postgres'] } }]],
          resumed: [{ say: 'going with it' }, { run: 'echo ok > "out-$(cat /proc/sys/kernel/random/uuid).txt"' }, { commit: 'do the work' }],
        },
      },
    },
  },
};

type Env = RemoteEnv;

const setup = (kind: 'sqlite' | 'postgres', o: { lifecycleTickMs?: number } = {}): Promise<Env> => setupRemote(kind, () => config, {}, o);

const sessionsOf = async (e: Env, taskId: string): Promise<SessionView[]> =>
  ((await api(e, e.c.adminToken, 'GET', `/api/sessions?task=${taskId}`)).body.sessions as SessionView[]).sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));

/** The session states the coordinator recorded for a session, in order, without repeats. */
async function statesOf(e: Env, sessionId: string): Promise<string[]> {
  const rows = await e.c.store.db.all<{ payload: string }>("SELECT payload FROM events WHERE session_id = ? AND type IN ('session.created', 'session.updated') ORDER BY seq", [sessionId]);
  const states = rows.map((r) => (JSON.parse(r.payload) as { state: string }).state);
  return states.filter((s, i) => s !== states[i - 1]);
}

for (const sc of storeCases()) {
  describe(`remote sessions are first-class on the coordinator: ${sc.kind}`, { skip: sc.skip }, () => {
    it('a remote agent that asks shows needs-input; answered, its conversation goes on and the session ends done', { timeout: 240_000 }, async (t) => {
      const e = await setup(sc.kind);
      let f: ReturnType<typeof factory> | undefined;
      try {
        const { factoryId, tokenFile } = await enroll(e, 'remote-s');
        const id = (await e.c.store.tasks.submit(newTask(e.projectId, { title: 'asks first', body: BRIEF, pipeline: 'quick', agent: 'scripted' }))).task.id;
        f = factory(e.c.url, tokenFile, 'remote-s', join(e.dir, 'factory-home'));
        // The question is on the coordinator, as the session's state, while the run parks on it.
        const asked = await until(async () => (await sessionsOf(e, id)).find((s) => s.display === 'needs_input'), `a needs-input session\n${f.out()}`, 120_000);
        assert.equal(asked.reason, 'question');
        assert.equal(asked.factoryId, factoryId, 'recorded as the remote factory’s session');
        assert.equal(asked.agent, 'scripted');
        assert.equal(asked.agentSessionId !== null, true, "the agent's own session id (the resume key) was reported");
        await until(async () => ((await e.c.store.tasks.get(id))?.stage === 'blocked' ? true : undefined), 'the run parks on the question');
        // `gantry sessions` shows it the same way.
        const cli = await gantry(['sessions', '--task', id, '--json'], { env: { GANTRY_URL: e.c.url, GANTRY_TOKEN: e.c.adminToken } });
        assert.equal(cli.code, 0, cli.stderr);
        const listed = (JSON.parse(cli.stdout) as { sessions: SessionView[] }).sessions;
        assert.deepEqual(listed.map((s) => [s.id, s.display]), [[asked.id, 'needs_input']]);

        assert.equal((await api(e, e.c.adminToken, 'POST', `/api/tasks/${id}/run/answer`, { text: 'sqlite' })).status, 200);
        await until(async () => {
          const stage = (await e.c.store.tasks.get(id))?.stage;
          if (stage === 'failed' || stage === 'dead_letter') throw new Error(`${id} ${stage}\n${f!.out()}`);
          return stage === 'shipped' || undefined;
        }, `${id} shipped\n${f.out()}`, 180_000);
        // The resumed launch's reports are flushed before the lease is released: nothing to wait for.
        const [first, second, ...rest] = await sessionsOf(e, id);
        assert.equal(rest.length, 0, 'one session per launch');
        assert.equal(first!.id, asked.id);
        assert.equal(first!.state, 'done', 'the question was answered in a new launch: the first record is done');
        assert.match(first!.reason ?? '', new RegExp(`continued in ${second!.id}`));
        assert.deepEqual(await statesOf(e, first!.id), ['not_started', 'working', 'needs_input', 'done']);
        assert.equal(second!.state, 'done');
        assert.equal(second!.factoryId, factoryId);
        assert.deepEqual(await statesOf(e, second!.id), ['not_started', 'working', 'done']);
        assert.equal(second!.runtime.state, 'exited');
        assert.equal(second!.runtime.exitCode, 0);
        assert.equal(second!.change, 'merged', "the merge step's observation reached the change axis of the session that made the change");
        // Batched and coalesced: the chatty agent's reports took far fewer requests than observations.
        const metrics = await (await fetch(`${e.c.url.replace(/\/$/, '')}/metrics`, { headers: { Authorization: `Bearer ${e.c.adminToken}` } })).text();
        const requests = metrics.split('\n').filter((l) => l.startsWith('gantry_http_request_duration_seconds_count') && l.includes('route="/api/fleet/jobs/:id/sessions"')).reduce((n, l) => n + Number(l.split(' ').at(-1)), 0);
        const updates = Number((await e.c.store.db.get<{ n: number }>("SELECT COUNT(*) AS n FROM events WHERE task_id = ? AND type IN ('session.created', 'session.updated')", [id]))!.n);
        t.diagnostic(`${CHATTER + 10}+ observations from 2 launches → ${requests} session report request(s), ${updates} session events`);
        assert.ok(requests > 0 && requests < CHATTER, `${requests} requests`);
        // No prompt travelled with the reports: neither records nor events carry the brief.
        const events = await e.c.store.db.all<{ payload: string }>("SELECT payload FROM events WHERE task_id = ? AND type LIKE 'session.%'", [id]);
        assert.ok(events.length > 0);
        assert.ok(!JSON.stringify(events).includes('brief-marker-7f3a') && !JSON.stringify(await sessionsOf(e, id)).includes('brief-marker-7f3a'), 'no prompt in session records or events');
      } finally {
        if (f && f.child.exitCode === null) {
          f.child.kill('SIGTERM');
          await f.exited;
        }
        await e.dispose();
      }
    });

    it("a remote agent's error exit ends its session on the coordinator and notifies a person (the exited reaction)", { timeout: 120_000 }, async () => {
      const e = await setup(sc.kind);
      let f: ReturnType<typeof factory> | undefined;
      try {
        const { tokenFile } = await enroll(e, 'remote-x');
        const failing = { ...config, agents: { scripted: { roles: { implementer: [{ say: 'trying' }, { exit: 3 }] } } } };
        const project = await e.c.store.projects.create({ name: 'fails', path: '', remote: e.git.url('app.git', { user: USER, password: SECRET }), defaultBranch: 'main', config: failing });
        const id = (await e.c.store.tasks.submit(newTask(project.id, { title: 'crashes', pipeline: 'quick', agent: 'scripted' }))).task.id;
        f = factory(e.c.url, tokenFile, 'remote-x', join(e.dir, 'factory-x'));
        const ended = await until(async () => (await sessionsOf(e, id)).find((s) => s.state === 'terminated'), `a terminated session\n${f.out()}`, 90_000);
        assert.deepEqual([ended.reason, ended.display, ended.runtime.exitCode], ['exit:3', 'exited', 3]);
        const note = await until(async () => {
          const r = await api(e, e.c.adminToken, 'GET', `/api/notifications?session=${encodeURIComponent(ended.id)}`);
          return (r.body.notifications as Array<{ kind: string; priority: string }>).find((n) => n.kind === 'exited');
        }, 'the exited notification');
        assert.equal(note.priority, 'urgent');
      } finally {
        if (f && f.child.exitCode === null) {
          f.child.kill('SIGTERM');
          await f.exited;
        }
        await e.dispose();
      }
    });

    it('a factory SIGKILLed while its agent works, restarted: the lost session ends on the coordinator, the resumed one ends done', { timeout: 180_000 }, async (t) => {
      const e = await setup(sc.kind);
      let second: ReturnType<typeof factory> | undefined;
      try {
        const { tokenFile } = await enroll(e, 'phoenix-s');
        const marker = join(e.dir, 'slept');
        // The first launch sleeps (to be killed); the one after the restart does the work.
        const sleepy = { ...config, agents: { scripted: { roles: { implementer: [{ say: 'working' }, { run: `if [ ! -f ${marker} ]; then touch ${marker}; sleep 60; fi; echo ok > "out-$(cat /proc/sys/kernel/random/uuid).txt"` }, { commit: 'do the work' }] } } } };
        const project = await e.c.store.projects.create({ name: 'sleepy', path: '', remote: e.git.url('app.git', { user: USER, password: SECRET }), defaultBranch: 'main', config: sleepy });
        const id = (await e.c.store.tasks.submit(newTask(project.id, { title: 'survives', pipeline: 'quick', agent: 'scripted' }))).task.id;
        const home = join(e.dir, 'phoenix-home');
        const first = factory(e.c.url, tokenFile, 'phoenix-s', home);
        const lost = await until(async () => (await sessionsOf(e, id)).find((s) => s.display === 'working'), `a working session on the coordinator\n${first.out()}`, 90_000);
        await until(() => (existsSync(marker) ? true : undefined), 'the agent in its sleep');
        first.child.kill('SIGKILL');
        await first.exited;
        second = factory(e.c.url, tokenFile, 'phoenix-s', home);
        await until(async () => ((await e.c.store.tasks.get(id))?.stage === 'shipped' ? true : undefined), `${id} shipped\n${second.out()}`, 120_000);
        // Not "working" for ever: ended by the lifecycle (its lease is gone) or continued by the resumed launch.
        const ended = await until(async () => {
          const s = (await sessionsOf(e, id)).find((x) => x.id === lost.id)!;
          return s.state === 'terminated' || s.state === 'done' ? s : undefined;
        }, 'the lost session ended', 30_000);
        assert.ok(ended.reason === 'lease_ended' || /^continued in /.test(ended.reason ?? ''), String(ended.reason));
        t.diagnostic(`the killed factory's session ended ${ended.state} (${ended.reason})`);
        const last = (await sessionsOf(e, id)).at(-1)!;
        assert.notEqual(last.id, lost.id);
        assert.deepEqual([last.state, last.reason], ['done', 'completed']);
      } finally {
        if (second && second.child.exitCode === null) {
          second.child.kill('SIGTERM');
          await second.exited;
        }
        await e.dispose();
      }
    });

    it('session reports are fenced (stale epoch → 409, nothing recorded), owned, validated, and a resent batch changes nothing; a session whose lease ended unreported ends', { timeout: 60_000 }, async () => {
      // The lifecycle tick (which ends lost remote sessions) is driven by hand here, at known points.
      const e = await setup(sc.kind, { lifecycleTickMs: 3_600_000 });
      const sweep = () => endLostRemoteSessions(e.c.lifecycle.manager, () => remoteSessionsWithoutLease(e.c.store.db));
      try {
        const { factoryId, token } = await enroll(e, 'reporter');
        const id = (await e.c.store.tasks.submit(newTask(e.projectId, { title: 'reported', pipeline: 'quick', agent: 'scripted' }))).task.id;
        const other = (await e.c.store.tasks.submit(newTask(e.projectId, { title: 'not held', pipeline: 'quick', agent: 'scripted', priority: -1 }))).task.id;
        assert.equal((await api(e, token, 'POST', '/api/fleet/factories/heartbeat', { factoryId, capabilities: [], health: 'ok', load: 0 })).status, 200);
        const claim = await api(e, token, 'POST', '/api/fleet/claim', { factoryId, capabilities: [] });
        assert.equal(claim.status, 200, JSON.stringify(claim.body));
        assert.equal((claim.body.job as { id: string }).id, id);
        const epoch = claim.body.leaseEpoch as number;
        const pipeline = { name: 'quick', steps: [{ id: 'implement', kind: 'agent', role: 'implementer' }] };
        const run = ((await api(e, token, 'POST', `/api/fleet/jobs/${id}/run/start`, { leaseEpoch: epoch, pipeline })).body.run as { run: { id: string } }).run;
        const sid = `${run.id}_0_implement_1`;
        const t0 = Date.now();
        const batch = (leaseEpoch: number, ops: unknown[], task = id) => api(e, token, 'POST', `/api/fleet/jobs/${task}/sessions`, { leaseEpoch, sentAt: Date.now(), ops });
        const launch = [
          { op: 'create', sessionId: sid, runId: run.id, stepRowId: null, agent: 'scripted', workspace: '/factory/ws' },
          { op: 'runtime', sessionId: sid, obs: { value: { state: 'alive', pid: 4242 }, confidence: 'valid', source: 'process', at: t0, launchGeneration: 1 } },
          { op: 'spawned', sessionId: sid, launchGeneration: 1, pid: 4242, at: t0 + 1 },
          ...Array.from({ length: 20 }, (_, i) => ({ op: 'activity', sessionId: sid, obs: { value: 'working', confidence: 'valid', source: 'protocol', at: t0 + 2 + i, launchGeneration: 1 } })),
        ];
        const first = await batch(epoch, launch);
        assert.equal(first.status, 200, JSON.stringify(first.body));
        assert.equal(await sweep(), 0, 'a session under its live lease is left alone');
        const s1 = (await api(e, e.c.adminToken, 'GET', `/api/sessions/${sid}`)).body.session as SessionView;
        assert.equal(s1.display, 'working');
        assert.equal(s1.factoryId, factoryId);
        assert.equal(s1.runtime.pid, 4242);
        // The same batch again (an answer lost on the way back): recorded once, no write, no event.
        const again = await batch(epoch, launch);
        assert.equal(again.status, 200);
        assert.equal((again.body as { applied: number }).applied, 0);
        assert.equal(((await api(e, e.c.adminToken, 'GET', `/api/sessions/${sid}`)).body.session as SessionView).rev, s1.rev);
        // Only the task's own runs and sessions, only factory tokens, only well-formed reports.
        assert.equal((await batch(epoch, [{ op: 'create', sessionId: 'x_1', runId: 'r-notthisone', agent: 'scripted' }])).status, 403);
        // Evidence about a session with no record (its create lost with an earlier batch) is dropped, not the batch.
        const orphan = await batch(epoch, [{ op: 'activity', sessionId: 'never-created', obs: launch[3]!.obs }]);
        assert.equal(orphan.status, 200);
        assert.equal((orphan.body as { applied: number }).applied, 0);
        assert.equal((await api(e, e.c.adminToken, 'GET', '/api/sessions/never-created')).status, 404, 'and nothing is recorded for it');
        assert.equal((await api(e, e.c.adminToken, 'POST', `/api/fleet/jobs/${id}/sessions`, { leaseEpoch: epoch, sentAt: Date.now(), ops: launch })).status, 403);
        assert.equal((await batch(epoch, [{ op: 'activity', sessionId: sid, obs: { value: 'dancing' } }])).status, 400);
        assert.equal((await batch(epoch, [], other)).status, 400, 'an empty batch');
        assert.equal((await batch(epoch, launch, other)).status, 409, "a task this factory does not hold: its epoch is not this one's");

        // The operator requeues: the epoch moves on, and the old holder's reports change nothing.
        assert.equal((await api(e, e.c.adminToken, 'POST', `/api/fleet/jobs/${id}/actions/requeue`, { reason: 'fence it' })).status, 200);
        const late = await batch(epoch, [
          { op: 'activity', sessionId: sid, obs: { value: 'waiting_input', confidence: 'valid', source: 'protocol', at: t0 + 100, launchGeneration: 1 } },
          { op: 'runtime', sessionId: sid, obs: { value: { state: 'exited', pid: 4242, code: 0, signal: null, reason: 'exited' }, confidence: 'valid', source: 'process', at: t0 + 101, launchGeneration: 1 } },
          { op: 'create', sessionId: `${run.id}_0_implement_2`, runId: run.id, agent: 'scripted' },
        ]);
        assert.equal(late.status, 409, JSON.stringify(late.body));
        assert.equal((late.body.error as { code: string }).code, 'stale_epoch');
        const s2 = (await api(e, e.c.adminToken, 'GET', `/api/sessions/${sid}`)).body.session as SessionView;
        assert.equal(s2.rev, s1.rev, 'the session did not move');
        assert.equal(s2.display, 'working');
        assert.equal((await api(e, e.c.adminToken, 'GET', `/api/sessions/${run.id}_0_implement_2`)).status, 404, 'no record created');

        // The same factory takes the task back (as a restarted factory does): the session of the old
        // lease can never report its end now, so the lifecycle ends it; the new lease's session stays.
        const again2 = await api(e, token, 'POST', '/api/fleet/claim', { factoryId, capabilities: [] });
        assert.equal(again2.status, 200, JSON.stringify(again2.body));
        assert.equal((again2.body.job as { id: string }).id, id);
        const epoch2 = again2.body.leaseEpoch as number;
        const sid2 = `${run.id}_0_implement_3`;
        assert.equal((await batch(epoch2, [{ op: 'create', sessionId: sid2, runId: run.id, agent: 'scripted' }, { op: 'spawned', sessionId: sid2, launchGeneration: 1, pid: 4343, at: Date.now() }, { op: 'activity', sessionId: sid2, obs: { value: 'working', confidence: 'valid', source: 'protocol', at: Date.now() + 1, launchGeneration: 1 } }])).status, 200);
        await until(async () => ((await sweep()) > 0 ? true : undefined), 'the lost session ended (its lease.granted event sequenced)', 20_000);
        const lost = (await api(e, e.c.adminToken, 'GET', `/api/sessions/${sid}`)).body.session as SessionView;
        assert.deepEqual([lost.state, lost.reason, lost.display], ['terminated', 'lease_ended', 'exited']);
        const live = (await api(e, e.c.adminToken, 'GET', `/api/sessions/${sid2}`)).body.session as SessionView;
        assert.equal(live.display, 'working', 'the session of the live lease is untouched');
        assert.equal(await sweep(), 0);
      } finally {
        await e.dispose();
      }
    });
  });
}
