// Invariant 9: prompts, task bodies and tokens never leave in reports, events or logs.
// Pure: given the secrets a caller knows (the task body, its own token), strip them from any
// JSON-like value. Applied by the factory before anything is sent or written to its outbox, and
// again by the coordinator before a report is stored or emitted.
export const REDACTED = '[redacted]';

/** Gantry tokens (`gnt_<role>_<secret>`) and common bearer/API-key shapes. */
const TOKEN_PATTERNS: readonly RegExp[] = [
  /gnt_[a-z]+_[A-Za-z0-9_-]{16,}/g,
  /\bBearer\s+[A-Za-z0-9._~+/=-]{16,}/g,
  /\bsk-[A-Za-z0-9_-]{16,}/g,
];

/** The body itself and each of its substantial lines, so a partial echo is caught too. */
export function secretsOf(body: string, extra: readonly string[] = []): string[] {
  const parts = [body, ...body.split('\n').map((l) => l.trim()), ...extra];
  const uniq = [...new Set(parts.filter((p) => p.length >= 12))];
  return uniq.sort((a, b) => b.length - a.length);
}

/** NUL, and UTF-16 surrogates that are not part of a pair. */
const LOSSY = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export function redactText(s: string, secrets: readonly string[]): string {
  // A NUL (agent output carries them) or a lone surrogate (output cut inside an emoji) cannot be stored
  // in PostgreSQL text or jsonb, nor sent (the API refuses them): it would refuse the whole report.
  let out = s.replace(LOSSY, '\uFFFD');
  for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  for (const re of TOKEN_PATTERNS) out = out.replace(re, REDACTED);
  return out;
}

export function redact<T>(value: T, secrets: readonly string[]): T {
  return walk(value, secrets, 0) as T;
}

function walk(v: unknown, secrets: readonly string[], depth: number): unknown {
  if (typeof v === 'string') return redactText(v, secrets);
  if (depth > 20 || v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map((x) => walk(x, secrets, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[redactText(k, secrets)] = walk(x, secrets, depth + 1);
  return out;
}
