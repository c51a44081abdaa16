// A mirror's non-task refs are moved only by Gantry; the guard blames anyone else. Gantry moves a ref
// and then records it in gantry-known-refs.json: a factory SIGKILLed between the two (found by the
// remote chaos run: the restarted factory's next guard failed an innocent task with ref_moved) must
// not leave a ref that looks moved by an agent. Gantry's own moves say so in the mirror's reflog.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { Mirror, movedByGantry } from '../../src/workspace/mirror.js';
import { makeRepo } from '../support/git.js';

const sh = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);
const Z = '0'.repeat(40);
const line = (o: string, n: string, msg: string) => `${o} ${n} Gantry <g@x> 1700000000 +0000\t${msg}\n`;

describe('movedByGantry (pure)', () => {
  const cases: Array<[string, string, string | null, string, boolean]> = [
    ['one fetch', line(A, B, 'gantry: fetch: fast-forward'), A, B, true],
    ['fetch then landing', line(A, B, 'gantry: fetch: fast-forward') + line(B, C, 'gantry: landed'), A, C, true],
    ['created by a fetch (a new tag)', line(Z, B, 'gantry: fetch: storing head'), null, B, true],
    ['an agent commit', line(A, B, 'commit: sneaky'), A, B, false],
    ['an agent move under a later fetch', line(A, B, 'branch: Reset to x') + line(B, C, 'gantry: fetch: forced-update'), A, C, false],
    ['a reflog that does not reach the record', line(B, C, 'gantry: landed'), A, C, false],
    ['a reflog that does not end at the ref', line(A, B, 'gantry: landed'), A, C, false],
    ['no reflog', '', A, B, false],
  ];
  for (const [what, log, known, now, want] of cases) it(what, () => assert.equal(movedByGantry(log, known, now), want));
});

describe('mirror refs after a kill between moving and recording', () => {
  it("Gantry's own fetch or landing is never blamed; an agent's move still is", async () => {
    const root = mkdtempSync(join(tmpdir(), 'gantry-mirror-refs-'));
    const remote = makeRepo({ 'README.md': '# app\n' });
    try {
      const m = Mirror.of(join(root, 'home'), { dirName: 'app', remote });
      await m.fetch(['main']);
      const known = join(m.path, 'gantry-known-refs.json');
      // The state a SIGKILL right after the fetch leaves: the ref moved, the record not yet written.
      const before = readFileSync(known, 'utf8');
      sh(remote, 'commit', '-q', '--allow-empty', '-m', 'upstream');
      sh(remote, 'tag', 'v1');
      await m.fetch(['main']);
      writeFileSync(known, before);
      assert.deepEqual(await m.moved(), [], 'a fetch by Gantry is not an agent moving main (nor a fetched tag)');

      // The same for a landing (setRef) killed before its record.
      const head = sh(m.path, 'rev-parse', 'refs/heads/main');
      const landed = sh(m.path, 'commit-tree', `${head}^{tree}`, '-p', head, '-m', 'landed');
      const before2 = readFileSync(known, 'utf8');
      await m.setRef('refs/heads/main', landed, head);
      writeFileSync(known, before2);
      assert.deepEqual(await m.moved(), [], 'a landing by Gantry is not an agent moving main');

      // An agent moving main (any git command but Gantry's) is still caught, even after Gantry's moves.
      const other = sh(m.path, 'commit-tree', `${head}^{tree}`, '-p', landed, '-m', 'sneaky');
      sh(m.path, 'update-ref', 'refs/heads/main', other);
      assert.deepEqual((await m.moved()).map((x) => x.ref), ['refs/heads/main']);
      sh(m.path, 'branch', '-f', 'side', other);
      assert.deepEqual((await m.moved()).map((x) => x.ref), ['refs/heads/main', 'refs/heads/side'], 'a new branch too');
    } finally {
      rmSync(root, { recursive: true, force: true });
      rmSync(remote, { recursive: true, force: true });
    }
  });
});
