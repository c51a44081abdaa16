// gantry sessions · reply · notifications
import type { Command } from 'commander';
import type { SessionView } from '../../lifecycle/manager.js';
import type { InputRecord, NotificationRecord } from '../../ports/lifecycle.js';
import { launchSessionId } from '../../engine/agent-runner.js';
import { action, client, examples, intArg, withCommon, type CommonFlags } from '../common.js';

/** What a session id looks like, as `gantry sessions` lists it. */
export const SESSION_EXAMPLE = 'r-1a2b3c4d5e6f7g8h_1_implement_1';
export const SESSION_IDS = '\nSession ids are listed by `gantry sessions` and `gantry show`; the form in event logs (r-…:1:implement:1) works too.\n';
import { ago, emit, table, truncate } from '../output.js';

export function registerSessionCommands(program: Command): void {
  withCommon(program.command('sessions'))
    .description('list agent sessions with their status')
    .option('--task <id>', 'only this task')
    .option('--state <states>', 'only these session states (comma-separated)')
    .option('--limit <n>', 'how many', intArg('--limit', 1, 1000), 50)
    .addHelpText('after', examples(['gantry sessions', 'gantry sessions --task t-1a2b3c4d --json']))
    .action(
      action(async (f: CommonFlags & { task?: string; state?: string; limit: number }) => {
        const q = new URLSearchParams({ limit: String(f.limit) });
        if (f.task) q.set('task', f.task);
        if (f.state) q.set('state', f.state);
        const r = await client(f).get<{ sessions: SessionView[] }>(`/api/sessions?${q}`);
        emit(f, r, () => {
          if (r.sessions.length === 0) return 'no sessions';
          return table(r.sessions.map((s) => [s.id, s.display, s.reason ?? '', s.agent, s.taskId ?? '', ago(s.updatedAt)]), ['ID', 'STATUS', 'REASON', 'AGENT', 'TASK', 'UPDATED']);
        });
      }),
    );

  withCommon(program.command('reply <session> <text>'))
    .description("send input to a session's agent (queued; delivered between turns, never into an open permission prompt); to a session that asked a question, local or on a remote factory, it is the answer")
    .addHelpText('after', examples([`gantry reply ${SESSION_EXAMPLE} "Use the v2 API, not v1"`]) + SESSION_IDS)
    .action(
      action(async (given: string, text: string, f: CommonFlags) => {
        const id = launchSessionId(given);
        const r = await client(f).post<{ input: InputRecord }>(`/api/sessions/${encodeURIComponent(id)}/input`, { text });
        emit(f, r, () => `queued ${r.input.id} for ${id} (#${r.input.seq}); it is delivered when the agent can take it`);
      }),
    );

  const notes = program
    .command('notifications')
    .description('what needs a person: list, acknowledge, resolve')
    .addHelpText('after', examples(['gantry notifications', 'gantry notifications ack n-1a2b3c4d5e6f', 'gantry notifications resolve n-1a2b3c4d5e6f']));
  withCommon(notes.command('ls', { isDefault: true }))
    .description('list open notifications (raised, escalated, acknowledged)')
    .option('--all', 'include resolved ones')
    .option('--session <id>', 'only this session')
    .option('--limit <n>', 'how many', intArg('--limit', 1, 1000), 50)
    .addHelpText('after', examples(['gantry notifications', 'gantry notifications --all --json']))
    .action(
      action(async (f: CommonFlags & { all?: boolean; session?: string; limit: number }) => {
        const q = new URLSearchParams({ limit: String(f.limit) });
        if (f.all) q.set('state', 'raised,escalated,acknowledged,resolved');
        if (f.session) q.set('session', f.session);
        const r = await client(f).get<{ notifications: NotificationRecord[] }>(`/api/notifications?${q}`);
        emit(f, r, () => {
          if (r.notifications.length === 0) return 'nothing needs you';
          return table(r.notifications.map((n) => [n.id, n.state, n.priority, n.kind, n.sessionId ?? '', ago(n.createdAt), truncate(n.title, 60)]), ['ID', 'STATE', 'PRIORITY', 'KIND', 'SESSION', 'AGE', 'TITLE']);
        });
      }),
    );
  for (const [verb, path, past] of [['ack', 'ack', 'acknowledged'], ['resolve', 'resolve', 'resolved']] as const) {
    withCommon(notes.command(`${verb} <id>`))
      .description(`mark a notification ${past}`)
      .addHelpText('after', examples([`gantry notifications ${verb} n-1a2b3c4d5e6f`, `gantry notifications ${verb} n-1a2b3c4d5e6f --json`]))
      .action(
        action(async (id: string, f: CommonFlags) => {
          const r = await client(f).post<{ notification: NotificationRecord }>(`/api/notifications/${encodeURIComponent(id)}/${path}`);
          emit(f, r, () => `${r.notification.id} ${r.notification.state}`);
        }),
      );
  }
}
