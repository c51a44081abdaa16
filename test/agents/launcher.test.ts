// The engine's entry point: config + registry + log + hooks + observations, with the scripted agent.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ActivityHub, type ActivityMessage } from '../../src/agents/activity/hub.js';
import { HookTokens } from '../../src/agents/activity/hook-token.js';
import { createAgentLauncher, launchSpec } from '../../src/agents/launcher.js';
import { isGantryError } from '../../src/domain/errors.js';
import { collect, git, ofType, sandbox, type Sandbox } from './support.js';

const agentsConfig = {
  scripted: { timeoutSeconds: 60, roles: { implementer: [{ write: { path: 'x.txt', content: 'x\n' } }, { commit: 'add x' }] } },
  'claude-code': { permissions: { allowedTools: ['Bash(npm test:*)'] } },
};

describe('agent launcher', () => {
  let box: Sandbox;
  before(() => (box = sandbox('launcher')));
  after(() => box.cleanup());

  it('builds the launch spec from the request, the project settings, logs and hooks', () => {
    const tokens = new HookTokens('launcher-secret-123456');
    const spec = launchSpec(
      { agent: 'claude-code', sessionId: 's9', launchGeneration: 4, workspace: '/w', prompt: 'p', role: 'implementer', agentsConfig },
      { logsDir: '/logs', hooks: { baseUrl: 'http://127.0.0.1:4700/', tokens } },
    );
    assert.equal(spec.logFile, '/logs/s9/4.log');
    assert.deepEqual(spec.permissions, { mode: 'edits', allowedTools: ['Bash(npm test:*)'], skipPermissions: false });
    assert.equal(spec.hook?.url, 'http://127.0.0.1:4700/api/agent-hooks/s9');
    assert.equal(tokens.verify('s9', spec.hook?.token), 4);
    assert.throws(
      () => createAgentLauncher({ logsDir: '/l', sink: new ActivityHub(), clock: Date }).launch({ agent: 'nope', sessionId: 's', launchGeneration: 1, workspace: '/w', prompt: 'p' }),
      (e: unknown) => isGantryError(e) && e.code === 'validation',
    );
  });

  it('launches, reports observations to the sink and the same events to the caller', async () => {
    const hub = new ActivityHub();
    const seen: ActivityMessage[] = [];
    hub.subscribe((m) => seen.push(m));
    const launcher = createAgentLauncher({ logsDir: box.logs, sink: hub, clock: { now: () => 42 } });
    const h = launcher.launch({ agent: 'scripted', sessionId: 'sess-1', launchGeneration: 2, workspace: box.workspace, prompt: 'go', role: 'implementer', agentsConfig });
    const events = await collect(h);
    assert.equal(ofType(events, 'exited')[0]?.code, 0);
    assert.equal(git(box.workspace, 'log', '-1', '--format=%s'), 'add x');
    assert.ok(existsSync(join(box.logs, 'sess-1', '2.log')));
    const kinds = seen.map((m) => (m.kind === 'activity' ? `activity:${m.obs.value}` : m.kind === 'runtime' ? `runtime:${m.obs.value.state}` : m.kind));
    assert.equal(kinds[0], 'runtime:alive');
    assert.equal(kinds.at(-1), 'runtime:exited');
    assert.ok(kinds.includes('agent_session'));
    assert.ok(kinds.includes('activity:working') && kinds.includes('activity:idle'));
    assert.ok(seen.every((m) => m.kind === 'agent_session' || (m.obs.launchGeneration === 2 && m.obs.at === 42)));
  });
});
