// Pipeline vocabulary (DESIGN §6): step definitions are objects, runs and steps have closed state sets.
import type { Stage } from '../task.js';
import type { OutputSchema } from './structured-output.js';

export type StepKindName = string;

/** One step definition, as written in gantry.yaml `pipelines.<name>.steps[]` (already shape-checked). */
export interface StepDef {
  id: string;
  kind: StepKindName;
  enabled?: boolean;
  /** Gate this step's own output on a person (approve · request changes · reject). */
  approval?: boolean;
  threshold?: number;
  maxRounds?: number;
  maxFixes?: number;
  /** Seconds. */
  timeout?: number;
  /** Skip unless this condition on earlier outputs holds, e.g. `plan.risky == true`. */
  when?: string;
  allow?: string[];
  deny?: string[];
  agent?: string;
  role?: string;
  /** The model for this step's agent sessions, passed with the agent CLI's own flag (overrides `agents.<id>.model`). */
  model?: string;
  /** review/approval: the producer step graded or gated (default: the nearest earlier producer). */
  of?: string;
  /** pr-review: approving reviews the change needs on the forge (default 1). */
  approvals?: number;
  /** pr-review: seconds between looks at the forge's reviews. */
  pollSeconds?: number;
  /** merge: `auto` merges when green; `manual` parks for a merge review. */
  policy?: 'auto' | 'manual';
  /** script: the command to run. */
  run?: string;
  /** agent: extra instructions appended to the task brief. */
  prompt?: string;
  /** agent: the structured output the agent must return (JSON Schema subset); its fields join the step's output. */
  output?: OutputSchema;
  /** What the step reserves against budgets before it starts (defaults come from the engine). */
  reserve?: { tokens?: number; costUsd?: number };
}

export interface PipelineDef {
  name: string;
  steps: StepDef[];
}

/** Static facts about a step kind, used by validation and the engine (the registry adds behaviour). */
export interface KindSpec {
  kind: StepKindName;
  defaultStage: Stage;
  /** Produces a change or output that review/approval can grade (agent, script). */
  producer: boolean;
  /** Must name or find an earlier producer (review). */
  needsProducer: boolean;
  /** Options this kind accepts beyond the common ones (id, kind, enabled, approval, when, timeout). */
  options: readonly (keyof StepDef)[];
}

export const RUN_STATES = ['running', 'parked', 'paused', 'done', 'failed', 'cancelled'] as const;
export type RunState = (typeof RUN_STATES)[number];
export const STEP_STATES = ['pending', 'working', 'waiting', 'done', 'skipped', 'failed'] as const;
export type StepState = (typeof STEP_STATES)[number];

export const isRunFinal = (s: RunState): boolean => s === 'done' || s === 'failed' || s === 'cancelled';

/** What a parked run waits for: the person's possible answers are fixed by the kind. */
export type WaitingKind = 'approval' | 'decision' | 'needs_input' | 'review_cap' | 'merge_review';

export interface Waiting {
  kind: WaitingKind;
  /** Index of the step that parked. */
  stepIdx: number;
  stepId: string;
  question: string;
  options: string[];
  /** Context for the person (score and findings at a review cap, the failing producer …). */
  detail?: Record<string, unknown>;
}

export interface ReviewFinding {
  severity: 'blocker' | 'major' | 'minor';
  message: string;
  file?: string;
  line?: number;
}

export interface ReviewResult {
  /** 0–1. */
  score: number;
  findings: ReviewFinding[];
  summary?: string;
}
