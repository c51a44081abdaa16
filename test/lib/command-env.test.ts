import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { projectCommandEnv } from '../../src/lib/command-env.js';

describe('environment of project commands', () => {
  const rows: Array<[string, boolean]> = [
    ['PATH', true],
    ['DATABASE_URL', true],
    ['NODE_OPTIONS', true],
    ['GANTRY_TOKEN', false],
    ['GANTRY_TEST_DATABASE_URL', false],
    ['NODE_TEST_CONTEXT', false],
    ['CLAUDECODE', false],
    // The forge token Gantry pushes and merges with: checks run code an agent wrote.
    ['GITHUB_TOKEN', false],
    ['GANTRY_GITHUB_TOKEN', false],
  ];
  for (const [name, kept] of rows) {
    it(`${kept ? 'keeps' : 'drops'} ${name}`, () => {
      assert.equal(name in projectCommandEnv({ [name]: 'x' }), kept);
    });
  }
});
