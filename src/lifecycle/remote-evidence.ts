// Applies a remote factory's session reports (planned by `planBatch`, src/domain/lifecycle-rules/remote.ts)
// to the lifecycle manager, exactly as the in-process sink and session records do: one manager call
// per entry, in order, each awaited (so the answer means "recorded"). A resent batch is a replay the
// deciders recognise; an entry a decider refuses (a terminal record asked to spawn) is reported, not fatal.
import { isGantryError } from '../domain/errors.js';
import type { LifecycleCall } from '../domain/lifecycle-rules/remote.js';
import type { LifecycleManager } from './manager.js';

export interface RemoteApplied {
  applied: number;
  /** Entries that changed nothing and why (index in the planned calls). */
  ignored: Array<{ i: number; why: string }>;
}

type Manager = Pick<LifecycleManager, 'create' | 'get' | 'onSpawned' | 'onLaunchFailed' | 'onConversationContinued' | 'onAgentSession' | 'applyActivity' | 'applyRuntime' | 'applyChange'>;

async function applyOne(m: Manager, c: LifecycleCall): Promise<{ changed: boolean; why: string }> {
  switch (c.kind) {
    case 'create':
      try {
        await m.create(c.session);
        return { changed: true, why: 'created' };
      } catch (e) {
        // The same batch, resent while the first copy was being applied: the record is there.
        if (await m.get(c.session.id).then(() => true, () => false)) return { changed: false, why: 'exists' };
        throw e;
      }
    case 'spawned':
      return m.onSpawned(c.sessionId, c.fact);
    case 'launch_failed':
      return m.onLaunchFailed(c.sessionId);
    case 'continued':
      return { changed: (await m.onConversationContinued(c.taskId, c.agentSessionId, c.bySessionId)) > 0, why: 'continued' };
    case 'agent_session':
      return m.onAgentSession(c.sessionId, c.agentSessionId, c.launchGeneration);
    case 'activity':
      return m.applyActivity(c.sessionId, c.obs);
    case 'runtime':
      return m.applyRuntime(c.sessionId, c.obs);
    case 'change':
      return m.applyChange(c.sessionId, c.obs);
  }
}

/**
 * Applies a batch's calls in order. `stillHeld` (the fence) is checked before each one: a lease taken
 * back while the batch is applied stops it there — what was applied before was reported under a live
 * lease; nothing after it is (it throws what `stillHeld` throws).
 */
export async function applyRemoteCalls(m: Manager, calls: readonly LifecycleCall[], stillHeld: () => Promise<void> = async () => undefined): Promise<RemoteApplied> {
  const out: RemoteApplied = { applied: 0, ignored: [] };
  for (const [i, c] of calls.entries()) {
    if (i > 0) await stillHeld();
    try {
      const r = await applyOne(m, c);
      if (r.changed) out.applied++;
      else out.ignored.push({ i, why: r.why });
    } catch (e) {
      // A refused transition (conflict) or a record removed meanwhile (not_found) is this entry's answer.
      if (!(isGantryError(e) && (e.code === 'conflict' || e.code === 'not_found'))) throw e;
      out.ignored.push({ i, why: e.code });
    }
  }
  return out;
}

/**
 * Ends the remote sessions whose lease is gone without their end reported (`decideLeaseEnded`): the
 * factory died with them, or was fenced and its last reports refused. `lost` lists them (the store's
 * query); run with each lifecycle tick. Returns how many ended.
 */
export async function endLostRemoteSessions(m: Pick<LifecycleManager, 'onLeaseEnded'>, lost: () => Promise<string[]>): Promise<number> {
  let n = 0;
  for (const id of await lost()) {
    try {
      if ((await m.onLeaseEnded(id)).changed) n++;
    } catch (e) {
      if (!(isGantryError(e) && (e.code === 'conflict' || e.code === 'not_found'))) throw e;
    }
  }
  return n;
}
