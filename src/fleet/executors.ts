// Named executors besides the pipeline engine (TaskExecutor in src/ports/fleet.ts), which is the
// default of `gantry up` and `gantry factory` and is built by their composition (src/app/).
// `StepsExecutor` walks a task through the factory stages with a pause per step — enough to exercise
// leases, renewals, fencing, drain and offline-degrade end to end. It is a test and demo executor:
// it does no real work.
import type { Stage, Task } from '../domain/task.js';
import type { ExecutionResult, LeaseHandle, TaskExecutor } from '../ports/fleet.js';
import { GantryError } from '../domain/errors.js';
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

/** Executors by name (`--executor NAME[:ARG]`; `pipeline`, the default, is not one of them). A new executor is one entry here. */
export const EXECUTORS: Record<string, (arg: string | undefined) => TaskExecutor> = {
  steps: (arg) => new StepsExecutor({ stepMs: arg === undefined ? 200 : Number(arg) }),
};

export function executorFrom(spec: string): TaskExecutor {
  const [name, arg] = spec.split(':', 2) as [string, string | undefined];
  const make = EXECUTORS[name];
  if (!make) {
    throw new GantryError('validation', `unknown executor ${name}`, { field: 'executor', hint: `one of: pipeline (the default), ${Object.keys(EXECUTORS).join(', ')}` });
  }
  if (arg !== undefined && !/^\d+$/.test(arg)) throw new GantryError('validation', `executor ${name}: argument must be a number of milliseconds`, { field: 'executor' });
  return make(arg);
}
