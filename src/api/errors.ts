// Error → HTTP response, with the same shape everywhere: {error: {code, message, hint?, field?, details?}}.
import { z } from 'zod';
import { GantryError, isGantryError } from '../domain/errors.js';
import { describeIssues, keysAt } from '../config/zod-errors.js';

export interface ErrorBody {
  error: { code: string; message: string; hint?: string; field?: string; details?: Record<string, unknown> };
}

export function errorBody(e: GantryError): ErrorBody {
  return {
    error: {
      code: e.code,
      message: e.message,
      ...(e.hint ? { hint: e.hint } : {}),
      ...(e.field ? { field: e.field } : {}),
      ...(e.details ? { details: e.details } : {}),
    },
  };
}

export function toGantryError(e: unknown): GantryError {
  if (isGantryError(e)) return e;
  // PostgreSQL's data exceptions (SQLSTATE class 22: out of range, invalid text) are the request's
  // values, which its transaction rejected whole: bad input, not a server fault.
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^22[0-9A-Z]{3}$/.test(code)) {
    return new GantryError('bad_request', 'a value in the request cannot be stored (out of range, or not valid text)', { hint: 'check the numbers and strings you sent against /api/openapi.json' });
  }
  return new GantryError('internal', 'internal error', { hint: 'see the coordinator log; retry, and report it if it persists' });
}

const MAX_ISSUES = 20;

/** A failed schema parse of `where` (body, query, path) as one validation error naming each field. */
export function validationError(where: 'body' | 'query' | 'path', error: z.ZodError, schema: z.ZodType): GantryError {
  // A body of half a million wrong items must not become half a million lines: the first few say enough.
  const all = error.issues.length > MAX_ISSUES ? new z.ZodError(error.issues.slice(0, MAX_ISSUES)) : error;
  const issues = describeIssues(all, (p) => keysAt(schema, p)).map((i) => ({
    path: i.path === '(root)' ? where : `${where}.${i.path}`,
    message: i.message,
  }));
  const first = issues[0];
  const more = error.issues.length - all.issues.length;
  return new GantryError('validation', issues.map((i) => `${i.path}: ${i.message}`).join('; ') + (more > 0 ? `; … and ${more} more` : ''), {
    ...(first ? { field: first.path } : {}),
    hint: 'fix the named fields and resend; the full schema is at /api/openapi.json',
    details: { issues },
  });
}
