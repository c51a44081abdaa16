// One agent session's live transcript: tool calls, messages and questions from its log, refreshed
// while the session runs (the log grows without events) and on its lifecycle events.
import { useEffect, useRef, useState } from 'react';
import { ApiError } from '../../api/client.js';
import type { Transcript } from '../../api/types.js';
import { useSession } from '../../live/context.js';

const POLL_MS = 1500;
const ICON = { tool: '⚙', message: '»', question: '?', turn: '—', error: '✕', output: '·' } as const;

export function SessionTranscript({ sessionId, running }: { sessionId: string; running: boolean }) {
  const { api, live } = useSession();
  const [tr, setTr] = useState<Transcript | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const box = useRef<HTMLOListElement>(null);
  const session = { id: sessionId };

  useEffect(() => {
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const load = () => {
      api.transcript(session.id).then(
        (t) => {
          if (cancelled) return;
          setTr((prev) => (prev && prev.size === t.size && prev.generation === t.generation ? prev : t));
          setNote(null);
        },
        (e: unknown) => !cancelled && setNote(e instanceof ApiError && e.status === 404 ? 'No log on this host yet.' : (e as Error).message),
      );
    };
    load();
    if (running) {
      const loop = () => {
        timer = setTimeout(() => {
          load();
          loop();
        }, POLL_MS);
      };
      loop();
    }
    const off = live.onEvent((e) => {
      if (e.sessionId === session.id) load();
    });
    return () => {
      cancelled = true;
      if (timer) clearTimeout(timer);
      off();
    };
  }, [api, live, session.id, running]);

  // Follow the tail like a terminal, unless the reader scrolled up.
  useEffect(() => {
    const el = box.current;
    if (el && el.scrollHeight - el.scrollTop - el.clientHeight < 80) el.scrollTop = el.scrollHeight;
  }, [tr]);

  if (note && !tr) return <p className="muted">{note}</p>;
  if (!tr) return <p className="muted">Loading transcript…</p>;
  if (tr.entries.length === 0) return <p className="muted">Nothing yet from the agent.</p>;
  return (
    <ol className="transcript-log" ref={box} data-testid="transcript" data-session={session.id}>
      {tr.truncated && <li className="muted">… earlier output not shown</li>}
      {tr.entries.map((e, i) => (
        <li key={i} className={`tr-${e.kind}`}>
          <span className="tr-icon" aria-hidden="true">
            {ICON[e.kind]}
          </span>
          <span className="tr-text">{e.text}</span>
        </li>
      ))}
    </ol>
  );
}
