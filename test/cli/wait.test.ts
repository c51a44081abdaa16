// `gantry wait`: when it stops and with which exit code (table), and a real run against `gantry up`
// where another process moves the task.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { waitOutcome, type WaitUntil } from '../../src/cli/wait-outcome.js';
import { openStore } from '../../src/store/open.js';
import type { BlockedReason, Stage, Task } from '../../src/domain/task.js';
import { gantry } from '../support/cli.js';
import { makeRepo } from '../support/git.js';
import { startDaemon, type Daemon } from '../web/daemon.js';

describe('gantry wait', () => {
  const table: Array<[Stage, BlockedReason | null, WaitUntil, number | null]> = [
    ['queued', null, 'done', null],
    ['building', null, 'done', null],
    ['building', null, 'started', 0],
    ['shipped', null, 'done', 0],
    ['failed', null, 'done', 1],
    ['dead_letter', null, 'shipped', 1],
    ['cancelled', null, 'done', 1],
    ['blocked', 'awaiting_human', 'done', 3],
    ['blocked', 'budget', 'done', 3],
    ['blocked', 'awaiting_human', 'shipped', null],
    ['blocked', 'dependencies', 'done', null],
  ];
  for (const [stage, reason, until, code] of table) {
    it(`${stage}${reason ? `/${reason}` : ''} until ${until} → ${code === null ? 'keep waiting' : `exit ${code}`}`, () => {
      const o = waitOutcome({ stage, blockedReason: reason, quarantined: false }, until);
      assert.equal(o.stop ? o.code : null, code);
    });
  }

  describe('against gantry up', () => {
    let d: Daemon;
    let repo: string;
    let project: string;
    before(async () => {
      d = await startDaemon({ args: ['--factories', '0'] });
      repo = makeRepo();
      project = (await d.req<{ project: { id: string } }>('POST', '/api/projects', { path: repo, name: 'wait' })).body.project.id;
    });
    after(async () => {
      await d?.stop();
      rmSync(repo, { recursive: true, force: true });
    });

    const move = async (id: string, stage: Stage, reason: BlockedReason | null) => {
      const store = await openStore(join(d.home, 'gantry.db'));
      try {
        const t = (await store.tasks.get(id))!;
        await store.tasks.setStage(id, t.rev, stage, reason, { type: 'task.stage_changed', payload: { from: t.stage, to: stage } });
      } finally {
        await store.close();
      }
    };

    it('returns 0 when the task ships and 3 when it waits for a person', async () => {
      const a = (await d.req<{ task: Task }>('POST', '/api/tasks', { title: 'to ship', project })).body.task;
      const waiting = gantry(['wait', a.id, '--json'], { env: { GANTRY_HOME: d.home } });
      // Wherever the move lands — before the waiter's first read, or after it subscribed (from the
      // seq it read first) — the waiter sees it: no ordering to arrange, no sleep.
      await move(a.id, 'shipped', null);
      const r = await waiting;
      assert.equal(r.code, 0, r.stderr);
      assert.equal((JSON.parse(r.stdout) as { outcome: string }).outcome, 'shipped');

      const b = (await d.req<{ task: Task }>('POST', '/api/tasks', { title: 'to park', project })).body.task;
      const parked = gantry(['wait', b.id], { env: { GANTRY_HOME: d.home } });
      await move(b.id, 'blocked', 'awaiting_human');
      const p = await parked;
      assert.equal(p.code, 3, p.stderr);
      assert.match(p.stdout, new RegExp(`${b.id} waits for you \\(awaiting human\\)`));
    });

    it('gives up after --timeout with exit 4, and refuses a bad --until', async () => {
      const c = (await d.req<{ task: Task }>('POST', '/api/tasks', { title: 'stays queued', project })).body.task;
      const r = await gantry(['wait', c.id, '--timeout', '1'], { env: { GANTRY_HOME: d.home } });
      assert.equal(r.code, 4, r.stderr);
      const bad = await gantry(['wait', c.id, '--until', 'forever'], { env: { GANTRY_HOME: d.home } });
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--until must be one of done, shipped, started/);
    });
  });
});
