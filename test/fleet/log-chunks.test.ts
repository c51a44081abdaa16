// The coordinator's rule for a streamed log chunk (pure): append only the bytes beyond what it holds.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appendPlan } from '../../src/api/routes/fleet-engine.js';

describe('appendPlan', () => {
  const cases: Array<[string, number, number, number, ReturnType<typeof appendPlan>]> = [
    ['first chunk of a new file', 0, 0, 10, { skip: 0 }],
    ['the next chunk', 10, 10, 5, { skip: 0 }],
    ['a resend of what it holds', 10, 0, 10, { skip: 10 }],
    ['a resend of part of it', 10, 5, 3, { skip: 3 }],
    ['an overlapping chunk', 10, 8, 6, { skip: 2 }],
    ['a chunk past the end', 10, 12, 4, { gapFrom: 10 }],
    ['an empty chunk at the end', 10, 10, 0, { skip: 0 }],
  ];
  for (const [what, size, offset, length, want] of cases) it(what, () => assert.deepEqual(appendPlan(size, offset, length), want));
});
