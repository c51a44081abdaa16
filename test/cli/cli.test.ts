// The CLI as users run it: real processes against a real coordinator found through the home directory.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCoordinator, type Coordinator } from '../../src/app/coordinator.js';
import { resolveHome } from '../../src/app/home.js';
import { silentLogger } from '../../src/api/logger.js';
import { gantry, GANTRY_BIN } from '../support/cli.js';
import { makeRepo } from '../support/git.js';

describe('cli', () => {
  let homeDir: string;
  let coord: Coordinator;
  let repo: string;
  let env: Record<string, string>;

  before(async () => {
    homeDir = mkdtempSync(join(tmpdir(), 'gantry-cli-'));
    coord = await startCoordinator({ home: resolveHome(homeDir), port: 0, host: '127.0.0.1', factories: 0, logger: silentLogger });
    repo = makeRepo();
    env = { GANTRY_HOME: homeDir };
  });
  after(async () => {
    await coord?.close();
    rmSync(homeDir, { recursive: true, force: true });
  });

  const json = (out: string): Record<string, unknown> => JSON.parse(out) as Record<string, unknown>;

  it('init → add → ls → show, each --json document parses', async () => {
    const init = await gantry(['init', '--json'], { cwd: repo, env });
    assert.equal(init.code, 0, init.stderr);
    const project = json(init.stdout).project as { id: string; name: string };
    assert.ok(existsSync(join(repo, 'gantry.yaml')));

    const add = await gantry(['add', 'Fix the login bug', '--body', 'details', '--priority', '5', '--json'], { cwd: repo, env });
    assert.equal(add.code, 0, add.stderr);
    const task = json(add.stdout).task as { id: string; stage: string; priority: number };
    assert.equal(task.stage, 'queued');
    assert.equal(task.priority, 5);

    const dep = await gantry(['add', 'Then this', '--after', task.id, '--json'], { cwd: repo, env });
    assert.equal((json(dep.stdout).task as { stage: string }).stage, 'blocked');

    const [ls, lsHuman, show, showHuman] = await Promise.all([
      gantry(['ls', '--json', '--project', project.name], { env }),
      gantry(['ls'], { env }),
      gantry(['show', task.id, '--json'], { env }),
      gantry(['show', task.id], { env }),
    ]);
    assert.equal((json(ls.stdout).tasks as unknown[]).length, 2);
    assert.match(lsHuman.stdout, /ID\s+STAGE/);
    assert.equal((json(show.stdout).task as { id: string }).id, task.id);
    assert.match(showHuman.stdout, /lease\s+epoch 0/);
  });

  it('doctor --json reports every check', async () => {
    const r = await gantry(['doctor', '--json'], { env });
    const out = json(r.stdout) as { checks: Array<{ name: string; status: string }> };
    for (const name of ['git', 'store', 'coordinator', 'tmux', 'agent claude-code', 'agent scripted']) assert.ok(out.checks.some((c) => c.name === name), name);
    assert.equal(r.code, out.checks.some((c) => c.status === 'fail') ? 1 : 0);
  });

  const failures: Array<[string, string[], RegExp]> = [
    ['unknown task', ['show', 't-nothere'], /task t-nothere not found/],
    ['bad integer', ['ls', '--limit', 'zero'], /--limit must be an integer/],
    ['unknown command', ['lss'], /unknown command 'lss'.*Did you mean ls/s],
    ['unknown pipeline', ['add', 'x', '--pipeline', 'nope', '--project', 'x'], /project: no project x|pipeline/],
    ['no coordinator', ['ls', '--home', '/nonexistent-gantry-home'], /no running coordinator/],
  ];
  for (const [name, args, re] of failures) {
    it(`error: ${name} → one line on stderr, non-zero exit`, async () => {
      const r = await gantry([...args, '--json'].filter((a) => !(a === '--json' && args[0] === 'lss')), { env });
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, re);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.equal(r.stdout, '');
    });
  }

  it('up --json announces itself, writes daemon.json and a 0600 admin token, and stops cleanly on SIGTERM', async () => {
    const home = mkdtempSync(join(tmpdir(), 'gantry-up-'));
    try {
      const child = spawn(process.execPath, [GANTRY_BIN, 'up', '--port', '0', '--factories', '0', '--json', '--home', home], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          out += d;
          if (out.trimEnd().endsWith('}')) resolve();
        });
        child.on('exit', (code) => reject(new Error(`exited ${code}`)));
      });
      const info = json(out) as { url: string; pid: number };
      assert.equal(info.pid, child.pid);
      const daemon = json(readFileSync(join(home, 'daemon.json'), 'utf8')) as { url: string };
      assert.equal(daemon.url, info.url);
      assert.equal(statSync(join(home, 'admin.token')).mode & 0o777, 0o600);
      assert.equal(statSync(home).mode & 0o777, 0o700);
      const health = await fetch(`${info.url}/api/health`);
      assert.equal(health.status, 200);
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
      assert.ok(!existsSync(join(home, 'daemon.json')), 'daemon.json removed on clean exit');
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
