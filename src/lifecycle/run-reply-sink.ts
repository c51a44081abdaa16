// The coordinator's InputSink for sessions the pipeline engine runs, in-process or on a remote factory:
// a queued reply to a session whose run is parked on that session's question answers the run
// (`decideReplyTarget`); the factory that claims the task again resumes the agent with it. Inputs the
// decider holds back stay queued (`ready` is false), so no attempt is spent while the agent works;
// inputs it refuses (a reaction's text, a choice not among the options) fail at once with the reason.
import { GantryError } from '../domain/errors.js';
import { decideReplyTarget, type ReplyTarget } from '../domain/lifecycle-rules/reply-target.js';
import { launchSessionId } from '../engine/agent-runner.js';
import type { HumanAction } from '../domain/pipeline/human-action.js';
import type { SessionRecord } from '../domain/session.js';
import type { RunSnapshot } from '../ports/engine.js';
import type { InputSink, SinkInput, SinkRefusal } from '../ports/lifecycle.js';
import { InputRefused } from './input-queue.js';

/** The run as the reply was checked against it: the answer commits only if it has not changed since. */
export interface ReplyExpectation {
  runId: string;
  rev: number;
}

export interface RunReplyDeps {
  /** The task's current run with its steps. */
  current(taskId: string): Promise<RunSnapshot | undefined>;
  /** A person's answer to a parked run (HumanActions.act), refused when the run is no longer at `expect`. */
  act(taskId: string, a: HumanAction, expect: ReplyExpectation): Promise<unknown>;
}

export class RunReplySink implements InputSink {
  constructor(private readonly d: RunReplyDeps) {}

  private async target(session: SessionRecord, input: SinkInput): Promise<{ t: ReplyTarget; snap?: RunSnapshot }> {
    if (!session.taskId) return { t: { kind: 'wait', why: 'no_task' } };
    const snap = await this.d.current(session.taskId);
    const step = snap?.run.waiting ? snap.steps[snap.run.waiting.stepIdx] : undefined;
    const stepSession = step?.sessionId ? launchSessionId(step.sessionId) : null;
    const t = decideReplyTarget(session, snap?.run ?? null, step ? { sessionId: stepSession } : null, input);
    return snap ? { t, snap } : { t };
  }

  async ready(session: SessionRecord, input: SinkInput): Promise<boolean | SinkRefusal> {
    const { t } = await this.target(session, input);
    if (t.kind === 'refuse') return { refuse: t.reason, ...(t.hint ? { hint: t.hint } : {}) };
    return t.kind !== 'wait';
  }

  async deliver(session: SessionRecord, input: SinkInput): Promise<void> {
    const { t, snap } = await this.target(session, input);
    if (t.kind === 'refuse') throw new InputRefused(t.reason, t.hint);
    // Not now (the run moved since `ready`): back to the queue, offered again once ready.
    if (t.kind === 'wait' || !snap) throw new GantryError('conflict', `session ${session.id} is not waiting for a reply (${t.kind === 'wait' ? t.why : 'no run'})`);
    // The answer commits against the run exactly as checked above: were it re-parked on another
    // session's question in between, act refuses and the input goes back to the queue (ready waits).
    await this.d.act(session.taskId!, { action: t.action, text: input.text }, { runId: snap.run.id, rev: snap.run.rev });
  }
}
