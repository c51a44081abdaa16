// Structured outputs of agent steps: a step declares `output:` (a JSON Schema subset, so the same
// schema can go to CLIs with native structured output); the agent ends its reply with a fenced
// `gantry-output` JSON block; the block is parsed and validated here, purely. Its fields join the
// step's output, where `when:` conditions and later steps read them.
import { z } from 'zod';

/** Keys every agent step's output already has (and `when:` facts add `state`): a schema may not declare them. */
export const RESERVED_OUTPUT_KEYS = ['text', 'agentSessionId', 'usage', 'state', 'edited', 'originalText'] as const;

const TYPES = ['string', 'number', 'integer', 'boolean', 'array', 'object', 'null'] as const;

export interface FieldSchema {
  type?: (typeof TYPES)[number] | (typeof TYPES)[number][];
  description?: string;
  enum?: (string | number | boolean | null)[];
  items?: FieldSchema;
  properties?: Record<string, FieldSchema>;
  required?: string[];
  additionalProperties?: boolean;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
}

/** A step's `output:` — always an object at the top, so its fields have names. */
export interface OutputSchema extends FieldSchema {
  type: 'object';
  properties: Record<string, FieldSchema>;
}

const typeName = z.enum(TYPES);
const fieldName = z.string().regex(/^[A-Za-z_][\w-]*$/, 'a field name is letters, digits, dash or underscore, starting with a letter');

/** The meta-schema: which JSON Schema keywords an output schema may use (strict, so typos are errors). */
export const FieldSchemaSchema: z.ZodType<FieldSchema> = z.lazy(() =>
  z.strictObject({
    type: z.union([typeName, z.array(typeName).min(1)]).optional(),
    description: z.string().optional(),
    enum: z.array(z.union([z.string(), z.number(), z.boolean(), z.null()])).min(1).optional(),
    items: FieldSchemaSchema.optional(),
    properties: z.record(fieldName, FieldSchemaSchema).optional(),
    required: z.array(z.string()).optional(),
    additionalProperties: z.boolean().optional(),
    minimum: z.number().optional(),
    maximum: z.number().optional(),
    minLength: z.number().int().min(0).optional(),
    maxLength: z.number().int().min(0).optional(),
    minItems: z.number().int().min(0).optional(),
    maxItems: z.number().int().min(0).optional(),
  }),
);

export const OutputSchemaSchema = z
  .strictObject({
    type: z.literal('object', { message: 'an output schema is an object: type: object with properties' }),
    description: z.string().optional(),
    properties: z.record(fieldName, FieldSchemaSchema).refine((p) => Object.keys(p).length > 0, { message: 'declare at least one property' }),
    required: z.array(z.string()).optional(),
    additionalProperties: z.boolean().optional(),
  })
  .superRefine((s, ctx) => {
    for (const k of Object.keys(s.properties)) {
      if ((RESERVED_OUTPUT_KEYS as readonly string[]).includes(k)) {
        ctx.addIssue({ code: 'custom', path: ['properties', k], message: `"${k}" is reserved (every agent step's output has ${RESERVED_OUTPUT_KEYS.join(', ')}); rename the field` });
      }
    }
    for (const [i, r] of (s.required ?? []).entries()) {
      if (!(r in s.properties)) ctx.addIssue({ code: 'custom', path: ['required', i], message: `required names "${r}", which is not among the properties (${Object.keys(s.properties).join(', ')})` });
    }
  }) as unknown as z.ZodType<OutputSchema>;

export const OUTPUT_TAG = 'gantry-output';

/** What the agent is told, appended to its prompt. */
export function outputInstructions(schema: OutputSchema): string {
  return (
    `## Structured output\nEnd your reply with a fenced code block tagged ${OUTPUT_TAG} containing one JSON object that matches this JSON Schema:\n` +
    `\`\`\`json\n${JSON.stringify(schema)}\n\`\`\`\nFor example:\n\`\`\`${OUTPUT_TAG}\n${JSON.stringify(example(schema))}\n\`\`\``
  );
}

function example(s: FieldSchema): unknown {
  if (s.enum) return s.enum[0];
  const t = Array.isArray(s.type) ? s.type[0] : s.type;
  switch (t) {
    case 'string':
      return '…';
    case 'number':
    case 'integer':
      return s.minimum ?? 0;
    case 'boolean':
      return false;
    case 'null':
      return null;
    case 'array':
      return s.items ? [example(s.items)] : [];
    default:
      return Object.fromEntries(Object.entries(s.properties ?? {}).map(([k, v]) => [k, example(v)]));
  }
}

export type StructuredResult =
  | { ok: true; value: Record<string, unknown>; source: 'block' | 'native' }
  | { ok: false; problem: 'missing' | 'not_json' | 'invalid'; message: string };

const BLOCK = new RegExp(`\`\`\`${OUTPUT_TAG}[^\\n]*\\n([\\s\\S]*?)\\n?\`\`\``, 'g');
const JSON_BLOCK = /```json[^\n]*\n([\s\S]*?)\n?```/g;

const lastMatch = (re: RegExp, text: string): string | undefined => {
  let last: string | undefined;
  for (const m of text.matchAll(re)) last = m[1];
  return last;
};

/**
 * The agent's structured output: the CLI's native structured output when it gave one, else the last
 * `gantry-output` block of its reply (a plain `json` block is accepted when there is none), validated
 * against the step's schema.
 */
export function readStructuredOutput(text: string, schema: OutputSchema, native?: unknown): StructuredResult {
  let raw: unknown;
  let source: 'block' | 'native' = 'native';
  if (native !== undefined && native !== null) raw = native;
  else {
    source = 'block';
    const body = lastMatch(BLOCK, text) ?? lastMatch(JSON_BLOCK, text);
    if (body === undefined) return { ok: false, problem: 'missing', message: `the reply has no fenced ${OUTPUT_TAG} block with the step's structured output` };
    try {
      raw = JSON.parse(body);
    } catch (e) {
      return { ok: false, problem: 'not_json', message: `the ${OUTPUT_TAG} block is not valid JSON (${e instanceof Error ? e.message : String(e)})` };
    }
  }
  const errors = validateAgainst(schema, raw);
  if (errors.length > 0) return { ok: false, problem: 'invalid', message: `the structured output does not match the step's output schema: ${errors.slice(0, 5).join('; ')}` };
  return { ok: true, value: raw as Record<string, unknown>, source };
}

/** Validation errors of a value against a schema (empty = valid), each naming the field. */
export function validateAgainst(schema: OutputSchema, value: unknown): string[] {
  const r = z.fromJSONSchema(schema as unknown as Parameters<typeof z.fromJSONSchema>[0]).safeParse(value);
  if (r.success) return [];
  return r.error.issues.map((i) => `${i.path.length ? i.path.map(String).join('.') : '(the object)'}: ${i.message}`);
}

/** The fields a `when:` path may name on a step with this schema (declared fields and the built-in ones). */
export const outputFields = (schema: OutputSchema): string[] => [...Object.keys(schema.properties), ...RESERVED_OUTPUT_KEYS];
