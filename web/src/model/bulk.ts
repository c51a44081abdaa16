// Bulk actions on selected board cards: only the operator actions that are safe to apply to many
// tasks at once (cancel, requeue), each applying only to the stages the task page offers it for.
// Pure; table-tested in test/web/board-model.test.ts.
import type { OperatorAction, Task } from '../api/types.js';

export const BULK_ACTIONS: ReadonlyArray<{ action: OperatorAction; label: string; danger?: boolean; explain: string; applies(t: Task): boolean }> = [
  {
    action: 'requeue',
    label: 'Requeue',
    explain: 'Puts each task back in the queue. A factory holding one is fenced off; its checkpoint is kept so the next run resumes.',
    applies: (t) => t.stage !== 'shipped' && t.stage !== 'queued',
  },
  {
    action: 'cancel',
    label: 'Cancel',
    danger: true,
    explain: 'Stops each task. A factory holding one is fenced off and its work is checkpointed.',
    applies: (t) => !['shipped', 'failed', 'cancelled', 'dead_letter'].includes(t.stage),
  },
];

/** Which selected tasks an action applies to, and which it skips (and is not sent for). */
export function bulkEligible(action: OperatorAction, tasks: readonly Task[]): { eligible: Task[]; skipped: Task[] } {
  const b = BULK_ACTIONS.find((x) => x.action === action);
  if (!b) return { eligible: [], skipped: [...tasks] };
  return { eligible: tasks.filter((t) => b.applies(t)), skipped: tasks.filter((t) => !b.applies(t)) };
}
