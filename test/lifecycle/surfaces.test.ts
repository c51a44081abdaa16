// The lifecycle through the real coordinator: evidence posted over HTTP shows on the SSE stream,
// `gantry reply` queues input, `gantry notifications` lists and acknowledges, bad input changes nothing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApi, type TestApi } from '../support/api.js';
import { gantry } from '../support/cli.js';
import { makeRepo } from '../support/git.js';
import { connectSse } from '../../src/lib/sse-client.js';
import { RecordingSink } from './harness.js';

describe('lifecycle API and CLI (sqlite)', () => {
  let api: TestApi;
  let taskId: string;
  before(async () => {
    api = await startTestApi('sqlite');
    const p = await api.req('POST', '/api/projects', { path: makeRepo() });
    const t = await api.req('POST', '/api/tasks', { title: 'x', body: 'y', project: (p.body.project as { id: string }).id });
    taskId = (t.body.task as { id: string }).id;
  });
  after(async () => api?.close());
  const cli = (...args: string[]) => gantry([...args, '--url', api.url, '--token', api.token]);

  it('streams every transition reported over HTTP, in order', async () => {
    const m = api.coordinator.lifecycle.manager;
    const s = await m.create({ taskId, agent: 'scripted' });
    await m.onSpawned(s.id, { launchGeneration: 1 });
    const start = await api.coordinator.store.events.latestSeq();
    const ac = new AbortController();
    const stream = await connectSse({ url: `${api.url}/api/events/stream?after=${start}`, token: api.token, signal: ac.signal });
    const post = (value: string) => api.req('POST', `/api/sessions/${s.id}/observations`, { kind: 'activity', value, source: 'hook', launchGeneration: 1 });
    const statuses: string[] = [];
    const reading = (async () => {
      for await (const msg of stream) {
        const e = JSON.parse(msg.data) as { type: string; sessionId: string; payload: { display: string } };
        if (e.type === 'session.updated' && e.sessionId === s.id) statuses.push(e.payload.display);
        if (statuses.length === 3) break;
      }
    })();
    for (const v of ['working', 'waiting_input', 'working']) assert.equal((await post(v)).status, 200);
    await reading;
    ac.abort();
    assert.deepEqual(statuses, ['working', 'needs_input', 'working']);

    const bad = await api.req('POST', `/api/sessions/${s.id}/observations`, { kind: 'activity', value: 'dancing', source: 'hook', launchGeneration: 1 });
    assert.equal(bad.status, 400);
    const now = await api.req('GET', `/api/sessions/${s.id}`);
    assert.equal((now.body.session as { display: string }).display, 'working', 'a rejected report changed nothing');
  });

  it("a factory token reports only on its own sessions of work it holds: another's is 403 and changes nothing", async () => {
    const m = api.coordinator.lifecycle.manager;
    const enroll = async (name: string) => (await api.req('POST', '/api/fleet/factories/enroll', { name })).body as { factoryId: string; token: string };
    const [mine, other] = await Promise.all([enroll('reporter'), enroll('bystander')]);
    const theirs = await m.create({ taskId, agent: 'scripted', factoryId: other.factoryId });
    await m.onSpawned(theirs.id, { launchGeneration: 1 });
    const own = await m.create({ taskId: null, agent: 'scripted', factoryId: mine.factoryId });
    await m.onSpawned(own.id, { launchGeneration: 1 });
    const onTask = await m.create({ taskId, agent: 'scripted', factoryId: mine.factoryId });
    await m.onSpawned(onTask.id, { launchGeneration: 1 });
    const post = (id: string, token: string) => api.req('POST', `/api/sessions/${id}/observations`, { kind: 'activity', value: 'waiting_input', source: 'hook', launchGeneration: 1 }, { token });
    const before = (await api.req('GET', `/api/sessions/${theirs.id}`)).body.session as { display: string };
    // Another factory's session; its own session of a task it holds no lease on (the task is queued).
    for (const id of [theirs.id, onTask.id]) assert.equal((await post(id, mine.token)).status, 403, id);
    assert.deepEqual(((await api.req('GET', `/api/sessions/${theirs.id}`)).body.session as { display: string }).display, before.display, 'a refused report changed nothing');
    // Its own session with no task, and people's tokens, still report.
    assert.equal((await post(own.id, mine.token)).status, 200);
    assert.equal((await post(theirs.id, api.token)).status, 200);
  });

  it('gantry reply, sessions and notifications', async () => {
    const m = api.coordinator.lifecycle.manager;
    const s = await m.create({ taskId, agent: 'scripted' });
    await m.onSpawned(s.id, { launchGeneration: 1 });
    await m.applyActivity(s.id, { value: 'waiting_input', confidence: 'valid', source: 'hook', at: Date.now(), launchGeneration: 1 });

    const list = await cli('notifications', '--json');
    assert.equal(list.code, 0, list.stderr);
    const notes = (JSON.parse(list.stdout) as { notifications: { id: string; kind: string; sessionId: string }[] }).notifications.filter((n) => n.sessionId === s.id);
    assert.deepEqual(notes.map((n) => n.kind), ['needs-input']);
    const human = await cli('notifications');
    assert.match(human.stdout, /needs-input/);

    const reply = await cli('reply', s.id, 'use the v2 API', '--json');
    assert.equal(reply.code, 0, reply.stderr);
    assert.equal((JSON.parse(reply.stdout) as { input: { state: string; text: string } }).input.text, 'use the v2 API');
    const shown = await api.req('GET', `/api/sessions/${s.id}`);
    assert.deepEqual((shown.body.inputs as { state: string }[]).map((i) => i.state), ['pending'], 'no agent runtime attached yet: it waits');
    const sink = new RecordingSink();
    await m.attachSink(sink);
    await m.idle();
    assert.deepEqual(sink.delivered.map((d) => d.text), ['use the v2 API']);

    const sessions = await cli('sessions', '--task', taskId);
    assert.match(sessions.stdout, new RegExp(`${s.id}\\s+needs_input`));

    const ack = await cli('notifications', 'ack', notes[0]!.id, '--json');
    assert.equal(ack.code, 0, ack.stderr);
    assert.equal((JSON.parse(ack.stdout) as { notification: { state: string } }).notification.state, 'acknowledged');
    const resolve = await cli('notifications', 'resolve', notes[0]!.id);
    assert.match(resolve.stdout, /resolved/);
    const again = await cli('notifications', 'ack', notes[0]!.id);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /cannot become acknowledged/);

    const missing = await cli('reply', 's-nope', 'hello');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /session s-nope not found/);
    const empty = await api.req('POST', `/api/sessions/${s.id}/input`, { text: '' });
    assert.equal(empty.status, 400);
    assert.equal(((await api.req('GET', `/api/sessions/${s.id}`)).body.inputs as unknown[]).length, 1, 'bad input changed nothing');
  });
});
