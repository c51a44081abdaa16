// Remote evidence: what a `gantry factory` reports about the agent sessions it runs, as it travels
// to the coordinator (batched, fenced by the task's lease), and how the coordinator turns a batch
// into the same lifecycle calls the in-process sink makes. Pure and table-tested.
//
// Idempotent on replay: the factory stamps every observation of a session with a strictly increasing
// time, so a resent batch is evidence the record already holds — older than its axes (ignored as out
// of order), a repeat of their state (no write), or a spawn it already recorded.
import type { Observation } from '../observation.js';
import { isTerminal, type ActivityState, type SessionRecord } from '../session.js';
import type { ChangeFact } from './change.js';
import { ignore, patch, type Decision } from './decision.js';
import type { RuntimeFact } from './runtime.js';
import { changeFactOf, type ScmObservation } from './scm.js';

/** A process report as the factory's agent runtime produces it. */
export type RemoteProcess =
  | { state: 'alive'; pid?: number | null }
  | { state: 'exited'; pid?: number | null; code: number | null; signal: string | null; reason?: string };

type Evidence<V> = Omit<Observation<V>, 'value'> & { value: V };

/** One entry of a batch; `sessionId` is the launch's record id (`launchSessionId`). */
export type RemoteSessionOp =
  | { op: 'create'; sessionId: string; runId: string; stepRowId?: string | null; agent: string; workspace?: string | null }
  | { op: 'spawned'; sessionId: string; launchGeneration: number; pid?: number | null; at: number }
  | { op: 'launch_failed'; sessionId: string }
  | { op: 'continued'; sessionId: string; agentSessionId: string }
  | { op: 'agent_session'; sessionId: string; agentSessionId: string; launchGeneration: number }
  | { op: 'activity'; sessionId: string; obs: Evidence<ActivityState> }
  | { op: 'runtime'; sessionId: string; obs: Evidence<RemoteProcess> }
  | { op: 'change'; sessionId: string; at: number; observation: ScmObservation };

/** What the coordinator's lifecycle manager is asked to do, in batch order. */
export type LifecycleCall =
  | { kind: 'create'; session: { id: string; taskId: string; runId: string; stepRowId: string | null; agent: string; workspace: string | null; factoryId: string } }
  | { kind: 'spawned'; sessionId: string; fact: { launchGeneration: number; pid: number | null; at: number } }
  | { kind: 'launch_failed'; sessionId: string }
  | { kind: 'continued'; taskId: string; agentSessionId: string; bySessionId: string }
  | { kind: 'agent_session'; sessionId: string; agentSessionId: string; launchGeneration: number }
  | { kind: 'activity'; sessionId: string; obs: Observation<ActivityState> }
  | { kind: 'runtime'; sessionId: string; obs: Observation<RuntimeFact> }
  | { kind: 'change'; sessionId: string; obs: Observation<ChangeFact> };

/** What the coordinator knows when it plans a batch (read just before; the plan itself does no I/O). */
export interface BatchContext {
  taskId: string;
  /** The factory the token acts as: every session it creates is recorded as its. */
  factoryId: string;
  /** The factory's clock when it sent the batch, and the coordinator's when it received it. */
  sentAt: number;
  now: number;
  /** Existing session records the batch names (absent = no such record). */
  sessions: ReadonlyMap<string, { taskId: string | null; factoryId: string | null }>;
  /** Which of the runs the batch names belong to the task. */
  runsOfTask: ReadonlySet<string>;
}

export type BatchPlan = { ok: true; calls: LifecycleCall[] } | { ok: false; why: string };

/** Clocks further apart than this are corrected (by the batch's send time); closer ones are kept as is. */
export const SKEW_TOLERANCE_MS = 5_000;

/**
 * A factory's evidence time on the coordinator's clock. Within the tolerance the factory's time is
 * kept exactly (so a resent batch carries the same times and is recognised as a replay); beyond it,
 * the factory's clock is shifted by how far its send time was from the coordinator's receipt, so
 * idle and stuck timers (which run on the coordinator's clock) stay honest.
 */
export function coordinatorTime(at: number, sentAt: number, now: number, toleranceMs = SKEW_TOLERANCE_MS): number {
  const skew = now - sentAt;
  return Math.abs(skew) <= toleranceMs ? at : at + skew;
}

/** The next evidence time of a session: never equal to or older than the last one it was given. */
export const nextStamp = (last: number | undefined, at: number): number => (last !== undefined && at <= last ? last + 1 : at);

const sameActivity = (a: Extract<RemoteSessionOp, { op: 'activity' }>, b: Extract<RemoteSessionOp, { op: 'activity' }>): boolean =>
  a.obs.value === b.obs.value && a.obs.confidence === b.obs.confidence && a.obs.launchGeneration === b.obs.launchGeneration;

/**
 * A chatty agent reports "working" at every tool call: an activity that repeats the session's previous
 * one (same state, confidence and launch) changes nothing on the coordinator, so it is not sent.
 * `last` is the last activity each session was sent (kept across batches); it is updated.
 */
export function coalesce(ops: readonly RemoteSessionOp[], last: Map<string, Extract<RemoteSessionOp, { op: 'activity' }>> = new Map()): RemoteSessionOp[] {
  const out: RemoteSessionOp[] = [];
  for (const o of ops) {
    if (o.op === 'activity') {
      const prev = last.get(o.sessionId);
      if (prev && sameActivity(prev, o)) continue;
      last.set(o.sessionId, o);
    } else if (o.op === 'spawned' || o.op === 'runtime' || o.op === 'create') {
      // A new launch or process fact: the next activity is news again.
      last.delete(o.sessionId);
    }
    out.push(o);
  }
  return out;
}

/** As in-process: an absent pid keeps the recorded one. */
const runtimeFact = (v: RemoteProcess): RuntimeFact => {
  const pid = v.pid !== undefined ? { pid: v.pid } : {};
  return v.state === 'alive' ? { state: 'alive', ...pid } : { state: 'exited', ...pid, exitCode: v.code, signal: v.signal };
};

/**
 * Checks a batch against what the coordinator holds and maps it to lifecycle calls. A factory may
 * create records only under runs of the task it holds, and report only on records of that task it
 * created; a record that exists already is not created again (a resent batch).
 */
export function planBatch(ops: readonly RemoteSessionOp[], c: BatchContext): BatchPlan {
  const calls: LifecycleCall[] = [];
  const created = new Set<string>();
  const when = (at: number): number => coordinatorTime(at, c.sentAt, c.now);
  for (const o of ops) {
    const known = c.sessions.get(o.sessionId);
    if (o.op === 'change') {
      // About the task's change, owned by whichever session made it (perhaps on another factory, in an
      // earlier lease); a change whose session was never recorded has no record to show it (as in-process).
      if (known?.taskId !== c.taskId && !created.has(o.sessionId)) continue;
      // As in-process: valid SCM evidence about the branch (exempt from launch generations).
      calls.push({ kind: 'change', sessionId: o.sessionId, obs: { value: changeFactOf(o.observation), confidence: 'valid', source: 'scm', at: when(o.at), launchGeneration: 0 } });
      continue;
    }
    if (known && (known.taskId !== c.taskId || known.factoryId !== c.factoryId)) {
      return { ok: false, why: `session ${o.sessionId} is not one this factory runs for task ${c.taskId}` };
    }
    if (o.op === 'create') {
      if (!c.runsOfTask.has(o.runId)) return { ok: false, why: `run ${o.runId} is not task ${c.taskId}'s` };
      if (!known && !created.has(o.sessionId)) {
        calls.push({ kind: 'create', session: { id: o.sessionId, taskId: c.taskId, runId: o.runId, stepRowId: o.stepRowId ?? null, agent: o.agent, workspace: o.workspace ?? null, factoryId: c.factoryId } });
      }
      created.add(o.sessionId);
      continue;
    }
    // Evidence about a session with no record (its create was lost with an earlier batch) has nothing to
    // move; it is dropped, and the rest of the batch — other sessions, later creates — still applies.
    if (!known && !created.has(o.sessionId)) continue;
    switch (o.op) {
      case 'spawned':
        calls.push({ kind: 'spawned', sessionId: o.sessionId, fact: { launchGeneration: o.launchGeneration, pid: o.pid ?? null, at: when(o.at) } });
        break;
      case 'launch_failed':
        calls.push({ kind: 'launch_failed', sessionId: o.sessionId });
        break;
      case 'continued':
        calls.push({ kind: 'continued', taskId: c.taskId, agentSessionId: o.agentSessionId, bySessionId: o.sessionId });
        break;
      case 'agent_session':
        calls.push({ kind: 'agent_session', sessionId: o.sessionId, agentSessionId: o.agentSessionId, launchGeneration: o.launchGeneration });
        break;
      case 'activity':
        calls.push({ kind: 'activity', sessionId: o.sessionId, obs: { ...o.obs, at: when(o.obs.at) } });
        break;
      case 'runtime':
        calls.push({ kind: 'runtime', sessionId: o.sessionId, obs: { ...o.obs, value: runtimeFact(o.obs.value), at: when(o.obs.at) } });
        break;
    }
  }
  return { ok: true, calls };
}

/**
 * The lease under which a remote session ran has ended (released, reclaimed, or taken by an operator),
 * and the session never reported its end: nothing about it can be recorded any more (its factory's
 * reports are fenced), and its agent was stopped with the lease or lost with its host. It ends here,
 * instead of showing "working" for ever. A session awaiting an answer stays: the answer continues it.
 */
export function decideLeaseEnded(rec: SessionRecord): Decision {
  if (isTerminal(rec.state)) return ignore('terminal');
  if (rec.state === 'needs_input') return ignore('awaiting_input');
  return patch({ state: 'terminated', reason: 'lease_ended', detecting: null }, 'lease_ended');
}
