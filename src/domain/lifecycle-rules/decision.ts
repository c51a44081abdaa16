// What a lifecycle decider returns: a patch to apply, or a named reason it changed nothing.
import type { SessionPatch, SessionRecord } from '../session.js';

export type Decision = { kind: 'patch'; patch: SessionPatch; why: string } | { kind: 'ignore'; why: string };

export const ignore = (why: string): Decision => ({ kind: 'ignore', why });
export const patch = (p: SessionPatch, why: string): Decision => ({ kind: 'patch', patch: p, why });

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** Drop the keys whose value already equals the record, so a write touches only what moved. */
export function sparse(rec: SessionRecord, p: SessionPatch): SessionPatch {
  const out: SessionPatch = {};
  for (const key of Object.keys(p) as (keyof SessionPatch)[]) {
    if (!same(p[key], rec[key])) (out as Record<string, unknown>)[key] = p[key];
  }
  return out;
}

export const isEmpty = (p: SessionPatch): boolean => Object.keys(p).length === 0;

export function applyPatch(rec: SessionRecord, p: SessionPatch): SessionRecord {
  return { ...rec, ...p };
}
