// One file of a diff: a header that collapses it, then its lines drawn by @git-diff-view/react
// (unified or split, syntax-highlighted), with line comments when the diff takes them.
import { Component, useMemo, useState, type ReactNode } from 'react';
import { DiffModeEnum, DiffView, SplitSide } from '@git-diff-view/react';
import type { LineComment } from '../../../../src/domain/pipeline/line-comments.js';
import { extendDataOf, hasHunks, type DiffEntry } from './patch.js';

export type DiffMode = 'unified' | 'split';

export interface CommentsProp {
  list: LineComment[];
  /** Add, replace (same line) or, with an empty body, remove a comment. */
  put(c: LineComment): void;
}

export function FileDiff({ file, chunk, mode, collapsed, onToggle, comments, theme }: { file: DiffEntry; chunk: string | undefined; mode: DiffMode; collapsed: boolean; onToggle(): void; comments?: CommentsProp; theme: 'light' | 'dark' }) {
  const count = comments ? comments.list.filter((c) => c.path === file.path).length : 0;
  return (
    <section className="diff-file" data-file={file.path} data-collapsed={collapsed ? 'true' : 'false'}>
      <header className="diff-file-head">
        <button type="button" className="diff-file-toggle" aria-expanded={!collapsed} onClick={onToggle} title={collapsed ? 'Show this file' : 'Collapse this file'}>
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
            <Lines path={file.path} chunk={chunk} mode={mode} theme={theme} {...(comments ? { comments } : {})} />
          </Fallback>
        ) : (
          <p className="muted diff-file-note">{chunk ? 'A binary file or a mode change: no lines to show.' : 'Not in the patch (it was cut short): fetch it with `gantry diff`.'}</p>
        ))}
    </section>
  );
}

function Lines({ path, chunk, mode, theme, comments }: { path: string; chunk: string; mode: DiffMode; theme: 'light' | 'dark'; comments?: CommentsProp }) {
  const data = useMemo(() => ({ oldFile: { fileName: path }, newFile: { fileName: path }, hunks: [chunk] }), [path, chunk]);
  const extendData = useMemo(() => extendDataOf(comments?.list ?? [], path), [comments?.list, path]);
  return (
    // The library marks a drag's side by writing an inline <style>, which the dashboard's CSP (style-src
    // 'self') refuses with a console error; selection works without it, so its mousedown never sees a line.
    <div className="diff-lines" onMouseDownCapture={(e) => void (!(e.target as Element).closest('button') && e.stopPropagation())}>
      <DiffView<LineComment>
        data={data}
        diffViewMode={mode === 'split' ? DiffModeEnum.Split : DiffModeEnum.Unified}
        diffViewHighlight
        diffViewTheme={theme}
        diffViewFontSize={12}
        diffViewWrap={false}
        diffViewAddWidget={!!comments}
        extendData={extendData}
        renderWidgetLine={({ lineNumber, side, onClose }) => (comments ? <CommentForm path={path} line={lineNumber} side={side === SplitSide.old ? 'old' : 'new'} onSave={comments.put} onClose={onClose} /> : null)}
        renderExtendLine={({ data: c }) => <CommentNote comment={c} {...(comments ? { onDelete: () => comments.put({ ...c, body: '' }) } : {})} />}
      />
    </div>
  );
}

function CommentForm({ path, line, side, onSave, onClose }: { path: string; line: number; side: LineComment['side']; onSave(c: LineComment): void; onClose(): void }) {
  const [body, setBody] = useState('');
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
          Add comment
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
        {comment.side === 'old' ? ' (removed)' : ''}
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
