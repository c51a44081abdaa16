// PostgreSQL: a commit through one coordinator wakes followers of another through LISTEN/NOTIFY.
// The poll backstop is set to an hour, so only NOTIFY can deliver the event.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { freshDb, pgSkip } from '../support/db.js';
import { newTask, project } from '../support/fixtures.js';
import { openStore } from '../../src/store/open.js';
import type { GantryEvent } from '../../src/domain/events.js';

describe('cross-coordinator wake-up (postgres)', { skip: pgSkip() }, () => {
  it('a follower on coordinator B sees a commit made through coordinator A without polling', async () => {
    const db = await freshDb('postgres');
    const a = await openStore(db.target, { pollMs: 3_600_000 });
    const b = await openStore(db.target, { pollMs: 3_600_000 });
    try {
      const p = await project(a);
      let resolveGot: (e: GantryEvent) => void = () => undefined;
      const got = new Promise<GantryEvent>((r) => (resolveGot = r));
      const sub = b.events.follow(0, (e) => {
        if (e.type === 'task.submitted') resolveGot(e);
      });
      await sub.ready; // replay done: anything later can only arrive by NOTIFY
      const { task } = await a.tasks.submit(newTask(p));
      assert.equal((await got).taskId, task.id);
      sub();
    } finally {
      await a.close();
      await b.close();
      await db.dispose();
    }
  });
});
