// Activity ingestion: hook tokens, hook payloads and protocol events become observations.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventActivity, hookActivity } from '../../src/agents/activity/activity-map.js';
import { bearer, ingestHook } from '../../src/agents/activity/hook-ingest.js';
import { HookTokens } from '../../src/agents/activity/hook-token.js';
import { isGantryError } from '../../src/domain/errors.js';

const tokens = new HookTokens('a-secret-long-enough');

describe('hook tokens', () => {
  it('verify only for the session and name the launch generation', () => {
    const t = tokens.issue('s1', 3);
    assert.equal(tokens.verify('s1', t), 3);
    assert.equal(tokens.verify('s2', t), null);
    assert.equal(tokens.verify('s1', t.replace(/^3\./, '4.')), null);
    assert.equal(tokens.verify('s1', `${t}x`), null);
    assert.equal(tokens.verify('s1', undefined), null);
    assert.equal(new HookTokens('another-secret-xyz').verify('s1', t), null);
  });
});

describe('hook ingestion', () => {
  const at = 1_700_000_000_000;
  it('maps hook events to activity with source, confidence and generation', () => {
    const r = ingestHook(tokens, 's1', tokens.issue('s1', 2), { hook_event_name: 'PreToolUse', session_id: 'claude-1', tool_name: 'Bash' }, at);
    assert.deepEqual(r, { launchGeneration: 2, agentSessionId: 'claude-1', observation: { value: 'working', confidence: 'valid', source: 'hook', at, launchGeneration: 2 } });
  });

  it('rejects a bad token and a non-object payload with clear errors', () => {
    assert.throws(() => ingestHook(tokens, 's1', 'nope', {}, at), (e: unknown) => isGantryError(e) && e.code === 'unauthorized');
    assert.throws(() => ingestHook(tokens, 's1', tokens.issue('s1', 1), [1], at), (e: unknown) => isGantryError(e) && e.code === 'validation');
    assert.equal(bearer('Bearer abc'), 'abc');
    assert.equal(bearer('Basic abc'), undefined);
  });

  const table: [Record<string, unknown>, string | null][] = [
    [{ hook_event_name: 'UserPromptSubmit' }, 'working'],
    [{ hook_event_name: 'PostToolUse' }, 'working'],
    [{ hook_event_name: 'Stop' }, 'idle'],
    [{ hook_event_name: 'SessionStart' }, 'idle'],
    [{ hook_event_name: 'Notification', notification_type: 'permission_prompt' }, 'blocked'],
    [{ hook_event_name: 'Notification', message: 'Claude needs your permission to use Bash' }, 'blocked'],
    [{ hook_event_name: 'Notification', notification_type: 'idle_prompt' }, 'waiting_input'],
    [{ hook_event_name: 'PermissionRequest' }, 'blocked'],
    [{ hook_event_name: 'SessionEnd' }, null],
    [{ hook_event_name: 'Whatever' }, null],
    [{}, null],
  ];
  for (const [payload, want] of table) {
    it(`hook ${JSON.stringify(payload)} → ${want}`, () => assert.equal(hookActivity(payload), want));
  }

  it('maps protocol events to activity', () => {
    assert.equal(eventActivity({ type: 'tool_use', name: 'x', summary: '' }), 'working');
    assert.equal(eventActivity({ type: 'needs_input', question: 'q' }), 'waiting_input');
    assert.equal(eventActivity({ type: 'turn_completed', usage: null, costUsd: null }), 'idle');
    assert.equal(eventActivity({ type: 'exited', code: 0, signal: null, reason: 'exited' }), null);
  });
});
