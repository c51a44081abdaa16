// Pure deciders for issue intake (wired in src/app/issue-intake.ts): which forge issues become tasks,
// which task came from which issue, what is echoed back when it ends, and when a project's poll is due.
import type { Task } from '../task.js';

export interface IssueFacts {
  number: number;
  title: string;
  body: string;
  labels: readonly string[];
  state: 'open' | 'closed';
  /** GitHub lists pull requests among issues; they are never taken in. */
  isPull: boolean;
  url: string;
}

/** The open, labelled, non-PR issues not yet taken in (`known`: issue numbers that already have a task). */
export function issuesToTake(issues: readonly IssueFacts[], label: string, known: ReadonlySet<number>): IssueFacts[] {
  return issues.filter((i) => i.state === 'open' && !i.isPull && i.labels.includes(label) && !known.has(i.number));
}

export function taskFromIssue(i: IssueFacts): { title: string; body: string } {
  return { title: i.title.trim() || `Issue #${i.number}`, body: `${i.body.trim()}\n\nFrom issue #${i.number}: ${i.url}`.trim() };
}

export type TaskOutcome = { type: 'shipped'; pullUrl: string | null; mergedSha: string | null } | { type: 'failed'; reason: string };

/** The comment and label an issue gets when its task ends. */
export function issueEcho(o: TaskOutcome, taskId: string): { comment: string; label: string } {
  if (o.type === 'shipped') {
    const via = [o.pullUrl ? `pull request ${o.pullUrl}` : null, o.mergedSha ? `merge ${o.mergedSha}` : null].filter(Boolean).join(', ');
    return { comment: `Gantry shipped task ${taskId}${via ? ` (${via})` : ''}.`, label: 'gantry:shipped' };
  }
  return { comment: `Gantry's task ${taskId} failed: ${o.reason}`, label: 'gantry:failed' };
}

export const intakeKey = (repo: string, issue: number): string => `github:${repo}#${issue}`;

/** The issue a task was taken in from, or null. */
export function issueOf(task: Pick<Task, 'idempotencyKey'>, repo: string): number | null {
  const prefix = `github:${repo}#`;
  const k = task.idempotencyKey;
  if (!k?.startsWith(prefix)) return null;
  const n = Number(k.slice(prefix.length));
  return Number.isInteger(n) && n > 0 ? n : null;
}

/** What a finished task tells its issue; null while it is not finished. */
export function outcomeOf(task: Pick<Task, 'stage' | 'failureMessage'>, merge: { prUrl: string | null; mergedSha: string | null }): TaskOutcome | null {
  if (task.stage === 'shipped') return { type: 'shipped', pullUrl: merge.prUrl, mergedSha: merge.mergedSha };
  if (task.stage === 'failed' || task.stage === 'dead_letter') return { type: 'failed', reason: (task.failureMessage ?? 'it failed').slice(0, 500) };
  if (task.stage === 'cancelled') return { type: 'failed', reason: 'it was cancelled' };
  return null;
}

/** The projects whose intake poll is due (`last`: when each was last synced). Pure. */
export function dueForIntake<P extends { id: string; config: Record<string, unknown> }>(projects: readonly P[], last: ReadonlyMap<string, number>, now: number): P[] {
  return projects.filter((p) => {
    const s = p.config.scm as { adapter?: unknown; github?: { intake?: { label?: unknown; pollSeconds?: unknown } } } | undefined;
    const every = s?.github?.intake?.pollSeconds;
    if (s?.adapter !== 'github' || typeof s.github?.intake?.label !== 'string' || typeof every !== 'number') return false;
    const at = last.get(p.id);
    return at === undefined || now - at >= every * 1000;
  });
}


/** What an `issues` webhook delivery means for intake (never anything destructive). */
export type IssueEventAction = { type: 'take'; issue: IssueFacts } | { type: 'ignore'; reason: string };

/**
 * `opened`, `labeled` and `reopened` of an open issue carrying the intake label take it in at once (the
 * same idempotent submit the poll does); every other action — `unlabeled`, `closed`, `edited`,
 * `deleted` … — changes nothing: a task already made from the issue runs on, as with the poll.
 */
export function issueEvent(action: string | null, issue: IssueFacts | null, label: string): IssueEventAction {
  if (!issue) return { type: 'ignore', reason: 'no issue in the delivery' };
  if (action !== 'opened' && action !== 'labeled' && action !== 'reopened') return { type: 'ignore', reason: `issues.${action ?? '?'} changes nothing` };
  const [take] = issuesToTake([issue], label, new Set());
  return take ? { type: 'take', issue: take } : { type: 'ignore', reason: issue.isPull ? 'a pull request' : issue.state !== 'open' ? 'the issue is closed' : `no ${label} label` };
}

/** An issue's facts from an `issues` delivery's `issue` object (GitHub's documented payload). */
export function issueFromPayload(x: unknown): IssueFacts | null {
  if (typeof x !== 'object' || x === null) return null;
  const i = x as Record<string, unknown>;
  if (typeof i.number !== 'number' || typeof i.title !== 'string') return null;
  const labels = Array.isArray(i.labels) ? i.labels.map((l) => (typeof l === 'string' ? l : typeof l === 'object' && l !== null && typeof (l as { name?: unknown }).name === 'string' ? (l as { name: string }).name : '')).filter(Boolean) : [];
  return {
    number: i.number, title: i.title, body: typeof i.body === 'string' ? i.body : '', labels, state: i.state === 'closed' ? 'closed' : 'open',
    isPull: i.pull_request !== undefined && i.pull_request !== null, url: typeof i.html_url === 'string' ? i.html_url : '',
  };
}
