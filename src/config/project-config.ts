// gantry.yaml: the project's own configuration. Parsed strictly: an unknown key is an error that
// names its path and suggests the nearest known key. Each area owns its section's schema.
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { GantryError } from '../domain/errors.js';
import { describeIssues, keysAt, type ConfigIssue } from './zod-errors.js';
import { PipelinesSchema } from './pipeline.js';
import { workspaceConfigSchema } from './workspace.js';
import { sandboxConfigSchema } from './sandbox.js';
import { reactionsSchema } from './reactions.js';
import { notificationsSchema } from './notifications.js';
import { scmConfigSchema } from './scm.js';

export const CONFIG_FILE = 'gantry.yaml';

const seconds = z.number().positive().max(86_400);

export const CheckSchema = z
  .object({
    name: z.string().min(1).regex(/^[\w.-]+$/, 'use letters, digits, dot, dash or underscore'),
    run: z.string().min(1).optional(),
    /** Wait on the forge's hosted CI (check runs and commit statuses of the change's head) instead of running a command. */
    hosted: z.boolean().optional(),
    /** Hosted checks: seconds between polls of the forge. */
    pollSeconds: z.number().positive().max(3600).optional(),
    timeout: seconds.default(600),
  })
  .strict()
  .refine((c) => (c.hosted === true) !== (c.run !== undefined), { message: 'a check has either `run:` (a command) or `hosted: true` (the forge\'s CI), not both or neither' });

const Limits = z.object({ tokens: z.number().int().positive().optional(), costUsd: z.number().positive().optional() }).strict();

export const BudgetsSchema = z.object({ task: Limits.optional(), project: Limits.optional(), global: Limits.optional() }).strict();

/** A section another area validates in depth; here it only has to be a mapping. */
const section = z.record(z.string(), z.unknown());

export const ProjectConfigSchema = z
  .object({
    version: z.literal(1).default(1),
    project: z.object({ name: z.string().min(1).optional(), defaultBranch: z.string().min(1).optional() }).strict().default({}),
    defaults: z
      .object({ pipeline: z.string().min(1).default('standard'), agent: z.string().min(1).default('scripted'), maxAttempts: z.number().int().min(1).max(20).default(3) })
      .strict()
      .default({ pipeline: 'standard', agent: 'scripted', maxAttempts: 3 }),
    checks: z.array(CheckSchema).default([]),
    workspace: workspaceConfigSchema.prefault({}),
    pipelines: PipelinesSchema.default({}),
    /** Per-agent settings; each adapter validates its own entry when the project is loaded. */
    agents: z.record(z.string(), section).default({}),
    sandbox: sandboxConfigSchema.prefault({}),
    budgets: BudgetsSchema.default({}),
    reactions: reactionsSchema.prefault({}),
    notifications: notificationsSchema.prefault({}),
    scm: scmConfigSchema.prefault({}),
  })
  .strict();

export type ProjectConfig = z.infer<typeof ProjectConfigSchema>;

export function configError(file: string, issues: ConfigIssue[]): GantryError {
  const lines = issues.map((i) => `${file}: ${i.path}: ${i.message}`);
  return new GantryError('validation', lines.join('\n'), {
    hint: `fix ${file} (see docs/config.md for every key), then retry`,
    details: { issues },
  });
}

/** Validates an already-parsed object (e.g. JSON from the API). */
export function validateConfig(raw: unknown, file = CONFIG_FILE): ProjectConfig {
  const r = ProjectConfigSchema.safeParse(raw ?? {});
  if (!r.success) throw configError(file, describeIssues(r.error, (p) => keysAt(ProjectConfigSchema, p)));
  return r.data;
}

export function parseConfig(text: string, file = CONFIG_FILE): ProjectConfig {
  let raw: unknown;
  try {
    raw = parseYaml(text, { prettyErrors: true });
  } catch (e) {
    const msg = e instanceof YAMLParseError ? e.message.split('\n')[0] : String(e);
    throw new GantryError('validation', `${file}: not valid YAML: ${msg}`, { hint: `fix the YAML syntax in ${file}` });
  }
  if (raw !== null && raw !== undefined && (typeof raw !== 'object' || Array.isArray(raw))) {
    throw new GantryError('validation', `${file}: the top level must be a mapping of keys`, { hint: 'see `gantry init` for a commented example' });
  }
  return validateConfig(raw, file);
}

export const DEFAULT_CONFIG_YAML = `# gantry.yaml — how Gantry works on this repository. Unknown keys are errors.
version: 1

defaults:
  pipeline: standard      # built-in: standard · quick · review-only, or one defined below
  agent: scripted         # claude-code · codex · gemini · opencode · aider · command · scripted
  maxAttempts: 3          # lease reclaims before a task is dead-lettered

# Commands that must pass before a change merges. Run in the task's workspace.
checks: []
#  - { name: test, run: "npm test", timeout: 600 }

# Workspace: files to place in every worktree, setup commands with a dependency cache,
# a port range, guard rules for agent writes, checkpoint pushing (see docs/architecture.md#workspaces).
workspace: {}
#  files: [".env"]
#  setup:
#    commands: ["npm ci"]
#    cache: { lockfiles: [package-lock.json], paths: [node_modules] }
#  ports: { from: 4800, to: 4999 }
#  guard: { deny: ["secrets/**"], response: block }
#  checkpoints: { pushTo: origin }
#  lightweight: true                                  # skip setup commands (a task can ask: gantry add --lightweight)
#  retain: { shipped: 0, failed: 7d, cancelled: 0 }   # keep finished worktrees this long (checkpointed, then removed)

# Custom pipelines (steps are objects; see docs/config.md).
pipelines: {}

# Per-agent settings, e.g. permission mode and CLI path.
agents: {}

# Budgets: tokens and dollars per task, per project and globally.
budgets: {}
#  task: { costUsd: 5 }
`;
