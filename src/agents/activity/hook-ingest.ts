// Turns one hook delivery into observations: the token authenticates the session and names the
// launch generation; the payload says what the agent is doing. Pure apart from HMAC arithmetic.
import { GantryError } from '../../domain/errors.js';
import type { Observation } from '../../domain/observation.js';
import type { AgentActivity } from '../../ports/agent.js';
import { hookActivity } from './activity-map.js';
import type { HookTokens } from './hook-token.js';

export interface HookIngest {
  launchGeneration: number;
  observation: Observation<AgentActivity> | null;
  /** The agent's own session id, when the payload carries one. */
  agentSessionId: string | null;
}

export function bearer(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return m?.[1];
}

export function ingestHook(tokens: HookTokens, sessionId: string, token: string | undefined, payload: unknown, now: number): HookIngest {
  const generation = tokens.verify(sessionId, token);
  if (generation === null) {
    throw new GantryError('unauthorized', 'invalid hook token for this session', { hint: 'hooks must send the per-session token Gantry gave the agent ($GANTRY_HOOK_TOKEN)' });
  }
  if (!payload || typeof payload !== 'object' || Array.isArray(payload)) {
    throw new GantryError('validation', 'hook payload must be a JSON object', { hint: 'post the hook input JSON as the request body' });
  }
  const p = payload as Record<string, unknown>;
  const value = hookActivity(p);
  return {
    launchGeneration: generation,
    observation: value === null ? null : { value, confidence: 'valid', source: 'hook', at: now, launchGeneration: generation },
    agentSessionId: typeof p.session_id === 'string' && p.session_id ? p.session_id : null,
  };
}
