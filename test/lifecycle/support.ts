// Builders for lifecycle tests.
import type { Observation, ObservationSource } from '../../src/domain/observation.js';
import { emptyActivity, emptyRuntime, type ActivityAxis, type SessionRecord } from '../../src/domain/session.js';

export function rec(over: Partial<SessionRecord> = {}): SessionRecord {
  return {
    id: 's-1', taskId: null, runId: null, projectId: null, agent: 'scripted', agentSessionId: null, factoryId: null, workspace: null,
    runtime: { ...emptyRuntime(), state: 'alive', pid: 100, at: 1 },
    activity: emptyActivity(), state: 'working', reason: null, change: 'none', detecting: null,
    launchGeneration: 1, createdAt: 0, updatedAt: 0, rev: 5,
    ...over,
  };
}

export const act = (state: ActivityAxis['state'], at = 10, extra: Partial<ActivityAxis> = {}): ActivityAxis => ({
  state, confidence: 'valid', source: 'protocol', at, since: at, ...extra,
});

export function obs<V>(value: V, over: Partial<Observation<V>> = {}): Observation<V> {
  return { value, confidence: 'valid', source: 'process' as ObservationSource, at: 1000, launchGeneration: 1, ...over };
}
