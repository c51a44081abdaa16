// `gantry logs` against a real `gantry up`: history, --json, clear errors, and -f following the
// stream across a coordinator restart without losing or repeating an event.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { openStore } from '../../src/store/open.js';
import type { Task } from '../../src/domain/task.js';
import { GANTRY_BIN, gantry } from '../support/cli.js';
import { makeRepo } from '../support/git.js';
import { startDaemon, type Daemon } from '../web/daemon.js';

describe('gantry logs', () => {
  let d: Daemon;
  let repo: string;
  let project: string;
  const env = () => ({ GANTRY_HOME: d.home });
  const submit = async (title: string) => (await d.req<{ task: Task }>('POST', '/api/tasks', { title, project })).body.task;

  before(async () => {
    d = await startDaemon({ args: ['--factories', '0'] });
    repo = makeRepo();
    project = (await d.req<{ project: { id: string } }>('POST', '/api/projects', { path: repo, name: 'logs' })).body.project.id;
  });
  after(async () => {
    await d?.stop();
    rmSync(repo, { recursive: true, force: true });
  });

  it("prints a task's events, as text and as one JSON document", async () => {
    const a = await submit('first');
    const b = await submit('second');
    await d.req('PATCH', `/api/tasks/${b.id}`, { after: [a.id] });
    const text = await gantry(['logs', b.id], { env: env() });
    assert.equal(text.code, 0, text.stderr);
    const lines = text.stdout.trim().split('\n');
    assert.equal(lines.length, 2);
    assert.match(lines[0]!, /#\d+ {2}task\.submitted {2}queued/);
    assert.match(lines[1]!, new RegExp(`task\\.dependencies_changed {2}after ${a.id}`));
    const json = await gantry(['logs', b.id, '--json'], { env: env() });
    const doc = JSON.parse(json.stdout) as { events: Array<{ type: string; taskId: string }>; latest: number };
    assert.deepEqual(doc.events.map((e) => e.type), ['task.submitted', 'task.dependencies_changed']);
    assert.ok(doc.events.every((e) => e.taskId === b.id));
    const all = await gantry(['logs', '--limit', '1'], { env: env() });
    assert.equal(all.stdout.trim().split('\n').length, 1);
    assert.match(all.stdout, new RegExp(b.id), 'without a task, lines name their task');
  });

  it('refuses an unknown task and bad flags with a clear error', async () => {
    const r = await gantry(['logs', 't-nothere'], { env: env() });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /task t-nothere not found/);
    const bad = await gantry(['logs', '--limit', 'lots'], { env: env() });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--limit must be an integer/);
  });

  it('-f follows live and resumes after the coordinator restarts, with no event lost or repeated', async () => {
    const t = await submit('followed');
    const child = spawn(process.execPath, [GANTRY_BIN, 'logs', t.id, '-f', '--json'], { env: { ...process.env, GANTRY_URL: '', GANTRY_TOKEN: '', ...env() }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const waiters: Array<() => void> = [];
    child.stdout.on('data', (b: Buffer) => {
      out += b;
      waiters.splice(0).forEach((w) => w());
    });
    child.stderr.on('data', (b: Buffer) => {
      err += b;
      waiters.splice(0).forEach((w) => w());
    });
    const events = () => out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { seq: number; type: string });
    const until = async (cond: () => boolean, what: string) => {
      while (!cond()) {
        if (child.exitCode !== null) throw new Error(`logs -f exited while waiting for ${what}: ${err}`);
        await new Promise<void>((r) => waiters.push(r));
      }
    };
    try {
      await until(() => events().some((e) => e.type === 'task.submitted'), 'history');
      await until(() => /following/.test(err), 'the stream');
      const other = await submit('dependency');
      await d.req('PATCH', `/api/tasks/${t.id}`, { after: [other.id] });
      await until(() => events().some((e) => e.type === 'task.dependencies_changed'), 'a live event');

      // Coordinator down: commit a change straight to the store, then bring it back on the same port.
      const port = Number(new URL(d.url).port);
      await d.stop({ keepHome: true });
      await until(() => /reconnecting/.test(err), 'the reconnect notice');
      const store = await openStore(join(d.home, 'gantry.db'));
      const other2 = (await store.tasks.submit({ projectId: project, title: 'while away', body: '', pipeline: 'standard', agent: null, priority: 0, capabilities: [], after: [], idempotencyKey: null, maxAttempts: 3 })).task;
      await store.tasks.addDependencies(t.id, [other2.id]);
      await store.close();
      d = await startDaemon({ args: ['--factories', '0'], home: d.home, port });
      await until(() => events().filter((e) => e.type === 'task.dependencies_changed').length === 2, 'the event committed while away');
      await d.req('PATCH', `/api/tasks/${t.id}`, { after: [other.id] });
      await until(() => events().filter((e) => e.type === 'task.dependencies_changed').length === 3, 'a live event after the restart');
      const seqs = events().map((e) => e.seq);
      assert.deepEqual(seqs, [...seqs].sort((x, y) => x - y), 'in order');
      assert.equal(new Set(seqs).size, seqs.length, 'no event printed twice');
    } finally {
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill('SIGINT');
      assert.equal(await exited, 0, 'Ctrl-C ends logs -f cleanly');
    }
  });
});
