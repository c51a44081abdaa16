// The feedback text "request changes" sends when a person commented lines of the diff.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { changesFeedback, type LineComment } from '../../src/domain/pipeline/line-comments.js';

const c = (path: string, line: number, body: string, side: LineComment['side'] = 'new'): LineComment => ({ path, line, side, body });

describe('changesFeedback', () => {
  const cases: Array<[string, string | undefined, LineComment[], string]> = [
    ['text alone is the text, trimmed', '  split the plan \n', [], 'split the plan'],
    ['nothing is nothing (the decider refuses it)', undefined, [], ''],
    ['comments alone: a heading and one path:line item each', undefined, [c('coupon.txt', 2, 'Use 15% here.')], 'Line comments (path:line):\n- coupon.txt:2: Use 15% here.'],
    [
      'text first, then the comments in file and line order',
      'Tighten the rules.',
      [c('src/b.ts', 10, 'b10'), c('src/a.ts', 12, 'a12'), c('src/a.ts', 3, 'a3')],
      'Tighten the rules.\n\nLine comments (path:line):\n- src/a.ts:3: a3\n- src/a.ts:12: a12\n- src/b.ts:10: b10',
    ],
    ['a removed line says its number is the old file’s', '', [c('cart.ts', 7, 'Keep this check.', 'old')], 'Line comments (path:line):\n- cart.ts:7 (a removed line; the number is in the old file): Keep this check.'],
    ['a multi-line comment stays under its item', undefined, [c('a.md', 1, 'First.\nSecond.\n\nThird.')], 'Line comments (path:line):\n- a.md:1: First.\n  Second.\n\n  Third.'],
  ];
  for (const [name, text, comments, want] of cases) it(name, () => assert.equal(changesFeedback(text, comments), want));
});
