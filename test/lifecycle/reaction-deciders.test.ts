// Table tests for the reaction, delivery, notification and config deciders.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decideReaction, decideReactionTimeout, detectTriggers, type ReactionMemory, type ReactionRule, type Trigger } from '../../src/domain/lifecycle-rules/reactions.js';
import { decideDelivery, type QueuedInput } from '../../src/domain/lifecycle-rules/delivery.js';
import { route, shouldEscalate, canMove } from '../../src/domain/lifecycle-rules/notification.js';
import { DEFAULT_POLICY } from '../../src/domain/lifecycle-rules/policy.js';
import { reactionsSchema, resolveReactions } from '../../src/config/reactions.js';
import { notificationsSchema } from '../../src/config/notifications.js';
import { act, rec } from './support.js';

describe('detectTriggers', () => {
  it('checks failing fires with the failing output, keyed by head sha', () => {
    const { fired } = detectTriggers(rec(), rec({ change: 'checks_failing' }), { state: 'checks_failing', headSha: 'abc', detail: 'FAIL x.test' });
    assert.equal(fired.length, 1);
    assert.equal(fired[0]!.key, 'checks-failed');
    assert.equal(fired[0]!.signature, 'checks:abc');
    assert.match(fired[0]!.text!, /FAIL x\.test/);
  });
  it('changes requested sends the comments; conflict sends rebase guidance', () => {
    const { fired } = detectTriggers(rec(), rec(), { state: 'changes_requested', conflict: true, headSha: 'h1', detail: 'rename foo' });
    assert.deepEqual(fired.map((t) => t.key), ['changes-requested', 'conflict']);
    assert.match(fired[0]!.text!, /rename foo/);
    assert.match(fired[1]!.text!, /rebase/);
  });
  it('a cleared condition resolves its reaction', () => {
    const { resolved } = detectTriggers(rec({ change: 'checks_failing' }), rec({ change: 'open' }), { state: 'open', conflict: false });
    assert.deepEqual(resolved, ['checks-failed', 'conflict']);
  });
  it('entering needs_input, stuck, or an error exit notifies; leaving resolves', () => {
    assert.deepEqual(detectTriggers(rec(), rec({ state: 'needs_input', rev: 6 }), null).fired.map((t) => [t.key, t.signature]), [['needs-input', 'input:6']]);
    assert.deepEqual(detectTriggers(rec(), rec({ state: 'stuck', reason: 'idle_timeout' }), null).fired.map((t) => t.key), ['stuck']);
    assert.deepEqual(detectTriggers(rec(), rec({ state: 'terminated', reason: 'exit:1' }), null).fired.map((t) => t.key), ['exited']);
    assert.deepEqual(detectTriggers(rec(), rec({ state: 'terminated', reason: 'killed' }), null).fired, [], 'a requested kill is not news');
    assert.deepEqual(detectTriggers(rec(), rec({ state: 'done', reason: 'completed' }), null).fired, []);
    assert.deepEqual(detectTriggers(rec({ state: 'needs_input' }), rec({ activity: act('working') }), null).resolved, ['needs-input']);
  });
  it('no state change, no trigger', () => {
    assert.deepEqual(detectTriggers(rec({ state: 'needs_input' }), rec({ state: 'needs_input' }), null), { fired: [], resolved: [] });
  });
});

describe('decideReaction', () => {
  const send: ReactionRule = { action: 'send-to-agent', retries: 2, escalateAfterMs: 1000, priority: 'high' };
  const t = (sig: string): Trigger => ({ key: 'checks-failed', signature: sig, text: 'x', title: 'Checks failed' });
  const mem = (m: Partial<ReactionMemory>): ReactionMemory => ({ state: 'active', attempts: 1, lastSignature: 'a', firstAt: 0, ...m });
  const live = rec();
  it('first occurrence sends to the agent', () => assert.equal(decideReaction(t('a'), send, undefined, live, 5).kind, 'send'));
  it('the same signature never fires twice', () => assert.deepEqual(decideReaction(t('a'), send, mem({}), live, 5), { kind: 'skip', why: 'duplicate' }));
  it('a new occurrence counts an attempt', () => {
    const d = decideReaction(t('b'), send, mem({}), live, 5);
    assert.equal(d.kind, 'send');
    assert.equal(d.kind === 'send' && d.memory.attempts, 2);
  });
  it('retries exhausted → a person is notified (escalation), once', () => {
    const d = decideReaction(t('c'), send, mem({ attempts: 2, lastSignature: 'b' }), live, 5);
    assert.equal(d.kind, 'notify');
    assert.equal(d.kind === 'notify' && d.escalation, true);
    assert.deepEqual(decideReaction(t('d'), send, mem({ state: 'escalated', attempts: 3, lastSignature: 'c' }), live, 5), { kind: 'skip', why: 'already_escalated' });
  });
  it('retries: 0 escalates on the first occurrence', () => assert.equal(decideReaction(t('a'), { ...send, retries: 0 }, undefined, live, 5).kind, 'notify'));
  it('a terminal session cannot take input: escalate to a person', () => assert.equal(decideReaction(t('a'), send, undefined, rec({ state: 'done' }), 5).kind, 'notify'));
  it('after a resolution the same signature may fire again, attempts restart', () => {
    const d = decideReaction(t('a'), send, mem({ state: 'resolved', attempts: 2 }), live, 5);
    assert.equal(d.kind === 'send' && d.memory.attempts, 1);
  });
  it('action none is disabled', () => assert.equal(decideReaction(t('a'), { ...send, action: 'none' }, undefined, live, 5).kind, 'skip'));
  it('escalateAfter: only active send-to-agent reactions past the deadline', () => {
    assert.equal(decideReactionTimeout(send, mem({ firstAt: 0 }), 999), false);
    assert.equal(decideReactionTimeout(send, mem({ firstAt: 0 }), 1000), true);
    assert.equal(decideReactionTimeout(send, mem({ state: 'escalated', firstAt: 0 }), 5000), false);
    assert.equal(decideReactionTimeout({ ...send, escalateAfterMs: null }, mem({ firstAt: 0 }), 5000), false);
  });
});

describe('decideDelivery', () => {
  const P = DEFAULT_POLICY;
  const q = (over: Partial<QueuedInput> = {}): QueuedInput => ({ id: 'i1', state: 'pending', attempts: 0, deliveredAt: null, ...over });
  const cases: [string, Parameters<typeof decideDelivery>[0], QueuedInput[], number, string][] = [
    ['nothing queued', rec(), [], 0, 'wait'],
    ['between turns: deliver', rec({ activity: act('idle') }), [q()], 0, 'deliver'],
    ['awaiting a reply: deliver', rec({ state: 'needs_input', activity: act('waiting_input') }), [q()], 0, 'deliver'],
    ['never into a blocked session', rec({ state: 'needs_input', reason: 'permission', activity: act('blocked') }), [q()], 0, 'wait'],
    ['not mid-turn', rec({ activity: act('working') }), [q()], 0, 'wait'],
    ['not while spawning', rec({ state: 'not_started' }), [q()], 0, 'wait'],
    ['one at a time: wait for the ack', rec({ activity: act('idle') }), [q({ state: 'delivered', deliveredAt: 0, attempts: 1 }), q({ id: 'i2' })], P.inputAckTimeoutMs - 1, 'wait'],
    ['no ack in time: redeliver', rec({ activity: act('idle') }), [q({ state: 'delivered', deliveredAt: 0, attempts: 1 })], P.inputAckTimeoutMs, 'redeliver'],
    ['no ack after max attempts: fail', rec({ activity: act('idle') }), [q({ state: 'delivered', deliveredAt: 0, attempts: P.inputMaxAttempts })], P.inputAckTimeoutMs, 'fail'],
    ['a terminal session fails everything queued', rec({ state: 'done' }), [q(), q({ id: 'i2' })], 0, 'fail'],
  ];
  for (const [name, r, open, now, kind] of cases) it(name, () => assert.equal(decideDelivery(r, open, now, P).kind, kind));
});

describe('notification deciders', () => {
  it('escalates a stale raised notification exactly once', () => {
    assert.equal(shouldEscalate({ state: 'raised', createdAt: 0, escalatedAt: null }, 99, 100), false);
    assert.equal(shouldEscalate({ state: 'raised', createdAt: 0, escalatedAt: null }, 100, 100), true);
    assert.equal(shouldEscalate({ state: 'escalated', createdAt: 0, escalatedAt: 100 }, 500, 100), false);
    assert.equal(shouldEscalate({ state: 'acknowledged', createdAt: 0, escalatedAt: null }, 500, 100), false);
    assert.equal(shouldEscalate({ state: 'raised', createdAt: 0, escalatedAt: null }, 500, null), false);
  });
  it('routes by priority; an escalation goes one priority up', () => {
    const routing = { normal: ['desk'], high: ['desk', 'hook'], urgent: ['desk', 'hook', 'pager'] };
    const known = new Set(['desk', 'hook', 'pager']);
    assert.deepEqual(route('normal', false, routing, known), ['desk']);
    assert.deepEqual(route('high', true, routing, known), ['desk', 'hook', 'pager']);
    assert.deepEqual(route('low', false, routing, known), []);
    assert.deepEqual(route('urgent', false, routing, new Set(['desk'])), ['desk']);
  });
  it('state machine: resolved is final', () => {
    assert.equal(canMove('raised', 'acknowledged'), true);
    assert.equal(canMove('resolved', 'raised'), false);
    assert.equal(canMove('acknowledged', 'escalated'), false);
  });
});

describe('reactions and notifications config', () => {
  it('merges a project section over the defaults, parsing durations', () => {
    const cfg = reactionsSchema.parse({ 'checks-failed': { retries: 5, escalateAfter: '10m' }, stuck: { idleAfter: '90s', detectingAttempts: 4 } });
    const r = resolveReactions(cfg);
    assert.equal(r.rules['checks-failed'].retries, 5);
    assert.equal(r.rules['checks-failed'].escalateAfterMs, 600_000);
    assert.equal(r.rules['checks-failed'].action, 'send-to-agent');
    assert.equal(r.policy.idleAfterMs, 90_000);
    assert.equal(r.policy.detectingAttempts, 4);
    assert.equal(r.policy.detectingAfterMs, DEFAULT_POLICY.detectingAfterMs);
  });
  it('rejects unknown keys and bad values with their path', () => {
    const bad = reactionsSchema.safeParse({ 'checks-faild': {} });
    assert.equal(bad.success, false);
    const bad2 = reactionsSchema.safeParse({ 'needs-input': { action: 'send-to-agent' } });
    assert.equal(bad2.success, false);
    const bad3 = reactionsSchema.safeParse({ conflict: { escalateAfter: '5 minutes' } });
    assert.equal(bad3.success, false);
    assert.deepEqual(bad3.error?.issues[0]?.path.slice(0, 2), ['conflict', 'escalateAfter']);
  });
  it('notification routing must name defined channels', () => {
    const bad = notificationsSchema.safeParse({ channels: { desk: { type: 'desktop' } }, routing: { high: ['desk', 'pager'] } });
    assert.equal(bad.success, false);
    assert.match(bad.error!.issues[0]!.message, /unknown channel "pager"/);
    assert.equal(notificationsSchema.safeParse({ channels: { ops: { type: 'webhook', url: 'ftp://x' } } }).success, false);
    assert.equal(notificationsSchema.safeParse({ escalateAfter: '15m', channels: { c: { type: 'command', command: ['cat'] } }, routing: { urgent: ['c'] } }).success, true);
  });
});
