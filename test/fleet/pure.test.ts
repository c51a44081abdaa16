// Pure deciders of the fleet: scheduling, metrics/alerts, redaction, backoff.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rank, score, weights, DEFAULT_WEIGHTS, type ScheduleFacts } from '../../src/fleet/schedule.js';
import { fleetMetrics } from '../../src/fleet/metrics.js';
import { detectedCapabilities, mergeCapabilities, whyWaiting } from '../../src/fleet/capabilities.js';
import { redact, secretsOf, REDACTED } from '../../src/fleet/redact.js';
import { backoffMs } from '../../src/fleet/backoff.js';
import { makesWork } from '../../src/fleet/queue-signal.js';
import type { Candidate, FactoryView, FleetSnapshot } from '../../src/ports/fleet.js';
import { DEFAULT_FLEET_CONFIG } from '../../src/fleet/coordinator.js';

const cand = (over: Partial<Candidate> & { id: string }): Candidate => ({
  projectId: 'p',
  priority: 0,
  queuedAt: 0,
  attempts: 0,
  capabilities: [],
  affinityFactoryId: null,
  started: false,
  ...over,
});
const facts = (over: Partial<ScheduleFacts> = {}): ScheduleFacts => ({ now: 10 * 60_000, factoryId: 'f', capabilities: new Set(), exhaustedProjects: new Set(), ...over });

describe('scheduler', () => {
  const table: Array<[string, Candidate[], Partial<ScheduleFacts>, string[]]> = [
    ['older first at equal priority', [cand({ id: 'b', queuedAt: 5 }), cand({ id: 'a', queuedAt: 1 })], {}, ['a', 'b']],
    ['priority beats age', [cand({ id: 'old', queuedAt: 0 }), cand({ id: 'hi', priority: 2, queuedAt: 9 * 60_000 })], {}, ['hi', 'old']],
    ['missing capability filters out', [cand({ id: 'gpu', capabilities: ['gpu'] }), cand({ id: 'any' })], {}, ['any']],
    ['capability match scores up', [cand({ id: 'any' }), cand({ id: 'gpu', capabilities: ['gpu'] })], { capabilities: new Set(['gpu']) }, ['gpu', 'any']],
    ['prior attempts score down', [cand({ id: 'retry', attempts: 2, started: true }), cand({ id: 'once', attempts: 1, started: true })], {}, ['once', 'retry']],
    // A task whose factories kept dying must not sink behind new work: that would turn a crash into a wait for the whole backlog.
    ['work in progress goes before new work, however often its factories died', [cand({ id: 'fresh', queuedAt: 0 }), cand({ id: 'resumed', attempts: 12, started: true, queuedAt: 5 * 60_000 })], {}, ['resumed', 'fresh']],
    ['new work that is urgent enough still goes first', [cand({ id: 'resumed', started: true }), cand({ id: 'urgent', priority: 7 })], {}, ['urgent', 'resumed']],
    ['workspace affinity scores up', [cand({ id: 'x' }), cand({ id: 'mine', affinityFactoryId: 'f' })], {}, ['mine', 'x']],
    ['exhausted budget filters out', [cand({ id: 'broke', projectId: 'poor' }), cand({ id: 'ok' })], { exhaustedProjects: new Set(['poor']) }, ['ok']],
    ['ties break by id', [cand({ id: 'b' }), cand({ id: 'a' })], {}, ['a', 'b']],
  ];
  for (const [name, cands, f, want] of table) it(name, () => assert.deepEqual(rank(cands, facts(f)), want));

  it('weights are configurable and validated', () => {
    const w = weights({ priority: 0, age: 100 });
    assert.deepEqual(rank([cand({ id: 'hi', priority: 5, queuedAt: 9 * 60_000 }), cand({ id: 'old', queuedAt: 0 })], facts(), w), ['old', 'hi']);
    assert.throws(() => weights({ age: Number.NaN }), /finite/);
    assert.equal(score(cand({ id: 'a', priority: 1 }), facts({ now: 0 })), DEFAULT_WEIGHTS.priority);
  });
});

const fv = (over: Partial<FactoryView> & { id: string }): FactoryView => ({
  name: over.id,
  capabilities: [],
  health: {},
  load: {},
  slots: 1,
  drain: false,
  state: 'live',
  lastHeartbeatAt: 0,
  lastClaimAt: null,
  createdAt: 0,
  live: true,
  leases: [],
  ...over,
});
const snap = (over: Partial<FleetSnapshot>): FleetSnapshot => ({ now: 1_000_000, stages: {}, oldestQueuedAt: null, factories: [], version: 1, queued: [], ...over });
const lease = { taskId: 't', epoch: 1, stage: 'building' as const, expiresAt: 0 };

describe('metrics and alerts', () => {
  const kinds = (s: FleetSnapshot) => fleetMetrics(s, { starvationMs: 60_000 }).alerts.map((a) => a.kind).sort();
  it('no live capacity, all down, stale', () => {
    assert.deepEqual(kinds(snap({ stages: { queued: 2 }, oldestQueuedAt: 999_000, factories: [fv({ id: 'a', live: false })] })), ['all_factories_down', 'no_live_capacity', 'stale_factories']);
  });
  it('saturated when every seat is busy with work waiting', () => {
    assert.deepEqual(kinds(snap({ stages: { queued: 1 }, oldestQueuedAt: 999_000, factories: [fv({ id: 'a', leases: [lease] })] })), ['saturated']);
  });
  it('starvation: old work while seats are free', () => {
    assert.deepEqual(kinds(snap({ stages: { queued: 1 }, oldestQueuedAt: 0, factories: [fv({ id: 'a', slots: 2 })] })), ['queue_starvation']);
  });
  it('quiet when healthy; counts seats of serving factories only', () => {
    const m = fleetMetrics(snap({ stages: { queued: 0, building: 1 }, factories: [fv({ id: 'a', slots: 2, leases: [lease] }), fv({ id: 'b', drain: true, slots: 4 })] }), { starvationMs: 60_000 });
    assert.deepEqual(m.alerts, []);
    assert.deepEqual(m.seats, { total: 2, used: 1 });
    assert.equal(m.factories.draining, 1);
  });
  it('unmatched work: a queued task needs a capability or agent no live factory offers', () => {
    const m = fleetMetrics(
      snap({
        stages: { queued: 2 },
        oldestQueuedAt: 999_000,
        factories: [fv({ id: 'a', slots: 2, capabilities: ['os:linux', 'agent:scripted'] })],
        queued: [{ id: 't-gpu', capabilities: ['gpu'], agent: null }, { id: 't-ok', capabilities: [], agent: 'scripted' }],
      }),
      { starvationMs: 60_000 },
    );
    assert.deepEqual(m.alerts.map((a) => a.kind), ['unmatched_work']);
    assert.match(m.alerts[0]!.message, /1 queued task\(s\) need what no live factory offers: gpu/);
    assert.deepEqual(m.waiting.map((w) => [w.taskId, w.kind, w.missing]), [['t-gpu', 'capabilities', ['gpu']]]);
  });
});

describe('default timings', () => {
  it("a dead factory's leases are taken back within 60 s of its death (issue #14's bound), and it may miss three heartbeats first", () => {
    const { staleMs, heartbeatMs, reapIntervalMs, leaseTtlMs } = DEFAULT_FLEET_CONFIG;
    // Its last heartbeat was at most at its death; it is stale staleMs later, reaped by the next pass.
    assert.ok(staleMs + reapIntervalMs <= 60_000, `stale ${staleMs} + reap ${reapIntervalMs}`);
    assert.ok(staleMs >= heartbeatMs * 3, 'missing two heartbeats must never make a factory stale');
    assert.ok(leaseTtlMs > staleMs);
  });
});

describe('redaction', () => {
  it('keeps text storable: NUL and lone surrogates become U+FFFD, whole emoji stay', () => {
    assert.equal(redact({ m: 'a\u0000b \ud83d \ude00 ok \ud83d\ude00' }, []).m, 'a\uFFFDb \uFFFD \uFFFD ok \ud83d\ude00');
  });

  it('strips the body, its lines and token shapes from nested values', () => {
    const body = 'Implement the secret feature\nuse the password hunter2hunter2 here\nok';
    const out = redact({ summary: `did: ${body}`, nested: [{ note: 'quoting: use the password hunter2hunter2 here.' }], auth: 'Bearer abcdefghijklmnopqrstuvwxyz', t: 'gnt_factory_AAAAAAAAAAAAAAAAAAAAAAAA' }, secretsOf(body));
    const text = JSON.stringify(out);
    assert.ok(!text.includes('hunter2hunter2'));
    assert.ok(!text.includes('Implement the secret'));
    assert.ok(!text.includes('gnt_factory_A'));
    assert.ok(!text.includes('abcdefghijklmnop'));
    assert.ok(text.includes(REDACTED));
  });
  it('leaves short, harmless text alone', () => {
    assert.deepEqual(redact({ summary: 'ok', n: 3 }, secretsOf('ok')), { summary: 'ok', n: 3 });
  });
});

describe('backoff and wake-ups', () => {
  it('grows exponentially to a cap, jitter only shortens', () => {
    assert.deepEqual([0, 1, 2, 3, 10].map((a) => backoffMs(a, { baseMs: 100, maxMs: 500 })), [100, 200, 400, 500, 500]);
    assert.equal(backoffMs(2, { baseMs: 100, maxMs: 500, jitter: 0 }), 200);
  });
  it('wakes claimers only for events that can make work', () => {
    const e = (type: string, payload: Record<string, unknown> = {}) => ({ seq: 1, type, taskId: null, runId: null, sessionId: null, payload, at: 0 });
    assert.equal(makesWork(e('task.submitted', { stage: 'queued' })), true);
    assert.equal(makesWork(e('task.submitted', { stage: 'blocked' })), false);
    assert.equal(makesWork(e('lease.reclaimed', { stage: 'queued' })), true);
    assert.equal(makesWork(e('task.unblocked')), true);
    assert.equal(makesWork(e('lease.renewed', { epoch: 1 })), false);
    assert.equal(makesWork(e('task.stage_changed', { stage: 'building' })), false);
  });
});

describe('capabilities and why a task waits', () => {
  it('detects os, arch, git major.minor and installed agents', () => {
    assert.deepEqual(detectedCapabilities({ platform: 'linux', arch: 'x64', gitVersion: 'git version 2.43.0', agents: ['scripted', 'claude-code'] }), [
      'os:linux',
      'arch:x64',
      'git:2.43',
      'agent:scripted',
      'agent:claude-code',
    ]);
    assert.deepEqual(detectedCapabilities({ platform: 'darwin', arch: 'arm64', gitVersion: null, agents: [] }), ['os:darwin', 'arch:arm64']);
    assert.deepEqual(mergeCapabilities(['gpu', 'os:linux'], ['os:linux', 'arch:x64']), ['gpu', 'os:linux', 'arch:x64']);
  });
  const gpuBox = { capabilities: ['gpu', 'agent:scripted'] };
  const plain = { capabilities: ['os:linux', 'agent:scripted', 'agent:codex'] };
  const seed = { capabilities: ['linux'] };
  const table: Array<[string, { capabilities: string[]; agent: string | null }, Array<{ capabilities: string[] }>, string | null, string[]?]> = [
    ['takeable', { capabilities: [], agent: null }, [plain], null],
    ['needs a capability someone has', { capabilities: ['gpu'], agent: 'scripted' }, [plain, gpuBox], null],
    ['needs a capability nobody has', { capabilities: ['gpu', 'cuda'], agent: null }, [plain, gpuBox], 'capabilities', ['cuda']],
    ['needs an agent nobody runs', { capabilities: [], agent: 'claude-code' }, [plain, gpuBox], 'agent', ['agent:claude-code']],
    ['an agent on a factory without the capability', { capabilities: ['gpu'], agent: 'codex' }, [plain, gpuBox], 'agent', ['agent:codex']],
    ['a factory that names no agents may run any', { capabilities: [], agent: 'claude-code' }, [plain, seed], null],
    ['nobody serving', { capabilities: [], agent: null }, [], 'no_live_factory', []],
  ];
  for (const [name, task, fs, kind, missing] of table) {
    it(name, () => {
      const r = whyWaiting(task, fs);
      assert.equal(r?.kind ?? null, kind);
      if (missing) assert.deepEqual(r?.missing, missing);
    });
  }
});
