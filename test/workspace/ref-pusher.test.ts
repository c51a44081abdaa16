// Checkpoint pushes: concurrent ones share a `git push`, and each ref's fate is its own.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pushVerdicts } from '../../src/workspace/ref-pusher.js';
import { storeCases, withStore } from '../support/db.js';
import { harness, sh } from './support.js';

describe('push verdicts (pure)', () => {
  const refs = ['refs/gantry/checkpoints/a/1', 'refs/gantry/checkpoints/b/1', 'refs/gantry/checkpoints/c/2'];
  const cases: { name: string; code: number; stdout: string; stderr: string; want: (string | null)[] }[] = [
    {
      name: 'a successful push that lists nothing: every ref landed',
      code: 0,
      stdout: 'Done\n',
      stderr: '',
      want: [null, null, null],
    },
    {
      name: 'one rejected, the others new or already there',
      code: 1,
      stdout: [
        'To /srv/repo',
        `*\t${refs[0]}:${refs[0]}\t[new reference]`,
        `!\t${refs[1]}:${refs[1]}\t[rejected] (non-fast-forward)`,
        `=\t${refs[2]}:${refs[2]}\t[up to date]`,
        'Done',
      ].join('\n'),
      stderr: "error: failed to push some refs to '/srv/repo'\n",
      want: [null, '[rejected] (non-fast-forward)', null],
    },
    {
      name: 'a sha as the source names the destination ref; refs a failed push does not list failed',
      code: 1,
      stdout: `!\t${'a'.repeat(40)}:${refs[2]}\t[remote rejected] (hook declined)\n`,
      stderr: '',
      // A failed push that does not list a ref has not shown it landed: that ref counts as failed too.
      want: ['git push exited with 1', 'git push exited with 1', '[remote rejected] (hook declined)'],
    },
    {
      name: 'the remote is unreachable: every ref fails with git\'s reason',
      code: 128,
      stdout: '',
      stderr: "fatal: '/gone' does not appear to be a git repository\nfatal: Could not read from remote repository.\n",
      want: Array(3).fill("fatal: '/gone' does not appear to be a git repository | fatal: Could not read from remote repository."),
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual([...pushVerdicts(refs, c.code, c.stdout, c.stderr).values()], c.want);
    });
  }
});

for (const sc of storeCases()) {
  describe(`concurrent checkpoint pushes: ${sc.kind}`, { skip: sc.skip }, () => {
    it('every task\'s checkpoint lands on the remote; a ref the remote refuses fails alone, reported for its task', async () => {
      await withStore(sc.kind, async (store) => {
        const h = await harness(store);
        try {
          const ids = [await h.newTaskId(), await h.newTaskId(), await h.newTaskId()];
          const paths: string[] = [];
          for (const id of ids) paths.push((await h.ws.provision(h.request(id))).path);
          // The remote already holds the third task's first checkpoint ref, at a commit the new one does not extend.
          const stranger = sh(h.repo, 'commit-tree', sh(h.repo, 'rev-parse', 'main^{tree}'), '-m', 'not a checkpoint of this task');
          const blocked = `refs/gantry/checkpoints/${ids[2]}/1`;
          sh(h.repo, 'update-ref', blocked, stranger);

          ids.forEach((id, i) => writeFileSync(join(paths[i]!, `work-${i}.txt`), `${id}\n`));
          const results = await Promise.all(ids.map((id) => h.ws.checkpoint(id, { reason: 'step_end' })));
          assert.ok(results.every((r) => r.created));
          for (const r of results.slice(0, 2)) assert.equal(sh(h.repo, 'rev-parse', r.checkpoint.ref), r.checkpoint.sha, 'pushed to the project remote');
          assert.equal(sh(h.repo, 'rev-parse', blocked), stranger, 'the refused ref is left as the remote had it');

          const failed = (await store.events.list({ limit: 1000 })).filter((e) => e.type === 'checkpoint.push_failed');
          assert.deepEqual(failed.map((e) => [e.taskId, e.payload.ref]), [[ids[2], blocked]]);
          assert.match(String(failed[0]!.payload.error), /rejected/);
        } finally {
          h.dispose();
        }
      });
    });
  });
}
