// `gantry up`: open the store, make sure an admin token exists, serve the API and dashboard,
// and announce ourselves in daemon.json. Everything it starts, `close()` stops in reverse.
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApiServer } from '../api/server.js';
import type { Logger } from '../api/logger.js';
import { GantryError } from '../domain/errors.js';
import { openStore, isPostgresUrl } from '../store/open.js';
import type { SqlStore } from '../store/sql-store.js';
import { newSecret } from '../store/token-repo.js';
import { HookTokens } from '../agents/activity/hook-token.js';
import { randomBytes } from 'node:crypto';
import { ensureHome, isAlive, localFactoryId, readAdminToken, readDaemon, removeDaemon, writeDaemon, writeFileAtomic, type HomeLayout } from './home.js';
import { allRoutes } from './routes.js';
import { startIntakePolls } from './issue-intake.js';
import { checkAgentsCanRun, refreshProjectConfig } from './submit-guards.js';
import { factoryCapabilities } from './capabilities.js';
import { startWorkspaceUpkeep, workspaceService } from './workspaces.js';
import { pipelineEngine, runReplySink, startEngineSweeps } from './engine.js';
import { createFleet, fleetConfigFromEnv, startLocalFactories, type LocalFactories } from './fleet.js';
import type { FleetConfig, FleetCoordinator } from '../fleet/coordinator.js';
import { lifecycleChanges, startLifecycle, type LifecycleRuntime } from './lifecycle.js';
import { GantryMetrics } from '../api/metrics.js';
import { decideReadiness, type Readiness } from '../domain/readiness.js';
import { MIGRATIONS } from '../store/migrations/index.js';
import { VERSION } from './version.js';

export interface CoordinatorOptions {
  home: HomeLayout;
  port: number;
  host: string;
  database?: string | undefined;
  factories: number;
  logger: Logger;
  keepAliveMs?: number;
  /** Seconds between event-feed polls (backstop for other processes' commits). */
  pollMs?: number;
  /** Fleet timings (default: DESIGN §5 values, overridable with GANTRY_* variables). */
  fleet?: Partial<FleetConfig>;
  /** Executor of the in-process factories (`steps[:ms]` until the pipeline engine registers `pipeline`). */
  executor?: string | undefined;
  /** How often finished tasks' worktrees are retired on `workspace.retain` (default 60 s). */
  workspaceSweepMs?: number;
  /** Capabilities the in-process factories offer besides the detected ones (`gantry up --cap`). */
  capabilities?: string[];
  /** Detect os, arch, git and installed agent CLIs as capabilities (default true). */
  detectCapabilities?: boolean;
  /** How often the lifecycle ticks: timers, reactions, notifications, lost remote sessions (default 5 s). */
  lifecycleTickMs?: number;
}

export interface Coordinator {
  url: string;
  adminToken: string;
  store: SqlStore;
  fleet: FleetCoordinator;
  lifecycle: LifecycleRuntime;
  metrics: GantryMetrics;
  close(): Promise<void>;
  /** Tasks the in-process factories are working on (what a graceful close waits for). */
  inFlight(): string[];
  /** During close: interrupt in-flight work now (it checkpoints and releases) instead of waiting out the drain grace. */
  hurry(): void;
}

const WEB_DIST = fileURLToPath(new URL('../../web/dist', import.meta.url));

/** Where this host's agents write session logs: `<home>/logs/sessions`, and each in-process factory's own. */
export function sessionLogDirs(home: HomeLayout): string[] {
  const dirs = [join(home.logs, 'sessions')];
  const factories = join(home.dir, 'factories');
  if (existsSync(factories)) for (const f of readdirSync(factories)) dirs.push(join(factories, f, 'logs', 'sessions'));
  return dirs;
}

/** Where this host's checks runners write their logs: `<home>/logs/checks`, and each in-process factory's own. */
export function checkLogDirs(home: HomeLayout): string[] {
  return sessionLogDirs(home).map((d) => join(dirname(d), 'checks'));
}

export async function startCoordinator(o: CoordinatorOptions): Promise<Coordinator> {
  ensureHome(o.home);
  const running = readDaemon(o.home);
  if (running && running.pid !== process.pid && isAlive(running.pid)) {
    throw new GantryError('conflict', `gantry up is already running for ${o.home.dir} at ${running.url} (pid ${running.pid})`, {
      hint: 'stop it first, or pass another --home',
    });
  }
  const target = o.database ?? o.home.database;
  const store = await openStore(target, o.pollMs !== undefined ? { pollMs: o.pollMs } : {});
  const stack: Array<() => Promise<void>> = [() => store.close()];
  const unwind = async () => {
    for (const f of stack.reverse()) await f().catch((e) => o.logger.error('shutdown step failed', { err: String(e) }));
    stack.length = 0;
  };
  try {
    let adminToken = readAdminToken(o.home);
    if (!adminToken) {
      adminToken = newSecret('admin');
      writeFileAtomic(o.home.adminToken, `${adminToken}\n`, 0o600);
    }
    await store.tokens.ensure(adminToken, { name: 'local-admin', role: 'admin' });

    // Metrics follow the event log and read the fleet at scrape time; the fleet reports claims served.
    let fleetRef: FleetCoordinator | null = null;
    const metrics = new GantryMetrics({ events: store.events, fleet: { metrics: () => fleetRef!.metrics() }, version: VERSION, store: store.db.dialect });
    await metrics.start();
    stack.push(async () => metrics.close());
    const fleet = createFleet(store, o.logger, { ...fleetConfigFromEnv(), ...o.fleet }, (granted) => metrics.claim(granted));
    fleetRef = fleet;
    fleet.start(); // the reaper runs on every coordinator; its statements are safe to race
    stack.push(() => fleet.stop());
    let closing = false;
    stack.push(async () => void (closing = true));
    const localIds = Array.from({ length: o.factories }, (_, i) => localFactoryId(o.home.dir, i + 1));
    const ready = async (): Promise<Readiness> => readiness(store, fleet, localIds, () => closing);
    const lifecycle = await startLifecycle({ store, logger: o.logger, ...(o.lifecycleTickMs ? { tickMs: o.lifecycleTickMs } : {}) });
    stack.push(() => lifecycle.close());
    // Replies to engine sessions (local or on remote factories) answer the run parked on their question.
    await lifecycle.manager.attachSink(runReplySink(store));
    // Agent hooks (Claude Code --settings) post activity here with a per-session token; the secret
    // lives only in this process, as do the agents its factories launch.
    const hookTokens = new HookTokens(randomBytes(32).toString('base64url'));
    const api = createApiServer({
      routes: allRoutes({
        store, keepAliveMs: o.keepAliveMs ?? 15_000, fleet, lifecycle: lifecycle.manager, workspaces: workspaceService(o.home.dir, store, localIds), sessionLogDirs: () => sessionLogDirs(o.home), checkLogDirs: () => checkLogDirs(o.home), ready, metrics, home: o.home.dir, warn: (m, f) => o.logger.warn(m, f),
        agentHooks: { tokens: hookTokens, sink: lifecycle.evidence, clock: { now: () => Date.now() } },
        // Agents run here only when this process's factories run the pipeline; a fleet's factories check their own.
        submitGuards: { refresh: (p) => refreshProjectConfig(store, p), ...(o.factories > 0 && (o.executor ?? 'pipeline') === 'pipeline' ? { canRun: checkAgentsCanRun } : {}) },
      }),
      tokens: store.tokens,
      logger: o.logger,
      observer: metrics,
      ...(existsSync(WEB_DIST) ? { site: { dir: WEB_DIST } } : {}),
    });
    const { url } = await api.listen(o.port, o.host);
    stack.push(() => api.close());
    // The pipeline engine runs each task unless --executor names a demo executor (steps[:ms]).
    const sweeps = startEngineSweeps(store, o.logger);
    stack.push(async () => sweeps.stop());
    const intake = startIntakePolls(store, o.home.dir, o.logger);
    stack.push(async () => intake.stop());
    let local: LocalFactories | undefined;
    if (o.factories > 0) {
      const spec = o.executor ?? 'pipeline';
      const workspaces = workspaceService(o.home.dir, store, localIds);
      // Before any factory claims: repair what a crash left, then retire finished worktrees on their policy.
      const upkeep = await startWorkspaceUpkeep(store, workspaces, o.logger, o.workspaceSweepMs);
      stack.push(() => upkeep.stop());
      const executor =
        spec === 'pipeline'
          ? (factoryId: string) =>
              pipelineEngine({
                dir: join(o.home.dir, 'factories', factoryId), workspaceHome: o.home.dir, store, workspaces, sink: lifecycle.evidence, sessions: lifecycle.manager, factoryId,
                hooks: { baseUrl: loopbackUrl(url), tokens: hookTokens },
                secrets: agentSecrets(o.home.dir, target),
                changes: lifecycleChanges(lifecycle.manager), warn: (m, f) => o.logger.warn(m, f),
                stopHolder: async (taskId) => void (await fleet.act(taskId, 'cancel', { reason: 'run cancelled' }).catch(() => undefined)),
              }).executor
          : spec;
      const capabilities = await factoryCapabilities(o.capabilities ?? [], { detect: o.detectCapabilities ?? true });
      const started = await startLocalFactories({ fleet, count: o.factories, executor, home: o.home.dir, logger: o.logger, capabilities });
      local = started;
      stack.push(() => started.close());
    }
    writeDaemon(o.home, { url, pid: process.pid, startedAt: new Date().toISOString(), store: isPostgresUrl(target) ? 'postgres' : 'sqlite' });
    stack.push(async () => removeDaemon(o.home, process.pid));
    o.logger.info('coordinator up', { url, store: store.db.dialect });
    return { url, adminToken, store, fleet, lifecycle, metrics, close: unwind, inFlight: () => local?.inFlight() ?? [], hurry: () => local?.hurry() };
  } catch (e) {
    await unwind();
    throw e;
  }
}

/** Where agents on this host reach the API: a wildcard bind address becomes the loopback address. */
export function loopbackUrl(url: string): string {
  const u = new URL(url);
  if (u.hostname === '0.0.0.0') u.hostname = '127.0.0.1';
  else if (u.hostname === '[::]') u.hostname = '[::1]';
  return u.origin;
}

/** What agents must never see: the home (tokens, database, workspaces), a database file or token file kept elsewhere. */
export function agentSecrets(home: string, database: string): { dirs: string[]; files: string[] } {
  const files = [...(isPostgresUrl(database) ? [] : [database, `${database}-wal`, `${database}-shm`]), ...(process.env.GANTRY_TOKEN_FILE ? [process.env.GANTRY_TOKEN_FILE] : [])];
  return { dirs: [home], files };
}

const KNOWN_SCHEMA = MIGRATIONS.reduce((m, x) => Math.max(m, x.version), 0);

async function readiness(store: SqlStore, fleet: FleetCoordinator, localIds: string[], closing: () => boolean): Promise<Readiness> {
  const store_ = await withTimeout(store.db.get<{ v: number | null }>('SELECT MAX(version) AS v FROM gantry_migrations'), 2_000).then(
    (r) => ({ ok: true as const, schemaVersion: Number(r?.v ?? 0) }),
    (e: unknown) => ({ ok: false as const, error: e instanceof Error ? e.message : String(e) }),
  );
  const local = new Set(localIds);
  const live = store_.ok && local.size ? (await fleet.factories().catch(() => [])).filter((f) => local.has(f.id) && f.live).length : 0;
  return decideReadiness({ store: store_, knownSchemaVersion: KNOWN_SCHEMA, localFactories: { expected: localIds.length, live }, shuttingDown: closing() });
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}
