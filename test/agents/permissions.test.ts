// No agent starts with permission checks disabled unless the project config opts in.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { aiderPlan } from '../../src/agents/aider.js';
import { claudeCodePlan } from '../../src/agents/claude-code.js';
import { codexPlan } from '../../src/agents/codex.js';
import { geminiPlan } from '../../src/agents/gemini.js';
import { opencodePlan } from '../../src/agents/opencode.js';
import { resolvePermissions } from '../../src/agents/permissions.js';
import type { CommandPlan } from '../../src/agents/cli-agent.js';
import type { LaunchSpec } from '../../src/ports/agent.js';

const base = (over: Partial<LaunchSpec> = {}): LaunchSpec => ({
  sessionId: 's1',
  launchGeneration: 1,
  workspace: '/tmp/ws',
  prompt: 'secret prompt',
  permissions: resolvePermissions(undefined),
  logFile: '/tmp/logs/s1.log',
  ...over,
});

const DANGER: Record<string, (plan: CommandPlan) => boolean> = {
  'claude-code': (p) => p.argv.includes('--dangerously-skip-permissions') || p.argv.includes('bypassPermissions'),
  codex: (p) => p.argv.includes('--dangerously-bypass-approvals-and-sandbox') || p.argv.some((a) => a.includes('danger-full-access')),
  gemini: (p) => p.argv.includes('yolo') || p.argv.includes('--yolo'),
  opencode: (p) => p.env.OPENCODE_CONFIG_CONTENT === undefined,
  aider: (p) => !p.argv.includes('--no-suggest-shell-commands'),
};
const PLANS: Record<string, (s: LaunchSpec) => CommandPlan> = {
  'claude-code': (s) => claudeCodePlan(s, 'claude'),
  codex: (s) => codexPlan(s, 'codex', ['/tmp/ws/.git']),
  gemini: (s) => geminiPlan(s, 'gemini'),
  opencode: (s) => opencodePlan(s, 'opencode', undefined),
  aider: (s) => aiderPlan(s, 'aider'),
};

describe('permission policy', () => {
  it('defaults to edits with an allowlist and never skips checks', () => {
    assert.deepEqual(resolvePermissions(undefined), { mode: 'edits', allowedTools: [], skipPermissions: false });
    assert.equal(resolvePermissions({ skipPermissions: 'yes' as unknown as boolean }).skipPermissions, false);
    assert.equal(resolvePermissions({ skipPermissions: true }).skipPermissions, true);
  });

  for (const [id, plan] of Object.entries(PLANS)) {
    it(`${id}: checks stay on by default and in readonly mode; only the opt-in turns them off`, () => {
      const danger = DANGER[id];
      assert.ok(danger);
      assert.equal(danger(plan(base())), false);
      assert.equal(danger(plan(base({ permissions: resolvePermissions({ mode: 'readonly' }) }))), false);
      assert.equal(danger(plan(base({ permissions: resolvePermissions({ allowedTools: ['Bash(npm test:*)'] }) }))), false);
      assert.equal(danger(plan(base({ permissions: resolvePermissions({ skipPermissions: true }) }))), true);
    });
  }

  it('claude-code: acceptEdits plus an explicit allowlist; the prompt goes on stdin, not argv', () => {
    const p = claudeCodePlan(base(), 'claude');
    const i = p.argv.indexOf('--permission-mode');
    assert.equal(p.argv[i + 1], 'acceptEdits');
    assert.match(p.argv[p.argv.indexOf('--allowedTools') + 1] ?? '', /Bash\(git:\*\)/);
    assert.equal(p.stdin, 'secret prompt');
    assert.ok(!p.argv.some((a) => a.includes('secret prompt')));
  });

  it('claude-code: hooks go in a settings file; the token only in the child env', () => {
    const p = claudeCodePlan(base({ hook: { url: 'http://127.0.0.1:1/api/hook', token: 'tok-123' } }), 'claude');
    const settings = p.files?.[0];
    assert.ok(settings && p.argv.includes(settings.path));
    assert.ok(!settings.content.includes('tok-123'));
    assert.ok(!p.argv.some((a) => a.includes('tok-123')));
    assert.equal(p.env.GANTRY_HOOK_TOKEN, 'tok-123');
    const hooks = (JSON.parse(settings.content) as { hooks: Record<string, unknown> }).hooks;
    assert.ok(hooks.PreToolUse && hooks.Stop && hooks.Notification);
  });

  it('codex: workspace-write sandbox that can also write the git dirs; resume uses the thread id', () => {
    const p = codexPlan(base({ resumeAgentSessionId: 'thread-1' }), 'codex', ['/repo/.git', '/repo/.git/worktrees/x']);
    assert.deepEqual(p.argv.slice(0, 4), ['codex', 'exec', 'resume', 'thread-1']);
    assert.ok(p.argv.includes('sandbox_mode="workspace-write"'));
    assert.ok(p.argv.includes('sandbox_workspace_write.writable_roots=["/repo/.git","/repo/.git/worktrees/x"]'));
    assert.ok(p.argv.includes('approval_policy="never"'));
    assert.equal(p.argv.at(-1), '-');
  });
});
