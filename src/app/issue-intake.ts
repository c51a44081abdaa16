// Issue intake: a forge's issues carrying the project's intake label become tasks, and each task's
// outcome is echoed back to its issue once. Idempotent by construction: a task's idempotency key names
// its issue (`github:owner/name#N`), so a re-sync submits nothing new; an echo is recorded as a
// `forge.issue_echoed` event on the task, so it is posted once. The deciders are pure
// (src/domain/forge/intake.ts); this is the thin I/O around them.
import { dueForIntake, intakeKey, issueEcho, issueOf, issuesToTake, outcomeOf, taskFromIssue, type IssueFacts } from '../domain/forge/intake.js';
import { GantryError } from '../domain/errors.js';
import type { Task } from '../domain/task.js';
import type { Project, Store } from '../ports/store.js';
import type { RunRepo } from '../ports/engine.js';
import { scmFor } from '../scm/registry.js';
import { RunRepoSql } from '../store/run-repo.js';
import { submitTask } from './submit.js';

export interface IntakeForge {
  /** owner/name: the key's namespace. */
  readonly repo: string;
  labelledIssues(label: string): Promise<IssueFacts[]>;
  echoToIssue(issue: number, echo: { comment: string; label: string }): Promise<void>;
}

export interface IntakeReport {
  created: { issue: number; taskId: string }[];
  existing: { issue: number; taskId: string }[];
  echoed: { issue: number; taskId: string; label: string }[];
}

export const ECHOED = 'forge.issue_echoed';

export async function syncIssues(store: Store, runs: Pick<RunRepo, 'current'>, project: Project, forge: IntakeForge, label: string): Promise<IntakeReport> {
  const report: IntakeReport = { created: [], existing: [], echoed: [] };
  for (const issue of issuesToTake(await forge.labelledIssues(label), label, new Set())) {
    const r = await takeIssue(store, project, forge.repo, issue);
    (r.created ? report.created : report.existing).push({ issue: issue.number, taskId: r.taskId });
  }
  for (const task of await intakeTasks(store, project.id, forge.repo)) {
    const issue = issueOf(task, forge.repo)!;
    const outcome = outcomeOf(task, await mergeOf(runs, task.id));
    if (!outcome) continue;
    if ((await store.events.list({ taskId: task.id, type: ECHOED, limit: 1 })).some((e) => e.type === ECHOED)) continue;
    const echo = issueEcho(outcome, task.id);
    await forge.echoToIssue(issue, echo);
    await store.write(async (tx) => tx.emit({ type: ECHOED, taskId: task.id, payload: { issue, label: echo.label } }));
    report.echoed.push({ issue, taskId: task.id, label: echo.label });
  }
  return report;
}

/** One issue → its task, idempotent on the issue (the poll, a manual sync and the `issues` webhook all take issues in here). */
export async function takeIssue(store: Store, project: Project, repo: string, issue: IssueFacts): Promise<{ taskId: string; created: boolean }> {
  const { title, body } = taskFromIssue(issue);
  const key = intakeKey(repo, issue.number);
  // Taken in before: its task stands, even if the issue was edited since (the key names the issue, not its text).
  const prev = await store.tasks.byIdempotencyKey(key);
  if (prev) return { taskId: prev.id, created: false };
  const r = await submitTask(store, { project: project.id, title: title.slice(0, 200), body, idempotencyKey: key, priority: 0, capabilities: [], after: [] });
  return { taskId: r.task.id, created: r.created };
}

async function intakeTasks(store: Store, projectId: string, repo: string): Promise<Task[]> {
  const out: Task[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.tasks.list({ projectId, limit: 500, ...(cursor ? { cursor } : {}) });
    out.push(...page.tasks.filter((t) => issueOf(t, repo) !== null));
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return out;
}

async function mergeOf(runs: Pick<RunRepo, 'current'>, taskId: string): Promise<{ prUrl: string | null; mergedSha: string | null }> {
  const run = await runs.current(taskId);
  const out = run?.steps.find((s) => s.kind === 'merge')?.output;
  return { prUrl: typeof out?.prUrl === 'string' ? out.prUrl : null, mergedSha: typeof out?.mergedSha === 'string' ? out.mergedSha : null };
}

/** The intake settings of a project, or a clear error when it has none. */
export function intakeLabel(project: Project): string {
  const gh = (project.config.scm as { adapter?: unknown; github?: { intake?: { label?: unknown } } } | undefined);
  const label = gh?.github?.intake?.label;
  if (gh?.adapter !== 'github' || typeof label !== 'string') {
    throw new GantryError('validation', `project ${project.name} takes no issues in`, {
      field: 'scm.github.intake.label',
      hint: 'set scm.adapter: github and scm.github.intake.label in its gantry.yaml, then reload it',
    });
  }
  return label;
}

/** Syncs one project through its configured forge adapter (made for this host's home, as a factory makes it). */
export async function syncProjectIssues(store: Store, home: string, project: Project): Promise<IntakeReport> {
  const label = intakeLabel(project);
  const scm = scmFor({ home, project });
  if (!isIntakeForge(scm)) throw new GantryError('validation', `scm.adapter of ${project.name} cannot list issues`, { field: 'scm.adapter', hint: 'issue intake needs scm.adapter: github' });
  return syncIssues(store, new RunRepoSql(store), project, scm, label);
}

export function isIntakeForge(x: unknown): x is IntakeForge {
  const f = x as Partial<IntakeForge>;
  return typeof f.repo === 'string' && typeof f.labelledIssues === 'function' && typeof f.echoToIssue === 'function';
}

/** The coordinator's intake poll: every project with scm.github.intake.pollSeconds is synced on its schedule. */
export function startIntakePolls(store: Store, home: string, log: { warn(msg: string, f?: Record<string, unknown>): void }, tickMs = 5_000): { stop(): void } {
  const last = new Map<string, number>();
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    void (async () => {
      for (const p of dueForIntake(await store.projects.list(), last, Date.now())) {
        last.set(p.id, Date.now());
        await syncProjectIssues(store, home, p).catch((e: unknown) => log.warn('issue intake failed', { project: p.name, err: e instanceof Error ? e.message : String(e) }));
      }
    })()
      .catch((e: unknown) => log.warn('issue intake failed', { err: String(e) }))
      .finally(() => (busy = false));
  }, tickMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
