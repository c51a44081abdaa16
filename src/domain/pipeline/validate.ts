// Semantic validation of a pipeline, after its shape passed the schema: every rule names the step
// and the field, so a bad gantry.yaml fails at load with a message a person can act on.
import { closest } from '../../config/suggest.js';
import { COMMON_OPTIONS } from './kinds.js';
import type { KindSpec, PipelineDef, StepDef } from './types.js';
import { outputFields } from './structured-output.js';
import { parseWhen } from './when.js';

export interface PipelineIssue {
  /** e.g. `pipelines.standard.steps[2].of` */
  path: string;
  message: string;
}

/** The producer a review/approval step judges: `of:`, else the nearest earlier producer. */
export function producerOf(steps: readonly StepDef[], idx: number, kinds: ReadonlyMap<string, KindSpec>): number | null {
  const def = steps[idx];
  if (!def) return null;
  if (def.of !== undefined) {
    const j = steps.findIndex((s) => s.id === def.of);
    return j >= 0 && j < idx ? j : null;
  }
  for (let j = idx - 1; j >= 0; j--) if (kinds.get(steps[j]!.kind)?.producer) return j;
  return null;
}

export function validatePipeline(p: PipelineDef, kinds: ReadonlyMap<string, KindSpec>, where: string = `pipelines.${p.name}`): PipelineIssue[] {
  const issues: PipelineIssue[] = [];
  const at = (i: number, field?: string): string => `${where}.steps[${i}]${field ? `.${field}` : ''}`;
  if (p.steps.length === 0) issues.push({ path: `${where}.steps`, message: 'a pipeline needs at least one step' });
  const seen = new Map<string, number>();
  p.steps.forEach((s, i) => {
    const first = seen.get(s.id);
    if (first !== undefined) issues.push({ path: at(i, 'id'), message: `duplicate step id "${s.id}" (also steps[${first}])` });
    else seen.set(s.id, i);
    const spec = kinds.get(s.kind);
    if (!spec) {
      const guess = closest(s.kind, [...kinds.keys()]);
      issues.push({ path: at(i, 'kind'), message: `step "${s.id}": unknown kind "${s.kind}"${guess ? ` — did you mean "${guess}"?` : ''} (known: ${[...kinds.keys()].join(', ')})` });
      return;
    }
    for (const key of Object.keys(s)) {
      if (COMMON_OPTIONS.includes(key) || (spec.options as readonly string[]).includes(key)) continue;
      issues.push({ path: at(i, key), message: `step "${s.id}": option ${key} does not apply to kind ${s.kind} (it takes ${[...spec.options].join(', ') || 'only the common options'})` });
    }
    if (s.kind === 'script' && !s.run) issues.push({ path: at(i, 'run'), message: `step "${s.id}": a script step needs run: <command>` });
    if (spec.needsProducer) {
      if (s.of !== undefined) {
        const j = p.steps.findIndex((x) => x.id === s.of);
        if (j < 0) issues.push({ path: at(i, 'of'), message: `step "${s.id}": of: "${s.of}" names no step in this pipeline` });
        else if (j >= i) issues.push({ path: at(i, 'of'), message: `step "${s.id}": of: "${s.of}" must name an earlier step` });
        else if (!kinds.get(p.steps[j]!.kind)?.producer) issues.push({ path: at(i, 'of'), message: `step "${s.id}": of: "${s.of}" is a ${p.steps[j]!.kind} step, which produces nothing to ${s.kind}` });
      } else if (producerOf(p.steps, i, kinds) === null) {
        issues.push({ path: at(i, 'kind'), message: `step "${s.id}": a ${s.kind} step needs an earlier producer (an agent or script step) before it` });
      }
    }
  });
  issues.push(...whenIssues(p.steps, at));
  return issues;
}

/** `when:` must parse, name existing steps, refer only backwards, and never loop. */
function whenIssues(steps: readonly StepDef[], at: (i: number, f?: string) => string): PipelineIssue[] {
  const out: PipelineIssue[] = [];
  const index = new Map(steps.map((s, i) => [s.id, i]));
  const edges = new Map<string, string>();
  const forward: [number, string, string][] = [];
  steps.forEach((s, i) => {
    if (s.when === undefined) return;
    const e = parseWhen(s.when);
    if ('error' in e) return void out.push({ path: at(i, 'when'), message: `step "${s.id}": ${e.error}` });
    const j = index.get(e.step);
    if (j === undefined) return void out.push({ path: at(i, 'when'), message: `step "${s.id}": when refers to unknown step "${e.step}"` });
    edges.set(s.id, e.step);
    if (j >= i) forward.push([i, s.id, e.step]);
    // A step with a declared output schema names its fields: a typo is caught here, not at run time.
    const schema = steps[j]!.output;
    const field = e.path[0];
    if (schema && field !== undefined && !outputFields(schema).includes(field)) {
      const guess = closest(field, Object.keys(schema.properties));
      out.push({ path: at(i, 'when'), message: `step "${s.id}": when reads ${e.step}.${field}, which step "${e.step}" does not declare in its output${guess ? ` — did you mean "${guess}"?` : ` (it declares ${Object.keys(schema.properties).join(', ')})`}` });
    }
  });
  for (const [i, id, target] of forward) {
    if (!cycleThrough(edges, id)) out.push({ path: at(i, 'when'), message: `step "${id}": when refers to "${target}", which runs later; a condition can only read earlier steps` });
  }
  const reported = new Set<string>();
  for (const start of edges.keys()) {
    const cycle = cycleThrough(edges, start);
    if (!cycle || cycle.some((c) => reported.has(c))) continue;
    cycle.forEach((c) => reported.add(c));
    const i = index.get(start)!;
    out.push({ path: at(i, 'when'), message: `step "${start}": when conditions form a cycle ${[...cycle, start].join(' → ')}` });
  }
  return out;
}

function cycleThrough(edges: ReadonlyMap<string, string>, start: string): string[] | null {
  const path = [start];
  let cur = edges.get(start);
  while (cur !== undefined) {
    if (cur === start) return path;
    if (path.includes(cur)) return null;
    path.push(cur);
    cur = edges.get(cur);
  }
  return null;
}
