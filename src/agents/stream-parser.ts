// What every adapter's output parser implements: fed one stdout line at a time, it returns the
// normalized events that line means; at the end it may add what the exit implies. Parsers never
// throw: a malformed or truncated line becomes a non-fatal error event.
import type { AgentEvent, ExitInfo } from '../ports/agent.js';

export interface StreamParser {
  line(text: string, truncated?: boolean): AgentEvent[];
  end(exit: ExitInfo): AgentEvent[];
}

export type JsonLine = { ok: true; value: Record<string, unknown> } | { ok: false; event: AgentEvent } | { ok: 'skip' };

/** Parse one line as a JSON object; blank lines are skipped, anything else is a warning. */
export function jsonLine(text: string, truncated = false): JsonLine {
  const t = text.trim();
  if (t === '') return { ok: 'skip' };
  if (truncated) return { ok: false, event: { type: 'error', message: `output line over the size limit dropped (${t.length} bytes)`, fatal: false } };
  try {
    const v = JSON.parse(t) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return { ok: true, value: v as Record<string, unknown> };
  } catch {
    // fall through
  }
  return { ok: false, event: { type: 'error', message: `unparseable output line: ${t.slice(0, 120)}`, fatal: false } };
}

export const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
export const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
export const obj = (v: unknown): Record<string, unknown> =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

/** Shared turn bookkeeping: a turn that started but never completed is reported at the end. */
export function unfinishedTurn(started: boolean, completed: boolean, exit: ExitInfo): AgentEvent[] {
  if (!started || completed) return [];
  const how = exit.signal ? `signal ${exit.signal}` : `code ${exit.code ?? 'unknown'}`;
  return [{ type: 'error', message: `agent stopped before the turn completed (${exit.reason}, ${how})`, fatal: true }];
}

/** A short, single-line description of a tool call for transcripts (never the full input). */
export function summarize(input: Record<string, unknown>): string {
  const pick = str(input.command) ?? str(input.cmd) ?? str(input.file_path) ?? str(input.path) ?? str(input.pattern) ?? str(input.description);
  const s = pick ?? JSON.stringify(input);
  return s.length > 160 ? `${s.slice(0, 157)}...` : s.split('\n')[0] ?? '';
}
