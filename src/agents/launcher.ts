// The AgentLauncher port: registry + the project's `agents:` settings + session log + hooks +
// observation, in one call. The composition root builds it; the engine only sees the port.
import { join } from 'node:path';
import type { AgentEvent, AgentLauncher, AgentLaunchRequest, ActivitySink, LaunchSpec, SessionHandle } from '../ports/agent.js';
import type { Clock } from '../ports/clock.js';
import { hookUrl } from './activity/hook-url.js';
import type { HookTokens } from './activity/hook-token.js';
import { observeSession } from './activity/observe.js';
import { agentSettings } from './config.js';
import { AsyncQueue } from './process/async-queue.js';
import { getAgent } from './registry.js';
import { costOf, priceFor } from './prices.js';

export interface LauncherDeps {
  /** Session logs go to `<logsDir>/<sessionId>/<launchGeneration>.log`. */
  logsDir: string;
  sink: ActivitySink;
  clock: Pick<Clock, 'now'>;
  /** With both, agents that support hooks post activity to the coordinator. */
  hooks?: { baseUrl: string; tokens: HookTokens };
  /** Extra environment for every agent (e.g. a test model endpoint). */
  env?: Record<string, string>;
  killGraceMs?: number;
}

/** Pure: the LaunchSpec for a request under the project's settings. */
export function launchSpec(req: AgentLaunchRequest, deps: Pick<LauncherDeps, 'logsDir' | 'hooks' | 'env' | 'killGraceMs'>): LaunchSpec {
  const settings = agentSettings(req.agentsConfig, req.agent);
  const { interactive, price: _price, ...launch } = settings;
  return {
    sessionId: req.sessionId,
    launchGeneration: req.launchGeneration,
    workspace: req.workspace,
    prompt: req.prompt,
    ...(req.roleInstructions !== undefined ? { roleInstructions: req.roleInstructions } : {}),
    ...(req.role !== undefined ? { role: req.role } : {}),
    ...(req.attempt !== undefined ? { attempt: req.attempt } : {}),
    ...(req.resumeAgentSessionId !== undefined ? { resumeAgentSessionId: req.resumeAgentSessionId } : {}),
    ...launch,
    // The step's model wins over the agent's configured one.
    ...(req.model !== undefined ? { model: req.model } : {}),
    ...(interactive ? { interactive } : {}),
    logFile: join(deps.logsDir, req.sessionId, `${req.launchGeneration}.log`),
    ...(deps.hooks ? { hook: { url: hookUrl(deps.hooks.baseUrl, req.sessionId), token: deps.hooks.tokens.issue(req.sessionId, req.launchGeneration) } } : {}),
    ...(deps.env ? { env: deps.env } : {}),
    ...(deps.killGraceMs ? { killGraceMs: deps.killGraceMs } : {}),
  };
}

export function createAgentLauncher(deps: LauncherDeps): AgentLauncher {
  return {
    launch(req): SessionHandle {
      const adapter = getAgent(req.agent);
      const spec = launchSpec(req, deps);
      const handle = adapter.launch(spec);
      // Turns the CLI reports tokens but no cost for are priced from the table (or the agent's `price:`).
      const price = priceFor(req.agent, spec.model, agentSettings(req.agentsConfig, req.agent).price);
      const priced = (e: AgentEvent): AgentEvent =>
        e.type === 'turn_completed' && e.costUsd === null && e.usage && price ? { ...e, costUsd: costOf(e.usage, price) } : e;
      // Observe every event, then hand the same events to the caller.
      const out = new AsyncQueue<AgentEvent>();
      void observeSession(req.sessionId, req.launchGeneration, handle, deps.sink, deps.clock, (e) => out.push(priced(e))).finally(() => out.end());
      return {
        get pid() {
          return handle.pid;
        },
        events: out,
        exited: handle.exited,
        interrupt: () => handle.interrupt(),
        stop: (reason) => handle.stop(reason),
      };
    },
  };
}
