// Pure deciders for issue intake (not wired yet: see docs/repositories.md "Not yet"): which forge issues
// become tasks, and what is echoed back to an issue when its task ends.

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
