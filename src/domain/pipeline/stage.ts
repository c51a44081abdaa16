// The task stage while a run is active is the stage of its current step (DESIGN §4).
import type { Stage } from '../task.js';
import type { KindSpec } from './types.js';

export function stageOfStep(kind: string, kinds: ReadonlyMap<string, KindSpec>): Stage {
  return kinds.get(kind)?.defaultStage ?? 'building';
}
