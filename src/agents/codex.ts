// Codex CLI, headless: `codex exec --json` (or `codex exec resume <thread> --json`), prompt on
// stdin (`-`). Permissions map onto Codex's sandbox: edits = workspace-write plus the repository's
// git directory (so the agent can commit from a worktree), never asking for approval (there is no
// one to ask in exec mode); readonly = read-only; skipPermissions = no sandbox, opt-in only.
import { ENV_PASS_THROUGH } from './env-pass-through.js';
import { execFileSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { isAbsolute, join, resolve, sep } from 'node:path';
import type { InnerSandboxStatus, LaunchSpec } from '../ports/agent.js';
import { resolveBinary } from './binary.js';
import { INNER_SANDBOX_REMEDY } from './inner-sandbox.js';
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
  else if (spec.sandbox) {
    // Inside Gantry's sandbox Codex's own (bwrap in bwrap, a helper npm does not ship) cannot start:
    // Gantry's is the boundary, and it enforces readonly itself (the worktree is mounted read-only).
    argv.push('-c', 'approval_policy="never"', '-c', 'sandbox_mode="danger-full-access"');
  } else {
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

/**
 * Codex's own sandbox on this host. Codex runs its workspace-write sandbox as `bwrap … codex-linux-sandbox`;
 * it makes that helper itself (an alias of its own binary) inside CODEX_HOME, but refuses to when
 * CODEX_HOME is under the temporary directory. There, with bwrap on PATH and no helper installed,
 * every command it runs fails.
 */
export function codexInnerSandbox(env: NodeJS.ProcessEnv, gantrySandboxed: boolean): InnerSandboxStatus {
  if (gantrySandboxed) return { state: 'off', detail: "off inside Gantry's sandbox (danger-full-access; Gantry's bubblewrap is the boundary)" };
  const bwrap = resolveBinary('bwrap', undefined, env);
  const home = codexHome(env);
  if (bwrap && !resolveBinary('codex-linux-sandbox', undefined, env) && home && underTempDir(home, env)) {
    return {
      state: 'broken',
      detail: `bwrap: ${bwrap} would run codex-linux-sandbox, which is not installed, and Codex will not create it under the temporary directory (CODEX_HOME ${home})`,
      fix: INNER_SANDBOX_REMEDY,
    };
  }
  return { state: 'own', detail: bwrap ? `Codex's own sandbox (${bwrap})` : "Codex's own sandbox (landlock/seccomp)" };
}

function codexHome(env: NodeJS.ProcessEnv): string | null {
  if (env.CODEX_HOME) return resolve(env.CODEX_HOME);
  return env.HOME ? join(env.HOME, '.codex') : null;
}

/** Codex's own test: under the temporary directory it would use (TMPDIR, else /tmp). */
function underTempDir(path: string, env: NodeJS.ProcessEnv): boolean {
  const real = (p: string): string => {
    try {
      return realpathSync(p);
    } catch {
      return resolve(p);
    }
  };
  const target = real(path);
  const tmp = real(env.TMPDIR || '/tmp');
  return target === tmp || target.startsWith(`${tmp}${sep}`);
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
  statePaths: (env) => [env.CODEX_HOME ?? '~/.codex'],
  innerSandbox: codexInnerSandbox,
  interactivePlan: (spec, binary) => codexInteractivePlan(spec, binary),
  parser: () => codexParser(),
});
