// OpenCode, headless: `opencode run --format json [--session ID] <message>`. `run` approves tool
// use on its own, so Gantry states the permission policy through OPENCODE_CONFIG_CONTENT: edits
// allowed, shell limited to git, everything else denied — unless the project opts out of checks.
import { ENV_PASS_THROUGH } from './env-pass-through.js';
import type { LaunchSpec } from '../ports/agent.js';
import { defineCliAgent, type CommandPlan } from './cli-agent.js';
import { opencodeParser } from './opencode-parser.js';
import { withConvention } from './question.js';

export function opencodePermissionConfig(spec: LaunchSpec): Record<string, unknown> | null {
  const p = spec.permissions;
  if (p.skipPermissions) return null;
  if (p.mode === 'readonly') return { permission: { edit: 'deny', bash: 'deny', webfetch: 'deny' } };
  const bash: Record<string, string> = { '*': 'deny', 'git *': 'allow' };
  for (const t of p.allowedTools) bash[t] = 'allow';
  return { permission: { edit: 'allow', bash, webfetch: 'deny' } };
}

/** The user's inline config (providers, models) with Gantry's permission policy laid over it. */
export function opencodeConfig(spec: LaunchSpec, inherited: string | undefined): string | null {
  const policy = opencodePermissionConfig(spec);
  if (!policy) return null;
  let base: Record<string, unknown> = {};
  try {
    const parsed = inherited ? (JSON.parse(inherited) as unknown) : {};
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) base = parsed as Record<string, unknown>;
  } catch {
    // an unreadable inherited config is replaced: the policy must apply
  }
  return JSON.stringify({ ...base, ...policy });
}

export function opencodePlan(spec: LaunchSpec, binary: string, inherited = spec.env?.OPENCODE_CONFIG_CONTENT ?? process.env.OPENCODE_CONFIG_CONTENT): CommandPlan {
  const argv = [binary, 'run', '--format', 'json'];
  if (spec.resumeAgentSessionId) argv.push('--session', spec.resumeAgentSessionId);
  if (spec.model) argv.push('--model', spec.model);
  argv.push(`${withConvention(spec.roleInstructions)}\n\n---\n\n${spec.prompt}`);
  const config = opencodeConfig(spec, inherited);
  return { argv, env: config ? { OPENCODE_CONFIG_CONTENT: config } : {} };
}

export const opencode = defineCliAgent({
  id: 'opencode',
  displayName: 'OpenCode',
  binaryName: 'opencode',
  installHint: 'npm install -g opencode-ai, then `opencode auth login`',
  capabilities: {
    transport: 'jsonl',
    resume: true,
    approvals: 'policy',
    interrupt: 'signal',
    usage: 'tokens+cost',
    activitySources: ['protocol', 'process'],
  },
  envPassThrough: ENV_PASS_THROUGH['opencode']!,
  statePaths: () => ['~/.local/share/opencode', '~/.config/opencode', '~/.cache/opencode', '~/.local/state/opencode'],
  plan: (spec, binary) => opencodePlan(spec, binary),
  parser: () => opencodeParser(),
});
