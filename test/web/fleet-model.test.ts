// The fleet page's liveness rule: live only while the last heartbeat is inside the stale window.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { factoryState } from '../../web/src/model/fleet.js';
import type { Factory } from '../../web/src/api/types.js';

const f = (p: Partial<Factory>): Factory => ({
  id: 'f', name: 'f', capabilities: [], health: {}, load: {}, slots: 1, drain: false, state: 'live', live: true, lastHeartbeatAt: 1000, lastClaimAt: null, createdAt: 0, leases: [], ...p,
});

describe('web fleet model', () => {
  const table: Array<[string, Partial<Factory>, number, ReturnType<typeof factoryState>]> = [
    ['fresh heartbeat', {}, 1500, 'live'],
    ['at the edge of the window', {}, 2000, 'live'],
    ['past the window: stale without a fetch', {}, 2001, 'stale'],
    ['draining but alive', { drain: true }, 1500, 'draining'],
    ['draining and silent is stale', { drain: true }, 5000, 'stale'],
    ['enrolled, never heard from', { state: 'enrolled', lastHeartbeatAt: null }, 5000, 'enrolled'],
  ];
  for (const [name, p, now, want] of table) it(name, () => assert.equal(factoryState(f(p), 1000, now), want));
});
