// Whose change an SCM observation is about: the task's branch is the work of its latest agent step
// (the implementer, re-run after reviews), so the change axis and its reactions live on that step's
// latest session. Fixers and resolvers only help it along; reviewers and planners change nothing.
export interface StepSessionFacts {
  idx: number;
  kind: string;
  /** The step's latest dispatched session (engine id), if it launched one. */
  sessionId: string | null;
}

export function changeOwner(steps: readonly StepSessionFacts[], uptoIdx: number): string | null {
  for (let i = Math.min(uptoIdx, steps.length - 1); i >= 0; i--) {
    const s = steps[i]!;
    if (s.kind === 'agent' && s.sessionId) return s.sessionId;
  }
  return null;
}
