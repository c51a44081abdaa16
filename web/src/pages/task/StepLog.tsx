// A checks step as a CI run view: each round an attempt (a red round a fixer repaired stays listed),
// each check with its command, exit code and duration, and its full log with line numbers, search
// and download.
import { useEffect, useMemo, useState } from 'react';
import type { CheckRound, CheckRun, Task } from '../../api/types.js';
import { useSession } from '../../live/context.js';
import { logLines } from '../../model/log-view.js';
import { duration } from '../../ui/format.js';

export function CheckRounds({ task, step, rounds }: { task: Task; step: string; rounds: CheckRound[] }) {
  return (
    <ol className="rounds" data-testid="step-log">
      {rounds.map((r, i) => (
        <li key={r.round} className={r.ok ? 'round-ok' : 'round-bad'} data-round={r.round} data-ok={r.ok}>
          <div className="round-head">
            <strong>Attempt {i + 1}</strong> <span className={r.ok ? 'add' : 'del'}>{r.ok ? 'passed' : 'failed'}</span>
            {r.fixer && <span className="muted"> · after a fix ({r.fixer})</span>}
          </div>
          <ul className="check-runs">
            {r.results.map((c) => (
              <CheckItem key={c.name} task={task} step={step} round={r.round} check={c} />
            ))}
          </ul>
        </li>
      ))}
    </ol>
  );
}

function CheckItem({ task, step, round, check }: { task: Task; step: string; round: number; check: CheckRun }) {
  const [open, setOpen] = useState(false);
  return (
    <li data-check={check.name}>
      <details onToggle={(e) => setOpen((e.target as HTMLDetailsElement).open)}>
        <summary>
          <span className={check.ok ? 'add' : 'del'} aria-hidden="true">
            {check.ok ? '✓' : '✕'}
          </span>{' '}
          <strong>{check.name}</strong> {check.command && <code className="check-cmd">{check.command}</code>}{' '}
          <span className="muted">
            exit {check.exitCode ?? '—'}
            {check.timedOut ? ' (timed out)' : ''} · {duration(check.durationMs)}
          </span>
        </summary>
        {open && <LogView task={task} step={step} round={round} check={check} />}
      </details>
    </li>
  );
}

function LogView({ task, step, round, check }: { task: Task; step: string; round: number; check: CheckRun }) {
  const { api } = useSession();
  const [text, setText] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [query, setQuery] = useState('');
  useEffect(() => {
    api.checkLog(task.id, step, round, check.name).then(setText, () => {
      setText(check.tail);
      setNote('The full log is on the factory that ran the checks; this is its end.');
    });
  }, [api, task.id, step, round, check.name, check.tail]);
  const view = useMemo(() => logLines(text ?? '', query), [text, query]);
  const href = useMemo(() => (text === null ? null : URL.createObjectURL(new Blob([text], { type: 'text/plain' }))), [text]);
  useEffect(() => () => void (href && URL.revokeObjectURL(href)), [href]);
  if (text === null) return <p className="muted">Loading the log…</p>;
  return (
    <div className="log-view">
      <div className="log-tools">
        <input type="search" aria-label={`Search the ${check.name} log`} placeholder="Search the log" value={query} onChange={(e) => setQuery(e.target.value)} />
        {query.trim() && <span className="muted">{view.matches} matching lines</span>}
        {href && (
          <a href={href} download={`${task.id}-${step}-attempt${round + 1}-${check.name}.log`}>
            Download
          </a>
        )}
      </div>
      {note && <p className="muted">{note}</p>}
      <ol className="log-lines" aria-label={`${check.name} log`}>
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
