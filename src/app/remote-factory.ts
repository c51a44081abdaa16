// `gantry factory`'s pipeline executor: the real pipeline engine on a machine that holds only a
// factory token. Agents, workspaces (made from this host's own mirror of the project remote, fetched
// with this host's git credentials), SCM and checks run here; runs, steps, budgets, merge intents,
// checkpoint rows and workspace events go to the coordinator through its fenced run/step API, each
// execution bound to its lease (taskId@epoch); so do its agent sessions (records and evidence, for the
// coordinator's lifecycle manager) and their logs.
import { join } from 'node:path';
import type { ActivitySink } from '../ports/agent.js';
import type { Fence } from '../ports/engine.js';
import type { ExecutionResult, LeaseHandle, TaskExecutor } from '../ports/fleet.js';
import type { Task } from '../domain/task.js';
import { isGantryError } from '../domain/errors.js';
import { PipelineExecutor } from '../engine/driver.js';
import { LogShipper } from '../fleet/log-shipper.js';
import { RemoteSessions } from '../fleet/remote-sessions.js';
import { EngineApi, LeaseBook, withinLease, RemoteBudgets, RemoteCheckpoints, RemoteMerges, RemoteRuns, RemoteState, type EngineApiOptions, type EngineTransport } from '../fleet/remote-engine.js';
import { engineHost, engineOver, sleep } from './engine.js';
import { startWorkspaceUpkeep, workspaceServiceOver } from './workspaces.js';

export interface RemoteFactoryWiring {
  /** The factory's own directory (<home>/factories/<name>): workspaces, mirrors and logs live under it. */
  dir: string;
  factoryId: string;
  transport: EngineTransport;
  /** What no agent may see (the factory's home, its token file). */
  secrets: { dirs: string[]; files: string[] };
  log: { info(msg: string, f?: Record<string, unknown>): void; warn(msg: string, f?: Record<string, unknown>): void };
  /** Also told of agent activity on this host (tests); the coordinator always is. */
  sink?: ActivitySink;
  /** How often a held task's session reports go to the coordinator (default 500 ms). */
  sessionReportMs?: number;
  /** Retry tuning of the calls to the coordinator (`GANTRY_ENGINE_PATIENCE_MS`). */
  api?: EngineApiOptions;
}

/** Both sinks get every observation: the coordinator's reports first. */
const both = (a: ActivitySink, b: ActivitySink): ActivitySink => ({
  activity: (id, o) => (a.activity(id, o), b.activity(id, o)),
  runtime: (id, o) => (a.runtime(id, o), b.runtime(id, o)),
  agentSession: (id, s, g) => (a.agentSession?.(id, s, g), b.agentSession?.(id, s, g)),
});

export async function remotePipelineExecutor(w: RemoteFactoryWiring): Promise<{ executor: TaskExecutor; stop(): Promise<void> }> {
  const api = new EngineApi(w.transport, w.api);
  const book = new LeaseBook();
  const state = new RemoteState(api, book, (m, f) => w.log.info(m, f));
  const workspaces = workspaceServiceOver(w.dir, state, new RemoteCheckpoints(api, book));
  // Before the first claim: repair what a killed predecessor left half-made, retire finished worktrees.
  const upkeep = await startWorkspaceUpkeep(state, workspaces, w.log);
  // Agent sessions are first-class on the coordinator: each launch, its activity and its runtime are
  // reported there (fenced by the lease) and fed to its lifecycle manager, as an in-process factory's are.
  const reports = new RemoteSessions((m, f) => w.log.warn(m, f));
  const host = engineHost({
    dir: w.dir,
    reads: state,
    workspaces,
    sink: w.sink ? both(reports, w.sink) : reports,
    sessions: reports,
    factoryId: w.factoryId,
    secrets: w.secrets,
    warn: (m, f) => w.log.warn(m, f),
  });
  const shipper = new LogShipper(api, join(w.dir, 'logs'), (m, f) => w.log.warn(m, f));
  const executor: TaskExecutor = {
    async execute(job: Task, lease: LeaseHandle): Promise<ExecutionResult> {
      const fence: Fence = { taskId: job.id, epoch: lease.epoch, factoryId: w.factoryId };
      const leased = api.forLease(lease.signal);
      const runs = new RemoteRuns(leased, fence);
      const engine = engineOver(host, { reads: state, runs, budgets: new RemoteBudgets(leased, fence), merges: new RemoteMerges(leased, fence) }, { warn: (m, f) => w.log.warn(m, f), changes: reports });
      book.hold(job.id, lease.epoch);
      // Session reports, transcripts and check logs follow the work to the coordinator while the lease is held.
      const sessions = reports.follow({ taskId: job.id, epoch: lease.epoch, api }, w.sessionReportMs);
      const logs = shipper.follow({ taskId: job.id, epoch: lease.epoch, runIds: () => runs.seen });
      try {
        // Every coordinator call this execution makes (the shared workspace service's and reads too) serves this lease.
        const result = await withinLease(lease.signal, () => new PipelineExecutor(engine, runs, w.factoryId, { sleep }).execute(job, lease)).catch((e: unknown) => {
          if (isGantryError(e) && e.code === 'stale_epoch') return { outcome: 'failed' as const, report: { failureKind: 'fenced', failureMessage: e.message } };
          throw e;
        });
        if (!lostLease(result, lease.signal)) return result;
        // The lease moved while this factory worked (an outage, an operator action): its work must never
        // ship. Its sessions are forgotten and its worktree kept aside as a local quarantine ref, so the
        // task's next lease — here or elsewhere — resumes from the latest checkpoint the coordinator recorded.
        for (const runId of runs.seen) host.sessions.drop(`${runId}:`);
        const kept = await workspaces.quarantine(job.id, `epoch-${lease.epoch}`).catch((e: unknown) => (w.log.warn('quarantining the workspace failed', { taskId: job.id, err: String(e) }), null));
        if (kept) w.log.warn('lease lost: its work is kept aside, not shipped', { taskId: job.id, epoch: lease.epoch, ref: kept.ref, sha: kept.sha });
        return { ...result, report: { ...result.report, ...(kept ? { quarantinedRef: kept.ref, quarantinedSha: kept.sha } : {}) } };
      } finally {
        // Before the lease is released: a parked run's question is on the coordinator first.
        await sessions.stop();
        await logs.stop();
        book.drop(job.id, lease.epoch);
      }
    },
  };
  return { executor, stop: () => upkeep.stop() };
}

/** The execution ended because its lease is gone: the engine was refused (409), or the factory fenced it. */
function lostLease(r: ExecutionResult, signal: AbortSignal): boolean {
  if (r.report.failureKind === 'fenced') return true;
  return signal.aborted && isGantryError(signal.reason) && signal.reason.code === 'stale_epoch';
}

/** Where a factory named `name` keeps its state under a Gantry home. */
export const factoryDir = (home: string, name: string): string => join(home, 'factories', name.replace(/[^A-Za-z0-9_.-]/g, '-'));
