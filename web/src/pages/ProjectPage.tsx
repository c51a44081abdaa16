// A project's spend: the total, a bar per day (UTC) over the days it spent, and its tasks by cost.
// Refetched when one of its agent turns finishes (a `session.finished` event).
import { useEffect, useState } from 'react';
import { ApiError } from '../api/client.js';
import type { ProjectSpend, Usage } from '../api/types.js';
import { useLive, useSession } from '../live/context.js';
import { money, stageLabel } from '../ui/format.js';
import { Link } from '../ui/router.js';

const cost = (u: Usage): string => (u.costUsd === null ? 'unknown' : `${u.costKnown ? '' : '≥ '}${money(u.costUsd)}`);
const tokens = (u: Usage): number => u.tokensIn + u.tokensOut;
const dayLabel = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

export function ProjectPage({ id }: { id: string }) {
  const { api, live } = useSession();
  const { tasks } = useLive();
  const [spend, setSpend] = useState<ProjectSpend | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [version, setVersion] = useState(0);
  useEffect(
    () =>
      live.onEvent((e) => {
        if (e.type === 'session.finished' && e.taskId && tasks.get(e.taskId)?.projectId === spend?.project.id) setVersion((v) => v + 1);
      }),
    [live, tasks, spend?.project.id],
  );
  useEffect(() => {
    api.projectSpend(id).then(
      (s) => (setSpend(s), setError(null)),
      (e: unknown) => setError(e instanceof ApiError && e.status === 404 ? `No project ${id}.` : (e as Error).message),
    );
  }, [api, id, version]);
  if (error) {
    return (
      <div className="empty">
        <h2>{error}</h2>
        <Link href="/">Back to the board</Link>
      </div>
    );
  }
  if (!spend) return <p className="muted">Loading the project…</p>;
  const max = Math.max(0, ...spend.days.map((d) => d.usage.costUsd ?? 0));
  return (
    <article className="project-page" data-testid="project-page">
      <nav className="crumbs">
        <Link href="/">Board</Link> / {spend.project.name}
      </nav>
      <h1>{spend.project.name}</h1>
      <dl className="spend-totals" data-testid="project-total">
        <div>
          <dt>Spent</dt>
          <dd data-fact="cost">{spend.total.turns ? cost(spend.total) : '$0.00'}</dd>
        </div>
        <div>
          <dt>Tokens</dt>
          <dd>{tokens(spend.total)}</dd>
        </div>
        <div>
          <dt>Agent turns</dt>
          <dd>{spend.total.turns}</dd>
        </div>
        <div>
          <dt>Tasks that spent</dt>
          <dd>{spend.tasks.length}</dd>
        </div>
      </dl>
      <section className="panel" aria-labelledby="spend-days">
        <h2 id="spend-days">Spend per day (UTC)</h2>
        {spend.days.length === 0 ? (
          <p className="muted">No agent turn has finished in this project yet.</p>
        ) : (
          <ol className="spend-chart" data-testid="spend-chart">
            {spend.days.map((d) => (
              <li key={d.day} data-day={dayLabel(d.day)} title={`${dayLabel(d.day)}: ${cost(d.usage)}, ${tokens(d.usage)} tokens`}>
                <span className="bar" style={{ height: `${max > 0 ? Math.max(2, ((d.usage.costUsd ?? 0) / max) * 100) : 2}%` }} aria-hidden="true" />
                <span className="bar-cost">{d.usage.turns ? cost(d.usage) : '—'}</span>
                <span className="bar-day muted">{dayLabel(d.day).slice(5)}</span>
              </li>
            ))}
          </ol>
        )}
      </section>
      <section className="panel" aria-labelledby="spend-tasks">
        <h2 id="spend-tasks">Tasks by cost</h2>
        {spend.tasks.length === 0 ? (
          <p className="muted">No task has spent anything yet.</p>
        ) : (
          <div className="table-scroll">
            <table className="spend-tasks">
              <thead>
                <tr>
                  <th scope="col">Task</th>
                  <th scope="col">Stage</th>
                  <th scope="col">Cost</th>
                  <th scope="col">Tokens</th>
                </tr>
              </thead>
              <tbody>
                {spend.tasks.map((t) => (
                  <tr key={t.id} data-task-row={t.id}>
                    <td>
                      <Link href={`/tasks/${encodeURIComponent(t.id)}`}>{t.title}</Link>
                    </td>
                    <td>{stageLabel(t.stage)}</td>
                    <td data-fact="cost">{cost(t.usage)}</td>
                    <td>{tokens(t.usage)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </article>
  );
}
