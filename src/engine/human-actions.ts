// What people do to runs (DESIGN §6, §10): answer a parked run (approve, request changes, reject,
// answer a decision, reply to needs-input, resolve a review cap, merge review), retry, restart from a
// step, cancel. Each checks the run is waiting for exactly that, else refuses with 409 and why.
import { conflict, GantryError, notFound } from '../domain/errors.js';
import { decideHumanAction, editedProposal, type HumanAction } from '../domain/pipeline/human-action.js';
import { kindMap } from '../domain/pipeline/kinds.js';
import type { KindSpec } from '../domain/pipeline/types.js';
import { producerOf } from '../domain/pipeline/validate.js';
import { endedWaits } from '../domain/pipeline/wait-notifications.js';
import type { Stage } from '../domain/task.js';
import type { RunRepo, RunSnapshot, StepPatch } from '../ports/engine.js';
import type { Store } from '../ports/store.js';

/** Stages from which a stopped task may get a new run. */
const RESTARTABLE: Stage[] = ['failed', 'cancelled', 'blocked', 'dead_letter', 'queued'];
const PARKED: Stage[] = ['blocked'];

export interface HumanActionsDeps {
  store: Store;
  runs: RunRepo;
  kinds?: ReadonlyMap<string, KindSpec>;
  /** Stop a run a factory is driving (the fleet's operator cancel: bumps the epoch, aborts the holder). */
  stopHolder?(taskId: string): Promise<void>;
}

export class HumanActions {
  private readonly kinds: ReadonlyMap<string, KindSpec>;
  constructor(private readonly d: HumanActionsDeps) {
    this.kinds = d.kinds ?? kindMap();
  }

  private async current(taskId: string): Promise<RunSnapshot> {
    const t = await this.d.store.tasks.get(taskId);
    if (!t) throw notFound('task', taskId);
    const snap = await this.d.runs.current(taskId);
    if (!snap) throw conflict(`task ${taskId} has not started a run yet`, 'wait until a factory picks it up');
    return snap;
  }

  /**
   * A person's answer to a parked run. `expect`: the run as the caller checked it (a queued reply checks
   * the wait is its own session's question); a run that changed since is refused, so the answer never
   * lands on a different wait.
   */
  async act(taskId: string, a: HumanAction, expect?: { runId: string; rev: number }): Promise<RunSnapshot> {
    const snap = await this.current(taskId);
    const { run } = snap;
    if (expect && (run.id !== expect.runId || run.rev !== expect.rev)) {
      throw conflict(`task ${taskId}: the run changed since the answer was checked against it (run ${expect.runId} rev ${expect.rev}, now ${run.id} rev ${run.rev})`, 'look again with `gantry show <task>` and answer what it waits for now', { state: run.state });
    }
    const decision = decideHumanAction(run, a);
    if (!decision.ok) {
      throw conflict(`task ${taskId}: ${decision.reason}`, run.waiting ? `this run accepts: ${run.waiting.options.join(', ')}` : 'see `gantry show <task>` for what it is doing', {
        state: run.state,
        waiting: run.waiting?.kind ?? null,
      });
    }
    const w = run.waiting!;
    const step = snap.steps[w.stepIdx]!;
    const e = decision.effect;
    const resume = { stage: 'queued' as Stage, blockedReason: null, onlyFrom: PARKED };
    const edit = e.type === 'resume' && e.answer.action === 'approve' && e.answer.text ? e.answer.text : null;
    const event = { type: 'run.answered', payload: { step: w.stepId, waiting: w.kind, action: a.action, ...(edit ? { edited: true } : {}) } };
    const resolveWaits = endedWaits({ type: 'answered', hold: e.type === 'hold' });
    switch (e.type) {
      case 'resume': {
        const answered: StepPatch = { idx: w.stepIdx, state: 'working', kindState: { ...step.kindState, answer: e.answer } };
        const edited = edit ? this.editPatch(snap, w.stepIdx, edit) : null;
        const patches = edited?.idx === w.stepIdx ? [edited] : edited ? [answered, edited] : [answered];
        return this.d.runs.commit({ runId: run.id, expectedRev: run.rev, run: { state: 'running', waiting: null }, steps: patches, task: resume, resolveWaits, events: [event] }, null);
      }
      case 'hold':
        return this.d.runs.commit({ runId: run.id, expectedRev: run.rev, events: [{ type: 'run.held', payload: { step: w.stepId } }] }, null);
      case 'rework': {
        const target = this.kinds.get(step.kind)?.producer ? w.stepIdx : producerOf(run.pipeline.steps, w.stepIdx, this.kinds);
        if (target === null) throw conflict(`step ${w.stepId} has no producer to send changes to`);
        const patches: StepPatch[] = [];
        for (let i = target; i <= w.stepIdx; i++) {
          const s = snap.steps[i]!;
          patches.push({ idx: i, state: 'pending', reopen: true, output: null, kindState: i === target ? { feedback: e.feedback, reworks: Number(s.kindState.reworks ?? 0) + 1 } : {} });
        }
        return this.d.runs.commit({ runId: run.id, expectedRev: run.rev, run: { state: 'running', waiting: null, currentStep: target }, steps: patches, task: resume, resolveWaits, events: [event] }, null);
      }
      case 'fail': {
        const failure = { kind: e.kind, message: e.message };
        const patches: StepPatch[] = [{ idx: w.stepIdx, state: 'failed', failure, markFinished: true }];
        if (e.resetProducer) {
          // Stop and reset: the producer and everything after it start over on retry.
          const p = producerOf(run.pipeline.steps, w.stepIdx, this.kinds) ?? w.stepIdx;
          patches.length = 0;
          for (let i = p; i <= w.stepIdx; i++) patches.push({ idx: i, state: 'pending', reopen: true, output: null, kindState: {} });
        }
        return this.d.runs.commit(
          {
            runId: run.id, expectedRev: run.rev,
            run: { state: 'failed', waiting: null, failure, markFinished: true },
            steps: patches,
            task: { stage: 'failed', blockedReason: null, onlyFrom: PARKED, failure },
            resolveWaits,
            events: [event, { type: 'run.failed', payload: { step: w.stepId, ...failure } }],
          },
          null,
        );
      }
    }
  }

  /**
   * Approve with an edited proposal: the output the pipeline goes on with is the person's. A producer
   * gating its own output (`approval: true`) keeps it in kind state until it finishes; a standalone
   * approval step edits its producer's recorded output.
   */
  private editPatch(snap: RunSnapshot, idx: number, edit: string): StepPatch {
    const step = snap.steps[idx]!;
    const own = this.kinds.get(step.kind)?.producer === true;
    const target = own ? idx : producerOf(snap.run.pipeline.steps, idx, this.kinds);
    if (target === null) throw conflict(`step ${step.stepId} has no proposal to edit`, 'approve without text');
    const t = snap.steps[target]!;
    const current = own ? ((step.kindState.result as Record<string, unknown> | undefined) ?? null) : t.output;
    const r = editedProposal(current, edit, snap.run.pipeline.steps[target]!.output);
    if (!r.ok) throw new GantryError('validation', `task ${snap.run.taskId}: ${r.reason}`, { field: 'text', hint: 'fix the block (or leave it out to keep the agent\'s fields) and approve again' });
    return own
      ? { idx, state: 'working', kindState: { ...step.kindState, answer: { action: 'approve' }, result: r.output } }
      : { idx: target, output: r.output };
  }

  /** Resume a failed, cancelled or budget-paused run from the step that stopped it, keeping finished steps. */
  async retry(taskId: string): Promise<RunSnapshot> {
    const snap = await this.current(taskId);
    const { run } = snap;
    if (run.state === 'paused') {
      return this.d.runs.commit(
        { runId: run.id, expectedRev: run.rev, run: { state: 'running' }, task: { stage: 'queued', blockedReason: null, onlyFrom: PARKED }, events: [{ type: 'run.resumed', payload: { reason: 'retry' } }] },
        null,
      );
    }
    if (run.state !== 'failed' && run.state !== 'cancelled') {
      throw conflict(`task ${taskId}: the run is ${run.state}; only a failed, cancelled or paused run can be retried`, run.state === 'parked' ? 'answer it instead (`gantry show <task>`)' : 'wait for it to stop, or cancel it');
    }
    const from = snap.steps.findIndex((s) => s.state !== 'done' && s.state !== 'skipped');
    return this.d.runs.create({
      taskId, pipeline: run.pipeline, from: snap, keepUntil: from < 0 ? snap.steps.length : from, fence: null, supersede: run.id, requeueFrom: RESTARTABLE,
      event: { type: 'run.retried', payload: { previous: run.id, from: snap.steps[from]?.stepId ?? null } },
    });
  }

  /** A new run that keeps steps before `fromStep` and re-runs it and everything after. */
  async restart(taskId: string, fromStep: string): Promise<RunSnapshot> {
    const snap = await this.current(taskId);
    const { run } = snap;
    const idx = run.pipeline.steps.findIndex((s) => s.id === fromStep);
    if (idx < 0) {
      throw new GantryError('validation', `task ${taskId}: no step "${fromStep}" in pipeline ${run.pipeline.name}`, { field: 'from', hint: `steps: ${run.pipeline.steps.map((s) => s.id).join(', ')}` });
    }
    if (run.state === 'running') throw conflict(`task ${taskId}: the run is running; cancel it before restarting`, '`gantry cancel <task>` first');
    if (run.state === 'done') throw conflict(`task ${taskId}: the run finished and shipped; submit a new task instead`);
    return this.d.runs.create({
      taskId, pipeline: run.pipeline, from: snap, keepUntil: idx, fence: null, supersede: run.id, requeueFrom: RESTARTABLE,
      event: { type: 'run.restarted', payload: { previous: run.id, from: fromStep } },
    });
  }

  /** Stop the run: a parked or paused task is cancelled at once; a driven one is stopped through its holder. */
  async cancel(taskId: string, reason = 'cancelled by a person'): Promise<RunSnapshot> {
    const snap = await this.current(taskId);
    const { run } = snap;
    if (run.state === 'done' || run.state === 'cancelled') throw conflict(`task ${taskId}: the run is already ${run.state}`);
    const failure = { kind: 'cancelled', message: reason };
    const out = await this.d.runs.commit(
      {
        runId: run.id, expectedRev: run.rev,
        run: { state: 'cancelled', waiting: null, failure, markFinished: true },
        task: { stage: 'cancelled', blockedReason: null, failure, onlyFrom: ['blocked', 'queued', 'failed'] },
        resolveWaits: endedWaits({ type: 'ended', state: 'cancelled' }),
        events: [{ type: 'run.cancelled', payload: { reason, from: run.state } }],
      },
      null,
    );
    if (run.state === 'running') await this.d.stopHolder?.(taskId);
    return out;
  }

  /**
   * A person may answer in the instant between a factory parking the run and releasing the lease;
   * the release then leaves the task blocked although its run runs again. This puts such tasks back
   * in the queue (idempotent; the coordinator calls it periodically and after each action).
   */
  async reconcile(): Promise<string[]> {
    return this.d.store.write(async (tx) => {
      const rows = await tx.all<{ id: string }>(
        `UPDATE tasks SET stage = 'queued', blocked_reason = NULL, queued_at = NOW_MS, updated_at = NOW_MS, rev = rev + 1
         WHERE stage = 'blocked' AND blocked_reason = 'awaiting_human'
           AND current_run_id IN (SELECT id FROM runs WHERE state = 'running') RETURNING id`,
      );
      for (const r of rows) tx.emit({ type: 'task.stage', taskId: r.id, payload: { stage: 'queued', reason: 'answered_while_releasing' } });
      return rows.map((r) => r.id);
    });
  }

  /**
   * "Resumes when the budget allows": budget-paused runs go back to the queue; the next advance
   * reserves again and, if the budget is still spent, pauses again (its notification is not repeated).
   * The coordinator calls this periodically (and after budgets change).
   */
  async resumeBudgetPaused(): Promise<string[]> {
    const rows = await this.d.store.db.all<{ task_id: string }>("SELECT task_id FROM runs WHERE state = 'paused'");
    const out: string[] = [];
    for (const r of rows) {
      try {
        await this.retry(r.task_id);
        out.push(r.task_id);
      } catch {
        // Someone acted on it meanwhile (answered, cancelled): nothing to resume.
      }
    }
    return out;
  }
}
