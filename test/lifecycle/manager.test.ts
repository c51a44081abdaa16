// The lifecycle manager through the real store, on SQLite and PostgreSQL.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { storeCases, withStore } from '../support/db.js';
import { activity, change, displays, harness, runtime, sessionEvents, types } from './harness.js';
import { LifecycleManager } from '../../src/lifecycle/manager.js';
import { lifecycleStore } from '../../src/store/session-repo.js';
import { isGantryError, type GantryError } from '../../src/domain/errors.js';
import { InputRefused } from '../../src/lifecycle/input-queue.js';
import { LifecycleEvidenceSink } from '../../src/lifecycle/evidence-sink.js';

for (const c of storeCases()) {
  describe(`lifecycle manager: ${c.kind}`, { skip: c.skip }, () => {
    it('walks spawning → working → needs_input → (reply) → working → done, every step an event', async () => {
      await withStore(c.kind, async (store) => {
        const h = await harness(store);
        const m = h.manager;
        const s = await m.create({ taskId: h.taskId, agent: 'scripted' });
        assert.equal(s.display, 'spawning');
        await m.onSpawned(s.id, { launchGeneration: 1, pid: 4242 });
        assert.equal((await m.get(s.id)).display, 'spawning');
        await m.applyActivity(s.id, activity('working', h.clock.advance(10)));
        await m.applyActivity(s.id, activity('waiting_input', h.clock.advance(10)));
        const asking = await m.get(s.id);
        assert.equal(asking.display, 'needs_input');
        const [note] = await m.notifications.list({ sessionId: s.id });
        assert.equal(note?.kind, 'needs-input');
        assert.equal(note?.state, 'raised');
        // A one-shot agent ends its turn and exits after asking: the question stays open.
        await m.applyActivity(s.id, activity('idle', h.clock.advance(5)));
        await m.applyRuntime(s.id, runtime({ state: 'exited', exitCode: 0 }, h.clock.advance(5)));
        assert.equal((await m.get(s.id)).state, 'needs_input');

        const input = await m.reply(s.id, 'use the v2 API');
        await m.idle();
        assert.deepEqual(h.sink.delivered.map((d) => d.text), ['use the v2 API']);
        assert.equal((await store.events.list({ after: 0, limit: 1000 })).filter((e) => e.type === 'input.delivered').length, 1);
        // The runtime resumes the agent with the reply: a new launch generation, then a new turn.
        await m.onSpawned(s.id, { launchGeneration: 2, pid: 4243 });
        await m.applyActivity(s.id, activity('working', h.clock.advance(10), 1), ); // late event of the old launch
        assert.equal((await m.get(s.id)).state, 'needs_input', 'stale generation ignored');
        await m.applyActivity(s.id, activity('working', h.clock.advance(10), 2));
        const working = await m.get(s.id);
        assert.equal(working.display, 'working');
        const acked = (await m.inputs.list(s.id)).find((i) => i.id === input.id);
        assert.equal(acked?.state, 'acknowledged');
        assert.equal((await m.notifications.get(note!.id)).state, 'resolved', 'answering resolves the needs-input notification');
        await m.applyActivity(s.id, activity('idle', h.clock.advance(10), 2));
        await m.applyRuntime(s.id, runtime({ state: 'exited', exitCode: 0 }, h.clock.advance(10), 2));
        const done = await m.get(s.id);
        assert.equal(done.display, 'done');

        const es = await sessionEvents(store, s.id);
        assert.deepEqual(displays(es), ['spawning', 'working', 'needs_input', 'needs_input', 'needs_input', 'needs_input', 'working', 'idle', 'done']);
        for (const t of ['session.created', 'notification.raised', 'input.queued', 'input.delivered', 'input.acknowledged', 'notification.resolved']) {
          assert.ok(types(es).includes(t), `missing ${t}`);
        }
        // Terminal never reopens.
        const late = await m.applyActivity(s.id, activity('working', h.clock.advance(10), 2));
        assert.equal(late.changed, false);
        await assert.rejects(m.onSpawned(s.id, { launchGeneration: 3 }), (e) => isGantryError(e) && e.code === 'conflict');
        await assert.rejects(m.reply(s.id, 'hello?'), /has ended/);
        await assert.rejects(m.reply(s.id, '   '), /empty/);
        await assert.rejects(m.applyActivity('s-nope', activity('working', 1)), (e) => isGantryError(e) && e.code === 'not_found');
        await h.manager.idle();
      });
    });

    it('a launch that resumes a conversation closes the earlier record of it, and only that one', async () => {
      await withStore(c.kind, async (store) => {
        const h = await harness(store);
        const m = h.manager;
        const asked = await m.create({ taskId: h.taskId, agent: 'scripted' });
        await m.onSpawned(asked.id, { launchGeneration: 1, pid: 1, agentSessionId: 'conv-1' });
        await m.applyActivity(asked.id, activity('waiting_input', h.clock.advance(10)));
        const other = await m.create({ taskId: h.taskId, agent: 'scripted' });
        await m.onSpawned(other.id, { launchGeneration: 1, pid: 2, agentSessionId: 'conv-2' });
        await m.applyActivity(other.id, activity('waiting_input', h.clock.advance(10)));
        const resumed = await m.create({ taskId: h.taskId, agent: 'scripted' });
        await m.onSpawned(resumed.id, { launchGeneration: 1, pid: 3, agentSessionId: 'conv-1' });
        assert.equal(await m.onConversationContinued(h.taskId, 'conv-1', resumed.id), 1);
        const closed = await m.get(asked.id);
        assert.equal(closed.state, 'done');
        assert.equal(closed.reason, `continued in ${resumed.id}`);
        const [note] = await m.notifications.list({ sessionId: asked.id });
        assert.equal(note?.state, 'resolved', 'its needs-input notification is resolved');
        assert.equal((await m.get(other.id)).state, 'needs_input', 'another conversation is untouched');
        assert.notEqual((await m.get(resumed.id)).state, 'done', 'the resuming launch itself stays open');
        assert.equal(await m.onConversationContinued(h.taskId, 'conv-1', resumed.id), 0, 'idempotent');
      });
    });

    it('loses no update under 50 concurrent observations on one session (two managers racing)', async () => {
      await withStore(c.kind, async (store) => {
        const h = await harness(store, { reactions: { stuck: { detectingAttempts: 1000, detectingAfter: '1d' } } });
        const other = new LifecycleManager({ store: lifecycleStore(store), clock: h.clock });
        const s = await h.manager.create({ taskId: h.taskId, agent: 'scripted' });
        await h.manager.onSpawned(s.id, { launchGeneration: 1, pid: 1 });
        await h.manager.applyActivity(s.id, activity('working', h.clock.t));
        // Each probe is distinct evidence of a missing process: every one must be counted.
        const probes = Array.from({ length: 50 }, (_, i) => runtime({ state: 'missing', pid: 1 }, h.clock.t + 1 + i));
        await Promise.all(probes.map((o, i) => (i % 2 ? other : h.manager).applyRuntime(s.id, o)));
        const after = await h.manager.get(s.id);
        assert.equal(after.state, 'detecting');
        assert.equal(after.detecting?.attempts, 50);
        const updates = (await sessionEvents(store, s.id)).filter((e) => e.type === 'session.updated');
        assert.equal(updates.length, 2 + 50, 'one event per applied observation');
        assert.equal(h.manager.locks.size, 0);
        assert.equal(other.locks.size, 0);
        await h.manager.idle();
      });
    });

    it('a checks-failed reaction sends the output once per occurrence, escalates after its retries, resolves when green', async () => {
      await withStore(c.kind, async (store) => {
        const h = await harness(store, { reactions: { 'checks-failed': { retries: 2 } } });
        const m = h.manager;
        const s = await m.create({ taskId: h.taskId, agent: 'scripted' });
        await m.onSpawned(s.id, { launchGeneration: 1 });
        await m.applyActivity(s.id, activity('idle', h.clock.advance(1)));
        const fail = (sha: string) => change({ state: 'checks_failing', headSha: sha, detail: `FAIL test ${sha}` }, h.clock.advance(1));
        await m.applyChange(s.id, fail('a1'));
        await m.applyChange(s.id, fail('a1')); // same occurrence observed again
        await m.idle();
        let inputs = await m.inputs.list(s.id);
        assert.equal(inputs.length, 1);
        assert.match(inputs[0]!.text, /FAIL test a1/);
        assert.equal(inputs[0]!.source, 'reaction:checks-failed');
        // The agent takes the turn and pushes a new head that fails again.
        await m.applyActivity(s.id, activity('working', h.clock.advance(1)));
        await m.applyActivity(s.id, activity('idle', h.clock.advance(1)));
        await m.applyChange(s.id, fail('b2'));
        await m.applyActivity(s.id, activity('working', h.clock.advance(1)));
        await m.applyActivity(s.id, activity('idle', h.clock.advance(1)));
        await m.applyChange(s.id, fail('c3'));
        await m.idle();
        inputs = await m.inputs.list(s.id);
        assert.equal(inputs.length, 2, 'two automatic attempts, then a person');
        const notes = await m.notifications.list({ sessionId: s.id });
        assert.equal(notes.length, 1);
        assert.equal(notes[0]!.kind, 'checks-failed');
        assert.equal(notes[0]!.detail.escalation, true);
        await m.applyChange(s.id, fail('d4'));
        assert.equal((await m.notifications.list({ sessionId: s.id })).length, 1, 'escalates once');
        await m.applyChange(s.id, change({ state: 'open' }, h.clock.advance(1)));
        assert.equal((await m.notifications.get(notes[0]!.id)).state, 'resolved');
        await m.applyChange(s.id, fail('e5'));
        await m.idle();
        assert.equal((await m.inputs.list(s.id)).length, 3, 'after recovery the reaction starts over');
        await h.manager.idle();
      });
    });

    it('changes-requested sends the comments; a conflict sends rebase guidance', async () => {
      await withStore(c.kind, async (store) => {
        const h = await harness(store);
        const m = h.manager;
        const s = await m.create({ taskId: h.taskId, agent: 'scripted' });
        await m.onSpawned(s.id, { launchGeneration: 1 });
        await m.applyActivity(s.id, activity('idle', h.clock.advance(1)));
        await m.applyChange(s.id, change({ state: 'changes_requested', headSha: 'x', detail: 'please rename foo to bar', conflict: true }, h.clock.advance(1)));
        const texts = (await m.inputs.list(s.id)).map((i) => i.text);
        assert.equal(texts.length, 2);
        assert.match(texts[0]!, /rename foo to bar/);
        assert.match(texts[1]!, /rebase/);
        await h.manager.idle();
      });
    });

    it('never delivers into a blocked session; delivers once it is answerable; fails what a terminal session left', async () => {
      await withStore(c.kind, async (store) => {
        const h = await harness(store);
        const m = h.manager;
        const s = await m.create({ taskId: h.taskId, agent: 'scripted' });
        await m.onSpawned(s.id, { launchGeneration: 1 });
        await m.applyActivity(s.id, activity('blocked', h.clock.advance(1)));
        await m.reply(s.id, 'first');
        await m.idle();
        assert.equal(await m.inputs.pump(s.id), 'wait:blocked');
        assert.equal(h.sink.delivered.length, 0);
        await m.applyActivity(s.id, activity('waiting_input', h.clock.advance(1)));
        await m.idle();
        assert.deepEqual(h.sink.delivered.map((d) => d.text), ['first']);
        await m.reply(s.id, 'second');
        await m.idle();
        assert.equal(h.sink.delivered.length, 1, 'one at a time: waits for the first to be acknowledged');
        await m.onKillRequested(s.id);
        const states = (await m.inputs.list(s.id)).map((i) => i.state);
        assert.deepEqual(states, ['failed', 'failed']);
        assert.equal((await m.get(s.id)).display, 'killed');
        await h.manager.idle();
      });
    });

    it('an input the sink is not ready for stays queued without spending an attempt; a launch continuing the conversation acknowledges it', async () => {
      await withStore(c.kind, async (store) => {
        const h = await harness(store, { reactions: { input: { ackTimeout: '1m', maxAttempts: 2 } } });
        const m = h.manager;
        let ready = false;
        h.sink.ready = async () => ready;
        const asked = await m.create({ taskId: h.taskId, agent: 'scripted' });
        await m.onSpawned(asked.id, { launchGeneration: 1, pid: 1, agentSessionId: 'conv-1' });
        await m.applyActivity(asked.id, activity('waiting_input', h.clock.advance(10)));
        const i = await m.reply(asked.id, 'use sqlite');
        await m.idle();
        assert.equal(await m.inputs.pump(asked.id), 'wait:sink_not_ready');
        await m.tick(h.clock.advance(120_000));
        assert.deepEqual((await m.inputs.list(asked.id)).map((x) => [x.state, x.attempts]), [['pending', 0]], 'held back, never failed');
        ready = true;
        await m.tick(h.clock.advance(1));
        assert.deepEqual(h.sink.delivered.map((d) => d.text), ['use sqlite']);
        // The answer is on its way (the sink is not ready again): past the ack timeout it is not handed over twice.
        ready = false;
        await m.tick(h.clock.advance(120_000));
        assert.equal(h.sink.delivered.length, 1);
        assert.equal((await m.inputs.list(asked.id)).find((x) => x.id === i.id)?.state, 'delivered');
        const resumed = await m.create({ taskId: h.taskId, agent: 'scripted' });
        await m.onSpawned(resumed.id, { launchGeneration: 1, pid: 2, agentSessionId: 'conv-1' });
        await m.onConversationContinued(h.taskId, 'conv-1', resumed.id);
        const [done] = await m.inputs.list(asked.id);
        assert.deepEqual([done!.state, done!.attempts], ['acknowledged', 1], 'the continued launch is the agent taking it, not a session that ended on it');
        await h.manager.idle();
      });
    });

    it('an input the sink refuses fails at once with the reason (no retries) and the next one goes; a person is refused when queueing it', async () => {
      await withStore(c.kind, async (store) => {
        const h = await harness(store, { reactions: { input: { ackTimeout: '1m', maxAttempts: 3 } } });
        const m = h.manager;
        h.sink.ready = async (_s, input) => (input.text === 'mysql' || input.source !== 'human' ? { refuse: `cannot take ${input.text}`, hint: 'send sqlite' } : true);
        const s = await m.create({ taskId: h.taskId, agent: 'scripted' });
        await m.onSpawned(s.id, { launchGeneration: 1, pid: 1, agentSessionId: 'conv-1' });
        await m.applyActivity(s.id, activity('waiting_input', h.clock.advance(10)));
        // A reaction's text queued first (reactions write the row directly), then a person's reply.
        await lifecycleStore(store).write((tx) => tx.inputs.enqueue(s.id, 'checks failed', 'reaction:checks-failed', h.clock.now()));
        await assert.rejects(m.reply(s.id, 'mysql'), (e: GantryError) => e.status === 409 && /cannot take mysql/.test(e.message) && e.hint === 'send sqlite');
        await m.reply(s.id, 'sqlite');
        await m.idle();
        assert.deepEqual(h.sink.delivered.map((d) => d.text), ['sqlite'], 'the reply is not held behind the refused reaction');
        const list = await m.inputs.list(s.id);
        assert.deepEqual(list.map((x) => [x.text, x.state, x.attempts, x.lastError]), [['checks failed', 'failed', 0, 'cannot take checks failed'], ['sqlite', 'delivered', 1, null]], 'nothing queued for the refused reply');
        await h.manager.idle();
      });
    });

    it('a hand-off the sink refuses at delivery fails at once, not after maxAttempts', async () => {
      await withStore(c.kind, async (store) => {
        const h = await harness(store, { reactions: { input: { ackTimeout: '1m', maxAttempts: 3 } } });
        const m = h.manager;
        const s = await m.create({ taskId: h.taskId, agent: 'scripted' });
        await m.onSpawned(s.id, { launchGeneration: 1, pid: 1, agentSessionId: 'conv-1' });
        await m.applyActivity(s.id, activity('waiting_input', h.clock.advance(10)));
        const deliver = h.sink.deliver.bind(h.sink);
        h.sink.deliver = async (sess, input) => {
          if (input.text === 'mysql') throw new InputRefused('"mysql" is not one of the options');
          return deliver(sess, input);
        };
        await m.reply(s.id, 'mysql');
        await m.reply(s.id, 'sqlite');
        await m.idle();
        await m.tick(h.clock.advance(1));
        const list = await m.inputs.list(s.id);
        assert.deepEqual(list.map((x) => [x.text, x.state, x.attempts]), [['mysql', 'failed', 1], ['sqlite', 'delivered', 1]]);
        assert.deepEqual(h.sink.delivered.map((d) => d.text), ['sqlite']);
        await h.manager.idle();
      });
    });

    it('retries a failed hand-off, redelivers an unacknowledged input after the timeout, then fails it', async () => {
      await withStore(c.kind, async (store) => {
        const h = await harness(store, { reactions: { input: { ackTimeout: '1m', maxAttempts: 2 } } });
        const m = h.manager;
        const s = await m.create({ taskId: h.taskId, agent: 'scripted' });
        await m.onSpawned(s.id, { launchGeneration: 1 });
        await m.applyActivity(s.id, activity('idle', h.clock.advance(1)));
        h.sink.failNext = 1;
        const i = await m.reply(s.id, 'retry me');
        await m.idle();
        assert.equal((await store.events.list({ after: 0, limit: 1000 })).filter((e) => e.type === 'input.requeued').length, 1);
        await m.tick(h.clock.advance(1));
        assert.equal(h.sink.delivered.length, 1);
        await m.tick(h.clock.advance(60_000));
        const last = (await m.inputs.list(s.id)).find((x) => x.id === i.id)!;
        assert.equal(last.state, 'failed', 'two attempts, no new turn: failed');
        assert.equal(last.lastError, 'not_acknowledged');
        await h.manager.idle();
      });
    });

    it('detecting escalates to stuck by time on tick, notifies once, and activity recovers it', async () => {
      await withStore(c.kind, async (store) => {
        const h = await harness(store);
        const m = h.manager;
        const s = await m.create({ taskId: h.taskId, agent: 'scripted' });
        await m.onSpawned(s.id, { launchGeneration: 1, pid: 7 });
        await m.applyActivity(s.id, activity('working', h.clock.advance(1)));
        await m.applyRuntime(s.id, runtime({ state: 'missing', pid: 7 }, h.clock.advance(1)));
        assert.equal((await m.get(s.id)).display, 'detecting');
        await m.tick(h.clock.advance(4 * 60_000));
        assert.equal((await m.get(s.id)).display, 'detecting');
        await m.tick(h.clock.advance(60_000));
        assert.equal((await m.get(s.id)).display, 'stuck');
        await m.tick(h.clock.advance(1000));
        const notes = await m.notifications.list({ sessionId: s.id });
        assert.deepEqual(notes.map((n) => [n.kind, n.state]), [['stuck', 'raised']]);
        await m.applyActivity(s.id, activity('working', h.clock.advance(1)));
        assert.equal((await m.get(s.id)).display, 'working');
        assert.equal((await m.notifications.get(notes[0]!.id)).state, 'resolved');
        await h.manager.idle();
      });
    });

    it('the evidence sink applies fire-and-forget reports in arrival order', async () => {
      await withStore(c.kind, async (store) => {
        const h = await harness(store);
        const m = h.manager;
        const s = await m.create({ taskId: h.taskId, agent: 'scripted' });
        await m.onSpawned(s.id, { launchGeneration: 1, pid: 9 });
        const errors: string[] = [];
        const sink = new LifecycleEvidenceSink(m, (id) => errors.push(id));
        sink.agentSession(s.id, 'claude-abc', 1);
        for (let i = 0; i < 10; i++) sink.activity(s.id, activity(i % 2 ? 'idle' : 'working', h.clock.t + i));
        sink.activity(s.id, activity('waiting_input', h.clock.t + 20));
        sink.runtime(s.id, { value: { state: 'exited', pid: 9, code: 0, signal: null, reason: 'exited' }, confidence: 'valid', source: 'process', at: h.clock.t + 21, launchGeneration: 1 });
        sink.activity('s-unknown', activity('working', h.clock.t));
        await sink.idle();
        const after = await m.get(s.id);
        assert.equal(after.agentSessionId, 'claude-abc');
        assert.equal(after.state, 'needs_input');
        assert.equal(after.runtime.state, 'exited');
        assert.equal(after.runtime.exitCode, 0);
        assert.deepEqual(errors, ['s-unknown']);
        const displaysSeen = displays(await sessionEvents(store, s.id));
        assert.deepEqual(displaysSeen.slice(-3), ['idle', 'needs_input', 'needs_input']);
        await h.manager.idle();
      });
    });

    it('merged parks the session; an error exit notifies a person', async () => {
      await withStore(c.kind, async (store) => {
        const h = await harness(store);
        const m = h.manager;
        const a = await m.create({ taskId: h.taskId, agent: 'scripted' });
        await m.onSpawned(a.id, { launchGeneration: 1 });
        await m.applyActivity(a.id, activity('waiting_input', h.clock.advance(1)));
        await m.applyChange(a.id, change({ state: 'merged' }, h.clock.advance(1)));
        assert.equal((await m.get(a.id)).display, 'merged');
        const b = await m.create({ taskId: h.taskId, agent: 'scripted' });
        await m.onSpawned(b.id, { launchGeneration: 1 });
        await m.applyRuntime(b.id, runtime({ state: 'exited', exitCode: 3 }, h.clock.advance(1)));
        assert.equal((await m.get(b.id)).display, 'exited');
        const notes = await m.notifications.list({ sessionId: b.id });
        assert.deepEqual(notes.map((n) => [n.kind, n.priority]), [['exited', 'urgent']]);
        await h.manager.idle();
      });
    });
  });
}

describe('lock map', () => {
  it('stays bounded: entries exist only while held or awaited', async () => {
    const { LockMap } = await import('../../src/lifecycle/lock-map.js');
    const locks = new LockMap();
    let peak = 0;
    let inside = 0;
    let maxInside = 0;
    const work = Array.from({ length: 2000 }, (_, i) => locks.run(`s${i % 100}`, async () => {
      inside++;
      maxInside = Math.max(maxInside, inside);
      peak = Math.max(peak, locks.size);
      await new Promise((r) => setImmediate(r));
      inside--;
    }));
    await Promise.all(work);
    assert.ok(peak <= 100, `peak ${peak}`);
    assert.ok(maxInside <= 100);
    assert.equal(locks.size, 0);
    // Serial per key even when the holder throws.
    const order: number[] = [];
    await Promise.allSettled([1, 2, 3].map((n) => locks.run('k', async () => {
      order.push(n);
      if (n === 1) throw new Error('boom');
    })));
    assert.deepEqual(order, [1, 2, 3]);
    assert.equal(locks.size, 0);
  });
});
