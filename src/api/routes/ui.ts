// Reads shaped for the dashboard: one request gives the board everything it shows, plus the event
// seq it is consistent with, so the browser follows the stream from exactly there.
import { z } from 'zod';
import { STAGES, TERMINAL_STAGES, type Stage, type Task } from '../../domain/task.js';
import type { Store } from '../../ports/store.js';
import { defineRoute, type Route } from '../route.js';

const ACTIVE: Stage[] = STAGES.filter((s) => !TERMINAL_STAGES.has(s));
const TERMINAL: Stage[] = STAGES.filter((s) => TERMINAL_STAGES.has(s));

/** Enough for any board a person can read; beyond it the response says `truncated`. */
export const BOARD_ACTIVE_CAP = 5000;

export function uiRoutes(store: Store): Route[] {
  return [
    defineRoute({
      method: 'GET',
      path: '/api/ui/board',
      access: 'read',
      tag: 'ui',
      summary: 'The dashboard board: every unfinished task, the most recent finished ones, and the event seq they reflect',
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
        return { body: { tasks, seq, truncated } };
      },
    }),
  ];
}
