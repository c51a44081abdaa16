// One task: what it is, where it stands, what happened (live), and what a person can do about it.
import { useCallback, useEffect, useMemo, useState, type ReactNode } from 'react';
import { ApiError } from '../api/client.js';
import type { GantryEvent, OperatorAction, Session, Task } from '../api/types.js';
import { useLive, useSession } from '../live/context.js';
import { needOf } from '../model/board.js';
import { eventTone, summarize } from '../../../src/domain/event-summary.js';
import { ConfirmDialog, type ConfirmSpec } from '../ui/Confirm.js';
import { ago, clock, stageLabel } from '../ui/format.js';
import { Link } from '../ui/router.js';
import { Checkpoints } from './task/Checkpoints.js';
import { Pipeline } from './task/Pipeline.js';
import { SessionTranscript } from './task/SessionTranscript.js';

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
          <Actions task={task} />
          <Checkpoints task={task} events={events} />
          <History events={events} />
          <Transcript task={task} events={events} />
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

function Facts({ task }: { task: Task }) {
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

const OPERATOR: Array<{ action: OperatorAction; label: string; when(t: Task): boolean; danger?: boolean; explain: string }> = [
  { action: 'requeue', label: 'Requeue', when: (t) => t.stage !== 'shipped' && t.stage !== 'queued', explain: 'Puts the task back in the queue. A factory holding it is fenced off; its checkpoint is kept so the next run resumes.' },
  { action: 'ship', label: 'Mark shipped', when: (t) => t.stage !== 'shipped' && t.stage !== 'cancelled', explain: 'Records the task as shipped without running the rest of its pipeline. Tasks waiting on it are unblocked.' },
  { action: 'reject', label: 'Reject', danger: true, when: (t) => !['shipped', 'dead_letter', 'cancelled'].includes(t.stage), explain: 'Moves the task to the dead-letter stage. It will not run again unless requeued.' },
  { action: 'cancel', label: 'Cancel', danger: true, when: (t) => !['shipped', 'failed', 'cancelled', 'dead_letter'].includes(t.stage), explain: 'Stops the task. A factory holding it is fenced off and its work is checkpointed.' },
];

function Actions({ task }: { task: Task }) {
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

/** The task's event log, loaded once then appended live from the stream. */
function useTaskEvents(taskId: string): GantryEvent[] | null {
  const { api, live } = useSession();
  const [events, setEvents] = useState<GantryEvent[] | null>(null);
  useEffect(() => {
    let cancelled = false;
    const pending: GantryEvent[] = [];
    let loaded: GantryEvent[] | null = null;
    const merge = (list: GantryEvent[], more: GantryEvent[]) => {
      const last = list.length ? list[list.length - 1]!.seq : 0;
      return [...list, ...more.filter((e) => e.seq > last)];
    };
    const off = live.onEvent((e) => {
      if (e.taskId !== taskId) return;
      if (!loaded) pending.push(e);
      else setEvents((prev) => (loaded = merge(prev ?? [], [e])));
    });
    setEvents(null);
    api.taskEvents(taskId).then(
      (list) => {
        if (cancelled) return;
        loaded = merge(list, pending);
        setEvents(loaded);
      },
      () => !cancelled && setEvents([]),
    );
    return () => {
      cancelled = true;
      off();
    };
  }, [api, live, taskId]);
  return events;
}

/** Provisioning's per-step bookkeeping: kept in the log, folded away unless asked for. */
const DETAIL = /^(workspace\.step_(started|completed|skipped)|lease\.renewed)$/;

function History({ events }: { events: GantryEvent[] | null }) {
  const [all, setAll] = useState(false);
  const list = useMemo(() => (events ?? []).filter((e) => !e.sessionId), [events]);
  const shown = useMemo(() => (all ? list : list.filter((e) => !DETAIL.test(e.type)).slice(-40)), [list, all]);
  return (
    <section className="panel" aria-labelledby="history-title">
      <h2 id="history-title">History</h2>
      {events === null ? (
        <p className="muted">Loading…</p>
      ) : shown.length === 0 ? (
        <p className="muted">No events yet.</p>
      ) : (
        <ol className="timeline" data-testid="timeline">
          {shown.map((e) => (
            <li key={e.seq} className={`tone-${eventTone(e.type)}`}>
              <time dateTime={new Date(e.at).toISOString()}>{clock(e.at)}</time>
              <span className="ev-type">{e.type}</span>
              <span className="ev-sum">{summarize(e)}</span>
            </li>
          ))}
        </ol>
      )}
      {!all && shown.length < list.length && (
        <button type="button" className="ghost" onClick={() => setAll(true)}>
          Show all {list.length} events
        </button>
      )}
    </section>
  );
}

/** A session shown on the task page: a lifecycle record, or one the engine dispatched (from its event). */
interface SessionRow {
  id: string;
  agent: string;
  label: string | null;
  display: string;
  running: boolean;
  messageable: boolean;
  at: number;
}

const LEASED = new Set(['assigned', 'building', 'review', 'testing']);

/** Pure: lifecycle sessions plus the engine's dispatched sessions, newest first, each once. */
export function sessionRows(task: Task, sessions: readonly Session[], events: readonly GantryEvent[]): SessionRow[] {
  const rows = new Map<string, SessionRow>();
  const dispatched = events.filter((e) => e.type === 'session.dispatched' && e.sessionId);
  dispatched.forEach((e, i) => {
    const p = e.payload as { agent?: string; step?: string; role?: string };
    const running = i === dispatched.length - 1 && LEASED.has(task.stage);
    rows.set(e.sessionId!, { id: e.sessionId!, agent: p.agent ?? 'agent', label: [p.step, p.role].filter(Boolean).join(' · ') || null, display: running ? 'working' : 'finished', running, messageable: false, at: e.at });
  });
  for (const s of sessions) {
    const running = s.state !== 'done' && s.state !== 'terminated';
    rows.set(s.id, { id: s.id, agent: s.agent, label: rows.get(s.id)?.label ?? null, display: s.display, running, messageable: running, at: s.updatedAt });
  }
  return [...rows.values()].sort((a, b) => b.at - a.at);
}

/** Agent sessions of the task, each with its live transcript, and their lifecycle events. */
function Transcript({ task, events }: { task: Task; events: GantryEvent[] | null }) {
  const { api, live } = useSession();
  const [sessions, setSessions] = useState<Session[]>([]);
  const hasSessions = live.has('GET /api/sessions');
  const canMessage = live.has('POST /api/sessions/{id}/input');
  const canTranscript = live.has('GET /api/ui/sessions/{id}/transcript');
  const [spec, setSpec] = useState<ConfirmSpec | null>(null);
  const reload = useCallback(() => {
    if (hasSessions) api.sessions(task.id).then(setSessions, () => setSessions([]));
  }, [api, task.id, hasSessions]);
  useEffect(() => {
    reload();
    return live.onEvent((e) => {
      if (e.taskId === task.id && e.type.startsWith('session.')) reload();
    });
  }, [live, reload, task.id]);
  const lines = (events ?? []).filter((e) => e.sessionId);
  const rows = useMemo(() => sessionRows(task, sessions, events ?? []), [task, sessions, events]);
  return (
    <section className="panel" aria-labelledby="transcript-title" data-testid="sessions">
      <h2 id="transcript-title">Agent sessions</h2>
      {rows.length === 0 && <p className="muted">No agent has worked on this task yet. Its sessions, tool calls and messages appear here live.</p>}
      {rows.length > 0 && (
        <ul className="sessions">
          {rows.map((s, i) => (
            <li key={s.id} data-session={s.id}>
              <div className="session-head">
                <span>{s.agent}</span>
                {s.label && <span className="muted">{s.label}</span>}
                <span className={`chip sess-${s.display}`}>{s.display.replace('_', ' ')}</span>
                <code className="muted" title="session id">
                  {s.id}
                </code>
                <span className="muted"> {ago(s.at)}</span>
                {canMessage && s.messageable && (
                  <button
                    type="button"
                    className="small"
                    onClick={() =>
                      setSpec({
                        title: `Message ${s.agent}?`,
                        body: <p>The message is queued and delivered to the agent between turns (never while a permission prompt is open).</p>,
                        confirmLabel: 'Send',
                        input: { label: 'Message', multiline: true },
                        run: (text) => api.sendInput(s.id, text),
                      })
                    }
                  >
                    Message
                  </button>
                )}
              </div>
              {canTranscript && (
                <details className="session-log" open={i === 0}>
                  <summary>Transcript</summary>
                  <SessionTranscript sessionId={s.id} running={s.running} />
                </details>
              )}
            </li>
          ))}
        </ul>
      )}
      {lines.length > 0 && (
        <details className="session-events">
          <summary>Session events ({lines.length})</summary>
          <ol className="timeline">
            {lines.slice(-200).map((e) => (
              <li key={e.seq} className={`tone-${eventTone(e.type)}`}>
                <time>{clock(e.at)}</time> <span className="ev-type">{e.type}</span> <span className="ev-sum">{summarize(e)}</span>
              </li>
            ))}
          </ol>
        </details>
      )}
      {spec && <ConfirmDialog spec={spec} onClose={() => setSpec(null)} />}
    </section>
  );
}
