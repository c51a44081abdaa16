// Pipelines as data: built-ins, strict schema and semantic validation with step and field in every message.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../src/config/project-config.js';
import { parsePipelines } from '../../src/config/pipeline.js';
import { BUILTIN_PIPELINES } from '../../src/domain/pipeline/builtins.js';
import { kindMap } from '../../src/domain/pipeline/kinds.js';
import { validatePipeline } from '../../src/domain/pipeline/validate.js';
import { GantryError } from '../../src/domain/errors.js';

const yaml = (steps: string): string => `pipelines:\n  custom:\n    steps:\n${steps}`;
const rejects = (text: string, ...fragments: string[]): void => {
  assert.throws(() => parseConfig(text), (e: unknown) => {
    assert.ok(e instanceof GantryError);
    for (const f of fragments) assert.ok(e.message.includes(f), `expected "${f}" in:\n${e.message}`);
    return true;
  });
};

describe('pipeline config', () => {
  it('built-ins are valid and usable with no config', () => {
    for (const p of Object.values(BUILTIN_PIPELINES)) assert.deepEqual(validatePipeline(p, kindMap()), []);
    const all = parsePipelines(undefined);
    assert.deepEqual([...all.keys()].sort(), ['quick', 'review-only', 'standard']);
    assert.ok(!all.get('quick')!.steps.some((s) => s.kind === 'review' || s.id === 'plan'));
    assert.deepEqual(all.get('review-only')!.steps.map((s) => s.kind), ['agent', 'review', 'merge']);
  });

  it('accepts a custom pipeline and keeps the built-ins', () => {
    const cfg = parseConfig(yaml(`      - { id: impl, kind: agent, role: implementer, allow: ["src/**"], timeout: 600 }
      - { id: lint, kind: script, run: "npm run lint", when: "impl.state == done" }
      - { id: gate, kind: approval, of: impl }
      - { id: ship, kind: merge, policy: manual }
`));
    const all = parsePipelines(cfg.pipelines);
    assert.equal(all.get('custom')!.steps.length, 4);
    assert.ok(all.has('standard'));
  });

  it('rejects an unknown kind with a suggestion', () => rejects(yaml('      - { id: a, kind: agnet }\n'), 'pipelines.custom.steps[0].kind', 'unknown kind "agnet"', 'did you mean "agent"'));
  it('rejects of: pointing nowhere', () => rejects(yaml('      - { id: a, kind: agent }\n      - { id: r, kind: review, of: nope }\n'), 'steps[1].of', 'of: "nope" names no step'));
  it('rejects of: pointing forward', () => rejects(yaml('      - { id: r, kind: review, of: a }\n      - { id: a, kind: agent }\n'), 'steps[0].of', 'must name an earlier step'));
  it('rejects a review before any producer', () => rejects(yaml('      - { id: r, kind: review }\n      - { id: a, kind: agent }\n'), 'steps[0].kind', 'needs an earlier producer'));
  it('rejects duplicate ids', () => rejects(yaml('      - { id: a, kind: agent }\n      - { id: a, kind: checks }\n'), 'steps[1].id', 'duplicate step id "a"'));
  it('rejects cycles in when', () => rejects(yaml('      - { id: a, kind: agent, when: "b.ok" }\n      - { id: b, kind: agent, when: "a.ok" }\n'), 'steps[0].when', 'cycle a → b → a'));
  it('rejects when on an unknown step', () => rejects(yaml('      - { id: a, kind: agent, when: "zzz.ok" }\n'), 'steps[0].when', 'unknown step "zzz"'));
  it('rejects options that do not apply', () => rejects(yaml('      - { id: c, kind: checks, threshold: 0.5 }\n'), 'steps[0].threshold', 'does not apply to kind checks'));
  it('rejects unknown keys with a suggestion', () => rejects(yaml('      - { id: a, kind: agent, maxRoundz: 2 }\n'), 'maxRoundz'));
  it('rejects a script without run', () => rejects(yaml('      - { id: s, kind: script }\n'), 'steps[0].run'));
  it('rejects parallel arrays (steps must be objects)', () => rejects(yaml('      - agent\n'), 'steps[0]'));
});
