// Agent hooks post here (Claude Code http hooks, command agents). The route authenticates itself
// with the per-session hook token, turns the payload into observations for the lifecycle, and
// answers `{}` (no decision) so a hook never blocks or steers the agent.
import { z } from 'zod';
import { bearer, ingestHook } from '../../agents/activity/hook-ingest.js';
import type { HookTokens } from '../../agents/activity/hook-token.js';
import type { ActivitySink } from '../../ports/agent.js';
import type { Clock } from '../../ports/clock.js';
import { defineRoute, type Route } from '../route.js';

export interface AgentHookDeps {
  tokens: HookTokens;
  sink: ActivitySink;
  clock: Pick<Clock, 'now'>;
}

export { hookUrl } from '../../agents/activity/hook-url.js';

export function agentHookRoutes(deps: AgentHookDeps): Route[] {
  return [
    defineRoute({
      method: 'POST',
      path: '/api/agent-hooks/:sessionId',
      access: 'none',
      tag: 'agents',
      summary: 'Activity from an agent hook, authenticated by the per-session hook token',
      params: z.object({ sessionId: z.string().min(1).max(200) }),
      body: z.record(z.string(), z.unknown()),
      handler: async ({ params, body, req }) => {
        const r = ingestHook(deps.tokens, params.sessionId, bearer(req.headers.authorization), body, deps.clock.now());
        if (r.agentSessionId) deps.sink.agentSession?.(params.sessionId, r.agentSessionId, r.launchGeneration);
        if (r.observation) deps.sink.activity(params.sessionId, r.observation);
        return { body: {} };
      },
    }),
  ];
}
