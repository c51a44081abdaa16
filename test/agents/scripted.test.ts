// The built-in scripted agent as a real child process in a real git workspace.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { scripted } from '../../src/agents/scripted.js';
import { isGantryError } from '../../src/domain/errors.js';
import type { LaunchSpec } from '../../src/ports/agent.js';
import { collect, git, ofType, sandbox, spec, type Sandbox } from './support.js';

const script = {
  roles: {
    implementer: [
      { write: { path: 'src/greet.txt', content: 'hello world\n' } },
      { patch: { path: 'src/greet.txt', find: 'world', replace: 'gantry' } },
      { run: 'test -f src/greet.txt' },
      { commit: 'feat: greet' },
      { say: 'Implemented.' },
    ],
    reviewer: {
      attempts: [
        [{ review: { score: 4, findings: [{ severity: 'major', message: 'no tests', file: 'src/greet.txt' }] } }],
        [{ review: { score: 9, findings: [] } }],
      ],
    },
    planner: { attempts: [[{ ask: { question: 'Which database?', options: ['SQLite', 'PostgreSQL'] } }]], resumed: [{ say: 'Using the answer.' }] },
    failer: [{ fail: 'checks are red' }],
    hanger: [{ say: 'about to hang' }, { hang: true }],
    crasher: [{ say: 'bye' }, { exit: 3 }],
    resolver: [{ merge: { ref: 'other', strategy: 'union' } }],
  },
};

describe('scripted agent', () => {
  let box: Sandbox;
  before(() => (box = sandbox('scripted')));
  after(() => box.cleanup());
  const launch = (over: Partial<LaunchSpec>) => scripted.launch(spec(box, { options: script, ...over }));

  it('writes, patches, runs and commits as the implementer', async () => {
    const events = await collect(launch({ role: 'implementer' }));
    assert.deepEqual(events.map((e) => e.type), ['session_started', 'turn_started', 'tool_use', 'tool_use', 'tool_use', 'tool_use', 'message', 'turn_completed', 'exited']);
    assert.equal(git(box.workspace, 'show', 'HEAD:src/greet.txt'), 'hello gantry');
    assert.equal(git(box.workspace, 'log', '-1', '--format=%s'), 'feat: greet');
    assert.deepEqual(ofType(events, 'exited')[0], { type: 'exited', code: 0, signal: null, reason: 'exited' });
  });

  it('reviews per attempt: the first round fails, the second passes', async () => {
    const scoreOf = async (attempt: number): Promise<number> => {
      const events = await collect(launch({ role: 'reviewer', attempt }));
      const text = ofType(events, 'message')[0]?.text ?? '';
      const block = /```gantry-review\n(.*)\n```/.exec(text)?.[1] ?? '{}';
      return (JSON.parse(block) as { score: number }).score;
    };
    assert.equal(await scoreOf(1), 4);
    assert.equal(await scoreOf(2), 9);
    assert.equal(await scoreOf(5), 9); // past the last attempt, the last one repeats
  });

  it('asks a question with options, then continues the same session when resumed', async () => {
    const first = await collect(launch({ role: 'planner' }));
    assert.deepEqual(ofType(first, 'needs_input'), [{ type: 'needs_input', question: 'Which database?', options: ['SQLite', 'PostgreSQL'] }]);
    const id = ofType(first, 'session_started')[0]?.agentSessionId ?? '';
    const second = await collect(launch({ role: 'planner', resumeAgentSessionId: id, prompt: 'SQLite' }));
    assert.equal(ofType(second, 'session_started')[0]?.agentSessionId, id);
    assert.equal(ofType(second, 'message')[0]?.text, 'Using the answer.');
  });

  it('fails with a fatal error and exit code 1', async () => {
    const events = await collect(launch({ role: 'failer' }));
    assert.deepEqual(ofType(events, 'error'), [{ type: 'error', message: 'checks are red', fatal: true }]);
    assert.equal(ofType(events, 'exited')[0]?.code, 1);
    assert.equal(ofType(events, 'turn_completed').length, 0);
  });

  it('exits abruptly: the exit code is recorded and the turn reported failed', async () => {
    const events = await collect(launch({ role: 'crasher' }));
    assert.equal(ofType(events, 'exited')[0]?.code, 3);
    assert.ok(ofType(events, 'error').some((e) => e.fatal && e.message.includes('exit code 3')));
  });

  it('hangs until stopped: SIGTERM reaches it and the exit says why', async () => {
    const h = launch({ role: 'hanger' });
    const events = await collect(h, (e) => {
      if (e.type === 'tool_use') void h.stop();
    });
    assert.deepEqual(ofType(events, 'exited')[0], { type: 'exited', code: null, signal: 'SIGTERM', reason: 'stopped' });
  });

  it('interrupt() delivers SIGINT to the agent', async () => {
    const h = launch({ role: 'hanger' });
    const events = await collect(h, (e) => {
      if (e.type === 'tool_use') h.interrupt();
    });
    assert.equal(ofType(events, 'exited')[0]?.signal, 'SIGINT');
  });

  it('hangs until the inactivity limit kills it', async () => {
    const events = await collect(launch({ role: 'hanger', inactivityMs: 300 }));
    assert.equal(ofType(events, 'exited')[0]?.reason, 'inactive');
  });

  it('resolves a merge conflict as the resolver', async () => {
    git(box.workspace, 'checkout', '-q', '-b', 'other');
    writeFileSync(join(box.workspace, 'README.md'), '# test\nfrom other\n');
    git(box.workspace, 'commit', '-qam', 'other change');
    git(box.workspace, 'checkout', '-q', 'main');
    writeFileSync(join(box.workspace, 'README.md'), '# test\nfrom main\n');
    git(box.workspace, 'commit', '-qam', 'main change');
    const events = await collect(launch({ role: 'resolver' }));
    assert.equal(ofType(events, 'exited')[0]?.code, 0, JSON.stringify(events));
    assert.equal(readFileSync(join(box.workspace, 'README.md'), 'utf8'), '# test\nfrom main\nfrom other\n');
    assert.equal(git(box.workspace, 'status', '--porcelain'), '');
    assert.equal(git(box.workspace, 'log', '-1', '--format=%p').split(' ').length, 2); // a merge commit
  });

  it('rejects a bad script with a clear error and starts nothing', () => {
    assert.throws(
      () => launch({ role: 'implementer', options: { roles: { implementer: [{ wrte: { path: 'a' } }] } } }),
      (e: unknown) => isGantryError(e) && e.code === 'validation' && (e.field ?? '').startsWith('agents.scripted.roles.implementer'),
    );
    assert.throws(() => launch({ role: 'nobody' }), (e: unknown) => isGantryError(e) && /no script for role nobody/.test(e.message));
  });
});
