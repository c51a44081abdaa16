// One task: what it is, where it stands, what happened (live), and what a person can do about it.
import { useEffect, useState } from 'react';
import { ApiError } from '../api/client.js';
import type { Task } from '../api/types.js';
import { useLive, useSession } from '../live/context.js';
import { needOf } from '../model/board.js';
import { stageLabel } from '../ui/format.js';
import { Link } from '../ui/router.js';
import { Checkpoints } from './task/Checkpoints.js';
import { Facts } from './task/Facts.js';
import { History } from './task/History.js';
import { OperatorActions } from './task/OperatorActions.js';
import { Pipeline } from './task/Pipeline.js';
import { Sessions } from './task/Sessions.js';
import { useTaskEvents } from './task/useTaskEvents.js';

export function TaskPage({ id }: { id: string }) {
  const { api, live } = useSession();
  const { tasks, parks, notifications } = useLive();
  const [fetched, setFetched] = useState<Task | null>(null);
  const [missing, setMissing] = useState<string | null>(null);
  const task = tasks.get(id) ?? fetched;
  const events = useTaskEvents(id);

  useEffect(() => {
    setMissing(null);
    if (tasks.has(id)) return;
    api.task(id).then(setFetched, (e: unknown) => setMissing(e instanceof ApiError && e.status === 404 ? `No task ${id}.` : String((e as Error).message)));
    // Old terminal tasks are not on the board: refetch on their own events.
    return live.onEvent((e) => {
      if (e.taskId === id) void api.task(id).then(setFetched, () => {});
    });
  }, [api, live, id, tasks.has(id)]);

  if (missing) {
    return (
      <div className="empty">
        <h2>{missing}</h2>
        <Link href="/">Back to the board</Link>
      </div>
    );
  }
  if (!task) return <p className="muted">Loading {id}…</p>;
  const need = needOf({ task, parkReason: parks.get(id) ?? null, notifications: notifications.filter((n) => n.taskId === id && n.state !== 'resolved') });
  return (
    <article className="task-page" data-testid="task-page" data-stage={task.stage}>
      <nav className="crumbs">
        <Link href="/">Board</Link> / <code>{task.id}</code>
      </nav>
      <header className="task-head">
        <h1>{task.title}</h1>
        <div className="task-badges">
          <span className={`stage-chip s-${task.stage}`} data-testid="task-stage">
            {stageLabel(task.stage)}
          </span>
          {task.blockedReason && task.stage === 'blocked' && <span className="chip">{task.blockedReason.replace('_', ' ')}</span>}
          {task.quarantined && <span className="chip bad">quarantined</span>}
          {need && <span className={`chip need-${need.kind}`}>Needs you: {need.label}</span>}
        </div>
      </header>
      {task.failureKind && (
        <p className="banner bad" role="status">
          <strong>{task.failureKind.replace('_', ' ')}</strong> {task.failureMessage}
        </p>
      )}
      <div className="task-grid">
        <div className="task-main">
          <Pipeline task={task} events={events} />
          <OperatorActions task={task} />
          <Checkpoints task={task} events={events} />
          <History events={events} />
          <Sessions task={task} events={events} />
          {task.body && (
            <details className="panel">
              <summary>Brief</summary>
              <pre className="brief">{task.body}</pre>
            </details>
          )}
        </div>
        <aside className="task-side">
          <Facts task={task} />
        </aside>
      </div>
    </article>
  );
}
