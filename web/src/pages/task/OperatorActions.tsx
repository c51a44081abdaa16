// The operator actions on a task (requeue, mark shipped, reject, cancel), each behind a dialog.
import { useState } from 'react';
import type { OperatorAction, Task } from '../../api/types.js';
import { useSession } from '../../live/context.js';
import { ConfirmDialog, type ConfirmSpec } from '../../ui/Confirm.js';

const OPERATOR: Array<{ action: OperatorAction; label: string; when(t: Task): boolean; danger?: boolean; explain: string }> = [
  { action: 'requeue', label: 'Requeue', when: (t) => t.stage !== 'shipped' && t.stage !== 'queued', explain: 'Puts the task back in the queue. A factory holding it is fenced off; its checkpoint is kept so the next run resumes.' },
  { action: 'ship', label: 'Mark shipped', when: (t) => t.stage !== 'shipped' && t.stage !== 'cancelled', explain: 'Records the task as shipped without running the rest of its pipeline. Tasks waiting on it are unblocked.' },
  { action: 'reject', label: 'Reject', danger: true, when: (t) => !['shipped', 'dead_letter', 'cancelled'].includes(t.stage), explain: 'Moves the task to the dead-letter stage. It will not run again unless requeued.' },
  { action: 'cancel', label: 'Cancel', danger: true, when: (t) => !['shipped', 'failed', 'cancelled', 'dead_letter'].includes(t.stage), explain: 'Stops the task. A factory holding it is fenced off and its work is checkpointed.' },
];

export function OperatorActions({ task }: { task: Task }) {
  const { api, live } = useSession();
  const [spec, setSpec] = useState<ConfirmSpec | null>(null);
  const hasOperator = live.has('POST /api/fleet/jobs/{id}/actions/{action}');
  const available = hasOperator ? OPERATOR.filter((o) => o.when(task)) : [];
  if (available.length === 0) return null;
  return (
    <section className="panel actions" aria-label="Actions">
      <h2>Actions</h2>
      <div className="action-row">
        {available.map((o) => (
          <button
            key={o.action}
            type="button"
            className={o.danger ? 'danger-outline' : undefined}
            data-action={o.action}
            onClick={() =>
              setSpec({
                title: `${o.label} ${task.id}?`,
                body: <p>{o.explain}</p>,
                confirmLabel: o.label,
                ...(o.danger ? { danger: true } : {}),
                input: { label: 'Reason (recorded in the event log)', optional: true },
                run: (text) => api.operatorAction(task.id, o.action, text || undefined).then(() => live.refreshTask(task.id)),
              })
            }
          >
            {o.label}
          </button>
        ))}
      </div>
      {spec && <ConfirmDialog spec={spec} onClose={() => setSpec(null)} />}
    </section>
  );
}

