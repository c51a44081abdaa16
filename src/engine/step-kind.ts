// The narrow contract every step kind implements (DESIGN §6): look at the facts, return ONE
// transition. The engine persists it (compare-and-set) and only then performs its side effect.
import type { Failure } from '../domain/pipeline/failure.js';
import type { KindSpec, PipelineDef, StepDef, Waiting } from '../domain/pipeline/types.js';
import type { Task } from '../domain/task.js';
import type { AgentOutcome, Checks, CheckResult, CheckSpec, EngineWorkspace, Fence, KindState, MergeIntentRepo, NotificationDraft, RunRecord, Scm, StepRecord } from '../ports/engine.js';
import type { Project } from '../ports/store.js';
import type { DispatchPoll, DispatchSpec } from './dispatch.js';
import type { ScmObservation } from '../domain/lifecycle-rules/scm.js';

export interface StepContext {
  task: Task;
  project: Project;
  run: RunRecord;
  pipeline: PipelineDef;
  def: StepDef;
  step: StepRecord;
  /** Every step of the run, in order (outputs of earlier steps, producer state …). */
  steps: readonly StepRecord[];
  kinds: ReadonlyMap<string, KindSpec>;
  fence: Fence | null;
  workspace: EngineWorkspace;
  scm: Scm;
  checks: Checks;
  merges: MergeIntentRepo;
  checkSpecs: readonly CheckSpec[];
  /** Where check logs go for this step. */
  logDir: string;
  signal: AbortSignal;
  /** The project's `defaults.agent`. */
  defaultAgent: string;
  /** Where an agent dispatch of this step stands (launch it, wait for it, or its outcome). */
  pollDispatch(d: DispatchSpec): DispatchPoll;
  /** Report what SCM work saw about the task's change (never throws). */
  observeScm(o: ScmObservation): Promise<void>;
}

export type Transition =
  /** Persist kind state and keep going (the next advance continues the step). */
  | { type: 'update'; kindState: KindState; output?: Record<string, unknown> }
  /** Persist, then launch the agent dispatch described in kindState (budget is reserved first). */
  | { type: 'launch'; kindState: KindState; dispatch: DispatchSpec }
  /** Do idempotent long work outside an agent (run checks, test mergeability, merge), then persist what it returns. */
  | { type: 'work'; work: () => Promise<KindState> }
  /** Wait for an in-flight dispatch to finish; nothing is written. */
  | { type: 'wait'; wait: Promise<unknown> }
  | { type: 'done'; output: Record<string, unknown>; kindState?: KindState }
  | { type: 'park'; waiting: Omit<Waiting, 'stepIdx' | 'stepId'>; kindState: KindState }
  /** Send the producer at `producerIdx` back with feedback; the steps from it onward re-run. */
  | { type: 'rework'; producerIdx: number; feedback: string; kindState: KindState }
  | { type: 'fail'; failure: Failure; kindState?: KindState; notification?: Omit<NotificationDraft, 'signature'> };

export interface StepKind {
  spec: KindSpec;
  advance(ctx: StepContext): Promise<Transition>;
}

export type { AgentOutcome, CheckResult };
