// `gantry project add <url>`: a project registered from its git remote with no clone. The remote is a
// real repository served over smart HTTP with basic auth (git http-backend, in this process); the
// coordinator is a real `gantry up` child running the scripted agent. A task added to the project
// ships and its merge lands on the remote. Bad input (unreachable remote, unknown base branch, a
// taken name) is refused with what to do, and registers nothing; the URL's password is never printed.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GIT_IDENTITY, NO_AGENTS_PATH, gantry, type CliResult } from '../support/cli.js';
import { makeRepo } from '../support/git.js';
import { gitAsync, startGitHttp, type GitHttpServer } from '../support/git-http.js';
import { startDaemon, type Daemon } from '../web/daemon.js';

const YAML = `
version: 1
defaults:
  pipeline: plain
  agent: scripted
pipelines:
  plain:
    steps: [ { id: implement, kind: agent, role: plain }, { id: merge, kind: merge } ]
agents:
  scripted:
    roles:
      plain: [ { write: { path: shipped.txt, content: "shipped\\n" } }, { commit: "ship a file" } ]
`;

const SECRET = 's3cret';
const all = (r: CliResult) => `${r.stdout}${r.stderr}`;

describe('gantry project add <url>', () => {
  let d: Daemon;
  let server: GitHttpServer;
  let root: string;
  let seed: string;
  let env: Record<string, string>;
  let url: string;

  const projects = async () => (await d.req<{ projects: Array<{ name: string }> }>('GET', '/api/projects')).body.projects.map((p) => p.name);

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'gantry-projadd-'));
    seed = makeRepo({ 'README.md': '# app\n', 'gantry.yaml': YAML });
    await gitAsync(root, 'init', '-q', '--bare', '-b', 'main', 'app.git');
    await gitAsync(seed, 'push', '-q', join(root, 'app.git'), 'main:main');
    server = await startGitHttp(root);
    url = server.url('app.git');
    assert.ok(url.includes(SECRET));
    d = await startDaemon({ env: { PATH: NO_AGENTS_PATH, ...GIT_IDENTITY } });
    env = { GANTRY_HOME: d.home, PATH: NO_AGENTS_PATH };
  });
  after(async () => {
    await d?.stop();
    await server?.close();
    rmSync(root, { recursive: true, force: true });
    rmSync(seed, { recursive: true, force: true });
  });

  it('an unreachable remote is refused with what to do; nothing is registered, the password is masked', async () => {
    const r = await gantry(['project', 'add', `http://gantry:${SECRET}@127.0.0.1:1/app.git`, '--name', 'app'], { env });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /cannot reach http:\/\/gantry:\*\*\*@127\.0\.0\.1:1\/app\.git/);
    assert.match(r.stderr, /git ls-remote/);
    assert.ok(!all(r).includes(SECRET), all(r));
    const wrongPassword = await gantry(['project', 'add', server.url('app.git', { user: 'gantry', password: 'nope' }), '--name', 'app'], { env });
    assert.notEqual(wrongPassword.code, 0);
    assert.match(wrongPassword.stderr, /cannot reach/);
    assert.ok(!all(wrongPassword).includes(':nope@'), all(wrongPassword));
    assert.deepEqual(await projects(), []);
  });

  it('an unknown base branch is refused, naming the branches there; nothing is registered', async () => {
    const r = await gantry(['project', 'add', url, '--name', 'app', '--base', 'nope'], { env });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /branch nope does not exist on the remote/);
    assert.match(r.stderr, /pass --base with one of: main/);
    assert.ok(!all(r).includes(SECRET), all(r));
    assert.deepEqual(await projects(), []);
  });

  it('an invalid gantry.yaml on the base branch is refused with the file named; nothing is registered', async () => {
    await gitAsync(seed, 'checkout', '-q', '-b', 'broken');
    writeFileSync(join(seed, 'gantry.yaml'), 'version: 1\npipelines: 12\n');
    await gitAsync(seed, 'commit', '-qam', 'broken config');
    await gitAsync(seed, 'push', '-q', join(root, 'app.git'), 'broken:broken');
    await gitAsync(seed, 'checkout', '-q', 'main');
    const r = await gantry(['project', 'add', url, '--name', 'app', '--base', 'broken'], { env });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /http:\/\/gantry:\*\*\*@127\.0\.0\.1:\d+\/app\.git@broken:gantry\.yaml/);
    assert.ok(!all(r).includes(SECRET), all(r));
    assert.deepEqual(await projects(), []);
  });

  it('registers the remote with no clone; a task added to it ships and the merge lands on the remote', async () => {
    const r = await gantry(['project', 'add', url, '--name', 'app', '--base', 'main'], { env });
    assert.equal(r.code, 0, all(r));
    assert.match(r.stdout, /project app \(p-\w+\) → http:\/\/gantry:\*\*\*@127\.0\.0\.1:\d+\/app\.git, base main/);
    assert.ok(!all(r).includes(SECRET), all(r));
    const p = (await d.req<{ project: { path: string; remote: string; config: { pipelines: Record<string, unknown> } } }>('GET', '/api/projects/app')).body.project;
    assert.equal(p.path, '', 'no local checkout');
    assert.equal(p.remote, url);
    assert.ok(p.config.pipelines.plain, "gantry.yaml was read from the remote's base branch");

    const before = await gitAsync(join(root, 'app.git'), 'rev-parse', 'main');
    const add = await gantry(['add', 'Ship a file', '--project', 'app'], { env, cwd: root });
    assert.equal(add.code, 0, all(add));
    const id = /submitted (t-\w+) to app /.exec(add.stdout)?.[1];
    assert.ok(id, add.stdout);
    const w = await gantry(['wait', id], { env });
    assert.equal(w.code, 0, all(w));
    const bare = join(root, 'app.git');
    assert.notEqual(await gitAsync(bare, 'rev-parse', 'main'), before);
    assert.equal(await gitAsync(bare, 'show', 'main:shipped.txt'), 'shipped', 'the merge landed on the remote');
    assert.ok(server.requests.some((q) => q.method === 'POST' && q.path.endsWith('/git-receive-pack') && q.status === 200), 'landed by a push over HTTP');
    const events = await d.req<{ events: unknown[] }>('GET', '/api/events?limit=1000');
    assert.ok(!JSON.stringify(events.body).includes(SECRET), 'no event carries the password');
    const logs = await gantry(['logs', id, '--limit', '1000'], { env });
    assert.ok(!all(logs).includes(SECRET));
  });

  it('a taken name is refused with a remedy; nothing more is registered', async () => {
    const r = await gantry(['project', 'add', url, '--name', 'app'], { env });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /a project named app already exists/);
    assert.match(r.stderr, /pick another --name/);
    const byDefault = await gantry(['project', 'add', url, '--base', 'main'], { env });
    assert.notEqual(byDefault.code, 0, 'the default name (app, from the URL) is taken too');
    assert.match(byDefault.stderr, /a project named app already exists/);
    assert.deepEqual(await projects(), ['app']);
  });

  it('a local repository path is a remote too (a relative one is resolved); reload re-reads gantry.yaml from the base branch', async () => {
    const r = await gantry(['project', 'add', './app.git', '--name', 'local'], { env, cwd: root });
    assert.equal(r.code, 0, all(r));
    const local = (await d.req<{ project: { path: string; remote: string; defaultBranch: string } }>('GET', '/api/projects/local')).body.project;
    assert.deepEqual([local.path, local.remote, local.defaultBranch], ['', join(root, 'app.git'), 'main'], 'base: the remote HEAD');

    await gitAsync(seed, 'fetch', '-q', join(root, 'app.git'), 'main');
    await gitAsync(seed, 'reset', '-q', '--hard', 'FETCH_HEAD');
    writeFileSync(join(seed, 'gantry.yaml'), YAML.replace('pipelines:\n', 'pipelines:\n  reloaded:\n    steps: [ { id: merge, kind: merge } ]\n'));
    await gitAsync(seed, 'commit', '-qam', 'a new pipeline');
    await gitAsync(seed, 'push', '-q', join(root, 'app.git'), 'HEAD:main');
    const reloaded = await d.req<{ project: { config: { pipelines: Record<string, unknown> } } }>('POST', '/api/projects/local/reload');
    assert.equal(reloaded.status, 200, JSON.stringify(reloaded.body));
    assert.ok(reloaded.body.project.config.pipelines.reloaded, JSON.stringify(reloaded.body.project.config.pipelines));
  });
});
