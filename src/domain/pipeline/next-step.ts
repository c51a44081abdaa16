// Which step the engine acts on next: the first step not yet finished, unless it must be skipped.
import type { StepDef, StepState } from './types.js';
import { evaluateWhen, parseWhen, type StepFacts } from './when.js';

export type NextStep =
  | { type: 'act'; idx: number }
  | { type: 'skip'; idx: number; reason: string }
  | { type: 'done' }
  | { type: 'failed'; idx: number };

export function nextStep(defs: readonly StepDef[], states: readonly StepState[], facts: StepFacts): NextStep {
  for (let i = 0; i < defs.length; i++) {
    const s = states[i] ?? 'pending';
    if (s === 'done' || s === 'skipped') continue;
    if (s === 'failed') return { type: 'failed', idx: i };
    const def = defs[i]!;
    if (s === 'pending') {
      if (def.enabled === false) return { type: 'skip', idx: i, reason: 'disabled' };
      if (def.when !== undefined) {
        const e = parseWhen(def.when);
        // Validation rejects unreadable conditions at load; a run never starts on one.
        if (!('error' in e) && !evaluateWhen(e, facts)) return { type: 'skip', idx: i, reason: `when: ${def.when} is false` };
      }
    }
    return { type: 'act', idx: i };
  }
  return { type: 'done' };
}
