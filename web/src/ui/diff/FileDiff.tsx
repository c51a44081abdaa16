// One file of a diff: a header that collapses it, then its hunks drawn by react-diff-view (unified or
// split), highlighted by refractor (Prism grammars) with changed words marked. When the diff takes
// comments, every line number is a button: press it, write a comment, and it shows under the line.
import { Component, useMemo, useState, type ReactNode } from 'react';
import { Diff, findChangeByNewLineNumber, findChangeByOldLineNumber, getChangeKey, Hunk, markEdits, parseDiff, tokenize, type ChangeData, type HunkData, type HunkTokens } from 'react-diff-view';
import { refractor } from 'refractor';
import jsx from 'refractor/jsx';
import toml from 'refractor/toml';
import tsx from 'refractor/tsx';
import docker from 'refractor/docker';
import type { LineComment } from '../../../../src/domain/pipeline/line-comments.js';
import { commentKey } from './comments.js';
import { hasHunks, languageOf, placeOf, type DiffEntry } from './patch.js';

// Common grammars come with refractor; these four are everyday files in the repositories agents change.
for (const g of [jsx, tsx, toml, docker]) if (!refractor.registered(g.displayName)) refractor.register(g);

export type DiffMode = 'unified' | 'split';

export interface CommentsProp {
  list: LineComment[];
  /** Add, replace (same line) or, with an empty body, remove a comment. */
  put(c: LineComment): void;
}

export function FileDiff({ file, chunk, mode, collapsed, onToggle, comments }: { file: DiffEntry; chunk: string | undefined; mode: DiffMode; collapsed: boolean; onToggle(): void; comments?: CommentsProp }) {
  const count = comments ? comments.list.filter((c) => c.path === file.path).length : 0;
  return (
    <section className="diff-file" data-file={file.path} data-collapsed={collapsed ? 'true' : 'false'}>
      <header className="diff-file-head">
        <button type="button" className="diff-file-toggle" aria-expanded={!collapsed} onClick={onToggle} aria-label={collapsed ? `Show ${file.path}` : `Collapse ${file.path}`}>
          <span aria-hidden="true">{collapsed ? '▸' : '▾'}</span>
        </button>
        <span className={`fs fs-${file.status}`}>{file.status}</span>
        <code className="diff-file-path">{file.path}</code>
        <span className="add">+{file.added ?? '?'}</span> <span className="del">−{file.removed ?? '?'}</span>
        {count > 0 && <span className="chip">{count === 1 ? '1 comment' : `${count} comments`}</span>}
      </header>
      {!collapsed &&
        (hasHunks(chunk) ? (
          <Fallback chunk={chunk}>
            <Lines path={file.path} chunk={chunk} mode={mode} {...(comments ? { comments } : {})} />
          </Fallback>
        ) : (
          <p className="muted diff-file-note">{chunk ? 'A binary file or a mode change: no lines to show.' : 'Not in the patch (it was cut short): fetch it with `gantry diff`.'}</p>
        ))}
    </section>
  );
}

/**
 * react-diff-view was written against refractor 2, whose `highlight` returned the node list; refractor
 * 4+ returns a root holding it. Hand the library the list it expects.
 */
const nodesOnly = { highlight: ((text: string, language: string) => refractor.highlight(text, language).children) as unknown as typeof refractor.highlight };

function highlight(hunks: HunkData[], path: string): HunkTokens | null {
  const language = languageOf(path);
  try {
    return tokenize(hunks, {
      ...(language && refractor.registered(language) ? { highlight: true as const, refractor: nodesOnly, language } : { highlight: false as const }),
      enhancers: [markEdits(hunks, { type: 'block' })],
    });
  } catch {
    return null; // a grammar that trips over a fragment: the lines still show, plain
  }
}

function Lines({ path, chunk, mode, comments }: { path: string; chunk: string; mode: DiffMode; comments?: CommentsProp }) {
  const file = useMemo(() => parseDiff(chunk, { nearbySequences: 'zip' })[0], [chunk]);
  const hunks = useMemo(() => file?.hunks ?? [], [file]);
  const tokens = useMemo(() => highlight(hunks, path), [hunks, path]);
  const [open, setOpen] = useState<{ line: number; side: LineComment['side'] } | null>(null);
  const mine = useMemo(() => (comments?.list ?? []).filter((c) => c.path === path), [comments?.list, path]);

  // Widgets (a row under a line) hold the line's comments and the open form.
  const widgets = useMemo(() => {
    const at = new Map<string, ReactNode[]>();
    const add = (line: number, side: LineComment['side'], node: ReactNode) => {
      const change = side === 'old' ? findChangeByOldLineNumber(hunks, line) : findChangeByNewLineNumber(hunks, line);
      if (!change) return;
      const key = getChangeKey(change);
      at.set(key, [...(at.get(key) ?? []), node]);
    };
    for (const c of mine) add(c.line, c.side, <CommentNote key={commentKey(c)} comment={c} {...(comments ? { onDelete: () => comments.put({ ...c, body: '' }) } : {})} />);
    if (open && comments) {
      const existing = mine.find((c) => c.line === open.line && c.side === open.side);
      add(open.line, open.side, <CommentForm key="form" path={path} line={open.line} side={open.side} initial={existing?.body ?? ''} onSave={comments.put} onClose={() => setOpen(null)} />);
    }
    return Object.fromEntries([...at].map(([k, nodes]) => [k, <div className="line-widgets">{nodes}</div>]));
  }, [mine, open, comments, hunks, path]);

  if (!file) return null;
  return (
    <div className="diff-lines">
      <Diff
        viewType={mode}
        diffType={file.type}
        hunks={hunks}
        tokens={tokens}
        widgets={widgets}
        optimizeSelection
        {...(comments
          ? {
              renderGutter: ({ change, side, renderDefault }: { change: ChangeData; side: 'old' | 'new'; renderDefault: () => ReactNode }) => {
                const number = renderDefault();
                // In split view an unchanged line has a gutter on both sides; the new side takes its comments.
                if (number === null || number === undefined || (side === 'old' && change.type !== 'delete')) return number;
                const at = placeOf(change);
                return (
                  <button type="button" className="gutter-comment" aria-label={`Comment on ${path}:${at.line}${at.side === 'old' ? ' (removed line)' : ''}`} onClick={() => setOpen(at)}>
                    {number}
                  </button>
                );
              },
            }
          : {})}
      >
        {(hs) => hs.map((h) => <Hunk key={h.content} hunk={h} />)}
      </Diff>
    </div>
  );
}

function CommentForm({ path, line, side, initial, onSave, onClose }: { path: string; line: number; side: LineComment['side']; initial: string; onSave(c: LineComment): void; onClose(): void }) {
  const [body, setBody] = useState(initial);
  const place = `${path}:${line}${side === 'old' ? ' (removed line)' : ''}`;
  return (
    <form
      className="line-comment-form"
      onSubmit={(e) => {
        e.preventDefault();
        if (!body.trim()) return;
        onSave({ path, line, side, body });
        onClose();
      }}
    >
      <label className="field">
        <span>Comment on {place}</span>
        <textarea autoFocus rows={3} value={body} onChange={(e) => setBody(e.target.value)} />
      </label>
      <div className="action-row">
        <button type="submit" className="primary small" disabled={!body.trim()}>
          {initial ? 'Update comment' : 'Add comment'}
        </button>
        <button type="button" className="small" onClick={onClose}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function CommentNote({ comment, onDelete }: { comment: LineComment; onDelete?: () => void }) {
  return (
    <div className="line-comment" data-comment={`${comment.path}:${comment.line}`}>
      <code>
        {comment.path}:{comment.line}
        {comment.side === 'old' ? ' (removed line)' : ''}
      </code>
      <p>{comment.body}</p>
      {onDelete && (
        <button type="button" className="ghost small" onClick={onDelete} aria-label={`Delete the comment on ${comment.path}:${comment.line}`}>
          Delete
        </button>
      )}
    </div>
  );
}

/** A chunk the library cannot draw (a patch cut mid-hunk) is still shown, as text. */
class Fallback extends Component<{ chunk: string; children: ReactNode }, { failed: boolean }> {
  override state = { failed: false };
  static getDerivedStateFromError() {
    return { failed: true };
  }
  override render() {
    return this.state.failed ? <pre className="patch">{this.props.chunk}</pre> : this.props.children;
  }
}
