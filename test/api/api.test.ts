// The HTTP API against a real coordinator, on both stores: auth, bad input, idempotency, SSE resume.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { storeCases } from '../support/db.js';
import { startTestApi, type TestApi } from '../support/api.js';
import { makeRepo } from '../support/git.js';
import { connectSse } from '../../src/lib/sse-client.js';

for (const c of storeCases()) {
  describe(`api: ${c.kind}`, { skip: c.skip }, () => {
    let api: TestApi;
    let projectId: string;
    before(async () => {
      api = await startTestApi(c.kind);
      const r = await api.req('POST', '/api/projects', { path: makeRepo() });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      projectId = (r.body.project as { id: string }).id;
    });
    after(async () => api?.close());

    const counts = async () => ({
      tasks: Number((await api.coordinator.store.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM tasks'))?.n),
      seq: await api.coordinator.store.events.latestSeq(),
    });

    it('refuses missing, invalid and under-privileged tokens without saying why', async () => {
      const none = await api.req('GET', '/api/tasks', undefined, { token: null });
      assert.equal(none.status, 401);
      const bad = await api.req('GET', '/api/tasks', undefined, { token: 'gnt_admin_nope' });
      assert.equal(bad.status, 401);
      assert.deepEqual(none.body, bad.body, 'same answer for missing and wrong tokens');
      const viewer = await api.req('POST', '/api/tokens', { name: 'v', role: 'viewer' });
      assert.equal(viewer.status, 201);
      const vt = viewer.body.token as string;
      assert.equal((await api.req('GET', '/api/tasks', undefined, { token: vt })).status, 200);
      const denied = await api.req('POST', '/api/tasks', { title: 'x', project: projectId }, { token: vt });
      assert.equal(denied.status, 403);
      assert.equal((await api.req('GET', '/api/health', undefined, { token: null })).status, 200);
    });

    const badInputs: Array<[string, () => Promise<{ status: number; body: Record<string, unknown> }>, number, RegExp]> = [
      ['malformed JSON', () => api.req('POST', '/api/tasks', undefined, { raw: '{"title": ' }), 400, /not valid JSON/],
      ['wrong type', () => api.req('POST', '/api/tasks', { title: 42, project: projectId }), 400, /body\.title/],
      ['unknown field with suggestion', () => api.req('POST', '/api/tasks', { title: 'x', project: projectId, priorty: 1 }), 400, /body\.priorty: unknown key "priorty" — did you mean "priority"/],
      ['missing field', () => api.req('POST', '/api/tasks', { project: projectId }), 400, /body\.title/],
      ['oversized body', () => api.req('POST', '/api/tasks', { title: 'x', project: projectId, body: 'a'.repeat(1_100_000) }), 413, /limit/],
      ['wrong content type', () => api.req('POST', '/api/tasks', undefined, { raw: 'title=x', headers: { 'Content-Type': 'text/plain' } }), 415, /application\/json/],
      ['unknown project', () => api.req('POST', '/api/tasks', { title: 'x', project: 'nope' }), 400, /project: no project nope/],
      ['unknown pipeline', () => api.req('POST', '/api/tasks', { title: 'x', project: projectId, pipeline: 'standrd' }), 400, /did you mean standard/],
      ['unknown dependency', () => api.req('POST', '/api/tasks', { title: 'x', project: projectId, after: ['t-missing'] }), 400, /unknown task t-missing/],
      ['bad query', () => api.req('GET', '/api/tasks?limit=zero'), 400, /query\.limit/],
      ['bad stage filter', () => api.req('GET', '/api/tasks?stage=dancing'), 400, /query\.stage/],
      ['unknown route', () => api.req('GET', '/api/nothing'), 404, /no route/],
      ['relative project path', () => api.req('POST', '/api/projects', { path: 'relative/dir' }), 400, /not absolute/],
    ];
    for (const [name, call, status, re] of badInputs) {
      it(`bad input: ${name} → ${status}, clear message, nothing changed`, async () => {
        const before = await counts();
        const r = await call();
        assert.equal(r.status, status, JSON.stringify(r.body));
        const err = r.body.error as { message: string; hint?: string };
        assert.match(err.message, re);
        assert.ok(err.hint, 'every error says what to do');
        assert.deepEqual(await counts(), before);
      });
    }

    it('rejects a dependency cycle and changes nothing', async () => {
      const a = await api.req('POST', '/api/tasks', { title: 'a', project: projectId });
      const aid = (a.body.task as { id: string }).id;
      const b = await api.req('POST', '/api/tasks', { title: 'b', project: projectId, after: [aid] });
      const bid = (b.body.task as { id: string }).id;
      const before = await counts();
      const r = await api.req('PATCH', `/api/tasks/${aid}`, { after: [bid] });
      assert.equal(r.status, 400);
      assert.match((r.body.error as { message: string }).message, /cycle/);
      assert.deepEqual(await counts(), before);
    });

    it('submit is idempotent on idempotencyKey: 201, then 200 with the same task, 409 on a different payload', async () => {
      const body = { title: 'idem', project: projectId, idempotencyKey: `k-${c.kind}` };
      const first = await api.req('POST', '/api/tasks', body);
      const second = await api.req('POST', '/api/tasks', body);
      assert.equal(first.status, 201);
      assert.equal(second.status, 200);
      assert.equal((first.body.task as { id: string }).id, (second.body.task as { id: string }).id);
      const clash = await api.req('POST', '/api/tasks', { ...body, title: 'other' });
      assert.equal(clash.status, 409);
    });

    it('rejects a project whose gantry.yaml is invalid, naming file and key', async () => {
      const repo = makeRepo();
      writeFileSync(join(repo, 'gantry.yaml'), 'chekcs: []\n');
      const before = await counts();
      const r = await api.req('POST', '/api/projects', { path: repo });
      assert.equal(r.status, 400);
      assert.match((r.body.error as { message: string }).message, /gantry\.yaml: chekcs: unknown key "chekcs" — did you mean "checks"/);
      assert.deepEqual(await counts(), before);
    });

    it('publishes an OpenAPI document covering every route', async () => {
      const r = await api.req('GET', '/api/openapi.json', undefined, { token: null });
      assert.equal(r.status, 200);
      const paths = r.body.paths as Record<string, Record<string, unknown>>;
      for (const route of ['/api/tasks', '/api/tasks/{id}', '/api/events/stream', '/api/projects']) assert.ok(paths[route], route);
      const post = paths['/api/tasks']!.post as { requestBody: { content: { 'application/json': { schema: { properties: Record<string, unknown> } } } } };
      assert.ok(post.requestBody.content['application/json'].schema.properties.title);
    });

    it('SSE: a client that reconnects with Last-Event-ID receives every event exactly once, in order', async () => {
      const start = await api.coordinator.store.events.latestSeq();
      const seen: number[] = [];
      const submitN = (n: number) => Promise.all(Array.from({ length: n }, (_, i) => api.req('POST', '/api/tasks', { title: `s${i}`, project: projectId })));
      const ac1 = new AbortController();
      const stream1 = await connectSse({ url: `${api.url}/api/events/stream?after=${start}`, token: api.token, signal: ac1.signal });
      await submitN(5);
      for await (const m of stream1) {
        seen.push(Number(m.id));
        if (seen.length === 3) break; // disconnect mid-way
      }
      ac1.abort();
      await submitN(5); // committed while we are away
      const target = await api.coordinator.store.events.latestSeq();
      const ac2 = new AbortController();
      const stream2 = await connectSse({ url: `${api.url}/api/events/stream`, token: api.token, lastEventId: String(seen.at(-1)), signal: ac2.signal });
      const live = submitN(2);
      for await (const m of stream2) {
        seen.push(Number(m.id));
        if (Number(m.id) >= target + 2) break;
      }
      ac2.abort();
      await live;
      const expected = Array.from({ length: target + 2 - start }, (_, i) => start + 1 + i);
      assert.deepEqual(seen, expected);
    });

    it('graceful shutdown finishes accepted writes: every 201 has its row', async () => {
      const other = await startTestApi(c.kind);
      const p = await other.req('POST', '/api/projects', { path: makeRepo() });
      const pid = (p.body.project as { id: string }).id;
      const calls = Array.from({ length: 20 }, (_, i) =>
        other.req('POST', '/api/tasks', { title: `g${i}`, project: pid, idempotencyKey: `g${i}` }).then(
          (r) => r,
          () => ({ status: 0, body: {} }),
        ),
      );
      await new Promise((r) => setImmediate(r));
      const store = other.coordinator.store;
      const closing = other.coordinator.close();
      const results = await Promise.all(calls);
      await closing;
      const { openStore } = await import('../../src/store/open.js');
      const s = await openStore(c.kind === 'postgres' ? other.db.target : join(other.home, 'gantry.db'));
      try {
        for (const [i, r] of results.entries()) {
          assert.ok([0, 201, 503].includes(r.status), `unexpected ${r.status}`);
          const row = await s.db.get('SELECT id FROM tasks WHERE idempotency_key = ?', [`g${i}`]);
          if (r.status === 201) assert.ok(row, `accepted write g${i} must be durable`);
        }
      } finally {
        await s.close();
        void store;
        await other.db.dispose();
        rmSync(other.home, { recursive: true, force: true });
      }
    });
  });
}
