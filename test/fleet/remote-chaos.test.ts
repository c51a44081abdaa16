// Issue #14's chaos bar, with real processes only: a coordinator (`gantry up --factories 0`) on a
// store, three `gantry factory` processes in separate homes holding only factory tokens, and the
// project in a git remote over smart HTTP with basic auth. Thirty tasks go through the `quick`
// pipeline with the scripted agent while a random factory is SIGKILLed and restarted every few
// seconds and the coordinator is SIGKILLed once and restarted on the same store and port.
// Every task ships exactly once (one merge intent, one merge event, one first-parent commit on the
// remote's main), none is lost, and for every lease whose holder died the task is granted again (or
// its release delivered) within 60 s of the kill — measured from the event history.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshDb, storeCases, type TestDb } from '../support/db.js';
import { GANTRY_BIN, GIT_IDENTITY, NO_AGENTS_PATH } from '../support/cli.js';
import { gitAsync, startGitHttp, type GitHttpServer } from '../support/git-http.js';
import { newTask } from '../support/fixtures.js';
import { until } from './support.js';
import { seedRemote } from './remote-rig.js';
import { openStore } from '../../src/store/open.js';
import type { SqlStore } from '../../src/store/sql-store.js';

const USER = 'gantry';
const SECRET = 's3cret-chaos';
const TASKS = 30;
/** The issue's bound: no task waits longer than this after the process holding it died. */
const MAX_WAIT_MS = 60_000;

const config = {
  version: 1,
  defaults: { pipeline: 'quick', agent: 'scripted' },
  checks: [{ name: 'probe', run: 'true' }],
  agents: {
    scripted: {
      roles: {
        // Unique content per launch: no task ships empty, no two tasks touch the same file. The short
        // sleep keeps an agent at work long enough for kills to land mid-run.
        implementer: [{ run: 'sleep 1; echo ok > "out-$(cat /proc/sys/kernel/random/uuid).txt"' }, { commit: 'do the work' }],
      },
    },
  },
};

interface Proc {
  child: ChildProcess;
  out: () => string;
  exited: Promise<void>;
}

const procs: ChildProcess[] = [];
after(() => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
});

function run(args: string[], env: Record<string, string>): Proc {
  const child = spawn(process.execPath, [GANTRY_BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  procs.push(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out = (out + d).slice(-20_000)));
  child.stderr!.on('data', (d: Buffer) => (out = (out + d).slice(-20_000)));
  return { child, out: () => out, exited: new Promise((r) => child.once('exit', () => r())) };
}

async function kill(p: Proc): Promise<void> {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  await p.exited;
}

/** `gantry up` as a coordinator only; resolves once it announces its URL. */
async function coordinator(home: string, database: string, port: number): Promise<{ proc: Proc; url: string }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('GANTRY_')));
  const proc = run(['up', '--home', home, '--database', database, '--factories', '0', '--host', '127.0.0.1', '--port', String(port), '--json', '--log', 'stderr', '--log-level', 'warn'], {
    ...clean,
    PATH: NO_AGENTS_PATH,
    // A stale window longer than any outage here: dead factories come back as new incarnations.
    GANTRY_STALE_MS: '60000',
    GANTRY_HEARTBEAT_MS: '500',
    GANTRY_REAP_MS: '500',
  });
  const url = await until(() => /"url":\s*"([^"]+)"/.exec(proc.out())?.[1], `coordinator up\n${proc.out()}`, 60_000);
  return { proc, url: url.replace(/\/$/, '') };
}

/** `gantry factory` with its token in a file, in its own home; git reaches the remote with this host's credential helper. */
function factory(url: string, tokenFile: string, name: string, home: string): Proc {
  mkdirSync(home, { recursive: true });
  writeFileSync(join(home, '.gitconfig'), `[credential]\n\thelper = "!f() { echo username=${USER}; echo password=${SECRET}; }; f"\n`);
  return run(['factory', '--url', url, '--token-file', tokenFile, '--name', name, '--home', home, '--slots', '2', '--drain-grace', '200', '--no-detect-caps'], {
    PATH: NO_AGENTS_PATH,
    HOME: home,
    ...GIT_IDENTITY,
    GANTRY_HEARTBEAT_MS: '500',
    GANTRY_POLL_MS: '500',
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rand = (lo: number, hi: number) => lo + Math.floor(Math.random() * (hi - lo));

interface Kill {
  what: string;
  at: number;
  /** Tasks whose lease the killed process held (task id → epoch). */
  held: Map<string, number>;
}

async function heldBy(store: SqlStore, factoryId: string): Promise<Map<string, number>> {
  const rows = await store.db.all<{ id: string; lease_epoch: number }>(
    "SELECT id, lease_epoch FROM tasks WHERE lease_factory_id = ? AND stage IN ('assigned', 'building', 'review', 'testing')",
    [factoryId],
  );
  return new Map(rows.map((r) => [r.id, Number(r.lease_epoch)]));
}

async function stages(store: SqlStore, ids: string[]): Promise<Map<string, string>> {
  const rows = await store.db.all<{ id: string; stage: string }>(`SELECT id, stage FROM tasks WHERE id IN (${ids.map(() => '?').join(', ')})`, ids);
  return new Map(rows.map((r) => [r.id, r.stage]));
}

for (const sc of storeCases()) {
  describe(`remote fleet chaos: ${sc.kind}`, { skip: sc.skip }, () => {
    it(`${TASKS} quick-pipeline tasks ship exactly once while factories and the coordinator are SIGKILLed`, { timeout: 720_000 }, async (t) => {
      const started = Date.now();
      const db: TestDb = await freshDb(sc.kind);
      const dir = mkdtempSync(join(tmpdir(), 'gantry-chaos-'));
      let git: GitHttpServer | undefined;
      let store: SqlStore | undefined;
      let coord: { proc: Proc; url: string } | undefined;
      const factories = new Map<string, { proc: Proc; factoryId: string; tokenFile: string; home: string }>();
      try {
        // The remote: a bare repository behind HTTP basic auth.
        const root = join(dir, 'remotes');
        const bare = await seedRemote(root);
        git = await startGitHttp(root, { user: USER, password: SECRET });
        const base = await gitAsync(bare, 'rev-parse', 'main');

        // The test's own connection to the store (migrates it), for setup and the audit afterwards.
        const database = sc.kind === 'postgres' ? db.target : join(dir, 'gantry.db');
        const st = await openStore(database, { pollMs: 200 });
        store = st;
        const project = await st.projects.create({ name: 'app', path: '', remote: git.url('app.git', { user: USER, password: SECRET }), defaultBranch: 'main', config });

        const coordHome = join(dir, 'coordinator');
        coord = await coordinator(coordHome, database, 0);
        const port = Number(new URL(coord.url).port);
        const adminToken = readFileSync(join(coordHome, 'admin.token'), 'utf8').trim();
        const api = async (method: string, path: string, body?: unknown) => {
          const r = await fetch(`${coord!.url}${path}`, { method, headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
          const text = await r.text();
          assert.ok(r.ok, `${method} ${path}: ${r.status} ${text}`);
          return JSON.parse(text) as Record<string, unknown>;
        };

        for (const n of ['a', 'b', 'c']) {
          const name = `chaos-${n}`;
          const r = (await api('POST', '/api/fleet/factories/enroll', { name })) as { factoryId: string; token: string };
          const tokenFile = join(dir, `${name}.token`);
          writeFileSync(tokenFile, `${r.token}\n`, { mode: 0o600 });
          factories.set(name, { proc: undefined as unknown as Proc, factoryId: r.factoryId, tokenFile, home: join(dir, name) });
        }
        const ids: string[] = [];
        // Every reclaim counts as an attempt (a task that keeps killing its factory must dead-letter);
        // these kills are the harness's, several a minute, so the budget is set above what they can use up.
        for (let i = 0; i < TASKS; i++) ids.push((await st.tasks.submit(newTask(project.id, { title: `chaos ${i}`, pipeline: 'quick', agent: 'scripted', maxAttempts: 100 }))).task.id);
        for (const [name, f] of factories) f.proc = factory(coord.url, f.tokenFile, name, f.home);

        // Chaos: every 2–4 s one random factory is SIGKILLed and restarted 0.3–1.5 s later; once a
        // third of the work has shipped, the coordinator is SIGKILLed and restarted 5 s later; during
        // that outage a factory is SIGKILLed and restarted too (it must announce itself once it can).
        const kills: Kill[] = [];
        let coordinatorKilledAt = 0;
        let coordinatorBackAt = 0;
        const heldAtOutage = new Map<string, number>();
        // A guard against a hang, not a promise (per-kill waits are asserted below): a loaded 2-core host runs this beside other suites.
        const deadline = Date.now() + 540_000;
        let shippedCount = 0;
        for (;;) {
          const s = await stages(st, ids);
          // A task blocked on a person (parked) counts as stuck too: nothing here asks one.
          const bad = [...s].filter(([, stage]) => ['failed', 'dead_letter', 'cancelled', 'blocked'].includes(stage));
          if (bad.length) {
            const ev = await st.db.all<{ type: string; payload: string; at: number }>('SELECT type, payload, at FROM events WHERE task_id = ? ORDER BY id', [bad[0]![0]]);
            assert.fail(`no task fails, parks or is lost: ${JSON.stringify(bad)}\n${ev.map((e) => `${e.at} ${e.type} ${e.payload.slice(0, 300)}`).join('\n')}`);
          }
          shippedCount = [...s.values()].filter((x) => x === 'shipped').length;
          if (shippedCount === TASKS) break;
          if (Date.now() >= deadline) {
            // Where each unshipped task stands: its last events say whether it is slow or stuck.
            const late = [...s].filter(([, stage]) => stage !== 'shipped').map(([id]) => id);
            const tails = await Promise.all(late.map(async (id) => {
              const ev = await st.db.all<{ type: string; payload: string; at: number }>('SELECT type, payload, at FROM events WHERE task_id = ? ORDER BY id', [id]);
              return `${id}:\n${ev.slice(-40).map((e) => `  ${e.at} ${e.type} ${e.payload.slice(0, 240)}`).join('\n')}`;
            }));
            assert.fail(`all ${TASKS} shipped in time (${shippedCount} did); stages ${JSON.stringify(Object.fromEntries(s))}\n${tails.join('\n')}`);
          }
          if (!coordinatorKilledAt && shippedCount >= TASKS / 3) {
            for (const m of await Promise.all([...factories.values()].map((f) => heldBy(st, f.factoryId)))) for (const [k, v] of m) heldAtOutage.set(k, v);
            await kill(coord.proc);
            coordinatorKilledAt = Date.now();
            await sleep(1500);
            const [name, f] = [...factories][rand(0, factories.size)]!;
            await kill(f.proc);
            kills.push({ what: `${name} (coordinator down)`, at: Date.now(), held: await heldBy(st, f.factoryId) });
            await sleep(500);
            f.proc = factory(coord.url, f.tokenFile, name, f.home);
            await sleep(3000);
            coord = await coordinator(coordHome, database, port);
            coordinatorBackAt = Date.now();
            continue;
          }
          await sleep(rand(2000, 4000));
          const name = [...factories.keys()][rand(0, factories.size)]!;
          const f = factories.get(name)!;
          await kill(f.proc);
          const at = Date.now();
          kills.push({ what: name, at, held: await heldBy(st, f.factoryId) });
          await sleep(rand(300, 1500));
          f.proc = factory(coord.url, f.tokenFile, name, f.home);
        }
        const shippedAt = Date.now();

        // Landed once on the remote: one merge commit per task on main's first-parent line.
        const landed = (await gitAsync(bare, 'log', '--first-parent', '--format=%H %P %s', `${base}..main`)).split('\n').filter(Boolean);
        const landedTasks = landed.map((l) => /^\S+ \S+ \S+ Merge gantry\/(\S+):/.exec(l)?.[1] ?? `not a task merge: ${l}`);
        // Every task shipped exactly once: one merged intent, one merge event, one run, done.
        const wrong: string[] = [];
        for (const id of ids) {
          const intents = await st.db.all<Record<string, unknown>>('SELECT id, run_id, epoch, state, expected_base_sha, head_sha, merged_sha, reason, created_at, updated_at FROM merge_intents WHERE task_id = ? ORDER BY created_at', [id]);
          const mergedEvents = await st.db.get<{ n: number }>("SELECT COUNT(*) AS n FROM events WHERE task_id = ? AND type = 'merge.merged'", [id]);
          const runs = await st.db.all<{ state: string }>('SELECT state FROM runs WHERE task_id = ?', [id]);
          const ok = intents.filter((i) => i.state === 'merged').length === 1 && Number(mergedEvents?.n) === 1 && runs.length === 1 && runs[0]!.state === 'done';
          if (ok) continue;
          const ev = await st.db.all<{ type: string; payload: string; at: number }>(
            "SELECT type, payload, at FROM events WHERE task_id = ? AND (type LIKE 'merge.%' OR type LIKE 'lease.%' OR type LIKE 'step.%' OR type LIKE 'run.%') ORDER BY id",
            [id],
          );
          wrong.push(`${id}: intents ${JSON.stringify(intents)}; merge events ${mergedEvents?.n}; runs ${runs.map((r) => r.state).join(',')}; landed ${landedTasks.filter((x) => x === id).length}×\n${ev.map((e) => `  ${e.at} ${e.type} ${e.payload.slice(0, 200)}`).join('\n')}`);
        }
        assert.deepEqual(wrong, [], 'every task shipped exactly once');
        assert.deepEqual(landedTasks.sort(), [...ids].sort(), `exactly one merge per task on the remote's main:\n${landed.join('\n')}`);

        // No task waited more than 60 s after the process holding it died: from each kill to the
        // task's next grant, or to the delivery of the release its dead process left in its outbox.
        const waits: number[] = [];
        for (const k of kills) {
          for (const [taskId, epoch] of k.held) {
            // A release the holder sent just before it died can commit just after the kill with a
            // timestamp from before it (the statement's clock): that lease was finished, not waiting.
            const own = await st.db.get<{ outcome: string | null; released_at: number | null }>('SELECT outcome, released_at FROM leases WHERE task_id = ? AND epoch = ?', [taskId, epoch]);
            const next = ['done', 'parked', 'failed', 'abandoned'].includes(String(own?.outcome)) && own?.released_at
              ? { at: Math.max(k.at, Number(own.released_at)) }
              : await st.db.get<{ at: number }>(
                  "SELECT MIN(at) AS at FROM events WHERE task_id = ? AND type IN ('lease.granted', 'lease.released') AND at > ?",
                  [taskId, k.at],
                );
            assert.ok(next?.at, `${taskId} moved on after ${k.what} died`);
            const wait = Number(next.at) - k.at;
            waits.push(wait);
            assert.ok(wait <= MAX_WAIT_MS, `${taskId} waited ${wait} ms after ${k.what} died`);
          }
        }
        const heldKills = kills.filter((k) => k.held.size > 0).length;
        assert.ok(heldKills >= 3, `kills landed on held leases (${heldKills} of ${kills.length})`);
        // The factories rode the coordinator's outage out: no lease was taken back for staleness or
        // expiry; every reclaim was a restarted factory's.
        const reasons = await st.db.all<{ reason: string; n: number }>(
          "SELECT payload AS reason, 1 AS n FROM events WHERE type = 'lease.reclaimed'",
        );
        const byReason = new Map<string, number>();
        for (const r of reasons) {
          const reason = String((JSON.parse(String(r.reason)) as { reason?: string }).reason);
          byReason.set(reason, (byReason.get(reason) ?? 0) + 1);
        }
        assert.deepEqual([...byReason.keys()].filter((x) => x !== 'factory_restarted'), [], `reclaims by reason ${JSON.stringify(Object.fromEntries(byReason))}`);
        assert.ok(coordinatorKilledAt > 0, 'the coordinator was killed once');
        // Leases that spanned the outage and were finished by the same holder, at the same epoch.
        let rodeOut = 0;
        for (const [taskId, epoch] of heldAtOutage) {
          const l = await st.db.get<{ outcome: string | null }>('SELECT outcome FROM leases WHERE task_id = ? AND epoch = ?', [taskId, epoch]);
          if (l?.outcome === 'done') rodeOut++;
        }
        const attempts = await st.db.get<{ n: number }>('SELECT MAX(attempts) AS n FROM tasks');
        const afterOutage = await st.db.get<{ at: number }>("SELECT MIN(at) AS at FROM events WHERE type IN ('lease.granted', 'lease.released') AND at > ?", [coordinatorBackAt]);
        t.diagnostic(
          `${sc.kind}: ${TASKS} shipped in ${Math.round((shippedAt - started) / 1000)} s; ${kills.length} factory kills (${heldKills} holding leases, ${waits.length} leases); ` +
            `max wait after a kill ${Math.max(0, ...waits)} ms, median ${waits.sort((a, b) => a - b)[Math.floor(waits.length / 2)] ?? 0} ms; ` +
            `coordinator down ${coordinatorBackAt - coordinatorKilledAt} ms with ${heldAtOutage.size} leases held (${rodeOut} finished by their holder after it), next lease move ${afterOutage?.at ? Number(afterOutage.at) - coordinatorBackAt : 'n/a'} ms after its restart; reclaims ${JSON.stringify(Object.fromEntries(byReason))}; most attempts by one task ${attempts?.n}`,
        );
      } finally {
        for (const f of factories.values()) if (f.proc) await kill(f.proc);
        if (coord) await kill(coord.proc);
        await store?.close();
        await git?.close();
        await db.dispose();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
