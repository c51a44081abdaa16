// When the PostgreSQL sequencer runs its next pass after a commit: promptly when idle, spaced out
// under a steady stream of commits (each pass rewrites every event it sequences, so fewer, larger
// passes cost less per event).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { passDelay } from '../../src/store/pg-sequencer.js';

describe('passDelay', () => {
  const cases: { name: string; now: number; lastPassAt: number; want: number }[] = [
    { name: 'never passed: the idle delay', now: 5, lastPassAt: -Infinity, want: 3 },
    { name: 'last pass long ago: the idle delay', now: 1000, lastPassAt: 100, want: 3 },
    { name: 'last pass just began: wait out the interval', now: 101, lastPassAt: 100, want: 14 },
    { name: 'interval nearly over: never less than the idle delay', now: 114, lastPassAt: 100, want: 3 },
    { name: 'exactly at the interval: the idle delay', now: 115, lastPassAt: 100, want: 3 },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(passDelay(c.now, c.lastPassAt, 3, 15), c.want));
  }
});
