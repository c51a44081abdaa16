// Line comments a person drafts on a diff before "request changes" (kept by the task page, so they
// live in the main bundle; the viewer itself loads on demand). Table-tested in test/web/diff-model.test.ts.
import type { LineComment } from '../../../../src/domain/pipeline/line-comments.js';

export const commentKey = (c: Pick<LineComment, 'path' | 'line' | 'side'>) => `${c.side}:${c.line}:${c.path}`;

/** Add a comment, or replace the one already on that line; an empty body removes it. */
export function putComment(list: readonly LineComment[], c: LineComment): LineComment[] {
  const rest = list.filter((x) => commentKey(x) !== commentKey(c));
  return c.body.trim() ? [...rest, { ...c, body: c.body.trim() }] : rest;
}
