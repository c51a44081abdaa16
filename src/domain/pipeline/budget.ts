// Budget reservations (DESIGN §6): a step reserves its estimate before it starts and settles its
// actual usage after, so concurrent steps cannot overshoot. This decides one scope; the store
// applies it with a conditional update so the check and the reservation are one statement.
export type BudgetScope = 'task' | 'project' | 'global';

export interface Limits {
  tokens?: number;
  costUsd?: number;
}

export interface Ledger {
  usedTokens: number;
  usedCost: number;
  reservedTokens: number;
  reservedCost: number;
}

export interface Amount {
  tokens: number;
  costUsd: number;
}

export type BudgetDecision = { ok: true } | { ok: false; reason: string };

export function fitsBudget(limits: Limits | undefined, ledger: Ledger, want: Amount, scope: BudgetScope): BudgetDecision {
  if (!limits) return { ok: true };
  if (limits.tokens !== undefined && ledger.usedTokens + ledger.reservedTokens + want.tokens > limits.tokens) {
    return { ok: false, reason: `${scope} token budget ${limits.tokens} would be exceeded (used ${ledger.usedTokens}, reserved ${ledger.reservedTokens}, step needs ${want.tokens})` };
  }
  if (limits.costUsd !== undefined && ledger.usedCost + ledger.reservedCost + want.costUsd > limits.costUsd + 1e-9) {
    return { ok: false, reason: `${scope} cost budget $${limits.costUsd} would be exceeded (used $${ledger.usedCost.toFixed(2)}, reserved $${ledger.reservedCost.toFixed(2)}, step needs $${want.costUsd.toFixed(2)})` };
  }
  return { ok: true };
}

/** The ledger keys a step charges: one per configured scope. */
export function budgetKeys(projectId: string, taskId: string): { scope: BudgetScope; key: string }[] {
  return [
    { scope: 'global', key: 'global' },
    { scope: 'project', key: `project:${projectId}` },
    { scope: 'task', key: `task:${taskId}` },
  ];
}
