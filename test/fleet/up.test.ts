// `gantry up`'s in-process factory: the coordinator process claims and runs its own work, and a
// restart reuses the factory's identity and outbox.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newTask, project } from '../support/fixtures.js';
import { until } from './support.js';
import { startCoordinator } from '../../src/app/coordinator.js';
import { localFactoryId, resolveHome } from '../../src/app/home.js';
import { silentLogger } from '../../src/api/logger.js';
import { fleetConfigFromEnv } from '../../src/app/fleet.js';

describe('gantry up with in-process factories', () => {
  it('ships submitted work on embedded SQLite, and drains on close', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gantry-up-'));
    const start = () => startCoordinator({ home: resolveHome(dir), port: 0, host: '127.0.0.1', factories: 2, executor: 'steps:5', logger: silentLogger, pollMs: 100, fleet: { heartbeatMs: 100 } });
    let c = await start();
    try {
      const p = await project(c.store);
      const ids = [];
      for (let i = 0; i < 4; i++) ids.push((await c.store.tasks.submit(newTask(p, { title: `u${i}` }))).task.id);
      await until(async () => (await c.store.tasks.list({ stages: ['shipped'] })).tasks.length === 4, 'shipped in-process');
      const holders = new Set((await Promise.all(ids.map((id) => c.fleet.runs(id)))).flatMap((r) => r.leases.map((l) => l.factoryId)));
      const mine = [localFactoryId(dir, 1), localFactoryId(dir, 2)];
      assert.match(mine[0]!, /^f-[0-9a-z]{8}-1$/);
      assert.ok([...holders].every((h) => mine.includes(h)));
      await c.close();
      c = await start();
      assert.deepEqual((await c.fleet.factories()).map((f) => f.id).sort(), mine.sort(), 'same identities after a restart');
    } finally {
      await c.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects bad tuning variables with the variable named', () => {
    assert.throws(() => fleetConfigFromEnv({ GANTRY_STALE_MS: 'soon' }), /GANTRY_STALE_MS/);
    assert.throws(() => fleetConfigFromEnv({ GANTRY_HEARTBEAT_MS: '60000', GANTRY_STALE_MS: '90000' }), /third/);
    assert.deepEqual(fleetConfigFromEnv({ GANTRY_LEASE_TTL_MS: '60000' }), { leaseTtlMs: 60000 });
  });
});
