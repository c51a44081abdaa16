// Reads shaped for the dashboard: one request gives the board everything it shows, plus the event
// seq it is consistent with, so the browser follows the stream from exactly there.
import { z } from 'zod';
import { STAGES, TERMINAL_STAGES, type Stage, type Task } from '../../domain/task.js';
import type { Store } from '../../ports/store.js';
import type { SqlRunner } from '../../ports/sql.js';
import { notFound } from '../../domain/errors.js';
import { defineRoute, type Route } from '../route.js';
import { readTranscript } from '../transcript.js';
import { newTaskOptionsRoute } from './ui-new-task.js';
import { cardsRoute, loadCardFacts, type WaitingOf } from './ui-cards.js';

const ACTIVE: Stage[] = STAGES.filter((s) => !TERMINAL_STAGES.has(s));
const TERMINAL: Stage[] = STAGES.filter((s) => TERMINAL_STAGES.has(s));

/** Enough for any board a person can read; beyond it the response says `truncated`. */
export const BOARD_ACTIVE_CAP = 5000;

/** Why a parked run waits, from its latest `run.parked` event (events never carry the question text). */
export interface ParkInfo {
  waiting: string;
  step: string | null;
  options: string[];
}

const PARKS_CAP = 500;

async function parksOf(db: SqlRunner, tasks: readonly Task[]): Promise<Record<string, ParkInfo>> {
  const out: Record<string, ParkInfo> = {};
  const parked = tasks.filter((t) => t.stage === 'blocked' && t.blockedReason === 'awaiting_human').slice(0, PARKS_CAP);
  for (const t of parked) {
    const row = await db.get<{ payload: string }>("SELECT payload FROM events WHERE task_id = ? AND type = 'run.parked' AND seq IS NOT NULL ORDER BY seq DESC LIMIT 1", [t.id]);
    if (!row) continue;
    const p = JSON.parse(row.payload) as { waiting?: unknown; step?: unknown; options?: unknown };
    if (typeof p.waiting !== 'string') continue;
    out[t.id] = { waiting: p.waiting, step: typeof p.step === 'string' ? p.step : null, options: Array.isArray(p.options) ? p.options.filter((o): o is string => typeof o === 'string') : [] };
  }
  return out;
}

/** What the transcript route needs to know about a lifecycle session. */
export interface SessionLookup {
  get(id: string): Promise<{ agent: string; launchGeneration: number }>;
}

export interface UiDeps {
  /**
   * Where agent launchers on this host write session logs (`<dir>/<session>/<generation>.log`), and the
   * lifecycle's session records when there are any. Sessions the pipeline engine dispatched are
   * found through their `session.dispatched` event (agent named there, one launch each).
   */
  transcripts?: { logDirs: () => readonly string[]; sessions?: SessionLookup };
  /** Why queued tasks wait (the fleet's view), for the cards. */
  waitingOf?: WaitingOf;
}

/** The directory name a session id gets under logsDir (the launcher's own rule). */
export const logDirName = (id: string): string => id.replace(/[^\w.-]/g, '_');

async function sessionAgent(db: SqlRunner, lookup: SessionLookup | undefined, id: string): Promise<{ agent: string; launchGeneration: number } | null> {
  if (lookup) {
    const s = await lookup.get(id).catch(() => null);
    if (s) return s;
  }
  const row = await db.get<{ payload: string }>("SELECT payload FROM events WHERE session_id = ? AND type = 'session.dispatched' AND seq IS NOT NULL ORDER BY seq DESC LIMIT 1", [id]);
  if (!row) return null;
  const agent = (JSON.parse(row.payload) as { agent?: unknown }).agent;
  return typeof agent === 'string' ? { agent, launchGeneration: 1 } : null;
}

export function uiRoutes(store: Store & { db: SqlRunner }, deps: UiDeps = {}): Route[] {
  const t = deps.transcripts;
  return [
    newTaskOptionsRoute(store),
    cardsRoute(store, deps.waitingOf),
    ...(t
      ? [
          defineRoute({
            method: 'GET',
            path: '/api/ui/sessions/:id/transcript',
            access: 'read',
            tag: 'ui',
            summary: "An agent session's transcript (tool calls, messages, questions) read from its log on this host",
            params: z.object({ id: z.string().min(1).max(200) }).strict(),
            query: z.object({ generation: z.coerce.number().int().min(1).optional() }).strict(),
            handler: async ({ params, query }) => {
              const s = await sessionAgent(store.db, t.sessions, params.id);
              if (!s) throw notFound('session', params.id);
              const generation = query.generation ?? s.launchGeneration;
              let tr = null;
              for (const dir of generation > 0 ? t.logDirs() : []) if ((tr = readTranscript(dir, logDirName(params.id), generation, s.agent))) break;
              if (!tr) throw notFound('transcript', `${params.id} (launch ${generation})`, 'the log lives on the host that ran the agent; `gantry up` serves the logs of its own factories');
              return { body: { transcript: tr, agent: s.agent } };
            },
          }),
        ]
      : []),
    defineRoute({
      method: 'GET',
      path: '/api/ui/board',
      access: 'read',
      tag: 'ui',
      summary: 'The dashboard board: every unfinished task, the most recent finished ones, why parked runs wait, each card\'s facts, and the event seq they reflect',
      query: z.object({ recent: z.coerce.number().int().min(0).max(500).default(100) }).strict(),
      handler: async ({ query }) => {
        // Read the seq first: any change after it is replayed by a stream opened with ?after=seq.
        const seq = await store.events.latestSeq();
        const tasks: Task[] = [];
        let cursor: string | undefined;
        let truncated = false;
        do {
          const page = await store.tasks.list({ stages: ACTIVE, limit: 500, ...(cursor ? { cursor } : {}) });
          tasks.push(...page.tasks);
          cursor = page.nextCursor ?? undefined;
          if (cursor && tasks.length >= BOARD_ACTIVE_CAP) {
            truncated = true;
            break;
          }
        } while (cursor);
        if (query.recent > 0) tasks.push(...(await store.tasks.list({ stages: TERMINAL, limit: query.recent })).tasks);
        return { body: { tasks, seq, truncated, parks: await parksOf(store.db, tasks), facts: await loadCardFacts(store.db, tasks, deps.waitingOf) } };
      },
    }),
  ];
}
