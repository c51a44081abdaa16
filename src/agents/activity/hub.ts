// An in-process ActivitySink that fans observations out to subscribers (the lifecycle manager,
// the live transcript). Subscribers are isolated: one throwing does not starve the others.
import type { Observation } from '../../domain/observation.js';
import type { ActivitySink, AgentActivity, AgentRuntime } from '../../ports/agent.js';

export type ActivityMessage =
  | { kind: 'activity'; sessionId: string; obs: Observation<AgentActivity> }
  | { kind: 'runtime'; sessionId: string; obs: Observation<AgentRuntime> }
  | { kind: 'agent_session'; sessionId: string; agentSessionId: string; launchGeneration: number };

export class ActivityHub implements ActivitySink {
  private readonly subs = new Set<(m: ActivityMessage) => void>();

  subscribe(fn: (m: ActivityMessage) => void): () => void {
    this.subs.add(fn);
    return () => this.subs.delete(fn);
  }

  private publish(m: ActivityMessage): void {
    for (const fn of this.subs) {
      try {
        fn(m);
      } catch {
        // a faulty subscriber must not break evidence delivery to the others
      }
    }
  }

  activity(sessionId: string, obs: Observation<AgentActivity>): void {
    this.publish({ kind: 'activity', sessionId, obs });
  }

  runtime(sessionId: string, obs: Observation<AgentRuntime>): void {
    this.publish({ kind: 'runtime', sessionId, obs });
  }

  agentSession(sessionId: string, agentSessionId: string, launchGeneration: number): void {
    this.publish({ kind: 'agent_session', sessionId, agentSessionId, launchGeneration });
  }
}
