// Checks and conflicts share one loop: green → pass; red → dispatch a fixer while fixes remain.
export type FixDecision = { type: 'pass' } | { type: 'fix'; attempt: number } | { type: 'exhausted'; fixesUsed: number };

export function fixLoop(green: boolean, fixesUsed: number, maxFixes: number): FixDecision {
  if (green) return { type: 'pass' };
  return fixesUsed < maxFixes ? { type: 'fix', attempt: fixesUsed + 1 } : { type: 'exhausted', fixesUsed };
}

/** The last `maxChars` of a log, cut at a line start, for a fixer's prompt and a notification. */
export function logTail(text: string, maxChars = 4000): string {
  if (text.length <= maxChars) return text;
  const cut = text.slice(-maxChars);
  const nl = cut.indexOf('\n');
  return nl >= 0 && nl < cut.length - 1 ? cut.slice(nl + 1) : cut;
}
