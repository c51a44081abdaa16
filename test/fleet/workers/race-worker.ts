// A racing client of the fleet store. Run as a child process (SQLite: separate processes share one
// file) or call its functions in-process with their own store (PostgreSQL: separate connections).
//   node --import tsx race-worker.ts <store target> '<json command>'   → prints one JSON result
import { fileURLToPath } from 'node:url';
import { openStore } from '../../../src/store/open.js';
import type { SqlStore } from '../../../src/store/sql-store.js';
import { isGantryError } from '../../../src/domain/errors.js';
import { coordinator, register } from '../support.js';

export type Command =
  | { op: 'claimLoop'; factoryId: string; abandonEvery: number }
  | { op: 'renew'; factoryId: string; calls: Array<{ taskId: string; epoch: number }>; startAt: number }
  | { op: 'reap'; passes: number; startAt: number }
  | { op: 'hold'; factoryIds: string[] };

export interface Claim {
  taskId: string;
  epoch: number;
  factoryId: string;
}

const waitUntil = async (t: number): Promise<void> => {
  const ms = t - Date.now();
  if (ms > 0) await new Promise((r) => setTimeout(r, ms));
};

export async function run(store: SqlStore, cmd: Command): Promise<unknown> {
  if (cmd.op === 'claimLoop') {
    const c = coordinator(store, { leaseTtlMs: 600_000 });
    await register(c, cmd.factoryId);
    const claims: Claim[] = [];
    let n = 0;
    for (;;) {
      const g = await c.claim({ factoryId: cmd.factoryId, capabilities: [] }, { factoryId: cmd.factoryId });
      if (!g) {
        const left = await store.db.get<{ n: number }>("SELECT COUNT(*) AS n FROM tasks WHERE stage <> 'shipped'");
        if (Number(left?.n) === 0) return claims;
        await new Promise((r) => setTimeout(r, 2));
        continue;
      }
      claims.push({ taskId: g.task.id, epoch: g.leaseEpoch, factoryId: cmd.factoryId });
      const outcome = ++n % cmd.abandonEvery === 0 ? 'abandoned' : 'done';
      await c.release(g.task.id, { leaseEpoch: g.leaseEpoch, outcome, report: {} }, { factoryId: cmd.factoryId });
    }
  }
  if (cmd.op === 'renew') {
    const c = coordinator(store, { leaseTtlMs: 600_000 });
    await waitUntil(cmd.startAt);
    return Promise.all(
      cmd.calls.map(async (call) => {
        try {
          const r = await c.renew(call.taskId, { leaseEpoch: call.epoch }, { factoryId: cmd.factoryId });
          return { ...call, ok: true, expiresAt: r.leaseExpiresAt };
        } catch (e) {
          if (isGantryError(e) && e.code === 'stale_epoch') return { ...call, ok: false };
          throw e;
        }
      }),
    );
  }
  if (cmd.op === 'hold') {
    // Claims without releasing, printing each grant the moment it is returned (the parent SIGKILLs us mid-way).
    const c = coordinator(store, { leaseTtlMs: 600_000, staleMs: 600_000 });
    for (const f of cmd.factoryIds) await register(c, f);
    await Promise.all(
      cmd.factoryIds.map(async (f) => {
        for (;;) {
          const g = await c.claim({ factoryId: f, capabilities: [] }, { factoryId: f });
          if (!g) return;
          process.stdout.write(`${JSON.stringify({ taskId: g.task.id, epoch: g.leaseEpoch, factoryId: f })}\n`);
        }
      }),
    );
    return [];
  }
  const c = coordinator(store);
  await waitUntil(cmd.startAt);
  const out = [];
  for (let i = 0; i < cmd.passes; i++) out.push(...(await c.reapOnce()));
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [target, json] = process.argv.slice(2);
  const store = await openStore(target!);
  try {
    process.stdout.write(`${JSON.stringify(await run(store, JSON.parse(json!) as Command))}\n`);
  } finally {
    await store.close();
  }
}
