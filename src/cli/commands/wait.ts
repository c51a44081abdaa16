// gantry wait <task>: block until the task ships, fails, or waits for a person — with a progress
// line on stderr showing where it is — so scripts and demos can chain on it. Follows the event
// stream (resuming after disconnects) and rereads the task on each of its events.
import type { Command } from 'commander';
import { GantryError } from '../../domain/errors.js';
import type { Task } from '../../domain/task.js';
import { action, client, examples, intArg, withCommon, type CommonFlags } from '../common.js';
import { followEvents } from '../follow.js';
import { emit } from '../output.js';
import { progress } from '../progress.js';
import { waitOutcome, type WaitOutcome, type WaitUntil } from '../wait-outcome.js';

interface WaitFlags extends CommonFlags {
  until: WaitUntil;
  timeout?: number;
}

const UNTIL: readonly WaitUntil[] = ['done', 'shipped', 'started'];

export function registerWait(program: Command): void {
  withCommon(program.command('wait <task>'))
    .description('wait until a task ships, fails, or needs a person, showing its progress')
    .option('--until <goal>', `done (shipped, failed or waiting for you) · shipped (keep waiting through human steps) · started`, 'done')
    .option('--timeout <seconds>', 'give up after this long (exit 4)', intArg('--timeout', 1, 7 * 24 * 3600))
    .addHelpText(
      'after',
      examples(['gantry wait t-1a2b3c4d', 'gantry add "Fix it" --json | jq -r .task.id | xargs gantry wait']) +
        '\nExit codes: 0 shipped (or started, with --until started) · 1 failed or cancelled · 3 waits for a person · 4 timed out.\n',
    )
    .action(
      action(async (id: string, f: WaitFlags) => {
        if (!UNTIL.includes(f.until)) throw new GantryError('bad_request', `--until must be one of ${UNTIL.join(', ')} (got "${f.until}")`);
        const api = client(f);
        const read = () => api.get<{ task: Task }>(`/api/tasks/${encodeURIComponent(id)}`).then((r) => r.task);
        const { latest } = await api.get<{ latest: number }>('/api/events?limit=1');
        let task = await read();
        const started = Date.now();
        const label = (t: Task) => `${t.id} ${t.stage}${t.blockedReason ? ` (${t.blockedReason.replace('_', ' ')})` : ''} · ${Math.round((Date.now() - started) / 1000)}s · ${t.title}`;
        const status = progress(label(task), process.stderr, { quiet: !!f.json });
        let outcome: WaitOutcome = waitOutcome(task, f.until);
        const ac = new AbortController();
        const timer = f.timeout ? setTimeout(() => ac.abort(), f.timeout * 1000) : null;
        const tick = setInterval(() => status.update(label(task)), 1000);
        tick.unref();
        try {
          if (!outcome.stop) {
            await followEvents(api, {
              task: id,
              fromSeq: latest,
              signal: ac.signal,
              onStatus: (m) => status.update(`${label(task)} — ${m}`),
              onEvent: async () => {
                try {
                  task = await read();
                } catch {
                  return; // the coordinator is restarting: the replayed events will bring us back
                }
                status.update(label(task));
                outcome = waitOutcome(task, f.until);
                return outcome.stop ? 'stop' : undefined;
              },
            });
          }
        } finally {
          if (timer) clearTimeout(timer);
          clearInterval(tick);
          status.done();
        }
        if (!outcome.stop) {
          if (ac.signal.aborted) {
            emit(f, { task, outcome: 'timeout' }, () => `gave up after ${f.timeout}s: ${label(task)}`);
            process.exitCode = 4;
          } else process.exitCode = 130; // interrupted
          return;
        }
        const o = outcome;
        emit(f, { task, outcome: o.why }, () =>
          o.why === 'needs_you'
            ? `${task.id} waits for you (${task.blockedReason?.replace('_', ' ')}): open the dashboard or run \`gantry show ${task.id}\``
            : o.why === 'failed'
              ? `${task.id} failed${task.failureKind ? ` (${task.failureKind})` : ''}${task.failureMessage ? `: ${task.failureMessage}` : ''}`
              : `${task.id} ${o.why}`,
        );
        process.exitCode = o.code;
      }),
    );
}
