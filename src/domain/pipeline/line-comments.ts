// Line comments on a diff, sent with "request changes": the agent reads them as text, so each one
// names its place as path:line — the form agents, editors and terminals all understand.

export type CommentSide = 'new' | 'old';

export interface LineComment {
  /** The file's path in the workspace, as the diff names it. */
  path: string;
  /** 1-based line number on `side`. */
  line: number;
  /** `new`: a line of the changed file (added or unchanged); `old`: a line the change removed. */
  side: CommentSide;
  body: string;
}

export const LINE_COMMENTS_HEADING = 'Line comments (path:line):';

/**
 * The feedback the producer gets: the person's text, then one item per comment, in file and line
 * order, each starting with path:line. A removed line has no number in the changed file, so it
 * says so. Multi-line comments keep their lines, indented under their item.
 */
export function changesFeedback(text: string | undefined, comments: readonly LineComment[]): string {
  const head = text?.trim() ?? '';
  if (comments.length === 0) return head;
  const items = [...comments]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.line - b.line || (a.side === b.side ? 0 : a.side === 'old' ? -1 : 1)))
    .map((c) => {
      const [first = '', ...rest] = c.body.trim().split(/\r?\n/);
      const place = `${c.path}:${c.line}${c.side === 'old' ? ' (a removed line; the number is in the old file)' : ''}`;
      return [`- ${place}: ${first}`, ...rest.map((l) => (l.trim() ? `  ${l}` : ''))].join('\n');
    });
  return [head, [LINE_COMMENTS_HEADING, ...items].join('\n')].filter(Boolean).join('\n\n');
}
