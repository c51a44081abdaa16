// Fleet composition: the coordinator service over the store, and the in-process factories of
// `gantry up`. Tuning comes from options or GANTRY_* environment variables (docs/fleet.md).
import { join } from 'node:path';
import { GantryError } from '../domain/errors.js';
import type { Logger } from '../api/logger.js';
import { DEFAULT_FLEET_CONFIG, FleetCoordinator, type FleetConfig } from '../fleet/coordinator.js';
import { Factory } from '../fleet/factory.js';
import { LocalClient } from '../fleet/local-client.js';
import { executorFrom } from '../fleet/executors.js';
import { FleetStoreSql } from '../store/fleet-repo.js';
import { SqliteOutbox } from '../store/fleet-outbox.js';
import { localFactoryId } from './home.js';
import type { TaskExecutor } from '../ports/fleet.js';
import type { SqlStore } from '../store/sql-store.js';

const ENV_KNOBS: Array<[keyof Omit<FleetConfig, 'weights'>, string]> = [
  ['leaseTtlMs', 'GANTRY_LEASE_TTL_MS'],
  ['staleMs', 'GANTRY_STALE_MS'],
  ['heartbeatMs', 'GANTRY_HEARTBEAT_MS'],
  ['reapIntervalMs', 'GANTRY_REAP_MS'],
  ['starvationMs', 'GANTRY_STARVATION_MS'],
];

/** Fleet timings from the environment; a bad value is an error naming the variable. */
export function fleetConfigFromEnv(env: NodeJS.ProcessEnv = process.env): Partial<FleetConfig> {
  const out: Partial<FleetConfig> = {};
  for (const [key, name] of ENV_KNOBS) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 10) throw new GantryError('validation', `${name} must be an integer number of milliseconds ≥ 10 (got "${raw}")`, { field: name });
    out[key] = n;
  }
  if ((out.heartbeatMs ?? DEFAULT_FLEET_CONFIG.heartbeatMs) * 3 > (out.staleMs ?? DEFAULT_FLEET_CONFIG.staleMs)) {
    throw new GantryError('validation', 'GANTRY_HEARTBEAT_MS must be at most a third of GANTRY_STALE_MS', { hint: 'a factory must be able to miss two heartbeats without being declared stale' });
  }
  return out;
}

export function createFleet(store: SqlStore, logger: Logger, config: Partial<FleetConfig> = {}, onClaim?: (granted: boolean) => void): FleetCoordinator {
  const log = logger.child?.({ component: 'fleet' }) ?? logger;
  return new FleetCoordinator({
    fleet: new FleetStoreSql(store),
    tasks: store.tasks,
    projects: store.projects,
    tokens: store.tokens,
    events: store.events,
    config,
    log: (m, fields) => log.info(m, fields),
    ...(onClaim ? { onClaim } : {}),
  });
}

export interface LocalFactories {
  factories: Factory[];
  /** Graceful drain of every in-process factory. */
  close(): Promise<void>;
  /** The tasks they are working on now. */
  inFlight(): string[];
  /** During close: interrupt in-flight work now instead of waiting out the drain grace. */
  hurry(): void;
}

/** The in-process factories of `gantry up`: ids unique per home and stable across its restarts, so a restart reconciles their outboxes. */
export async function startLocalFactories(o: {
  fleet: FleetCoordinator;
  count: number;
  /** A named executor (`steps[:ms]`), or one built per factory (the pipeline engine). */
  executor: string | ((factoryId: string) => TaskExecutor);
  home: string;
  logger: Logger;
  /** What they offer the scheduler (operator words and detected host facts). */
  capabilities?: string[];
}): Promise<LocalFactories> {
  const named = typeof o.executor === 'string' ? executorFrom(o.executor) : null;
  const factories: Factory[] = [];
  const outboxes: SqliteOutbox[] = [];
  for (let i = 1; i <= o.count; i++) {
    const id = localFactoryId(o.home, i);
    const flog = o.logger.child?.({ component: 'factory', factoryId: id }) ?? o.logger;
    const outbox = new SqliteOutbox(join(o.home, 'factories', id, 'outbox.db'));
    outboxes.push(outbox);
    const f = new Factory({
      factoryId: id,
      name: `local-${i}`,
      capabilities: o.capabilities ?? [],
      slots: 1,
      client: new LocalClient(o.fleet, id),
      executor: named ?? (o.executor as (factoryId: string) => TaskExecutor)(id),
      outbox,
      heartbeatMs: o.fleet.config.heartbeatMs,
      renewEveryMs: Math.floor(o.fleet.config.leaseTtlMs / 3),
      log: (m, fields) => flog.info(m, fields),
    });
    await f.start();
    factories.push(f);
  }
  return {
    factories,
    close: async () => {
      await Promise.all(factories.map((f) => f.drain()));
      for (const ob of outboxes) await ob.close();
    },
    inFlight: () => factories.flatMap((f) => f.status().active.map((a) => a.taskId)),
    hurry: () => factories.forEach((f) => f.hurry()),
  };
}
