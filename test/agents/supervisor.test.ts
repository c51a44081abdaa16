// Process supervision with real child processes: own process group, log capture, limits, kills.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { supervise } from '../../src/agents/process/supervisor.js';
import { sandbox, type Sandbox } from './support.js';

// Alive = exists and is not a zombie (an orphan's reaping is up to init, not us).
const alive = (pid: number): boolean => {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

describe('supervisor', () => {
  let box: Sandbox;
  before(() => (box = sandbox('sup')));
  after(() => box.cleanup());
  const run = (script: string, over: Partial<Parameters<typeof supervise>[0]> = {}) => {
    const lines: string[] = [];
    const proc = supervise({
      argv: ['sh', '-c', script],
      cwd: box.workspace,
      env: { PATH: process.env.PATH ?? '' },
      logFile: join(box.logs, `${Math.random().toString(36).slice(2)}.log`),
      onLine: (l) => lines.push(l),
      ...over,
    });
    return { proc, lines };
  };

  it('captures stdout lines and stderr in the log, feeds stdin, records the exit code', async () => {
    const logFile = join(box.logs, 'io.log');
    const { proc, lines } = run('read x; echo "got $x"; echo oops >&2; printf tail; exit 7', { stdin: 'input\n', logFile });
    assert.deepEqual(await proc.exited, { code: 7, signal: null, reason: 'exited' });
    assert.deepEqual(lines, ['got input', 'tail']);
    const log = readFileSync(logFile, 'utf8');
    assert.match(log, /got input/);
    assert.match(log, /oops/);
  });

  it('stop() terminates the whole process group, grandchildren included', async () => {
    const { proc, lines } = run('sleep 300 & echo $!; wait');
    while (lines.length === 0) await new Promise((r) => setImmediate(r));
    const grandchild = Number(lines[0]);
    assert.ok(alive(grandchild));
    const info = await proc.stop();
    assert.equal(info.reason, 'stopped');
    assert.equal(info.signal, 'SIGTERM');
    // The group got SIGTERM together; stop() answers when the leader is gone, and the grandchild's own exit
    // may land a moment later (seen once in CI): give it a bounded moment, never forever.
    for (let i = 0; i < 100 && alive(grandchild); i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(alive(grandchild), false);
  });

  it('escalates to SIGKILL when SIGTERM is ignored', async () => {
    const { proc, lines } = run("trap '' TERM; echo ready; while true; do sleep 0.05; done", { killGraceMs: 200 });
    while (lines.length === 0) await new Promise((r) => setImmediate(r));
    const info = await proc.stop();
    assert.equal(info.signal, 'SIGKILL');
    assert.equal(info.reason, 'stopped');
  });

  it('enforces the total timeout and the inactivity limit', async () => {
    const t = run('while true; do echo tick; sleep 0.05; done', { timeoutMs: 300 });
    assert.equal((await t.proc.exited).reason, 'timeout');
    const i = run('echo once; sleep 300', { inactivityMs: 200 });
    assert.equal((await i.proc.exited).reason, 'inactive');
  });

  it('reports a missing executable as spawn_failed', async () => {
    const proc = supervise({ argv: ['/nonexistent/agent'], cwd: box.workspace, env: {}, logFile: join(box.logs, 'nx.log'), onLine: () => undefined });
    assert.deepEqual(await proc.exited, { code: null, signal: null, reason: 'spawn_failed' });
  });
});
