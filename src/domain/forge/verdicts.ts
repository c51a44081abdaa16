// Pure deciders for a forge's view of a change (GitHub first; any forge maps its payloads onto these
// shapes): a pull request's state → the change axis, hosted CI (check runs + commit statuses) → a
// verdict, and reviews with line comments → a review verdict with the feedback an agent reworks from.
/** As the Scm port's ChangeState (domain stays free of ports). */
export type ChangeState = 'open' | 'merged' | 'closed';

export interface PullFacts {
  state: 'open' | 'closed';
  merged: boolean;
  /** null: the forge has not computed it yet. */
  mergeable: boolean | null;
}

/** The change's state and whether it conflicts (`undefined`: not known yet). */
export function pullState(p: PullFacts): { state: ChangeState; conflict?: boolean } {
  if (p.merged) return { state: 'merged' };
  if (p.state === 'closed') return { state: 'closed' };
  return p.mergeable === null ? { state: 'open' } : { state: 'open', conflict: !p.mergeable };
}

export interface CheckRunFacts {
  name: string;
  status: string;
  conclusion: string | null;
  /** Title, summary and text of the run's output, joined (the fixer reads it). */
  output: string;
  url: string | null;
}
export interface StatusFacts {
  context: string;
  state: string;
  description: string | null;
  url: string | null;
}

export interface HostedCheck {
  name: string;
  ok: boolean;
  detail: string;
}
export type HostedVerdict =
  | { verdict: 'pending'; waitingOn: string[] }
  | { verdict: 'passing'; checks: HostedCheck[] }
  | { verdict: 'failing'; checks: HostedCheck[] }
  /** Nothing reported at all (no CI configured on the forge, or not started yet). */
  | { verdict: 'none' };

// GitHub's conclusions: success, neutral and skipped do not block a merge; everything else is red.
const GREEN = new Set(['success', 'neutral', 'skipped']);

/**
 * Hosted CI on one commit. A check is pending while a run is not `completed` or a status is `pending`;
 * the latest run of a name wins (a re-run replaces a red one). `required` names must be present.
 */
export function hostedVerdict(runs: readonly CheckRunFacts[], statuses: readonly StatusFacts[], required: readonly string[] = []): HostedVerdict {
  const checks = new Map<string, { pending: boolean; ok: boolean; detail: string }>();
  for (const r of runs) {
    const done = r.status === 'completed';
    checks.set(r.name, { pending: !done, ok: done && GREEN.has(r.conclusion ?? ''), detail: [`conclusion: ${r.conclusion ?? r.status}`, r.output, r.url ?? ''].filter(Boolean).join('\n') });
  }
  for (const s of statuses) {
    checks.set(s.context, { pending: s.state === 'pending', ok: s.state === 'success', detail: [`state: ${s.state}`, s.description ?? '', s.url ?? ''].filter(Boolean).join('\n') });
  }
  const missing = required.filter((n) => !checks.has(n));
  const pending = [...checks].filter(([, c]) => c.pending).map(([n]) => n);
  if (checks.size === 0 && missing.length === 0) return { verdict: 'none' };
  if (missing.length > 0 || pending.length > 0) return { verdict: 'pending', waitingOn: [...missing, ...pending] };
  const all = [...checks].map(([name, c]) => ({ name, ok: c.ok, detail: c.detail }));
  return all.every((c) => c.ok) ? { verdict: 'passing', checks: all } : { verdict: 'failing', checks: all };
}

export interface ReviewFacts {
  id: number;
  user: string;
  state: string;
  body: string;
  commitId: string | null;
}
export interface LineCommentFacts {
  reviewId: number | null;
  path: string;
  line: number | null;
  body: string;
}
export interface ReviewVerdict {
  state: 'approved' | 'changes_requested' | 'none';
  approvals: number;
  /** The requests to address (changes_requested): each reviewer's text and its line comments as path:line. */
  feedback: string;
  /** The reviews that make up the verdict. */
  reviewIds: number[];
  /** The commits the changes were requested on: a request on an older head was already reworked. */
  requestedOn: string[];
}

/**
 * Each reviewer's latest APPROVED / CHANGES_REQUESTED review counts (COMMENTED never changes a
 * verdict; DISMISSED withdraws). Any reviewer requesting changes wins over approvals, as on GitHub.
 */
export function reviewVerdict(reviews: readonly ReviewFacts[], comments: readonly LineCommentFacts[]): ReviewVerdict {
  const latest = new Map<string, ReviewFacts>();
  for (const r of reviews) {
    if (r.state === 'APPROVED' || r.state === 'CHANGES_REQUESTED') latest.set(r.user, r);
    else if (r.state === 'DISMISSED') latest.delete(r.user);
  }
  const requested = [...latest.values()].filter((r) => r.state === 'CHANGES_REQUESTED');
  const approvals = [...latest.values()].filter((r) => r.state === 'APPROVED').length;
  if (requested.length === 0) return { state: approvals > 0 ? 'approved' : 'none', approvals, feedback: '', reviewIds: [...latest.values()].map((r) => r.id), requestedOn: [] };
  const feedback = requested
    .map((r) => {
      const lines = comments.filter((c) => c.reviewId === r.id).map((c) => `- ${c.path}${c.line !== null ? `:${c.line}` : ''}: ${c.body}`);
      return [`${r.user} requested changes${r.body ? `: ${r.body}` : ''}`, ...lines].join('\n');
    })
    .join('\n\n');
  return { state: 'changes_requested', approvals, feedback, reviewIds: requested.map((r) => r.id), requestedOn: requested.map((r) => r.commitId ?? '') };
}

export type ReviewGate =
  | { type: 'pass'; approvals: number }
  | { type: 'rework'; feedback: string }
  | { type: 'wait'; reason: string };

/**
 * The review gate on a change's head: enough approvals pass; changes requested on this head send the
 * producer back with the feedback; changes requested only on an earlier head (already reworked) wait
 * for the reviewer to look again, like too few approvals do.
 */
export function reviewGate(v: ReviewVerdict, headSha: string, required: number): ReviewGate {
  if (v.state === 'changes_requested') {
    if (v.requestedOn.some((c) => c === headSha || c === '')) return { type: 'rework', feedback: v.feedback };
    return { type: 'wait', reason: 'changes were requested on an earlier head: waiting for the reviewer to look again' };
  }
  if (v.approvals >= required) return { type: 'pass', approvals: v.approvals };
  return { type: 'wait', reason: `${v.approvals} of ${required} approving review(s)` };
}

/** owner/name from a GitHub remote URL (https, ssh, scp-like), or null when it is not one. */
export function repoFromRemote(remote: string): string | null {
  const m = /^(?:https?:\/\/(?:[^@/]+@)?[^/]+\/|ssh:\/\/(?:[^@/]+@)?[^/]+\/|[\w.-]+@[^:]+:)([\w.-]+)\/([\w.-]+?)(?:\.git)?\/?$/.exec(remote.trim());
  return m ? `${m[1]}/${m[2]}` : null;
}
