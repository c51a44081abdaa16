// The agent registry: one entry per agent, each defined in its own file. `gantry doctor` calls
// detectAll(); the engine looks adapters up by the id a step or task names.
import { GantryError } from '../domain/errors.js';
import type { AgentAdapter, AgentDetection } from '../ports/agent.js';
import { aider } from './aider.js';
import { claudeCode } from './claude-code.js';
import { codex } from './codex.js';
import { command } from './command.js';
import { gemini } from './gemini.js';
import { opencode } from './opencode.js';
import { scripted } from './scripted.js';

export const agents: ReadonlyMap<string, AgentAdapter> = new Map(
  [claudeCode, codex, gemini, opencode, aider, command, scripted].map((a) => [a.id, a]),
);

export function getAgent(id: string): AgentAdapter {
  const a = agents.get(id);
  if (!a) throw new GantryError('validation', `unknown agent ${id}`, { field: 'agent', hint: `use one of: ${[...agents.keys()].join(', ')}` });
  return a;
}

/** Detection of every agent, in registry order. `binaries` are paths from gantry.yaml. */
export function detectAll(opts: { binaries?: Record<string, string>; env?: NodeJS.ProcessEnv } = {}): Promise<AgentDetection[]> {
  return Promise.all(
    [...agents.values()].map((a) => {
      const binary = opts.binaries?.[a.id];
      return a.detect({ ...(binary ? { binary } : {}), ...(opts.env ? { env: opts.env } : {}) });
    }),
  );
}
