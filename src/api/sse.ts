// Server-sent events over the event log: replay from Last-Event-ID (or ?after=), then follow live,
// with keep-alive comments. A client that falls too far behind is cut off and resumes by id.
import type { ServerResponse } from 'node:http';
import type { GantryEvent } from '../domain/events.js';
import type { EventLog } from '../ports/store.js';

export interface StreamOptions {
  from: number;
  filter?: (e: GantryEvent) => boolean;
  keepAliveMs: number;
  signal: AbortSignal;
  /** Shapes what leaves the server (e.g. strip fields for factories). */
  project?: (e: GantryEvent) => unknown;
}

const MAX_BUFFERED = 8 * 1024 * 1024;

export function streamEvents(events: EventLog, res: ServerResponse, o: StreamOptions): void {
  res.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-store',
    Connection: 'keep-alive',
    'X-Accel-Buffering': 'no',
  });
  res.write('retry: 2000\n\n');
  const stop = events.follow(o.from, (e) => {
    if (o.filter && !o.filter(e)) return;
    res.write(`id: ${e.seq}\ndata: ${JSON.stringify(o.project ? o.project(e) : e)}\n\n`);
    if (res.writableLength > MAX_BUFFERED) res.end();
  });
  const ka = setInterval(() => res.write(': keep-alive\n\n'), o.keepAliveMs);
  const done = () => {
    clearInterval(ka);
    stop();
    if (!res.writableEnded) res.end();
  };
  o.signal.addEventListener('abort', done, { once: true });
  res.on('close', done);
}

/** The resume point: Last-Event-ID header wins, then ?after=, else "from now". */
export function resumePoint(lastEventId: string | string[] | undefined, after: number | undefined, latest: number): number {
  const raw = Array.isArray(lastEventId) ? lastEventId[0] : lastEventId;
  const n = raw !== undefined ? Number(raw) : NaN;
  if (Number.isInteger(n) && n >= 0) return n;
  return after ?? latest;
}
