// Work a dead factory never pushed is done again, never shipped without (found by the remote chaos run:
// a task ended `shipped` with no merge — its implement step was recorded done, its checkpoint never
// reached the remote, the factory resuming it started from the base and "merged" the empty branch).
// Here the remote refuses checkpoint refs while factory A implements and parks at an approval gate; A
// dies; factory B, in its own home, resumes the approved run: it must put the run back to implement,
// redo the work, ask for the approval again, and land the work.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gitAsync } from '../support/git-http.js';
import { until } from './support.js';
import { api, enroll, factory, mergedIntents, setupRemote, shipped, stop, type Proc } from './remote-rig.js';
import { newTask } from '../support/fixtures.js';

const config = () => ({
  version: 1,
  defaults: { agent: 'scripted' },
  sandbox: { mode: 'off' },
  pipelines: { gated: { steps: [{ id: 'implement', kind: 'agent', role: 'implementer' }, { id: 'gate', kind: 'approval' }, { id: 'merge', kind: 'merge' }] } },
  agents: {
    scripted: {
      roles: { implementer: [{ run: 'echo ok > "out-$(cat /proc/sys/kernel/random/uuid).txt"' }, { commit: 'do the work' }] },
    },
  },
});

describe('lost checkpoints on a remote factory', () => {
  it('a factory dies before its checkpoint reached the remote: the next one redoes the work and ships it, never an empty branch', { timeout: 240_000 }, async () => {
    const e = await setupRemote('sqlite', () => config());
    const procs: Proc[] = [];
    try {
      // The remote refuses checkpoint refs while the marker exists (as an outage or a full disk would).
      const refuse = join(e.markers, 'refuse');
      const hook = join(e.bare, 'hooks', 'pre-receive');
      writeFileSync(hook, `#!/bin/sh\n[ -f '${refuse}' ] || exit 0\nwhile read old new ref; do case "$ref" in refs/gantry/*) echo "refused $ref" >&2; exit 1;; esac; done\nexit 0\n`);
      chmodSync(hook, 0o755);
      writeFileSync(refuse, '');
      const base = await gitAsync(e.bare, 'rev-parse', 'main');
      const id = (await e.c.store.tasks.submit(newTask(e.projectId, { title: 'gated work', pipeline: 'gated', agent: 'scripted' }))).task.id;
      const events = async () => (await e.c.store.events.list({ taskId: id, limit: 500 })).map((x) => ({ type: x.type, payload: x.payload as Record<string, unknown> }));
      const blocked = async () => (await e.c.store.tasks.get(id))?.stage === 'blocked' || undefined;

      const a = await enroll(e, 'first');
      procs.push(factory(e.c.url, a.tokenFile, 'first', join(e.dir, 'home-a')));
      await until(blocked, `${id} waits at the gate\n${procs[0]!.out()}`, 120_000);
      assert.ok((await events()).some((x) => x.type === 'checkpoint.push_failed'), 'the implement checkpoint never reached the remote');
      procs[0]!.child.kill('SIGKILL');
      await procs[0]!.exited;
      rmSync(refuse);

      const approve = () => api(e, e.c.adminToken, 'POST', `/api/tasks/${id}/run/approve`, {});
      assert.equal((await approve()).status, 200);
      const b = await enroll(e, 'second');
      procs.push(factory(e.c.url, b.tokenFile, 'second', join(e.dir, 'home-b')));
      // B puts the run back to implement: the redone work waits at the gate again (what was approved is gone).
      await until(async () => {
        const stage = (await e.c.store.tasks.get(id))?.stage;
        // The defect: the empty branch passed as "already merged" and the task shipped without its work.
        if (stage === 'shipped' || stage === 'failed') throw new Error(`${id} ${stage} before it was put back: ${JSON.stringify(await events())}`);
        return (await events()).some((x) => x.type === 'run.rewound') && (await blocked());
      }, `${id} rewound and back at the gate\n${procs[1]!.out()}`, 120_000);
      const rewound = (await events()).find((x) => x.type === 'run.rewound')!.payload;
      assert.equal(rewound.to, 'implement');
      assert.equal(rewound.from, 'merge');
      assert.equal(rewound.restoredSeq, null, 'nothing of the task had reached the remote');
      assert.ok((rewound.lostSeqs as number[]).length >= 1);
      assert.equal((await approve()).status, 200);
      await shipped(e, id, procs[1]!);

      assert.equal(await mergedIntents(e, id), 1, 'merged once');
      const landed = (await gitAsync(e.bare, 'diff', '--name-only', base, 'main')).split('\n').filter(Boolean);
      assert.equal(landed.length, 1, `the redone work landed: ${landed.join(' ')}`);
      assert.match(landed[0]!, /^out-.*\.txt$/);
      const snap = await e.c.store.db.all<{ step_id: string; state: string; attempts: number }>(
        'SELECT s.step_id, s.state, s.attempts FROM steps s JOIN runs r ON r.id = s.run_id WHERE r.task_id = ? ORDER BY s.idx',
        [id],
      );
      assert.deepEqual(snap.map((s) => `${s.step_id}:${s.state}`), ['implement:done', 'gate:done', 'merge:done']);
      assert.equal(snap[0]!.attempts, 2, 'implement ran twice');
      const all = await e.c.store.events.list({ taskId: id, limit: 500 });
      const sessions = all.filter((x) => x.type === 'session.dispatched').map((x) => x.sessionId);
      assert.equal(sessions.length, 2);
      assert.notEqual(sessions[0], sessions[1], 'the redo is a new session, not the dead factory\'s');
      const rewoundCp = all.find((x) => x.type === 'checkpoint.created' && (x.payload as { reason: string }).reason === 'rewound');
      assert.ok(rewoundCp, 'the restored state was checkpointed once the run was put back');
      assert.equal(await gitAsync(e.bare, 'rev-parse', `refs/gantry/checkpoints/${id}/${(rewoundCp.payload as { seq: number }).seq}`), (rewoundCp.payload as { sha: string }).sha, 'and pushed');
    } finally {
      for (const p of procs) await stop(p).catch(() => undefined);
      await e.dispose();
    }
  });
});
