// The task's facts: pipeline, agent, priority, attempts, lease, checkpoint, dependencies, times.
import type { ReactNode } from 'react';
import type { Task } from '../../api/types.js';
import { ago, clock } from '../../ui/format.js';
import { Link } from '../../ui/router.js';

export function Facts({ task }: { task: Task }) {
  const rows: Array<[string, ReactNode]> = [
    ['Pipeline', task.pipeline],
    ['Agent', task.agent ?? 'project default'],
    ['Priority', task.priority],
    ['Attempts', `${task.attempts} of ${task.maxAttempts}`],
    ['Lease', task.leaseFactoryId ? `${task.leaseFactoryId} · epoch ${task.leaseEpoch}${task.leaseExpiresAt ? ` · until ${clock(task.leaseExpiresAt)}` : ''}` : `not held · epoch ${task.leaseEpoch}`],
    ['Checkpoint', task.checkpoint ? <code title={task.checkpoint.ref}>{task.checkpoint.sha.slice(0, 10)}</code> : '—'],
    ['Capabilities', task.capabilities.length ? task.capabilities.join(', ') : '—'],
    [
      'After',
      task.after.length
        ? task.after.map((a, i) => (
            <span key={a}>
              {i > 0 && ', '}
              <Link href={`/tasks/${encodeURIComponent(a)}`}>{a}</Link>
            </span>
          ))
        : '—',
    ],
    ['Created', ago(task.createdAt)],
    ['Updated', ago(task.updatedAt)],
  ];
  return (
    <dl className="facts panel">
      {rows.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

