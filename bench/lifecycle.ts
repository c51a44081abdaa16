// bench/lifecycle: observations per second through the full lifecycle pipeline (lock → load →
// decide → sparse patch → compare-and-set + event in one transaction) on SQLite and PostgreSQL,
// beside the raw statements beneath it (the same CAS UPDATE + event INSERT in one transaction) and
// the pure decider alone; then p50/p99 latency from an agent hook's HTTP report to its SSE event.
//   node --import tsx bench/lifecycle.ts        (PostgreSQL rows need GANTRY_TEST_DATABASE_URL)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshDb } from '../test/support/db.js';
import { openStore } from '../src/store/open.js';
import { lifecycleStore } from '../src/store/session-repo.js';
import { LifecycleManager } from '../src/lifecycle/manager.js';
import { decideActivity } from '../src/domain/lifecycle-rules/activity.js';
import { sparse, applyPatch } from '../src/domain/lifecycle-rules/decision.js';
import { emptyActivity, emptyRuntime, type ActivityState, type SessionRecord } from '../src/domain/session.js';
import { startCoordinator } from '../src/app/coordinator.js';
import { resolveHome } from '../src/app/home.js';
import { silentLogger } from '../src/api/logger.js';
import { connectSse } from '../src/lib/sse-client.js';
import { createApiServer } from '../src/api/server.js';
import { agentHookRoutes, hookUrl } from '../src/api/routes/agent-hooks.js';
import { HookTokens } from '../src/agents/activity/hook-token.js';
import { pgUrl, printTable, ratio } from './lib.js';

const N = Number(process.env.BENCH_N ?? 1500);
const LAT_N = Number(process.env.BENCH_LAT_N ?? 300);
const flip = (i: number): ActivityState => (i % 2 === 0 ? 'idle' : 'working');

/** One worker per session, each applying its share in order; total ops per second. */
async function perSessionOps(n: number, sessions: string[], op: (id: string, k: number) => Promise<unknown>): Promise<number> {
  const share = Math.ceil(n / sessions.length);
  const t0 = performance.now();
  await Promise.all(sessions.map(async (id) => {
    for (let k = 0; k < share; k++) await op(id, k);
  }));
  return ((share * sessions.length) / (performance.now() - t0)) * 1000;
}

async function pipeline(kind: 'sqlite' | 'postgres', sessions: number): Promise<(string | number)[]> {
  const db = await freshDb(kind);
  const store = await openStore(db.target, { poolSize: Math.max(2, sessions) });
  try {
    const m = new LifecycleManager({ store: lifecycleStore(store) });
    const ids: string[] = [];
    for (let i = 0; i < sessions; i++) {
      const s = await m.create({ agent: 'bench' });
      await m.onSpawned(s.id, { launchGeneration: 1 });
      ids.push(s.id);
    }
    const rawIds: string[] = [];
    for (let i = 0; i < sessions; i++) rawIds.push((await m.create({ agent: 'raw' })).id);
    const revs = new Map<string, number>();
    for (const id of rawIds) revs.set(id, (await m.get(id)).rev);
    let at = Date.now();
    const obs = (i: number) => ({ value: flip(i), confidence: 'valid' as const, source: 'hook' as const, at: ++at, launchGeneration: 1 });
    for (let i = 0; i < 40; i++) await m.applyActivity(ids[i % sessions]!, obs(i)); // warm

    // Raw: the statements the pipeline boils down to, with no decision and no lock.
    const rawOp = async (id: string, i: number) => {
      await store.db.transaction(async (tx) => {
        const rev = revs.get(id)!;
        const r = await tx.get<{ rev: number }>('UPDATE sessions SET activity = ?, session_state = ?, updated_at = ?, rev = rev + 1 WHERE id = ? AND rev = ? RETURNING rev',
          [JSON.stringify({ state: flip(i), at: i }), 'working', Date.now(), id, rev]);
        revs.set(id, Number(r!.rev));
        await tx.run('INSERT INTO events (type, task_id, run_id, session_id, payload, at) VALUES (?, NULL, NULL, ?, ?, NOW_MS)', ['session.updated', id, '{"display":"working"}']);
      });
    };
    await perSessionOps(40, rawIds, rawOp); // warm
    const raw = await perSessionOps(N, rawIds, rawOp);
    // Each observation flips working ⇄ idle on its session, so every one is a real transition.
    const full = await perSessionOps(N, ids, (id, k) => m.applyActivity(id, obs(k)));
    // A repeated signal (the same state again) is decided and dropped without a write.
    const repeat = await perSessionOps(N, ids, (id) => m.applyActivity(id, { value: 'working', confidence: 'valid', source: 'hook', at: ++at, launchGeneration: 1 }));
    return [`${kind} ×${sessions}`, raw, full, ratio(full, raw), repeat];
  } finally {
    await store.close();
    await db.dispose();
  }
}

function deciderAlone(): number {
  let rec: SessionRecord = {
    id: 's', taskId: null, runId: null, projectId: null, agent: 'bench', agentSessionId: null, factoryId: null, workspace: null,
    runtime: { ...emptyRuntime(), state: 'alive' }, activity: emptyActivity(), state: 'working', reason: null, change: 'none',
    detecting: null, launchGeneration: 1, createdAt: 0, updatedAt: 0, rev: 1,
  };
  const n = 200_000;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const d = decideActivity(rec, { value: flip(i), confidence: 'valid', source: 'hook', at: i, launchGeneration: 1 });
    if (d.kind === 'patch') rec = applyPatch(rec, sparse(rec, d.patch));
  }
  return (n / (performance.now() - t0)) * 1000;
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

async function hookToSse(kind: 'sqlite' | 'postgres'): Promise<(string | number)[][]> {
  const db = await freshDb(kind);
  const dir = mkdtempSync(join(tmpdir(), 'gantry-bench-'));
  const c = await startCoordinator({ home: resolveHome(dir), port: 0, host: '127.0.0.1', database: kind === 'postgres' ? db.target : join(dir, 'gantry.db'), factories: 0, logger: silentLogger });
  // Claude Code's http hooks post to the agent-hook route, authenticated by a per-session token.
  const tokens = new HookTokens('bench-hook-secret-0123456789');
  const hooks = createApiServer({ routes: agentHookRoutes({ tokens, sink: c.lifecycle.evidence, clock: Date }), tokens: c.store.tokens, logger: silentLogger });
  const hooksUrl = (await hooks.listen(0, '127.0.0.1')).url;
  const ac = new AbortController();
  try {
    const m = c.lifecycle.manager;
    const s = await m.create({ agent: 'bench' });
    await m.onSpawned(s.id, { launchGeneration: 1 });
    const stream = await connectSse({ url: `${c.url}/api/events/stream?after=${await c.store.events.latestSeq()}`, token: c.adminToken, signal: ac.signal });
    const waiters = new Map<number, () => void>();
    void (async () => {
      try {
        for await (const msg of stream) {
          const e = JSON.parse(msg.data) as { type: string; sessionId: string | null; payload: { rev?: number } };
          if (e.type === 'session.updated' && e.sessionId === s.id) waiters.get(Number(e.payload.rev))?.();
        }
      } catch {
        // aborted at the end
      }
    })();
    let rev = (await m.get(s.id)).rev;
    const measure = async (post: (i: number) => Promise<Response>): Promise<number[]> => {
      const lat: number[] = [];
      for (let i = 0; i < LAT_N + 20; i++) {
        const want = ++rev;
        const seen = new Promise<void>((r) => waiters.set(want, r));
        const t0 = performance.now();
        const res = await post(i);
        await res.arrayBuffer();
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        await seen;
        if (i >= 20) lat.push(performance.now() - t0);
        waiters.delete(want);
      }
      return lat;
    };
    const hookToken = tokens.issue(s.id, 1);
    const viaHook = await measure((i) => fetch(hookUrl(hooksUrl, s.id), {
      method: 'POST',
      headers: { Authorization: `Bearer ${hookToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ hook_event_name: i % 2 === 0 ? 'Stop' : 'PreToolUse', session_id: 'claude-bench' }),
    }));
    const viaApi = await measure((i) => fetch(`${c.url}/api/sessions/${s.id}/observations`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${c.adminToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ kind: 'activity', value: flip(i + 1), source: 'hook', launchGeneration: 1 }),
    }));
    const row = (what: string, lat: number[]) => [`${kind} · ${what}`, pct(lat, 50), pct(lat, 99), Math.max(...lat)];
    return [row('agent hook route', viaHook), row('observations API', viaApi)];
  } finally {
    ac.abort();
    await hooks.close();
    await c.close();
    await db.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

const rows = [await pipeline('sqlite', 1), await pipeline('sqlite', 4)];
const hasPg = !!pgUrl();
if (hasPg) rows.push(await pipeline('postgres', 1), await pipeline('postgres', 8));
else console.log('PostgreSQL rows skipped: set GANTRY_TEST_DATABASE_URL to include them');
printTable(`bench/lifecycle — ${N} observations per cell, each a real transition (working ⇄ idle)`,
  ['store × sessions', 'raw CAS+event/s', 'pipeline obs/s', 'ratio', 'repeat obs/s (no write)'], rows);
const alone = deciderAlone();
printTable('pure decider alone (decideActivity + sparse patch, no I/O)', ['what', 'obs/s', 'vs pipeline sqlite ×1'], [['decider', alone, ratio(alone, Number(rows[0]![2]))]]);
const lat = await hookToSse('sqlite');
if (hasPg) lat.push(...(await hookToSse('postgres')));
printTable(`agent hook → SSE latency (${LAT_N} reports each: from the hook's HTTP POST until its session.updated arrives on /api/events/stream)`,
  ['store · path', 'p50 ms', 'p99 ms', 'max ms'], lat);
