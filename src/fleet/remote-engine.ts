// The pipeline engine's durable ports on a remote factory, over the coordinator's fenced run/step API
// (src/api/routes/fleet-engine.ts). A factory holds a factory token and no database credentials:
// runs, budgets and merge intents are bound to one lease (taskId@epoch) per execution, so every
// write carries the epoch and a stale one comes back 409 → GantryError('stale_epoch') → the engine
// stops ("fenced"). Reads of tasks, projects and checkpoint rows, and the workspace service's events,
// go through one per-factory object that knows the leases this factory holds (LeaseBook).
import { AsyncLocalStorage } from 'node:async_hooks';
import { GantryError, isGantryError } from '../domain/errors.js';
import type { NewEvent } from '../domain/events.js';
import type { Task } from '../domain/task.js';
import type { Amount } from '../domain/pipeline/budget.js';
import type { EngineBudgets, EngineReads, EngineRuns, Fence, MergeIntent, MergeIntentRepo, ReserveRequest, ReserveResult, RunChange, RunRepo, RunSnapshot } from '../ports/engine.js';
import { CoordinatorUnreachable } from '../ports/fleet.js';
import type { Project } from '../ports/store.js';
import type { CheckpointRecord, CheckpointRepo, WorkspaceStore } from '../ports/workspace.js';
import { backoffMs, sleep } from './backoff.js';

/** What the ports need of the HTTP client (HttpCoordinatorClient.request). */
export interface EngineTransport {
  request<T>(method: string, path: string, body?: unknown): Promise<{ status: number; data: T }>;
}

export interface EngineApiOptions {
  /** How long a call made outside any lease retries transient failures before giving up (default 60 s). */
  patienceMs?: number;
  /** Retry backoff (default 250 ms doubling to 8 s). */
  baseMs?: number;
  maxMs?: number;
}

/**
 * The lease a piece of work runs for, carried through its async calls: the workspace service, the
 * checkpoint rows and the reads the engine makes are shared by every lease of the factory, so
 * they learn which lease they serve from here rather than from their arguments.
 */
const leaseScope = new AsyncLocalStorage<AbortSignal>();

/** Runs `fn` (an execution) on behalf of a lease: every EngineApi call it makes is patient until the lease ends. */
export const withinLease = <T>(signal: AbortSignal, fn: () => Promise<T>): Promise<T> => leaseScope.run(signal, fn);

/** Retries of a call whose lease has just ended (a drain's last checkpoint row): a blip, not an outage. */
const AFTER_LEASE_RETRIES = 2;

/**
 * Transient failures (coordinator restarting, network blip) are retried with backoff. A call made on
 * behalf of a live lease — a run transition, a read, a checkpoint row — waits until a coordinator
 * answers (offline-degrade: the run pauses at that call and carries on when the coordinator is
 * back; a 409 then ends it as fenced); the lease's end (fenced, drained, stopped) ends the wait. A
 * call outside any lease (start-up upkeep) gives up after `patienceMs`. A run transition is a
 * compare-and-set, so a retry of one that did commit comes back as a rev conflict, which the engine
 * already treats as "reload and go on".
 */
export class EngineApi {
  private readonly patienceMs: number;
  private readonly baseMs: number;
  private readonly maxMs: number;

  constructor(
    private readonly t: EngineTransport,
    o: EngineApiOptions = {},
  ) {
    this.patienceMs = o.patienceMs ?? 60_000;
    this.baseMs = o.baseMs ?? 250;
    this.maxMs = o.maxMs ?? 8_000;
  }

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      try {
        return (await this.t.request<T>(method, path, body)).data;
      } catch (e) {
        if (!(e instanceof CoordinatorUnreachable)) throw e;
        const lease = this.lease ?? leaseScope.getStore();
        if (lease?.aborted && attempt >= AFTER_LEASE_RETRIES) throw e;
        if (!lease && Date.now() - started >= this.patienceMs) throw e;
        await sleep(backoffMs(attempt, { baseMs: this.baseMs, maxMs: this.maxMs }), lease);
      }
    }
  }

  /** The same API bound to one lease explicitly (the run, budget and merge ports of an execution). */
  forLease(signal: AbortSignal): EngineApi {
    const api = new EngineApi(this.t, { patienceMs: this.patienceMs, baseMs: this.baseMs, maxMs: this.maxMs });
    api.lease = signal;
    return api;
  }

  private lease: AbortSignal | undefined;
}

const job = (id: string): string => `/api/fleet/jobs/${encodeURIComponent(id)}`;

/** The leases this factory holds now (task → epoch): set for the length of an execution. */
export class LeaseBook {
  private readonly held = new Map<string, number>();
  hold(taskId: string, epoch: number): void {
    this.held.set(taskId, epoch);
  }
  drop(taskId: string, epoch: number): void {
    if (this.held.get(taskId) === epoch) this.held.delete(taskId);
  }
  epochOf(taskId: string): number | undefined {
    return this.held.get(taskId);
  }
}

type JobView = Task & { bodyMd?: unknown; bodyHidden?: unknown; body: string | null };

/** Tasks, projects and workspace events for the engine and the workspace service of a remote factory. */
export class RemoteState implements EngineReads, WorkspaceStore {
  constructor(
    private readonly api: EngineApi,
    private readonly book: LeaseBook,
    private readonly log: (msg: string, fields?: Record<string, unknown>) => void = () => undefined,
  ) {}

  readonly tasks = {
    get: async (id: string): Promise<Task | undefined> => {
      try {
        const { job: j } = await this.api.call<{ job: JobView }>('GET', job(id));
        const { bodyMd: _md, bodyHidden: _hidden, ...task } = j;
        // The body is there while this factory holds the lease (what the work needs), else hidden.
        return { ...task, body: task.body ?? '' };
      } catch (e) {
        if (isGantryError(e) && e.code === 'not_found') return undefined;
        throw e;
      }
    },
  };

  readonly projects = {
    get: async (id: string): Promise<Project | undefined> => {
      try {
        return (await this.api.call<{ project: Project }>('GET', `/api/fleet/projects/${encodeURIComponent(id)}`)).project;
      } catch (e) {
        if (isGantryError(e) && e.code === 'not_found') return undefined;
        throw e;
      }
    },
    list: async (): Promise<Project[]> => (await this.api.call<{ projects: Project[] }>('GET', '/api/fleet/projects')).projects,
  };

  /** The workspace service's events, per task, carrying the epoch while this factory holds the lease. */
  async write<T>(fn: (tx: { emit(event: NewEvent): void }) => Promise<T>): Promise<T> {
    const events: NewEvent[] = [];
    const out = await fn({ emit: (e) => void events.push(e) });
    const byTask = new Map<string, NewEvent[]>();
    for (const e of events) {
      // Events about no task (a start-up gc summary) stay in this factory's log.
      if (!e.taskId) this.log(e.type, e.payload);
      else byTask.set(e.taskId, [...(byTask.get(e.taskId) ?? []), e]);
    }
    for (const [taskId, list] of byTask) {
      const epoch = this.book.epochOf(taskId);
      await this.api.call('POST', `${job(taskId)}/workspace-events`, { ...(epoch !== undefined ? { leaseEpoch: epoch } : {}), events: list.map((e) => ({ type: e.type, payload: e.payload ?? {} })) });
    }
    return out;
  }
}

/** Checkpoint rows: read by anyone of the fleet, written only by the lease holder. */
export class RemoteCheckpoints implements CheckpointRepo {
  constructor(
    private readonly api: EngineApi,
    private readonly book: LeaseBook,
  ) {}

  async insert(c: Omit<CheckpointRecord, 'id' | 'createdAt'>): Promise<CheckpointRecord> {
    const epoch = this.book.epochOf(c.taskId);
    if (epoch === undefined) throw new GantryError('stale_epoch', `this factory holds no lease of task ${c.taskId}; its checkpoint row is not recorded`, { hint: 'the next holder resumes from the pushed checkpoint refs' });
    const { taskId: _t, ...checkpoint } = c;
    return (await this.api.call<{ checkpoint: CheckpointRecord }>('POST', `${job(c.taskId)}/checkpoints`, { leaseEpoch: epoch, checkpoint })).checkpoint;
  }

  async list(taskId: string): Promise<CheckpointRecord[]> {
    return (await this.api.call<{ checkpoints: CheckpointRecord[] }>('GET', `${job(taskId)}/checkpoints`)).checkpoints;
  }

  async latest(taskId: string): Promise<CheckpointRecord | undefined> {
    return (await this.list(taskId)).at(-1);
  }

  async get(taskId: string, seq: number): Promise<CheckpointRecord | undefined> {
    return (await this.list(taskId)).find((c) => c.seq === seq);
  }
}

/** A fence for the one lease an execution runs under: a port call for another task is a bug, said loudly. */
function sameLease(bound: Fence, taskId: string): void {
  if (taskId !== bound.taskId) throw new GantryError('internal', `engine port bound to task ${bound.taskId} was asked about task ${taskId}`);
}

/** Runs and steps of one lease. */
export class RemoteRuns implements EngineRuns {
  /** The runs this lease has seen (their agent sessions' logs are streamed with the task). */
  readonly seen = new Set<string>();

  constructor(
    private readonly api: EngineApi,
    private readonly fence: Fence,
  ) {}

  private saw(s: RunSnapshot | null | undefined): RunSnapshot | undefined {
    if (s) this.seen.add(s.run.id);
    return s ?? undefined;
  }

  private epoch(f: Fence | null): number {
    if (f) sameLease(this.fence, f.taskId);
    return f?.epoch ?? this.fence.epoch;
  }

  async create(o: Parameters<RunRepo['create']>[0]): Promise<RunSnapshot> {
    sameLease(this.fence, o.taskId);
    if (o.from || o.supersede || o.requeueFrom) throw new GantryError('internal', 'retry and restart runs are started on the coordinator (human actions), never by a factory');
    return this.saw((await this.api.call<{ run: RunSnapshot }>('POST', `${job(o.taskId)}/run/start`, { leaseEpoch: this.epoch(o.fence), pipeline: o.pipeline })).run)!;
  }

  async load(runId: string): Promise<RunSnapshot | undefined> {
    const q = `leaseEpoch=${this.fence.epoch}&runId=${encodeURIComponent(runId)}`;
    return this.saw((await this.api.call<{ run: RunSnapshot | null }>('GET', `${job(this.fence.taskId)}/run?${q}`)).run);
  }

  async current(taskId: string): Promise<RunSnapshot | undefined> {
    sameLease(this.fence, taskId);
    return this.saw((await this.api.call<{ run: RunSnapshot | null }>('GET', `${job(taskId)}/run?leaseEpoch=${this.fence.epoch}`)).run);
  }

  async commit(change: RunChange, fence: Fence | null): Promise<RunSnapshot> {
    if (change.task) throw new GantryError('internal', 'a factory moves its task only through the lease protocol (PATCH, release)');
    return (await this.api.call<{ run: RunSnapshot }>('POST', `${job(this.fence.taskId)}/run/commit`, { leaseEpoch: this.epoch(fence), change })).run;
  }
}

/** Budget reservations of one lease. */
export class RemoteBudgets implements EngineBudgets {
  constructor(
    private readonly api: EngineApi,
    private readonly fence: Fence,
  ) {}

  async reserve(req: ReserveRequest): Promise<ReserveResult> {
    sameLease(this.fence, req.taskId);
    const { taskId: _t, projectId: _p, ...request } = req;
    return (await this.api.call<{ result: ReserveResult }>('POST', `${job(req.taskId)}/budget/reserve`, { leaseEpoch: this.fence.epoch, request })).result;
  }

  async settle(id: string, actual: Amount): Promise<void> {
    await this.api.call('POST', `${job(this.fence.taskId)}/budget/${encodeURIComponent(id)}`, { leaseEpoch: this.fence.epoch, op: 'settle', actual });
  }

  async release(id: string): Promise<void> {
    await this.api.call('POST', `${job(this.fence.taskId)}/budget/${encodeURIComponent(id)}`, { leaseEpoch: this.fence.epoch, op: 'release' });
  }

  async forfeitLaunch(id: string, fence: Fence | null): Promise<boolean> {
    const epoch = fence?.epoch ?? this.fence.epoch;
    return (await this.api.call<{ forfeited: boolean }>('POST', `${job(this.fence.taskId)}/budget/${encodeURIComponent(id)}`, { leaseEpoch: epoch, op: 'forfeit' })).forfeited;
  }
}

/** Merge intents of one lease. */
export class RemoteMerges implements MergeIntentRepo {
  constructor(
    private readonly api: EngineApi,
    private readonly fence: Fence,
  ) {}

  async record(i: Omit<MergeIntent, 'id' | 'state' | 'mergedSha' | 'epoch'>, fence: Fence): Promise<MergeIntent> {
    sameLease(this.fence, i.taskId);
    const { taskId: _t, ...intent } = i;
    return (await this.api.call<{ intent: MergeIntent }>('POST', `${job(i.taskId)}/merges`, { leaseEpoch: fence.epoch, intent })).intent;
  }

  async markMerged(id: string, mergedSha: string): Promise<void> {
    await this.api.call('POST', `${job(this.fence.taskId)}/merges/${encodeURIComponent(id)}`, { leaseEpoch: this.fence.epoch, state: 'merged', mergedSha });
  }

  async markAborted(id: string, reason: string): Promise<void> {
    await this.api.call('POST', `${job(this.fence.taskId)}/merges/${encodeURIComponent(id)}`, { leaseEpoch: this.fence.epoch, state: 'aborted', reason: reason.slice(0, 20_000) });
  }

  async forTask(taskId: string): Promise<MergeIntent[]> {
    sameLease(this.fence, taskId);
    return (await this.api.call<{ intents: MergeIntent[] }>('GET', `${job(taskId)}/merges?leaseEpoch=${this.fence.epoch}`)).intents;
  }
}
