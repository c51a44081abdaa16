// The driver: loops `advance` until the run stops needing this factory, and plugs the engine into
// a factory as its task executor. Clock-free apart from the injected sleep; zero business logic.
import { GantryError } from '../domain/errors.js';
import { remedyOf } from '../domain/pipeline/failure.js';
import { isRunFinal } from '../domain/pipeline/types.js';
import type { CheckpointPointer, Stage, Task } from '../domain/task.js';
import type { Sleep } from '../ports/clock.js';
import type { EngineRuns, Fence } from '../ports/engine.js';
import type { AdvanceOutcome, PipelineEngine } from './engine.js';

export type FinalOutcome = Exclude<AdvanceOutcome, { type: 'continue' | 'awaiting_session' | 'awaiting_checks' }>;

export interface DriveOptions {
  /** A ceiling on advances per drive, so a buggy kind cannot spin forever. */
  maxAdvances?: number;
  sleep: Sleep;
  /** Called when the stage changes or a step boundary produced a checkpoint. */
  onProgress?(stage: Stage, checkpoint: CheckpointPointer | null): Promise<void>;
}

const abortable = (p: Promise<unknown>, signal: AbortSignal): Promise<unknown> =>
  signal.aborted
    ? Promise.resolve()
    : new Promise((resolve) => {
        const done = (): void => {
          signal.removeEventListener('abort', done);
          resolve(undefined);
        };
        signal.addEventListener('abort', done, { once: true });
        p.then(done, done);
      });

export async function drive(engine: PipelineEngine, runId: string, fence: Fence | null, signal: AbortSignal, o: DriveOptions): Promise<FinalOutcome> {
  const max = o.maxAdvances ?? 10_000;
  let stage: Stage | null = null;
  let spins = 0;
  for (let n = 0; n < max; n++) {
    if (signal.aborted) return { type: 'cancelled' };
    const out = await engine.advance(runId, fence, signal);
    if (out.type === 'continue' || out.type === 'awaiting_session' || out.type === 'awaiting_checks') {
      const cp = out.type === 'continue' ? (out.checkpoint ?? null) : null;
      if (out.stage !== stage || cp) {
        stage = out.stage;
        await o.onProgress?.(out.stage, cp);
      }
      if (out.type !== 'continue') await abortable(out.wait, signal);
      // Only a lost compare-and-set returns continue without progress; back off a little.
      spins = out.type === 'continue' && !cp ? spins + 1 : 0;
      if (spins > 50) await o.sleep(10, signal).catch(() => undefined);
      continue;
    }
    return out;
  }
  throw new GantryError('internal', `run ${runId}: more than ${max} advances in one drive`, { hint: 'a step kind is not making progress; see the event log' });
}

/** What a factory hands the executor (structurally the fleet's LeaseHandle). */
export interface LeaseLike {
  readonly taskId: string;
  readonly epoch: number;
  readonly signal: AbortSignal;
  report(stage: Stage, checkpoint?: CheckpointPointer | null): Promise<void>;
}

export interface ExecutorResult {
  outcome: 'done' | 'parked' | 'failed';
  report: Record<string, unknown>;
  checkpoint?: CheckpointPointer | null;
}

/** The factory's executor: resume the task's run (or start one) and drive it. */
export class PipelineExecutor {
  constructor(
    private readonly engine: PipelineEngine,
    private readonly runs: EngineRuns,
    private readonly factoryId: string,
    private readonly opts: { sleep: Sleep; maxAdvances?: number },
  ) {}

  async execute(job: Task, lease: LeaseLike): Promise<ExecutorResult> {
    const fence: Fence = { taskId: job.id, epoch: lease.epoch, factoryId: this.factoryId };
    let snap = await this.runs.current(job.id);
    if (!snap || (isRunFinal(snap.run.state) && snap.run.state !== 'done')) {
      // A task that is leased again after its run failed or was cancelled starts afresh only via
      // retry/restart (which create the new run); here a missing run means a brand-new task.
      if (snap) return this.finalResult({ type: snap.run.state === 'cancelled' ? 'cancelled' : 'failed', failure: { kind: (snap.run.failureKind ?? 'unknown') as never, message: snap.run.failureMessage ?? '' } } as FinalOutcome);
      snap = await this.engine.start(job, fence);
    }
    let last: CheckpointPointer | null = null;
    let out: FinalOutcome;
    for (;;) {
      out = await drive(this.engine, snap.run.id, fence, lease.signal, {
        sleep: this.opts.sleep,
        ...(this.opts.maxAdvances ? { maxAdvances: this.opts.maxAdvances } : {}),
        onProgress: async (stage, cp) => {
          if (cp) last = cp;
          await lease.report(stage, cp).catch(() => undefined); // a 409 aborts lease.signal; the next advance is fenced
        },
      });
      if (out.type !== 'parked') break;
      // Answered in the meantime? Keep driving instead of releasing (reconcile covers the rest of the window).
      const again = await this.runs.load(snap.run.id);
      if (again?.run.state !== 'running') break;
    }
    if (out.type === 'parked' || out.type === 'paused' || out.type === 'cancelled' || out.type === 'failed') {
      // Whatever stopped the run, the work so far is saved (a failure, too, so a retry elsewhere starts from it).
      const cp = await this.engine.deps.workspace.checkpoint(job.id, out.type, out.type).catch(() => null);
      if (cp) last = cp;
    }
    if (out.type === 'parked' || out.type === 'paused') {
      return { outcome: 'parked', report: { summary: out.reason, waiting: out.type }, checkpoint: last };
    }
    await this.retire(job.id, snap.run.id);
    return { ...this.finalResult(out), checkpoint: last };
  }

  /** The run ended for good (not a lost lease or a drain): the workspace goes per `workspace.retain`. */
  private async retire(taskId: string, runId: string): Promise<void> {
    const state = (await this.runs.load(runId).catch(() => undefined))?.run.state;
    const ending = state === 'done' ? 'shipped' : state === 'failed' ? 'failed' : state === 'cancelled' ? 'cancelled' : null;
    if (ending) await this.engine.deps.workspace.retire?.(taskId, ending).catch(() => undefined);
  }

  private finalResult(out: FinalOutcome): ExecutorResult {
    switch (out.type) {
      case 'done':
        return { outcome: 'done', report: { summary: 'pipeline finished' } };
      case 'failed':
        return { outcome: 'failed', report: { failureKind: out.failure.kind, failureMessage: out.failure.message, remedy: remedyOf(out.failure.kind) } };
      case 'cancelled':
        return { outcome: 'failed', report: { failureKind: 'cancelled', failureMessage: 'the run was cancelled', remedy: remedyOf('cancelled') } };
      case 'fenced':
        return { outcome: 'failed', report: { failureKind: 'fenced', failureMessage: out.message } };
      default:
        return { outcome: 'parked', report: { summary: out.reason } };
    }
  }
}
