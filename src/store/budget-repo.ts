// Budget ledgers (DESIGN §6): one row per scope key. A reservation adds to `reserved_*` with a
// conditional UPDATE per limited scope — the check and the add are one statement, so concurrent
// steps (other connections, other processes) can never overshoot. Settlement moves the reservation
// into `used_*` with the actual amount.
import { budgetKeys, fitsBudget, type Amount, type BudgetScope, type Ledger } from '../domain/pipeline/budget.js';
import type { BudgetRepo, Fence, ReserveRequest, ReserveResult } from '../ports/engine.js';
import type { SqlValue } from '../ports/sql.js';
import type { Store } from '../ports/store.js';

class OverBudget extends Error {
  constructor(readonly scope: BudgetScope, readonly key: string) {
    super('over budget');
  }
}

export class BudgetRepoSql implements BudgetRepo {
  constructor(private readonly store: Store) {}

  async reserve(req: ReserveRequest): Promise<ReserveResult> {
    // Lock order is fixed (global, project, task) so concurrent reservations cannot deadlock.
    const keys = budgetKeys(req.projectId, req.taskId);
    try {
      return await this.store.write(async (tx) => {
        // A released reservation is held again: its launch was never committed (the dispatch commit lost
        // a race and released it), and the retry of that launch reuses the id.
        const inserted = await tx.run(
          `INSERT INTO budget_reservations (id, task_id, run_id, step_row_id, keys, tokens, cost_usd, state, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, 'held', NOW_MS)
           ON CONFLICT (id) DO UPDATE SET state = 'held', settled_at = NULL, tokens = excluded.tokens, cost_usd = excluded.cost_usd
             WHERE budget_reservations.state = 'released'`,
          [req.id, req.taskId, req.runId, req.stepRowId, JSON.stringify(keys.map((k) => k.key)), req.amount.tokens, req.amount.costUsd],
        );
        if (inserted === 0) return { ok: true as const, id: req.id }; // a replay of the same step attempt (still held, or spent)
        for (const { scope, key } of keys) {
          await tx.run('INSERT INTO budget_ledgers (key, updated_at) VALUES (?, NOW_MS) ON CONFLICT (key) DO NOTHING', [key]);
          const lim = req.limits[scope];
          const cond: string[] = [];
          const p: SqlValue[] = [req.amount.tokens, req.amount.costUsd, key];
          if (lim?.tokens !== undefined) {
    cond.push('used_tokens + reserved_tokens + ? <= ?');
    p.push(req.amount.tokens, lim.tokens);
  }
          if (lim?.costUsd !== undefined) {
    cond.push('used_cost + reserved_cost + ? <= ?');
    p.push(req.amount.costUsd, lim.costUsd + 1e-9);
  }
          const ok = await tx.run(
            `UPDATE budget_ledgers SET reserved_tokens = reserved_tokens + ?, reserved_cost = reserved_cost + ?, updated_at = NOW_MS
             WHERE key = ?${cond.map((c) => ` AND ${c}`).join('')}`,
            p,
          );
          if (ok === 0) throw new OverBudget(scope, key);
        }
        tx.emit({ type: 'budget.reserved', taskId: req.taskId, runId: req.runId, payload: { reservation: req.id, tokens: req.amount.tokens, costUsd: req.amount.costUsd } });
        return { ok: true as const, id: req.id };
      });
    } catch (e) {
      if (!(e instanceof OverBudget)) throw e;
      const l = await this.ledger(e.key);
      const d = fitsBudget(req.limits[e.scope], l, req.amount, e.scope);
      return { ok: false, scope: e.scope, reason: d.ok ? `${e.scope} budget is spent` : d.reason };
    }
  }

  async settle(id: string, actual: Amount): Promise<void> {
    await this.close(id, actual, 'settled');
  }

  async release(id: string): Promise<void> {
    await this.close(id, { tokens: 0, costUsd: 0 }, 'released');
  }

  forfeitLaunch(id: string, fence: Fence | null): Promise<boolean> {
    return this.close(id, 'reserved', 'forfeited', fence);
  }

  async forfeitFinished(): Promise<number> {
    return this.forfeit("run_id IN (SELECT id FROM runs WHERE state IN ('done', 'failed', 'cancelled'))", []);
  }

  /**
   * Held reservations whose session can no longer report (its process died, its run ended) are
   * settled at the reserved amount: the session may have spent it, and a budget must never be
   * under-counted.
   */
  private async forfeit(where: string, params: SqlValue[]): Promise<number> {
    const held = await this.store.db.all<{ id: string }>(`SELECT id FROM budget_reservations WHERE state = 'held' AND ${where}`, params);
    let n = 0;
    for (const r of held) if (await this.close(r.id, 'reserved', 'forfeited')) n++;
    return n;
  }

  /**
   * Moves a held reservation to its final state, charging `usage` ('reserved': what was reserved).
   * With a fence, only the current lease holder may close it (in the same statement).
   */
  private async close(id: string, usage: Amount | 'reserved', to: 'settled' | 'released' | 'forfeited', fence: Fence | null = null): Promise<boolean> {
    const fenced = fence ? ' AND EXISTS (SELECT 1 FROM tasks WHERE id = ? AND lease_epoch = ? AND lease_factory_id = ?)' : '';
    return this.store.write(async (tx) => {
      const r = await tx.get<{ keys: string; tokens: number; cost_usd: number; task_id: string; run_id: string }>(
        `UPDATE budget_reservations SET state = ?, settled_at = NOW_MS WHERE id = ? AND state = 'held'${fenced} RETURNING keys, tokens, cost_usd, task_id, run_id`,
        fence ? [to, id, fence.taskId, fence.epoch, fence.factoryId] : [to, id],
      );
      if (!r) return false; // already settled, released or forfeited: idempotent
      const actual = usage === 'reserved' ? { tokens: Number(r.tokens), costUsd: Number(r.cost_usd) } : usage;
      for (const key of JSON.parse(r.keys) as string[]) {
        await tx.run(
          `UPDATE budget_ledgers SET reserved_tokens = reserved_tokens - ?, reserved_cost = reserved_cost - ?,
             used_tokens = used_tokens + ?, used_cost = used_cost + ?, updated_at = NOW_MS WHERE key = ?`,
          [Number(r.tokens), Number(r.cost_usd), actual.tokens, actual.costUsd, key],
        );
      }
      tx.emit({ type: `budget.${to}`, taskId: r.task_id, runId: r.run_id, payload: { reservation: id, tokens: actual.tokens, costUsd: actual.costUsd } });
      return true;
    });
  }

  async held(): Promise<number> {
    const r = await this.store.db.get<{ c: number }>("SELECT COUNT(*) AS c FROM budget_reservations WHERE state = 'held'");
    return Number(r?.c ?? 0);
  }

  async ledger(key: string): Promise<Ledger> {
    const r = await this.store.db.get('SELECT * FROM budget_ledgers WHERE key = ?', [key]);
    return {
      usedTokens: Number(r?.used_tokens ?? 0),
      usedCost: Number(r?.used_cost ?? 0),
      reservedTokens: Number(r?.reserved_tokens ?? 0),
      reservedCost: Number(r?.reserved_cost ?? 0),
    };
  }
}
