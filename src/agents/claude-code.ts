// Claude Code, headless: `claude -p --output-format stream-json --verbose`, prompt on stdin, role
// instructions appended to the system prompt, resume by session id, activity hooks injected with
// --settings (a per-session file) posting to Gantry with the per-session token from the env.
import { ENV_PASS_THROUGH } from './env-pass-through.js';
import { join, dirname } from 'node:path';
import type { LaunchSpec } from '../ports/agent.js';
import { defineCliAgent, type CommandPlan } from './cli-agent.js';
import { claudeCodeParser } from './claude-code-parser.js';
import { DEFAULT_CLAUDE_ALLOWED_TOOLS } from './permissions.js';
import { withConvention } from './question.js';

/** Hook events that say what the agent is doing (see activity/hook-activity.ts for the mapping). */
export const CLAUDE_HOOK_EVENTS = ['SessionStart', 'UserPromptSubmit', 'PreToolUse', 'PostToolUse', 'PostToolUseFailure', 'PermissionRequest', 'Notification', 'Stop', 'StopFailure', 'SessionEnd'];
const TOOL_HOOKS = new Set(['PreToolUse', 'PostToolUse', 'PostToolUseFailure', 'PermissionRequest']);

export function claudeHookSettings(url: string): Record<string, unknown> {
  // The token is never written to disk or argv: Claude Code expands $GANTRY_HOOK_TOKEN from the env.
  const handler = {
    type: 'http',
    url,
    headers: { Authorization: 'Bearer $GANTRY_HOOK_TOKEN' },
    allowedEnvVars: ['GANTRY_HOOK_TOKEN'],
    timeout: 5,
  };
  const hooks: Record<string, unknown> = {};
  for (const ev of CLAUDE_HOOK_EVENTS) {
    const tool = TOOL_HOOKS.has(ev);
    hooks[ev] = [{ ...(tool ? { matcher: '*' } : {}), hooks: [handler] }];
  }
  return { hooks };
}

export function claudeCodePlan(spec: LaunchSpec, binary: string): CommandPlan {
  const argv = [binary, '-p', '--output-format', 'stream-json', '--verbose'];
  if (spec.resumeAgentSessionId) argv.push('--resume', spec.resumeAgentSessionId);
  argv.push('--append-system-prompt', withConvention(spec.roleInstructions));
  const p = spec.permissions;
  if (p.skipPermissions) argv.push('--dangerously-skip-permissions');
  else if (p.mode === 'readonly') argv.push('--permission-mode', 'plan');
  else {
    const tools = p.allowedTools.length ? p.allowedTools : DEFAULT_CLAUDE_ALLOWED_TOOLS;
    argv.push('--permission-mode', 'acceptEdits', '--allowedTools', tools.join(','));
  }
  if (spec.model) argv.push('--model', spec.model);
  const env: Record<string, string> = { DISABLE_AUTOUPDATER: '1' };
  const files: CommandPlan['files'] = [];
  if (spec.hook) {
    // In the session's contract directory: the one place under the Gantry home a sandboxed agent may read.
    const settings = join(dirname(spec.logFile), spec.sessionId, 'claude-settings.json');
    files.push({ path: settings, content: JSON.stringify(claudeHookSettings(spec.hook.url)) });
    argv.push('--settings', settings);
    env.GANTRY_HOOK_TOKEN = spec.hook.token;
  }
  return { argv, env, stdin: spec.prompt, files };
}

/** The interactive TUI for tmux: same permissions, hooks and instructions; the prompt as argument. */
export function claudeCodeInteractivePlan(spec: LaunchSpec, binary: string): CommandPlan {
  const headless = claudeCodePlan(spec, binary);
  const argv = headless.argv.filter((a, i, all) => !['-p', '--verbose'].includes(a) && a !== '--output-format' && all[i - 1] !== '--output-format');
  const { stdin: _prompt, ...rest } = headless;
  return { ...rest, argv: [...argv, spec.prompt] };
}

export const claudeCode = defineCliAgent({
  id: 'claude-code',
  displayName: 'Claude Code',
  binaryName: 'claude',
  installHint: 'npm install -g @anthropic-ai/claude-code, then log in with `claude` or set ANTHROPIC_API_KEY',
  capabilities: {
    transport: 'stream-json',
    resume: true,
    approvals: 'policy',
    interrupt: 'signal',
    usage: 'tokens+cost',
    activitySources: ['protocol', 'hook', 'process'],
  },
  envPassThrough: ENV_PASS_THROUGH['claude-code']!,
  statePaths: (env) => [env.CLAUDE_CONFIG_DIR ?? '~/.claude', '~/.claude.json'],
  plan: claudeCodePlan,
  interactivePlan: claudeCodeInteractivePlan,
  parser: () => claudeCodeParser(),
});
