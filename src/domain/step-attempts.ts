// A pipeline step as a CI run view's attempts. An agent or review step: one attempt per agent
// session it dispatched (a resume, a review round, a relaunch). A checks step: one attempt per round
// of checks — the fixer session that ran before a round belongs to that round — and the round running
// now, read from the log files it is writing. Pure: the API route gathers the facts
// (src/api/routes/ui-step-logs.ts); table-tested in test/web/card-facts.test.ts.
import { turnUsage, type Usage } from './usage.js';

/** Where an item's log is: a check of a round, or an agent session. */
export type LogRef = { source: 'check'; round: number; check: string } | { source: 'session'; session: string };

export interface AttemptItem {
  name: string;
  /** The shell command of a check, or null. */
  command: string | null;
  /** The agent (and role) of a session, or null. */
  agent: string | null;
  role: string | null;
  /** running · ok · failed · a session's end status (done, failed, lost …). */
  status: string;
  exitCode: number | null;
  durationMs: number | null;
  startedAt: number | null;
  usage: Usage | null;
  log: LogRef;
}

export interface Attempt {
  n: number;
  state: 'running' | 'ok' | 'failed';
  items: AttemptItem[];
}

export interface Dispatch {
  session: string;
  at: number;
  agent: string | null;
  role: string | null;
  key: string | null;
  /** The `session.finished` of this session, if it ended. */
  finished: { at: number; payload: Record<string, unknown> } | null;
}

export interface StepFacts {
  kind: string;
  state: string;
  /** A checks step's recorded rounds (kind_state.rounds). */
  rounds: readonly unknown[];
  /** The checks round being run now and the checks that have a log in it so far (empty when none). */
  running: { round: number; checks: readonly string[] } | null;
  /** Sessions the step dispatched in this run, oldest first. */
  dispatches: readonly Dispatch[];
}

const OK_STATUSES = new Set(['done', 'ok', 'completed', 'success']);

function sessionItem(d: Dispatch): AttemptItem {
  const status = d.finished ? String(d.finished.payload.status ?? 'done') : 'running';
  return {
    name: d.role ?? d.key ?? 'agent',
    command: null,
    agent: d.agent,
    role: d.role,
    status,
    exitCode: null,
    durationMs: d.finished ? Math.max(0, d.finished.at - d.at) : null,
    startedAt: d.at,
    usage: d.finished ? turnUsage(d.finished.payload) : null,
    log: { source: 'session', session: d.session },
  };
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

function roundItems(r: Record<string, unknown>): AttemptItem[] {
  const results = Array.isArray(r.results) ? (r.results as Record<string, unknown>[]) : [];
  const round = num(r.round) ?? 0;
  return results.map((c) => ({
    name: String(c.name ?? '?'),
    command: str(c.command),
    agent: null,
    role: null,
    status: c.ok === true ? 'ok' : c.timedOut === true ? 'timed out' : 'failed',
    exitCode: num(c.exitCode),
    durationMs: num(c.durationMs),
    startedAt: null,
    usage: null,
    log: { source: 'check', round, check: String(c.name ?? '') },
  }));
}

/** The fixer that ran before round `round` (its dispatch key is `fix-<round>`). */
const fixerOf = (ds: readonly Dispatch[], round: number): Dispatch[] => ds.filter((d) => d.key === `fix-${round}`);

export function stepAttempts(f: StepFacts): Attempt[] {
  if (f.kind !== 'checks') {
    return f.dispatches.map((d, i) => {
      const item = sessionItem(d);
      return { n: i + 1, state: item.status === 'running' ? 'running' : OK_STATUSES.has(item.status) ? 'ok' : 'failed', items: [item] };
    });
  }
  const out: Attempt[] = [];
  const rounds = f.rounds.filter((r): r is Record<string, unknown> => !!r && typeof r === 'object');
  for (const r of rounds) {
    const round = num(r.round) ?? out.length;
    out.push({ n: out.length + 1, state: r.ok === true ? 'ok' : 'failed', items: [...fixerOf(f.dispatches, round).map(sessionItem), ...roundItems(r)] });
  }
  const done = new Set(rounds.map((r) => num(r.round)));
  const fixing = f.dispatches.filter((d) => /^fix-\d+$/.test(d.key ?? '') && !done.has(Number(d.key!.slice(4))));
  const running = f.running && !done.has(f.running.round) ? f.running : null;
  if (running || fixing.length) {
    const round = running?.round ?? Number(fixing[0]!.key!.slice(4));
    const checks: AttemptItem[] = (running?.checks ?? []).map((c) => ({
      name: c, command: null, agent: null, role: null, status: 'running', exitCode: null, durationMs: null, startedAt: null, usage: null,
      log: { source: 'check', round, check: c },
    }));
    out.push({ n: out.length + 1, state: 'running', items: [...fixerOf(f.dispatches, round).map(sessionItem), ...checks] });
  }
  return out;
}
