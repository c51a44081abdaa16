// Waiting on a forge's pull request reviews (the `pr-review` step, through Scm.awaitReview): push the
// head, open or update the pull request, then look at its reviews — polling with an injected clock —
// until the review gate decides (enough approvals, or changes requested on this head) or time runs out.
import { reviewGate } from '../domain/forge/verdicts.js';
import { changeClosedError } from '../domain/forge/pr-state.js';
import type { ReviewWait, ReviewWaitResult } from '../ports/engine.js';
import type { ForgeScm } from './github.js';
import type { HostedClock } from './clock.js';

export async function awaitReview(scm: ForgeScm, w: ReviewWait, clock: HostedClock): Promise<ReviewWaitResult> {
  const started = clock.now();
  const { headSha } = await scm.pushBranch(w.workspace, w.branch);
  const change = await scm.openChange({ taskId: w.taskId, branch: w.branch, base: w.base, title: w.title, ...(w.body !== undefined ? { body: w.body } : {}) });
  for (;;) {
    // The PR itself on every look: closed by a person ends the wait (the run parks on it); merged by a
    // person passes the gate (the merge step records it); its state and hosted CI feed the change axis.
    const pull = await scm.pullFacts(change);
    if (pull.state === 'closed' && !pull.merged) throw changeClosedError(String(change.ref), pull.url);
    const v = await scm.reviews(change);
    // One look carries the CI and the reviews together: an approval never hides a red CI it did not re-check.
    if (w.onPull) await w.onPull(pull, pull.merged ? null : await scm.hostedChecks(change, pull.headSha ?? headSha), { state: v.state, feedback: v.feedback });
    if (pull.merged) return { type: 'pass', approvals: v.approvals, pull: change.ref, headSha };
    const g = reviewGate(v, headSha, w.approvals);
    if (g.type !== 'wait') return { ...g, pull: change.ref, headSha };
    if (w.signal?.aborted || clock.now() - started + w.everyMs > w.timeoutMs) return { type: 'timeout', reason: g.reason, pull: change.ref, headSha };
    // Only a webhook delivery about this pull request (its branch, number or head) ends the sleep early.
    await clock.sleep(w.everyMs, w.signal, { ...(scm.repo ? { repo: scm.repo } : {}), branch: w.branch, pull: change.ref, headSha });
  }
}
