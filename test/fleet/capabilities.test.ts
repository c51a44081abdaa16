// Capabilities as an operator meets them: `gantry up --cap` plus what the host detects (os, arch,
// git, installed agent CLIs), a task needing a capability nobody offers says why it waits in
// `gantry show` and in the metrics alerts, and it ships once a factory offering it joins.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GANTRY_BIN, GIT_IDENTITY, NO_AGENTS_PATH, gantry } from '../support/cli.js';
import { makeRepo } from '../support/git.js';

const dirs: string[] = [];
const procs: ChildProcess[] = [];
after(() => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function start(args: string[], env: Record<string, string>): { child: ChildProcess; ready: Promise<void>; err: () => string } {
  const child = spawn(process.execPath, [GANTRY_BIN, ...args], { env: { ...process.env, GANTRY_URL: '', GANTRY_TOKEN: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  procs.push(child);
  let out = '';
  let err = '';
  child.stderr!.on('data', (b: Buffer) => (err += b));
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (b: Buffer) => ((out += b), out.includes('\n}') && resolve()));
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${err}`)));
  });
  return { child, ready, err: () => err };
}

async function until<T>(f: () => Promise<T | undefined>, what: string, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('factory capabilities', () => {
  it('gantry up --cap and detected capabilities; a task nobody can take says why, then ships when a factory offering it joins', { timeout: 180_000 }, async () => {
    const home = mkdtempSync(join(tmpdir(), 'gantry-caps-'));
    const repo = makeRepo();
    dirs.push(home, repo);
    writeFileSync(join(repo, 'gantry.yaml'), 'version: 1\ndefaults: { pipeline: quick, agent: scripted }\n');
    const env = { GANTRY_HOME: home, PATH: NO_AGENTS_PATH, ...GIT_IDENTITY, GANTRY_HEARTBEAT_MS: '200', GANTRY_STALE_MS: '3000' };

    const bad = await gantry(['up', '--port', '0', '--cap', 'g p u'], { env });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /capability "g p u" is not a plain word/);

    const up = start(['up', '--port', '0', '--json', '--cap', 'linux-box', '--executor', 'steps:5'], env);
    await up.ready;
    const fs = JSON.parse((await gantry(['factories', '--json'], { env })).stdout) as { factories: Array<{ capabilities: string[] }> };
    const caps = fs.factories[0]!.capabilities;
    assert.equal(caps[0], 'linux-box', 'the operator\'s words first');
    for (const want of [`os:${process.platform}`, `arch:${process.arch}`, 'agent:scripted']) assert.ok(caps.includes(want), `${want} in ${caps.join(' ')}`);
    assert.ok(caps.some((c) => /^git:\d+\.\d+$/.test(c)), caps.join(' '));
    assert.ok(!caps.includes('agent:claude-code'), 'no agent CLI on this PATH');

    assert.equal((await gantry(['init'], { cwd: repo, env })).code, 0);
    const add = await gantry(['add', 'Needs a GPU', '--cap', 'gpu', '--json'], { cwd: repo, env });
    assert.equal(add.code, 0, add.stderr);
    const id = (JSON.parse(add.stdout) as { task: { id: string } }).task.id;
    const show = JSON.parse((await gantry(['show', id, '--json'], { env })).stdout) as { task: { stage: string }; waiting: { kind: string; missing: string[] } | null };
    assert.equal(show.task.stage, 'queued');
    assert.deepEqual(show.waiting && [show.waiting.kind, show.waiting.missing], ['capabilities', ['gpu']]);
    const human = await gantry(['show', id], { env });
    assert.match(human.stdout, /waits for +no live factory offers gpu \(start one with --cap gpu\)/);

    const daemon = JSON.parse(readFileSync(join(home, 'daemon.json'), 'utf8')) as { url: string };
    const token = readFileSync(join(home, 'admin.token'), 'utf8').trim();
    const metrics = (await (await fetch(`${daemon.url.replace(/\/$/, '')}/api/fleet/metrics`, { headers: { Authorization: `Bearer ${token}` } })).json()) as {
      alerts: Array<{ kind: string; message: string }>;
      waiting: Array<{ taskId: string }>;
    };
    assert.ok(metrics.alerts.some((a) => a.kind === 'unmatched_work' && /gpu/.test(a.message)), JSON.stringify(metrics.alerts));
    assert.deepEqual(metrics.waiting.map((w) => w.taskId), [id]);

    // A factory offering gpu joins: the task ships, and nothing waits any more.
    const enroll = JSON.parse((await gantry(['factories', 'enroll', 'gpu-1', '--json'], { env })).stdout) as { token: string };
    const worker = spawn(
      process.execPath,
      [GANTRY_BIN, 'factory', '--url', daemon.url, '--token', enroll.token, '--name', 'gpu-1', '--home', join(home, 'worker'), '--executor', 'steps:5', '--cap', 'gpu', '--no-detect-caps'],
      { env: { ...process.env, ...env, GANTRY_URL: '', GANTRY_TOKEN: '' }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    procs.push(worker);
    await until(async () => ((JSON.parse((await gantry(['show', id, '--json'], { env })).stdout) as { task: { stage: string } }).task.stage === 'shipped' ? true : undefined), 'the gpu task ships');
    const after = JSON.parse((await gantry(['factories', '--json'], { env })).stdout) as { factories: Array<{ name: string; capabilities: string[] }> };
    assert.deepEqual(after.factories.find((f) => f.name === 'gpu-1')?.capabilities, ['gpu'], '--no-detect-caps offers only the given words');
    worker.kill('SIGTERM');
    up.child.kill('SIGTERM');
    await new Promise((r) => up.child.once('exit', r));
  });
});
