// A workspace diff (against base, or between two checkpoints): fetched here, drawn by the lazily
// loaded viewer (file tree, unified/split, highlighting, collapse; line comments when `comments`).
import { lazy, Suspense, useEffect, useState } from 'react';
import type { Task, WorkspaceDiff } from '../../api/types.js';
import { useSession } from '../../live/context.js';
import type { CommentsProp } from '../../ui/diff/FileDiff.js';

const DiffViewer = lazy(() => import('../../ui/diff/DiffViewer.js'));

export type DiffRange = { from: string | number; to: string | number; label: string };

export function DiffView({ task, range, onClose, comments }: { task: Task; range: DiffRange; onClose?: () => void; comments?: CommentsProp }) {
  const { api } = useSession();
  const [diff, setDiff] = useState<WorkspaceDiff | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setDiff(null);
    setError(null);
    api.diff(task.id, range.from, range.to).then(setDiff, (e: unknown) => setError((e as Error).message));
  }, [api, task.id, range.from, range.to]);
  return (
    <div className="diff" data-testid="diff">
      <div className="diff-head">
        <strong>Diff {range.label}</strong>
        {diff && diff.files.length > 0 && (
          <span className="muted">
            {diff.files.length} {diff.files.length === 1 ? 'file' : 'files'} <span className="add">+{diff.files.reduce((n, f) => n + (f.added ?? 0), 0)}</span> <span className="del">−{diff.files.reduce((n, f) => n + (f.removed ?? 0), 0)}</span>
          </span>
        )}
        {onClose && (
          <button type="button" className="ghost" onClick={onClose} aria-label="Close diff">
            ✕
          </button>
        )}
      </div>
      {error && <p className="error">{error}</p>}
      {!diff && !error && <p className="muted">Loading…</p>}
      {diff && diff.files.length === 0 && <p className="muted">No changes.</p>}
      {diff && diff.files.length > 0 && (
        <Suspense fallback={<p className="muted">Loading the diff viewer…</p>}>
          <DiffViewer diff={diff} {...(comments ? { comments } : {})} />
          {diff.truncated && <p className="muted">The patch was cut short; fetch it with the CLI for the rest.</p>}
        </Suspense>
      )}
    </div>
  );
}
