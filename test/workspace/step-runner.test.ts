import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runSteps, type StepDef, type StepEvent } from '../../src/lib/step-runner.js';

const tickClock = () => {
  let t = 1000;
  return { now: () => (t += 5) };
};

interface S {
  created: string[];
}

/** A plan of n steps that each "create" a resource and register its removal; `failAt` throws in that step. */
function plan(n: number, opts: { failAt?: number; fatal?: (i: number) => boolean; setupAt?: number[] } = {}): StepDef<S>[] {
  return Array.from({ length: n }, (_, i) => ({
    name: `s${i}`,
    fatal: opts.fatal ? opts.fatal(i) : true,
    setup: opts.setupAt?.includes(i) ?? false,
    run: (ctx) => {
      ctx.state.created.push(`r${i}`);
      ctx.registerCleanup(`rm r${i}`, () => {
        ctx.state.created.splice(ctx.state.created.indexOf(`r${i}`), 1);
      });
      if (opts.failAt === i) throw new Error(`boom ${i}`);
    },
  }));
}

describe('step runner', () => {
  it('runs steps in order, emits started/completed with durations from the injected clock, disarms cleanup on success', async () => {
    const events: StepEvent[] = [];
    const state: S = { created: [] };
    const r = await runSteps(plan(3), state, { clock: tickClock(), sink: (e) => void events.push(e) });
    assert.equal(r.ok, true);
    assert.deepEqual(state.created, ['r0', 'r1', 'r2'], 'nothing undone after success');
    assert.deepEqual(events.map((e) => `${e.type}:${e.step}`), [
      'StepStarted:s0', 'StepCompleted:s0', 'StepStarted:s1', 'StepCompleted:s1', 'StepStarted:s2', 'StepCompleted:s2',
    ]);
    const done = events.find((e) => e.type === 'StepCompleted');
    assert.equal(done?.type === 'StepCompleted' && done.durationMs, 5);
  });

  it('a fatal failure at any step unwinds everything created so far, LIFO, and stops', async () => {
    for (let failAt = 0; failAt < 4; failAt++) {
      const order: string[] = [];
      const state: S = { created: [] };
      const steps = plan(4, { failAt }).map((s) => ({
        ...s,
        run: (ctx: Parameters<typeof s.run>[0]) => {
          const i = Number(s.name.slice(1));
          ctx.registerCleanup('trace', () => void order.push(`undo${i}`));
          return s.run(ctx);
        },
      }));
      const events: StepEvent[] = [];
      const r = await runSteps(steps, state, { clock: tickClock(), sink: (e) => void events.push(e) });
      assert.equal(r.ok, false);
      assert.equal(r.failedStep, `s${failAt}`);
      assert.deepEqual(state.created, [], `nothing left behind when s${failAt} fails`);
      assert.deepEqual(order, Array.from({ length: failAt + 1 }, (_, k) => `undo${failAt - k}`), 'LIFO');
      assert.equal(events.filter((e) => e.type === 'StepStarted').length, failAt + 1, 'later steps never start');
      const failed = events.find((e) => e.type === 'StepFailed');
      assert.ok(failed && failed.type === 'StepFailed' && failed.fatal && failed.error === `boom ${failAt}`);
    }
  });

  it('a non-fatal failure warns, undoes only its own partial work, and the plan continues', async () => {
    const state: S = { created: [] };
    const events: StepEvent[] = [];
    const r = await runSteps(plan(3, { failAt: 1, fatal: (i) => i !== 1 }), state, { clock: tickClock(), sink: (e) => void events.push(e) });
    assert.equal(r.ok, true);
    assert.deepEqual(state.created, ['r0', 'r2']);
    assert.deepEqual(r.steps.map((s) => s.status), ['completed', 'failed', 'completed']);
    const failed = events.find((e) => e.type === 'StepFailed');
    assert.ok(failed && failed.type === 'StepFailed' && failed.fatal === false);
  });

  it('lightweight mode skips setup steps and reports them skipped', async () => {
    const state: S = { created: [] };
    const events: StepEvent[] = [];
    const r = await runSteps(plan(3, { setupAt: [1] }), state, { clock: tickClock(), lightweight: true, sink: (e) => void events.push(e) });
    assert.equal(r.ok, true);
    assert.deepEqual(state.created, ['r0', 'r2']);
    const skipped = events.find((e) => e.type === 'StepSkipped');
    assert.ok(skipped && skipped.type === 'StepSkipped' && skipped.step === 's1' && skipped.reason === 'lightweight');
  });

  it('a step may report a skip and warnings; a failing cleanup is reported and the rest still run', async () => {
    const ran: string[] = [];
    const events: StepEvent[] = [];
    const steps: StepDef<S>[] = [
      { name: 'a', fatal: true, run: (ctx) => { ctx.registerCleanup('x', () => { throw new Error('cleanup broke'); }); } },
      { name: 'b', fatal: true, run: (ctx) => { ctx.registerCleanup('y', () => void ran.push('y')); ctx.warn('optional .env missing'); return { skipped: 'nothing to do' }; } },
      { name: 'c', fatal: true, run: () => { throw new Error('fatal c'); } },
    ];
    const r = await runSteps(steps, { created: [] }, { clock: tickClock(), sink: (e) => void events.push(e) });
    assert.equal(r.ok, false);
    assert.deepEqual(ran, ['y']);
    assert.deepEqual(r.cleanupErrors, [{ cleanup: 'a/x', error: 'cleanup broke' }]);
    assert.deepEqual(r.steps[1], { step: 'b', status: 'skipped', durationMs: 5, warnings: ['optional .env missing'] });
    assert.ok(events.some((e) => e.type === 'CleanupFailed'));
  });
});
