// A step as a CI run view: its attempts (checks rounds with the fixer before each, agent sessions,
// review rounds), each item with its command or agent, exit code and duration, and its log with line
// numbers, search and download — streamed while it runs (polled by byte offset until the server says
// the log is done).
import { useEffect, useMemo, useRef, useState } from 'react';
import type { Attempt, AttemptItem, LogRef, Task } from '../../api/types.js';
import { useSession } from '../../live/context.js';
import { logLines } from '../../model/log-view.js';
import { duration, money } from '../../ui/format.js';

/** How often a running log is polled for more. */
const POLL_MS = 700;

export function StepAttempts({ task, step, version }: { task: Task; step: string; version: string }) {
  const { api } = useSession();
  const [attempts, setAttempts] = useState<Attempt[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let gone = false;
    api.stepAttempts(task.id, step).then(
      (r) => !gone && (setAttempts(r.attempts), setError(null)),
      (e: unknown) => !gone && setError((e as Error).message),
    );
    return () => void (gone = true);
  }, [api, task.id, step, version]);
  if (error && !attempts) return <p className="muted">{error}</p>;
  if (!attempts) return <p className="muted">Loading the attempts…</p>;
  if (attempts.length === 0) return <p className="muted">No attempt has run yet.</p>;
  return (
    <ol className="rounds" data-testid="step-log">
      {attempts.map((a) => {
        const round = a.items.find((i) => i.log.source === 'check')?.log;
        return (
          <li key={a.n} className={a.state === 'ok' ? 'round-ok' : a.state === 'failed' ? 'round-bad' : 'round-running'} data-attempt={a.n} data-state={a.state} {...(round?.source === 'check' ? { 'data-round': round.round } : {})} {...(a.state !== 'running' ? { 'data-ok': a.state === 'ok' } : {})}>
            <div className="round-head">
              <strong>Attempt {a.n}</strong> <span className={a.state === 'ok' ? 'add' : a.state === 'failed' ? 'del' : 'muted'}>{a.state === 'ok' ? 'passed' : a.state === 'failed' ? 'failed' : 'running…'}</span>
            </div>
            <ul className="check-runs">
              {a.items.map((i) => (
                <Item key={i.log.source === 'check' ? `c:${i.log.round}:${i.log.check}` : `s:${i.log.session}`} task={task} step={step} item={i} />
              ))}
            </ul>
          </li>
        );
      })}
    </ol>
  );
}

const OK = new Set(['ok', 'done', 'completed', 'success']);

function Item({ task, step, item }: { task: Task; step: string; item: AttemptItem }) {
  const running = item.status === 'running';
  const [open, setOpen] = useState(false);
  const ok = OK.has(item.status);
  const dataKey = item.log.source === 'check' ? { 'data-check': item.name } : { 'data-session': item.log.session };
  return (
    <li {...dataKey} data-status={item.status}>
      <details onToggle={(e) => setOpen((e.target as HTMLDetailsElement).open)}>
        <summary>
          <span className={running ? 'muted' : ok ? 'add' : 'del'} aria-hidden="true">
            {running ? '◐' : ok ? '✓' : '✕'}
          </span>{' '}
          <strong>{item.name}</strong> {item.command && <code className="check-cmd">{item.command}</code>}
          {item.agent && <span className="muted"> ({item.agent})</span>}{' '}
          <span className="muted">
            {item.log.source === 'check' ? `exit ${item.exitCode ?? '—'}` : item.status}
            {item.status === 'timed out' ? ' (timed out)' : ''} · {running ? 'running' : duration(item.durationMs)}
            {item.usage && item.usage.costUsd !== null ? ` · ${money(item.usage.costUsd)}` : ''}
          </span>
        </summary>
        {open && <LiveLog task={task} step={step} name={item.name} logRef={item.log} running={running} />}
      </details>
    </li>
  );
}

function LiveLog({ task, step, name, logRef, running }: { task: Task; step: string; name: string; logRef: LogRef; running: boolean }) {
  const { api } = useSession();
  const [text, setText] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const [missing, setMissing] = useState<string | null>(null);
  const [query, setQuery] = useState('');
  const offset = useRef(0);
  // Keeps polling while the item runs; one more read once it stopped running drains the rest.
  const runningRef = useRef(running);
  runningRef.current = running;
  const refKey = logRef.source === 'check' ? `c:${logRef.round}:${logRef.check}` : `s:${logRef.session}`;
  useEffect(() => {
    let stop = false;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const pull = async (): Promise<void> => {
      try {
        for (;;) {
          const c = await api.stepLog(task.id, step, logRef, offset.current);
          if (stop) return;
          offset.current = c.next;
          if (c.text) setText((t) => (t ?? '') + c.text);
          else setText((t) => t ?? '');
          if (c.done) {
            setDone(true);
            return;
          }
          if (!c.text) break; // nothing new: wait before asking again
        }
      } catch {
        if (stop) return;
        if (offset.current === 0 && !runningRef.current) {
          setMissing('The log is on the host that ran this step.');
          setText((t) => t ?? '');
          return;
        }
      }
      timer = setTimeout(() => void pull(), POLL_MS);
    };
    void pull();
    return () => {
      stop = true;
      if (timer) clearTimeout(timer);
    };
    // logRef is identified by refKey (a new object with the same key must not restart the stream).
  }, [api, task.id, step, refKey]);
  const view = useMemo(() => logLines(text ?? '', query), [text, query]);
  const href = useMemo(() => (text === null || !done ? null : URL.createObjectURL(new Blob([text], { type: 'text/plain' }))), [text, done]);
  useEffect(() => () => void (href && URL.revokeObjectURL(href)), [href]);
  if (text === null) return <p className="muted">Loading the log…</p>;
  const file = `${task.id}-${step}-${logRef.source === 'check' ? `attempt${logRef.round + 1}-${logRef.check}` : logRef.session.replace(/[^\w.-]/g, '_')}.log`;
  return (
    <div className="log-view" data-live={done ? 'done' : 'streaming'}>
      <div className="log-tools">
        <input type="search" aria-label={`Search the ${name} log`} placeholder="Search the log" value={query} onChange={(e) => setQuery(e.target.value)} />
        {query.trim() && <span className="muted">{view.matches} matching lines</span>}
        {!done && !missing && <span className="muted live-dot">streaming…</span>}
        {href && (
          <a href={href} download={file}>
            Download
          </a>
        )}
      </div>
      {missing && <p className="muted">{missing}</p>}
      <ol className="log-lines" aria-label={`${name} log`}>
        {view.lines.map((l) => (
          <li key={l.n} className={l.match ? 'hit' : undefined} data-line={l.n}>
            <span className="ln" aria-hidden="true">
              {l.n}
            </span>
            <span className="lt">{l.text}</span>
          </li>
        ))}
      </ol>
    </div>
  );
}
