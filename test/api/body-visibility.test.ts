// Who may read a task's body: a table for the pure rule the fleet routes apply (issue #15 item 4).
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { mayReadTaskBody } from '../../src/domain/auth.js';

it('mayReadTaskBody: people always; a factory only while it holds the live lease', () => {
  const now = 1_000_000;
  const held = { leaseFactoryId: 'f-1', leaseExpiresAt: now + 60_000 };
  const cases: [string, Parameters<typeof mayReadTaskBody>[0], Parameters<typeof mayReadTaskBody>[1], boolean][] = [
    ['admin', held, { role: 'admin', factoryId: null }, true],
    ['operator on a queued task', { leaseFactoryId: null, leaseExpiresAt: null }, { role: 'operator', factoryId: null }, true],
    ['no token (route already checked access)', held, null, true],
    ['the holder', held, { role: 'factory', factoryId: 'f-1' }, true],
    ['another factory', held, { role: 'factory', factoryId: 'f-2' }, false],
    ['the holder after its lease expired', { leaseFactoryId: 'f-1', leaseExpiresAt: now - 1 }, { role: 'factory', factoryId: 'f-1' }, false],
    ['a factory on a queued task', { leaseFactoryId: null, leaseExpiresAt: null }, { role: 'factory', factoryId: 'f-1' }, false],
    ['a factory token bound to no factory', held, { role: 'factory', factoryId: null }, false],
  ];
  for (const [name, task, caller, want] of cases) assert.equal(mayReadTaskBody(task, caller, now), want, name);
});
