// The fenced run/step protocol (docs/fleet.md §6): what a remote factory's pipeline engine sends the
// coordinator. Every write carries the lease epoch; the server checks it inside the writing statement
// (runs, merge intents, budget forfeits) or just before it (checkpoint rows, workspace events), and a
// stale one is 409. Unknown keys are dropped; shapes are checked here, on the server.
import { z } from 'zod';
import { RUN_STATES, STEP_STATES } from '../domain/pipeline/types.js';
import { WAIT_CLASSES } from '../domain/pipeline/wait-notifications.js';

const epoch = z.number().int().min(0);
const record = z.record(z.string(), z.unknown());
const failure = z.object({ kind: z.string().min(1).max(100), message: z.string().max(20_000) });

/** A run's pipeline as the factory resolved it from the project's gantry.yaml. */
const pipelineDef = z.object({ name: z.string().min(1).max(200), steps: z.array(z.object({ id: z.string().min(1).max(200), kind: z.string().min(1).max(100) }).passthrough()).max(200) });

const waiting = z
  .object({
    kind: z.enum(['approval', 'decision', 'needs_input', 'review_cap', 'merge_review']),
    stepIdx: z.number().int().min(0),
    stepId: z.string(),
    question: z.string().max(20_000),
    options: z.array(z.string()),
    detail: record.optional(),
  })
  .passthrough();

/** Events of a run transition: the server sets the task and run; a factory names neither. */
const runEvent = z.object({ type: z.string().regex(/^(run|step|session)\.[a-z_]+$/), sessionId: z.string().max(300).optional(), payload: record.optional() });

export const runChangeBody = z.object({
  leaseEpoch: epoch,
  change: z.object({
    runId: z.string().min(1).max(100),
    expectedRev: z.number().int().min(0),
    run: z
      .object({
        state: z.enum(RUN_STATES).optional(),
        currentStep: z.number().int().min(0).optional(),
        waiting: waiting.nullable().optional(),
        failure: failure.optional(),
        markStarted: z.boolean().optional(),
        markFinished: z.boolean().optional(),
        markPaused: z.boolean().optional(),
      })
      .optional(),
    steps: z
      .array(
        z.object({
          idx: z.number().int().min(0),
          state: z.enum(STEP_STATES).optional(),
          attempts: z.number().int().min(0).optional(),
          output: record.nullable().optional(),
          kindState: record.optional(),
          sessionId: z.string().max(300).nullable().optional(),
          failure: failure.optional(),
          markStarted: z.boolean().optional(),
          markFinished: z.boolean().optional(),
          reopen: z.boolean().optional(),
        }),
      )
      .max(200)
      .optional(),
    notifications: z
      .array(z.object({ kind: z.string().min(1).max(100), priority: z.enum(['low', 'normal', 'high', 'urgent']), title: z.string().max(2_000), detail: record, signature: z.string().min(1).max(500) }))
      .max(20)
      .optional(),
    resolveWaits: z.array(z.enum(['park', 'budget', 'failure'] satisfies typeof WAIT_CLASSES[number][])).optional(),
    events: z.array(runEvent).max(50),
  }),
});

export const runStartBody = z.object({ leaseEpoch: epoch, pipeline: pipelineDef });

export const leaseQuery = z.object({ leaseEpoch: z.coerce.number().int().min(0), runId: z.string().min(1).max(100).optional() });

const amount = z.object({ tokens: z.number().min(0), costUsd: z.number().min(0) });
const limits = z.object({ tokens: z.number().min(0).optional(), costUsd: z.number().min(0).optional() });

export const reserveBody = z.object({
  leaseEpoch: epoch,
  request: z.object({
    id: z.string().min(1).max(300),
    runId: z.string().min(1).max(100),
    stepRowId: z.string().min(1).max(100),
    amount,
    limits: z.object({ task: limits.optional(), project: limits.optional(), global: limits.optional() }),
  }),
});

export const reservationBody = z.object({ leaseEpoch: epoch, op: z.enum(['settle', 'release', 'forfeit']), actual: amount.optional() });

export const mergeRecordBody = z.object({
  leaseEpoch: epoch,
  intent: z.object({ runId: z.string().min(1).max(100), baseBranch: z.string().min(1).max(300), expectedBaseSha: z.string().regex(/^[0-9a-f]{40,64}$/), headSha: z.string().regex(/^[0-9a-f]{40,64}$/) }),
});

export const mergeMarkBody = z.object({ leaseEpoch: epoch, state: z.enum(['merged', 'aborted']), mergedSha: z.string().regex(/^[0-9a-f]{40,64}$/).optional(), reason: z.string().max(20_000).optional() });

export const checkpointBody = z.object({
  leaseEpoch: epoch,
  checkpoint: z.object({
    seq: z.number().int().min(1),
    ref: z.string().min(1).max(500),
    sha: z.string().regex(/^[0-9a-f]{40,64}$/),
    parentSha: z.string().regex(/^[0-9a-f]{40,64}$/).nullable(),
    step: z.string().max(200).nullable(),
    reason: z.string().min(1).max(200),
    filesChanged: z.number().int().min(0),
    linesAdded: z.number().int().min(0),
    linesRemoved: z.number().int().min(0),
  }),
});

/** What a factory's workspace service reports about a task's workspace (and nothing else). */
export const workspaceEventsBody = z.object({
  leaseEpoch: epoch.optional(),
  events: z.array(z.object({ type: z.string().regex(/^(workspace|checkpoint)\.[a-z_]+$/), payload: record.optional() })).min(1).max(50),
});

/** One chunk of a log file the factory writes (an agent session's, a check's), at a byte offset. */
export const logChunkBody = z.object({
  leaseEpoch: epoch,
  kind: z.enum(['sessions', 'checks']),
  /** Relative to the factory's logs/<kind> directory: plain segments only. */
  path: z
    .string()
    .min(1)
    .max(600)
    .refine((p) => p.split('/').every((s) => /^[\w.:-]{1,200}$/.test(s) && s !== '.' && s !== '..') && p.split('/').length <= 6, 'plain path segments (letters, digits, . _ - :), at most 6'),
  offset: z.number().int().min(0),
  /** Base64 of the bytes from `offset`. */
  data: z.string().max(1_400_000).regex(/^[A-Za-z0-9+/]*={0,2}$/),
});

const sessionId = z.string().min(1).max(300);
const generation = z.number().int().min(0);
const at = z.number().int().min(0);
const evidence = { confidence: z.enum(['valid', 'stale', 'unavailable']), source: z.enum(['protocol', 'hook', 'transcript', 'process', 'terminal']), at, launchGeneration: generation };

/**
 * What a factory reports about the agent sessions it runs (docs/fleet.md "Remote work is visible"):
 * launches and the evidence the in-process sink would get — states, pids, exit codes, the agent's own
 * session id, SCM observations. No prompts: a session record carries none, and neither does this.
 */
export const sessionOp = z.discriminatedUnion('op', [
  z.object({ op: z.literal('create'), sessionId, runId: z.string().min(1).max(100), stepRowId: z.string().min(1).max(100).nullable().optional(), agent: z.string().min(1).max(100), workspace: z.string().max(4_000).nullable().optional() }),
  z.object({ op: z.literal('spawned'), sessionId, launchGeneration: generation, pid: z.number().int().positive().nullable().optional(), at }),
  z.object({ op: z.literal('launch_failed'), sessionId }),
  z.object({ op: z.literal('continued'), sessionId, agentSessionId: z.string().min(1).max(300) }),
  z.object({ op: z.literal('agent_session'), sessionId, agentSessionId: z.string().min(1).max(300), launchGeneration: generation }),
  z.object({ op: z.literal('activity'), sessionId, obs: z.object({ value: z.enum(['working', 'idle', 'waiting_input', 'blocked', 'unknown']), ...evidence }) }),
  z.object({
    op: z.literal('runtime'),
    sessionId,
    obs: z.object({
      value: z.discriminatedUnion('state', [
        // A process that never started has no pid: the fact still counts.
        z.object({ state: z.literal('alive'), pid: z.number().int().min(0).nullable().optional() }),
        z.object({ state: z.literal('exited'), pid: z.number().int().min(0).nullable().optional(), code: z.number().int().nullable(), signal: z.string().max(40).nullable(), reason: z.string().max(100).optional() }),
      ]),
      ...evidence,
    }),
  }),
  z.object({
    op: z.literal('change'),
    sessionId,
    at,
    observation: z.object({
      state: z.enum(['open', 'merged', 'closed']),
      checks: z.enum(['passing', 'failing']).optional(),
      conflict: z.boolean().optional(),
      review: z.enum(['approved', 'changes_requested']).optional(),
      headSha: z.string().max(100).nullable().optional(),
      detail: z.string().max(64 * 1024).nullable().optional(),
      handledBy: z.literal('pipeline').optional(),
    }),
  }),
]);

/** A batch of session reports, in the order they happened; `sentAt` is the factory's clock at sending. */
export const sessionBatchBody = z.object({ leaseEpoch: epoch, sentAt: at, ops: z.array(sessionOp).min(1).max(500) });
