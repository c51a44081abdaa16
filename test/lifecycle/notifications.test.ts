// Notifications end to end: the in-app list and its state machine, escalation on tick, and real
// channels — a local HTTP server verifying the webhook signature, a command hook reading stdin.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { storeCases, withStore } from '../support/db.js';
import { harness, TestClock } from './harness.js';
import { WebhookChannel } from '../../src/notify/webhook.js';
import { CommandChannel } from '../../src/notify/command.js';
import { DesktopChannel } from '../../src/notify/desktop.js';
import { buildChannels } from '../../src/notify/channels.js';
import { notificationsSchema } from '../../src/config/notifications.js';
import { NotificationService } from '../../src/lifecycle/notifications.js';
import { lifecycleStore } from '../../src/store/session-repo.js';
import { isGantryError } from '../../src/domain/errors.js';
import { projectChannelDirectory } from '../../src/app/lifecycle.js';
import { silentLogger } from '../../src/api/logger.js';
import { RunRepoSql } from '../../src/store/run-repo.js';
import { BUILTIN_PIPELINES } from '../../src/domain/pipeline/builtins.js';
import { newTask } from '../support/fixtures.js';

const SECRET = 'a-very-secret-signing-key';

interface Received { body: string; sig: string; delivery: string }
async function webhookServer(failFirst = 0) {
  const got: Received[] = [];
  let failures = failFirst;
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (failures > 0) {
        failures--;
        res.writeHead(500).end();
        return;
      }
      got.push({ body: Buffer.concat(chunks).toString(), sig: String(req.headers['x-gantry-signature']), delivery: String(req.headers['x-gantry-delivery']) });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return { got, url, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const verify = (r: Received): boolean => {
  const want = Buffer.from(`sha256=${createHmac('sha256', SECRET).update(r.body).digest('hex')}`);
  const have = Buffer.from(r.sig);
  return want.length === have.length && timingSafeEqual(want, have);
};

for (const c of storeCases()) {
  describe(`notifications: ${c.kind}`, { skip: c.skip }, () => {
    it('routes by priority to a signed webhook and a command hook, retries failures, never sends twice', async () => {
      const hook = await webhookServer(1);
      const dir = mkdtempSync(join(tmpdir(), 'gantry-notify-'));
      try {
        await withStore(c.kind, async (store) => {
          const out = join(dir, 'cmd.jsonl');
          const channels = [
            new WebhookChannel('ops', { url: hook.url, secret: SECRET }),
            new CommandChannel('log', { command: ['sh', '-c', 'cat >> "$0"; echo >> "$0"', out] }),
            new DesktopChannel('desk', { bin: null }),
          ];
          const h = await harness(store, { channels, routing: { high: ['ops', 'log', 'desk'], urgent: ['ops', 'log', 'desk'], normal: ['log'] } });
          const n = h.manager.notifications;
          const raised = await n.raise({ projectId: h.projectId, taskId: h.taskId, runId: null, sessionId: null, kind: 'needs-input', priority: 'high', title: 'Agent needs input', detail: {}, signature: 'sig-1' });
          assert.ok(raised);
          assert.equal(await n.raise({ projectId: h.projectId, taskId: h.taskId, runId: null, sessionId: null, kind: 'needs-input', priority: 'high', title: 'again', detail: {}, signature: 'sig-1' }), undefined, 'same signature: no duplicate');
          await n.idle();
          assert.equal(hook.got.length, 0, 'first webhook attempt got HTTP 500');
          await n.tick(h.clock.advance(1)); // retry is due (backoff 0 in the harness)
          assert.equal(hook.got.length, 1);
          assert.ok(verify(hook.got[0]!), 'signature verifies over the exact body');
          const body = JSON.parse(hook.got[0]!.body) as { type: string; notification: { id: string; title: string } };
          assert.equal(body.type, 'notification.raised');
          assert.equal(body.notification.id, raised.id);
          assert.equal(hook.got[0]!.delivery, `${raised.id}:raised`);
          const lines = readFileSync(out, 'utf8').trim().split('\n');
          assert.equal(lines.length, 1);
          assert.equal((JSON.parse(lines[0]!) as { title: string }).title, 'Agent needs input');
          const rows = await store.db.all<{ channel: string; state: string; last_error: string | null }>('SELECT channel, state, last_error FROM notification_deliveries ORDER BY channel');
          assert.deepEqual(rows.map((r) => [r.channel, r.state]), [['desk', 'skipped'], ['log', 'sent'], ['ops', 'sent']]);
          assert.match(String(rows[0]!.last_error), /notify-send is not installed/);

          // A restarted coordinator (new service, same store) sends nothing again.
          const again = new NotificationService({ store: lifecycleStore(store), clock: h.clock, channels, routing: { high: ['ops', 'log'] }, backoffMs: () => 0 });
          await again.tick(h.clock.advance(1000));
          assert.equal(hook.got.length, 1);
          assert.equal(readFileSync(out, 'utf8').trim().split('\n').length, 1);

          // Escalation: unacknowledged past escalateAfter (60 s in the harness) → escalated once, routed one priority up.
          await n.tick(h.clock.advance(60_000));
          assert.equal((await n.get(raised.id)).state, 'escalated');
          await n.tick(h.clock.advance(60_000));
          const escalations = hook.got.filter((g) => (JSON.parse(g.body) as { type: string }).type === 'notification.escalated');
          assert.equal(escalations.length, 1);
          assert.equal(readFileSync(out, 'utf8').trim().split('\n').length, 2);

          const acked = await n.acknowledge(raised.id);
          assert.equal(acked.state, 'acknowledged');
          assert.ok(acked.acknowledgedAt);
          const resolved = await n.resolve(raised.id);
          assert.equal(resolved.state, 'resolved');
          await assert.rejects(n.acknowledge(raised.id), (e) => isGantryError(e) && e.code === 'conflict');
          await assert.rejects(n.resolve('n-missing'), (e) => isGantryError(e) && e.code === 'not_found');
          const all = (await store.events.list({ after: 0, limit: 1000 })).filter((e) => e.type.startsWith('notification.'));
          assert.deepEqual(all.map((e) => e.type).filter((t) => t !== 'notification.delivered'), ['notification.raised', 'notification.escalated', 'notification.acknowledged', 'notification.resolved']);
          // Each channel delivery that went out (or was skipped) is an event too (metrics count them by channel).
          const delivered = all.filter((e) => e.type === 'notification.delivered');
          assert.equal(delivered.length, 6, 'three channels, for the raise and for the escalation');
          assert.ok(delivered.every((e) => typeof e.payload.channel === 'string' && ['sent', 'skipped'].includes(e.payload.state as string) && e.payload.notificationId === raised.id));
        });
      } finally {
        await hook.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it("routes each project's notifications through its own gantry.yaml channels", async () => {
      const dir = mkdtempSync(join(tmpdir(), 'gantry-notify-'));
      try {
        await withStore(c.kind, async (store) => {
          const out = join(dir, 'a.jsonl');
          const a = await store.projects.create({ name: 'a', path: '/tmp/a', defaultBranch: 'main', config: {
            notifications: { escalateAfter: '1m', channels: { log: { type: 'command', command: ['sh', '-c', 'cat >> "$0"; echo >> "$0"', out] } }, routing: { high: ['log'] } },
          } });
          const b = await store.projects.create({ name: 'b', path: '/tmp/b', defaultBranch: 'main', config: {} });
          const clock = new TestClock();
          const n = new NotificationService({ store: lifecycleStore(store), clock, directory: projectChannelDirectory(store, undefined, silentLogger), backoffMs: () => 0 });
          const base = { taskId: null, runId: null, sessionId: null, kind: 'stuck', priority: 'high' as const, title: 'stuck', detail: {} };
          await n.raise({ ...base, projectId: a.id, signature: 'a1' });
          await n.raise({ ...base, projectId: b.id, signature: 'b1' });
          await n.idle();
          const lines = readFileSync(out, 'utf8').trim().split('\n');
          assert.equal(lines.length, 1, "only project a's notification went to a's command");
          assert.equal((JSON.parse(lines[0]!) as { title: string }).title, 'stuck');
          await n.tick(clock.advance(60_000));
          const states = (await n.list({})).map((x) => [x.projectId === a.id ? 'a' : 'b', x.state]).sort();
          assert.deepEqual(states, [['a', 'escalated'], ['b', 'raised']], "a's escalateAfter (1m) applies to a only");
        });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it("sends the pipeline engine's notifications through the project's channels, once", async () => {
      const dir = mkdtempSync(join(tmpdir(), 'gantry-notify-'));
      try {
        await withStore(c.kind, async (store) => {
          const out = join(dir, 'engine.jsonl');
          const p = await store.projects.create({ name: 'eng', path: '/tmp/eng', defaultBranch: 'main', config: {
            notifications: { channels: { log: { type: 'command', command: ['sh', '-c', 'cat >> "$0"; echo >> "$0"', out] } }, routing: { high: ['log'] } },
          } });
          const { task } = await store.tasks.submit(newTask(p.id));
          const runs = new RunRepoSql(store);
          const snap = await runs.create({ taskId: task.id, pipeline: BUILTIN_PIPELINES.standard!, fence: null, event: { type: 'run.started' } });
          // What the checks step commits when its fix loop is exhausted: the notification rides in the run's transaction.
          const draft = { kind: 'checks_exhausted', priority: 'high' as const, title: 'Checks still red', detail: { step: 'checks' }, signature: `fail:${snap.run.id}:3` };
          await runs.commit({ runId: snap.run.id, expectedRev: snap.run.rev, notifications: [draft], events: [] }, null);
          const clock = new TestClock();
          const service = () => new NotificationService({ store: lifecycleStore(store), clock, directory: projectChannelDirectory(store, undefined, silentLogger), backoffMs: () => 0 });
          const [one, two] = [service(), service()];
          // Two coordinators tick at once: the notification is routed (and sent) exactly once.
          const ticks = await Promise.all([one.tick(clock.advance(1)), two.tick(clock.advance(1))]);
          assert.equal(ticks[0].routed + ticks[1].routed, 1);
          await Promise.all([one.idle(), two.idle()]);
          await one.tick(clock.advance(1000));
          const lines = readFileSync(out, 'utf8').trim().split('\n');
          assert.equal(lines.length, 1);
          const sent = JSON.parse(lines[0]!) as { kind: string; title: string; taskId: string };
          assert.deepEqual([sent.kind, sent.title, sent.taskId], ['checks_exhausted', 'Checks still red', task.id]);
          const [n] = await one.list({});
          assert.equal(n?.projectId, p.id, 'the project is recorded, so its own channels apply');
          const evs = (await store.events.list({ taskId: task.id, limit: 1000 })).map((e) => e.type);
          assert.ok(evs.includes('notification.raised'), 'raised is on the event log like any other notification');
        });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('an acknowledged notification does not escalate; a permanently failing channel gives up', async () => {
      await withStore(c.kind, async (store) => {
        const clock = new TestClock();
        const broken = new CommandChannel('broken', { command: ['sh', '-c', 'echo nope >&2; exit 3'] });
        const n = new NotificationService({ store: lifecycleStore(store), clock, channels: [broken], routing: { normal: ['broken'] }, escalateAfterMs: 1000, maxAttempts: 2, backoffMs: () => 0 });
        const a = (await n.raise({ projectId: null, taskId: null, runId: null, sessionId: null, kind: 'stuck', priority: 'normal', title: 'x', detail: {}, signature: 'one' }))!;
        await n.acknowledge(a.id);
        await n.idle();
        await n.tick(clock.advance(5000));
        assert.equal((await n.get(a.id)).state, 'acknowledged');
        const rows = await store.db.all<{ state: string; attempts: number; last_error: string }>('SELECT state, attempts, last_error FROM notification_deliveries');
        assert.equal(rows.length, 1);
        assert.equal(rows[0]!.state, 'failed');
        assert.equal(Number(rows[0]!.attempts), 2);
        assert.match(rows[0]!.last_error, /exited 3: nope/);
      });
    });
  });
}

describe('notification channels', () => {
  it('desktop detects notify-send and explains when it is missing', () => {
    assert.match(new DesktopChannel('d', { path: '' }).unavailable() ?? '', /notify-send is not installed/);
    assert.equal(new DesktopChannel('d', { bin: '/bin/true' }).unavailable(), null);
  });
  it('a webhook without a secret refuses to send unsigned', () => {
    assert.match(new WebhookChannel('w', { url: 'http://127.0.0.1:1/', secret: null }).unavailable() ?? '', /no signing secret/);
  });
  it('the registry builds channels from validated config, secrets from the environment', () => {
    const cfg = notificationsSchema.parse({ channels: { desk: { type: 'desktop' }, ops: { type: 'webhook', url: 'http://127.0.0.1:9/x', secretEnv: 'HOOK_SECRET' }, run: { type: 'command', command: ['true'] } } });
    const chans = buildChannels(cfg, { HOOK_SECRET: SECRET, PATH: '' });
    assert.deepEqual(chans.map((ch) => [ch.name, ch.type]), [['desk', 'desktop'], ['ops', 'webhook'], ['run', 'command']]);
    assert.equal(chans[1]!.unavailable(), null);
  });
});
