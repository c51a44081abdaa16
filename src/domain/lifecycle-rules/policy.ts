// Thresholds every lifecycle decider reads. Defaults follow DESIGN §7 rule 7; a project's
// gantry.yaml (`reactions.stuck`) may override them.
export interface LifecyclePolicy {
  /** Missing-process evidence counted this many times → stuck. */
  detectingAttempts: number;
  /** Detecting for this long → stuck. */
  detectingAfterMs: number;
  /** Idle with no progress for this long → stuck. */
  idleAfterMs: number;
  /** A delivered input not acknowledged (no new turn) within this → redeliver or fail. */
  inputAckTimeoutMs: number;
  /** Deliveries per input before it fails. */
  inputMaxAttempts: number;
}

export const DEFAULT_POLICY: LifecyclePolicy = {
  detectingAttempts: 3,
  detectingAfterMs: 5 * 60_000,
  idleAfterMs: 30 * 60_000,
  inputAckTimeoutMs: 2 * 60_000,
  inputMaxAttempts: 3,
};
