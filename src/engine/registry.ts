// The step-kind registry: a new kind is one file registered here (or by a plugin through `register`).
import type { KindSpec } from '../domain/pipeline/types.js';
import { GantryError } from '../domain/errors.js';
import type { StepKind } from './step-kind.js';
import { agentKind } from './steps/agent.js';
import { approvalKind } from './steps/approval.js';
import { checksKind } from './steps/checks.js';
import { conflictsKind } from './steps/conflicts.js';
import { mergeKind } from './steps/merge.js';
import { prReviewKind } from './steps/pr-review.js';
import { reviewKind } from './steps/review.js';
import { scriptKind } from './steps/script.js';

export class StepKindRegistry {
  private readonly kinds = new Map<string, StepKind>();

  register(k: StepKind): this {
    if (this.kinds.has(k.spec.kind)) throw new GantryError('conflict', `step kind ${k.spec.kind} is already registered`);
    this.kinds.set(k.spec.kind, k);
    return this;
  }

  get(kind: string): StepKind | undefined {
    return this.kinds.get(kind);
  }

  /** Specs for pipeline validation. */
  specs(): ReadonlyMap<string, KindSpec> {
    return new Map([...this.kinds].map(([k, v]) => [k, v.spec]));
  }
}

export const builtinRegistry = (): StepKindRegistry =>
  new StepKindRegistry().register(agentKind).register(reviewKind).register(approvalKind).register(checksKind).register(conflictsKind).register(scriptKind).register(mergeKind).register(prReviewKind);
