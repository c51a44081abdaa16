// Every API route, assembled in one place. Each area contributes a list; add yours here.
import type { Route } from '../api/route.js';
import { eventRoutes } from '../api/routes/events.js';
import { fleetRoutes } from '../api/routes/fleet.js';
import type { FleetCoordinator } from '../fleet/coordinator.js';
import { projectRoutes } from '../api/routes/projects.js';
import { systemRoutes } from '../api/routes/system.js';
import { taskRoutes } from '../api/routes/tasks.js';
import { tokenRoutes } from '../api/routes/tokens.js';
import type { SqlStore } from '../store/sql-store.js';
import { VERSION } from './version.js';

export interface RouteDeps {
  store: SqlStore;
  keepAliveMs: number;
  fleet: FleetCoordinator;
}

export function allRoutes(deps: RouteDeps): Route[] {
  const routes: Route[] = [];
  routes.push(
    ...systemRoutes({ version: VERSION, allRoutes: () => routes, storeKind: deps.store.db.dialect }),
    ...projectRoutes(deps.store),
    ...taskRoutes(deps.store),
    ...eventRoutes(deps.store, { keepAliveMs: deps.keepAliveMs }),
    ...tokenRoutes(deps.store),
    ...fleetRoutes(deps.fleet, deps.store, { keepAliveMs: deps.keepAliveMs }),
  );
  return routes;
}
