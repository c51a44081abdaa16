// Where a run goes on when its workspace came back without some of its recorded checkpoints (a factory
// died before pushing them, so the factory resuming the task restored an older one, or the base).
// Steps recorded done since then did their work on state that is gone: they run again, or the run would
// go on — and merge — without it.
import { GantryError, isGantryError } from '../errors.js';

/** A checkpoint as the decision needs it: its number and what took it. */
export interface CheckpointMark {
  seq: number;
  /** The step id it was taken in (null, or a driver reason such as `parked`, when no step took it). */
  step: string | null;
  reason: string;
}

export interface LostWorkFacts {
  /** The pipeline's step ids, in order. */
  steps: readonly string[];
  /** The step the run is at. */
  currentIdx: number;
  /** The checkpoint the workspace was restored from and every older one, newest first (empty: restored at the base). */
  restored: readonly CheckpointMark[];
  /** The recorded checkpoints the workspace could not restore. */
  lost: readonly CheckpointMark[];
}

export type LostWorkDecision = { type: 'none' } | { type: 'rewind'; toIdx: number };

/** Reasons whose checkpoint holds its step's finished work (the next step starts from it). */
const FINISHED = new Set(['step_done']);

/**
 * The step to run again from. What the restored state already holds is known from the newest restored
 * checkpoint a step took: all of that step's work if it finished, else the work before it. A lost
 * checkpoint a step took says that step's work is (partly) gone — it can lie before that point when a
 * rework sent the run back. Nothing known (base, or no checkpoint a step took): from the first step.
 */
export function decideLostWork(f: LostWorkFacts): LostWorkDecision {
  const idxOf = (m: CheckpointMark): number => (m.step === null ? -1 : f.steps.indexOf(m.step));
  const anchor = f.restored.find((m) => idxOf(m) >= 0);
  let to = anchor ? idxOf(anchor) + (FINISHED.has(anchor.reason) ? 1 : 0) : 0;
  for (const m of f.lost) {
    const i = idxOf(m);
    if (i >= 0) to = Math.min(to, i);
  }
  return to < f.currentIdx ? { type: 'rewind', toIdx: to } : { type: 'none' };
}

/** What a workspace that came back without some checkpoints tells the engine (carried by its error). */
export interface LostWork {
  restored: CheckpointMark[];
  lost: CheckpointMark[];
}

/** The lost work a workspace error carries, if it is that error. */
export function lostWorkOf(e: unknown): LostWork | null {
  if (!isGantryError(e) || e.code !== 'conflict') return null;
  const w = e.details?.workspaceLost as LostWork | undefined;
  return w && Array.isArray(w.restored) && Array.isArray(w.lost) ? w : null;
}

export function workspaceLostError(taskId: string, w: LostWork): GantryError {
  const restored = w.restored[0] ? `checkpoint ${w.restored[0].seq}` : 'its base';
  return new GantryError('conflict', `the workspace of task ${taskId} was restored from ${restored}: checkpoint(s) ${w.lost.map((m) => m.seq).join(', ')} never reached this factory (their factory died before pushing them)`, {
    hint: 'the steps that did that work run again',
    details: { workspaceLost: w },
  });
}
