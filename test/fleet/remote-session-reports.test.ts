// The factory half of remote sessions (src/fleet/remote-sessions.ts), against a recording API: what a
// launch becomes on the wire (in order, one request, repeated activity coalesced, stamps strictly
// increasing), that a stale lease drops the rest, and that a late report of an ended lease's session
// is never sent under the task's next lease.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GantryError } from '../../src/domain/errors.js';
import { CoordinatorUnreachable } from '../../src/ports/fleet.js';
import type { RemoteSessionOp } from '../../src/domain/lifecycle-rules/remote.js';
import { RemoteSessions } from '../../src/fleet/remote-sessions.js';
import type { EngineApi } from '../../src/fleet/remote-engine.js';

interface Sent { path: string; body: { leaseEpoch: number; sentAt: number; ops: RemoteSessionOp[] } }

function recorder(fail?: (n: number) => Error | undefined): { api: EngineApi; sent: Sent[] } {
  const sent: Sent[] = [];
  const api = {
    call: async (_method: string, path: string, body: Sent['body']) => {
      const e = fail?.(sent.length);
      sent.push({ path, body });
      if (e) throw e;
      return { applied: body.ops.length, ignored: [] };
    },
  } as unknown as EngineApi;
  return { api, sent };
}

const obs = <V>(value: V, at: number) => ({ value, confidence: 'valid' as const, source: 'protocol' as const, at, launchGeneration: 1 });
const NO_TIMER = 3_600_000;

describe('remote session reports (factory side)', () => {
  it('a launch goes in order, in one request, with repeated activity coalesced and strictly increasing stamps', async () => {
    const { api, sent } = recorder();
    const r = new RemoteSessions(() => undefined, () => 5_000);
    const f = r.follow({ taskId: 't-1', epoch: 3, api }, NO_TIMER);
    await r.create({ id: 's-1', taskId: 't-1', runId: 'r-1', stepRowId: 'st-1', agent: 'scripted', workspace: '/w' });
    r.runtime('s-1', { ...obs({ state: 'alive' as const, pid: 9 }, 5_000), source: 'process' });
    await r.onSpawned('s-1', { launchGeneration: 1, pid: 9 });
    for (let i = 0; i < 30; i++) r.activity('s-1', obs('working' as const, 5_000));
    r.agentSession('s-1', 'conv-1', 1);
    r.activity('s-1', obs('idle' as const, 5_000));
    await r.observe({ taskId: 't-1', runId: 'r-1', sessionId: 's-1', observation: { state: 'merged' } });
    await f.stop();
    assert.equal(sent.length, 1);
    assert.equal(sent[0]!.path, '/api/fleet/jobs/t-1/sessions');
    assert.equal(sent[0]!.body.leaseEpoch, 3);
    const ops = sent[0]!.body.ops;
    assert.deepEqual(ops.map((o) => o.op), ['create', 'runtime', 'spawned', 'activity', 'agent_session', 'activity', 'change']);
    const stamps = ops.flatMap((o) => (o.op === 'runtime' || o.op === 'activity' ? [o.obs.at] : o.op === 'spawned' ? [o.at] : []));
    assert.deepEqual(stamps, [5_000, 5_001, 5_002, 5_032], 'same-millisecond reports are stamped apart (29 repeats took stamps, none was sent)');
    assert.ok(!JSON.stringify(ops).includes('prompt'), 'no prompt field');
  });

  it('a batch nobody answered (an outage) is sent again, whole, on the next flush: the create and the activity it carried are not lost', async () => {
    const { api, sent } = recorder((n) => (n === 0 ? new CoordinatorUnreachable('coordinator down') : undefined));
    const r = new RemoteSessions(() => undefined, () => 7_000);
    const f = r.follow({ taskId: 't-1', epoch: 3, api }, 20);
    await r.create({ id: 's-1', taskId: 't-1', runId: 'r-1', agent: 'scripted' });
    r.activity('s-1', obs('working' as const, 7_000));
    for (let i = 0; i < 200 && sent.length < 2; i++) await new Promise((res) => setTimeout(res, 10));
    await f.stop();
    assert.ok(sent.length >= 2, `sent ${sent.length}`);
    assert.deepEqual(sent[1]!.body.ops, sent[0]!.body.ops, 'the same reports, activity included (not coalesced away as already sent)');
    assert.deepEqual(sent[1]!.body.ops.map((o) => o.op), ['create', 'activity']);
  });

  it('a stale lease drops what is queued and what comes after', async () => {
    const { api, sent } = recorder(() => new GantryError('stale_epoch', 'moved'));
    const r = new RemoteSessions();
    const f = r.follow({ taskId: 't-1', epoch: 3, api }, NO_TIMER);
    await r.create({ id: 's-1', taskId: 't-1', runId: 'r-1', agent: 'scripted' });
    await f.stop();
    r.activity('s-1', obs('working' as const, 1));
    assert.equal(sent.length, 1);
  });

  it("a late report of an ended lease's session is not sent under the task's next lease", async () => {
    const { api, sent } = recorder();
    const r = new RemoteSessions();
    const old = r.follow({ taskId: 't-1', epoch: 3, api }, NO_TIMER);
    await r.create({ id: 's-old', taskId: 't-1', runId: 'r-1', agent: 'scripted' });
    const next = r.follow({ taskId: 't-1', epoch: 4, api }, NO_TIMER);
    await r.create({ id: 's-new', taskId: 't-1', runId: 'r-1', agent: 'scripted' });
    await old.stop();
    r.activity('s-old', obs('idle' as const, 1));
    r.activity('s-new', obs('working' as const, 1));
    await next.stop();
    assert.deepEqual(sent.map((s) => [s.body.leaseEpoch, s.body.ops.map((o) => `${o.op}:${o.sessionId}`)]), [
      [3, ['create:s-old']],
      [4, ['create:s-new', 'activity:s-new']],
    ]);
  });

  it('a refused batch is logged and dropped; reporting never throws into the run', async () => {
    const warned: string[] = [];
    const { api, sent } = recorder((n) => (n === 0 ? new GantryError('validation', 'bad') : undefined));
    const r = new RemoteSessions((m) => warned.push(m));
    const f = r.follow({ taskId: 't-1', epoch: 1, api }, NO_TIMER);
    await r.create({ id: 's-1', taskId: 't-1', runId: 'r-1', agent: 'scripted' });
    await f.stop();
    assert.equal(sent.length, 1);
    assert.equal(warned.length, 1);
  });
});
