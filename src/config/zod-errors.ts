// Turns zod issues into one precise, actionable line each: where, what, and what to do.
import type { z } from 'zod';
import { closest } from './suggest.js';

export interface ConfigIssue {
  path: string;
  message: string;
}

const fmtPath = (path: readonly PropertyKey[]): string =>
  path.reduce<string>((acc, k) => (typeof k === 'number' ? `${acc}[${k}]` : acc ? `${acc}.${String(k)}` : String(k)), '');

/** `known(path)` returns the allowed keys at a path, for suggestions on unknown keys. */
export function describeIssues(error: z.ZodError, known?: (path: readonly PropertyKey[]) => readonly string[]): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const at = fmtPath([...issue.path, key]);
        const options = known?.(issue.path) ?? [];
        const guess = closest(key, options);
        out.push({
          path: at,
          message: `unknown key "${key}"${guess ? ` — did you mean "${guess}"?` : options.length ? ` (allowed: ${options.join(', ')})` : ''}`,
        });
      }
      continue;
    }
    out.push({ path: fmtPath(issue.path) || '(root)', message: issue.message });
  }
  return out;
}

/** Allowed keys of a zod object schema at a path (objects, arrays and records are walked). */
export function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let s: unknown = schema;
  for (const k of path) {
    s = unwrap(s);
    const def = (s as { def?: { type?: string; shape?: Record<string, unknown>; element?: unknown; valueType?: unknown } }).def;
    if (!def) return [];
    if (def.type === 'object' && typeof k === 'string') s = def.shape?.[k];
    else if (def.type === 'array') s = def.element;
    else if (def.type === 'record') s = def.valueType;
    else return [];
  }
  const def = (unwrap(s) as { def?: { type?: string; shape?: Record<string, unknown> } }).def;
  return def?.type === 'object' && def.shape ? Object.keys(def.shape) : [];
}

function unwrap(s: unknown): unknown {
  let cur = s as { def?: { type?: string; innerType?: unknown; in?: unknown } } | undefined;
  for (let i = 0; i < 10 && cur?.def; i++) {
    const t = cur.def.type;
    if ((t === 'optional' || t === 'default' || t === 'nullable' || t === 'prefault') && cur.def.innerType) cur = cur.def.innerType as typeof cur;
    else if (t === 'pipe' && cur.def.in) cur = cur.def.in as typeof cur;
    else break;
  }
  return cur;
}
