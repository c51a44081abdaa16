// Restart the coordinator mid-session (a real SIGKILL of a real process): states are reconciled from
// evidence, reactions do not fire twice, notifications are not duplicated.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { storeCases, freshDb } from '../support/db.js';
import { openStore } from '../../src/store/open.js';
import { lifecycleStore } from '../../src/store/session-repo.js';
import { LifecycleManager } from '../../src/lifecycle/manager.js';
import { pidProber } from '../../src/lifecycle/pid-prober.js';
import { probePid } from '../../src/lib/pid-probe.js';

const fixture = new URL('./fixtures/coordinator.ts', import.meta.url).pathname;

async function runUntilReady(target: string): Promise<{ ids: Record<string, string>; pids: Record<string, number>; kill: () => Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, target], { stdio: ['ignore', 'pipe', 'inherit'] });
  const rl = createInterface({ input: child.stdout! });
  const [line] = (await once(rl, 'line')) as [string];
  const raw = JSON.parse(line) as Record<string, string | number>;
  const ids: Record<string, string> = {};
  const pids: Record<string, number> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (k.endsWith('Pid')) pids[k.slice(0, -3)] = Number(v);
    else ids[k] = String(v);
  }
  return {
    ids,
    pids,
    kill: async () => {
      child.kill('SIGKILL');
      if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
    },
  };
}

const waitGone = async (pid: number) => {
  while (probePid(pid) === 'alive') await new Promise((r) => setTimeout(r, 20));
};

for (const c of storeCases()) {
  describe(`coordinator restart: ${c.kind}`, { skip: c.skip }, () => {
    it('reconciles from evidence without repeating reactions or notifications', async () => {
      const db = await freshDb(c.kind);
      const run = await runUntilReady(db.target);
      const agents = Object.values(run.pids);
      try {
        await run.kill();
        // While the coordinator was down, one agent died.
        process.kill(run.pids.vanishing!, 'SIGKILL');
        await waitGone(run.pids.vanishing!);

        const store = await openStore(db.target);
        try {
          let t = Date.now();
          const clock = { now: () => t };
          const m = new LifecycleManager({ store: lifecycleStore(store), clock, prober: pidProber(clock) });
          const before = await m.notifications.list();
          const inputsBefore = await m.inputs.list(run.ids.alive!);
          assert.equal(inputsBefore.length, 1, 'the checks-failed reaction fired once before the crash');

          const r = await m.reconcile();
          assert.equal(r.probed, 3);
          assert.equal((await m.get(run.ids.alive!)).state, 'working', 'a live agent stays working');
          assert.equal((await m.get(run.ids.asking!)).state, 'needs_input', 'a question stays open');
          const v = await m.get(run.ids.vanishing!);
          assert.equal(v.state, 'detecting', 'a vanished agent is not killed on one probe, and not left "working"');
          assert.equal(v.detecting?.attempts, 1);

          t += 1000;
          await m.tick();
          assert.equal((await m.get(run.ids.vanishing!)).detecting?.attempts, 2);
          t += 1000;
          await m.tick();
          assert.equal((await m.get(run.ids.vanishing!)).display, 'stuck', 'three pieces of evidence: stuck, a person is told');

          // The same evidence again (a replaying observer, a second restart) changes nothing.
          await m.applyChange(run.ids.alive!, { value: { state: 'checks_failing', headSha: 'abc', detail: 'FAIL' }, confidence: 'valid', source: 'protocol', at: t, launchGeneration: 0 });
          const m2 = new LifecycleManager({ store: lifecycleStore(store), clock, prober: pidProber(clock) });
          t += 1000;
          await m2.reconcile();
          await m.idle();
          await m2.idle();
          assert.equal((await m2.inputs.list(run.ids.alive!)).length, 1, 'the reaction did not fire twice');
          const after = await m2.notifications.list();
          const kinds = after.map((n) => n.kind).sort();
          assert.deepEqual(before.map((n) => n.kind).sort(), ['needs-input']);
          assert.deepEqual(kinds, ['needs-input', 'stuck'], 'one notification per occurrence, none duplicated');
          assert.equal(after.find((n) => n.kind === 'needs-input')!.id, before[0]!.id);
        } finally {
          await store.close();
        }
      } finally {
        for (const pid of agents) if (probePid(pid) === 'alive') process.kill(pid, 'SIGKILL');
        await db.dispose();
      }
    });
  });
}
