import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { agentSettings } from '../../src/agents/config.js';
import { isGantryError } from '../../src/domain/errors.js';

describe('agents config section', () => {
  it('defaults: edits with checks on, no overrides', () => {
    assert.deepEqual(agentSettings({}, 'claude-code'), { permissions: { mode: 'edits', allowedTools: [], skipPermissions: false }, interactive: false });
  });

  it('reads binary, model, limits, permissions and agent-specific options', () => {
    const s = agentSettings(
      {
        codex: { binary: '/opt/codex', model: 'gpt-5', timeoutSeconds: 60, inactivitySeconds: 10, permissions: { skipPermissions: true } },
        command: { argv: ['./agent.sh'] },
        scripted: { roles: { implementer: [{ say: 'hi' }] } },
      },
      'codex',
    );
    assert.deepEqual(s, { permissions: { mode: 'edits', allowedTools: [], skipPermissions: true }, interactive: false, binary: '/opt/codex', model: 'gpt-5', timeoutMs: 60_000, inactivityMs: 10_000 });
    assert.deepEqual(agentSettings({ command: { argv: ['./agent.sh'] } }, 'command').options, { argv: ['./agent.sh'] });
    assert.deepEqual(agentSettings({ scripted: { roles: { implementer: [{ say: 'hi' }] } } }, 'scripted').options, { roles: { implementer: [{ say: 'hi' }] } });
  });

  const bad: [string, Record<string, unknown>, string][] = [
    ['unknown key', { 'claude-code': { permisions: {} } }, 'agents.claude-code'],
    ['bad permission mode', { 'claude-code': { permissions: { mode: 'yolo' } } }, 'agents.claude-code.permissions.mode'],
    ['command without argv', { command: {} }, 'agents.command.argv'],
    ['bad scripted action', { scripted: { roles: { implementer: [{ explode: true }] } } }, 'agents.scripted.roles.implementer.0'],
  ];
  for (const [name, section, field] of bad) {
    it(`rejects ${name} naming ${field}`, () => {
      const id = Object.keys(section)[0] ?? '';
      assert.throws(() => agentSettings(section, id), (e: unknown) => isGantryError(e) && e.code === 'validation' && (e.field ?? '').startsWith(field));
    });
  }
});
