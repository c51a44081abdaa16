// The review disposition: pass, send the producer back with feedback, or park at the round cap.
import type { ReviewResult } from './types.js';

export type ReviewVerdict =
  | { type: 'pass' }
  | { type: 'rework'; reason: string }
  | { type: 'cap'; reason: string };

/** `round` is 1-based: the round that produced `result`. */
export function reviewVerdict(result: ReviewResult, threshold: number, round: number, maxRounds: number): ReviewVerdict {
  const blockers = result.findings.filter((f) => f.severity === 'blocker').length;
  // Blockers always loop, whatever the score.
  const reason =
    blockers > 0
      ? `${blockers} blocker finding(s)`
      : result.score < threshold
        ? `score ${result.score.toFixed(2)} is below the threshold ${threshold.toFixed(2)}`
        : null;
  if (reason === null) return { type: 'pass' };
  return round >= maxRounds ? { type: 'cap', reason: `${reason} after ${round} of ${maxRounds} round(s)` } : { type: 'rework', reason };
}

/** Normalizes what a reviewer reported: scores on a 0–10 scale become 0–1; severities map onto three. */
export function normalizeReview(raw: { score?: unknown; findings?: unknown; summary?: unknown }): ReviewResult | null {
  if (typeof raw.score !== 'number' || !Number.isFinite(raw.score) || raw.score < 0) return null;
  const score = raw.score > 1 ? Math.min(raw.score / 10, 1) : raw.score;
  const findings = Array.isArray(raw.findings) ? raw.findings : [];
  return {
    score,
    findings: findings.flatMap((f) => {
      if (f === null || typeof f !== 'object') return [];
      const o = f as Record<string, unknown>;
      const sev = String(o.severity ?? 'major');
      const severity = sev === 'blocker' || sev === 'critical' ? 'blocker' : sev === 'minor' || sev === 'info' ? 'minor' : 'major';
      return [{ severity, message: String(o.message ?? ''), ...(typeof o.file === 'string' ? { file: o.file } : {}), ...(typeof o.line === 'number' ? { line: o.line } : {}) }];
    }),
    ...(typeof raw.summary === 'string' ? { summary: raw.summary } : {}),
  };
}

/** Feedback the producer gets when it re-runs. */
export function reviewFeedback(result: ReviewResult, reason: string): string {
  const lines = result.findings.map((f) => `- [${f.severity}] ${f.file ? `${f.file}${f.line ? `:${f.line}` : ''}: ` : ''}${f.message}`);
  return [`The review asked for changes (${reason}).`, ...(result.summary ? [result.summary] : []), ...lines].join('\n');
}
