// Entry point of the built-in scripted agent: a real child process that performs a pre-selected
// list of actions in its workspace and speaks Gantry's command contract (JSONL events on stdout,
// a result file). Deterministic: no model, no network.
import { readFileSync, writeFileSync } from 'node:fs';
import type { AgentEvent } from '../../ports/agent.js';
import { ENV } from '../command-contract.js';
import { perform, ScriptFailure, type ActionContext } from './actions.js';
import type { Action } from './script.js';

const emit = (e: AgentEvent): void => {
  process.stdout.write(`${JSON.stringify(e)}\n`);
};

function writeResult(status: 'completed' | 'needs_input' | 'failed', output: Record<string, unknown>, extra: Record<string, unknown> = {}): void {
  const file = process.env[ENV.resultFile];
  if (file) writeFileSync(file, JSON.stringify({ status, output, ...extra }));
}

async function main(): Promise<number> {
  const workspace = process.env[ENV.workspace] ?? process.cwd();
  const actions = JSON.parse(readFileSync(process.env.GANTRY_SCRIPTED_ACTIONS ?? '', 'utf8')) as Action[];
  const sessionId = process.env[ENV.resumeId] ?? `scripted-${process.env[ENV.sessionId] ?? process.pid}`;
  emit({ type: 'session_started', agentSessionId: sessionId });
  emit({ type: 'turn_started' });
  const ctx: ActionContext = { workspace, emit, output: {} };
  for (const a of actions) {
    if ('hang' in a) {
      emit({ type: 'tool_use', name: 'hang', summary: 'waiting forever' });
      await new Promise<never>(() => setInterval(() => undefined, 60_000));
    }
    if ('exit' in a) return a.exit; // abrupt: no turn end, no result file
    try {
      const outcome = perform(a, ctx);
      if (outcome === 'end_turn') {
        writeResult('needs_input', ctx.output);
        break;
      }
    } catch (e) {
      const message = e instanceof ScriptFailure ? e.message : `scripted action failed: ${(e as Error).message}`;
      emit({ type: 'error', message, fatal: true });
      writeResult('failed', ctx.output, { summary: message });
      return 1;
    }
  }
  if (!process.env[ENV.resultFile] || !readResultSafe()) writeResult('completed', ctx.output);
  emit({ type: 'turn_completed', ...(ctx.usage ?? { usage: { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0 }, costUsd: 0 }) });
  return 0;
}

function readResultSafe(): boolean {
  try {
    readFileSync(process.env[ENV.resultFile] ?? '', 'utf8');
    return true;
  } catch {
    return false;
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    emit({ type: 'error', message: `scripted agent crashed: ${(e as Error).message}`, fatal: true });
    process.exit(70);
  },
);
