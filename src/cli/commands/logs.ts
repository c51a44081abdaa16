// gantry logs [task] [-f]: a task's events (or everyone's), then, with -f, the live stream —
// resumed with Last-Event-ID after any disconnect so no event is lost or printed twice.
import type { Command } from 'commander';
import type { GantryEvent } from '../../domain/events.js';
import { summarize } from '../../domain/event-summary.js';
import type { Task } from '../../domain/task.js';
import { launchSessionId } from '../../engine/agent-runner.js';
import type { ApiClient } from '../client.js';
import { action, client, examples, intArg, withCommon, type CommonFlags } from '../common.js';
import { followEvents } from '../follow.js';
import { progress } from '../progress.js';
import { waitOutcome, type WaitOutcome } from '../wait-outcome.js';

/** Events after which the task's stage may have changed (the rest cannot end it). */
const ENDS_TASK = /^(task|run|lease|merge)\./;

interface LogsFlags extends CommonFlags {
  follow?: boolean;
  after?: number;
  limit: number;
  transcript?: boolean;
}

export function formatEvent(e: GantryEvent, showTask: boolean): string {
  const time = new Date(e.at).toISOString().slice(11, 19);
  // Session ids in the form `gantry reply` / `attach` / `sessions` use.
  const who = [showTask && e.taskId ? e.taskId : null, e.sessionId ? `[${launchSessionId(e.sessionId)}]` : null].filter(Boolean).join(' ');
  const sum = summarize(e);
  return `${time}  #${e.seq}  ${who ? `${who}  ` : ''}${e.type}${sum ? `  ${sum}` : ''}`;
}

/** The last `limit` events (of a task, or of all), oldest first, or everything after `after`. */
async function history(api: ApiClient, task: string | undefined, f: LogsFlags): Promise<{ events: GantryEvent[]; latest: number }> {
  const page = 1000;
  if (f.after !== undefined) {
    const q = new URLSearchParams({ after: String(f.after), limit: String(Math.min(f.limit, page)) });
    if (task) q.set('task', task);
    const r = await api.get<{ events: GantryEvent[]; latest: number }>(`/api/events?${q}`);
    return { events: r.events.slice(0, f.limit), latest: r.latest };
  }
  const { latest } = await api.get<{ latest: number }>('/api/events?limit=1');
  if (f.limit === 0) return { events: [], latest };
  if (!task) {
    // Global seqs are dense enough that "the last N" is "after latest − N".
    const r = await api.get<{ events: GantryEvent[] }>(`/api/events?after=${Math.max(0, latest - f.limit)}&limit=${Math.min(f.limit, page)}`);
    return { events: r.events.slice(-f.limit), latest };
  }
  const all: GantryEvent[] = [];
  let after = 0;
  for (;;) {
    const r = await api.get<{ events: GantryEvent[] }>(`/api/tasks/${encodeURIComponent(task)}/events?after=${after}&limit=${page}`);
    all.push(...r.events);
    if (all.length > f.limit) all.splice(0, all.length - f.limit);
    if (r.events.length < page) break;
    after = r.events[r.events.length - 1]!.seq;
  }
  return { events: all, latest };
}

export function registerLogs(program: Command): void {
  withCommon(program.command('logs [task]'))
    .description("print events — a task's, or all of them; -f follows the live stream (agent transcript included) and resumes after disconnects")
    .option('-f, --follow', "keep printing new events as they happen; a task's log ends when it ships (exit 0), fails or is cancelled (exit 1)")
    .option('--after <seq>', 'start after this event sequence number', intArg('--after', 0, Number.MAX_SAFE_INTEGER))
    .option('--limit <n>', 'how many past events to print first', intArg('--limit', 0, 100_000), 50)
    .option('--transcript', 'only agent session events (tool calls, messages, input)')
    .addHelpText(
      'after',
      examples(['gantry logs t-1a2b3c4d', 'gantry logs t-1a2b3c4d -f', 'gantry logs -f --limit 0 --json | jq .type', 'gantry logs t-1a2b3c4d -f --transcript']) +
        '\nWith --json: without -f, one document {events, latest}; with -f, one event per line (NDJSON).\n' +
        "With -f and a task: stops when the task ends — exit 0 shipped, 1 failed or cancelled.\n",
    )
    .action(
      action(async (task: string | undefined, f: LogsFlags) => {
        const api = client(f);
        const readTask = (id: string) => api.get<{ task: Task }>(`/api/tasks/${encodeURIComponent(id)}`).then((r) => r.task);
        if (task) await readTask(task);
        const keep = (e: GantryEvent) => !f.transcript || e.sessionId !== null;
        const line = (e: GantryEvent) => (f.json ? JSON.stringify(e) : formatEvent(e, !task));
        const past = await history(api, task, f);
        const shown = past.events.filter(keep);
        if (!f.follow) {
          if (f.json) process.stdout.write(`${JSON.stringify({ events: shown, latest: past.latest }, null, 2)}\n`);
          else if (shown.length === 0) process.stderr.write(`no events${task ? ` for ${task}` : ''}${f.transcript ? ' from agent sessions' : ''} yet\n`);
          else process.stdout.write(`${shown.map(line).join('\n')}\n`);
          return;
        }
        for (const e of shown) process.stdout.write(`${line(e)}\n`);
        const start = f.after !== undefined ? Math.max(f.after, past.events.at(-1)?.seq ?? f.after) : Math.max(past.latest, past.events.at(-1)?.seq ?? 0);
        // A task's log ends with the task: read after the history, so an end before `start` is seen here
        // and one after it arrives as an event.
        let outcome = task ? waitOutcome(await readTask(task), 'shipped') : ({ stop: false } as WaitOutcome);
        if (!outcome.stop) {
          const status = progress(`following ${task ?? 'all events'} (${task ? 'until it ships, fails or is cancelled; ' : ''}Ctrl-C to stop)`);
          try {
            await followEvents(api, {
              ...(task ? { task } : {}),
              fromSeq: start,
              onEvent: async (e) => {
                if (keep(e)) process.stdout.write(`${line(e)}\n`);
                if (!task || !ENDS_TASK.test(e.type)) return;
                outcome = waitOutcome(await readTask(task).catch(() => ({ stage: 'queued' }) as Task), 'shipped');
                return outcome.stop ? 'stop' : undefined;
              },
              onStatus: (m) => status.update(m),
            });
          } finally {
            status.done();
          }
        }
        if (task && outcome.stop) {
          if (!f.json) process.stderr.write(`${task} ${outcome.why}\n`);
          process.exitCode = outcome.code;
        }
      }),
    );
}
