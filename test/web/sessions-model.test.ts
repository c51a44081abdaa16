// Which sessions a task page lists: lifecycle records and engine-dispatched sessions, merged.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sessionRows } from '../../web/src/model/sessions.js';
import type { Session } from '../../web/src/api/types.js';
import type { GantryEvent } from '../../src/domain/events.js';
import type { Task } from '../../src/domain/task.js';

const task = (stage: Task['stage']) => ({ stage }) as Task;
const dispatched = (seq: number, sessionId: string, step: string): GantryEvent => ({ seq, type: 'session.dispatched', taskId: 't', runId: 'r', sessionId, payload: { step, role: 'implementer', agent: 'scripted' }, at: seq });
const session = (id: string, state: string, at: number): Session => ({ id, taskId: 't', runId: null, agent: 'claude-code', factoryId: null, state, reason: null, display: state, launchGeneration: 1, createdAt: at, updatedAt: at });

describe('web session rows', () => {
  it('lists dispatched sessions newest first; only the latest of a leased task is running', () => {
    const rows = sessionRows(task('building'), [], [dispatched(1, 'a', 'plan'), dispatched(5, 'b', 'implement')]);
    assert.deepEqual(rows.map((r) => [r.id, r.running, r.label]), [['b', true, 'implement · implementer'], ['a', false, 'plan · implementer']]);
    assert.equal(sessionRows(task('blocked'), [], [dispatched(1, 'a', 'plan')])[0]!.running, false, 'parked: nothing runs');
  });

  it("merges the engine's dispatched id with the lifecycle record the launcher named without colons", () => {
    const rows = sessionRows(task('building'), [session('r-1_0_k_1', 'working', 9)], [dispatched(5, 'r-1:0:k:1', 'implement')]);
    assert.deepEqual(rows.map((r) => [r.id, r.display, r.label]), [['r-1_0_k_1', 'working', 'implement · implementer']]);
  });

  it('a lifecycle record wins for status and messaging, keeping the step label', () => {
    const rows = sessionRows(task('building'), [session('b', 'needs_input', 9), session('c', 'done', 3)], [dispatched(5, 'b', 'implement')]);
    assert.deepEqual(rows.map((r) => [r.id, r.display, r.messageable, r.label]), [['b', 'needs_input', true, 'implement · implementer'], ['c', 'done', false, null]]);
  });
});
