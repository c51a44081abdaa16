// The `workspace:` section of gantry.yaml (DESIGN §8): what provisioning links or copies, which setup
// commands run and how their dependency cache is keyed, the port range, guard limits, checkpoint cadence.
import { z } from 'zod';
import { durationSchema } from './duration.js';
import { DEFAULT_RETAIN } from '../domain/workspace-retention.js';

const relPath = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith('/') && !p.split(/[\\/]/).includes('..'), { message: 'must be a path inside the repository (relative, no ..)' });

export const workspaceFileSchema = z.union([
  relPath.transform((path) => ({ path, mode: 'copy' as const, optional: true })),
  z.strictObject({
    path: relPath,
    /** copy: an independent file; link: a symlink to the project's file (shared, e.g. a large .env). */
    mode: z.enum(['copy', 'link']).default('copy'),
    /** A missing optional file is a warning; a missing required one fails provisioning. */
    optional: z.boolean().default(true),
  }),
]);

export const guardResponseSchema = z.enum(['block', 'revert', 'warn']);

export const guardConfigSchema = z.strictObject({
  /** Globs every agent step may change (a step's own `allow:` narrows further). Empty = anything. */
  allow: z.array(z.string().min(1)).default([]),
  deny: z.array(z.string().min(1)).default([]),
  maxFileBytes: z.number().int().positive().default(50 * 1024 * 1024),
  /** Total size of the workspace directory, ignored files included. */
  quotaBytes: z.number().int().positive().default(5 * 1024 * 1024 * 1024),
  response: guardResponseSchema.default('block'),
  /** A reviewer only judges: its changes are always discarded; `fail` also fails the review step. */
  reviewerChanges: z.enum(['discard', 'fail']).default('discard'),
});

export const workspaceConfigSchema = z.strictObject({
  files: z.array(workspaceFileSchema).default([]),
  setup: z
    .strictObject({
      commands: z.array(z.string().min(1)).default([]),
      cache: z
        .strictObject({
          /** Files whose contents key the cache (package-lock.json, poetry.lock …). */
          lockfiles: z.array(relPath).min(1),
          /** Directories the setup commands produce and the cache restores (node_modules …). */
          paths: z.array(relPath).min(1),
        })
        .optional(),
      timeoutMs: z.number().int().positive().default(15 * 60 * 1000),
    })
    .default({ commands: [], timeoutMs: 15 * 60 * 1000 }),
  ports: z
    .strictObject({ from: z.number().int().min(1024).max(65535), to: z.number().int().min(1024).max(65535) })
    .refine((r) => r.from <= r.to, { message: 'ports.from must not exceed ports.to' })
    .default({ from: 4800, to: 4999 }),
  guard: guardConfigSchema.default({ allow: [], deny: [], maxFileBytes: 50 * 1024 * 1024, quotaBytes: 5 * 1024 * 1024 * 1024, response: 'block', reviewerChanges: 'discard' }),
  checkpoints: z
    .strictObject({
      /** Quiet period after the last file change before a checkpoint is taken while an agent works. */
      debounceMs: z.number().int().positive().default(30_000),
      /** Push checkpoint refs to this remote after each checkpoint so another factory can resume. */
      pushTo: z.string().min(1).optional(),
    })
    .default({ debounceMs: 30_000 }),
  /** Skip setup steps (setup commands and their dependency cache) for every task; a task may also ask for it. */
  lightweight: z.boolean().default(false),
  /** How long a finished task's worktree is kept (checkpointed, then removed): 0 = at once. */
  retain: z
    .strictObject({
      shipped: durationSchema.default(DEFAULT_RETAIN.shipped),
      failed: durationSchema.default(DEFAULT_RETAIN.failed),
      cancelled: durationSchema.default(DEFAULT_RETAIN.cancelled),
    })
    .default({ ...DEFAULT_RETAIN }),
});

export type WorkspaceConfig = z.output<typeof workspaceConfigSchema>;
export type WorkspaceConfigInput = z.input<typeof workspaceConfigSchema>;
export type GuardConfig = z.output<typeof guardConfigSchema>;
export type GuardResponse = z.output<typeof guardResponseSchema>;
export type WorkspaceFile = z.output<typeof workspaceFileSchema>;

export const parseWorkspaceConfig = (input: unknown): WorkspaceConfig => workspaceConfigSchema.parse(input ?? {});
