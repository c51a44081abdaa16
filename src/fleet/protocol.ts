// Wire schemas of the fleet protocol (DESIGN §5), shared by the API routes, the HTTP client and
// the coordinator, so a body is validated the same way whichever way it arrives.
import { z } from 'zod';
import { GantryError } from '../domain/errors.js';
import { OPERATOR_ACTIONS, RELEASE_OUTCOMES } from '../ports/fleet.js';

const id = z.string().min(1).max(200);
const capability = z.string().min(1).max(100).regex(/^[A-Za-z0-9_.:=+/-]+$/, 'letters, digits and _ . : = + / - only');
const epoch = z.number().int().min(0);
const jsonObject = z.record(z.string(), z.unknown());

export const checkpointSchema = z.object({ ref: z.string().min(1).max(500), sha: z.string().regex(/^[0-9a-f]{7,64}$/), seq: z.number().int().min(0).optional() });

export const enrollBody = z.object({ name: z.string().min(1).max(100), capabilities: z.array(capability).max(100).default([]) });
/**
 * Seed-contract clients (a bash factory) send `health: "ok"` and `load: 0.4`; richer clients send
 * objects. Both are kept as objects: a string is `{status}`, a number `{value}` (health) / `{ratio}` (load).
 */
const simpleOr = (key: string) =>
  z
    .union([jsonObject, z.string().max(200), z.number().finite(), z.null()])
    .default({})
    .transform((v): Record<string, unknown> => (v === null ? {} : typeof v === 'object' ? v : { [typeof v === 'string' ? 'status' : key]: v }));
export const heartbeatBody = z.object({
  factoryId: id,
  name: z.string().min(1).max(100).optional(),
  capabilities: z.array(capability).max(100).default([]),
  health: simpleOr('value'),
  load: simpleOr('ratio'),
  slots: z.number().int().min(0).max(1000).optional(),
  /** A random id per start of the factory process (see docs/fleet.md, "A factory restarts"). */
  incarnation: z.string().min(1).max(100).regex(/^[A-Za-z0-9_.:-]+$/, 'letters, digits and _ . : - only').optional(),
});
export const claimBody = z.object({ factoryId: id, capabilities: z.array(capability).max(100).optional() });
export const patchBody = z.object({
  leaseEpoch: epoch,
  stage: z.enum(['assigned', 'building', 'review', 'testing', 'shipped', 'failed']),
  checkpoint: checkpointSchema.nullable().optional(),
  factoryId: id.optional(),
});
export const renewBody = z.object({ leaseEpoch: epoch, factoryId: id.optional() });
export const releaseBody = z.object({
  leaseEpoch: epoch,
  outcome: z.enum(RELEASE_OUTCOMES).optional(),
  report: jsonObject.default({}),
  checkpoint: checkpointSchema.nullable().optional(),
  factoryId: id.optional(),
});
export const quarantineBody = z.object({ factoryId: id, leaseEpoch: epoch, reason: z.string().min(1).max(500) });
export const actionParams = z.object({ action: z.enum(OPERATOR_ACTIONS) });
export const actionBody = z.object({ reason: z.string().max(500).optional() });
export const submitBody = z.object({
  title: z.string().min(1).max(300),
  body: z.string().max(200_000).default(''),
  project: z.string().min(1).max(200),
  pipeline: z.string().min(1).max(100).default('standard'),
  agent: z.string().min(1).max(100).nullable().optional(),
  priority: z.number().int().min(-1000).max(1000).default(0),
  capabilities: z.array(capability).max(100).default([]),
  after: z.array(id).max(200).default([]),
  idempotencyKey: z.string().min(1).max(200).nullable().optional(),
  maxAttempts: z.number().int().min(1).max(100).default(3),
});

/** Reports stay small: the coordinator keeps them in the lease history and the event log. */
export const REPORT_MAX_BYTES = 16_384;

/** Parses external input or throws a validation GantryError naming the first bad field. */
export function parse<S extends z.ZodType>(schema: S, input: unknown, what: string): z.infer<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const field = issue?.path.join('.') ?? '';
  throw new GantryError('validation', `${what}: ${field ? `${field}: ` : ''}${issue?.message ?? 'invalid'}`, {
    ...(field ? { field } : {}),
    hint: 'see docs/fleet.md for the fleet protocol',
  });
}

export function limitReport(report: Record<string, unknown>): Record<string, unknown> {
  const size = Buffer.byteLength(JSON.stringify(report));
  if (size <= REPORT_MAX_BYTES) return report;
  throw new GantryError('payload_too_large', `report is ${size} bytes; the limit is ${REPORT_MAX_BYTES}`, {
    field: 'report',
    hint: 'send a summary and pointers (branch, checkpoint, PR URL); keep logs out of reports',
  });
}
