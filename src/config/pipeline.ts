// gantry.yaml `pipelines:` — pipelines as data (DESIGN §6). The schema checks shape (unknown keys
// are errors with suggestions); `resolvePipelines` adds the semantic rules (kinds, of:, when:,
// duplicate ids) so a bad pipeline is rejected at load and a run never starts on one.
import { z } from 'zod';
import { GantryError } from '../domain/errors.js';
import { BUILTIN_PIPELINES } from '../domain/pipeline/builtins.js';
import { kindMap } from '../domain/pipeline/kinds.js';
import type { KindSpec, PipelineDef, StepDef } from '../domain/pipeline/types.js';
import { validatePipeline, type PipelineIssue } from '../domain/pipeline/validate.js';
import { OutputSchemaSchema } from '../domain/pipeline/structured-output.js';

const globs = z.array(z.string().min(1));
const stripUndefined = (s: Record<string, unknown>): StepDef => Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined)) as unknown as StepDef;

export const StepSchema = z
  .object({
    id: z.string().regex(/^[A-Za-z_][\w-]*$/, 'a step id is letters, digits, dash or underscore, starting with a letter'),
    kind: z.string().min(1),
    enabled: z.boolean().optional(),
    approval: z.boolean().optional(),
    threshold: z.number().min(0).max(1).optional(),
    maxRounds: z.number().int().min(1).max(20).optional(),
    maxFixes: z.number().int().min(0).max(20).optional(),
    timeout: z.number().positive().max(86_400).optional(),
    when: z.string().min(1).optional(),
    allow: globs.optional(),
    deny: globs.optional(),
    agent: z.string().min(1).optional(),
    role: z.string().min(1).optional(),
    model: z.string().min(1).optional(),
    of: z.string().min(1).optional(),
    policy: z.enum(['auto', 'manual']).optional(),
    approvals: z.number().int().min(0).max(20).optional(),
    pollSeconds: z.number().positive().max(3600).optional(),
    run: z.string().min(1).optional(),
    prompt: z.string().optional(),
    reserve: z.object({ tokens: z.number().int().min(0).optional(), costUsd: z.number().min(0).optional() }).strict().optional(),
    output: OutputSchemaSchema.optional(),
  })
  .strict();

export const PipelineSchema = z.object({ description: z.string().optional(), steps: z.array(StepSchema) }).strict();
/** Shape plus the semantic rules for the built-in kinds, so gantry.yaml fails at load with the step and field. */
export const PipelinesSchema = z.record(z.string().regex(/^[\w-]+$/), PipelineSchema).superRefine((pipelines, ctx) => {
  for (const [name, p] of Object.entries(pipelines)) {
    const steps = p.steps.map((s) => stripUndefined(s));
    for (const issue of validatePipeline({ name, steps }, kindMap(), '')) {
      // issue.path is `.steps[i].field`; zod wants segments relative to the record.
      const segs = issue.path.split(/\.|\[|\]/).filter(Boolean).map((x) => (/^\d+$/.test(x) ? Number(x) : x));
      ctx.addIssue({ code: 'custom', path: [name, ...segs], message: issue.message });
    }
  }
});
export type PipelinesConfig = z.infer<typeof PipelinesSchema>;

/**
 * Built-ins overlaid with the project's pipelines, every one validated against the kinds the
 * engine knows. Throws one validation error listing every issue, each naming step and field.
 */
export function resolvePipelines(config: PipelinesConfig | undefined, kinds: ReadonlyMap<string, KindSpec> = kindMap(), file = 'gantry.yaml'): Map<string, PipelineDef> {
  const out = new Map<string, PipelineDef>(Object.entries(BUILTIN_PIPELINES));
  const issues: PipelineIssue[] = [];
  for (const [name, p] of Object.entries(config ?? {})) {
    const def: PipelineDef = { name, steps: p.steps.map((s) => stripUndefined(s)) };
    issues.push(...validatePipeline(def, kinds));
    out.set(name, def);
  }
  if (issues.length > 0) {
    throw new GantryError('validation', issues.map((i) => `${file}: ${i.path}: ${i.message}`).join('\n'), {
      hint: `fix the pipeline in ${file} (see docs/engine.md for step kinds and options)`,
      details: { issues },
    });
  }
  return out;
}

/** Parses a raw `pipelines:` section (e.g. from an API body) and resolves it. */
export function parsePipelines(raw: unknown, kinds?: ReadonlyMap<string, KindSpec>, file = 'gantry.yaml'): Map<string, PipelineDef> {
  const r = PipelinesSchema.safeParse(raw ?? {});
  if (!r.success) {
    const lines = r.error.issues.map((i) => `${file}: pipelines.${i.path.map(String).join('.')}: ${i.message}`);
    throw new GantryError('validation', lines.join('\n'), { hint: `fix the pipeline in ${file}` });
  }
  return resolvePipelines(r.data, kinds, file);
}
