// Replies reach agents on remote factories: a `gantry factory` (token only) runs a task whose scripted
// agent asks a question; an operator answers the session through the coordinator's public API
// (`POST /api/sessions/:id/input`, what `gantry reply SESSION` sends). The task goes on on the
// factory, and the resumed agent's prompt carries the reply: it copies its prompt into the change that
// ships, so the merged commit on the remote's main holds the text. Real processes, real git over HTTP.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { storeCases } from '../support/db.js';
import { gitAsync } from '../support/git-http.js';
import { newTask } from '../support/fixtures.js';
import { until } from './support.js';
import { api, enroll, factory, setupRemote, shipped, stop, type Proc } from './remote-rig.js';
import type { SessionView } from '../../src/lifecycle/manager.js';

const REPLY = 'use sqlite, reply-marker-4be1';

const config = () => ({
  version: 1,
  defaults: { pipeline: 'quick', agent: 'scripted' },
  sandbox: { mode: 'off' },
  checks: [{ name: 'probe', run: 'echo ok' }],
  agents: {
    scripted: {
      roles: {
        implementer: {
          attempts: [[{ say: 'looking around' }, { ask: { question: 'Which database?', options: [] } }]],
          // Resumed with the reply: the prompt it was given goes into the change.
          resumed: [{ run: 'cp "$GANTRY_PROMPT_FILE" answer.md' }, { commit: 'write down the answer' }],
        },
      },
    },
  },
});

for (const sc of storeCases()) {
  describe(`replies to remote agent sessions: ${sc.kind}`, { skip: sc.skip }, () => {
    it('a reply posted on the coordinator to a remote session that asked reaches its agent; the task ships with it', { timeout: 240_000 }, async () => {
      const e = await setupRemote(sc.kind, config);
      let f: Proc | undefined;
      try {
        const { tokenFile } = await enroll(e, 'remote-r');
        const { token: operator } = await e.c.store.tokens.create({ name: 'person', role: 'operator' });
        const id = (await e.c.store.tasks.submit(newTask(e.projectId, { title: 'asks first', pipeline: 'quick', agent: 'scripted' }))).task.id;
        f = factory(e.c.url, tokenFile, 'remote-r', join(e.dir, 'factory-home'));
        const asked = await until(async () => {
          const r = await api(e, operator, 'GET', `/api/sessions?task=${id}`);
          return (r.body.sessions as SessionView[]).find((s) => s.display === 'needs_input');
        }, 'a needs-input session', 120_000);
        const sent = await api(e, operator, 'POST', `/api/sessions/${asked.id}/input`, { text: REPLY });
        assert.equal(sent.status, 202, JSON.stringify(sent.body));
        await shipped(e, id, f, 180_000);
        const onMain = await gitAsync(e.bare, 'show', 'main:answer.md');
        assert.match(onMain, /reply-marker-4be1/, 'the resumed agent was given the reply');
        // The input is delivered once and acknowledged by the agent's next turn.
        const inputs = (await api(e, operator, 'GET', `/api/sessions/${asked.id}`)).body.inputs as Array<{ state: string; attempts: number }>;
        assert.deepEqual(inputs.map((i) => [i.state, i.attempts]), [['acknowledged', 1]]);
      } finally {
        if (f) await stop(f);
        await e.dispose();
      }
    });
  });
}
