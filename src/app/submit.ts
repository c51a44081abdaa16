// Submitting a task: the one path behind POST /api/tasks, POST /api/fleet/jobs and `gantry add`.
import { z } from 'zod';
import { GantryError } from '../domain/errors.js';
import { closest } from '../config/suggest.js';
import type { Store, SubmitResult } from '../ports/store.js';
import { validateConfig } from '../config/project-config.js';
import { getAgent } from '../agents/registry.js';
import type { SubmitGuards } from './submit-guards.js';

export const BUILTIN_PIPELINES = ['standard', 'quick', 'review-only'] as const;

export const SubmitBody = z
  .object({
    title: z.string().trim().min(1, 'title must not be empty').max(200),
    body: z.string().max(200_000).default(''),
    project: z.string().min(1).describe('project id or name'),
    pipeline: z.string().min(1).optional(),
    agent: z.string().min(1).regex(/^[\w-]+$/).optional(),
    priority: z.number().int().min(-100).max(100).default(0),
    capabilities: z.array(z.string().min(1).max(64)).max(32).default([]),
    after: z.array(z.string().min(1)).max(100).default([]),
    idempotencyKey: z.string().min(1).max(200).optional(),
    maxAttempts: z.number().int().min(1).max(20).optional(),
    lightweight: z.boolean().optional().describe("skip setup steps when provisioning this task's workspace (default: the project's workspace.lightweight)"),
  })
  .strict();
export type SubmitInput = z.output<typeof SubmitBody>;

export async function submitTask(store: Store, input: SubmitInput, guards: SubmitGuards = {}): Promise<SubmitResult> {
  const found = await store.projects.get(input.project);
  const project = found && guards.refresh ? await guards.refresh(found) : found;
  if (!project) {
    const names = (await store.projects.list()).map((p) => p.name);
    const guess = closest(input.project, names);
    throw new GantryError('validation', `project: no project ${input.project}${guess ? ` — did you mean ${guess}?` : ''}`, {
      field: 'project',
      hint: names.length ? `registered projects: ${names.join(', ')}` : 'register one with `gantry init` in the repository',
    });
  }
  const config = validateConfig(project.config);
  const pipeline = input.pipeline ?? config.defaults.pipeline;
  const known = [...BUILTIN_PIPELINES, ...Object.keys(config.pipelines)];
  if (!known.includes(pipeline)) {
    const guess = closest(pipeline, known);
    throw new GantryError('validation', `pipeline: unknown pipeline ${pipeline}${guess ? ` — did you mean ${guess}?` : ''}`, {
      field: 'pipeline',
      hint: `known pipelines: ${known.join(', ')}`,
    });
  }
  if (input.agent) getAgent(input.agent); // unknown agent → validation error naming the choices
  await guards.canRun?.({ agent: input.agent, pipeline }, config);
  return store.tasks.submit({
    projectId: project.id,
    title: input.title,
    body: input.body,
    pipeline,
    agent: input.agent ?? null,
    priority: input.priority,
    capabilities: [...new Set(input.capabilities)].sort(),
    after: input.after,
    idempotencyKey: input.idempotencyKey ?? null,
    maxAttempts: input.maxAttempts ?? config.defaults.maxAttempts,
    ...(input.lightweight !== undefined ? { lightweight: input.lightweight } : {}),
  });
}
