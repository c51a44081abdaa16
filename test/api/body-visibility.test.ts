// Who may read a task's body: a table for the pure rule the fleet routes apply (issue #15 item 4).
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { mayReadTaskBody, mayReportOnSession } from '../../src/domain/auth.js';

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

it('mayReportOnSession: people always; a factory only on its own sessions of work it holds now', () => {
  const now = 1_000_000;
  const held = { leaseFactoryId: 'f-1', leaseExpiresAt: now + 60_000 };
  const f1 = { role: 'factory' as const, factoryId: 'f-1' };
  const cases: [string, Parameters<typeof mayReportOnSession>[0], Parameters<typeof mayReportOnSession>[1], Parameters<typeof mayReportOnSession>[2], boolean][] = [
    ['operator, any session', { taskId: 't', factoryId: 'f-2' }, held, { role: 'operator', factoryId: null }, true],
    ['its own session of a task it holds', { taskId: 't', factoryId: 'f-1' }, held, f1, true],
    ["another factory's session", { taskId: 't', factoryId: 'f-2' }, held, f1, false],
    ['a session no factory runs', { taskId: 't', factoryId: null }, held, f1, false],
    ['its own session, the lease moved on', { taskId: 't', factoryId: 'f-1' }, { leaseFactoryId: 'f-2', leaseExpiresAt: now + 1 }, f1, false],
    ['its own session, the lease expired', { taskId: 't', factoryId: 'f-1' }, { leaseFactoryId: 'f-1', leaseExpiresAt: now - 1 }, f1, false],
    ['its own session, the task is gone', { taskId: 't', factoryId: 'f-1' }, null, f1, false],
    ['its own session with no task', { taskId: null, factoryId: 'f-1' }, null, f1, true],
    ['a factory token bound to no factory', { taskId: null, factoryId: null }, null, { role: 'factory', factoryId: null }, false],
  ];
  for (const [name, session, task, caller, want] of cases) assert.equal(mayReportOnSession(session, task, caller, now), want, name);
});
