// Codex CLI, headless: `codex exec --json` (or `codex exec resume <thread> --json`), prompt on
// stdin (`-`). Permissions map onto Codex's sandbox: edits = workspace-write plus the repository's
// git directory (so the agent can commit from a worktree), never asking for approval (there is no
// one to ask in exec mode); readonly = read-only; skipPermissions = no sandbox, opt-in only.
import { ENV_PASS_THROUGH } from './env-pass-through.js';
import { execFileSync } from 'node:child_process';
import { isAbsolute, join } from 'node:path';
import type { LaunchSpec } from '../ports/agent.js';
import { defineCliAgent, type CommandPlan } from './cli-agent.js';
import { codexParser } from './codex-parser.js';
import { withConvention } from './question.js';

/** The git directories a commit writes to (a worktree's own dir and the shared one). */
export function gitDirs(workspace: string): string[] {
  const dirs = new Set<string>();
  for (const flag of ['--git-dir', '--git-common-dir']) {
    try {
      const d = execFileSync('git', ['rev-parse', flag], { cwd: workspace, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
      if (d) dirs.add(isAbsolute(d) ? d : join(workspace, d));
    } catch {
      // not a git repository: nothing extra to allow
    }
  }
  return [...dirs];
}

const toml = (s: string): string => JSON.stringify(s);

export function codexPlan(spec: LaunchSpec, binary: string, dirs: string[] = gitDirs(spec.workspace)): CommandPlan {
  const argv = [binary, 'exec'];
  if (spec.resumeAgentSessionId) argv.push('resume', spec.resumeAgentSessionId);
  argv.push('--json', '--skip-git-repo-check');
  const p = spec.permissions;
  if (p.skipPermissions) argv.push('--dangerously-bypass-approvals-and-sandbox');
  else {
    argv.push('-c', 'approval_policy="never"');
    if (p.mode === 'readonly') argv.push('-c', 'sandbox_mode="read-only"');
    else {
      argv.push('-c', 'sandbox_mode="workspace-write"');
      if (dirs.length) argv.push('-c', `sandbox_workspace_write.writable_roots=[${dirs.map(toml).join(',')}]`);
    }
  }
  if (spec.model) argv.push('-m', spec.model);
  argv.push('-');
  // Codex has no system-prompt flag for exec; role instructions lead the prompt.
  const stdin = `${withConvention(spec.roleInstructions)}\n\n---\n\n${spec.prompt}`;
  return { argv, env: {}, stdin };
}

/** The interactive TUI for tmux: `codex [resume ID] PROMPT` with the same sandbox settings. */
export function codexInteractivePlan(spec: LaunchSpec, binary: string, dirs: string[] = gitDirs(spec.workspace)): CommandPlan {
  const headless = codexPlan(spec, binary, dirs);
  const options = headless.argv.filter((a) => !['exec', '--json', '--skip-git-repo-check', '-'].includes(a) && a !== binary && a !== 'resume' && a !== spec.resumeAgentSessionId);
  const argv = [binary, ...(spec.resumeAgentSessionId ? ['resume', spec.resumeAgentSessionId] : []), ...options, headless.stdin ?? spec.prompt];
  return { argv, env: headless.env };
}

export const codex = defineCliAgent({
  id: 'codex',
  displayName: 'Codex CLI',
  binaryName: 'codex',
  installHint: 'npm install -g @openai/codex, then `codex login` or set OPENAI_API_KEY',
  capabilities: {
    transport: 'jsonl',
    resume: true,
    approvals: 'sandbox',
    interrupt: 'signal',
    usage: 'tokens',
    activitySources: ['protocol', 'process'],
  },
  envPassThrough: ENV_PASS_THROUGH['codex']!,
  plan: (spec, binary) => codexPlan(spec, binary),
  interactivePlan: (spec, binary) => codexInteractivePlan(spec, binary),
  parser: () => codexParser(),
});
