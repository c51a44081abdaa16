// Spawn, kill and continuation deciders: the explicit writes the runtime owner makes.
import type { SessionRecord } from '../session.js';
import { isTerminal } from '../session.js';
import { ignore, patch, type Decision } from './decision.js';

export interface SpawnFact {
  launchGeneration: number;
  pid?: number | null;
  handle?: string | null;
  agentSessionId?: string | null;
  at: number;
}

export function decideSpawned(rec: SessionRecord, f: SpawnFact): Decision | { kind: 'reject'; why: string } {
  // The record already holds this launch and evidence since: a resent report (remote factories), not a new spawn.
  if (f.launchGeneration === rec.launchGeneration && rec.runtime.at !== null && f.at <= rec.runtime.at) return ignore('replayed');
  if (isTerminal(rec.state)) return { kind: 'reject', why: 'terminal' };
  if (f.launchGeneration < rec.launchGeneration) return ignore('stale_generation');
  const relaunchAfterLoss = rec.state === 'detecting' || rec.state === 'stuck';
  return patch(
    {
      launchGeneration: f.launchGeneration,
      runtime: { state: 'alive', pid: f.pid ?? null, handle: f.handle ?? null, exitCode: null, signal: null, at: f.at },
      detecting: null,
      ...(f.agentSessionId ? { agentSessionId: f.agentSessionId } : {}),
      // A fresh launch after the old process was lost starts over as "spawning".
      ...(relaunchAfterLoss ? { state: 'not_started' as const, reason: null } : {}),
    },
    'spawned',
  );
}

export function decideKill(rec: SessionRecord, reason: string): Decision {
  if (isTerminal(rec.state)) return ignore('terminal');
  return patch({ state: 'terminated', reason, detecting: null }, 'killed');
}

/**
 * The launch failed before a process ran (unknown agent, no script for the role, a bad setting): the
 * session ends right there instead of showing "spawning" forever.
 */
export function decideLaunchFailed(rec: SessionRecord): Decision {
  if (isTerminal(rec.state)) return ignore('terminal');
  return patch({ state: 'terminated', reason: 'launch_failed', detecting: null }, 'launch_failed');
}

/**
 * The conversation went on in a newer launch (an answer resumed it under another session record):
 * this record's question was answered and its work handed over, so it is done — never left showing
 * "needs input" or "stuck" for a launch that is over.
 */
export function decideContinued(rec: SessionRecord, bySessionId: string): Decision {
  if (isTerminal(rec.state)) return ignore('terminal');
  return patch({ state: 'done', reason: `continued in ${bySessionId}`, detecting: null }, 'continued');
}

/** The agent's own conversation id (the resume key), learned from its init event or a hook. */
export function decideAgentSession(rec: SessionRecord, agentSessionId: string, launchGeneration: number): Decision {
  if (launchGeneration !== rec.launchGeneration) return ignore('stale_generation');
  // Recording the resume key changes no state, so it is allowed even on a terminal session.
  return patch({ agentSessionId }, 'agent_session');
}
