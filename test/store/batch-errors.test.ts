// What a failed batched PostgreSQL call (gantry_patch/gantry_release) means for the requests in it.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { afterBatchError } from '../../src/store/fleet-pg-batch.js';

it('afterBatchError: a statement error the server reported is retried request by request; a lost connection fails them all', () => {
  const server = (code: string) => Object.assign(new Error('x'), { code, severity: 'ERROR' });
  const cases: [string, unknown, ReturnType<typeof afterBatchError>][] = [
    ['deadlock', server('40P01'), 'each-alone'],
    ['serialization failure', server('40001'), 'each-alone'],
    ['a value the server refuses (NUL in jsonb)', server('22P05'), 'each-alone'],
    ['a constraint', server('23505'), 'each-alone'],
    ['connection failure reported by the server', server('08006'), 'all-fail'],
    ['admin shutdown', server('57P01'), 'all-fail'],
    ['a socket error (no server verdict)', Object.assign(new Error('x'), { code: 'ECONNRESET' }), 'all-fail'],
    ['EPIPE looks like a SQLSTATE but has no severity', Object.assign(new Error('x'), { code: 'EPIPE' }), 'all-fail'],
    ['a timeout of the client', new Error('Query read timeout'), 'all-fail'],
    ['not an error at all', undefined, 'all-fail'],
  ];
  for (const [name, e, want] of cases) assert.equal(afterBatchError(e), want, name);
});
