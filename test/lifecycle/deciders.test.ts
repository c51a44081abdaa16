// Table tests for every lifecycle decider rule (DESIGN §7) and its edges.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decideRuntime, type RuntimeFact } from '../../src/domain/lifecycle-rules/runtime.js';
import { decideActivity } from '../../src/domain/lifecycle-rules/activity.js';
import { decideChange, type ChangeFact } from '../../src/domain/lifecycle-rules/change.js';
import { decideAgentSession, decideContinued, decideKill, decideSpawned } from '../../src/domain/lifecycle-rules/spawn.js';
import { decideTick } from '../../src/domain/lifecycle-rules/tick.js';
import { applyPatch, sparse, type Decision } from '../../src/domain/lifecycle-rules/decision.js';
import { DEFAULT_POLICY } from '../../src/domain/lifecycle-rules/policy.js';
import { displayStatus, type ActivityState, type SessionRecord } from '../../src/domain/session.js';
import type { Observation } from '../../src/domain/observation.js';
import { act, obs, rec } from './support.js';

const ctx = { policy: DEFAULT_POLICY, hasPendingInput: false };
/** The record after a decision, or the same record when it was ignored. */
const after = (r: SessionRecord, d: Decision | { kind: 'reject' }): SessionRecord =>
  d.kind === 'patch' ? applyPatch(r, sparse(r, d.patch)) : r;

interface Row<O> { name: string; rec: SessionRecord; obs: O; state: SessionRecord['state']; reason?: string | null; ignored?: string; detecting?: number | null }

function check<O>(rows: Row<O>[], decide: (r: SessionRecord, o: O) => Decision) {
  for (const t of rows) {
    it(t.name, () => {
      const d = decide(t.rec, t.obs);
      if (t.ignored) assert.deepEqual(d, { kind: 'ignore', why: t.ignored });
      const a = after(t.rec, d);
      assert.equal(a.state, t.state);
      if (t.reason !== undefined) assert.equal(a.reason, t.reason);
      if (t.detecting !== undefined) assert.equal(a.detecting?.attempts ?? null, t.detecting);
    });
  }
}

describe('runtime decider (liveness)', () => {
  const probe = (v: RuntimeFact, o: Partial<Observation<RuntimeFact>> = {}) => obs(v, o);
  check<Observation<RuntimeFact>>([
    { name: 'rule 1: a failed probe is a no-op', rec: rec(), obs: probe({ state: 'missing' }, { confidence: 'unavailable' }), state: 'working', ignored: 'probe_failed' },
    { name: 'rule 1: an indeterminate probe is a no-op, even while detecting', rec: rec({ state: 'detecting', detecting: { attempts: 2, since: 1, evidenceHash: 'x' } }), obs: probe({ state: 'unknown' }), state: 'detecting', ignored: 'probe_failed', detecting: 2 },
    { name: 'rule 1: one missing probe is not death — it starts detecting', rec: rec(), obs: probe({ state: 'missing' }), state: 'detecting', reason: 'runtime_ambiguous', detecting: 1 },
    { name: 'rule 1: an exit without code or signal is ambiguous too', rec: rec(), obs: probe({ state: 'exited' }), state: 'detecting', detecting: 1 },
    { name: 'a replayed probe is not counted twice', rec: rec({ state: 'detecting', detecting: { attempts: 1, since: 1000, evidenceHash: 'process:1000:missing:' } }), obs: probe({ state: 'missing' }), state: 'detecting', ignored: 'duplicate_evidence', detecting: 1 },
    { name: 'rule 7: detecting escalates to stuck at the 3rd attempt', rec: rec({ state: 'detecting', detecting: { attempts: 2, since: 900, evidenceHash: 'a' } }), obs: probe({ state: 'missing' }), state: 'stuck', reason: 'runtime_missing', detecting: null },
    { name: 'rule 7: detecting escalates to stuck after 5 minutes on the 2nd attempt', rec: rec({ state: 'detecting', detecting: { attempts: 1, since: 1000, evidenceHash: 'a' } }), obs: probe({ state: 'missing' }, { at: 1000 + 300_000 }), state: 'stuck', reason: 'runtime_missing' },
    { name: 'rule 7 edge: one ms short of 5 minutes stays detecting', rec: rec({ state: 'detecting', detecting: { attempts: 1, since: 1000, evidenceHash: 'a' } }), obs: probe({ state: 'missing' }, { at: 1000 + 299_999 }), state: 'detecting', detecting: 2 },
    { name: 'rule 3: a healthy probe recovers detecting to the activity state', rec: rec({ state: 'detecting', detecting: { attempts: 2, since: 1, evidenceHash: 'a' }, activity: act('working') }), obs: probe({ state: 'alive' }), state: 'working', detecting: null },
    { name: 'rule 3: a healthy probe recovers liveness-stuck to needs_input when the agent was asking', rec: rec({ state: 'stuck', reason: 'runtime_missing', activity: act('waiting_input') }), obs: probe({ state: 'alive' }), state: 'needs_input', reason: 'question' },
    { name: 'rule 3: a healthy probe never clobbers needs_input', rec: rec({ state: 'needs_input', reason: 'question', activity: act('waiting_input') }), obs: probe({ state: 'alive' }), state: 'needs_input', reason: 'question' },
    { name: 'rule 3: a healthy probe does not undo idle-stuck (activity owns it)', rec: rec({ state: 'stuck', reason: 'idle_timeout', activity: act('idle') }), obs: probe({ state: 'alive' }), state: 'stuck', reason: 'idle_timeout' },
    { name: 'a healthy probe leaves not_started (spawning) alone', rec: rec({ state: 'not_started' }), obs: probe({ state: 'alive' }), state: 'not_started' },
    { name: 'rule 2: a terminal session never reopens on a healthy probe', rec: rec({ state: 'done', reason: 'completed' }), obs: probe({ state: 'alive' }), state: 'done' },
    { name: 'rule 2: a terminated session stays terminated', rec: rec({ state: 'terminated', reason: 'killed' }), obs: probe({ state: 'missing' }), state: 'terminated' },
    { name: 'rule 5: an older launch generation is ignored', rec: rec({ launchGeneration: 2 }), obs: probe({ state: 'exited', exitCode: 1 }), state: 'working', ignored: 'stale_generation' },
    { name: 'rule 5 edge: a generation not yet recorded is ignored as well', rec: rec(), obs: probe({ state: 'exited', exitCode: 1 }, { launchGeneration: 2 }), state: 'working', ignored: 'unknown_generation' },
    { name: 'a clean exit finishes the session', rec: rec({ activity: act('idle') }), obs: probe({ state: 'exited', exitCode: 0 }), state: 'done', reason: 'completed' },
    { name: 'an error exit terminates with the code as reason', rec: rec(), obs: probe({ state: 'exited', exitCode: 2 }), state: 'terminated', reason: 'exit:2' },
    { name: 'a signal exit terminates with the signal', rec: rec(), obs: probe({ state: 'exited', exitCode: null, signal: 'SIGKILL' }), state: 'terminated', reason: 'signal:SIGKILL' },
    { name: 'evidence older than the runtime axis is ignored (a resent remote batch)', rec: rec({ state: 'done', reason: 'completed', runtime: { state: 'exited', pid: 100, handle: null, exitCode: 0, signal: null, at: 2000 } }), obs: probe({ state: 'alive', pid: 100 }, { at: 1500 }), state: 'done', ignored: 'out_of_order' },
    { name: 'an exit while awaiting input keeps needs_input (one-shot agents exit between turns)', rec: rec({ state: 'needs_input', reason: 'question' }), obs: probe({ state: 'exited', exitCode: 0 }), state: 'needs_input' },
    { name: 'a missing process while awaiting input keeps needs_input', rec: rec({ state: 'needs_input', reason: 'question' }), obs: probe({ state: 'missing' }), state: 'needs_input' },
  ], (r, o) => decideRuntime(r, o, ctx));

  it('records the runtime fact (pid, exit code) on a terminal session without touching its state', () => {
    const r = rec({ state: 'done', reason: 'completed' });
    const a = after(r, decideRuntime(r, obs<RuntimeFact>({ state: 'exited', exitCode: 0, pid: 100 }), ctx));
    assert.equal(a.runtime.state, 'exited');
    assert.equal(a.runtime.exitCode, 0);
    assert.equal(a.state, 'done');
  });

  it('a repeated identical healthy probe writes nothing (no churn per heartbeat)', () => {
    const r = rec({ runtime: { state: 'alive', pid: 100, handle: null, exitCode: null, signal: null, at: 1 } });
    const d = decideRuntime(r, obs<RuntimeFact>({ state: 'alive', pid: 100 }, { at: 99 }), ctx);
    assert.deepEqual(d.kind === 'patch' ? sparse(r, d.patch) : null, {});
  });

  it('pending input turns a clean exit into "between turns"', () => {
    const r = rec({ activity: act('idle') });
    const a = after(r, decideRuntime(r, obs<RuntimeFact>({ state: 'exited', exitCode: 0 }), { ...ctx, hasPendingInput: true }));
    assert.equal(a.state, 'working');
    assert.equal(a.runtime.state, 'exited');
  });
});

describe('activity decider', () => {
  const sig = (v: ActivityState, o: Partial<Observation<ActivityState>> = {}) => obs(v, { source: 'hook', ...o });
  check<Observation<ActivityState>>([
    { name: 'working starts a spawning session', rec: rec({ state: 'not_started' }), obs: sig('working'), state: 'working' },
    { name: 'waiting_input → needs_input (question)', rec: rec({ activity: act('working') }), obs: sig('waiting_input'), state: 'needs_input', reason: 'question' },
    { name: 'blocked → needs_input (permission)', rec: rec({ activity: act('working') }), obs: sig('blocked'), state: 'needs_input', reason: 'permission' },
    { name: 'a question stays open when the turn ends (idle after waiting_input)', rec: rec({ state: 'needs_input', reason: 'question', activity: act('waiting_input') }), obs: sig('idle'), state: 'needs_input', reason: 'question' },
    { name: 'a permission prompt closed by the turn ending → working (idle)', rec: rec({ state: 'needs_input', reason: 'permission', activity: act('blocked') }), obs: sig('idle'), state: 'working' },
    { name: 'the next turn after a question → working', rec: rec({ state: 'needs_input', reason: 'question', activity: act('waiting_input') }), obs: sig('working'), state: 'working', reason: null },
    { name: 'rule 4: valid activity resolves detecting', rec: rec({ state: 'detecting', reason: 'runtime_ambiguous', detecting: { attempts: 2, since: 1, evidenceHash: 'a' } }), obs: sig('idle'), state: 'working', detecting: null },
    { name: 'rule 4: a question while detecting resolves to needs_input', rec: rec({ state: 'detecting', detecting: { attempts: 1, since: 1, evidenceHash: 'a' } }), obs: sig('waiting_input'), state: 'needs_input', detecting: null },
    { name: 'rule 4: valid activity resolves liveness-stuck', rec: rec({ state: 'stuck', reason: 'runtime_missing' }), obs: sig('working'), state: 'working' },
    { name: 'idle does not end idle-stuck', rec: rec({ state: 'stuck', reason: 'idle_timeout', activity: act('idle') }), obs: sig('idle', { at: 5000 }), state: 'stuck', reason: 'idle_timeout' },
    { name: 'working ends idle-stuck', rec: rec({ state: 'stuck', reason: 'idle_timeout', activity: act('idle') }), obs: sig('working'), state: 'working' },
    { name: 'a stale signal is not authoritative', rec: rec({ state: 'detecting', detecting: { attempts: 1, since: 1, evidenceHash: 'a' } }), obs: sig('working', { confidence: 'stale' }), state: 'detecting', ignored: 'not_authoritative', detecting: 1 },
    { name: 'an unavailable signal is not authoritative', rec: rec({ activity: act('working') }), obs: sig('waiting_input', { confidence: 'unavailable' }), state: 'working', ignored: 'not_authoritative' },
    { name: 'unknown activity is not authoritative', rec: rec({ state: 'needs_input', reason: 'question' }), obs: sig('unknown'), state: 'needs_input', ignored: 'not_authoritative' },
    { name: 'rule 2: a terminal session never reopens on activity', rec: rec({ state: 'done', reason: 'completed' }), obs: sig('working'), state: 'done', ignored: 'terminal' },
    { name: 'rule 5: an older launch generation is ignored', rec: rec({ state: 'needs_input', reason: 'question', launchGeneration: 3 }), obs: sig('working', { launchGeneration: 2 }), state: 'needs_input', ignored: 'stale_generation' },
    { name: 'evidence older than the current activity is ignored', rec: rec({ activity: act('waiting_input', 2000), state: 'needs_input', reason: 'question' }), obs: sig('working', { at: 1999 }), state: 'needs_input', ignored: 'out_of_order' },
  ], decideActivity);

  it('a repeat of the current activity changes nothing (no write per tool call)', () => {
    const r = rec({ activity: act('working', 10) });
    const d = decideActivity(r, sig('working', { at: 99 }));
    assert.equal(d.kind, 'patch');
    assert.deepEqual(d.kind === 'patch' ? sparse(r, d.patch) : null, {});
  });
});

describe('change decider', () => {
  const ch = (v: ChangeFact, o: Partial<Observation<ChangeFact>> = {}) => obs(v, { source: 'protocol', ...o });
  check<Observation<ChangeFact>>([
    { name: 'rule 1: a failed fetch is not "no change"', rec: rec({ change: 'open' }), obs: ch({ state: 'none' }, { confidence: 'unavailable' }), state: 'working', ignored: 'fetch_failed' },
    { name: 'an open change writes only the change axis', rec: rec({ state: 'needs_input', reason: 'question' }), obs: ch({ state: 'open' }), state: 'needs_input' },
    { name: 'rule 6: merged parks the session (even over needs_input)', rec: rec({ state: 'needs_input', reason: 'question' }), obs: ch({ state: 'merged' }), state: 'done', reason: 'change_merged' },
    { name: 'rule 6: closed parks the session', rec: rec(), obs: ch({ state: 'closed' }), state: 'done', reason: 'change_closed' },
    { name: 'rule 6 + 2: merged after termination keeps terminated', rec: rec({ state: 'terminated', reason: 'killed' }), obs: ch({ state: 'merged' }), state: 'terminated', reason: 'killed' },
    { name: 'rule 6: merged clears detecting memory', rec: rec({ state: 'detecting', detecting: { attempts: 1, since: 1, evidenceHash: 'a' } }), obs: ch({ state: 'merged' }), state: 'done', detecting: null },
  ], decideChange);

  it('a change observation on a terminal session still records the change axis', () => {
    const r = rec({ state: 'done', reason: 'completed' });
    assert.equal(after(r, decideChange(r, ch({ state: 'merged' }))).change, 'merged');
  });
});

describe('spawn and kill deciders', () => {
  it('spawn records the generation and runtime, session stays spawning', () => {
    const r = rec({ state: 'not_started', launchGeneration: 0, runtime: { state: 'unknown', pid: null, handle: null, exitCode: null, signal: null, at: null } });
    const a = after(r, decideSpawned(r, { launchGeneration: 1, pid: 42, agentSessionId: 'abc', at: 5 }));
    assert.equal(a.state, 'not_started');
    assert.equal(a.launchGeneration, 1);
    assert.equal(a.runtime.state, 'alive');
    assert.equal(a.runtime.pid, 42);
    assert.equal(a.agentSessionId, 'abc');
    assert.equal(displayStatus(a), 'spawning');
  });
  it('a resume keeps needs_input until the new turn starts', () => {
    const r = rec({ state: 'needs_input', reason: 'question' });
    assert.equal(after(r, decideSpawned(r, { launchGeneration: 2, at: 5 })).state, 'needs_input');
  });
  it('a relaunch after loss starts over as spawning', () => {
    const r = rec({ state: 'stuck', reason: 'runtime_missing' });
    assert.equal(after(r, decideSpawned(r, { launchGeneration: 2, at: 5 })).state, 'not_started');
  });
  it('rule 2: spawning a terminal session is rejected', () => {
    assert.deepEqual(decideSpawned(rec({ state: 'done' }), { launchGeneration: 2, at: 5 }), { kind: 'reject', why: 'terminal' });
  });
  it('a spawn report the record already holds is a replay: ignored, even on a terminal session', () => {
    const r = rec({ state: 'done', reason: 'completed', runtime: { state: 'exited', pid: 42, handle: null, exitCode: 0, signal: null, at: 9 } });
    assert.deepEqual(decideSpawned(r, { launchGeneration: 1, pid: 42, at: 5 }), { kind: 'ignore', why: 'replayed' });
    assert.deepEqual(decideSpawned(rec({ runtime: { state: 'alive', pid: 42, handle: null, exitCode: null, signal: null, at: 5 } }), { launchGeneration: 1, pid: 42, at: 5 }), { kind: 'ignore', why: 'replayed' });
  });
  it('rule 5: a stale spawn report is ignored', () => {
    assert.deepEqual(decideSpawned(rec({ launchGeneration: 3 }), { launchGeneration: 2, at: 5 }), { kind: 'ignore', why: 'stale_generation' });
  });
  it('kill terminates with the reason and clears detecting', () => {
    const r = rec({ state: 'detecting', detecting: { attempts: 1, since: 1, evidenceHash: 'a' } });
    const a = after(r, decideKill(r, 'killed'));
    assert.equal(a.state, 'terminated');
    assert.equal(a.detecting, null);
    assert.equal(displayStatus(a), 'killed');
  });
  it('the agent session id is recorded for the current launch only', () => {
    const r = rec({ launchGeneration: 2 });
    assert.equal(after(r, decideAgentSession(r, 'claude-123', 2)).agentSessionId, 'claude-123');
    assert.deepEqual(decideAgentSession(r, 'old', 1), { kind: 'ignore', why: 'stale_generation' });
  });
  it('rule 2: kill on a terminal session is a no-op', () => {
    assert.deepEqual(decideKill(rec({ state: 'done' }), 'killed'), { kind: 'ignore', why: 'terminal' });
  });
});

describe('continuation decider (a newer launch resumed the conversation)', () => {
  check<string>([
    { name: 'an answered question is done, not "needs input" forever', rec: rec({ state: 'needs_input' }), obs: 's-2', state: 'done', reason: 'continued in s-2' },
    { name: 'a detecting record is done and stops detecting', rec: rec({ state: 'detecting', detecting: { attempts: 2, since: 1, evidenceHash: 'x' } }), obs: 's-2', state: 'done', detecting: null },
    { name: 'a stuck record is done', rec: rec({ state: 'stuck' }), obs: 's-2', state: 'done' },
    { name: 'rule 2: a terminal record never reopens or changes', rec: rec({ state: 'terminated', reason: 'killed' }), obs: 's-2', state: 'terminated', reason: 'killed', ignored: 'terminal' },
  ], decideContinued);
});

describe('tick decider (rule 7 by time)', () => {
  const P = DEFAULT_POLICY;
  it('detecting past 5 minutes → stuck', () => {
    const r = rec({ state: 'detecting', detecting: { attempts: 1, since: 1000, evidenceHash: 'a' } });
    assert.equal(after(r, decideTick(r, 1000 + P.detectingAfterMs, P)).state, 'stuck');
    assert.equal(decideTick(r, 1000 + P.detectingAfterMs - 1, P).kind, 'ignore');
  });
  it('idle without progress past the threshold → stuck (idle_timeout)', () => {
    const r = rec({ activity: act('idle', 1000) });
    const a = after(r, decideTick(r, 1000 + P.idleAfterMs, P));
    assert.equal(a.state, 'stuck');
    assert.equal(a.reason, 'idle_timeout');
    assert.equal(decideTick(r, 1000 + P.idleAfterMs - 1, P).kind, 'ignore');
  });
  it('a working agent, needs_input and terminal sessions never time out', () => {
    for (const r of [rec({ activity: act('working', 0) }), rec({ state: 'needs_input', activity: act('idle', 0) }), rec({ state: 'done', activity: act('idle', 0) })]) {
      assert.equal(decideTick(r, 10 * P.idleAfterMs, P).kind, 'ignore');
    }
  });
});

describe('display status (derived on read)', () => {
  const cases: [Partial<SessionRecord>, string][] = [
    [{ state: 'not_started' }, 'spawning'],
    [{ state: 'working', activity: act('working') }, 'working'],
    [{ state: 'working', activity: act('idle') }, 'idle'],
    [{ state: 'working', activity: act('idle'), change: 'checks_failing' }, 'checks_failing'],
    [{ state: 'working', activity: act('working'), change: 'checks_failing' }, 'working'],
    [{ state: 'needs_input', activity: act('waiting_input') }, 'needs_input'],
    [{ state: 'needs_input', activity: act('blocked') }, 'blocked'],
    [{ state: 'detecting' }, 'detecting'],
    [{ state: 'stuck' }, 'stuck'],
    [{ state: 'done', change: 'merged' }, 'merged'],
    [{ state: 'done', reason: 'completed' }, 'done'],
    [{ state: 'terminated', reason: 'exit:1' }, 'exited'],
    [{ state: 'terminated', reason: 'killed' }, 'killed'],
  ];
  for (const [r, want] of cases) it(`${JSON.stringify(r.state)}/${r.activity?.state ?? '-'}/${r.change ?? '-'} → ${want}`, () => assert.equal(displayStatus(rec(r)), want));
});
