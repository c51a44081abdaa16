// The board: "Needs you" first, then one column per stage. Live: cards move as events arrive.
import { memo, useEffect, useMemo, useState } from 'react';
import type { Notification, Project, Task } from '../api/types.js';
import { useLive, useSession } from '../live/context.js';
import { boardView, COLUMNS, type BoardCard } from '../model/board.js';
import { ago, stageLabel } from '../ui/format.js';
import { Link } from '../ui/router.js';

export function Board({ onNew }: { onNew(): void }) {
  const { api } = useSession();
  const { tasks, loaded, error, parks, notifications } = useLive();
  const [projects, setProjects] = useState<Project[]>([]);
  const [project, setProject] = useState<string>('');
  const [agent, setAgent] = useState<string>('');
  const [text, setText] = useState('');
  // Ages ("4m ago") refresh twice a minute; otherwise a card re-renders only when its task changes.
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const t = setInterval(() => setTick((n) => n + 1), 30_000);
    return () => clearInterval(t);
  }, []);
  useEffect(() => {
    api.projects().then(setProjects, () => setProjects([]));
  }, [api]);

  const byTask = useMemo(() => {
    const m = new Map<string, Notification[]>();
    for (const n of notifications) if (n.taskId && n.state !== 'resolved') m.set(n.taskId, [...(m.get(n.taskId) ?? []), n]);
    return m;
  }, [notifications]);
  const view = useMemo(
    () => boardView(tasks.values(), (t) => ({ parkReason: parks.get(t.id) ?? null, notifications: byTask.get(t.id) ?? [] }), { project: project || null, agent: agent || null, text }),
    [tasks, parks, byTask, project, agent, text],
  );
  const agents = useMemo(() => [...new Set([...tasks.values()].map((t) => t.agent).filter((a): a is string => !!a))].sort(), [tasks]);
  const projectName = useMemo(() => new Map(projects.map((p) => [p.id, p.name])), [projects]);

  if (!loaded) return <p className="muted">{error ? `Could not load the board: ${error}` : 'Loading the board…'}</p>;
  return (
    <div className="board-page">
      <div className="toolbar">
        <h1>Board</h1>
        <input type="search" aria-label="Filter tasks" placeholder="Filter by title or id" value={text} onChange={(e) => setText(e.target.value)} />
        {projects.length > 1 && (
          <select aria-label="Project" value={project} onChange={(e) => setProject(e.target.value)}>
            <option value="">All projects</option>
            {projects.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
        )}
        {agents.length > 1 && (
          <select aria-label="Agent" value={agent} onChange={(e) => setAgent(e.target.value)}>
            <option value="">All agents</option>
            {agents.map((a) => (
              <option key={a} value={a}>
                {a}
              </option>
            ))}
          </select>
        )}
        <span className="muted count">{tasks.size} tasks</span>
        <button type="button" className="primary" onClick={onNew} aria-keyshortcuts="n" title="New task (n)">
          New task
        </button>
      </div>
      {tasks.size === 0 ? (
        <Empty hasProjects={projects.length > 0} />
      ) : (
        <>
          <section className="needs" aria-labelledby="needs-title" data-testid="needs-you">
            <h2 id="needs-title">
              Needs you <span className="pill">{view.needs.length}</span>
            </h2>
            {view.needs.length === 0 ? (
              <p className="muted empty-lane">Nothing waits on you. Questions, approvals, review caps, merge reviews and failures show up here.</p>
            ) : (
              <ul className="needs-list">
                {view.needs.map((c) => (
                  <li key={c.task.id}>
                    <Card card={c} project={projectName.get(c.task.projectId)} tick={tick} />
                  </li>
                ))}
              </ul>
            )}
          </section>
          <div className="columns">
            {COLUMNS.map((col) => (
              <section key={col.id} className={`column col-${col.id}`} aria-labelledby={`col-${col.id}`} data-testid={`column-${col.id}`}>
                <h2 id={`col-${col.id}`}>
                  {col.title} <span className="pill">{view.columns[col.id].length}</span>
                </h2>
                <ul>
                  {view.columns[col.id].map((c) => (
                    <li key={c.task.id}>
                      <Card card={c} project={projectName.get(c.task.projectId)} tick={tick} />
                    </li>
                  ))}
                </ul>
              </section>
            ))}
          </div>
        </>
      )}
    </div>
  );
}

/** Re-renders only when its task row or its need changes: a board event touches one card, not 200. */
interface CardProps {
  card: BoardCard;
  project: string | undefined;
  tick: number;
}

const sameCard = (a: CardProps, b: CardProps): boolean =>
  a.card.task === b.card.task && a.card.need?.kind === b.card.need?.kind && a.card.need?.detail === b.card.need?.detail && a.project === b.project && a.tick === b.tick;

const Card = memo(function Card({ card, project }: CardProps) {
  const t: Task = card.task;
  return (
    <Link href={`/tasks/${encodeURIComponent(t.id)}`} className={`card stage-${t.stage}${card.need ? ` need need-${card.need.kind}` : ''}`} data-task={t.id} data-stage={t.stage}>
      {card.need && <span className="need-label">{card.need.label}</span>}
      <span className="card-title">{t.title}</span>
      <span className="card-meta">
        <code>{t.id}</code>
        <span className={`stage-chip s-${t.stage}`}>{stageLabel(t.stage)}</span>
        {t.blockedReason && t.stage === 'blocked' && <span className="muted">{t.blockedReason.replace('_', ' ')}</span>}
        {t.priority !== 0 && <span title="priority">P{t.priority}</span>}
        {t.attempts > 0 && <span title="attempts">↻{t.attempts}</span>}
        {t.agent && <span className="muted" title="agent">{t.agent}</span>}
        {project && <span className="muted">{project}</span>}
        <span className="muted" title={new Date(t.updatedAt).toLocaleString()}>
          {ago(t.updatedAt)}
        </span>
      </span>
      {card.need?.detail && <span className="card-detail">{card.need.detail}</span>}
    </Link>
  );
}, sameCard);

function Empty({ hasProjects }: { hasProjects: boolean }) {
  return (
    <div className="empty">
      <h2>No tasks yet</h2>
      {hasProjects ? (
        <p>
          Submit one from your repository: <code>gantry add "Fix the flaky login test"</code>
        </p>
      ) : (
        <p>
          Register a repository first: run <code>gantry init</code> in it, then <code>gantry add "title"</code>.
        </p>
      )}
      <p className="muted">Cards appear here the moment they are submitted.</p>
    </div>
  );
}
