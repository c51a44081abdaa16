// The board: "Needs you" first, then one column per stage. Live: cards move as events arrive.
import { memo, useCallback, useEffect, useMemo, useState } from 'react';
import type { Notification, OperatorAction, Project, Task } from '../api/types.js';
import { useLive, useSession } from '../live/context.js';
import { bulkEligible, BULK_ACTIONS } from '../model/bulk.js';
import { boardView, COLUMNS, elapsedOf, SORTS, type BoardCard, type ColumnId, type SortKey } from '../model/board.js';
import { ConfirmDialog, type ConfirmSpec } from '../ui/Confirm.js';
import { ago, duration, money, stageLabel } from '../ui/format.js';
import { Link } from '../ui/router.js';

export function Board({ onNew }: { onNew(): void }) {
  const { api, live } = useSession();
  const { tasks, facts, loaded, error, parks, notifications } = useLive();
  const [projects, setProjects] = useState<Project[]>([]);
  const [project, setProject] = useState<string>('');
  const [agent, setAgent] = useState<string>('');
  const [text, setText] = useState('');
  const [stage, setStage] = useState<ColumnId | ''>('');
  const [sort, setSort] = useState<SortKey>('board');
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [spec, setSpec] = useState<ConfirmSpec | null>(null);
  const canAct = live.has('POST /api/fleet/jobs/{id}/actions/{action}');
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
  // Sorting by elapsed time re-sorts as time passes; any other order ignores the clock.
  const sortTick = sort === 'elapsed' ? tick : 0;
  const view = useMemo(
    () =>
      boardView(tasks.values(), (t) => ({ parkReason: parks.get(t.id) ?? null, notifications: byTask.get(t.id) ?? [], facts: facts.get(t.id) ?? null }), {
        project: project || null,
        agent: agent || null,
        text,
        stage: stage || null,
        sort,
      }),
    [tasks, facts, parks, byTask, project, agent, text, stage, sort, sortTick],
  );
  const toggle = useCallback((id: string, on: boolean) => setSelected((s) => { const n = new Set(s); if (on) n.add(id); else n.delete(id); return n; }), []);
  // A selected task that left the board is no longer selected.
  const chosen = useMemo(() => [...selected].map((id) => tasks.get(id)).filter((t): t is Task => !!t), [selected, tasks]);
  const bulk = (action: OperatorAction) => {
    const { eligible, skipped } = bulkEligible(action, chosen);
    const meta = BULK_ACTIONS.find((b) => b.action === action)!;
    setSpec({
      title: `${meta.label} ${eligible.length} ${eligible.length === 1 ? 'task' : 'tasks'}?`,
      body: (
        <>
          <p>{meta.explain}</p>
          {skipped.length > 0 && <p className="muted">{skipped.length} selected {skipped.length === 1 ? 'task is' : 'tasks are'} skipped: {meta.label.toLowerCase()} does not apply to {skipped.map((t) => stageLabel(t.stage)).filter((v, i, a) => a.indexOf(v) === i).join(', ')}.</p>}
        </>
      ),
      confirmLabel: `${meta.label} ${eligible.length}`,
      ...(meta.danger ? { danger: true } : {}),
      run: async () => {
        const failed: string[] = [];
        // One by one through the same API as the task page; every task still decides alone.
        for (const t of eligible) {
          await api.operatorAction(t.id, action).then(
            () => live.refreshTask(t.id),
            (e: unknown) => failed.push(`${t.id}: ${(e as Error).message}`),
          );
        }
        setSelected(new Set());
        if (failed.length) throw new Error(`${failed.length} failed — ${failed.join('; ')}`);
      },
    });
  };
  const agents = useMemo(() => [...new Set([...tasks.values()].map((t) => t.agent).filter((a): a is string => !!a))].sort(), [tasks]);
  const projectName = useMemo(() => new Map(projects.map((p) => [p.id, p.name])), [projects]);

  const spendFor = project || (projects.length === 1 ? projects[0]!.id : '');

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
        <select aria-label="Stage" value={stage} onChange={(e) => setStage(e.target.value as ColumnId | '')}>
          <option value="">All stages</option>
          {COLUMNS.map((c) => (
            <option key={c.id} value={c.id}>
              {c.title}
            </option>
          ))}
        </select>
        <select aria-label="Sort" value={sort} onChange={(e) => setSort(e.target.value as SortKey)}>
          {SORTS.map((o) => (
            <option key={o.id} value={o.id}>
              {o.label}
            </option>
          ))}
        </select>
        {spendFor && (
          <Link href={`/projects/${encodeURIComponent(spendFor)}`} data-testid="project-spend-link">
            Spend of {projectName.get(spendFor) ?? spendFor}
          </Link>
        )}
        <span className="muted count">{tasks.size} tasks</span>
        <button type="button" className="primary" onClick={onNew} aria-keyshortcuts="n" title="New task (n)">
          New task
        </button>
      </div>
      {canAct && chosen.length > 0 && (
        <div className="bulk-bar" role="region" aria-label="Selected tasks" data-testid="bulk-bar">
          <strong>{chosen.length} selected</strong>
          {BULK_ACTIONS.map((b) => (
            <button key={b.action} type="button" className={b.danger ? 'danger-outline' : undefined} disabled={bulkEligible(b.action, chosen).eligible.length === 0} onClick={() => bulk(b.action)}>
              {b.label}…
            </button>
          ))}
          <button type="button" onClick={() => setSelected(new Set())}>
            Clear
          </button>
        </div>
      )}
      {spec && <ConfirmDialog spec={spec} onClose={() => setSpec(null)} />}
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
                    <Card card={c} project={projectName.get(c.task.projectId)} tick={tick} selectable={canAct} selected={selected.has(c.task.id)} onSelect={toggle} />
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
                      <Card card={c} project={projectName.get(c.task.projectId)} tick={tick} selectable={canAct} selected={selected.has(c.task.id)} onSelect={toggle} />
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
  selectable: boolean;
  selected: boolean;
  onSelect(id: string, on: boolean): void;
}

const sameCard = (a: CardProps, b: CardProps): boolean =>
  a.card.task === b.card.task &&
  a.card.facts === b.card.facts &&
  a.card.need?.kind === b.card.need?.kind &&
  a.card.need?.detail === b.card.need?.detail &&
  a.project === b.project &&
  a.tick === b.tick &&
  a.selectable === b.selectable &&
  a.selected === b.selected;

const Card = memo(function Card({ card, project, selectable, selected, onSelect }: CardProps) {
  const t: Task = card.task;
  return (
    <div className={`card-wrap${selectable ? ' selectable' : ''}`}>
      {selectable && <input type="checkbox" className="card-select" aria-label={`Select ${t.id}`} checked={selected} onChange={(e) => onSelect(t.id, e.target.checked)} />}
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
      {card.facts && <CardFactsLine task={t} f={card.facts} />}
    </Link>
      {card.facts?.prUrl && (
        <a className="card-pr" href={card.facts.prUrl} target="_blank" rel="noreferrer noopener" data-testid="card-pr">
          PR ↗
        </a>
      )}
    </div>
  );
}, sameCard);

/** The card's facts: step and attempt, elapsed, ±lines, cost, merge SHA, why a queued task waits. */
function CardFactsLine({ task, f }: { task: Task; f: NonNullable<BoardCard['facts']> }) {
  const elapsed = elapsedOf(f, Date.now());
  const u = f.usage;
  return (
    <span className="card-facts" data-testid="card-facts">
      {f.step && (
        <span className="fact-step" title={`${f.step.kind} step, ${f.step.state}`} data-fact="step">
          {f.step.id}
          {f.step.attempt > 1 && ` · attempt ${f.step.attempt}`}
        </span>
      )}
      {elapsed !== null && (
        <span title={f.finishedAt ? 'the run took' : 'the run has been going for'} data-fact="elapsed">
          {f.finishedAt ? `took ${duration(elapsed)}` : `${duration(elapsed)} so far`}
        </span>
      )}
      {f.lines && (
        <span title="lines added and removed over the task's checkpoints" data-fact="lines">
          <span className="add">+{f.lines.added}</span> <span className="del">−{f.lines.removed}</span>
        </span>
      )}
      {u.turns > 0 && (
        <span title={`${u.tokensIn + u.tokensOut} tokens over ${u.turns} agent turns`} data-fact="cost">
          {u.costUsd === null ? 'cost unknown' : `${u.costKnown ? '' : '≥ '}${money(u.costUsd)}`}
        </span>
      )}
      {f.mergeSha && (
        <code title={`merged as ${f.mergeSha}`} data-fact="merge">
          merged {f.mergeSha.slice(0, 8)}
        </code>
      )}
      {task.stage === 'queued' && f.waiting && (
        <span className="fact-waiting" data-fact="waiting">
          waiting: {f.waiting.message}
        </span>
      )}
    </span>
  );
}

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
