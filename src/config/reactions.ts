// The `reactions:` section of gantry.yaml: how a project wants the lifecycle to react.
//
//   reactions:
//     checks-failed:     { action: send-to-agent, retries: 2, escalateAfter: 30m }
//     changes-requested: { action: send-to-agent, retries: 2 }
//     conflict:          { action: send-to-agent, retries: 1, priority: high }
//     needs-input:       { action: notify, priority: high }
//     stuck:             { action: notify, idleAfter: 30m, detectingAttempts: 3, detectingAfter: 5m }
//     exited:            { action: notify, priority: urgent }
import { z } from 'zod';
import { durationSchema } from './duration.js';
import type { ReactionKey, ReactionRule } from '../domain/lifecycle-rules/reactions.js';
import { DEFAULT_POLICY, type LifecyclePolicy } from '../domain/lifecycle-rules/policy.js';

const priority = z.enum(['low', 'normal', 'high', 'urgent']);
const rule = z.strictObject({
  action: z.enum(['send-to-agent', 'notify', 'none']).optional(),
  retries: z.number().int().min(0).max(20).optional(),
  escalateAfter: durationSchema.nullable().optional(),
  priority: priority.optional(),
});
const notifyRule = z.strictObject({
  action: z.enum(['notify', 'none']).optional(),
  priority: priority.optional(),
});

export const reactionsSchema = z.strictObject({
  'checks-failed': rule.optional(),
  'changes-requested': rule.optional(),
  conflict: rule.optional(),
  'needs-input': notifyRule.optional(),
  stuck: notifyRule
    .extend({
      idleAfter: durationSchema.optional(),
      detectingAttempts: z.number().int().min(1).max(10_000).optional(),
      detectingAfter: durationSchema.optional(),
    })
    .strict()
    .optional(),
  exited: notifyRule.optional(),
  input: z
    .strictObject({ ackTimeout: durationSchema.optional(), maxAttempts: z.number().int().min(1).max(20).optional() })
    .optional(),
});
export type ReactionsConfig = z.output<typeof reactionsSchema>;

export const DEFAULT_RULES: Record<ReactionKey, ReactionRule> = {
  'checks-failed': { action: 'send-to-agent', retries: 2, escalateAfterMs: 30 * 60_000, priority: 'high' },
  'changes-requested': { action: 'send-to-agent', retries: 2, escalateAfterMs: 60 * 60_000, priority: 'normal' },
  conflict: { action: 'send-to-agent', retries: 1, escalateAfterMs: 30 * 60_000, priority: 'high' },
  'needs-input': { action: 'notify', retries: 0, escalateAfterMs: null, priority: 'high' },
  stuck: { action: 'notify', retries: 0, escalateAfterMs: null, priority: 'high' },
  exited: { action: 'notify', retries: 0, escalateAfterMs: null, priority: 'urgent' },
};

export interface ResolvedReactions {
  rules: Record<ReactionKey, ReactionRule>;
  policy: LifecyclePolicy;
}

/** Defaults merged with a validated section. */
export function resolveReactions(cfg: ReactionsConfig | undefined): ResolvedReactions {
  const rules = { ...DEFAULT_RULES };
  for (const key of Object.keys(rules) as ReactionKey[]) {
    const over = cfg?.[key] as Partial<{ action: ReactionRule['action']; retries: number; escalateAfter: number | null; priority: ReactionRule['priority'] }> | undefined;
    if (!over) continue;
    rules[key] = {
      action: over.action ?? rules[key].action,
      retries: over.retries ?? rules[key].retries,
      escalateAfterMs: over.escalateAfter !== undefined ? over.escalateAfter : rules[key].escalateAfterMs,
      priority: over.priority ?? rules[key].priority,
    };
  }
  const policy: LifecyclePolicy = {
    detectingAttempts: cfg?.stuck?.detectingAttempts ?? DEFAULT_POLICY.detectingAttempts,
    detectingAfterMs: cfg?.stuck?.detectingAfter ?? DEFAULT_POLICY.detectingAfterMs,
    idleAfterMs: cfg?.stuck?.idleAfter ?? DEFAULT_POLICY.idleAfterMs,
    inputAckTimeoutMs: cfg?.input?.ackTimeout ?? DEFAULT_POLICY.inputAckTimeoutMs,
    inputMaxAttempts: cfg?.input?.maxAttempts ?? DEFAULT_POLICY.inputMaxAttempts,
  };
  return { rules, policy };
}
