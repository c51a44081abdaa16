// The scripted agent's script: deterministic actions per role, optionally per attempt/round, so
// "the first review fails, the second passes" is one small document. Validated with zod; pure.
//
//   roles:
//     implementer: [ {write: {path: a.txt, content: "hi\n"}}, {commit: "add a"} ]
//     reviewer:
//       attempts:
//         - [ {review: {score: 4, findings: [{severity: major, message: "no tests"}]}} ]
//         - [ {review: {score: 9, findings: []}} ]
//       resumed: [ {say: "thanks"} ]
import { z } from 'zod';
import { GantryError } from '../../domain/errors.js';

const finding = z.object({
  severity: z.enum(['critical', 'major', 'minor', 'info']).default('major'),
  message: z.string().min(1),
  file: z.string().optional(),
  line: z.number().int().positive().optional(),
});

export const conflictStrategy = z.enum(['ours', 'theirs', 'union']);

export const action = z.union([
  z.object({ write: z.object({ path: z.string().min(1), content: z.string() }) }).strict(),
  z.object({ patch: z.object({ path: z.string().min(1), find: z.string().min(1), replace: z.string() }) }).strict(),
  z.object({ run: z.string().min(1), allowFailure: z.boolean().optional() }).strict(),
  z.object({ commit: z.string().min(1) }).strict(),
  z.object({ say: z.string() }).strict(),
  z.object({ ask: z.object({ question: z.string().min(1), options: z.array(z.string()).optional() }) }).strict(),
  z.object({ needs_input: z.string().min(1) }).strict(),
  z.object({ fail: z.string().min(1) }).strict(),
  z.object({ hang: z.literal(true) }).strict(),
  z.object({ exit: z.number().int().min(0).max(255) }).strict(),
  z.object({ review: z.object({ score: z.number().min(0).max(10), findings: z.array(finding).default([]), summary: z.string().optional() }) }).strict(),
  z.object({ merge: z.object({ ref: z.string().min(1), strategy: conflictStrategy.default('union') }) }).strict(),
  z.object({ resolve_conflicts: conflictStrategy }).strict(),
  // What the turn reports at its end (default: 0 tokens at $0); costUsd null = the agent reports no cost.
  z.object({ usage: z.object({ inputTokens: z.number().int().nonnegative(), outputTokens: z.number().int().nonnegative(), cachedInputTokens: z.number().int().nonnegative().default(0), costUsd: z.number().nonnegative().nullable().default(null) }).strict() }).strict(),
]);
export type Action = z.infer<typeof action>;

const actions = z.array(action);
const roleScript = z.union([
  actions,
  z.object({ attempts: z.array(actions).min(1), resumed: actions.optional() }).strict(),
]);

export const scriptDoc = z.object({ roles: z.record(z.string(), roleScript).default({}), default: roleScript.optional() }).strict();
export type ScriptDoc = z.infer<typeof scriptDoc>;

interface Issue {
  path: PropertyKey[];
  message: string;
  errors?: Issue[][];
}

/** A union failure hides the useful issue inside one branch: follow the deepest path. */
function deepest(issue: Issue, prefix: PropertyKey[] = []): { path: PropertyKey[]; message: string } {
  const here = [...prefix, ...issue.path];
  let best = { path: here, message: issue.message };
  for (const branch of issue.errors ?? []) {
    for (const inner of branch) {
      const d = deepest(inner, here);
      if (d.path.length > best.path.length) best = d;
    }
  }
  return best;
}

const ACTION_KEYS = ['write', 'patch', 'run', 'commit', 'say', 'ask', 'needs_input', 'fail', 'hang', 'exit', 'review', 'merge', 'resolve_conflicts', 'usage'];

/** Names an unknown action by its key (zod's union error would blame the first branch). */
function unknownAction(raw: unknown): { path: string[]; key: string } | null {
  const doc = (raw ?? {}) as { roles?: Record<string, unknown>; default?: unknown };
  const scripts: [string[], unknown][] = [...Object.entries(doc.roles ?? {}).map(([k, v]): [string[], unknown] => [['roles', k], v]), [['default'], doc.default]];
  for (const [path, script] of scripts) {
    const lists: [string[], unknown][] = Array.isArray(script)
      ? [[path, script]]
      : [...(((script as { attempts?: unknown[] })?.attempts ?? []) as unknown[]).map((a, i): [string[], unknown] => [[...path, 'attempts', String(i)], a]), [[...path, 'resumed'], (script as { resumed?: unknown })?.resumed]];
    for (const [p, list] of lists) {
      if (!Array.isArray(list)) continue;
      for (const [i, a] of list.entries()) {
        const keys = a && typeof a === 'object' ? Object.keys(a) : [];
        const key = keys.find((k) => k !== 'allowFailure' && !ACTION_KEYS.includes(k));
        if (key !== undefined || keys.length === 0) return { path: [...p, String(i)], key: key ?? '(empty)' };
      }
    }
  }
  return null;
}

export function parseScript(raw: unknown, where = 'agents.scripted'): ScriptDoc {
  const unknown = unknownAction(raw);
  if (unknown) {
    const path = [where, ...unknown.path].join('.');
    throw new GantryError('validation', `invalid scripted-agent script at ${path}: unknown action ${unknown.key}`, {
      field: path,
      hint: `each action is one of ${ACTION_KEYS.join(', ')} (see docs/agents.md)`,
    });
  }
  const r = scriptDoc.safeParse(raw);
  if (r.success) return r.data;
  const first = r.error.issues[0] as Issue | undefined;
  const issue = first ? deepest(first) : undefined;
  const path = [where, ...(issue?.path ?? []).map(String)].join('.');
  throw new GantryError('validation', `invalid scripted-agent script at ${path}: ${issue?.message ?? 'bad shape'}`, {
    field: path,
    hint: `each action is one of ${ACTION_KEYS.join(', ')} (see docs/agents.md)`,
  });
}

/**
 * The actions for one launch: the role's script (else the default), for this attempt (1-based;
 * past the last attempt the last one repeats), or its `resumed` list when continuing a session.
 */
export function selectActions(doc: ScriptDoc, role: string | undefined, attempt: number, resumed: boolean): Action[] | null {
  const script = (role !== undefined ? doc.roles[role] : undefined) ?? doc.default;
  if (!script) return null;
  if (Array.isArray(script)) return script;
  if (resumed && script.resumed) return script.resumed;
  const i = Math.min(Math.max(attempt, 1), script.attempts.length) - 1;
  return script.attempts[i] ?? null;
}
