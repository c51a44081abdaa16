// The coordinator's InputSink for sessions the pipeline engine runs, in-process or on a remote factory:
// a queued reply to a session whose run is parked on that session's question answers the run
// (`decideReplyTarget`); the factory that claims the task again resumes the agent with it. Inputs the
// decider holds back stay queued (`ready` is false), so no attempt is spent while the agent works.
import { GantryError } from '../domain/errors.js';
import { decideReplyTarget, type ReplyTarget } from '../domain/lifecycle-rules/reply-target.js';
import { launchSessionId } from '../engine/agent-runner.js';
import type { HumanAction } from '../domain/pipeline/human-action.js';
import type { SessionRecord } from '../domain/session.js';
import type { RunSnapshot } from '../ports/engine.js';
import type { InputSink, SinkInput } from '../ports/lifecycle.js';

export interface RunReplyDeps {
  /** The task's current run with its steps. */
  current(taskId: string): Promise<RunSnapshot | undefined>;
  /** A person's answer to a parked run (HumanActions.act). */
  act(taskId: string, a: HumanAction): Promise<unknown>;
}

export class RunReplySink implements InputSink {
  constructor(private readonly d: RunReplyDeps) {}

  private async target(session: SessionRecord, input: SinkInput): Promise<ReplyTarget> {
    if (!session.taskId) return { kind: 'wait', why: 'no_task' };
    const snap = await this.d.current(session.taskId);
    const step = snap?.run.waiting ? snap.steps[snap.run.waiting.stepIdx] : undefined;
    const stepSession = step?.sessionId ? launchSessionId(step.sessionId) : null;
    return decideReplyTarget(session, snap?.run ?? null, step ? { sessionId: stepSession } : null, input);
  }

  async ready(session: SessionRecord, input: SinkInput): Promise<boolean> {
    return (await this.target(session, input)).kind !== 'wait';
  }

  async deliver(session: SessionRecord, input: SinkInput): Promise<void> {
    const t = await this.target(session, input);
    if (t.kind === 'refuse') throw new GantryError('conflict', t.reason, { hint: `answer with \`gantry answer ${session.taskId} <option>\`` });
    if (t.kind === 'wait') throw new GantryError('conflict', `session ${session.id} is not waiting for a reply (${t.why})`);
    await this.d.act(session.taskId!, { action: t.action, text: input.text });
  }
}
