// Usage and cost read from the event log: a task's `session.finished` events, summed by the pure
// domain/usage.ts; a project's usage is the sum over its tasks.
import type { GantryEvent } from '../domain/events.js';
import { addUsage, NO_USAGE, usageOf, type Usage, type UsageReport } from '../domain/usage.js';
import type { Store } from '../ports/store.js';

const PAGE = 1000;

/** Every consumed agent turn of a task, by run and step. */
export async function taskUsage(store: Store, taskId: string): Promise<UsageReport> {
  const events: GantryEvent[] = [];
  for (let after = 0; ; ) {
    const page = await store.events.list({ taskId, after, limit: PAGE, type: 'session.finished' });
    events.push(...page);
    if (page.length < PAGE) break;
    after = page[page.length - 1]!.seq;
  }
  return usageOf(events);
}

/** A project's total over all its tasks (every run, every attempt). */
export async function projectUsage(store: Store, projectId: string): Promise<{ total: Usage; tasks: number }> {
  let total = NO_USAGE;
  let tasks = 0;
  for (let cursor: string | undefined; ; ) {
    const page = await store.tasks.list({ projectId, limit: 200, ...(cursor ? { cursor } : {}) });
    for (const t of page.tasks) {
      total = addUsage(total, (await taskUsage(store, t.id)).total);
      tasks++;
    }
    if (!page.nextCursor) break;
    cursor = page.nextCursor;
  }
  return { total, tasks };
}
