// The PostgreSQL fleet batch runs releases, then PATCHes, then claims: two calls about one task in one
// batch are cut apart so they still land in the order they came.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { inArrivalOrder, secondLane } from '../../src/store/fleet-pg-batch.js';

const patch = (t: string) => ({ kind: 'patch', req: { ref: { taskId: t } }, tag: `p:${t}` });
const release = (t: string) => ({ kind: 'release', req: { ref: { taskId: t } }, tag: `r:${t}` });
const claim = (n: number) => ({ kind: 'claim', req: { factoryId: `f${n}` }, tag: `c${n}` });

it('inArrivalOrder: a batch is cut before a second call about a task already in it', () => {
  const cases: [string, { kind: string; req: unknown; tag: string }[], string[][]][] = [
    ['nothing to cut', [patch('a'), release('b'), claim(1), claim(2)], [['p:a', 'r:b', 'c1', 'c2']]],
    ['a PATCH then its release', [patch('a'), claim(1), release('a')], [['p:a', 'c1'], ['r:a']]],
    ['a release then a resent PATCH', [release('a'), patch('b'), patch('a'), patch('b')], [['r:a', 'p:b'], ['p:a', 'p:b']]],
    ['claims never cut', [claim(1), claim(1), claim(2)], [['c1', 'c1', 'c2']]],
    ['empty', [], []],
  ];
  for (const [name, reqs, want] of cases) assert.deepEqual(inArrivalOrder(reqs).map((p) => p.map((r) => r.tag)), want, name);
});

it('secondLane: only PATCHes and releases run beside a running batch, and none about a task in it', () => {
  const running = new Set(['a']);
  assert.equal(secondLane([claim(1), claim(2)], running), false, 'claims alone wait for the running lane');
  assert.equal(secondLane([claim(1), patch('b')], running), true);
  assert.equal(secondLane([release('c'), patch('b')], running), true);
  assert.equal(secondLane([patch('b'), release('a')], running), false, 'a call about a task of the running batch waits for it');
  assert.equal(secondLane([], running), false);
});
