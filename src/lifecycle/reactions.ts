// Runs the reaction deciders for one session transition inside its transaction: the reaction's
// memory, the input it queues for the agent or the notification it raises, and their events all
// commit with the transition — a reaction fires once or not at all, across restarts.
import type { ChangeFact } from '../domain/lifecycle-rules/change.js';
import { decideReaction, decideReactionTimeout, detectTriggers, type ReactionKey, type ReactionMemory, type ReactionRule, type Trigger } from '../domain/lifecycle-rules/reactions.js';
import type { SessionRecord } from '../domain/session.js';
import type { ResolvedReactions } from '../config/reactions.js';
import type { LifecycleTx, ReactionRow } from '../ports/lifecycle.js';
import type { NotificationService } from './notifications.js';

export interface ReactionOutcome {
  queuedInput: boolean;
  raised: boolean;
}

/** Caps what one reaction hands an agent: enough failing output to act on, never a flood. */
const MAX_TEXT = 16_000;

export class Reactor {
  constructor(private readonly notifications: NotificationService) {}

  async onTransition(tx: LifecycleTx, before: SessionRecord, after: SessionRecord, fact: ChangeFact | null, cfg: ResolvedReactions, now: number): Promise<ReactionOutcome> {
    const out: ReactionOutcome = { queuedInput: false, raised: false };
    const { fired, resolved } = detectTriggers(before, after, fact);
    if (fired.length === 0 && resolved.length === 0) return out;
    const memory = await tx.reactions.forSession(after.id);
    for (const key of resolved) {
      const m = memory.get(key);
      if (m && m.state !== 'resolved') {
        await tx.reactions.save(after.id, key, { ...m, state: 'resolved', attempts: 0 }, now);
        tx.emit({ type: 'reaction.resolved', taskId: after.taskId, sessionId: after.id, payload: { reaction: key } });
      }
      await this.notifications.resolveIn(tx, after.id, key, now);
    }
    for (const t of fired) {
      const rule = cfg.rules[t.key];
      const d = decideReaction(t, rule, memory.get(t.key), after, now);
      if (d.kind === 'skip') continue;
      await tx.reactions.save(after.id, t.key, d.memory, now);
      memory.set(t.key, d.memory);
      if (d.kind === 'handled') {
        tx.emit({ type: 'reaction.sent', taskId: after.taskId, sessionId: after.id, payload: { reaction: t.key, signature: t.signature, attempt: d.memory.attempts, via: 'pipeline' } });
      } else if (d.kind === 'send') {
        const input = await tx.inputs.enqueue(after.id, (t.text ?? t.title).slice(0, MAX_TEXT), `reaction:${t.key}`, now);
        tx.emit({ type: 'reaction.sent', taskId: after.taskId, sessionId: after.id, payload: { reaction: t.key, signature: t.signature, attempt: d.memory.attempts, inputId: input.id } });
        tx.emit({ type: 'input.queued', taskId: after.taskId, sessionId: after.id, payload: { inputId: input.id, seq: input.seq, source: input.source } });
        out.queuedInput = true;
      } else {
        if (d.escalation) tx.emit({ type: 'reaction.escalated', taskId: after.taskId, sessionId: after.id, payload: { reaction: t.key, attempts: d.memory.attempts } });
        const raised = await this.raise(tx, after, t, rule, d.escalation, d.memory, now);
        out.raised ||= raised;
      }
    }
    return out;
  }

  /** Time escalation of an unresolved send-to-agent reaction (a person takes over, once). */
  async onTimeout(tx: LifecycleTx, session: SessionRecord, row: ReactionRow, cfg: ResolvedReactions, now: number): Promise<boolean> {
    const rule = cfg.rules[row.key];
    if (!decideReactionTimeout(rule, row, now)) return false;
    const mem: ReactionMemory = { state: 'escalated', attempts: row.attempts, lastSignature: row.lastSignature, firstAt: row.firstAt };
    await tx.reactions.save(session.id, row.key, mem, now);
    tx.emit({ type: 'reaction.escalated', taskId: session.taskId, sessionId: session.id, payload: { reaction: row.key, attempts: row.attempts, after: 'timeout' } });
    const t: Trigger = { key: row.key, signature: row.lastSignature ?? 'timeout', text: null, title: titleOf(row.key) };
    await this.raise(tx, session, t, rule, true, mem, now);
    return true;
  }

  private async raise(tx: LifecycleTx, s: SessionRecord, t: Trigger, rule: ReactionRule, escalation: boolean, m: ReactionMemory, now: number): Promise<boolean> {
    const rec = await this.notifications.raiseIn(tx, {
      projectId: s.projectId,
      taskId: s.taskId,
      runId: s.runId,
      sessionId: s.id,
      kind: t.key,
      priority: escalation && rule.action === 'send-to-agent' ? 'high' : rule.priority,
      title: escalation ? `${t.title}: needs a person` : t.title,
      detail: { reason: s.reason, escalation, attempts: m.attempts, signature: t.signature },
      // One notification per session, reaction and occurrence (or per escalation of a reaction).
      signature: escalation ? `${s.id}:${t.key}:escalated:${m.firstAt ?? 0}` : `${s.id}:${t.key}:${t.signature}`,
    }, now);
    return rec !== undefined;
  }
}

const titleOf = (k: ReactionKey): string =>
  ({ 'checks-failed': 'Checks failed', 'changes-requested': 'Changes requested', conflict: 'Merge conflict', 'needs-input': 'Agent needs input', stuck: 'Session is stuck', exited: 'Agent exited' })[k];
