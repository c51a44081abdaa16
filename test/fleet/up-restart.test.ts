// `gantry up` SIGKILLed mid-run on the embedded default, with default timings (15 min lease TTL,
// 90 s stale window), and started again: the restarted in-process factory announces a new
// incarnation, its previous process's lease is reclaimed at once, the agent the dead process
// left running is killed, and the task ships. Real processes throughout.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GANTRY_BIN, GIT_IDENTITY, NO_AGENTS_PATH, gantry } from '../support/cli.js';
import { git, makeRepo } from '../support/git.js';

const dirs: string[] = [];
const procs: ChildProcess[] = [];
after(() => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function up(env: Record<string, string>): { child: ChildProcess; ready: Promise<void>; err: () => string } {
  // Default fleet timings: nothing in the environment shortens them.
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('GANTRY_')));
  const child = spawn(process.execPath, [GANTRY_BIN, 'up', '--port', '0', '--json'], { env: { ...clean, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  procs.push(child);
  let out = '';
  let err = '';
  child.stderr!.on('data', (b: Buffer) => (err += b));
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (b: Buffer) => {
      out += b;
      if (out.includes('\n}')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`gantry up exited ${code}: ${err}`)));
  });
  return { child, ready, err: () => err };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

interface SessionJson {
  display: string;
  runtime: { pid: number | null };
}

describe('gantry up SIGKILLed mid-run', () => {
  it('restarts and resumes the work within 60 s with default timings; the orphaned agent is killed', { timeout: 240_000 }, async (t) => {
    const home = mkdtempSync(join(tmpdir(), 'gantry-up-kill-'));
    const repo = makeRepo();
    dirs.push(home, repo);
    // The first run of the agent sleeps (long enough to be killed mid-run); the resumed one goes straight on.
    const marker = join(home, 'first-run');
    writeFileSync(
      join(repo, 'gantry.yaml'),
      [
        'version: 1',
        'defaults: { pipeline: quick, agent: scripted }',
        // The marker lives outside the worktree: the sandbox (private /tmp) would hide it from the resumed launch.
        'sandbox: { mode: "off" }',
        'agents:',
        '  scripted:',
        '    roles:',
        '      implementer:',
        `        - { say: "working on it" }`,
        `        - { run: "if [ ! -f ${marker} ]; then touch ${marker}; sleep 30; fi" }`,
        '        - { write: { path: done.txt, content: "ok\\n" } }',
        '        - { commit: "do it" }',
        '',
      ].join('\n'),
    );
    const env = { GANTRY_HOME: home, PATH: NO_AGENTS_PATH, ...GIT_IDENTITY };
    const first = up(env);
    await first.ready;
    assert.equal((await gantry(['init'], { cwd: repo, env })).code, 0);
    const add = await gantry(['add', 'Survive a crash', '--json'], { cwd: repo, env });
    assert.equal(add.code, 0, add.stderr);
    const id = (JSON.parse(add.stdout) as { task: { id: string } }).task.id;

    let agentPid = 0;
    for (let i = 0; !agentPid; i++) {
      const s = JSON.parse((await gantry(['sessions', '--task', id, '--json'], { env })).stdout) as { sessions: SessionJson[] };
      const working = s.sessions.find((x) => x.display === 'working' && x.runtime.pid);
      if (working) agentPid = working.runtime.pid!;
      assert.ok(i < 600, 'the agent started');
      if (!agentPid) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(alive(agentPid));

    // The host's `gantry up` dies at once; its agent (its own process group) does not.
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));
    const killedAt = Date.now();
    assert.ok(alive(agentPid), 'the agent outlived gantry up (it runs in its own process group)');

    const second = up(env);
    await second.ready;
    const restartedAt = Date.now();
    // Killed before the factory claimed anything (SIGKILL to its group; the pid vanishes once reaped).
    for (let i = 0; i < 200 && alive(agentPid); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(!alive(agentPid), 'the orphaned agent was killed');
    const shipped = await gantry(['wait', id, '--until', 'shipped', '--timeout', '60'], { env });
    assert.equal(shipped.code, 0, `shipped within 60 s of the restart (${Math.round((Date.now() - restartedAt) / 1000)} s): ${shipped.stdout}${shipped.stderr}\n${second.err()}`);

    t.diagnostic(`shipped ${Math.round((Date.now() - restartedAt) / 100) / 10} s after the restart`);
    const show = JSON.parse((await gantry(['show', id, '--json'], { env })).stdout) as { task: { stage: string; leaseEpoch: number } };
    assert.equal(show.task.stage, 'shipped');
    const daemon = JSON.parse(readFileSync(join(home, 'daemon.json'), 'utf8')) as { url: string };
    const token = readFileSync(join(home, 'admin.token'), 'utf8').trim();
    const ev = (await (await fetch(`${daemon.url.replace(/\/$/, "")}/api/fleet/jobs/${id}/events`, { headers: { Authorization: `Bearer ${token}` } })).json()) as {
      events: Array<{ type: string; payload: Record<string, unknown>; at: number }>;
    };
    assert.ok(ev.events.some((e) => e.type === 'lease.reclaimed' && e.payload.reason === 'factory_restarted'), 'reclaimed because the factory restarted');
    // The work resumed (the task was granted again) within 60 s of the kill itself, not only of the restart.
    const regrant = ev.events.find((e) => e.type === 'lease.granted' && e.at > killedAt);
    assert.ok(regrant && regrant.at - killedAt <= 60_000, `granted again ${regrant ? regrant.at - killedAt : '∞'} ms after the kill`);
    t.diagnostic(`granted again ${regrant.at - killedAt} ms after the kill`);
    assert.equal(git(repo, 'show', 'main:done.txt'), 'ok');

    second.child.kill('SIGINT');
    second.child.kill('SIGINT');
    await new Promise((r) => second.child.once('exit', r));
  });
});
