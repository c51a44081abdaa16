// Pure: the sessions a task page lists — lifecycle records, and the sessions the pipeline engine
// dispatched (known from their session.dispatched events) — newest first, each once.
import type { GantryEvent, Session, Task } from '../api/types.js';

/** A session shown on the task page: a lifecycle record, or one the engine dispatched (from its event). */
export interface SessionRow {
  id: string;
  agent: string;
  label: string | null;
  display: string;
  running: boolean;
  messageable: boolean;
  at: number;
}

const LEASED = new Set(['assigned', 'building', 'review', 'testing']);

/** The engine's session id as the launcher and the lifecycle record name it (no colons). */
export const launchId = (id: string): string => id.replace(/[^\w.-]/g, '_');

export function sessionRows(task: Task, sessions: readonly Session[], events: readonly GantryEvent[]): SessionRow[] {
  const rows = new Map<string, SessionRow>();
  const dispatched = events.filter((e) => e.type === 'session.dispatched' && e.sessionId);
  dispatched.forEach((e, i) => {
    const p = e.payload as { agent?: string; step?: string; role?: string };
    const running = i === dispatched.length - 1 && LEASED.has(task.stage);
    const id = launchId(e.sessionId!);
    rows.set(id, { id, agent: p.agent ?? 'agent', label: [p.step, p.role].filter(Boolean).join(' · ') || null, display: running ? 'working' : 'finished', running, messageable: false, at: e.at });
  });
  for (const s of sessions) {
    const running = s.state !== 'done' && s.state !== 'terminated';
    rows.set(s.id, { id: s.id, agent: s.agent, label: rows.get(s.id)?.label ?? null, display: s.display, running, messageable: running, at: s.updatedAt });
  }
  return [...rows.values()].sort((a, b) => b.at - a.at);
}

