// Which step a run goes on from when its workspace came back without some recorded checkpoints (table).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decideLostWork, type CheckpointMark, type LostWorkDecision } from '../../src/domain/pipeline/lost-work.js';

const steps = ['plan', 'implement', 'review', 'checks', 'merge'];
const m = (seq: number, step: string | null, reason: string): CheckpointMark => ({ seq, step, reason });

const cases: { name: string; currentIdx: number; restored: CheckpointMark[]; lost: CheckpointMark[]; want: LostWorkDecision }[] = [
  {
    name: 'implement finished but its checkpoint never left the dead factory: implement again',
    currentIdx: 4, restored: [m(1, 'plan', 'step_done')], lost: [m(2, 'implement', 'step_done')], want: { type: 'rewind', toIdx: 1 },
  },
  {
    name: 'restored at the base with no checkpoint to go by: from the first step',
    currentIdx: 4, restored: [], lost: [m(1, 'implement', 'debounce')], want: { type: 'rewind', toIdx: 0 },
  },
  {
    name: 'restored mid-step (debounce): that step runs again',
    currentIdx: 3, restored: [m(2, 'implement', 'debounce'), m(1, 'plan', 'step_done')], lost: [m(3, 'implement', 'step_done')], want: { type: 'rewind', toIdx: 1 },
  },
  {
    name: 'a rework sent the run back: a lost checkpoint of an earlier step wins',
    currentIdx: 4, restored: [m(3, 'review', 'step_done'), m(2, 'implement', 'step_done')], lost: [m(4, 'implement', 'step_done'), m(5, 'review', 'step_done')], want: { type: 'rewind', toIdx: 1 },
  },
  {
    name: 'a driver checkpoint (parked) says no step: the newest one a step took decides',
    currentIdx: 4, restored: [m(3, 'parked', 'parked'), m(2, 'implement', 'step_done')], lost: [m(4, 'review', 'step_done')], want: { type: 'rewind', toIdx: 2 },
  },
  {
    name: 'only the current step\'s own unfinished work is lost: it runs on (it starts over anyway)',
    currentIdx: 1, restored: [m(1, 'plan', 'step_done')], lost: [m(2, 'implement', 'debounce')], want: { type: 'none' },
  },
  {
    name: 'lost checkpoints no step took, restored state covers every finished step: nothing to redo',
    currentIdx: 2, restored: [m(2, 'implement', 'step_done')], lost: [m(3, 'parked', 'parked'), m(4, null, 'review')], want: { type: 'none' },
  },
  {
    name: 'a checkpoint of a step the pipeline no longer has counts as none',
    currentIdx: 4, restored: [m(2, 'gone', 'step_done'), m(1, 'implement', 'step_done')], lost: [m(3, 'gone', 'step_done')], want: { type: 'rewind', toIdx: 2 },
  },
];

describe('decideLostWork', () => {
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(decideLostWork({ steps, currentIdx: c.currentIdx, restored: c.restored, lost: c.lost }), c.want));
  }
});
