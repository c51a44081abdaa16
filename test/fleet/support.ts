// Fleet test helpers: a coordinator over a real store, and small waits on conditions.
import type { SqlStore } from '../../src/store/sql-store.js';
import type { FleetCoordinator, FleetConfig } from '../../src/fleet/coordinator.js';
import { createFleet } from '../../src/app/fleet.js';

export function coordinator(store: SqlStore, config: Partial<FleetConfig> = {}, log?: (m: string) => void): FleetCoordinator {
  const say = (m: string): void => log?.(m);
  return createFleet(store, { info: say, warn: say, error: say }, config);
}

export const admin = { factoryId: null };

export async function register(c: FleetCoordinator, factoryId: string, opts: { slots?: number; capabilities?: string[] } = {}): Promise<void> {
  await c.heartbeat({ factoryId, capabilities: opts.capabilities ?? [], slots: opts.slots ?? 1000, health: {}, load: {} }, { factoryId });
}

/** Polls `check` until it returns a value (not undefined/false) or the deadline passes. */
export async function until<T>(check: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Many queued tasks in one transaction (race and crash fixtures; no submit events needed). */
export async function seedTasks(store: SqlStore, projectId: string, n: number, opts: { maxAttempts?: number } = {}): Promise<string[]> {
  const ids = Array.from({ length: n }, (_, i) => `t-seed${String(i).padStart(5, '0')}`);
  await store.db.transaction(async (tx) => {
    for (const id of ids) {
      await tx.run(
        `INSERT INTO tasks (id, project_id, title, body, pipeline, priority, capabilities, stage, payload_hash, max_attempts, created_at, updated_at, queued_at)
         VALUES (?, ?, 'seeded', 'body', 'standard', 0, '[]', 'queued', 'x', ?, NOW_MS, NOW_MS, NOW_MS)`,
        [id, projectId, opts.maxAttempts ?? 3],
      );
    }
  });
  return ids;
}
