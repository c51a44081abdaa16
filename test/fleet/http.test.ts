// The fleet routes over real HTTP, both stores: the seed-compatible flow, 204/409/403/400 answers,
// and the CLI commands for operators.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { storeCases } from '../support/db.js';
import { startTestApi, type TestApi } from '../support/api.js';
import { newTask, project } from '../support/fixtures.js';
import { gantry } from '../support/cli.js';
import { connectSse } from '../../src/lib/sse-client.js';

for (const sc of storeCases()) {
  describe(`fleet http: ${sc.kind}`, { skip: sc.skip }, () => {
    let api: TestApi;
    let pid: string;
    before(async () => {
      api = await startTestApi(sc.kind);
      pid = await project(api.coordinator.store);
    });
    after(async () => api?.close());

    it('enroll → heartbeat → claim → PATCH → renew → release, with 204 when empty and 409 when stale', async () => {
      const e = await api.req('POST', '/api/fleet/factories/enroll', { name: 'h1', capabilities: ['linux'] });
      assert.equal(e.status, 201);
      const token = e.body.token as string;
      const factoryId = e.body.factoryId as string;
      const as = { token };
      assert.equal((await api.req('POST', '/api/fleet/claim', { factoryId }, as)).status, 409, 'must register first');
      const hb = await api.req('POST', '/api/fleet/factories/heartbeat', { factoryId, capabilities: ['linux'], health: {}, load: {} }, as);
      assert.equal(hb.status, 200);
      assert.equal(typeof hb.body.serverTime, 'number');
      assert.equal(hb.body.drain, false);
      assert.equal((await api.req('POST', '/api/fleet/claim', { factoryId, capabilities: ['linux'] }, as)).status, 204);
      const sub = await api.req('POST', '/api/fleet/jobs', { title: 'x', body: 'the body', project: pid, idempotencyKey: 'k1' });
      assert.equal(sub.status, 201);
      assert.equal((await api.req('POST', '/api/fleet/jobs', { title: 'x', body: 'the body', project: pid, idempotencyKey: 'k1' })).status, 200, 'idempotent');
      const cl = await api.req('POST', '/api/fleet/claim', { factoryId, capabilities: ['linux'] }, as);
      assert.equal(cl.status, 200);
      const job = cl.body.job as { id: string; bodyMd: string };
      const epoch = cl.body.leaseEpoch as number;
      assert.equal(job.bodyMd, 'the body');
      const patched = await api.req('PATCH', `/api/fleet/jobs/${job.id}`, { stage: 'building', leaseEpoch: epoch }, as);
      assert.equal(patched.status, 200);
      const stale = await api.req('PATCH', `/api/fleet/jobs/${job.id}`, { stage: 'review', leaseEpoch: epoch - 1 }, as);
      assert.equal(stale.status, 409);
      assert.equal((stale.body.error as { code: string }).code, 'stale_epoch');
      const renewed = await api.req('POST', `/api/fleet/jobs/${job.id}/lease/renew`, { leaseEpoch: epoch }, as);
      assert.equal(renewed.status, 200);
      const rel = await api.req('POST', `/api/fleet/jobs/${job.id}/lease/release`, { leaseEpoch: epoch, outcome: 'done', report: { summary: 'ok' } }, as);
      assert.equal(rel.status, 200);
      assert.equal((rel.body.job as { stage: string }).stage, 'shipped');
      const runs = await api.req('GET', `/api/fleet/jobs/${job.id}/runs`, undefined, as);
      assert.deepEqual((runs.body.leases as Array<{ outcome: string }>).map((l) => l.outcome), ['done']);
      const evs = await api.req('GET', `/api/fleet/jobs/${job.id}/events`, undefined, as);
      assert.ok((evs.body.events as Array<{ type: string }>).some((x) => x.type === 'lease.released'));
      assert.equal((await api.req('GET', '/api/fleet/queue-state', undefined, as)).status, 200);
      const m = await api.req('GET', '/api/fleet/metrics');
      assert.equal(m.status, 200);
      assert.equal((m.body.factories as { live: number }).live, 1);
    });

    it('the fleet event stream serves factories, resumes from Last-Event-ID and never carries bodies', async () => {
      const e = await api.req('POST', '/api/fleet/factories/enroll', { name: 'sse' });
      const token = e.body.token as string;
      const from = await api.coordinator.store.events.latestSeq();
      const t = (await api.coordinator.store.tasks.submit(newTask(pid, { body: 'SENTINEL-5ee body text that must stay home' }))).task;
      await api.coordinator.fleet.act(t.id, 'cancel', {});
      const ac = new AbortController();
      const stream = await connectSse({ url: `${api.url}/api/fleet/events/stream`, token, lastEventId: String(from), signal: ac.signal });
      const got: Array<{ type: string; taskId: string }> = [];
      for await (const m of stream) {
        assert.ok(!m.data.includes('SENTINEL-5ee'));
        got.push(JSON.parse(m.data) as { type: string; taskId: string });
        if (got.length === 2) break;
      }
      ac.abort();
      assert.deepEqual(got.map((g) => [g.type, g.taskId]), [['task.submitted', t.id], ['task.action', t.id]]);
    });

    it('a seed-contract client works unchanged: simple health/load, unknown fields, a bare release, 401 before 405', async () => {
      const e = await api.req('POST', '/api/fleet/factories/enroll', { name: 'bash-factory' });
      const factoryId = e.body.factoryId as string;
      const as = { token: e.body.token as string };
      // A bash factory heartbeats strings and numbers, and fields Gantry does not know.
      const hb = await api.req('POST', '/api/fleet/factories/heartbeat', { factoryId, capabilities: [], health: 'ok', load: 0.4, hostname: 'box', version: '0.1' }, as);
      assert.equal(hb.status, 200, JSON.stringify(hb.body));
      const me = (await api.coordinator.fleet.factories()).find((f) => f.id === factoryId)!;
      assert.deepEqual(me.health, { status: 'ok' });
      assert.deepEqual(me.load, { ratio: 0.4 });
      assert.equal((await api.req('POST', '/api/fleet/factories/heartbeat', { factoryId, health: 7, load: 'busy' }, as)).status, 200);
      assert.equal((await api.req('POST', '/api/fleet/factories/heartbeat', { factoryId, health: ['no'] }, as)).status, 400, 'arrays are not a simple form');

      // Work through the seed flow: claim, PATCH, then a release carrying only the epoch.
      const first = (await api.coordinator.store.tasks.submit(newTask(pid, { title: 'seed-a' }))).task;
      let cl = await api.req('POST', '/api/fleet/claim', { factoryId, capabilities: [], extra: true }, as);
      assert.equal(cl.status, 200);
      assert.equal((cl.body.job as { id: string }).id, first.id);
      let epoch = cl.body.leaseEpoch as number;
      assert.equal((await api.req('PATCH', `/api/fleet/jobs/${first.id}`, { stage: 'shipped', leaseEpoch: epoch, note: 'x' }, as)).status, 200);
      const bare = await api.req('POST', `/api/fleet/jobs/${first.id}/lease/release`, { leaseEpoch: epoch }, as);
      assert.equal(bare.status, 200, 'after a terminal PATCH a bare release replays');
      assert.equal((bare.body.job as { stage: string }).stage, 'shipped');
      // Mid-run, a bare release hands the task back (abandoned): requeued, never lost or failed.
      const second = (await api.coordinator.store.tasks.submit(newTask(pid, { title: 'seed-b' }))).task;
      cl = await api.req('POST', '/api/fleet/claim', { factoryId, capabilities: [] }, as);
      assert.equal((cl.body.job as { id: string }).id, second.id);
      epoch = cl.body.leaseEpoch as number;
      assert.equal((await api.req('PATCH', `/api/fleet/jobs/${second.id}`, { stage: 'building', leaseEpoch: epoch }, as)).status, 200);
      const handBack = await api.req('POST', `/api/fleet/jobs/${second.id}/lease/release`, { leaseEpoch: epoch }, as);
      assert.equal(handBack.status, 200);
      assert.equal((handBack.body.job as { stage: string }).stage, 'queued');
      await api.coordinator.fleet.act(second.id, 'cancel', {});

      // Unauthenticated: 401 before 405, on every path that needs a token; a public path still says 405.
      for (const [method, path] of [['DELETE', '/api/fleet/claim'], ['GET', '/api/fleet/factories/heartbeat'], ['PUT', `/api/fleet/jobs/${first.id}`]] as const) {
        const r = await fetch(`${api.url}${path}`, { method });
        assert.equal(r.status, 401, `${method} ${path}`);
        assert.equal(r.headers.get('allow'), null, 'no methods revealed');
        const authed = await fetch(`${api.url}${path}`, { method, headers: { Authorization: `Bearer ${as.token}` } });
        assert.equal(authed.status, 405, `${method} ${path} with a token`);
      }
    });

    it('refuses what a token may not do, and bad bodies, changing nothing', async () => {
      const a = await api.req('POST', '/api/fleet/factories/enroll', { name: 'a' });
      const b = await api.req('POST', '/api/fleet/factories/enroll', { name: 'b' });
      const seq = await api.coordinator.store.events.latestSeq();
      const asA = { token: a.body.token as string };
      assert.equal((await api.req('POST', '/api/fleet/factories/heartbeat', { factoryId: b.body.factoryId, capabilities: [] }, asA)).status, 403, 'a factory token speaks only for its factory');
      assert.equal((await api.req('POST', '/api/fleet/factories/enroll', { name: 'c' }, asA)).status, 403, 'factories cannot enroll');
      assert.equal((await api.req('GET', '/api/tasks', undefined, asA)).status, 403, 'factories cannot browse tasks');
      const bad = await api.req('PATCH', '/api/fleet/jobs/t-x', { stage: 'dancing', leaseEpoch: 1 }, asA);
      assert.equal(bad.status, 400);
      assert.match(JSON.stringify(bad.body), /stage/);
      assert.equal((await api.req('POST', '/api/fleet/jobs/t-x/lease/release', { leaseEpoch: -1 }, asA)).status, 400);
      assert.equal((await api.req('POST', '/api/fleet/jobs/t-nope/actions/ship', {})).status, 404);
      assert.equal((await api.req('POST', '/api/fleet/jobs/t-nope/actions/explode', {})).status, 400);
      assert.equal(await api.coordinator.store.events.latestSeq(), seq, 'nothing was written');
    });

    it("a factory token reads a task's body only while it holds the task's lease", async () => {
      const enroll = async (name: string) => {
        const e = await api.req('POST', '/api/fleet/factories/enroll', { name });
        const as = { token: e.body.token as string };
        const factoryId = e.body.factoryId as string;
        assert.equal((await api.req('POST', '/api/fleet/factories/heartbeat', { factoryId, capabilities: ['body-test'] }, as)).status, 200);
        return { as, factoryId };
      };
      const holder = await enroll('holder');
      const other = await enroll('other');
      const t = (await api.coordinator.store.tasks.submit(newTask(pid, { body: 'SECRET-BRIEF-77 for the holder only', capabilities: ['body-test'] }))).task;
      const read = async (as?: { token: string }) => (await api.req('GET', `/api/fleet/jobs/${t.id}`, undefined, as)).body.job as { body: string | null; bodyMd: string | null };
      const hidden = (j: { body: string | null; bodyMd: string | null }) => j.body === null && j.bodyMd === null && !JSON.stringify(j).includes('SECRET-BRIEF-77');
      assert.ok(hidden(await read(holder.as)), 'queued: no factory holds it');
      const cl = await api.req('POST', '/api/fleet/claim', { factoryId: holder.factoryId, capabilities: ['body-test'] }, holder.as);
      assert.equal(cl.status, 200);
      assert.equal((cl.body.job as { id: string; bodyMd: string }).id, t.id);
      assert.equal((cl.body.job as { bodyMd: string }).bodyMd, 'SECRET-BRIEF-77 for the holder only', 'the grant carries the body');
      assert.equal((await read(holder.as)).bodyMd, 'SECRET-BRIEF-77 for the holder only');
      assert.ok(hidden(await read(other.as)), 'another factory sees the job, not its body');
      assert.equal((await read()).bodyMd, 'SECRET-BRIEF-77 for the holder only', 'people (admin) read it');
      const rel = await api.req('POST', `/api/fleet/jobs/${t.id}/lease/release`, { leaseEpoch: cl.body.leaseEpoch, outcome: 'abandoned' }, holder.as);
      assert.equal(rel.status, 200);
      assert.ok(hidden(rel.body.job as { body: string | null; bodyMd: string | null }), 'released: the answer no longer carries it');
      assert.ok(hidden(await read(holder.as)), 'released: the former holder no longer reads it');
    });

    it('CLI: factories enroll/list/drain and the operator actions', async () => {
      const env = { GANTRY_HOME: api.home };
      const en = await gantry(['factories', 'enroll', 'cli-f', '--json'], { env });
      assert.equal(en.code, 0, en.stderr);
      const { factoryId } = JSON.parse(en.stdout) as { factoryId: string };
      await api.coordinator.fleet.heartbeat({ factoryId, capabilities: [] }, { factoryId });
      const ls = await gantry(['factories', '--json'], { env });
      assert.equal(ls.code, 0, ls.stderr);
      assert.ok((JSON.parse(ls.stdout) as { factories: Array<{ id: string }> }).factories.some((f) => f.id === factoryId));
      const human = await gantry(['factories'], { env });
      assert.match(human.stdout, /cli-f\s+live/);
      const dr = await gantry(['factories', 'drain', factoryId, '--json'], { env });
      assert.equal(dr.code, 0, dr.stderr);
      const t = (await api.coordinator.store.tasks.submit(newTask(pid))).task;
      for (const [action, stage] of [['cancel', 'cancelled'], ['requeue', 'queued'], ['ship', 'shipped']] as const) {
        const r = await gantry([action, t.id, '--reason', 'test', '--json'], { env });
        assert.equal(r.code, 0, r.stderr);
        assert.equal((JSON.parse(r.stdout) as { task: { stage: string } }).task.stage, stage);
      }
      const again = await gantry(['reject', t.id], { env });
      assert.equal(again.code, 1);
      assert.match(again.stderr, /cannot reject task .* in stage shipped/);
      const bad = await gantry(['cancel', 'not an id'], { env });
      assert.equal(bad.code, 2);
    });
  });
}
