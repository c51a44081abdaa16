// The `sandbox:` section of gantry.yaml: how Gantry contains this project's agents (docs/agents.md
// "Containment"). auto = bubblewrap where this host has a working one; required = refuse to launch an
// agent without it; off = no process sandbox (the agent's own sandbox, if any, stays on).
import { z } from 'zod';

const absOrHome = z
  .string()
  .min(1)
  .refine((p) => p.startsWith('/') || p === '~' || p.startsWith('~/'), { message: 'must be an absolute path or start with ~/' });

export const sandboxConfigSchema = z.strictObject({
  mode: z.enum(['auto', 'required', 'off']).default('auto'),
  /** Agents call their model over the network; `false` cuts every connection (a local model then needs a grant). */
  network: z.boolean().default(true),
  /** Paths the agent may see besides its worktree and tools (read-only unless `write: true`). */
  grant: z
    .array(z.union([absOrHome.transform((path) => ({ path, write: false })), z.strictObject({ path: absOrHome, write: z.boolean().default(false) })]))
    .default([]),
});

export type SandboxConfig = z.output<typeof sandboxConfigSchema>;
export const DEFAULT_SANDBOX: SandboxConfig = { mode: 'auto', network: true, grant: [] };
