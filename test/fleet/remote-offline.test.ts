// Offline-degrade and quarantine with the real pipeline engine (issue #14): `gantry factory` runs
// the `quick` pipeline with the scripted agent; the coordinator goes away while the factory's agents
// work, an operator takes one task back meanwhile, the coordinator returns on the same address. The
// outage outlasts the patience of calls made outside a lease, so the runs only survive it because
// their calls wait; the task kept ships the work done offline, the task taken back is quarantined
// (its work set aside on the factory, never pushed) and ships a later lease's work, each exactly once.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { storeCases } from '../support/db.js';
import { gitAsync } from '../support/git-http.js';
import { coordinator as fleetOver, until } from './support.js';
import { enroll, factory, mergedIntents, setupRemote, shipped, stop, submit, type Proc } from './remote-rig.js';
import { openStore } from '../../src/store/open.js';
import { SqliteOutbox } from '../../src/store/fleet-outbox.js';

/** Each implementer launch writes a file of its own, notes (atomically) which task it works for, and waits at the gate `go`. */
const config = (markers: string) => ({
  version: 1,
  defaults: { pipeline: 'quick', agent: 'scripted' },
  sandbox: { mode: 'off' },
  checks: [{ name: 'probe', run: 'echo checked' }],
  agents: {
    scripted: {
      roles: {
        implementer: [
          { say: 'working on it' },
          { run: `f=out-$(cat /proc/sys/kernel/random/uuid).txt; echo ok > "$f"; basename "$PWD" > ${markers}/.launch-$f && mv ${markers}/.launch-$f ${markers}/launch-$f; while [ ! -f ${markers}/go ]; do sleep 0.1; done; touch ${markers}/done-$f` },
          { commit: 'do the work' },
        ],
      },
    },
  },
});

/** file on main → the task whose launch wrote it, for every launch so far. */
function launches(markers: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const n of readdirSync(markers)) if (n.startsWith('launch-')) m.set(n.slice('launch-'.length), readFileSync(join(markers, n), 'utf8').trim());
  return m;
}

async function outbox(path: string): Promise<{ pending: Awaited<ReturnType<SqliteOutbox['pending']>>; quarantined: Awaited<ReturnType<SqliteOutbox['quarantined']>> }> {
  const ob = new SqliteOutbox(path);
  try {
    return { pending: await ob.pending(), quarantined: await ob.quarantined() };
  } finally {
    await ob.close();
  }
}

for (const sc of storeCases()) {
  describe(`remote factory offline: ${sc.kind}`, { skip: sc.skip }, () => {
    it('coordinator down while the agents work: the factory works on, a task taken back meanwhile is quarantined, every task ships once', { timeout: 300_000 }, async () => {
      const e = await setupRemote(sc.kind, config);
      let f: Proc | undefined;
      let up = true;
      try {
        const { factoryId, tokenFile } = await enroll(e, 'islander');
        const t1 = await submit(e, 'keeps');
        const t2 = await submit(e, 'taken');
        const home = join(e.dir, 'islander-home');
        // Calls made outside a lease give up after 1 s here (60 s by default): the outage below lasts longer.
        f = factory(e.c.url, tokenFile, 'islander', home, { slots: 2, env: { GANTRY_ENGINE_PATIENCE_MS: '1000' } });
        // Both agents at work (waiting at the gate), both leases held by the islander.
        await until(async () => {
          const held = await Promise.all([t1, t2].map(async (id) => (await e.c.store.tasks.get(id))?.leaseFactoryId === factoryId));
          return launches(e.markers).size === 2 && held.every(Boolean);
        }, 'both agents working', 120_000);
        const offline = launches(e.markers);
        await e.down();
        up = false;

        // Meanwhile, on another coordinator of the same store, an operator takes t2 back.
        const s = await openStore(e.target);
        await fleetOver(s).act(t2, 'requeue', { reason: 'taking it back' });
        await s.close();

        // The agents finish their work while the coordinator is away; the runs wait at their next transition.
        writeFileSync(join(e.markers, 'go'), '');
        await until(() => [...offline.keys()].every((x) => existsSync(join(e.markers, `done-${x}`))), 'both agents finished offline', 60_000);
        await new Promise((r) => setTimeout(r, 3000)); // past the 1 s patience of calls outside a lease
        const obPath = join(home, 'factories', 'islander', 'outbox.db');

        const c = await e.restart();
        up = true;
        await shipped(e, t1, f, 180_000);
        await until(async () => (await c.fleet.quarantines()).some((q) => q.taskId === t2 && q.factoryId === factoryId && q.epoch === 1), 't2 quarantine reported', 30_000);
        await shipped(e, t2, f, 180_000);

        // Every task shipped once: one run each, driven to done (the outage failed neither), one merge each.
        for (const id of [t1, t2]) {
          assert.equal(await mergedIntents(e, id), 1, `${id} merged once`);
          assert.equal((await c.store.events.list({ taskId: id, limit: 1000 })).filter((x) => x.type === 'merge.merged').length, 1);
          assert.deepEqual((await c.store.db.all<{ state: string }>('SELECT state FROM runs WHERE task_id = ?', [id])).map((r) => r.state), ['done']);
        }
        assert.deepEqual((await c.fleet.runs(t1)).leases.map((l) => [l.epoch, l.factoryId, l.outcome]), [[1, factoryId, 'done']], "t1's lease outlived the outage: the work done offline shipped under it");
        const l2 = (await c.fleet.runs(t2)).leases;
        assert.deepEqual(l2.map((l) => [l.factoryId, l.outcome]), [[factoryId, 'revoked'], [factoryId, 'done']], 't2 was taken back, then shipped by a later lease');
        assert.equal((await c.store.tasks.get(t2))?.quarantined, true);

        // Which work shipped: t1's offline work; for t2 only what a later lease's agent did.
        const onMain = (await gitAsync(e.bare, 'ls-tree', '--name-only', 'main')).split('\n').filter((x) => x.startsWith('out-'));
        const byLaunch = launches(e.markers);
        const [t1Offline] = [...offline].filter(([, id]) => id === t1).map(([x]) => x);
        const [t2Offline] = [...offline].filter(([, id]) => id === t2).map(([x]) => x);
        assert.ok(t1Offline && t2Offline, `one offline launch per task: ${JSON.stringify([...offline])}`);
        assert.ok(onMain.includes(t1Offline), "t1's offline work shipped");
        assert.ok(!onMain.includes(t2Offline), "t2's work under the lost lease did not ship");
        assert.deepEqual(onMain.filter((x) => byLaunch.get(x) === t2 && !offline.has(x)).length, 1, "t2 shipped a later launch's work");

        // The lost lease's work is kept on the factory as a quarantined result and a local ref, never pushed.
        const q = (await outbox(obPath)).quarantined;
        assert.deepEqual(q.map((x) => [x.taskId, x.epoch]), [[t2, 1]]);
        const report = q[0]!.result.report as { failureKind?: string; quarantinedRef?: string; quarantinedSha?: string };
        assert.equal(report.failureKind, 'fenced');
        assert.equal(report.quarantinedRef, `refs/gantry/quarantine/${t2}/epoch-1`);
        const mirrors = join(home, 'factories', 'islander', 'mirrors');
        const mirror = join(mirrors, readdirSync(mirrors).find((x) => x.endsWith('.git'))!);
        assert.equal(await gitAsync(mirror, 'rev-parse', report.quarantinedRef), report.quarantinedSha);
        const quarantinedFiles = (await gitAsync(mirror, 'ls-tree', '--name-only', report.quarantinedRef)).split('\n');
        assert.ok(quarantinedFiles.includes(t2Offline), `the quarantined ref holds the offline work: ${quarantinedFiles.join(' ')}`);
        assert.equal(await gitAsync(e.bare, 'for-each-ref', 'refs/gantry/quarantine'), '', 'never pushed');
        assert.deepEqual((await outbox(obPath)).pending, []);

        await stop(f);
        assert.equal(f.child.exitCode, 0, 'SIGTERM drains and exits cleanly');
      } finally {
        if (f && up) await stop(f);
        else f?.child.kill('SIGKILL');
        if (!up) await e.restart();
        await e.dispose();
      }
    });
  });
}
