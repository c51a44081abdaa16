// Pipelines usable with no configuration. A project's gantry.yaml may shadow them by name.
import type { PipelineDef } from './types.js';

export const BUILTIN_PIPELINES: Readonly<Record<string, PipelineDef>> = {
  standard: {
    name: 'standard',
    steps: [
      { id: 'plan', kind: 'agent', role: 'planner', approval: true },
      { id: 'implement', kind: 'agent', role: 'implementer' },
      { id: 'review', kind: 'review', of: 'implement', threshold: 0.8, maxRounds: 3 },
      { id: 'checks', kind: 'checks', maxFixes: 5 },
      { id: 'conflicts', kind: 'conflicts', maxFixes: 3 },
      { id: 'merge', kind: 'merge', policy: 'auto' },
    ],
  },
  quick: {
    name: 'quick',
    steps: [
      { id: 'implement', kind: 'agent', role: 'implementer' },
      { id: 'checks', kind: 'checks', maxFixes: 3 },
      { id: 'conflicts', kind: 'conflicts', maxFixes: 3 },
      { id: 'merge', kind: 'merge', policy: 'auto' },
    ],
  },
  'review-only': {
    name: 'review-only',
    steps: [
      { id: 'implement', kind: 'agent', role: 'implementer' },
      { id: 'review', kind: 'review', of: 'implement', threshold: 0.8, maxRounds: 3 },
      { id: 'merge', kind: 'merge', policy: 'manual' },
    ],
  },
};

/** Defaults for options a step leaves out. */
export const STEP_DEFAULTS = { threshold: 0.8, maxRounds: 3, checksMaxFixes: 5, conflictsMaxFixes: 3, agentTimeoutS: 3600 } as const;
