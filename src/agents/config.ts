// The `agents:` section of gantry.yaml, owned here. Per agent id:
//   agents:
//     claude-code: { binary: /opt/claude, model: sonnet, permissions: { mode: edits, allowedTools: ["Bash(npm test:*)"] } }
//     codex:       { permissions: { skipPermissions: true } }     # the only way to disable checks
//     command:     { argv: ["./scripts/agent.sh"] }
//     scripted:    { roles: { implementer: [ ... ] } }            # or { scriptFile: gantry-script.yaml }
// Unknown keys are errors naming their path.
import { z } from 'zod';
import { GantryError } from '../domain/errors.js';
import type { LaunchSpec } from '../ports/agent.js';
import { resolvePermissions } from './permissions.js';
import type { Price } from './prices.js';
import { parseScript } from './scripted/script.js';

const permissions = z
  .object({ mode: z.enum(['edits', 'readonly']).optional(), allowedTools: z.array(z.string().min(1)).optional(), skipPermissions: z.boolean().optional() })
  .strict();

const common = {
  binary: z.string().min(1).optional(),
  model: z.string().min(1).optional(),
  permissions: permissions.optional(),
  timeoutSeconds: z.number().positive().max(86_400).optional(),
  inactivitySeconds: z.number().positive().max(86_400).optional(),
  /** Run inside tmux so a person can `gantry attach` (events then come from hooks only). */
  interactive: z.boolean().optional(),
  /** USD per million tokens, for the cost of turns the CLI reports no cost for (default: src/agents/prices.ts). */
  price: z.object({ inputPerMTok: z.number().min(0), outputPerMTok: z.number().min(0), cachedInputPerMTok: z.number().min(0).optional() }).strict().optional(),
};

const schemas: Record<string, z.ZodType> = {
  command: z.object({ ...common, argv: z.array(z.string().min(1)).min(1) }).strict(),
  scripted: z.object({ ...common, roles: z.record(z.string(), z.unknown()).optional(), default: z.unknown().optional(), scriptFile: z.string().min(1).optional() }).strict(),
};
const cliSchema = z.object(common).strict();

/** The launch fields a project's config decides for one agent. */
export type AgentSettings = Pick<LaunchSpec, 'permissions'> & Partial<Pick<LaunchSpec, 'binary' | 'model' | 'timeoutMs' | 'inactivityMs' | 'options'>> & { interactive: boolean; price?: Price };

export function agentSettings(section: Record<string, unknown> | undefined, id: string): AgentSettings {
  const raw = section?.[id] ?? {};
  const r = (schemas[id] ?? cliSchema).safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    const path = ['agents', id, ...(issue?.path ?? []).map(String)].join('.');
    throw new GantryError('validation', `gantry.yaml: ${path}: ${issue?.message ?? 'invalid'}`, { field: path, hint: 'see docs/agents.md for the agents section' });
  }
  const v = r.data as { binary?: string; model?: string; permissions?: z.infer<typeof permissions>; timeoutSeconds?: number; inactivitySeconds?: number; interactive?: boolean; price?: Price } & Record<string, unknown>;
  const { binary, model, permissions: perms, timeoutSeconds, inactivitySeconds, interactive, price, ...rest } = v;
  if (id === 'scripted' && rest.scriptFile === undefined) parseScript(rest, `agents.${id}`); // validate inline scripts early
  return {
    permissions: resolvePermissions(perms),
    interactive: interactive === true,
    ...(binary ? { binary } : {}),
    ...(price ? { price } : {}),
    ...(model ? { model } : {}),
    ...(timeoutSeconds ? { timeoutMs: timeoutSeconds * 1000 } : {}),
    ...(inactivitySeconds ? { inactivityMs: inactivitySeconds * 1000 } : {}),
    ...(Object.keys(rest).length ? { options: rest } : {}),
  };
}
