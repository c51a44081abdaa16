// Replies reach agents on remote factories: a `gantry factory` (token only) runs a task whose scripted
// agent asks a question; an operator answers the session through the coordinator's public API
// (`POST /api/sessions/:id/input`, what `gantry reply SESSION` sends). The task goes on on the
// factory, and the resumed agent's prompt carries the reply: it copies its prompt into the change that
// ships, so the merged commit on the remote's main holds the text. The factory is away when the reply
// is posted and comes back for it. Real processes, real git over HTTP. The in-process case (`gantry up`)
// goes the same way: before the fix neither reached the agent (no input sink was wired at all).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { storeCases } from '../support/db.js';
import { gitAsync } from '../support/git-http.js';
import { newTask } from '../support/fixtures.js';
import { until } from './support.js';
import { api, enroll, factory, setupRemote, shipped, stop, type Proc } from './remote-rig.js';
import type { SessionView } from '../../src/lifecycle/manager.js';
import { startGantry } from '../engine/e2e/gantry.js';
import { git } from '../support/git.js';
import { stringify } from 'yaml';
import { lifecycleStore } from '../../src/store/session-repo.js';

const REPLY = 'use sqlite, reply-marker-4be1';

/** The task's session that asked its question (in-process, through `gantry up`'s API). */
const asking = (g: Awaited<ReturnType<typeof startGantry>>, id: string): Promise<SessionView> =>
  until(async () => {
    const r = await g.req('GET', `/api/sessions?task=${id}`);
    return (r.body.sessions as SessionView[]).find((s) => s.display === 'needs_input');
  }, 'a needs-input session', 60_000);

const config = (options: string[] = []) => ({
  version: 1,
  defaults: { pipeline: 'quick', agent: 'scripted' },
  sandbox: { mode: 'off' },
  checks: [{ name: 'probe', run: 'echo ok' }],
  agents: {
    scripted: {
      roles: {
        implementer: {
          attempts: [[{ say: 'looking around' }, { ask: { question: 'Which database?', options } }]],
          // Resumed with the reply: the prompt it was given goes into the change.
          resumed: [{ run: 'cp "$GANTRY_PROMPT_FILE" answer.md' }, { commit: 'write down the answer' }],
        },
      },
    },
  },
});

type Input = { state: string; attempts: number; source: string; text: string; lastError: string | null };

for (const sc of storeCases()) {
  describe(`replies to remote agent sessions: ${sc.kind}`, { skip: sc.skip }, () => {
    it('a reply posted while the remote factory is away reaches its agent when it is back, once; stale or foreign epochs read nothing', { timeout: 240_000 }, async () => {
      const e = await setupRemote(sc.kind, () => config());
      let f: Proc | undefined;
      try {
        const { tokenFile, token: factoryToken } = await enroll(e, 'remote-r');
        const { token: otherToken } = await enroll(e, 'remote-other');
        const { token: operator } = await e.c.store.tokens.create({ name: 'person', role: 'operator' });
        const id = (await e.c.store.tasks.submit(newTask(e.projectId, { title: 'asks first', pipeline: 'quick', agent: 'scripted' }))).task.id;
        const home = join(e.dir, 'factory-home');
        f = factory(e.c.url, tokenFile, 'remote-r', home);
        const asked = await until(async () => {
          const r = await api(e, operator, 'GET', `/api/sessions?task=${id}`);
          return (r.body.sessions as SessionView[]).find((s) => s.display === 'needs_input');
        }, 'a needs-input session', 120_000);
        await until(async () => ((await e.c.store.tasks.get(id))?.stage === 'blocked' ? true : undefined), 'the run parks on the question');
        const epoch = (await e.c.store.tasks.get(id))!.leaseEpoch;
        // The factory goes away; the person answers meanwhile.
        await stop(f);
        const sent = await api(e, operator, 'POST', `/api/sessions/${asked.id}/input`, { text: REPLY });
        assert.equal(sent.status, 202, JSON.stringify(sent.body));
        // Handed to the run at once: the task waits in the queue for a factory, the input for the agent's next turn.
        await until(async () => ((await e.c.store.tasks.get(id))?.stage === 'queued' ? true : undefined), 'the reply requeues the task');
        const inputsOf = async (): Promise<Input[]> => (await api(e, operator, 'GET', `/api/sessions/${asked.id}`)).body.inputs as Input[];
        await until(async () => ((await inputsOf())[0]?.state === 'delivered' ? true : undefined), 'the input delivered to the run');
        // The reply travels to a factory only inside the run, which only the live lease holder reads.
        const stale = await api(e, factoryToken, 'GET', `/api/fleet/jobs/${id}/run?leaseEpoch=${epoch}`);
        assert.equal(stale.status, 409, JSON.stringify(stale.body));
        assert.ok(!JSON.stringify(stale.body).includes('reply-marker-4be1'));
        const foreign = await api(e, otherToken, 'GET', `/api/fleet/jobs/${id}/run?leaseEpoch=${epoch}`);
        assert.equal(foreign.status, 409, JSON.stringify(foreign.body));
        assert.ok(!JSON.stringify(foreign.body).includes('reply-marker-4be1'));

        // Back (a new process on the same home): it claims the task and resumes the agent with the reply.
        f = factory(e.c.url, tokenFile, 'remote-r', home);
        await shipped(e, id, f, 180_000);
        const onMain = await gitAsync(e.bare, 'show', 'main:answer.md');
        assert.match(onMain, /A person answered your question \("Which database\?"\): use sqlite, reply-marker-4be1/, 'the resumed agent was given the reply');
        // Delivered once, acknowledged by the launch that continued the conversation.
        assert.deepEqual((await inputsOf()).map((i) => [i.state, i.attempts]), [['acknowledged', 1]]);
        const sessions = (await api(e, operator, 'GET', `/api/sessions?task=${id}`)).body.sessions as SessionView[];
        assert.equal(sessions.length, 2, 'the asking launch and the one resumed with the reply');
        const first = sessions.find((s) => s.id === asked.id)!;
        assert.equal(first.state, 'done');
        assert.match(first.reason ?? '', /^continued in /);
      } finally {
        if (f) await stop(f);
        await e.dispose();
      }
    });

    it('the same reply reaches an in-process agent (gantry up)', { timeout: 120_000 }, async () => {
      const g = await startGantry(sc.kind);
      try {
        const { id: project, repo } = await g.project(stringify(config()));
        const id = (await g.submit({ project, title: 'asks first', pipeline: 'quick', agent: 'scripted' })).id;
        const asked = await asking(g, id);
        const sent = await g.req('POST', `/api/sessions/${asked.id}/input`, { text: REPLY });
        assert.equal(sent.status, 202, JSON.stringify(sent.body));
        assert.equal((await g.settle(id)).stage, 'shipped');
        assert.match(git(repo, 'show', 'main:answer.md'), /reply-marker-4be1/);
        const inputs = (await g.req('GET', `/api/sessions/${asked.id}`)).body.inputs as Input[];
        assert.deepEqual(inputs.map((i) => [i.state, i.attempts]), [['acknowledged', 1]]);
      } finally {
        await g.close();
      }
    });
    it('a reaction\'s message queued on the session first does not hold the reply back', { timeout: 120_000 }, async () => {
      const g = await startGantry(sc.kind);
      try {
        const { id: project, repo } = await g.project(stringify(config()));
        const id = (await g.submit({ project, title: 'asks first', pipeline: 'quick', agent: 'scripted' })).id;
        const asked = await asking(g, id);
        // A checks-failed reaction queued its text on the session (as reactions.ts does) before the person replies.
        await lifecycleStore(g.coordinator.store).write((tx) => tx.inputs.enqueue(asked.id, 'checks failed: probe', 'reaction:checks-failed', Date.now()));
        const sent = await g.req('POST', `/api/sessions/${asked.id}/input`, { text: REPLY });
        assert.equal(sent.status, 202, JSON.stringify(sent.body));
        assert.equal((await g.settle(id)).stage, 'shipped');
        assert.match(git(repo, 'show', 'main:answer.md'), /reply-marker-4be1/);
        const inputs = (await g.req('GET', `/api/sessions/${asked.id}`)).body.inputs as Input[];
        const bySource = Object.fromEntries(inputs.map((i) => [i.source, i]));
        assert.equal(bySource.human?.state, 'acknowledged');
        assert.equal(bySource['reaction:checks-failed']?.state, 'failed');
        assert.match(bySource['reaction:checks-failed']?.lastError ?? '', /reaction/);
      } finally {
        await g.close();
      }
    });

    it('a reply that is not one of the offered options is refused at once (409, nothing queued); the corrected one answers', { timeout: 120_000 }, async () => {
      const g = await startGantry(sc.kind);
      try {
        const { id: project, repo } = await g.project(stringify(config(['sqlite', 'postgres, reply-marker-4be1'])));
        const id = (await g.submit({ project, title: 'asks first', pipeline: 'quick', agent: 'scripted' })).id;
        const asked = await until(async () => {
          const r = await g.req('GET', `/api/sessions?task=${id}`);
          const run = await g.run(id);
          return run?.run.state === 'parked' && run.run.waiting?.kind === 'decision' ? (r.body.sessions as SessionView[]).find((s) => s.display === 'needs_input') : undefined;
        }, 'a session parked on its decision', 60_000);
        const wrong = await g.req('POST', `/api/sessions/${asked.id}/input`, { text: 'mysql' });
        assert.equal(wrong.status, 409, JSON.stringify(wrong.body));
        assert.match(JSON.stringify(wrong.body), /sqlite/);
        assert.match(JSON.stringify(wrong.body), /postgres, reply-marker-4be1/);
        assert.deepEqual((await g.req('GET', `/api/sessions/${asked.id}`)).body.inputs, [], 'nothing queued');
        const sent = await g.req('POST', `/api/sessions/${asked.id}/input`, { text: 'postgres, reply-marker-4be1' });
        assert.equal(sent.status, 202, JSON.stringify(sent.body));
        assert.equal((await g.settle(id)).stage, 'shipped');
        assert.match(git(repo, 'show', 'main:answer.md'), /reply-marker-4be1/);
      } finally {
        await g.close();
      }
    });
  });
}
