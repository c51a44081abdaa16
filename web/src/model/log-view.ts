// A log as the run view shows it: numbered lines, and which of them match a search.

export interface LogLine {
  n: number;
  text: string;
  match: boolean;
}

/** Lines numbered from 1 (a trailing newline adds no empty line); `query` matches case-insensitively. */
export function logLines(text: string, query: string): { lines: LogLine[]; matches: number } {
  const raw = text.endsWith('\n') ? text.slice(0, -1) : text;
  const q = query.trim().toLowerCase();
  let matches = 0;
  const lines = (raw === '' ? [] : raw.split('\n')).map((t, i) => {
    const match = q !== '' && t.toLowerCase().includes(q);
    if (match) matches++;
    return { n: i + 1, text: t, match };
  });
  return { lines, matches };
}
