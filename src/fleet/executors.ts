// Executors: the seam the pipeline engine implements (TaskExecutor in src/ports/fleet.ts).
// Until it lands, `StepsExecutor` walks a task through the factory stages with a pause per step —
// enough to exercise leases, renewals, fencing, drain and offline-degrade end to end. It is a test
// and demo executor: it does no real work.
import type { Stage, Task } from '../domain/task.js';
import type { ExecutionResult, LeaseHandle, TaskExecutor } from '../ports/fleet.js';
import { sleep } from './backoff.js';

export interface StepsOptions {
  stages?: Stage[];
  stepMs?: number;
  outcome?: ExecutionResult['outcome'];
  /** Test hook: put the task body into the report, to prove redaction strips it. */
  echoBody?: boolean;
  /** Called before each step (tests use it to observe or to interfere). */
  onStep?: (task: Task, stage: Stage, index: number) => void | Promise<void>;
}

export class StepsExecutor implements TaskExecutor {
  constructor(private readonly o: StepsOptions = {}) {}

  async execute(job: Task, lease: LeaseHandle): Promise<ExecutionResult> {
    const stages = this.o.stages ?? ['building', 'review', 'testing'];
    const started = Date.now();
    for (const [i, stage] of stages.entries()) {
      await this.o.onStep?.(job, stage, i);
      if (lease.signal.aborted) break;
      await lease.report(stage);
      await sleep(this.o.stepMs ?? 0, lease.signal);
      if (lease.signal.aborted) break;
    }
    if (lease.signal.aborted) {
      return { outcome: 'failed', report: { failureKind: 'cancelled', failureMessage: 'interrupted', steps: stages.length } };
    }
    return {
      outcome: this.o.outcome ?? 'done',
      report: {
        summary: this.o.echoBody ? `finished: ${job.body}` : `finished ${stages.length} step(s)`,
        durationMs: Date.now() - started,
      },
    };
  }
}
