// Structured outputs of agent steps, as tables: reading the fenced block (or native output),
// validating it against the step's schema, and what gantry.yaml accepts as a schema.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { OutputSchemaSchema, outputInstructions, readStructuredOutput, type OutputSchema } from '../../src/domain/pipeline/structured-output.js';
import { parseConfig } from '../../src/config/project-config.js';
import { editedProposal } from '../../src/domain/pipeline/human-action.js';

const schema: OutputSchema = {
  type: 'object',
  properties: { risky: { type: 'boolean' }, area: { type: 'string', enum: ['docs', 'code'] }, files: { type: 'array', items: { type: 'string' } } },
  required: ['risky', 'area'],
};
const block = (json: string, tag = 'gantry-output') => `Here is the plan.\n\`\`\`${tag}\n${json}\n\`\`\`\n`;

describe('readStructuredOutput', () => {
  const cases: [string, string, unknown, 'ok' | 'missing' | 'not_json' | 'invalid', RegExp | Record<string, unknown>][] = [
    ['a valid block', block('{"risky": true, "area": "code"}'), undefined, 'ok', { risky: true, area: 'code' }],
    ['the last block wins', block('{"risky": true, "area": "code"}') + block('{"risky": false, "area": "docs"}'), undefined, 'ok', { risky: false, area: 'docs' }],
    ['a plain json block is accepted when no gantry-output block', block('{"risky": false, "area": "docs", "files": ["a"]}', 'json'), undefined, 'ok', { risky: false, area: 'docs', files: ['a'] }],
    ['native output wins over the text', 'no block at all', { risky: true, area: 'docs' }, 'ok', { risky: true, area: 'docs' }],
    ['no block', 'I did it.', undefined, 'missing', /no fenced gantry-output block/],
    ['not JSON', block('{risky: yes}'), undefined, 'not_json', /not valid JSON/],
    ['a wrong type names the field', block('{"risky": "very", "area": "code"}'), undefined, 'invalid', /risky: .*boolean/],
    ['a missing required field', block('{"risky": true}'), undefined, 'invalid', /area/],
    ['a value outside the enum', block('{"risky": true, "area": "infra"}'), undefined, 'invalid', /area/],
    ['not an object', block('[1, 2]'), undefined, 'invalid', /expected object/i],
    ['invalid native output', 'x', { risky: 1 }, 'invalid', /risky/],
  ];
  for (const [name, text, native, want, detail] of cases) {
    it(name, () => {
      const r = readStructuredOutput(text, schema, native);
      assert.equal(r.ok ? 'ok' : r.problem, want, JSON.stringify(r));
      if (r.ok) assert.deepEqual(r.value, detail);
      else assert.match(r.message, detail as RegExp);
    });
  }

  it('tells the agent the tag, the schema and an example', () => {
    const p = outputInstructions(schema);
    assert.match(p, /gantry-output/);
    assert.match(p, /"risky":\{"type":"boolean"\}/);
    assert.match(p, /```gantry-output\n\{"risky":false,"area":"docs","files":\["…"\]\}\n```/);
  });
});

describe('output schemas in gantry.yaml', () => {
  const yaml = (output: string, when = '') => `pipelines:\n  p:\n    steps:\n      - { id: plan, kind: agent, output: ${output} }\n      - { id: next, kind: script, run: "true"${when ? `, when: "${when}"` : ''} }\n`;
  const ok = '{ type: object, properties: { risky: { type: boolean } }, required: [risky] }';
  const cases: [string, string, RegExp | null][] = [
    ['a valid schema, read by when:', yaml(ok, 'plan.risky'), null],
    ['when: may read the built-in fields too', yaml(ok, 'plan.state == done'), null],
    ['a typo in when: names the declared fields', yaml(ok, 'plan.riksy'), /when reads plan\.riksy.*did you mean "risky"/],
    ['the top level must be an object', yaml('{ type: string }'), /type: object/],
    ['an unknown keyword is an error', yaml('{ type: object, properties: { a: { type: string, enmu: [x] } } }'), /enmu/],
    ['a reserved field name is refused', yaml('{ type: object, properties: { text: { type: string } } }'), /"text" is reserved/],
    ['required must name a property', yaml('{ type: object, properties: { a: { type: string } }, required: [b] }'), /required names "b"/],
    ['an unknown type', yaml('{ type: object, properties: { a: { type: text } } }'), /properties\.a\.type/],
    ['no properties', yaml('{ type: object, properties: {} }'), /at least one property/],
  ];
  for (const [name, text, err] of cases) {
    it(name, () => {
      if (err === null) assert.doesNotThrow(() => parseConfig(text));
      else assert.throws(() => parseConfig(text), (e: Error) => err.test(e.message), `expected ${String(err)}`);
    });
  }
  it('output: is an option of agent steps only', () => {
    assert.throws(() => parseConfig(`pipelines:\n  p:\n    steps:\n      - { id: s, kind: script, run: "true", output: ${ok} }\n`), /option output does not apply to kind script/);
  });
});

describe('editedProposal (approve with an edit)', () => {
  const out = { text: 'original plan', agentSessionId: 'a', usage: { tokens: 1, costUsd: 0 }, risky: true, area: 'code' };
  it('the edit becomes the text; the original is kept; structured fields stand', () => {
    const r = editedProposal(out, 'my plan', schema);
    assert.ok(r.ok);
    assert.deepEqual(r.output, { ...out, text: 'my plan', edited: true, originalText: 'original plan' });
  });
  it('a block in the edit replaces the fields, validated', () => {
    const r = editedProposal(out, block('{"risky": false, "area": "docs"}'), schema);
    assert.ok(r.ok && r.output.risky === false && r.output.area === 'docs');
    const bad = editedProposal(out, block('{"risky": "no", "area": "docs"}'), schema);
    assert.ok(!bad.ok && /risky/.test(bad.reason));
  });
  it('without a schema a block is just text', () => {
    const r = editedProposal({ text: 'x' }, block('{"risky": "no"}'));
    assert.ok(r.ok && r.output.risky === undefined && String(r.output.text).includes('gantry-output'));
  });
  it('the meta-schema itself is strict', () => {
    assert.equal(OutputSchemaSchema.safeParse({ type: 'object', properties: { a: { type: 'string' } }, extra: 1 }).success, false);
  });
});
