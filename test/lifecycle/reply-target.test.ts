// Where a reply to a session goes (`decideReplyTarget`): it answers the run only when that run is
// parked on this session's own question; otherwise it waits queued, or is refused with the reason.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decideReplyTarget, type ReplyRun, type ReplyStep, type ReplyTarget } from '../../src/domain/lifecycle-rules/reply-target.js';
import type { Waiting } from '../../src/domain/pipeline/types.js';

const S = { id: 'r-1_0_main-0_1', runId: 'r-1' };
const wait = (kind: Waiting['kind'], options: string[] = []): Waiting => ({ kind, stepIdx: 0, stepId: 'implement', question: 'Which database?', options });
const parked = (w: Waiting, id = 'r-1'): ReplyRun => ({ id, state: 'parked', waiting: w });
const ran = (sessionId: string | null = S.id): ReplyStep => ({ sessionId });

describe('decideReplyTarget', () => {
  const rows: Array<[string, { runId: string | null }, ReplyRun | null, ReplyStep | null, string, ReplyTarget]> = [
    ['parked on its needs-input question: the reply answers the run', S, parked(wait('needs_input')), ran(), 'use sqlite', { kind: 'answer', action: 'reply' }],
    ['parked on its decision, text is an option: answer', S, parked(wait('decision', ['sqlite', 'postgres'])), ran(), ' sqlite ', { kind: 'answer', action: 'answer' }],
    ['a decision without options takes free text', S, parked(wait('decision')), ran(), 'either', { kind: 'answer', action: 'answer' }],
    ['a decision, text not an option: refused with the options', S, parked(wait('decision', ['sqlite', 'postgres'])), ran(), 'mysql', { kind: 'refuse', reason: 'the agent asked to choose one of: sqlite, postgres; "mysql" is not one of them', hint: 'reply with one of the options exactly: sqlite | postgres' }],
    ['the run is working (the agent has not asked, or the answer is on its way): wait', S, { id: 'r-1', state: 'running', waiting: null }, null, 'x', { kind: 'wait', why: 'run_not_waiting' }],
    ['parked on an approval, not a question: wait', S, parked(wait('approval')), ran(), 'x', { kind: 'wait', why: 'waits_for_approval' }],
    ['parked on a review cap: wait', S, parked(wait('review_cap')), ran(), 'x', { kind: 'wait', why: 'waits_for_review_cap' }],
    ['another launch (a later one of the same conversation) asked: wait', S, parked(wait('needs_input')), ran('r-1_0_answer-1_2'), 'x', { kind: 'wait', why: 'another_session_asked' }],
    ['the step names no session: wait', S, parked(wait('needs_input')), ran(null), 'x', { kind: 'wait', why: 'another_session_asked' }],
    ['a session of an older run (restarted since): wait', S, parked(wait('needs_input'), 'r-2'), ran(), 'x', { kind: 'wait', why: 'not_current_run' }],
    ['the task has no run: wait', S, null, null, 'x', { kind: 'wait', why: 'not_current_run' }],
    ['a session of no run: wait', { runId: null }, parked(wait('needs_input')), ran(), 'x', { kind: 'wait', why: 'no_run' }],
  ];
  for (const [name, session, run, step, text, want] of rows) {
    it(name, () => assert.deepEqual(decideReplyTarget({ id: S.id, ...session }, run, step, { text, source: 'human' }), want));
  }
  // Refused, not held: held, it would block a person's reply queued behind it forever.
  for (const [name, run] of [['parked on its question', parked(wait('needs_input'))], ['working', { id: 'r-1', state: 'running', waiting: null }]] as const) {
    it(`a reaction's input (failing checks sent to the agent) never answers and is refused (${name})`, () => {
      const t = decideReplyTarget(S, run, ran(), { text: 'checks failed', source: 'reaction:checks-failed' });
      assert.equal(t.kind, 'refuse');
      assert.match(t.kind === 'refuse' ? t.reason : '', /^reaction:checks-failed: a message from a reaction cannot reach this agent/);
    });
  }
});
