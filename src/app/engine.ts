// Builds the pipeline engine for this process: run/budget/merge-intent repositories over the store,
// the built-in step kinds, agents through the AgentLauncher, workspaces through the workspace port,
// git-remote SCM per project (the registry's default) and the checks runner. `executor` is what a factory runs per task.
import { join } from 'node:path';
import { reapOrphanedAgents } from '../agents/process/pid-record.js';
import { createAgentLauncher } from '../agents/launcher.js';
import type { HookTokens } from '../agents/activity/hook-token.js';
import { validateConfig } from '../config/project-config.js';
import { resolvePipelines } from '../config/pipeline.js';
import { parseWorkspaceConfig } from '../config/workspace.js';
import type { Amount } from '../domain/pipeline/budget.js';
import { LauncherAgentRunner, type SessionRecords } from '../engine/agent-runner.js';
import { SessionTable } from '../engine/dispatch.js';
import { PipelineExecutor } from '../engine/driver.js';
import { PipelineEngine, type ProjectSettings } from '../engine/engine.js';
import { HumanActions } from '../engine/human-actions.js';
import { builtinRegistry, type StepKindRegistry } from '../engine/registry.js';
import { WorkspaceBridge } from '../engine/workspace-bridge.js';
import type { ActivitySink } from '../ports/agent.js';
import type { ChangeObserver, Checks, EngineBudgets, EngineReads, EngineRuns, MergeIntentRepo, Scm } from '../ports/engine.js';
import type { Project, Store } from '../ports/store.js';
import type { WorkspacePort } from '../ports/workspace.js';
import { ChecksRunner } from '../scm/checks-runner.js';
import { scmFor } from '../scm/registry.js';
import { ChecksProviders, HostedChecks } from '../scm/hosted-checks.js';
import { git } from '../scm/git.js';
import { BudgetRepoSql } from '../store/budget-repo.js';
import { MergeIntentRepoSql } from '../store/merge-intent-repo.js';
import { RunRepoSql } from '../store/run-repo.js';
import { RunReplySink } from '../lifecycle/run-reply-sink.js';

export interface EngineWiring {
  /** The Gantry home (or a factory's own directory): logs go under <dir>/logs. */
  dir: string;
  store: Store;
  workspaces: WorkspacePort;
  /** Where agent evidence goes (the lifecycle's evidence sink). */
  sink: ActivitySink;
  /** The lifecycle's session records (the manager): every agent launch is registered there. */
  sessions?: SessionRecords;
  /** The lifecycle's change axis: what the merge, checks and conflicts steps observe goes there. */
  changes?: ChangeObserver;
  warn?(message: string, fields?: Record<string, unknown>): void;
  factoryId: string;
  /** Replace the SCM adapter (hosted SCM, or crash injection in tests). */
  scm?: (project: Project) => Scm;
  /** Where the workspace service keeps its mirrors (default `dir`). */
  workspaceHome?: string;
  /** What an agent step reserves against budgets when it does not say. */
  reserve?: Amount;
  /** Skip workspace setup commands (tests, benchmarks). */
  lightweight?: boolean;
  /** Stop the factory holding a task (the fleet's operator cancel). */
  stopHolder?: (taskId: string) => Promise<void>;
  registry?: StepKindRegistry;
  /** Agent hooks: agents that support them post activity to this API with a per-session token. */
  hooks?: { baseUrl: string; tokens: HookTokens };
  /**
   * What no agent may see, even through a path it was not given (the sandbox hides these; default:
   * `dir`): the Gantry home (tokens, database, every workspace) and secret files kept elsewhere.
   */
  secrets?: { dirs: string[]; files?: string[] };
}

export interface EngineParts {
  engine: PipelineEngine;
  executor: PipelineExecutor;
  runs: RunRepoSql;
  actions: HumanActions;
  sessions: SessionTable;
}

export const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

/** Pipelines (built-ins + the project's, validated against the registry), checks and budgets of a project. */
export function projectSettings(registry: StepKindRegistry): (p: Project) => ProjectSettings {
  return (p) => {
    const cfg = validateConfig(p.config);
    return { pipelines: resolvePipelines(cfg.pipelines, registry.specs()), checks: cfg.checks, budgets: cfg.budgets, defaultAgent: cfg.defaults.agent };
  };
}

/**
 * The per-host half of the engine: agents (launcher, runner, the session table) and what the steps
 * use on this machine (workspaces, SCM, checks). Shared by every run this factory drives.
 */
export interface EngineHost {
  sessions: SessionTable;
  registry: StepKindRegistry;
  workspace: WorkspaceBridge;
  scmFor: (p: Project) => Scm;
  checks: Checks;
  logRoot: string;
}

/** What the engine keeps durable: over the Store on a coordinator host, over the fenced API on a remote factory. */
export interface EnginePorts {
  reads: EngineReads;
  runs: EngineRuns;
  budgets: EngineBudgets;
  merges: MergeIntentRepo;
}

/** The host's wiring: what it reads tasks and projects from instead of a whole Store. */
export type HostWiring = Omit<EngineWiring, 'store' | 'stopHolder'> & { reads: EngineReads };

export function engineHost(w: HostWiring): EngineHost {
  const registry = w.registry ?? builtinRegistry();
  // Agent activity also restarts the session's debounced checkpoint clock (the SessionTable holds it).
  let table: SessionTable | undefined;
  const sink: ActivitySink = {
    activity: (id, o) => {
      table?.poke(id);
      w.sink.activity(id, o);
    },
    runtime: (id, o) => w.sink.runtime(id, o),
    ...(w.sink.agentSession ? { agentSession: (id: string, a: string, g: number) => w.sink.agentSession!(id, a, g) } : {}),
  };
  const logsDir = join(w.dir, 'logs', 'sessions');
  // Built before its factory claims anything: an agent still running from a previous process of this
  // factory is unobserved and would write into a worktree the resumed run now owns. Kill it.
  for (const o of reapOrphanedAgents(logsDir)) w.warn?.('killed an agent left running by a previous run of this factory', { sessionId: o.sessionId, pid: o.pid });
  const launcher = createAgentLauncher({
    logsDir,
    sink,
    clock: { now: () => Date.now() },
    ...(w.hooks ? { hooks: w.hooks } : {}),
    sandbox: { hide: w.secrets?.dirs ?? [w.dir], hideFiles: w.secrets?.files ?? [] },
  });
  const configOf = async (taskId: string) => {
    const t = await w.reads.tasks.get(taskId);
    const p = t ? await w.reads.projects.get(t.projectId) : undefined;
    return p ? validateConfig(p.config) : undefined;
  };
  const runner = new LauncherAgentRunner({
    launcher,
    headOf: async (path) => (await git(path, ['rev-parse', '-q', '--verify', 'HEAD^{commit}']).catch(() => '')) || null,
    ...(w.sessions ? { sessions: w.sessions } : {}),
    agentsConfig: async (taskId) => (await configOf(taskId))?.agents,
    sandboxConfig: async (taskId) => (await configOf(taskId))?.sandbox,
  });
  const sessions = (table = new SessionTable(runner));
  return {
    sessions,
    registry,
    workspace: new WorkspaceBridge(w.workspaces, w.reads, (c) => parseWorkspaceConfig((c as { workspace?: unknown }).workspace ?? {}), w.lightweight ? { lightweight: true } : {}),
    scmFor: w.scm ?? ((p) => scmFor({ home: w.workspaceHome ?? w.dir, project: p })),
    checks: new ChecksProviders({ command: new ChecksRunner(), hosted: new HostedChecks() }),
    logRoot: join(w.dir, 'logs', 'checks'),
  };
}

/** An engine over this host's agents and workspaces and the given durable ports. */
export function engineOver(host: EngineHost, ports: EnginePorts, w: Pick<EngineWiring, 'reserve' | 'changes' | 'warn'>): PipelineEngine {
  return new PipelineEngine({
    store: ports.reads,
    runs: ports.runs,
    budgets: ports.budgets,
    merges: ports.merges,
    registry: host.registry,
    sessions: host.sessions,
    workspace: host.workspace,
    scmFor: host.scmFor,
    checks: host.checks,
    settings: projectSettings(host.registry),
    logRoot: host.logRoot,
    ...(w.reserve ? { defaultReserve: w.reserve } : {}),
    ...(w.changes ? { changes: w.changes } : {}),
    ...(w.warn ? { warn: w.warn } : {}),
  });
}

export function pipelineEngine(w: EngineWiring): EngineParts {
  const { store } = w;
  const runs = new RunRepoSql(store);
  const host = engineHost({ ...w, reads: store });
  const engine = engineOver(host, { reads: store, runs, budgets: new BudgetRepoSql(store), merges: new MergeIntentRepoSql(store) }, w);
  return {
    engine,
    runs,
    sessions: host.sessions,
    actions: new HumanActions({ store, runs, ...(w.stopHolder ? { stopHolder: w.stopHolder } : {}) }),
    executor: new PipelineExecutor(engine, runs, w.factoryId, { sleep }),
  };
}

/**
 * The lifecycle's input sink for engine sessions: a reply to a session parked on its question answers
 * its run (see `src/lifecycle/run-reply-sink.ts`), wherever the session ran.
 */
export function runReplySink(store: Store): RunReplySink {
  const runs = new RunRepoSql(store);
  const actions = new HumanActions({ store, runs });
  return new RunReplySink({ current: (taskId) => runs.current(taskId), act: (taskId, a, expect) => actions.act(taskId, a, expect) });
}

/**
 * Periodic engine housekeeping on the coordinator: requeue tasks answered while their factory was
 * releasing them, give budget-paused runs another try (they pause again if still over budget), and
 * forfeit budget reservations left held by runs that ended (a cancelled or lost session never settles).
 */
export function startEngineSweeps(store: Store, log: { warn(msg: string, f?: Record<string, unknown>): void }, everyMs = 30_000): { stop(): void } {
  const actions = new HumanActions({ store, runs: new RunRepoSql(store) });
  const budgets = new BudgetRepoSql(store);
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    void Promise.all([actions.reconcile(), actions.resumeBudgetPaused(), budgets.forfeitFinished()])
      .catch((e: unknown) => log.warn('engine sweep failed', { err: String(e) }))
      .finally(() => (busy = false));
  }, everyMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
