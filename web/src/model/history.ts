// Which events the task history folds away unless asked: bookkeeping that says nothing a person
// reads (provisioning's per-step records, lease renewals, and engine progress ticks with no phase).
import type { GantryEvent } from '../api/types.js';

const DETAIL = /^(workspace\.step_(started|completed|skipped)|lease\.renewed)$/;

export function isBookkeeping(e: Pick<GantryEvent, 'type' | 'payload'>): boolean {
  if (DETAIL.test(e.type)) return true;
  if (e.type !== 'step.progress') return false;
  const p = (e.payload ?? {}) as { phase?: unknown; ok?: unknown };
  return (p.phase === null || p.phase === undefined) && (p.ok === null || p.ok === undefined);
}
