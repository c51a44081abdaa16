// Failure kinds with one-line remedies (DESIGN §6). The first recorded failure of a run wins.
export const FAILURE_KINDS = [
  'agent',
  'output',
  'session_lost',
  'timeout',
  'checks_exhausted',
  'conflicts_exhausted',
  'rejected',
  'fenced',
  'budget',
  'cancelled',
  'unknown',
] as const;
export type FailureKind = (typeof FAILURE_KINDS)[number];

export const REMEDIES: Readonly<Record<FailureKind, string>> = {
  agent: 'read the session log (`gantry logs <task>`), adjust the brief or agent, then `gantry retry <task>`',
  output: "the agent's structured output was missing or did not match the step's `output:` schema; read its reply (`gantry logs <task>`), make the step's prompt or schema clearer, then `gantry retry <task>`",
  session_lost: 'the agent process vanished repeatedly; check the factory host, then `gantry retry <task>`',
  timeout: 'the step ran past a time limit (the message names it): raise `timeout:` on the step (default 3600 s), `agents.<agent>.timeoutSeconds` or `agents.<agent>.inactivitySeconds` in gantry.yaml, or split the task, then `gantry retry <task>`',
  checks_exhausted: 'checks stayed red after every fix; read the attached check output, fix by hand or raise maxFixes, then `gantry retry <task>`',
  conflicts_exhausted: 'the branch still conflicts with base; resolve by hand on gantry/<task> or raise maxFixes, then `gantry retry <task>`',
  rejected: 'a person rejected the work; submit a new task or `gantry restart <task> --from <step>`',
  fenced: 'another factory took the task over (lease lost); nothing to do unless it repeats',
  budget: 'the budget is spent; raise budgets in gantry.yaml or wait for it to reset, then `gantry retry <task>`',
  cancelled: 'the run was cancelled; `gantry retry <task>` resumes it',
  unknown: 'an unexpected error; read the event log (`gantry show <task>`) and `gantry retry <task>`',
};

export interface Failure {
  kind: FailureKind;
  message: string;
}

export const remedyOf = (kind: string): string => REMEDIES[(FAILURE_KINDS as readonly string[]).includes(kind) ? (kind as FailureKind) : 'unknown'];

/** Facts about a thrown error → failure kind. Pure: the caller extracts the facts. */
export function classifyError(e: { code?: string; name?: string; message: string }): Failure {
  if (e.code === 'stale_epoch') return { kind: 'fenced', message: e.message };
  if (e.name === 'AbortError' || e.code === 'ABORT_ERR') return { kind: 'cancelled', message: e.message };
  if (e.code === 'ETIMEDOUT' || /timed? ?out/i.test(e.message)) return { kind: 'timeout', message: e.message };
  return { kind: 'unknown', message: e.message };
}

/** Keeps the first failure: a later cascade (cancel after a fence, …) never overwrites the cause. */
export const firstFailure = (existing: Failure | null, next: Failure): Failure => existing ?? next;
