// The smart-HTTP git remote the repository tests run against: clone, push and fetch through
// `git http-backend` with basic auth, and a wrong password refused.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { git, makeRepo } from '../support/git.js';
import { gitAsync, startGitHttp } from '../support/git-http.js';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('git over smart HTTP (test support)', () => {
  it('clones, pushes and fetches with basic auth; refuses a wrong password', async () => {
    const root = mkdtempSync(join(tmpdir(), 'gantry-http-'));
    dirs.push(root);
    const seed = makeRepo({ 'a.txt': 'a\n' });
    dirs.push(seed);
    git(root, 'clone', '-q', '--bare', seed, join(root, 'app.git'));
    const srv = await startGitHttp(root);
    try {
      const clone = join(root, 'clone');
      await gitAsync(root, 'clone', '-q', srv.url('app.git'), clone);
      writeFileSync(join(clone, 'b.txt'), 'b\n');
      await gitAsync(clone, 'add', '-A');
      await gitAsync(clone, 'commit', '-qm', 'b');
      await gitAsync(clone, 'push', '-q', 'origin', 'main');
      assert.equal(git(join(root, 'app.git'), 'rev-parse', 'main'), git(clone, 'rev-parse', 'HEAD'));
      assert.ok(srv.requests.some((r) => r.path.endsWith('/git-receive-pack') && r.status === 200), 'the push went over HTTP');
      const bad = srv.url('app.git', { user: 'gantry', password: 'wrong' });
      await assert.rejects(gitAsync(root, 'ls-remote', bad), /Authentication failed|401/);
      await assert.rejects(gitAsync(root, 'ls-remote', srv.url('app.git', null)), /Authentication failed|401|terminal prompts disabled|could not read Username/);
    } finally {
      await srv.close();
    }
  });
});
