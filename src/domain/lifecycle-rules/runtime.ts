// Liveness decider: a process probe (or exit report) in, a patch to the runtime axis — and the
// session axis only where liveness owns it — out. Rules 1, 2, 3, 5 and the attempts half of 7.
import type { Observation } from '../observation.js';
import type { RuntimeAxis, SessionPatch, SessionRecord, SessionState } from '../session.js';
import { isLivenessOwned, isTerminal } from '../session.js';
import { ignore, patch, type Decision } from './decision.js';
import type { LifecyclePolicy } from './policy.js';
import { sessionStateFromActivity } from './activity.js';

export interface RuntimeFact {
  /** `unknown` = the probe could not tell (indeterminate), which is never evidence of absence. */
  state: 'alive' | 'exited' | 'missing' | 'unknown';
  pid?: number | null;
  handle?: string | null;
  exitCode?: number | null;
  signal?: string | null;
}

export interface RuntimeContext {
  policy: LifecyclePolicy;
  /** Input is queued for this session: a clean exit then means "between turns", not "done". */
  hasPendingInput: boolean;
}

export const evidenceHash = (o: Observation<RuntimeFact>): string =>
  `${o.source}:${o.at}:${o.value.state}:${o.value.pid ?? ''}`;

export function decideRuntime(rec: SessionRecord, o: Observation<RuntimeFact>, ctx: RuntimeContext): Decision {
  if (o.launchGeneration !== rec.launchGeneration) return ignore(o.launchGeneration < rec.launchGeneration ? 'stale_generation' : 'unknown_generation');
  // Rule 1: a failed or indeterminate probe changes nothing at all.
  if (o.confidence !== 'valid' || o.value.state === 'unknown') return ignore('probe_failed');
  // Older evidence never overturns newer evidence of another state (a resent batch of a remote
  // factory: "alive" after the exit). Older evidence of the same state still counts (racing probes).
  if (rec.runtime.at !== null && o.at < rec.runtime.at && o.value.state !== rec.runtime.state) return ignore('out_of_order');

  const v = o.value;
  const fact = {
    state: v.state,
    pid: v.pid !== undefined ? v.pid : rec.runtime.pid,
    handle: v.handle !== undefined ? v.handle : rec.runtime.handle,
    exitCode: v.state === 'exited' ? (v.exitCode ?? null) : null,
    signal: v.state === 'exited' ? (v.signal ?? null) : null,
  };
  const r = rec.runtime;
  const unchanged = r.state === fact.state && r.pid === fact.pid && r.handle === fact.handle && r.exitCode === fact.exitCode && r.signal === fact.signal;
  // A repeated identical probe keeps the axis (and its time) as is: no write per heartbeat.
  const runtime: RuntimeAxis = { ...fact, at: unchanged ? r.at : o.at };
  // Rule 2: a terminal session only records the runtime fact.
  if (isTerminal(rec.state)) return patch({ runtime }, 'terminal_runtime_only');

  if (v.state === 'alive') {
    // Rule 3: a healthy probe recovers only a state liveness put there; needs_input etc. stay.
    if (isLivenessOwned(rec)) {
      return patch({ runtime, detecting: null, ...sessionStateFromActivity(rec.activity) }, 'alive_recovers');
    }
    return patch({ runtime, detecting: null }, 'alive');
  }

  const definiteExit = v.state === 'exited' && (v.exitCode !== undefined && v.exitCode !== null || !!v.signal);
  if (definiteExit) {
    if (rec.state === 'needs_input') return patch({ runtime, detecting: null }, 'exited_awaiting_input');
    if (v.exitCode === 0) {
      if (ctx.hasPendingInput) return patch({ runtime, detecting: null }, 'exited_between_turns');
      return patch({ runtime, detecting: null, state: 'done', reason: 'completed' }, 'exited_clean');
    }
    const reason = v.signal ? `signal:${v.signal}` : `exit:${v.exitCode}`;
    return patch({ runtime, detecting: null, state: 'terminated', reason }, 'exited_error');
  }

  // The process is gone without an exit report: ambiguous, so count evidence before concluding.
  if (rec.state === 'needs_input') return patch({ runtime }, 'missing_awaiting_input');
  if (rec.state === 'stuck') return patch({ runtime }, 'missing_already_stuck');
  const hash = evidenceHash(o);
  if (rec.detecting && rec.detecting.evidenceHash === hash) return ignore('duplicate_evidence');
  const attempts = (rec.detecting?.attempts ?? 0) + 1;
  const since = rec.detecting?.since ?? o.at;
  if (attempts >= ctx.policy.detectingAttempts || o.at - since >= ctx.policy.detectingAfterMs) {
    return patch({ runtime, detecting: null, state: 'stuck', reason: 'runtime_missing' }, 'detecting_escalated');
  }
  const p: SessionPatch = { runtime, detecting: { attempts, since, evidenceHash: hash }, state: 'detecting' as SessionState, reason: 'runtime_ambiguous' };
  return patch(p, 'detecting');
}
