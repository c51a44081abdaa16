// Step logs like a CI run view: a step's attempts (checks rounds with their fixers, agent sessions,
// review rounds) and any attempt item's log read by byte offset, so the dashboard streams a running
// check's or agent's log by polling from where it stopped. Only files the engine writes for this
// task's current run are read: paths are derived from ids the store holds, never taken from the request.
import { closeSync, existsSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { notFound } from '../../domain/errors.js';
import type { GantryEvent } from '../../domain/events.js';
import { stepAttempts, type Dispatch } from '../../domain/step-attempts.js';
import type { RunRepo, RunSnapshot, StepRecord } from '../../ports/engine.js';
import type { Store } from '../../ports/store.js';
import { defineRoute, type Route } from '../route.js';
import { logDirName } from './ui.js';

export interface StepLogDirs {
  /** Where this host's checks runners write (`<dir>/<task>/<run>/<step>/round-N/<check>.log`). */
  checks: () => readonly string[];
  /** Where this host's agent launchers write (`<dir>/<session>/<generation>.log`). */
  sessions: () => readonly string[];
}

/** At most this much of a log per request: the client asks again from `X-Log-Next`. */
export const LOG_CHUNK = 256 * 1024;

const CHECK_NAME = /^[\w.-]{1,200}$/;

async function listEvents(store: Store, taskId: string, type: string): Promise<GantryEvent[]> {
  const out: GantryEvent[] = [];
  for (let after = 0; ; ) {
    const page = await store.events.list({ taskId, after, limit: 1000, type });
    out.push(...page);
    if (page.length < 1000) return out;
    after = page[page.length - 1]!.seq;
  }
}

async function dispatchesOf(store: Store, taskId: string, runId: string, stepId: string): Promise<Dispatch[]> {
  const [sent, ended] = await Promise.all([listEvents(store, taskId, 'session.dispatched'), listEvents(store, taskId, 'session.finished')]);
  const fin = new Map(ended.filter((e) => e.sessionId).map((e) => [e.sessionId!, { at: e.at, payload: e.payload }]));
  return sent
    .filter((e) => e.runId === runId && e.payload.step === stepId && e.sessionId)
    .map((e) => ({
      session: e.sessionId!,
      at: e.at,
      agent: typeof e.payload.agent === 'string' ? e.payload.agent : null,
      role: typeof e.payload.role === 'string' ? e.payload.role : null,
      key: typeof e.payload.key === 'string' ? e.payload.key : null,
      finished: fin.get(e.sessionId!) ?? null,
    }));
}

const roundDir = (base: string, snap: RunSnapshot, st: StepRecord, round: number): string => join(base, snap.run.taskId, String(snap.run.number), st.stepId, `round-${round}`);

/** The checks round a working checks step is running now, and the checks with a log in it so far. */
function runningRound(dirs: readonly string[], snap: RunSnapshot, st: StepRecord): { round: number; checks: string[] } | null {
  if (st.kind !== 'checks' || st.state !== 'working') return null;
  const phase = st.kindState.phase;
  if (phase === 'checked' || phase === 'fixing') return null;
  const round = Number(st.kindState.fixes ?? 0);
  for (const base of dirs) {
    const dir = roundDir(base, snap, st, round);
    if (!existsSync(dir)) continue;
    const files = readdirSync(dir).filter((f) => f.endsWith('.log')).map((f) => ({ name: f.slice(0, -4), at: statSync(join(dir, f)).mtimeMs }));
    return { round, checks: files.sort((a, b) => a.at - b.at).map((f) => f.name) };
  }
  return { round, checks: [] };
}

function readChunk(file: string, offset: number, final: boolean): { text: string; next: number; size: number } {
  const size = statSync(file).size;
  if (offset >= size) return { text: '', next: size, size };
  const len = Math.min(LOG_CHUNK, size - offset);
  const buf = Buffer.alloc(len);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buf, 0, len, offset);
  } finally {
    closeSync(fd);
  }
  // While the writer is still going, stop at the last complete line (never half a UTF-8 character).
  let end = len;
  if (!final || offset + len < size) {
    const nl = buf.lastIndexOf(0x0a);
    if (nl >= 0) end = nl + 1;
    else if (len < LOG_CHUNK) end = 0;
  }
  return { text: buf.subarray(0, end).toString('utf8'), next: offset + end, size };
}

export function stepLogRoutes(store: Store, runs: RunRepo, dirs: StepLogDirs): Route[] {
  const current = async (taskId: string, stepId: string): Promise<{ snap: RunSnapshot; st: StepRecord }> => {
    if (!(await store.tasks.get(taskId))) throw notFound('task', taskId);
    const snap = await runs.current(taskId);
    if (!snap) throw notFound('run of task', taskId, 'the task has not started a run yet');
    const st = snap.steps.find((s) => s.stepId === stepId);
    if (!st) throw notFound('step', stepId, `the run's steps are ${snap.steps.map((s) => s.stepId).join(', ')}`);
    return { snap, st };
  };
  const Params = z.object({ id: z.string().min(1).max(200), step: z.string().min(1).max(200) }).strict();
  return [
    defineRoute({
      method: 'GET',
      path: '/api/ui/tasks/:id/steps/:step/attempts',
      access: 'read',
      tag: 'ui',
      summary: "A step of the task's current run as attempts: checks rounds (with the fixer before each), agent sessions and review rounds, each item with its command or agent, exit code, duration and log",
      params: Params,
      query: z.object({}).strict(),
      handler: async ({ params }) => {
        const { snap, st } = await current(params.id, params.step);
        const attempts = stepAttempts({
          kind: st.kind,
          state: st.state,
          rounds: Array.isArray(st.kindState.rounds) ? st.kindState.rounds : [],
          running: runningRound(dirs.checks(), snap, st),
          dispatches: await dispatchesOf(store, params.id, snap.run.id, st.stepId),
        });
        return { body: { step: { id: st.stepId, kind: st.kind, state: st.state }, run: { id: snap.run.id, number: snap.run.number }, attempts } };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/api/ui/tasks/:id/steps/:step/log',
      access: 'read',
      tag: 'ui',
      summary: 'One attempt item\'s log from a byte offset (a check of a round, or an agent session), as text; X-Log-Next is where to ask next, X-Log-Done says it will not grow',
      params: Params,
      query: z
        .object({
          round: z.coerce.number().int().min(0).optional(),
          check: z.string().regex(CHECK_NAME, 'check: a check name (letters, digits, . _ -)').optional(),
          session: z.string().min(1).max(300).optional(),
          offset: z.coerce.number().int().min(0).default(0),
        })
        .strict()
        .refine((q) => (q.session !== undefined) !== (q.round !== undefined && q.check !== undefined), { message: 'give either round and check (a checks log) or session (an agent log)', path: ['session'] }),
      handler: async ({ params, query }) => {
        const { snap, st } = await current(params.id, params.step);
        let file: string | null = null;
        let done = st.state !== 'working';
        if (query.session !== undefined) {
          const d = (await dispatchesOf(store, params.id, snap.run.id, st.stepId)).find((x) => x.session === query.session);
          if (!d) throw notFound('session of step', `${query.session} (${st.stepId})`);
          done = done || d.finished !== null;
          for (const base of dirs.sessions()) {
            const dir = join(base, logDirName(d.session));
            if (!existsSync(dir)) continue;
            const gens = readdirSync(dir).filter((f) => /^\d+\.log$/.test(f)).map((f) => Number(f.slice(0, -4))).sort((a, b) => b - a);
            if (gens.length) {
              file = join(dir, `${gens[0]}.log`);
              break;
            }
          }
        } else {
          const round = query.round!;
          const check = query.check!;
          const recorded = (Array.isArray(st.kindState.rounds) ? (st.kindState.rounds as Array<{ round?: unknown; results?: Array<{ name?: unknown; logFile?: unknown }> }>) : [])
            .find((r) => r.round === round)?.results?.find((r) => r.name === check);
          if (recorded) done = true;
          if (recorded && typeof recorded.logFile === 'string' && existsSync(recorded.logFile)) file = recorded.logFile;
          else if (!recorded) {
            const running = runningRound(dirs.checks(), snap, st);
            if (running?.round === round && running.checks.includes(check)) {
              for (const base of dirs.checks()) {
                const f = join(roundDir(base, snap, st, round), `${check}.log`);
                if (existsSync(f)) file = f;
              }
            }
          }
        }
        if (!file) throw notFound('log', `${st.stepId} ${query.session ?? `round ${query.round} ${query.check}`}`, 'the log lives on the host that ran the step; `gantry up` serves the logs of its own factories');
        const c = readChunk(file, query.offset, done);
        const finished = done && c.next >= c.size;
        return { text: c.text, headers: { 'Content-Type': 'text/plain; charset=utf-8', 'X-Log-Next': String(c.next), 'X-Log-Size': String(c.size), 'X-Log-Done': finished ? '1' : '0' } };
      },
    }),
  ];
}
