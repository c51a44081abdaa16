// The task's event log, newest last, appended live; bookkeeping folded behind "show all".
import { useMemo, useState } from 'react';
import type { GantryEvent } from '../../api/types.js';
import { eventTone, summarize } from '../../../../src/domain/event-summary.js';
import { clock } from '../../ui/format.js';
import { isBookkeeping } from '../../model/history.js';


export function History({ events }: { events: GantryEvent[] | null }) {
  const [all, setAll] = useState(false);
  const list = useMemo(() => (events ?? []).filter((e) => !e.sessionId), [events]);
  const shown = useMemo(() => (all ? list : list.filter((e) => !isBookkeeping(e)).slice(-40)), [list, all]);
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

