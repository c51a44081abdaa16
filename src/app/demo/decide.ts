// What the demo driver does next, from the facts it polled: submit a task, approve on a person's
// behalf (--exit-when-done only), tell the person once, or finish (all shipped / one failed).
import type { Stage, BlockedReason } from '../../domain/task.js';
import type { WaitingKind } from '../../domain/pipeline/types.js';
import type { DemoTask } from './tasks.js';

export interface DemoTaskFacts {
  id?: string | undefined;
  stage?: Stage | undefined;
  blockedReason?: BlockedReason | null | undefined;
  waiting?: WaitingKind | null | undefined;
}

export interface DemoFacts {
  tasks: readonly DemoTask[];
  facts: Readonly<Record<string, DemoTaskFacts>>;
  exitWhenDone: boolean;
  /** Keys already approved by the demo or already pointed out to the person. */
  handled: ReadonlySet<string>;
}

export type DemoMove =
  | { type: 'submit'; key: string }
  | { type: 'approve'; key: string }
  | { type: 'ask_person'; key: string }
  | { type: 'failed'; key: string; stage: Stage }
  | { type: 'finished' };

const FAILED: ReadonlySet<Stage> = new Set(['failed', 'cancelled', 'dead_letter']);

export function decideDemo(f: DemoFacts): DemoMove[] {
  const moves: DemoMove[] = [];
  const fact = (k: string): DemoTaskFacts => f.facts[k] ?? {};
  for (const t of f.tasks) {
    const s = fact(t.key);
    if (s.stage && FAILED.has(s.stage)) return [{ type: 'failed', key: t.key, stage: s.stage }];
  }
  for (const t of f.tasks) {
    const s = fact(t.key);
    if (!s.id) {
      const gate = t.submitWhenParked;
      const ready = !gate || fact(gate).waiting != null || fact(gate).stage === 'shipped';
      if (ready && t.after.every((k) => fact(k).id)) moves.push({ type: 'submit', key: t.key });
      continue;
    }
    // Only once the lease is released (blocked/awaiting_human): an answer then always re-queues the task.
    const parked = s.waiting === 'approval' && s.stage === 'blocked' && s.blockedReason === 'awaiting_human';
    if (!parked || f.handled.has(t.key)) continue;
    if (!f.exitWhenDone) moves.push({ type: 'ask_person', key: t.key });
    else if ((t.approveAfterShipped ?? []).every((k) => fact(k).stage === 'shipped')) moves.push({ type: 'approve', key: t.key });
  }
  if (f.tasks.every((t) => fact(t.key).stage === 'shipped')) moves.push({ type: 'finished' });
  return moves;
}
