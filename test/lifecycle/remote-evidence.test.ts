// Remote evidence (a `gantry factory`'s session reports → the coordinator's lifecycle calls): clock
// correction, per-session stamps, coalescing of chatty activity, what a batch may name, and that a
// resent batch changes nothing. Tables; the replay check runs the real deciders.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { coalesce, coordinatorTime, decideLeaseEnded, nextStamp, planBatch, type BatchContext, type LifecycleCall, type RemoteSessionOp } from '../../src/domain/lifecycle-rules/remote.js';
import { decideActivity } from '../../src/domain/lifecycle-rules/activity.js';
import { decideRuntime } from '../../src/domain/lifecycle-rules/runtime.js';
import { decideSpawned } from '../../src/domain/lifecycle-rules/spawn.js';
import { applyPatch, isEmpty, sparse } from '../../src/domain/lifecycle-rules/decision.js';
import { DEFAULT_POLICY } from '../../src/domain/lifecycle-rules/policy.js';
import { displayStatus, emptyActivity, emptyRuntime, type ActivityState, type SessionRecord } from '../../src/domain/session.js';
import { rec } from './support.js';
import { applyRemoteCalls } from '../../src/lifecycle/remote-evidence.js';

describe('coordinatorTime: the factory clock on the coordinator', () => {
  const rows: Array<[string, number, number, number, number]> = [
    // name, at, sentAt, now → expected
    ['clocks agree: kept exactly', 1_000, 2_000, 2_050, 1_000],
    ['skew within the tolerance (5 s): kept (a resend carries the same times)', 1_000, 2_000, 6_999, 1_000],
    ['factory 1 h behind: shifted forward', 1_000, 2_000, 3_602_000, 3_601_000],
    ['factory 1 min ahead: shifted back', 61_000, 62_000, 2_000, 1_000],
    ['exactly at the tolerance: kept', 1_000, 2_000, 7_000, 1_000],
  ];
  for (const [name, at, sentAt, now, want] of rows) it(name, () => assert.equal(coordinatorTime(at, sentAt, now), want));
});

describe('nextStamp: every report of a session is strictly later than the one before', () => {
  const rows: Array<[number | undefined, number, number]> = [[undefined, 5, 5], [4, 5, 5], [5, 5, 6], [9, 5, 10]];
  for (const [last, at, want] of rows) it(`last ${String(last)}, at ${at} → ${want}`, () => assert.equal(nextStamp(last, at), want));
});

const act = (sessionId: string, value: ActivityState, at: number, launchGeneration = 1): RemoteSessionOp => ({ op: 'activity', sessionId, obs: { value, confidence: 'valid', source: 'protocol', at, launchGeneration } });

describe('coalesce: a chatty agent costs few entries', () => {
  const rows: Array<[string, RemoteSessionOp[], number[]]> = [
    ['repeated working (one per tool call) is sent once', [act('s', 'working', 1), act('s', 'working', 2), act('s', 'working', 3), act('s', 'idle', 4)], [0, 3]],
    ['a change of state is always sent', [act('s', 'working', 1), act('s', 'waiting_input', 2), act('s', 'idle', 3)], [0, 1, 2]],
    ['sessions are coalesced apart', [act('a', 'working', 1), act('b', 'working', 2), act('a', 'working', 3)], [0, 1]],
    ['a new launch generation is news', [act('s', 'working', 1), act('s', 'working', 2, 2)], [0, 1]],
    ['after a spawn or a process fact the next activity is sent again', [act('s', 'working', 1), { op: 'spawned', sessionId: 's', launchGeneration: 1, at: 2 }, act('s', 'working', 3)], [0, 1, 2]],
  ];
  for (const [name, ops, keep] of rows) it(name, () => assert.deepEqual(coalesce(ops), keep.map((i) => ops[i])));

  it('remembers across batches what each session was last sent', () => {
    const last = new Map();
    assert.equal(coalesce([act('s', 'working', 1)], last).length, 1);
    assert.equal(coalesce([act('s', 'working', 2)], last).length, 0);
    assert.equal(coalesce([act('s', 'idle', 3)], last).length, 1);
  });
});

const ctx = (o: Partial<BatchContext> = {}): BatchContext => ({
  taskId: 't-1', factoryId: 'f-1', sentAt: 10_000, now: 10_010,
  sessions: new Map(), runsOfTask: new Set(['r-1']), ...o,
});
const create: RemoteSessionOp = { op: 'create', sessionId: 's-1', runId: 'r-1', stepRowId: 'st-1', agent: 'scripted', workspace: '/w' };

describe('planBatch: what a factory may report', () => {
  const rows: Array<{ name: string; ops: RemoteSessionOp[]; ctx?: Partial<BatchContext>; kinds?: LifecycleCall['kind'][]; refused?: RegExp }> = [
    { name: 'a launch and its evidence map to the in-process calls, in order', ops: [create, { op: 'spawned', sessionId: 's-1', launchGeneration: 1, pid: 7, at: 9_000 }, act('s-1', 'working', 9_001), { op: 'agent_session', sessionId: 's-1', agentSessionId: 'a', launchGeneration: 1 }, { op: 'runtime', sessionId: 's-1', obs: { value: { state: 'exited', pid: 7, code: 0, signal: null, reason: 'exited' }, confidence: 'valid', source: 'process', at: 9_002, launchGeneration: 1 } }], kinds: ['create', 'spawned', 'activity', 'agent_session', 'runtime'] },
    { name: 'a resent create of a recorded session is skipped, its evidence still applies', ops: [create, act('s-1', 'idle', 9_005)], ctx: { sessions: new Map([['s-1', { taskId: 't-1', factoryId: 'f-1' }]]) }, kinds: ['activity'] },
    { name: 'a record under a run of another task is refused', ops: [{ ...create, runId: 'r-other' } as RemoteSessionOp], refused: /run r-other is not task t-1's/ },
    { name: "another task's session is refused", ops: [act('s-9', 'working', 1)], ctx: { sessions: new Map([['s-9', { taskId: 't-2', factoryId: 'f-1' }]]) }, refused: /not one this factory runs/ },
    { name: "another factory's session is refused", ops: [act('s-9', 'working', 1)], ctx: { sessions: new Map([['s-9', { taskId: 't-1', factoryId: 'f-2' }]]) }, refused: /not one this factory runs/ },
    { name: 'evidence about a session never recorded is dropped; the rest of the batch applies', ops: [act('s-404', 'working', 1), create, act('s-1', 'working', 9_001)], kinds: ['create', 'activity'] },
    { name: "a change observation may name the task's session another factory ran (the owner of the change)", ops: [{ op: 'change', sessionId: 's-9', at: 9_000, observation: { state: 'merged' } }], ctx: { sessions: new Map([['s-9', { taskId: 't-1', factoryId: 'f-2' }]]) }, kinds: ['change'] },
    { name: 'a change observation about a session created earlier in the same batch applies after it', ops: [create, { op: 'change', sessionId: 's-1', at: 9_000, observation: { state: 'merged' } }], kinds: ['create', 'change'] },
    { name: 'a change observation about an unrecorded session is dropped, as in-process', ops: [{ op: 'change', sessionId: 's-404', at: 9_000, observation: { state: 'merged' } }], kinds: [] },
  ];
  for (const r of rows) {
    it(r.name, () => {
      const p = planBatch(r.ops, ctx(r.ctx));
      if (r.refused) {
        assert.equal(p.ok, false);
        assert.match(p.ok ? '' : p.why, r.refused);
      } else {
        assert.ok(p.ok, p.ok ? '' : p.why);
        assert.deepEqual(p.calls.map((c) => c.kind), r.kinds);
      }
    });
  }

  it('the factory is the token’s, the task the path’s; runtime reports become runtime facts; skewed times are corrected', () => {
    const p = planBatch([create, { op: 'runtime', sessionId: 's-1', obs: { value: { state: 'exited', pid: 7, code: null, signal: 'SIGKILL' }, confidence: 'valid', source: 'process', at: 5_000, launchGeneration: 1 } }], ctx({ sentAt: 10_000, now: 70_000 }));
    assert.ok(p.ok);
    assert.deepEqual(p.calls[0], { kind: 'create', session: { id: 's-1', taskId: 't-1', runId: 'r-1', stepRowId: 'st-1', agent: 'scripted', workspace: '/w', factoryId: 'f-1' } });
    const rt = p.calls[1] as Extract<LifecycleCall, { kind: 'runtime' }>;
    assert.deepEqual(rt.obs.value, { state: 'exited', pid: 7, exitCode: null, signal: 'SIGKILL' });
    assert.equal(rt.obs.at, 65_000);
  });
});

describe('planBatch: process facts without a pid', () => {
  it('an exit of a process that never had a pid keeps the recorded pid (as in-process)', () => {
    const p = planBatch([{ op: 'runtime', sessionId: 's-1', obs: { value: { state: 'exited', code: 127, signal: null }, confidence: 'valid', source: 'process', at: 5, launchGeneration: 1 } }], ctx({ sessions: new Map([['s-1', { taskId: 't-1', factoryId: 'f-1' }]]) }));
    assert.ok(p.ok);
    const rt = p.calls[0] as Extract<LifecycleCall, { kind: 'runtime' }>;
    assert.deepEqual(rt.obs.value, { state: 'exited', exitCode: 127, signal: null });
    const after = applyPatch(rec(), sparse(rec(), (decideRuntime(rec(), rt.obs, { policy: DEFAULT_POLICY, hasPendingInput: false }) as { patch: Parameters<typeof sparse>[1] }).patch));
    assert.deepEqual([after.state, after.reason, after.runtime.pid], ['terminated', 'exit:127', 100]);
  });
});

/** The deciders a batch runs through on the coordinator, without I/O: the record after the calls, and how many wrote. */
function run(start: SessionRecord, calls: LifecycleCall[]): { rec: SessionRecord; writes: number } {
  let r = start;
  let writes = 0;
  for (const c of calls) {
    const d = c.kind === 'spawned' ? decideSpawned(r, c.fact)
      : c.kind === 'activity' ? decideActivity(r, c.obs)
      : c.kind === 'runtime' ? decideRuntime(r, c.obs, { policy: DEFAULT_POLICY, hasPendingInput: false })
      : null;
    if (d === null) continue;
    assert.notEqual(d.kind, 'reject', `${c.kind} rejected`);
    if (d.kind !== 'patch') continue;
    const p = sparse(r, d.patch);
    if (isEmpty(p)) continue;
    r = applyPatch(r, p);
    writes++;
  }
  return { rec: r, writes };
}

describe('a resent batch changes nothing (replay-safe without server memory)', () => {
  const fresh = rec({ state: 'not_started', launchGeneration: 0, runtime: emptyRuntime(), activity: emptyActivity() });
  // What the launcher reports for a scripted agent that works, asks a question and exits: stamps strictly increase.
  const asks: RemoteSessionOp[] = [
    create,
    { op: 'runtime', sessionId: 's-1', obs: { value: { state: 'alive', pid: 7 }, confidence: 'valid', source: 'process', at: 100, launchGeneration: 1 } },
    { op: 'spawned', sessionId: 's-1', launchGeneration: 1, pid: 7, at: 101 },
    act('s-1', 'working', 102),
    act('s-1', 'waiting_input', 103),
    { op: 'runtime', sessionId: 's-1', obs: { value: { state: 'exited', pid: 7, code: 0, signal: null, reason: 'exited' }, confidence: 'valid', source: 'process', at: 104, launchGeneration: 1 } },
  ];
  const works: RemoteSessionOp[] = [...asks.slice(0, 4), act('s-1', 'idle', 103), { ...asks[5]!, ...{} }];
  const cases: Array<[string, RemoteSessionOp[], string]> = [['an agent that asks a question', asks, 'needs_input'], ['an agent that finishes', works, 'done']];
  for (const [name, ops, display] of cases) {
    it(`${name}: ends ${display}; the same batch again writes nothing`, () => {
      const p = planBatch(ops, ctx());
      assert.ok(p.ok);
      const once = run(fresh, p.calls.slice(1));
      assert.equal(displayStatus(once.rec), display);
      const again = planBatch(ops, ctx({ sessions: new Map([['s-1', { taskId: 't-1', factoryId: 'f-1' }]]), sentAt: 20_000, now: 20_030 }));
      assert.ok(again.ok);
      const twice = run(once.rec, again.calls);
      assert.equal(twice.writes, 0, 'no write on replay');
      assert.deepEqual(twice.rec, once.rec);
      // Every suffix resent (a batch half-applied before the answer was lost) converges too.
      for (let k = 1; k < p.calls.length; k++) assert.deepEqual(run(once.rec, again.calls.slice(k)).writes, 0, `suffix from ${k}`);
    });
  }
});

describe('decideLeaseEnded: a remote session whose lease ended without its end reported', () => {
  const rows: Array<[string, SessionRecord, string, string | null, string]> = [
    ['working → terminated (lease_ended), shown as exited', rec(), 'terminated', 'lease_ended', 'exited'],
    ['spawning → terminated', rec({ state: 'not_started' }), 'terminated', 'lease_ended', 'exited'],
    ['stuck → terminated', rec({ state: 'stuck', reason: 'idle_timeout' }), 'terminated', 'lease_ended', 'exited'],
    ['awaiting an answer: stays (the answer continues it)', rec({ state: 'needs_input', reason: 'question' }), 'needs_input', 'question', 'needs_input'],
    ['done stays done', rec({ state: 'done', reason: 'completed' }), 'done', 'completed', 'done'],
  ];
  for (const [name, r, state, reason, display] of rows) {
    it(name, () => {
      const d = decideLeaseEnded(r);
      const a = d.kind === 'patch' ? applyPatch(r, sparse(r, d.patch)) : r;
      assert.deepEqual([a.state, a.reason, displayStatus(a)], [state, reason, display]);
    });
  }
});

describe('applyRemoteCalls: a lease taken back while a batch is applied stops it there', () => {
  it('the entries after the fence moved are not applied; the error is the fence’s', async () => {
    const applied: string[] = [];
    const manager = {
      applyActivity: async (id: string) => (applied.push(id), { changed: true }),
    } as unknown as Parameters<typeof applyRemoteCalls>[0];
    const obs = { value: 'working' as const, confidence: 'valid' as const, source: 'protocol' as const, at: 1, launchGeneration: 1 };
    const calls: LifecycleCall[] = ['s-1', 's-2', 's-3'].map((sessionId) => ({ kind: 'activity', sessionId, obs }));
    let held = true;
    const stillHeld = async (): Promise<void> => {
      if (!held) throw new Error('stale epoch');
    };
    const moving = { applyActivity: async (id: string) => (applied.push(id), (held = false), { changed: true }) } as unknown as typeof manager;
    await assert.rejects(applyRemoteCalls(moving, calls, stillHeld), /stale epoch/);
    assert.deepEqual(applied, ['s-1'], 'applied under the live lease, then stopped');
    applied.length = 0;
    held = true;
    assert.deepEqual(await applyRemoteCalls(manager, calls, stillHeld), { applied: 3, ignored: [] });
    assert.deepEqual(applied, ['s-1', 's-2', 's-3']);
  });
});
