// Reaction deciders. `detectTriggers` reads a transition (before → after, plus the change fact that
// caused it) and names what happened; `decideReaction` weighs one trigger against its configured
// reaction and persisted memory (dedup signature, attempts, escalation) and says what to do.
import type { SessionRecord } from '../session.js';
import { isTerminal } from '../session.js';
import type { ChangeFact } from './change.js';

export const REACTION_KEYS = ['checks-failed', 'changes-requested', 'conflict', 'needs-input', 'stuck', 'exited'] as const;
export type ReactionKey = (typeof REACTION_KEYS)[number];
export type Priority = 'low' | 'normal' | 'high' | 'urgent';

export interface ReactionRule {
  action: 'send-to-agent' | 'notify' | 'none';
  /** Automatic sends to the agent before a person is notified instead. */
  retries: number;
  /** A condition still unresolved this long after it first fired escalates to a person. */
  escalateAfterMs: number | null;
  priority: Priority;
}

export interface Trigger {
  key: ReactionKey;
  /** Identity of this occurrence: the same signature never fires twice. */
  signature: string;
  /** What to send the agent (failing output, comments, guidance). */
  text: string | null;
  title: string;
  /** The pipeline repairs this occurrence itself: the reaction is recorded, nothing is sent. */
  handledBy?: 'pipeline';
}

export interface ReactionMemory {
  state: 'active' | 'escalated' | 'resolved';
  attempts: number;
  lastSignature: string | null;
  firstAt: number | null;
}

const digest = (s: string): string => {
  // FNV-1a: a short, stable identity for evidence text (not security relevant).
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16);
};

const REBASE_GUIDANCE =
  'Your branch no longer merges cleanly into its base. Fetch the base branch, rebase onto it (or merge it in), ' +
  'resolve every conflict keeping both sides\' intent, run the checks, and commit the result.';

const occurrence = (fact: ChangeFact): string => fact.headSha ?? digest(fact.detail ?? '');

/** What happened in one transition. Resolutions name conditions that have cleared. */
export function detectTriggers(
  before: SessionRecord,
  after: SessionRecord,
  fact: ChangeFact | null,
): { fired: Trigger[]; resolved: ReactionKey[] } {
  const fired: Trigger[] = [];
  const resolved: ReactionKey[] = [];
  if (fact) {
    const by = fact.handledBy ? { handledBy: fact.handledBy } : {};
    if (fact.state === 'checks_failing') {
      fired.push({ key: 'checks-failed', signature: `checks:${occurrence(fact)}`, title: 'Checks failed',
        text: `The checks on your change failed. Fix the failures below, run the checks, and commit.\n\n${fact.detail ?? '(no output captured)'}`, ...by });
    } else if (before.change === 'checks_failing') resolved.push('checks-failed');
    if (fact.state === 'changes_requested') {
      fired.push({ key: 'changes-requested', signature: `review:${occurrence(fact)}`, title: 'Changes requested',
        text: `A reviewer requested changes. Address every comment below and commit.\n\n${fact.detail ?? '(no comments captured)'}`, ...by });
    } else if (before.change === 'changes_requested') resolved.push('changes-requested');
    if (fact.conflict === true) {
      fired.push({ key: 'conflict', signature: `conflict:${fact.headSha ?? 'head'}`, title: 'Merge conflict', text: REBASE_GUIDANCE, ...by });
    } else if (fact.conflict === false) resolved.push('conflict');
  }
  if (after.state !== before.state) {
    // A question from a session the pipeline runs ends its turn and parks the run: that wait carries the
    // one notification. Permission prompts park no run, so they are the lifecycle's to announce.
    const runAsks = after.runId !== null && after.reason === 'question';
    if (after.state === 'needs_input' && !runAsks) {
      fired.push({ key: 'needs-input', signature: `input:${after.rev}`, title: after.reason === 'permission' ? 'Agent is blocked on a permission prompt' : 'Agent needs input', text: null });
    }
    if (before.state === 'needs_input') resolved.push('needs-input');
    if (after.state === 'stuck') fired.push({ key: 'stuck', signature: `stuck:${after.rev}`, title: `Session is stuck (${after.reason ?? 'unknown'})`, text: null });
    if (before.state === 'stuck') resolved.push('stuck');
    if (after.state === 'terminated' && after.reason !== null && /^(exit|signal):/.test(after.reason)) {
      fired.push({ key: 'exited', signature: `exited:${after.rev}`, title: `Agent exited (${after.reason})`, text: null });
    }
  }
  return { fired, resolved };
}

export type ReactionDecision =
  | { kind: 'skip'; why: string }
  /** The pipeline's own fixer/resolver is this reaction: remember the occurrence, send nothing, start no escalation clock. */
  | { kind: 'handled'; memory: ReactionMemory }
  | { kind: 'send'; memory: ReactionMemory }
  | { kind: 'notify'; memory: ReactionMemory; escalation: boolean };

export function decideReaction(
  t: Trigger,
  rule: ReactionRule,
  mem: ReactionMemory | undefined,
  session: Pick<SessionRecord, 'state'>,
  now: number,
): ReactionDecision {
  if (rule.action === 'none') return { kind: 'skip', why: 'disabled' };
  if (mem && mem.state !== 'resolved' && mem.lastSignature === t.signature) return { kind: 'skip', why: 'duplicate' };
  const live = mem && mem.state !== 'resolved' ? mem : undefined;
  if (live?.state === 'escalated') return { kind: 'skip', why: 'already_escalated' };
  if (t.handledBy === 'pipeline' && rule.action === 'send-to-agent') return { kind: 'handled', memory: { state: 'active', attempts: (live?.attempts ?? 0) + 1, lastSignature: t.signature, firstAt: live?.firstAt ?? null } };
  const next: ReactionMemory = { state: 'active', attempts: (live?.attempts ?? 0) + 1, lastSignature: t.signature, firstAt: live?.firstAt ?? now };
  if (rule.action === 'notify') return { kind: 'notify', memory: next, escalation: false };
  // Sending to an agent needs a live session and retries left; otherwise a person takes over.
  if (isTerminal(session.state) || (live?.attempts ?? 0) >= rule.retries) {
    return { kind: 'notify', memory: { ...next, state: 'escalated' }, escalation: true };
  }
  return { kind: 'send', memory: next };
}

/** Time-driven escalation: a condition still unresolved past `escalateAfter` goes to a person, once. */
export function decideReactionTimeout(rule: ReactionRule, mem: ReactionMemory, now: number): boolean {
  return rule.action === 'send-to-agent' && mem.state === 'active' && rule.escalateAfterMs !== null && mem.firstAt !== null &&
    now - mem.firstAt >= rule.escalateAfterMs;
}
