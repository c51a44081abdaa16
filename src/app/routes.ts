// Every API route, assembled in one place. Each area contributes a list; add yours here.
import type { Route } from '../api/route.js';
import { agentHookRoutes, type AgentHookDeps } from '../api/routes/agent-hooks.js';
import { forgeWebhookRoutes, type ForgeWebhookDeps } from '../api/routes/forge-webhooks.js';
import { intakeRoutes, type IntakeDeps } from '../api/routes/intake.js';
import { syncProjectIssues } from './issue-intake.js';
import { forgeEvents } from './forge-events.js';
import { lifecycleChanges } from './lifecycle.js';
import { eventRoutes } from '../api/routes/events.js';
import { fleetRoutes } from '../api/routes/fleet.js';
import { fleetEngineRoutes } from '../api/routes/fleet-engine.js';
import { fleetSessionRoutes } from '../api/routes/fleet-sessions.js';
import type { FleetCoordinator } from '../fleet/coordinator.js';
import { projectRoutes } from '../api/routes/projects.js';
import { systemRoutes } from '../api/routes/system.js';
import { taskRoutes } from '../api/routes/tasks.js';
import { tokenRoutes } from '../api/routes/tokens.js';
import { uiRoutes } from '../api/routes/ui.js';
import { runRoutes } from '../api/routes/runs.js';
import { stepLogRoutes } from '../api/routes/ui-step-logs.js';
import { spendRoute } from '../api/routes/ui-spend.js';
import { HumanActions } from '../engine/human-actions.js';
import { RunRepoSql } from '../store/run-repo.js';
import { checkpointRoutes } from '../api/routes/checkpoints.js';
import type { WorkspacePort } from '../ports/workspace.js';
import type { SqlStore } from '../store/sql-store.js';
import type { LifecycleManager } from '../lifecycle/manager.js';
import { sessionRoutes } from '../api/routes/sessions.js';
import { notificationRoutes } from '../api/routes/notifications.js';
import { forgeWake } from '../scm/clock.js';
import { webhookSecrets } from '../scm/webhook-secret.js';
import { VERSION } from './version.js';
import type { SystemDeps } from '../api/routes/system.js';
import type { SubmitGuards } from './submit-guards.js';

export interface RouteDeps {
  store: SqlStore;
  keepAliveMs: number;
  /** Checkpoints, diff and rollback of task workspaces on this host. */
  workspaces?: WorkspacePort;
  fleet: FleetCoordinator;
  lifecycle?: LifecycleManager;
  /** Where this process's agent launcher writes session logs: enables the dashboard's transcripts. */
  sessionLogDirs?: () => string[];
  /** Where this process's checks runners write their logs: enables the dashboard's live step logs. */
  checkLogDirs?: () => string[];
  /** Agent activity hooks (absent until the factory runs agents in this process). */
  agentHooks?: AgentHookDeps;
  /** `GET /api/ready` and `GET /metrics`. */
  ready?: SystemDeps['ready'];
  metrics?: SystemDeps['metrics'];
  /** Extra checks of `POST /api/tasks` (config re-read; agents runnable on this host). */
  submitGuards?: SubmitGuards;
  /** The coordinator's home: remote factories' streamed logs (<home>/factories/<id>/logs) and its forge mirrors live there. */
  home: string;
  /** GitHub webhooks (default: secrets from the environment and the projects' config, the process's forge wake). */
  forgeWebhooks?: ForgeWebhookDeps;
  /** Where background failures (a webhook's look at a pull request) are reported. */
  warn?(msg: string, fields?: Record<string, unknown>): void;
  /** Issue intake (default: through each project's forge adapter, made for `home`). */
  intake?: IntakeDeps;
}

export function allRoutes(deps: RouteDeps): Route[] {
  const routes: Route[] = [];
  routes.push(
    ...systemRoutes({ version: VERSION, allRoutes: () => routes, storeKind: deps.store.db.dialect, ...(deps.ready ? { ready: deps.ready } : {}), ...(deps.metrics ? { metrics: deps.metrics } : {}) }),
    ...projectRoutes(deps.store),
    ...taskRoutes(deps.store, deps.submitGuards),
    ...eventRoutes(deps.store, { keepAliveMs: deps.keepAliveMs }),
    ...tokenRoutes(deps.store),
    ...uiRoutes(deps.store, {
      ...(deps.sessionLogDirs ? { transcripts: { logDirs: deps.sessionLogDirs, ...(deps.lifecycle ? { sessions: deps.lifecycle } : {}) } } : {}),
      waitingOf: (tasks) => deps.fleet.waitingMany(tasks),
    }),
    ...engineRoutes(deps.store, deps.fleet, { checks: deps.checkLogDirs ?? (() => []), sessions: deps.sessionLogDirs ?? (() => []) }),
    spendRoute(deps.store),
    ...(deps.workspaces ? checkpointRoutes(deps.workspaces, deps.store.tasks) : []),
    ...fleetRoutes(deps.fleet, deps.store, { keepAliveMs: deps.keepAliveMs }),
    ...fleetEngineRoutes(deps.store, { home: deps.home }),
    ...(deps.agentHooks ? agentHookRoutes(deps.agentHooks) : []),
    ...intakeRoutes(deps.store, deps.intake ?? { sync: (p) => syncProjectIssues(deps.store, deps.home, p) }),
    ...forgeWebhookRoutes(deps.forgeWebhooks ?? {
      secrets: async (repo) => webhookSecrets(await deps.store.projects.list(), repo),
      wake: (target) => forgeWake.wake(target),
      events: forgeEvents({
        store: deps.store, runs: new RunRepoSql(deps.store), home: deps.home,
        ...(deps.lifecycle ? { changes: lifecycleChanges(deps.lifecycle) } : {}),
        ...(deps.warn ? { warn: deps.warn } : {}),
      }),
    }),
  );
  if (deps.lifecycle) routes.push(...sessionRoutes(deps.lifecycle, deps.store.tasks), ...notificationRoutes(deps.lifecycle.notifications), ...fleetSessionRoutes(deps.store, deps.lifecycle));
  return routes;
}

function engineRoutes(store: SqlStore, fleet: FleetCoordinator, logDirs: { checks: () => string[]; sessions: () => string[] }): Route[] {
  const runs = new RunRepoSql(store);
  // Cancelling a run a factory drives goes through the fleet: the holder is fenced and stops its sessions.
  const stopHolder = async (taskId: string): Promise<void> => void (await fleet.act(taskId, 'cancel', { reason: 'run cancelled' }).catch(() => undefined));
  return [...runRoutes(store, runs, new HumanActions({ store, runs, stopHolder }), { checkLogDirs: logDirs.checks }), ...stepLogRoutes(store, runs, logDirs)];
}
