// The pipeline engine (DESIGN §6): `advance` moves a run by exactly ONE transition and says what
// happened. Each transition is one compare-and-set commit (run rev + lease epoch) with its events;
// side effects that cannot be repeated blindly (launching an agent) happen only after that commit.
import { GantryError, isGantryError } from '../domain/errors.js';
import type { Amount, Limits } from '../domain/pipeline/budget.js';
import { classifyError, type Failure } from '../domain/pipeline/failure.js';
import { nextStep } from '../domain/pipeline/next-step.js';
import { decideLostWork, lostWorkOf, type LostWork } from '../domain/pipeline/lost-work.js';
import { stageOfStep } from '../domain/pipeline/stage.js';
import type { PipelineDef } from '../domain/pipeline/types.js';
import type { StepFacts } from '../domain/pipeline/when.js';
import type { Stage, Task } from '../domain/task.js';
import type { NewEvent } from '../domain/events.js';
import { changeOwner } from '../domain/pipeline/change-owner.js';
import { endedWaits } from '../domain/pipeline/wait-notifications.js';
import type { ScmObservation } from '../domain/lifecycle-rules/scm.js';
import { refusalAnswer, refusalOf, refusalRetryError, refusalWait, type ForgeRefusal } from '../domain/forge/pr-state.js';
import type { AgentOutcome, ChangeObserver, CheckSpec, Checks, KindState, EngineBudgets, EngineReads, EngineRuns, EngineWorkspace, Fence, MergeIntentRepo, RunChange, RunSnapshot, Scm, StepPatch } from '../ports/engine.js';
import { launchSessionId } from './agent-runner.js';
import type { Project } from '../ports/store.js';
import type { DispatchState } from './dispatch.js';
import { launchBound, SessionTable } from './dispatch.js';
import { StepKindRegistry } from './registry.js';
import type { StepContext, Transition } from './step-kind.js';

export type AdvanceOutcome =
  | { type: 'continue'; stage: Stage; checkpoint?: { ref: string; sha: string; seq?: number } | null }
  | { type: 'awaiting_session'; stage: Stage; wait: Promise<unknown> }
  | { type: 'awaiting_checks'; stage: Stage; wait: Promise<unknown> }
  | { type: 'parked'; reason: string }
  | { type: 'paused'; reason: string }
  | { type: 'done' }
  | { type: 'failed'; failure: Failure }
  | { type: 'cancelled' }
  /** The lease is gone: stop, never merge. */
  | { type: 'fenced'; message: string };

/** What the engine needs to know about a project beyond the store row. */
export interface ProjectSettings {
  pipelines: ReadonlyMap<string, PipelineDef>;
  checks: readonly CheckSpec[];
  budgets: { task?: Limits; project?: Limits; global?: Limits };
  /** gantry.yaml `defaults.agent`: the agent of steps that name none, for tasks submitted without one. */
  defaultAgent: string;
}

export interface EngineDeps {
  store: EngineReads;
  runs: EngineRuns;
  budgets: EngineBudgets;
  merges: MergeIntentRepo;
  registry: StepKindRegistry;
  sessions: SessionTable;
  workspace: EngineWorkspace;
  /** The SCM adapter for a project (local git over its repository, or a hosted one). */
  scmFor(project: Project): Scm;
  checks: Checks;
  settings(project: Project): ProjectSettings;
  /** Directory for check logs: <logRoot>/<task>/<run>/<step>. */
  logRoot: string;
  /** What an agent dispatch reserves when its step does not say. */
  defaultReserve?: Amount;
  /** The lifecycle's change axis, fed by what the SCM steps observe (merged, checks, conflicts). */
  changes?: ChangeObserver;
  /** Where a failed observation is reported (it never fails the step). */
  warn?(message: string, fields?: Record<string, unknown>): void;
}

const DEFAULT_RESERVE: Amount = { tokens: 0, costUsd: 0 };

/** A consumed turn's usage as `session.finished` carries it (read back by domain/usage.ts). */
function usagePayload(u: AgentOutcome['usage']): Record<string, unknown> {
  const split = u.inputTokens !== undefined ? { tokensIn: u.inputTokens, tokensOut: u.outputTokens ?? 0, tokensCached: u.cachedInputTokens ?? 0 } : {};
  return { tokens: u.tokens, costUsd: u.costUsd, ...split, ...(u.costKnown !== undefined ? { costKnown: u.costKnown } : {}) };
}

export class PipelineEngine {
  constructor(readonly deps: EngineDeps) {}

  /** Resolves the task's pipeline and starts its first run (refuses an unknown or invalid pipeline). */
  async start(task: Task, fence: Fence | null): Promise<RunSnapshot> {
    const project = await this.project(task.projectId);
    const pipeline = this.deps.settings(project).pipelines.get(task.pipeline);
    if (!pipeline) {
      throw new GantryError('validation', `task ${task.id}: unknown pipeline "${task.pipeline}"`, {
        field: 'pipeline',
        hint: `use one of: ${[...this.deps.settings(project).pipelines.keys()].join(', ')}`,
      });
    }
    return this.deps.runs.create({ taskId: task.id, pipeline, fence, event: { type: 'run.started' } });
  }

  async advance(runId: string, fence: Fence | null, signal: AbortSignal = new AbortController().signal): Promise<AdvanceOutcome> {
    let snap: RunSnapshot | undefined;
    try {
      snap = await this.deps.runs.load(runId);
    } catch (e) {
      // A remote factory's read is fenced too: a lease lost meanwhile ends the drive as fenced.
      if (isGantryError(e) && e.code === 'stale_epoch') return { type: 'fenced', message: e.message };
      throw e;
    }
    if (!snap) throw new GantryError('not_found', `run ${runId} not found`);
    const { run } = snap;
    switch (run.state) {
      case 'parked':
        return { type: 'parked', reason: run.waiting?.question ?? 'waiting for a person' };
      case 'paused':
        return { type: 'paused', reason: run.failureMessage ?? 'over budget' };
      case 'done':
        return { type: 'done' };
      case 'cancelled':
        this.deps.sessions.stopAll(`${run.id}:`);
        return { type: 'cancelled' };
      case 'failed':
        return { type: 'failed', failure: { kind: (run.failureKind ?? 'unknown') as Failure['kind'], message: run.failureMessage ?? '' } };
      case 'running':
        break;
    }
    try {
      return await this.step(snap, fence, signal);
    } catch (e) {
      if (isGantryError(e) && e.code === 'stale_epoch') return { type: 'fenced', message: e.message };
      // Lost a compare-and-set (a person answered, a replay raced): reload and go on.
      if (isGantryError(e) && e.code === 'conflict' && e.details?.rev !== undefined) {
        return { type: 'continue', stage: stageOfStep(run.pipeline.steps[run.currentStep]?.kind ?? 'agent', this.deps.registry.specs()) };
      }
      // Before the abort test: a drain that interrupted provisioning must not leave the loss unhandled.
      const lost = lostWorkOf(e);
      if (lost) {
        try {
          return await this.putBack(runId, fence, lost);
        } catch (e2) {
          if (isGantryError(e2) && e2.code === 'stale_epoch') return { type: 'fenced', message: e2.message };
          // Not acknowledged: the next advance meets the lost work again, on the run as it now is.
          if (isGantryError(e2) && e2.code === 'conflict' && e2.details?.rev !== undefined) return { type: 'continue', stage: stageOfStep(run.pipeline.steps[run.currentStep]?.kind ?? 'agent', this.deps.registry.specs()) };
          throw e2;
        }
      }
      if (signal.aborted) return { type: 'cancelled' };
      const failure = classifyError({ code: isGantryError(e) ? e.code : (e as { code?: string }).code, name: (e as Error).name, message: (e as Error).message ?? String(e) });
      const cur = (await this.deps.runs.load(runId))!;
      const idx = cur.run.currentStep;
      await this.commit(cur, fence, {
        run: { state: 'failed', failure, markFinished: true },
        steps: [{ idx, state: 'failed', failure, markFinished: true }],
        events: [{ type: 'run.failed', payload: { step: cur.steps[idx]?.stepId ?? null, kind: failure.kind, message: failure.message } }],
      });
      return { type: 'failed', failure };
    }
  }

  private async step(snap: RunSnapshot, fence: Fence | null, signal: AbortSignal): Promise<AdvanceOutcome> {
    const { run, steps } = snap;
    const defs = run.pipeline.steps;
    const facts: StepFacts = Object.fromEntries(steps.map((s) => [s.stepId, { state: s.state, output: s.output }]));
    const next = nextStep(defs, steps.map((s) => s.state), facts);
    const kinds = this.deps.registry.specs();
    if (next.type === 'done') {
      await this.commit(snap, fence, { run: { state: 'done', markFinished: true, waiting: null }, resolveWaits: endedWaits({ type: 'ended', state: 'done' }), events: [{ type: 'run.done', payload: { steps: steps.length } }] });
      return { type: 'done' };
    }
    if (next.type === 'failed') {
      const s = steps[next.idx]!;
      const failure = { kind: (s.failureKind ?? 'unknown') as Failure['kind'], message: s.failureMessage ?? `step ${s.stepId} failed` };
      await this.commit(snap, fence, { run: { state: 'failed', failure, markFinished: true }, events: [{ type: 'run.failed', payload: { step: s.stepId, ...failure } }] });
      return { type: 'failed', failure };
    }
    const idx = next.idx;
    const def = defs[idx]!;
    const stage = stageOfStep(def.kind, kinds);
    if (next.type === 'skip') {
      await this.commit(snap, fence, {
        run: { currentStep: idx },
        steps: [{ idx, state: 'skipped', output: { skipped: next.reason }, markFinished: true }],
        events: [{ type: 'step.skipped', payload: { step: def.id, idx, reason: next.reason } }],
      });
      return { type: 'continue', stage };
    }
    const row = steps[idx]!;
    if (row.state === 'pending') {
      await this.commit(snap, fence, {
        run: { currentStep: idx, markStarted: true },
        steps: [{ idx, state: 'working', attempts: row.attempts + 1, markStarted: true }],
        events: [{ type: 'step.started', payload: { step: def.id, idx, kind: def.kind, attempt: row.attempts + 1 } }],
      });
      return { type: 'continue', stage };
    }
    const kind = this.deps.registry.get(def.kind);
    if (!kind) throw new GantryError('validation', `step ${def.id}: unknown kind ${def.kind}`);
    const task = (await this.deps.store.tasks.get(run.taskId))!;
    const project = await this.project(task.projectId);
    const settings = this.deps.settings(project);
    const ctx: StepContext = {
      task, project, run, pipeline: run.pipeline, def, step: row, steps, kinds, fence,
      workspace: this.deps.workspace, scm: this.deps.scmFor(project), checks: this.deps.checks, merges: this.deps.merges,
      checkSpecs: settings.checks, logDir: `${this.deps.logRoot}/${task.id}/${run.number}/${def.id}`, signal,
      defaultAgent: settings.defaultAgent,
      pollDispatch: (d) => this.deps.sessions.poll(d, launchBound(task.maxAttempts)),
      observeScm: (o) => this.observeScm(snap, idx, o),
    };
    const t = refusalStep(ctx) ?? (await kind.advance(ctx));
    return this.apply(snap, ctx, t, stage, settings, fence, signal);
  }

  private async apply(snap: RunSnapshot, ctx: StepContext, t: Transition, stage: Stage, settings: ProjectSettings, fence: Fence | null, signal: AbortSignal): Promise<AdvanceOutcome> {
    const { def, step } = ctx;
    const idx = step.idx;
    const consumed = (step.kindState.dispatch as DispatchState | undefined)?.sessionId;
    // A dispatch's outcome is settled against its reservation before the commit that consumes it,
    // so a lost commit (CAS) replays harmlessly: settle is idempotent by id.
    const settleConsumed = async (): Promise<void> => {
      if (!consumed) return;
      const poll = this.deps.sessions.poll(step.kindState.dispatch as DispatchState, launchBound(ctx.task.maxAttempts));
      if (poll.type === 'result') await this.deps.budgets.settle(consumed, { tokens: poll.outcome.usage.tokens, costUsd: poll.outcome.usage.costUsd });
    };
    const after = (): void => {
      if (consumed) this.deps.sessions.forget(consumed);
    };
    // The consumed session's outcome rides on the commit that consumes it (agent and usage for metrics; never its text).
    const finished = (): NewEvent[] => {
      const d = step.kindState.dispatch as DispatchState | undefined;
      if (!consumed || !d) return [];
      const poll = this.deps.sessions.poll(d, launchBound(ctx.task.maxAttempts));
      if (poll.type !== 'result' && poll.type !== 'lost') return [];
      const o = poll.type === 'result' ? { status: poll.outcome.status, ...usagePayload(poll.outcome.usage) } : { status: 'lost', tokens: 0, costUsd: 0, tokensIn: 0, tokensOut: 0, tokensCached: 0, costKnown: false };
      return [{ type: 'session.finished', sessionId: consumed, payload: { step: def.id, idx, role: d.role, agent: d.agent, ...o } }];
    };
    switch (t.type) {
      case 'wait':
        return { type: 'awaiting_session', stage, wait: t.wait };
      case 'update': {
        await settleConsumed();
        await this.commit(snap, fence, {
          steps: [{ idx, kindState: t.kindState, ...(t.output ? { output: t.output } : {}) }],
          events: [{ type: 'step.progress', payload: { step: def.id, idx, phase: (t.kindState.phase as string | undefined) ?? null } }, ...finished()],
        });
        after();
        return { type: 'continue', stage };
      }
      case 'work': {
        let ks: KindState;
        try {
          ks = await t.work();
        } catch (e) {
          // A person closed the pull request, or someone else pushed to the task branch: a refusal the run
          // parks on (reopen/overwrite or reject), never a failure loop and never routed around.
          const refusal = refusalOf(e);
          if (!refusal) throw e;
          const park: Transition = { type: 'park', waiting: refusalWait(refusal), kindState: { ...step.kindState, forgeRefusal: refusal, answer: undefined } };
          return this.apply(snap, ctx, park, stage, settings, fence, signal);
        }
        await this.commit(snap, fence, {
          steps: [{ idx, kindState: ks }],
          events: [{ type: 'step.progress', payload: { step: def.id, idx, phase: (ks.phase as string | undefined) ?? null, ok: (ks.ok as boolean | undefined) ?? null } }],
        });
        return { type: 'continue', stage };
      }
      case 'launch': {
        const prev = t.kindState.dispatch as DispatchState | undefined;
        const launches = prev && prev.key === t.dispatch.key ? prev.launches + 1 : 1;
        // A step started again (put back after lost work) launches anew: its session ids never repeat a dead factory's.
        const sessionId = `${snap.run.id}:${idx}${step.attempts > 1 ? `.${step.attempts}` : ''}:${t.dispatch.key}:${launches}`;
        const d: DispatchState = { ...t.dispatch, sessionId, launches };
        // The worktree first: a workspace that cannot be provisioned (or must be put back) reserves nothing.
        const ws = await this.deps.workspace.prepare(ctx.task.id);
        const amount = { tokens: def.reserve?.tokens ?? this.deps.defaultReserve?.tokens ?? DEFAULT_RESERVE.tokens, costUsd: def.reserve?.costUsd ?? this.deps.defaultReserve?.costUsd ?? DEFAULT_RESERVE.costUsd };
        // No limits anywhere: nothing to reserve against (and no hot ledger row for every step of the fleet).
        const limited = Object.values(settings.budgets).some((l) => l && (l.tokens !== undefined || l.costUsd !== undefined));
        // A re-launch of the same dispatch: the previous session died with its process, unsettled.
        if (limited && prev?.sessionId && prev.key === t.dispatch.key) await this.deps.budgets.forfeitLaunch(prev.sessionId, fence);
        const r = limited
          ? await this.deps.budgets.reserve({ id: sessionId, taskId: ctx.task.id, projectId: ctx.project.id, runId: snap.run.id, stepRowId: step.id, amount, limits: settings.budgets })
          : ({ ok: true, id: sessionId } as const);
        if (!r.ok) {
          await this.commit(snap, fence, {
            run: { state: 'paused', markPaused: true, failure: undefined },
            events: [{ type: 'run.paused', payload: { step: def.id, scope: r.scope, reason: r.reason } }],
            notifications: [{ kind: 'budget', priority: 'high', title: `"${ctx.task.title}" paused: over budget`, detail: { step: def.id, scope: r.scope, reason: r.reason }, signature: `budget:${sessionId}` }],
          });
          return { type: 'paused', reason: r.reason };
        }
        try {
          await this.commit(snap, fence, {
            steps: [{ idx, kindState: { ...t.kindState, dispatch: d }, sessionId }],
            // The reservation succeeded: an over-budget wait, if there was one, is over.
            ...(limited ? { resolveWaits: endedWaits({ type: 'launched' }) } : {}),
            events: [{ type: 'session.dispatched', sessionId, payload: { step: def.id, idx, role: d.role, agent: d.agent, launch: launches, key: d.key } }],
          });
        } catch (e) {
          await this.deps.budgets.release(sessionId);
          throw e;
        }
        const taskId = ctx.task.id;
        const wait = this.deps.sessions.start(
          {
            sessionId, taskId, runId: snap.run.id, stepRowId: step.id, agent: d.agent, role: d.role, prompt: d.prompt, workspace: ws.path, attempt: d.attempt,
            ...(d.resumeAgentSessionId ? { resumeAgentSessionId: d.resumeAgentSessionId } : {}),
            ...(d.model ? { model: d.model } : {}),
            ...(d.timeoutMs ? { timeoutMs: d.timeoutMs, beforeStop: (reason: string) => this.deps.workspace.checkpoint(taskId, def.id, reason).catch(() => null) } : {}),
          },
          signal,
          this.deps.workspace.activity?.(taskId, def.id),
        );
        return { type: 'awaiting_session', stage, wait };
      }
      case 'done': {
        await settleConsumed();
        // The step's work is saved — and pushed, for whichever factory resumes the task — before the step is
        // recorded done: a holder killed in between must never leave a done step whose work no one can restore.
        const checkpoint = await this.deps.workspace.checkpoint(ctx.task.id, def.id, 'step_done').catch(() => null);
        await this.commit(snap, fence, {
          steps: [{ idx, state: 'done', output: t.output, markFinished: true, ...(t.kindState ? { kindState: t.kindState } : {}) }],
          events: [{ type: 'step.done', payload: { step: def.id, idx, kind: def.kind } }, ...finished()],
        });
        after();
        return { type: 'continue', stage, checkpoint };
      }
      case 'park': {
        await settleConsumed();
        // Saved before the park is recorded, as at a step's end: an answer may resume the task anywhere.
        await this.deps.workspace.checkpoint(ctx.task.id, def.id, 'parked').catch(() => null);
        const waiting = { ...t.waiting, stepIdx: idx, stepId: def.id };
        await this.commit(snap, fence, {
          run: { state: 'parked', waiting },
          steps: [{ idx, state: 'waiting', kindState: t.kindState }],
          events: [{ type: 'run.parked', payload: { step: def.id, idx, waiting: waiting.kind, options: waiting.options } }, ...finished()],
          notifications: [{ kind: `awaiting_${waiting.kind}`, priority: 'normal', title: `"${ctx.task.title}" needs you: ${waiting.question}`, detail: { step: def.id, kind: waiting.kind, options: waiting.options }, signature: `park:${snap.run.id}:${idx}:${snap.run.rev}` }],
        });
        after();
        return { type: 'parked', reason: waiting.question };
      }
      case 'rework': {
        await settleConsumed();
        const producer = snap.steps[t.producerIdx]!;
        const patches: StepPatch[] = [];
        for (let i = t.producerIdx; i <= idx; i++) {
          const s = snap.steps[i]!;
          const kindState = i === t.producerIdx ? { feedback: t.feedback, reworks: Number(s.kindState.reworks ?? 0) + 1 } : i === idx ? { ...t.kindState, dispatch: undefined } : {};
          patches.push({ idx: i, state: 'pending', reopen: true, kindState, output: null });
        }
        await this.commit(snap, fence, {
          run: { currentStep: t.producerIdx },
          steps: patches,
          events: [{ type: 'step.rework', payload: { step: def.id, producer: producer.stepId, round: (t.kindState.round as number | undefined) ?? null } }, ...finished()],
        });
        after();
        return { type: 'continue', stage };
      }
      case 'fail': {
        await settleConsumed();
        await this.commit(snap, fence, {
          run: { state: 'failed', failure: t.failure, markFinished: true },
          steps: [{ idx, state: 'failed', failure: t.failure, markFinished: true, ...(t.kindState ? { kindState: t.kindState } : {}) }],
          events: [{ type: 'run.failed', payload: { step: def.id, idx, kind: t.failure.kind, message: t.failure.message } }, ...finished()],
          ...(t.notification ? { notifications: [{ ...t.notification, signature: `fail:${snap.run.id}:${idx}` }] } : {}),
        });
        after();
        if (signal.aborted) return { type: 'cancelled' };
        return { type: 'failed', failure: t.failure };
      }
    }
  }

  /**
   * The workspace came back without checkpoints a dead factory never pushed: steps recorded done since the
   * restored one run again (decideLostWork), then the worktree is served again. Committed before the
   * acknowledgement, so a crash in between only repeats the decision, which is then "none".
   */
  private async putBack(runId: string, fence: Fence | null, lost: LostWork): Promise<AdvanceOutcome> {
    const snap = (await this.deps.runs.load(runId))!;
    const cur = snap.run.currentStep;
    // Cancelled or parked meanwhile: nothing to put back now; the worktree keeps refusing until a run goes on.
    if (snap.run.state !== 'running') return { type: 'continue', stage: stageOfStep(snap.run.pipeline.steps[cur]?.kind ?? 'agent', this.deps.registry.specs()) };
    const d = decideLostWork({ steps: snap.run.pipeline.steps.map((s) => s.id), currentIdx: cur, restored: lost.restored, lost: lost.lost });
    if (d.type === 'rewind') {
      const patches: StepPatch[] = [];
      for (let i = d.toIdx; i <= cur; i++) {
        const ks = snap.steps[i]!.kindState;
        // A reviewer's feedback is kept: the work it asked for is what is being redone.
        patches.push({ idx: i, state: 'pending', reopen: true, output: null, kindState: ks.feedback !== undefined ? { feedback: ks.feedback, reworks: ks.reworks } : {} });
      }
      const payload = { from: snap.steps[cur]?.stepId ?? null, to: snap.steps[d.toIdx]!.stepId, restoredSeq: lost.restored[0]?.seq ?? null, lostSeqs: lost.lost.map((m) => m.seq) };
      await this.commit(snap, fence, { run: { currentStep: d.toIdx }, steps: patches, events: [{ type: 'run.rewound', payload: { reason: 'workspace_lost', ...payload } }] });
    }
    const at = d.type === 'rewind' ? d.toIdx : cur;
    await this.deps.workspace.acknowledgeLoss?.(snap.run.taskId, snap.run.pipeline.steps[at]?.id ?? null);
    const stage = stageOfStep(snap.run.pipeline.steps[at]?.kind ?? 'agent', this.deps.registry.specs());
    return { type: 'continue', stage };
  }

  /** Feeds the owning session's change axis; an observation that cannot be delivered never fails the step. */
  private async observeScm(snap: RunSnapshot, idx: number, observation: ScmObservation): Promise<void> {
    const owner = changeOwner(snap.steps.map((s) => ({ idx: s.idx, kind: s.kind, sessionId: s.sessionId })), idx);
    if (!owner || !this.deps.changes) return;
    try {
      await this.deps.changes.observe({ taskId: snap.run.taskId, runId: snap.run.id, sessionId: launchSessionId(owner), observation });
    } catch (e) {
      this.deps.warn?.('change observation dropped', { taskId: snap.run.taskId, err: e instanceof Error ? e.message : String(e) });
    }
  }

  private commit(snap: RunSnapshot, fence: Fence | null, c: Omit<RunChange, 'runId' | 'expectedRev'>): Promise<RunSnapshot> {
    return this.deps.runs.commit({ runId: snap.run.id, expectedRev: snap.run.rev, ...c }, fence);
  }

  private async project(id: string): Promise<Project> {
    const p = await this.deps.store.projects.get(id);
    if (!p) throw new GantryError('not_found', `project ${id} not found`);
    return p;
  }
}

/**
 * A step parked on a forge refusal: the answer that settles it ("reopen" a closed pull request,
 * "overwrite" someone else's push) acts on the forge and the step goes on where it was; until then it
 * parks again. Null for every other step.
 */
function refusalStep(ctx: StepContext): Transition | null {
  const r = ctx.step.kindState.forgeRefusal as ForgeRefusal | undefined;
  if (!r) return null;
  const answer = ctx.step.kindState.answer as { action: string; text?: string } | undefined;
  const { forgeRefusal: _r, answer: _a, ...rest } = ctx.step.kindState;
  if (answer?.action !== 'answer' || answer.text !== refusalAnswer(r)) return { type: 'park', waiting: refusalWait(r), kindState: { ...ctx.step.kindState, answer: undefined } };
  return {
    type: 'work',
    work: async () => {
      try {
        const ws = await ctx.workspace.prepare(ctx.task.id);
        const cannot = (what: string) => new GantryError('unsupported', `this project's SCM adapter cannot ${what}`, { hint: 'do it on the forge, or reject the task' });
        if (r.kind === 'closed') {
          if (!ctx.scm.reopenChange) throw cannot(`reopen pull request #${r.pull}`);
          await ctx.scm.reopenChange({ taskId: ctx.task.id, branch: ws.branch, base: ctx.project.defaultBranch, ref: r.pull });
        } else {
          if (!ctx.scm.adoptRemoteHead) throw cannot(`overwrite ${r.branch}`);
          await ctx.scm.adoptRemoteHead(ws.path, r.branch, r.remoteSha);
        }
      } catch (e) {
        // The answer's action failed (GitHub 422: the branch was deleted; the network): the person's
        // decision still stands open — park again on the same refusal, saying why, never fail the run.
        if (refusalOf(e) || lostWorkOf(e) || ctx.signal.aborted || (isGantryError(e) && e.code === 'stale_epoch')) throw e;
        throw refusalRetryError(r, e);
      }
      return rest;
    },
  };
}
