// Agent dispatches of a step. The persisted part (kind_state.dispatch) says which session SHOULD be
// running; the in-memory part (this process's sessions) says which one IS. A replay in the same
// process re-attaches to the live session; in another process the session died with its factory,
// so it is re-dispatched fresh — each launch is first counted in the store, and bounded.
import type { AgentOutcome, AgentRequest, AgentRunner } from '../ports/engine.js';
import { launchSessionId } from './agent-runner.js';

export interface DispatchSpec {
  /** Distinguishes dispatches of one step: `main`, `fix-2`, `answer-1` … */
  key: string;
  agent: string;
  role: string;
  prompt: string;
  attempt: number;
  resumeAgentSessionId?: string;
  timeoutMs?: number;
  /** The step's `model:` (else the agent's configured model). */
  model?: string;
}

/** What kind_state.dispatch holds once the engine launched it. */
export interface DispatchState extends DispatchSpec {
  sessionId: string;
  launches: number;
}

export type DispatchPoll =
  | { type: 'launch' }
  | { type: 'running'; wait: Promise<unknown> }
  | { type: 'result'; outcome: AgentOutcome }
  | { type: 'lost'; launches: number };

export const MAX_LAUNCHES = 3;

/**
 * How many launches of one dispatch a task gets: a launch is re-made only after the process that made
 * it died, which also reclaims the task's lease and counts an attempt. So the task's own attempts
 * budget bounds it (a poison task still fails); at least MAX_LAUNCHES. Pure.
 */
export const launchBound = (maxAttempts: number | undefined): number => (Number.isFinite(maxAttempts) ? Math.max(MAX_LAUNCHES, maxAttempts!) : MAX_LAUNCHES);

interface Live {
  promise: Promise<AgentOutcome>;
  outcome?: AgentOutcome;
  abort: AbortController;
}

/** Debounced checkpoints of the session's workspace (EngineWorkspace.activity). */
export interface SessionActivity {
  poke(): void;
  stop(): Promise<void>;
}

export class SessionTable {
  private readonly live = new Map<string, Live>();
  /** Lifecycle session id (as agents report evidence) → the checkpoints its activity drives. */
  private readonly watched = new Map<string, SessionActivity>();

  constructor(private readonly runner: AgentRunner) {}

  poll(d: DispatchSpec & Partial<DispatchState>, maxLaunches = MAX_LAUNCHES): DispatchPoll {
    if (!d.sessionId) return { type: 'launch' };
    const l = this.live.get(d.sessionId);
    if (l) return l.outcome ? { type: 'result', outcome: l.outcome } : { type: 'running', wait: l.promise };
    // Persisted but not running here: the process that launched it is gone.
    return (d.launches ?? 0) >= maxLaunches ? { type: 'lost', launches: d.launches ?? 0 } : { type: 'launch' };
  }

  /** Starts the session (after its launch was committed). Never throws: failures become outcomes. */
  start(req: Omit<AgentRequest, 'signal'>, parent: AbortSignal, activity?: SessionActivity): Promise<AgentOutcome> {
    const abort = new AbortController();
    const onAbort = (): void => abort.abort();
    parent.addEventListener('abort', onAbort, { once: true });
    const entry: Live = { abort, promise: Promise.resolve(null as unknown as AgentOutcome) };
    const watchKey = launchSessionId(req.sessionId);
    if (activity) this.watched.set(watchKey, activity);
    entry.promise = this.runner
      .run({ ...req, signal: abort.signal })
      .catch((e: unknown): AgentOutcome => ({ status: 'failed', agentSessionId: null, text: '', usage: { tokens: 0, costUsd: 0 }, error: e instanceof Error ? e.message : String(e) }))
      .then(async (o) => {
        // What the agent wrote since the last quiet spell is checkpointed before its outcome counts.
        if (activity) {
          this.watched.delete(watchKey);
          await activity.stop().catch(() => undefined);
        }
        entry.outcome = o;
        parent.removeEventListener('abort', onAbort);
        // A stopped session's outcome means nothing to the run (cancelled or fenced): forget it.
        if (abort.signal.aborted) this.live.delete(req.sessionId);
        return o;
      });
    this.live.set(req.sessionId, entry);
    return entry.promise;
  }

  /** Agent activity seen for a session (its launch id): the debounced checkpoint clock restarts. */
  poke(launchId: string): void {
    this.watched.get(launchId)?.poke();
  }

  /** Forget a session whose outcome has been committed. */
  forget(sessionId: string): void {
    this.live.delete(sessionId);
  }

  /** Stop every live session of a step row (cancel). */
  stopAll(prefix: string): number {
    let n = 0;
    for (const [id, l] of this.live) {
      if (!id.startsWith(prefix) || l.outcome) continue;
      l.abort.abort();
      n++;
    }
    return n;
  }

  /**
   * Forget every session of a run (stopping those still running): their outcomes belonged to a lease
   * that was lost, so a later lease of the task must launch afresh rather than consume them.
   */
  drop(prefix: string): number {
    let n = 0;
    for (const [id, l] of this.live) {
      if (!id.startsWith(prefix)) continue;
      if (!l.outcome) l.abort.abort();
      this.live.delete(id);
      n++;
    }
    return n;
  }

  /** Sessions this process is running right now. */
  get running(): number {
    return [...this.live.values()].filter((l) => !l.outcome).length;
  }
}
