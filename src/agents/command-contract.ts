// The contract between Gantry and any executable used as an agent (the `command` adapter, and the
// built-in scripted agent, which is just such an executable). Documented in docs/agents.md.
//
// In:  cwd = workspace; the prompt on stdin and in $GANTRY_PROMPT_FILE; role instructions in
//      $GANTRY_ROLE_FILE; $GANTRY_WORKSPACE, $GANTRY_SESSION_ID, $GANTRY_RESULT_FILE,
//      $GANTRY_RESUME_ID (when continuing), $GANTRY_ROLE/$GANTRY_ATTEMPT, $GANTRY_HOOK_URL/_TOKEN.
// Out: optionally, JSON lines on stdout that are normalized AgentEvents (other lines are just
//      logged); optionally, a JSON result file; the exit code (0 = the turn completed).
import { z } from 'zod';

export const ENV = {
  workspace: 'GANTRY_WORKSPACE',
  sessionId: 'GANTRY_SESSION_ID',
  promptFile: 'GANTRY_PROMPT_FILE',
  roleFile: 'GANTRY_ROLE_FILE',
  resultFile: 'GANTRY_RESULT_FILE',
  resumeId: 'GANTRY_RESUME_ID',
  role: 'GANTRY_ROLE',
  attempt: 'GANTRY_ATTEMPT',
  hookUrl: 'GANTRY_HOOK_URL',
  hookToken: 'GANTRY_HOOK_TOKEN',
} as const;

const usage = z.object({ inputTokens: z.number().nonnegative(), outputTokens: z.number().nonnegative(), cachedInputTokens: z.number().nonnegative().default(0) });

/** One stdout line of a command that speaks Gantry's event protocol. */
export const eventLine = z.discriminatedUnion('type', [
  z.object({ type: z.literal('session_started'), agentSessionId: z.string().min(1) }),
  z.object({ type: z.literal('turn_started') }),
  z.object({ type: z.literal('tool_use'), name: z.string(), summary: z.string().default('') }),
  z.object({ type: z.literal('message'), text: z.string() }),
  z.object({ type: z.literal('needs_input'), question: z.string().min(1), options: z.array(z.string()).optional() }),
  z.object({ type: z.literal('turn_completed'), usage: usage.nullable().default(null), costUsd: z.number().nullable().default(null) }),
  z.object({ type: z.literal('error'), message: z.string(), fatal: z.boolean().default(true) }),
]);

/** The optional result file a command writes before exiting. */
export const resultFile = z.object({
  status: z.enum(['completed', 'needs_input', 'failed']).default('completed'),
  summary: z.string().optional(),
  question: z.string().optional(),
  options: z.array(z.string()).optional(),
  agentSessionId: z.string().optional(),
  usage: usage.optional(),
  costUsd: z.number().optional(),
  /** Free-form structured output (e.g. a reviewer's score and findings). */
  output: z.record(z.string(), z.unknown()).optional(),
});
export type CommandResult = z.infer<typeof resultFile>;
