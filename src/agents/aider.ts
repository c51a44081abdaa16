// Aider, one-shot: `aider --message-file F --yes-always`, then the exit code and git diff tell the
// story. No session resume. Without the project's opt-in, Aider may edit and commit but not run
// the shell commands it suggests (--no-suggest-shell-commands); readonly = --dry-run.
import { ENV_PASS_THROUGH } from './env-pass-through.js';
import { dirname, join } from 'node:path';
import type { LaunchSpec } from '../ports/agent.js';
import { aiderParser } from './aider-parser.js';
import { defineCliAgent, type CommandPlan } from './cli-agent.js';
import { withConvention } from './question.js';

export function aiderPlan(spec: LaunchSpec, binary: string): CommandPlan {
  const message = join(dirname(spec.logFile), `${spec.sessionId}.aider-message.md`);
  const argv = [binary, '--message-file', message, '--yes-always', '--no-stream', '--no-pretty', '--no-check-update', '--no-show-model-warnings'];
  const p = spec.permissions;
  if (p.mode === 'readonly' && !p.skipPermissions) argv.push('--dry-run');
  if (!p.skipPermissions) argv.push('--no-suggest-shell-commands');
  if (spec.model) argv.push('--model', spec.model);
  return { argv, env: {}, files: [{ path: message, content: `${withConvention(spec.roleInstructions)}\n\n---\n\n${spec.prompt}` }] };
}

export const aider = defineCliAgent({
  id: 'aider',
  displayName: 'Aider',
  binaryName: 'aider',
  installHint: 'python -m pip install aider-install && aider-install, then set your model provider key (e.g. ANTHROPIC_API_KEY)',
  capabilities: {
    transport: 'exit-code',
    resume: false,
    approvals: 'auto',
    interrupt: 'signal',
    usage: 'tokens+cost',
    activitySources: ['process'],
  },
  envPassThrough: ENV_PASS_THROUGH['aider']!,
  statePaths: () => ['~/.aider', '~/.aider.conf.yml', '~/.cache/aider'],
  plan: aiderPlan,
  parser: () => aiderParser(),
});
