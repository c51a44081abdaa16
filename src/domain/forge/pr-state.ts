// A pull request's state as the session lifecycle's change axis sees it (issue #13: "PR state feeds the
// change axis"). The engine's forge polls and the coordinator's webhook deliveries both read the PR
// (open/closed/merged, mergeable, head) and its hosted CI, and turn them into ONE ScmObservation here,
// so the reactions for checks failing, conflicts, merged and closed fire whichever way GitHub told us.
// Whether the pipeline repairs a condition itself (its checks or conflicts/merge step still lies
// ahead) decides `handledBy`: then the reaction is recorded and nobody is paged; otherwise it fires.
// Also: which task a webhook delivery is about, and what a person closing the PR asks of them.
import { GantryError } from '../errors.js';
import type { ScmObservation } from '../lifecycle-rules/scm.js';
import type { HostedVerdict } from './verdicts.js';

export interface PullSnapshot {
  state: 'open' | 'closed';
  merged: boolean;
  /** null: the forge has not computed it yet. */
  mergeable: boolean | null;
  headSha: string | null;
}

/**
 * What the pipeline will still do about the change: a checks step re-tests CI, a conflicts or merge step
 * re-tests mergeability, a pr-review step sends requested changes back to the producer.
 */
export interface PipelineAhead {
  checks: boolean;
  conflicts: boolean;
  review: boolean;
}

const NOTHING_AHEAD: PipelineAhead = { checks: false, conflicts: false, review: false };

/** The steps at or after the run's current step (a finished run has nothing ahead). */
export function pipelineAhead(kinds: readonly string[], currentIdx: number, finished: boolean): PipelineAhead {
  if (finished) return NOTHING_AHEAD;
  const rest = kinds.slice(Math.max(0, currentIdx));
  return { checks: rest.includes('checks'), conflicts: rest.includes('conflicts') || rest.includes('merge'), review: rest.includes('pr-review') };
}

/** The reviews' verdict, when the look read them (the pr-review step's poll). */
export interface ReviewLook {
  state: 'approved' | 'changes_requested' | 'none';
  feedback: string;
}

/**
 * One observation of the change from the forge: the PR's state, its mergeability and (when read) its
 * hosted CI and reviews. A look carries everything it saw, so a later look that did not read CI (or an
 * approval) never clears a failing CI it did not re-check.
 */
export function pullObservation(pull: PullSnapshot, ci: HostedVerdict | null, ahead: PipelineAhead, review: ReviewLook | null = null): ScmObservation {
  const headSha = pull.headSha ?? null;
  if (pull.merged) return { state: 'merged', headSha };
  if (pull.state === 'closed') return { state: 'closed', headSha, detail: 'the pull request was closed without merging' };
  const failing = ci?.verdict === 'failing' ? ci.checks.filter((c) => !c.ok) : [];
  const checks = ci?.verdict === 'failing' ? 'failing' : ci?.verdict === 'passing' ? 'passing' : undefined;
  const conflict = pull.mergeable === null ? undefined : !pull.mergeable;
  // Handled only when every condition this observation raises is one the pipeline will repair.
  const reviewed = review && review.state !== 'none' ? review.state : undefined;
  const raised = [checks === 'failing' ? ahead.checks : null, conflict === true ? ahead.conflicts : null, reviewed === 'changes_requested' ? ahead.review : null].filter((x): x is boolean => x !== null);
  const handled = raised.length > 0 && raised.every(Boolean);
  const detail = [failing.map((c) => `### ${c.name}\n${c.detail}`).join('\n\n'), reviewed === 'changes_requested' ? review!.feedback : ''].filter(Boolean).join('\n\n');
  return {
    state: 'open',
    headSha,
    ...(checks ? { checks } : {}),
    ...(conflict !== undefined ? { conflict } : {}),
    ...(reviewed ? { review: reviewed } : {}),
    ...(detail ? { detail: detail.slice(-4000) } : {}),
    ...(handled ? { handledBy: 'pipeline' as const } : {}),
  };
}

/** The webhook events that tell something about a pull request's state or CI (a task's change). */
export const CHANGE_EVENTS = ['pull_request', 'pull_request_review', 'check_run', 'check_suite', 'status'] as const;

const str = (x: unknown): string | null => (typeof x === 'string' && x ? x : null);
const obj = (x: unknown): Record<string, unknown> => (typeof x === 'object' && x !== null ? (x as Record<string, unknown>) : {});

/**
 * The branches a delivery is about (its repository's `owner/name` too), read from GitHub's documented
 * payloads: a PR's head ref, a check run's suite branch and PRs, a check suite's branch, a status's branches.
 */
export function deliveryBranches(event: string, payload: unknown): { repo: string | null; branches: string[] } {
  const p = obj(payload);
  const repo = str(obj(p.repository).full_name);
  const out: (string | null)[] = [];
  const prs = (x: unknown): void => {
    if (Array.isArray(x)) for (const pr of x) out.push(str(obj(obj(pr).head).ref));
  };
  if (event === 'pull_request' || event === 'pull_request_review') out.push(str(obj(obj(p.pull_request).head).ref));
  if (event === 'check_run') {
    out.push(str(obj(obj(p.check_run).check_suite).head_branch));
    prs(obj(p.check_run).pull_requests);
  }
  if (event === 'check_suite') {
    out.push(str(obj(p.check_suite).head_branch));
    prs(obj(p.check_suite).pull_requests);
  }
  if (event === 'status' && Array.isArray(p.branches)) for (const b of p.branches) out.push(str(obj(b).name));
  return { repo, branches: [...new Set(out.filter((b): b is string => b !== null))] };
}

/** The task a branch belongs to: Gantry's task branches are `gantry/<task id>`. */
export function taskOfBranch(branch: string): string | null {
  const m = /^gantry\/([\w.-]+)$/.exec(branch);
  return m ? m[1]! : null;
}

/**
 * A forge refusal a person must settle: the PR was closed without merging, or someone else pushed to the
 * task branch. `failed`: why the last answer's action (reopen, overwrite) did not work, when it did not.
 */
export type ForgeRefusal = ({ kind: 'closed'; pull: string; url: string | null } | { kind: 'foreign_push'; branch: string; remoteSha: string }) & { failed?: string };

/**
 * What the run parks on (a `decision`): a closed PR is a refusal, not something to route around by
 * opening another — `reopen` (Gantry reopens it and the step goes on) or reject (the task fails). Someone
 * else's commit on the task branch is never silently overwritten — `overwrite` (Gantry's work replaces
 * it) or reject.
 */
export function refusalWait(r: ForgeRefusal): { kind: 'decision'; question: string; options: string[]; detail: Record<string, unknown> } {
  const failed = r.failed ? { failed: r.failed } : {};
  const why = r.failed && !/[.!?]$/.test(r.failed) ? `${r.failed}.` : r.failed;
  if (r.kind === 'closed') {
    const closed = `Pull request #${r.pull}${r.url ? ` (${r.url})` : ''} was closed without merging.`;
    return {
      kind: 'decision',
      question: r.failed
        ? `${closed} Gantry could not reopen it: ${why} Restore its branch on the forge if it was deleted (or reopen it there yourself) and check the forge is reachable, then answer "reopen" again; or reject the task.`
        : `${closed} Answer "reopen" to reopen it and go on, or reject the task.`,
      options: ['reopen'],
      detail: { pull: r.pull, url: r.url, closedBy: 'person', ...failed },
    };
  }
  const pushed = `Someone else pushed ${r.remoteSha.slice(0, 12)} to ${r.branch}, Gantry's task branch.`;
  return {
    kind: 'decision',
    question: r.failed
      ? `${pushed} Gantry could not overwrite it: ${why} Check the forge is reachable and the branch still exists, then answer "overwrite" again; or reject the task.`
      : `${pushed} Answer "overwrite" to replace it with the task's work, or reject the task (take the commit into the task yourself first if you want it).`,
    options: ['overwrite'],
    detail: { branch: r.branch, remoteSha: r.remoteSha, ...failed },
  };
}

/** The answer that settles a refusal. */
export const refusalAnswer = (r: ForgeRefusal): string => (r.kind === 'closed' ? 'reopen' : 'overwrite');

/** The decision a closed pull request parks on. */
export const closedChangeWait = (pull: string, url: string | null) => refusalWait({ kind: 'closed', pull, url });

/** Thrown by a forge adapter (or its polls) when the task's pull request was closed without merging; the engine parks on it. */
export function changeClosedError(pull: string, url: string | null): GantryError {
  return new GantryError('forbidden', `pull request #${pull} was closed without merging`, {
    hint: 'reopen it (answer "reopen") to go on, or reject the task',
    details: { refusal: { kind: 'closed', pull, url } satisfies ForgeRefusal },
  });
}

/** Thrown by a forge adapter's push when the task branch holds a commit Gantry never had; the engine parks on it. */
export function foreignPushError(branch: string, remoteSha: string): GantryError {
  return new GantryError('forbidden', `someone else pushed ${remoteSha.slice(0, 12)} to ${branch}: not overwritten`, {
    hint: 'answer "overwrite" to replace it with the task\'s work, or reject the task',
    details: { refusal: { kind: 'foreign_push', branch, remoteSha } satisfies ForgeRefusal },
  });
}

/**
 * The answer's own action failed (GitHub refused the reopen with 422 because the branch was deleted, the
 * network was down): the same refusal, carrying why, so the run parks on it again instead of failing.
 */
export function refusalRetryError(r: ForgeRefusal, e: unknown): GantryError {
  const why = (e instanceof Error ? e.message : String(e)).slice(0, 1000);
  const { failed: _last, ...refusal } = r;
  const what = refusal.kind === 'closed' ? `reopening pull request #${refusal.pull}` : `overwriting ${refusal.branch}`;
  return new GantryError('forbidden', `${what} failed: ${why}`, {
    hint: `fix the cause on the forge, then answer "${refusalAnswer(r)}" again, or reject the task`,
    details: { refusal: { ...refusal, failed: why } satisfies ForgeRefusal },
  });
}

/** The refusal an error reports, or null when it is another error. */
export function refusalOf(e: unknown): ForgeRefusal | null {
  if (!(e instanceof GantryError)) return null;
  const r = e.details?.refusal as ForgeRefusal | undefined;
  return r && (r.kind === 'closed' || r.kind === 'foreign_push') ? r : null;
}

/** The closed pull request an error reports, or null. */
export function closedChangeOf(e: unknown): { pull: string; url: string | null } | null {
  const r = refusalOf(e);
  return r?.kind === 'closed' ? { pull: r.pull, url: r.url } : null;
}
