// Feeds what agent adapters and hooks observe into the lifecycle manager: the ActivitySink that the
// agent launcher and the agent-hook route deliver to. Calls are fire-and-forget for the producer; the manager's per-session
// lock keeps them in arrival order, and `idle()` waits for them (tests, shutdown).
import type { Observation } from '../domain/observation.js';
import type { ActivityState } from '../domain/session.js';
import type { RuntimeFact } from '../domain/lifecycle-rules/runtime.js';
import type { ActivitySink } from '../ports/agent.js';
import type { LifecycleManager } from './manager.js';

/** A process report as agent runtimes produce it. */
export type ProcessReport =
  | { state: 'alive'; pid: number }
  | { state: 'exited'; pid: number; code: number | null; signal: string | null; reason?: string };

export const runtimeFact = (v: ProcessReport): RuntimeFact =>
  v.state === 'alive' ? { state: 'alive', pid: v.pid } : { state: 'exited', pid: v.pid, exitCode: v.code, signal: v.signal };

export class LifecycleEvidenceSink implements ActivitySink {
  private readonly pending = new Set<Promise<unknown>>();

  constructor(
    private readonly manager: LifecycleManager,
    private readonly onError: (sessionId: string, e: unknown) => void = (id, e) => process.emitWarning(`lifecycle evidence for ${id} dropped: ${String(e)}`),
  ) {}

  activity(sessionId: string, obs: Observation<ActivityState>): void {
    this.track(sessionId, this.manager.applyActivity(sessionId, obs));
  }

  runtime(sessionId: string, obs: Observation<ProcessReport>): void {
    this.track(sessionId, this.manager.applyRuntime(sessionId, { ...obs, value: runtimeFact(obs.value) }));
  }

  agentSession(sessionId: string, agentSessionId: string, launchGeneration: number): void {
    this.track(sessionId, this.manager.onAgentSession(sessionId, agentSessionId, launchGeneration));
  }

  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private track(sessionId: string, p: Promise<unknown>): void {
    const q = p.catch((e: unknown) => this.onError(sessionId, e));
    this.pending.add(q);
    void q.finally(() => this.pending.delete(q));
  }
}
