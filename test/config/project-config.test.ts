import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig, DEFAULT_CONFIG_YAML } from '../../src/config/project-config.js';

describe('gantry.yaml parsing', () => {
  it('accepts the commented default and fills defaults', () => {
    const c = parseConfig(DEFAULT_CONFIG_YAML);
    assert.equal(c.defaults.pipeline, 'standard');
    assert.deepEqual(c.checks, []);
    assert.deepEqual(parseConfig('').defaults.agent, 'scripted');
  });

  const bad: Array<[string, string, RegExp]> = [
    ['unknown top-level key with suggestion', 'chekcs: []', /chekcs: unknown key "chekcs" — did you mean "checks"\?/],
    ['unknown nested key', 'checks:\n  - { name: t, run: x, timout: 3 }', /checks\[0\]\.timout: unknown key "timout" — did you mean "timeout"\?/],
    ['wrong type', 'checks:\n  - { name: t, run: 5 }', /checks\[0\]\.run: .*string/],
    ['invalid yaml', 'checks: [', /not valid YAML/],
    ['scalar root', '42', /top level must be a mapping/],
    ['bad budget', 'budgets: { task: { costUsd: -1 } }', /budgets\.task\.costUsd/],
  ];
  for (const [name, text, re] of bad) {
    it(`rejects ${name}`, () => {
      assert.throws(() => parseConfig(text), (e: Error) => re.test(e.message));
    });
  }
});
