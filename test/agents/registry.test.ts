import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { agents, detectAll, getAgent } from '../../src/agents/registry.js';
import { resolveBinary } from '../../src/agents/binary.js';
import { isGantryError } from '../../src/domain/errors.js';

describe('agent registry', () => {
  it('has one entry per agent with a capability matrix', () => {
    assert.deepEqual([...agents.keys()], ['claude-code', 'codex', 'gemini', 'opencode', 'aider', 'command', 'scripted']);
    for (const a of agents.values()) assert.ok(a.capabilities.activitySources.length > 0, a.id);
    assert.throws(() => getAgent('claud'), (e: unknown) => isGantryError(e) && e.code === 'validation' && /claude-code/.test(e.hint ?? ''));
  });

  it('detectAll reports version and readiness, or how to install', async () => {
    const found = await detectAll({ binaries: { gemini: '/nonexistent/gemini' } });
    const byId = new Map(found.map((d) => [d.id, d]));
    for (const [id, bin, pattern] of [['claude-code', 'claude', /Claude Code/], ['codex', 'codex', /codex-cli/]] as const) {
      const d = byId.get(id);
      if (resolveBinary(bin, undefined)) {
        assert.equal(d?.ready, true);
        assert.match(d?.version ?? '', pattern);
      } else assert.match(d?.hint ?? '', /npm install/);
    }
    const gemini = byId.get('gemini');
    assert.deepEqual([gemini?.installed, gemini?.ready], [false, false]);
    assert.match(gemini?.hint ?? '', /npm install -g @google\/gemini-cli/);
    assert.equal(byId.get('scripted')?.ready, true);
  });
});
