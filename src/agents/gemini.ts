// Gemini CLI, headless: `gemini --output-format stream-json`, prompt on stdin (non-TTY stdin is
// headless mode), role instructions leading the prompt, `--resume <session>` to continue.
// Permissions: edits = --approval-mode auto_edit plus an allowlist (default: git); yolo only when
// the project opts in. Gemini's own settings (auth type, folder trust) stay the user's.
import { ENV_PASS_THROUGH } from './env-pass-through.js';
import type { LaunchSpec } from '../ports/agent.js';
import { defineCliAgent, type CommandPlan } from './cli-agent.js';
import { geminiLogLine, geminiParser } from './gemini-parser.js';
import { withConvention } from './question.js';

export const DEFAULT_GEMINI_ALLOWED_TOOLS = ['run_shell_command(git)'];

export function geminiPlan(spec: LaunchSpec, binary: string): CommandPlan {
  const argv = [binary, '--output-format', 'stream-json'];
  if (spec.resumeAgentSessionId) argv.push('--resume', spec.resumeAgentSessionId);
  const p = spec.permissions;
  if (p.skipPermissions) argv.push('--approval-mode', 'yolo');
  else {
    argv.push('--approval-mode', p.mode === 'readonly' ? 'default' : 'auto_edit');
    // Headless Gemini leaves out tools that would need approval; git is allowed like elsewhere.
    const tools = p.allowedTools.length ? p.allowedTools : p.mode === 'readonly' ? [] : DEFAULT_GEMINI_ALLOWED_TOOLS;
    if (tools.length) argv.push('--allowed-tools', tools.join(','));
  }
  if (spec.model) argv.push('--model', spec.model);
  return { argv, env: {}, stdin: `${withConvention(spec.roleInstructions)}\n\n---\n\n${spec.prompt}` };
}

export const gemini = defineCliAgent({
  id: 'gemini',
  displayName: 'Gemini CLI',
  binaryName: 'gemini',
  installHint: 'npm install -g @google/gemini-cli, then log in with `gemini` or set GEMINI_API_KEY',
  capabilities: {
    transport: 'stream-json',
    resume: true,
    approvals: 'policy',
    interrupt: 'signal',
    usage: 'tokens',
    activitySources: ['protocol', 'process'],
  },
  envPassThrough: ENV_PASS_THROUGH['gemini']!,
  statePaths: (env) => ['~/.gemini', ...(env.GOOGLE_APPLICATION_CREDENTIALS ? [env.GOOGLE_APPLICATION_CREDENTIALS] : [])],
  plan: geminiPlan,
  parser: () => geminiParser(),
  logLine: geminiLogLine,
});
