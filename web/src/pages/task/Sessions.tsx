// Agent sessions of a task: status, live transcript, lifecycle events, and messaging a live agent.
import { useCallback, useEffect, useMemo, useState } from 'react';
import type { GantryEvent, Session, Task } from '../../api/types.js';
import { useSession } from '../../live/context.js';
import { sessionRows } from '../../model/sessions.js';
import { eventTone, summarize } from '../../../../src/domain/event-summary.js';
import { ConfirmDialog, type ConfirmSpec } from '../../ui/Confirm.js';
import { ago, clock } from '../../ui/format.js';
import { SessionTranscript } from './SessionTranscript.js';

/** Agent sessions of the task, each with its live transcript, and their lifecycle events. */
export function Sessions({ task, events }: { task: Task; events: GantryEvent[] | null }) {
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
