// The generic `command` agent: any executable, driven through the contract in command-contract.ts.
// gantry.yaml: `agents: { command: { argv: ["./my-agent.sh", "--flag"] } }`.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { GantryError } from '../domain/errors.js';
import type { AgentAdapter, LaunchSpec } from '../ports/agent.js';
import { runPlanned, type CommandPlan } from './cli-agent.js';
import { ENV } from './command-contract.js';
import { commandParser } from './command-parser.js';
import { withConvention } from './question.js';

/** Per-session files of the contract, next to the session log. */
export function contractFiles(spec: LaunchSpec): { dir: string; prompt: string; role: string; result: string } {
  const dir = join(dirname(spec.logFile), spec.sessionId);
  return { dir, prompt: join(dir, 'prompt.md'), role: join(dir, 'role.md'), result: join(dir, 'result.json') };
}

/** argv + the contract's environment and files for one launch. */
export function commandPlan(spec: LaunchSpec, argv: string[]): CommandPlan {
  const f = contractFiles(spec);
  rmSync(f.result, { force: true }); // a stale result must never describe this run
  const env: Record<string, string> = {
    [ENV.workspace]: spec.workspace,
    [ENV.sessionId]: spec.sessionId,
    [ENV.promptFile]: f.prompt,
    [ENV.roleFile]: f.role,
    [ENV.resultFile]: f.result,
    [ENV.attempt]: String(spec.attempt ?? 1),
  };
  if (spec.role) env[ENV.role] = spec.role;
  if (spec.resumeAgentSessionId) env[ENV.resumeId] = spec.resumeAgentSessionId;
  if (spec.hook) {
    env[ENV.hookUrl] = spec.hook.url;
    env[ENV.hookToken] = spec.hook.token;
  }
  return {
    argv,
    env,
    stdin: spec.prompt,
    files: [
      { path: f.prompt, content: spec.prompt },
      { path: f.role, content: withConvention(spec.roleInstructions) },
    ],
  };
}

export const readResultFile = (spec: LaunchSpec) => (): string | null => {
  const path = contractFiles(spec).result;
  return existsSync(path) ? readFileSync(path, 'utf8') : null;
};

const options = z.object({ argv: z.array(z.string().min(1)).min(1) });

export const command: AgentAdapter = {
  id: 'command',
  displayName: 'Command (any executable)',
  capabilities: {
    transport: 'jsonl',
    resume: true, // the command receives $GANTRY_RESUME_ID and decides what it means
    approvals: 'none',
    interrupt: 'signal',
    usage: 'tokens+cost',
    activitySources: ['protocol', 'hook', 'process'],
  },
  async detect() {
    return { id: 'command', installed: true, version: 'built-in', path: null, ready: true, hint: null };
  },
  launch(spec) {
    const parsed = options.safeParse(spec.options ?? (spec.binary ? { argv: [spec.binary] } : {}));
    if (!parsed.success) {
      throw new GantryError('validation', 'the command agent needs an argv', {
        field: 'agents.command.argv',
        hint: 'set agents.command.argv in gantry.yaml, e.g. ["./scripts/agent.sh"]',
      });
    }
    return runPlanned(commandPlan(spec, parsed.data.argv), spec, commandParser(readResultFile(spec)), []);
  },
};
