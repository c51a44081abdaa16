// The real `gantry demo` as a child process, on a machine with no git identity, no agent CLI on PATH
// and no API key: --exit-when-done ships every task and exits 0; the sample repository's main holds
// every change and its tests pass; the interactive demo waits for a person's `gantry approve`.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { SHIPPED_FILES } from '../../src/app/demo/sample.js';
import type { DemoResult } from '../../src/app/demo/driver.js';
import { GANTRY_BIN as BIN } from '../support/cli.js';

function freshEnv(tmp: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: tmp, GIT_CONFIG_NOSYSTEM: '1', PATH: `${dirname(process.execPath)}:/usr/bin:/bin` };
  // NODE_TEST_CONTEXT (set by this runner) stays: Gantry must keep it away from project checks itself.
  for (const k of Object.keys(env)) if (/^(GIT_(AUTHOR|COMMITTER)_|GANTRY_|ANTHROPIC_|OPENAI_)/.test(k)) delete env[k];
  return env;
}

function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d));
    p.stderr.on('data', (d: Buffer) => (stderr += d));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const git = (cwd: string, ...args: string[]) => spawnSync('git', args, { cwd, encoding: 'utf8' });

describe('gantry demo', () => {
  let tmp: string;
  let env: NodeJS.ProcessEnv;
  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'gantry-demo-test-'));
    env = freshEnv(tmp);
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('--exit-when-done ships every task, exits 0, and main holds every change', async () => {
    const home = join(tmp, 'auto');
    const r = await run(['demo', '--exit-when-done', '--home', home, '--port', '0', '--json', '--timeout', '240'], env);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as DemoResult;
    assert.equal(out.ok, true);
    assert.deepEqual(out.pending, []);
    assert.deepEqual(out.tasks.map((t) => [t.key, t.stage]), [['french', 'shipped'], ['shout', 'shipped'], ['excited', 'shipped'], ['changelog', 'shipped']]);
    const byKey = Object.fromEntries(out.tasks.map((t) => [t.key, t]));
    const step = (k: string, id: string) => byKey[k]!.steps.find((s) => s.id === id)!;
    assert.equal(byKey.french!.pipeline, 'standard');
    assert.equal(step('french', 'review').rounds, 2, 'review failed round 1 and passed round 2');
    assert.equal(step('french', 'implement').attempts, 2);
    assert.equal(step('french', 'conflicts').fixes, 1, 'the resolver repaired a real conflict');
    assert.equal(step('shout', 'checks').fixes, 1, 'the fixer repaired red checks');
    assert.match(r.stderr, /approving the plan on your behalf/);
    assert.match(r.stderr, /checks red/);

    // The repository: every merged commit is on main, the files are the shipped ones, the tests pass.
    const repo = out.repo;
    for (const t of out.tasks) {
      assert.ok(t.mergedSha, `${t.title} has a merged commit`);
      assert.equal(git(repo, 'merge-base', '--is-ancestor', t.mergedSha!, 'main').status, 0, `${t.title} merged into main`);
    }
    for (const [path, text] of Object.entries(SHIPPED_FILES)) assert.equal(git(repo, 'show', `main:${path}`).stdout, text, path);
    const clone = join(tmp, 'clone');
    assert.equal(git(tmp, 'clone', '-q', '--branch', 'main', repo, clone).status, 0);
    const tests = spawnSync(process.execPath, ['--test'], { cwd: clone, encoding: 'utf8', env });
    assert.equal(tests.status, 0, tests.stdout + tests.stderr);

    // The home layout the README promises: each factory's session and check logs under factories/<factory>/.
    const shout = out.tasks.find((t) => t.key === 'shout')!;
    const factories = readdirSync(join(home, 'factories'));
    const checkLogs = factories.flatMap((f) => {
      const dir = join(home, 'factories', f, 'logs', 'checks', shout.id!, '1', 'checks');
      return existsSync(dir) ? readdirSync(dir).map((round) => join(dir, round, 'test.log')) : [];
    });
    assert.ok(checkLogs.length >= 2 && checkLogs.every((l) => existsSync(l)), `check output per fix round: ${checkLogs.join(', ')}`);
    assert.ok(factories.some((f) => existsSync(join(home, 'factories', f, 'logs', 'sessions')) && readdirSync(join(home, 'factories', f, 'logs', 'sessions')).length > 0), 'session logs');
    assert.ok(factories.every((f) => existsSync(join(home, 'factories', f, 'outbox.db'))));
  });

  it('interactive: waits for a person, whose `gantry approve` lets it finish; Ctrl-C stops it cleanly', async () => {
    const home = join(tmp, 'manual');
    const p: ChildProcess = spawn(process.execPath, [BIN, 'demo', '--home', home, '--port', '0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout!.on('data', (d: Buffer) => (stdout += d));
    p.stderr!.on('data', (d: Buffer) => (stderr += d));
    const closed = new Promise<number | null>((r) => p.on('close', (code) => r(code)));
    try {
      const waitFor = async (re: RegExp, what: string) => {
        const deadline = Date.now() + 120_000;
        for (;;) {
          const m = re.exec(stdout + stderr);
          if (m) return m;
          if (Date.now() > deadline || p.exitCode !== null) throw new Error(`waiting for ${what}\n${stdout}\n${stderr}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      };
      assert.match((await waitFor(/dashboard\s+(\S+)/, 'the dashboard URL'))[1]!, /^http:\/\/127\.0\.0\.1:\d+\/#token=gnt_/);
      const id = (await waitFor(/gantry approve (t-\w+) --home/, 'the request for approval'))[1]!;
      assert.doesNotMatch(stderr, /on your behalf/);
      const a = await run(['approve', id, '--home', home], env);
      assert.equal(a.code, 0, a.stderr);
      await waitFor(/Every demo task shipped\.[\s\S]*Still serving/, 'every task shipped');
      p.kill('SIGINT');
      assert.equal(await closed, 0, stderr);
    } finally {
      if (p.exitCode === null) p.kill('SIGKILL');
    }
  });

  it('a start that fails (a taken port) leaves the --home as it found it, so a retry is not refused', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as AddressInfo).port;
    try {
      const fresh = join(tmp, 'fresh');
      const first = await run(['demo', '--exit-when-done', '--home', fresh, '--port', String(port)], env);
      assert.equal(first.code, 1);
      assert.match(first.stderr, new RegExp(`port ${port} is already in use`));
      assert.equal(existsSync(fresh), false, 'a home the demo created is removed');
      const empty = join(tmp, 'empty');
      mkdirSync(empty);
      const second = await run(['demo', '--exit-when-done', '--home', empty, '--port', String(port)], env);
      assert.match(second.stderr, new RegExp(`port ${port} is already in use`));
      assert.deepEqual(readdirSync(empty), [], 'an empty home it was given is left empty');
      const retry = await run(['demo', '--exit-when-done', '--home', empty, '--port', String(port)], env);
      assert.doesNotMatch(retry.stderr, /is not empty/);
    } finally {
      server.close();
    }
  });

  it('refuses a non-empty --home and changes nothing', async () => {
    const home = join(tmp, 'taken');
    mkdirSync(home);
    writeFileSync(join(home, 'gantry.db'), 'precious');
    const r = await run(['demo', '--exit-when-done', '--home', home, '--port', '0'], env);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /is not empty/);
    assert.deepEqual(spawnSync('ls', [home], { encoding: 'utf8' }).stdout.trim().split('\n'), ['gantry.db']);
  });
});
