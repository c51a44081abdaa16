// Pumps a running session's normalized events into an ActivitySink as observations: protocol
// events → activity, the process → runtime (alive at launch, exited with its code at the end).
import type { ActivitySink, AgentEvent, SessionHandle } from '../../ports/agent.js';
import type { Clock } from '../../ports/clock.js';
import { eventActivity } from './activity-map.js';

export async function observeSession(
  sessionId: string,
  launchGeneration: number,
  handle: SessionHandle,
  sink: ActivitySink,
  clock: Pick<Clock, 'now'>,
  onEvent?: (e: AgentEvent) => void,
): Promise<void> {
  const base = { confidence: 'valid' as const, launchGeneration };
  sink.runtime(sessionId, { ...base, value: { state: 'alive', pid: handle.pid }, source: 'process', at: clock.now() });
  for await (const e of handle.events) {
    onEvent?.(e);
    if (e.type === 'session_started') sink.agentSession?.(sessionId, e.agentSessionId, launchGeneration);
    const value = eventActivity(e);
    if (value) sink.activity(sessionId, { ...base, value, source: 'protocol', at: clock.now() });
    if (e.type === 'exited') {
      sink.runtime(sessionId, {
        ...base,
        value: { state: 'exited', pid: handle.pid, code: e.code, signal: e.signal, reason: e.reason },
        source: 'process',
        at: clock.now(),
      });
    }
  }
}
